package ssh

import (
	"bytes"
	"fmt"
	"os"
	oexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// numbered is n lines "line 1\n" … "line n\n", each ending in end.
func numbered(n int, end string) string {
	var s strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "line %d%s", i, end)
	}
	return s.String()
}

// sparse is a configuration file of n lines, every fifth one blank and
// every seventh a comment, as diff matchers meet them.
func sparse(n int) string {
	var s strings.Builder
	for i := 1; i <= n; i++ {
		switch {
		case i%5 == 0:
			s.WriteString("\n")
		case i%7 == 0:
			s.WriteString("#\n")
		default:
			fmt.Fprintf(&s, "key %d=v\n", i)
		}
	}
	return s.String()
}

// editCases are configuration edits whose diff evidence GNU patch must
// apply exactly. want, when set, is the edited file byte for byte.
var editCases = []struct {
	name     string
	original string
	edits    []Edit
	want     string
	hunks    int // how many hunks, when it matters
}{
	{name: "middle", original: numbered(20, "\n"), edits: []Edit{{SetKey: "line 10", Separator: " ", Value: "ten"}}},
	{name: "first line", original: numbered(10, "\n"), edits: []Edit{{Replace: "line 1\n", With: "first\n"}}},
	{name: "last line", original: numbered(10, "\n"), edits: []Edit{{SetLine: "last", Match: "^line 10$"}}},
	{name: "single line", original: "a\n", edits: []Edit{{Replace: "a", With: "b"}}, want: "b\n"},
	{name: "trailing blank line", original: "a\nb\n\n", edits: []Edit{{Replace: "b", With: "B"}}, want: "a\nB\n\n"},
	{name: "no final newline, last line edited", original: strings.TrimSuffix(numbered(10, "\n"), "\n"), edits: []Edit{{SetLine: "last", Match: "^line 10$"}}, want: numbered(9, "\n") + "last"},
	{name: "no final newline, edit far from the end", original: strings.TrimSuffix(numbered(20, "\n"), "\n"), edits: []Edit{{Replace: "line 2\n", With: "two\n"}}},
	{name: "no final newline, edit near the end", original: strings.TrimSuffix(numbered(20, "\n"), "\n"), edits: []Edit{{Replace: "line 18\n", With: "eighteen\n"}}},
	{name: "no final newline, line appended", original: "a\nb", edits: []Edit{{SetKey: "K", Value: "v"}}, want: "a\nb\nK=v\n"},
	{name: "empty file, insert", original: "", edits: []Edit{{InsertLine: "127.0.0.1 localhost"}}, want: "127.0.0.1 localhost\n"},
	{name: "line deleted", original: numbered(10, "\n"), edits: []Edit{{Regex: `(?m)^line 5\n`, With: ""}}},
	{name: "only line deleted", original: "a\n", edits: []Edit{{Replace: "a\n", With: ""}}, want: ""},
	{name: "CRLF set_key", original: "HOSTNAME=ap01\r\nNETWORKING=yes\r\n", edits: []Edit{{SetKey: "HOSTNAME", Value: "ap02"}}, want: "HOSTNAME=ap02\r\nNETWORKING=yes\r\n"},
	{name: "CRLF set_key appended", original: "NETWORKING=yes\r\n", edits: []Edit{{SetKey: "HOSTNAME", Value: "ap02"}}, want: "NETWORKING=yes\r\nHOSTNAME=ap02\r\n"},
	{name: "CRLF regex to end of line", original: "Listen 80\r\nServerName ap01:80\r\n", edits: []Edit{{Regex: `(?m)^ServerName .*$`, With: "ServerName ap02:80"}}, want: "Listen 80\r\nServerName ap02:80\r\n"},
	{name: "CRLF replace with two lines", original: "a\r\nb\r\n", edits: []Edit{{Replace: "b", With: "b1\nb2"}}, want: "a\r\nb1\r\nb2\r\n"},
	{name: "CRLF set_line and insert_line", original: "a\r\nb\r\nc\r\n", edits: []Edit{{SetLine: "B", Match: "^b$"}, {InsertLine: "x", After: "^a$"}, {InsertLine: "z"}}, want: "a\r\nx\r\nB\r\nc\r\nz\r\n"},
	{name: "CRLF no final newline", original: "a\r\nb", edits: []Edit{{SetLine: "B", Match: "^b$"}}, want: "a\r\nB"},
	{name: "mixed endings keep each line's", original: "a\r\nb\nc\r\nd\r\n", edits: []Edit{{SetLine: "B", Match: "^b$"}, {InsertLine: "x", After: "^c$"}}, want: "a\r\nB\nc\r\nx\r\nd\r\n"},
	{name: "hunks far apart", original: numbered(40, "\n"), edits: []Edit{{Replace: "line 3\n", With: "three\n"}, {Replace: "line 30\n", With: "thirty\n"}}, hunks: 2},
	{name: "adjacent edits share a hunk", original: numbered(40, "\n"), edits: []Edit{{Replace: "line 10\n", With: "ten\n"}, {Replace: "line 16\n", With: "sixteen\n"}}, hunks: 1},
	{name: "hunks six lines apart merge", original: numbered(40, "\n"), edits: []Edit{{Replace: "line 10\n", With: "ten\n"}, {Replace: "line 17\n", With: "seventeen\n"}}, hunks: 1},
	{name: "hunks seven lines apart split", original: numbered(40, "\n"), edits: []Edit{{Replace: "line 10\n", With: "ten\n"}, {Replace: "line 18\n", With: "eighteen\n"}}, hunks: 2},
	{name: "large file with many blank lines", original: sparse(600), edits: []Edit{{SetKey: "key 12", Value: "twelve"}, {InsertLine: "key 302a=v", After: "^key 302="}, {Regex: `(?m)^key 598=.*\n`, With: ""}}, hunks: 3},
	{name: "lone CR is text", original: "a\rb\nc\n", edits: []Edit{{Replace: "c", With: "C"}}, want: "a\rb\nC\n"},
}

