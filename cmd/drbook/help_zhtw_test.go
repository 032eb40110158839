package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commandTree is drbook's command tree as a person sees it: cobra's help
// and completion commands and every -h flag added, hidden commands left
// out.
func commandTree(t *testing.T) (*cobra.Command, []*cobra.Command) {
	t.Helper()
	root := newRootCommand(strings.NewReader(""), io.Discard, io.Discard)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		c.InitDefaultHelpFlag()
		all = append(all, c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root, all
}

// TestEveryCommandAndFlagHasZhTWHelp walks every command and fails on a
// Short, Long, Example or flag usage that helpZhTW does not word, and on a
// translation that no command uses any more (its English changed).
func TestEveryCommandAndFlagHasZhTWHelp(t *testing.T) {
	_, all := commandTree(t)
	used := map[string]bool{}
	need := func(where, en string) {
		if en == "" {
			return
		}
		used[en] = true
		if _, ok := helpZhTW[en]; !ok {
			t.Errorf("%s has no zh-TW text in helpZhTW: %q", where, en)
		}
	}
	flags := 0
	for _, c := range all {
		path := c.CommandPath()
		if c.Short == "" {
			t.Errorf("%s has no Short", path)
		}
		need(path+" Short", c.Short)
		need(path+" Long", c.Long)
		need(path+" Example", c.Example)
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			flags++
			if f.Name == "help" {
				if got := zhFlagUsage(c, f); !strings.Contains(got, "之說明") {
					t.Errorf("%s -h: %q", path, got)
				}
				return
			}
			need(path+" --"+f.Name, f.Usage)
		})
	}
	if len(all) < 25 || flags < 80 {
		t.Fatalf("walked only %d commands and %d flags", len(all), flags)
	}
	for en := range helpZhTW {
		if !used[en] {
			t.Errorf("helpZhTW words a text no command has (its English changed?): %q", en)
		}
	}
}

// helpAllowed are the ASCII words zh-TW help shows on purpose besides
// command names, flags, placeholders (all capitals) and technical tokens:
// values a person types, and the names of products and shells.
var helpAllowed = map[string]bool{
	// Values of --lang, --format and --mode.
	"en": true, "zh": true, "html": true, "md": true, "json": true, "junit": true, "text": true,
	"drill": true, "recovery": true, "lab": true,
	// Products, protocols, shells and systems.
	"drbook": true, "vCenter": true, "vSphere": true, "VMware": true, "Tools": true, "Temporal": true,
	"govc": true, "Windows": true, "Linux": true, "macOS": true, "VS": true, "Code": true, "Schema": true,
	"Ctrl": true, "Bearer": true, "Authorization": true, "bash": true, "zsh": true, "fish": true, "powershell": true,
	// YAML keys of runbooks and site files.
	"site": true, "vcenter": true,
}

// technicalRun is a run of ASCII that is a path, file, key, address,
// assignment, number or flag rather than words: it contains one of / . = :
// $ _ ~ or a digit, or it starts with '-'.
var technicalRun = regexp.MustCompile(`[/.=:$_~0-9]|^-`)

// englishIn returns the English words of zh-TW help text: every word of
// letters in a run of ASCII that is not technical, not all capitals, not a
// command name and not allowed. Quoted values ("runs", a default),
// backquoted code (`drbook kinds`) and tab-indented lines (shell commands
// to type) are left out.
func englishIn(text string, commands map[string]bool) []string {
	text = regexp.MustCompile(`(?m)^\t.*$`).ReplaceAllString(text, "")
	text = regexp.MustCompile(`"[^"\n]*"|`+"`[^`\n]*`").ReplaceAllString(text, " ")
	var bad []string
	seen := map[string]bool{}
	runs := strings.FieldsFunc(text, func(r rune) bool { return r > unicode.MaxASCII || unicode.IsSpace(r) })
	for _, run := range runs {
		run = strings.TrimRight(strings.TrimLeft(run, "([{<'`|"), ")]}>'`,;:.!?")
		if technicalRun.MatchString(run) {
			continue
		}
		for _, w := range regexp.MustCompile(`[A-Za-z]+`).FindAllString(run, -1) {
			if w == strings.ToUpper(w) || helpAllowed[w] || commands[w] || seen[w] {
				continue
			}
			seen[w] = true
			bad = append(bad, w)
		}
	}
	return bad
}

