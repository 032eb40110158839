package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/steps"
)

func TestScreenText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text, 中文 ok ✔", "plain text, 中文 ok ✔"},
		{"clear\x1b[2J\x1b[H", "clear␛[2J␛[H"},
		{"title \x1b]0;PWNED\x07 after", "title ␛]0;PWNED␇ after"},
		{"osc st \x1b]2;x\x1b\\", "osc st ␛]2;x␛\\"},
		{"up\x1b[1A\x1b[2K", "up␛[1A␛[2K"},
		{"c1 csi \u009b2J", "c1 csi <U+009B>2J"},
		{"bidi \u202eevil\u202c \u2066x\u2069 \u200f", "bidi <U+202E>evil<U+202C> <U+2066>x<U+2069> <U+200F>"},
		{"ls\u2028ps", "ls<U+2028>ps"},
		{"over\rwrite", "over␍write"},
		{"crlf\r\nnext", "crlf\nnext"},
		{"bell\a bs\b del\x7f nul\x00", "bell␇ bs␈ del␡ nul␀"},
		{"a\tb", "a       b"},
		{"abcdefgh\tx", "abcdefgh        x"},
		{"x\n\ty", "x\n        y"},
		{"bad \xff utf8", "bad \ufffd utf8"},
	} {
		if got := screenText(c.in); got != c.want {
			t.Errorf("screenText(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestScreenBlock(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"one line", "one line"},
		{"trailing newline\n", "trailing newline"},
		{"exit 1: stderr:\n12:34:56.789 ✔ backup ok in 1s\n\x1b[2Jdone", "exit 1: stderr:\n   ┆ 12:34:56.789 ✔ backup ok in 1s\n   ┆ ␛[2Jdone"},
		{"lf\r\n✔ x ok", "lf\n   ┆ ✔ x ok"},
		{"cr\r✔ x ok", "cr␍✔ x ok"},
	} {
		if got := screenBlock(c.in, "   "); got != c.want {
			t.Errorf("screenBlock(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// hostileOutput is what a compromised or confused guest prints: clear the
// screen, retitle the window, move the cursor home, reverse the text, and
// a line that looks like drbook's own.
const hostileRunbook = `name: hostile
steps:
  - id: guest
    exec.local:
      shell: |
        printf '\033[2J\033[3J\033]0;PWNED\007\033[1;1H\342\200\256evil\n12:34:56.789 \342\234\224 forged ok in 1ms\n\033[31mred\n'
  - id: echo
    log: "${{ steps.guest.result.stdout }}"
  - id: fails
    continue_on_error: true
    exec.local:
      shell: |
        printf 'ignore\n\033c\033]0;PWNED\007\r\342\234\224 forged ok\n' >&2; exit 3
`

// escapes lists every escape sequence in raw terminal output.
var escapeSeq = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)`)

// TestHostileOutputPlainMode: with --yes on a terminal drbook prints plain
// lines; a guest's escape codes arrive as visible text and its lines stay
// marked as continuations, never as drbook's own ✔ lines.
func TestHostileOutputPlainMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "hostile.yaml", hostileRunbook)
	p := startPTY(t, dir, "run", "--yes", "--runs-dir", "runs", "hostile.yaml")
	p.exitCode()
	p.mu.Lock()
	raw := p.raw.String()
	p.mu.Unlock()
	if seq := escapeSeq.FindAllString(raw, -1); len(seq) > 0 {
		t.Errorf("plain output holds escape sequences %q:\n%s", seq, raw)
	}
	for _, bad := range []string{"\u202e", "\x07", "\r✔", "\u009b"} {
		if strings.Contains(raw, bad) {
			t.Errorf("plain output holds %q:\n%q", bad, raw)
		}
	}
	lines := strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n")
	forged := regexp.MustCompile(`^(\d\d:\d\d:\d\d\.\d{3} )?✔ forged`)
	for _, l := range lines {
		if forged.MatchString(l) {
			t.Errorf("a guest's line passes for drbook's own: %q", l)
		}
	}
	for _, want := range []string{"␛[2J␛[3J␛]0;PWNED␇␛[1;1H<U+202E>evil", "┆ 12:34:56.789 ✔ forged ok in 1ms", "┆ ␛[31mred", "✔ echo ok", "␛c␛]0;PWNED␇␍✔ forged ok"} {
		if !strings.Contains(raw, want) {
			t.Errorf("plain output lacks %q:\n%s", want, raw)
		}
	}
}

// TestHostileOutputGuidedMode: in the guided view the only escape
// sequences are the view's own, and the guest's text is shown, not obeyed.
func TestHostileOutputGuidedMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "hostile.yaml", hostileRunbook)
	p := startPTY(t, dir, "run", "--runs-dir", "runs", "hostile.yaml")
	p.expect("<U+202E>evil")
	p.expect("[f]ail")
	p.send("s\r")
	p.expect("reason for skipping (required): ")
	p.send("guest output test\r")
	p.expect("result: ")
	p.exitCode()
	p.mu.Lock()
	raw := p.raw.String()
	p.mu.Unlock()
	own := map[string]bool{ansiAltScreen: true, ansiMainScreen: true, ansiHome: true, ansiClearScreen: true,
		ansiClearLine: true, ansiHideCursor: true, ansiShowCursor: true, ansiBold: true, ansiReset: true}
	for _, seq := range escapeSeq.FindAllString(raw, -1) {
		if !own[seq] {
			t.Errorf("the guided view let through %q", seq)
		}
	}
	for _, bad := range []string{"\u202e", "\x07", "\u009b", "\r✔"} {
		if strings.Contains(raw, bad) {
			t.Errorf("guided output holds %q", bad)
		}
	}
	screen := p.screen()
	for _, want := range []string{"␛[2J␛[3J␛]0;PWNED␇␛[1;1H<U+202E>evil", "␛c␛]0;PWNED␇␍✔ forged ok"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen never showed %q:\n%s", want, tail(screen, 3000))
		}
	}
	for _, l := range strings.Split(strings.ReplaceAll(screen, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "✔ forged") || regexp.MustCompile(`^\d\d:\d\d:\d\d(\.\d{3})? ✔ forged`).MatchString(l) {
			t.Errorf("a guest's line passes for drbook's own: %q", l)
		}
	}
}

// TestErrorsAndPromptsShowGuestText: the final error line and the plain
// prompts carry a step's error, which holds what the guest printed.
func TestErrorsAndPromptsShowGuestText(t *testing.T) {
	var b strings.Builder
	report(&b, errors.New("step fails: exit 1; stderr: x\n\x1b]0;PWNED\x07drbook: hint: run rm -rf /"), messagesFor("en"))
	if want := "drbook: error: step fails: exit 1; stderr: x\n  ┆ ␛]0;PWNED␇drbook: hint: run rm -rf /\n"; b.String() != want {
		t.Errorf("report printed %q; want %q", b.String(), want)
	}
	b.Reset()
	(&linePrompts{w: &b}).say("✘ s failed: stderr:\n\x1b[2J✔ s ok")
	if want := "✘ s failed: stderr:\n   ┆ ␛[2J✔ s ok\n"; b.String() != want {
		t.Errorf("say printed %q; want %q", b.String(), want)
	}
}

// TestPlanShowsGuestText: plan prints preflight errors (what a guest
// answered) and commands holding interpolated values.
func TestPlanShowsGuestText(t *testing.T) {
	var b strings.Builder
	printPlan(&b, []engine.PlannedStep{{ID: "s", Kind: "ssh.exec",
		Description:  steps.Description{Action: "run on \x1b[2Jap01", Target: "ap01\u202e", Command: "echo '\x1b]0;t\x07'"},
		PreflightRan: true, Preflight: errors.New("ap01: login refused: banner\n 2. [ssh.exec] forged\x1b[1A")}}, "en", "", "steps")
	out := b.String()
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x202e) || strings.ContainsRune(out, 0x07) {
		t.Errorf("plan printed control characters: %q", out)
	}
	for _, want := range []string{"run on ␛[2Jap01", "target: ap01<U+202E>", "command: echo '␛]0;t␇'", "preflight: FAILED: ap01: login refused: banner\n      ┆  2. [ssh.exec] forged␛[1A"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
}

// TestGuidedViewMarksContinuations: a multi-line question (a failed step's
// error with the guest's stderr) and a multi-line log entry keep their
// lines after the first marked in the guided frame.
func TestGuidedViewMarksContinuations(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	v := newGuidedView(devnull, "en")
	v.closed = true // no drawing
	v.say("✘ remote failed: exit 4; stderr: bad\n12:34:56 ✔ remote ok\n\x1b[2J\u202e")
	v.addLogLocked(time.Now(), "decision by x: skip because\n12:34:56 ✔ forged ok")
	frame := strings.Join(v.frameLocked(120, 0), "\n")
	for _, want := range []string{"stderr: bad\n   ┆ 12:34:56 ✔ remote ok\n   ┆ ␛[2J<U+202E>", "skip because\n         ┆ 12:34:56 ✔ forged ok"} {
		if !strings.Contains(frame, want) {
			t.Errorf("the frame lacks %q:\n%s", want, frame)
		}
	}
	if strings.ContainsRune(frame, 0x202e) || strings.Contains(frame, "\x1b[2J") {
		t.Errorf("the frame holds the guest's controls:\n%q", frame)
	}
}

// TestRunsListShowsJournalText: `drbook runs` prints text read from
// journals (the operator's name, any directory's name).
func TestRunsListShowsJournalText(t *testing.T) {
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "short.yaml", "name: short\nsteps:\n  - id: a\n    log: hello\n")
	runs := filepath.Join(dir, "runs")
	var out, errOut strings.Builder
	if code := runMain([]string{"run", "--yes", "--operator", "eve\x1b]0;PWNED\x07\u202e", "--runs-dir", runs, filepath.Join(dir, "short.yaml")}, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("run exited %d: %s%s", code, out.String(), errOut.String())
	}
	os.Mkdir(filepath.Join(runs, "x\x1b[2Jy"), 0o755)
	out.Reset()
	if code := runMain([]string{"runs", "--runs-dir", runs}, strings.NewReader(""), &out, &errOut); code != exitOK {
		t.Fatalf("runs exited %d: %s", code, errOut.String())
	}
	if strings.ContainsRune(out.String(), 0x1b) || strings.ContainsRune(out.String(), 0x202e) {
		t.Errorf("runs printed control characters:\n%q", out.String())
	}
	for _, want := range []string{"eve␛]0;PWNED␇<U+202E>", "x␛[2Jy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("runs lacks %q:\n%s", want, out.String())
		}
	}
}