func applyEdits(t *testing.T, text string, edits []Edit) string {
	t.Helper()
	for _, e := range edits {
		next, err := e.applyKeepingEndings(text)
		if err != nil {
			t.Fatalf("edit %s: %v", e.describe(), err)
		}
		text = next
	}
	return text
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := oexec.LookPath(name)
	if err != nil {
		if os.Getenv("DRBOOK_E2E") != "" {
			t.Fatalf("%s is not installed (Debian: apt-get install -y patch diffutils)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestEditDiffAppliesWithGNUPatch feeds each edit's diff evidence to GNU
// patch with no fuzz and checks the result is the edited file byte for byte,
// and that the hunks are the ones GNU diff -u writes.
func TestEditDiffAppliesWithGNUPatch(t *testing.T) {
	patch, gdiff := needTool(t, "patch"), needTool(t, "diff")
	stamp := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	for _, c := range editCases {
		t.Run(c.name, func(t *testing.T) {
			after := applyEdits(t, c.original, c.edits)
			if c.want != "" || c.name == "only line deleted" {
				if after != c.want {
					t.Fatalf("edited file is %q, want %q", after, c.want)
				}
			}
			if after == c.original {
				t.Fatal("the case changes nothing")
			}
			d := unifiedDiff(c.original, after, "/etc/hosts", stamp, stamp.Add(time.Second))
			if n := strings.Count(d, "\n@@ "); c.hunks != 0 && n != c.hunks {
				t.Fatalf("%d hunks, want %d:\n%s", n, c.hunks, d)
			}
			dir := t.TempDir()
			orig, edited, out, df := filepath.Join(dir, "orig"), filepath.Join(dir, "edited"), filepath.Join(dir, "out"), filepath.Join(dir, "diff")
			os.WriteFile(orig, []byte(c.original), 0o600)
			os.WriteFile(edited, []byte(after), 0o600)
			os.WriteFile(df, []byte(d), 0o600)
			cmd := oexec.Command(patch, "--fuzz=0", "--batch", "--binary", "--no-backup-if-mismatch", "-o", out, "-i", df, orig)
			if msg, err := cmd.CombinedOutput(); err != nil || bytes.Contains(msg, []byte("fuzz")) || bytes.Contains(msg, []byte("offset")) {
				t.Fatalf("patch --fuzz=0: %v\n%s\ndiff:\n%s", err, msg, d)
			}
			got, _ := os.ReadFile(out)
			if string(got) != after {
				t.Fatalf("patched file is %q, want %q\ndiff:\n%s", got, after, d)
			}
			// GNU diff -u of the same two files: the same hunks, line for line.
			gnu, err := oexec.Command(gdiff, "-u", orig, edited).Output()
			if ee, ok := err.(*oexec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
				t.Fatalf("diff -u: %v", err)
			}
			if ours, theirs := hunks(d), hunks(string(gnu)); ours != theirs {
				t.Fatalf("hunks differ from GNU diff -u\nours:\n%s\nGNU:\n%s", ours, theirs)
			}
			if !strings.HasPrefix(d, "--- /etc/hosts\t2026-12-02 07:00:00.000000000 +0000\n+++ /etc/hosts\t2026-12-02 07:00:01.000000000 +0000\n@@ ") {
				t.Fatalf("headers:\n%s", d)
			}
		})
	}
}

// hunks is a unified diff without its two header lines.
func hunks(d string) string {
	lines := strings.SplitAfterN(d, "\n", 3)
	if len(lines) < 3 {
		return ""
	}
	return lines[2]
}

// TestUnifiedDiffRanges pins GNU's range forms: a one-line range is just its
// start, an empty one names the line before it.
func TestUnifiedDiffRanges(t *testing.T) {
	var zero time.Time
	for _, c := range []struct{ before, after, want string }{
		{"", "x\n", "@@ -0,0 +1 @@\n+x\n"},
		{"x\n", "", "@@ -1 +0,0 @@\n-x\n"},
		{"a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n", "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"},
		{"a\nb\n", "a\nb\nc\n", "@@ -1,2 +1,3 @@\n a\n b\n+c\n"},
		{"a\nb", "a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
		{"a\nb", "A\nb", "@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n"},
	} {
		if got := hunks(unifiedDiff(c.before, c.after, "f", zero, zero)); got != c.want {
			t.Errorf("%q → %q:\n%s\nwant:\n%s", c.before, c.after, got, c.want)
		}
	}
	if unifiedDiff("same\n", "same\n", "f", zero, zero) != "" {
		t.Error("equal texts have an empty diff")
	}
}

// TestUnifiedDiffQuotesHostileNames keeps a guest's file name from writing
// lines of its own into the evidence.
func TestUnifiedDiffQuotesHostileNames(t *testing.T) {
	var zero time.Time
	d := unifiedDiff("a\n", "b\n", "/etc/x\n+++ forged\t\"\\\x01", zero, zero)
	first := strings.SplitN(d, "\n", 2)[0]
	if want := `--- "/etc/x\n+++ forged\t\"\\\001"` + "\t0001-01-01 00:00:00.000000000 +0000"; first != want {
		t.Fatalf("header %q, want %q", first, want)
	}
	if strings.Count(d, "\n") != 5 {
		t.Fatalf("the name added lines:\n%s", d)
	}
}

// TestEditKeepsCRLFInLargeFile edits a CRLF file big enough that the
// matcher ignores its blank lines as anchors: every line still ends in CRLF.
func TestEditKeepsCRLFInLargeFile(t *testing.T) {
	edits := []Edit{{SetKey: "key 12", Value: "twelve"}, {InsertLine: "key 302a=v", After: "^key 302="}, {Regex: `(?m)^key 598=.*\n`, With: ""}, {Replace: "key 401=v", With: "key 401=a\nkey 401=b"}}
	lf := applyEdits(t, sparse(600), edits)
	if got, want := applyEdits(t, strings.ReplaceAll(sparse(600), "\n", "\r\n"), edits), strings.ReplaceAll(lf, "\n", "\r\n"); got != want {
		t.Fatalf("CRLF lost: %d LF-only lines", strings.Count(strings.ReplaceAll(got, "\r\n", ""), "\n"))
	}
}