// TestZhTWHelpOfEveryCommandHasNoEnglish runs `drbook … --lang zh-TW
// --help` for every command through the real command line, and `run
// --help` with DRBOOK_LANG=zh-TW, and fails on English words outside the
// names and values a person types.
func TestZhTWHelpOfEveryCommandHasNoEnglish(t *testing.T) {
	_, all := commandTree(t)
	commands := map[string]bool{}
	for _, c := range all {
		commands[c.Name()] = true
	}
	check := func(name string, args []string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr.String())
		}
		out := stdout.String()
		for _, frame := range []string{"用法：", "選項："} {
			if !strings.Contains(out, frame) {
				t.Errorf("%s: no %q in:\n%s", name, frame, out)
			}
		}
		if bad := englishIn(out, commands); len(bad) > 0 {
			t.Errorf("%s: English words %q in:\n%s", name, bad, out)
		}
	}
	for _, c := range all {
		path := strings.Fields(c.CommandPath())[1:]
		check(c.CommandPath(), append(append([]string{}, path...), "--lang", "zh-TW", "--help"))
	}
	t.Setenv("DRBOOK_LANG", "zh-TW")
	check("DRBOOK_LANG=zh-TW drbook run --help", []string{"run", "--help"})
	check("DRBOOK_LANG=zh-TW drbook help fleet run", []string{"help", "fleet", "run"})
}

// TestEnglishWordsFoundInZhTWHelp checks that englishIn finds what it
// must: untranslated words, cobra's English frame, a flag's English
// default wording, while names and technical tokens pass.
func TestEnglishWordsFoundInZhTWHelp(t *testing.T) {
	commands := map[string]bool{"run": true, "drbook": true}
	for text, want := range map[string]string{
		"Usage:\n  drbook run FILE [flags]":                 "Usage flags",
		"      --site string   場域檔 (default \"x\")":         "string default",
		"以 read-only 方式":                                    "read only",
		"執行 drbook run --lab FILE（如 72h，bkap.sh，en）":        "",
		"\tsource <(drbook completion bash)\n搭配 --lab：模擬環境": "",
	} {
		if got := strings.Join(englishIn(text, commands), " "); got != want {
			t.Errorf("englishIn(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestEnglishHelpKeepsCobrasFrame checks the English help is cobra's own:
// its frame in English, no Chinese anywhere.
func TestEnglishHelpKeepsCobrasFrame(t *testing.T) {
	t.Setenv("DRBOOK_LANG", "")
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"fleet", "--help"}} {
		var stdout, stderr bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		out := stdout.String()
		for _, frame := range []string{"Usage:", "Flags:", "Global Flags:", "help for "} {
			if args[0] == "--help" && frame == "Global Flags:" {
				continue
			}
			if !strings.Contains(out, frame) {
				t.Errorf("%v: no %q in:\n%s", args, frame, out)
			}
		}
		if strings.ContainsFunc(out, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%v: Chinese in the English help:\n%s", args, out)
		}
	}
}

// TestZhTWUsageErrors runs bad invocations in zh-TW and in English: the
// error and the hint are Chinese (the flag, the value typed and the path
// kept), the English unchanged, and the exit code 2 either way.
func TestZhTWUsageErrors(t *testing.T) {
	t.Setenv("DRBOOK_LANG", "")
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-run")
	notRun := filepath.Join(dir, "not-a-run")
	if err := os.Mkdir(notRun, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		zh, en string
	}{
		{[]string{"runs", "--bogus"}, "drbook: error: 不明之選項：--bogus\ndrbook: hint: 用法請見 `drbook runs --help`\n", "drbook: error: unknown flag: --bogus\ndrbook: hint: see `drbook runs --help`\n"},
		{[]string{"report"}, "drbook: error: 須提供 1 個引數，但收到 0 個\n", "drbook: error: accepts 1 arg(s), received 0\n"},
		{[]string{"verify", notRun, "extra"}, "drbook: error: 須提供 1 個引數，但收到 2 個\n", "drbook: error: accepts 1 arg(s), received 2\n"},
		{[]string{"report", "--format", "pdf", notRun}, "drbook: error: 不支援之格式 \"pdf\"\ndrbook: hint: 請使用 --format html、md、json 或 junit\n", "drbook: error: unknown format \"pdf\"\ndrbook: hint: use --format html, md, json or junit\n"},
		{[]string{"report", missing}, "drbook: error: " + missing + " 不是執行目錄（其中無 journal.jsonl）\n", "drbook: error: " + missing + " is not a run directory (it has no journal.jsonl)\n"},
		{[]string{"verify", notRun}, "drbook: error: " + notRun + " 不是執行目錄（其中無 journal.jsonl）\ndrbook: hint: 請指定 `drbook run` 所列出之目錄\n", "drbook: error: " + notRun + " is not a run directory (it has no journal.jsonl)\ndrbook: hint: give the directory `drbook run` printed\n"},
		{[]string{"runs", "--runs-dir", missing}, "drbook: error: 無法列出 " + missing + "：", "drbook: error: cannot list " + missing + ": "},
		{[]string{"run", "--lab-speed", "x", "f.yaml"}, "drbook: error: 選項 --lab-speed 之值 \"x\" 無效：strconv.ParseFloat", "drbook: error: invalid argument \"x\" for \"--lab-speed\" flag: strconv.ParseFloat"},
		{[]string{"plna"}, "drbook: error: \"drbook\" 無此指令：\"plna\"\n  ┆ \n  ┆ 您要執行的是否為：\n  ┆         plan\ndrbook: hint: 可用指令請見 `drbook --help`\n", "drbook: error: unknown command \"plna\" for \"drbook\"\n"},
	} {
		for _, lang := range []string{"zh-TW", "en"} {
			var stdout, stderr bytes.Buffer
			code := runMain(append([]string{"--lang", lang}, c.args...), strings.NewReader(""), &stdout, &stderr)
			want := c.en
			if lang == "zh-TW" {
				want = c.zh
			}
			if code != exitUsage || !strings.HasPrefix(stderr.String(), want) {
				t.Errorf("%s %v: exit %d, stderr:\n%s\nwant it to begin with:\n%s", lang, c.args, code, stderr.String(), want)
			}
		}
	}
}

// TestZhTWCommandLinesOutsideARun: what new prints, in both languages.
func TestZhTWCommandLinesOutsideARun(t *testing.T) {
	dir := t.TempDir()
	for lang, want := range map[string]string{"zh-TW": "已寫入 %s\n下一步：drbook validate --lab %s，再執行 drbook plan --lab %s\n", "en": "wrote %s\nnext: drbook validate --lab %s, then drbook plan --lab %s\n"} {
		out := filepath.Join(dir, lang+".yaml")
		var stdout, stderr bytes.Buffer
		if code := runMain([]string{"--lang", lang, "new", "-o", out, "first-drill"}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("%s: exit %d: %s", lang, code, stderr.String())
		}
		if want := fmt.Sprintf(want, out, out, out); stdout.String() != want {
			t.Errorf("%s: %q, want %q", lang, stdout.String(), want)
		}
	}
}

// TestCompletionDescriptionsInZhTW: the shell's completion shows the
// commands' and flags' descriptions in the language given (--lang on the
// line being completed, or DRBOOK_LANG).
func TestCompletionDescriptionsInZhTW(t *testing.T) {
	complete := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		if code := runMain(append([]string{"__complete"}, args...), strings.NewReader(""), &stdout, &stderr); code != exitOK {
			t.Fatalf("__complete %v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	t.Setenv("DRBOOK_LANG", "")
	if out := complete("--lang", "zh-TW", "run", "--s"); !strings.Contains(out, "--site\t場域檔（優先於演練手冊之 site:）\n") {
		t.Errorf("--lang zh-TW run --s:\n%s", out)
	}
	if out := complete("run", "--s"); !strings.Contains(out, "--site\tsite file (overrides the runbook's site:)\n") {
		t.Errorf("run --s:\n%s", out)
	}
	t.Setenv("DRBOOK_LANG", "zh-TW")
	if out := complete(""); !strings.Contains(out, "runs\t列出各次演練之狀態") {
		t.Errorf("DRBOOK_LANG=zh-TW, commands:\n%s", out)
	}
}
