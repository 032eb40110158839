package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/drbook/drbook/journal"
)

// ptyDrbook is drbook running on a pseudo-terminal, as an operator runs
// it: standard input and output are the terminal, Ctrl-C is a byte typed
// on it. The test reads what the screen showed with escape codes removed.
type ptyDrbook struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	raw  bytes.Buffer
	seen int // screen text consumed by expect
	done chan struct{}
	// read is closed when everything the process wrote has been read
	// (the terminal's other end is closed once it exits).
	read chan struct{}
	err  error
}

func startPTY(t *testing.T, dir string, args ...string) *ptyDrbook {
	t.Helper()
	return startPTYSized(t, dir, 160, 50, args...)
}

// startPTYSized starts drbook on a terminal cols columns wide and rows
// lines high. Its messages are English unless args hold --lang.
func startPTYSized(t *testing.T, dir string, cols, rows uint16, args ...string) *ptyDrbook {
	t.Helper()
	bin, err := exec.LookPath("drbook")
	if err != nil {
		t.Fatalf("drbook is not on $PATH (TestMain installs it): %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRBOOK_LANG=en", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyDrbook{t: t, cmd: cmd, tty: tty, done: make(chan struct{}), read: make(chan struct{})}
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.raw.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		tty.Close()
	})
	return p
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// screen is everything shown so far, without escape codes.
func (p *ptyDrbook) screen() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ansiEscape.ReplaceAllString(p.raw.String(), "")
}

// flat is the screen without line breaks: a question the view wrapped to
// a narrow terminal reads as one line again (the view wraps at any
// character, dropping none).
func (p *ptyDrbook) flat() string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(p.screen())
}

// expect waits until text appears after what earlier expects consumed,
// wrapped or not. It gives up at the hang guard: how long drbook takes is
// the machine's business, not the test's.
func (p *ptyDrbook) expect(text string) {
	p.t.Helper()
	guard := time.After(hangGuard(p.t))
	for {
		s := p.flat()
		if i := strings.Index(s[min(p.seen, len(s)):], text); i >= 0 {
			p.seen += i + len(text)
			return
		}
		select {
		case <-p.read:
			// drbook exited and everything it wrote has been read.
			if s := p.flat(); strings.Contains(s[min(p.seen, len(s)):], text) {
				continue
			}
			p.t.Fatalf("drbook exited (%v) before showing %q; the screen showed:\n%s", p.waitErr(), text, tail(p.screen(), 3000))
		case <-guard:
			p.t.Fatalf("the screen never showed %q (hang guard); it showed:\n%s", text, tail(p.screen(), 3000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitErr is how drbook ended, once it has.
func (p *ptyDrbook) waitErr() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// send types on the terminal (\r is Enter, \x03 is Ctrl-C).
func (p *ptyDrbook) send(keys string) {
	p.t.Helper()
	if _, err := p.tty.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyDrbook) exitCode() int {
	p.t.Helper()
	guard := time.After(hangGuard(p.t))
	select {
	case <-p.done:
	case <-guard:
		p.t.Fatalf("drbook did not exit (hang guard); the screen showed:\n%s", tail(p.screen(), 3000))
	}
	// The last frame and the summary: read to the end (the terminal's
	// other end closes when drbook and whatever it started have exited).
	select {
	case <-p.read:
	case <-guard:
		p.t.Fatalf("drbook exited but its terminal stayed open (hang guard); the screen showed:\n%s", tail(p.screen(), 3000))
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatal(p.err)
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// onlyRunDir is the one run directory under runs.
func onlyRunDir(t *testing.T, runs string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(runs, "*", journal.FileName))
	if len(m) != 1 {
		t.Fatalf("want one run under %s, found %v", runs, m)
	}
	return filepath.Dir(m[0])
}

func readJournal(t *testing.T, runDir string) *journal.Log {
	t.Helper()
	path := filepath.Join(runDir, journal.FileName)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := journal.Verify(f); err != nil {
		t.Fatalf("%s does not verify: %v", path, err)
	}
	log, err := journal.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// journalDecisions lists "step action reason" for each decision.
func journalDecisions(log *journal.Log) []journal.Event {
	var out []journal.Event
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision {
			out = append(out, ev)
		}
	}
	return out
}

func findDecision(t *testing.T, log *journal.Log, step, action string) *journal.Decision {
	t.Helper()
	for _, ev := range journalDecisions(log) {
		if ev.Step == step && ev.Decision.Action == action {
			return ev.Decision
		}
	}
	var all []string
	for _, ev := range journalDecisions(log) {
		all = append(all, ev.Step+":"+ev.Decision.Action)
	}
	t.Fatalf("no %q decision on %q in the journal; decisions: %v", action, step, all)
	return nil
}

func lastFinishOf(log *journal.Log, step string) *journal.StepFinish {
	var f *journal.StepFinish
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish && ev.Step == step {
			f = ev.StepFinish
		}
	}
	return f
}

// evidenceOf is the step's evidence with the given title, or nil.
func evidenceOf(log *journal.Log, step, title string) *journal.Evidence {
	for _, ev := range log.Events {
		if ev.Type == journal.TypeEvidence && ev.Step == step && ev.Evidence.Title == title {
			return ev.Evidence
		}
	}
	return nil
}

func countStarts(log *journal.Log, step string) int {
	n := 0
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepStart && ev.Step == step {
			n++
		}
	}
	return n
}

const guidedRunbook = `name: guided
title: {en: "Guided drill", zh-TW: "引導演練"}
rto: 5m
steps:
  - id: prepare
    log: preparing
  - id: shut
    name: {en: "Shut down the test host", zh-TW: "將測試主機關機"}
    confirm: true
    disruptive: true
    exec.local: {shell: "echo shut >> markers.txt"}
  - id: optional
    name: {en: "An optional check", zh-TW: "選擇性檢查"}
    confirm: true
    log: optional step
  - id: console
    name: {en: "Read the console", zh-TW: "讀取主控台"}
    recovery: true
    manual:
      en: "Read the downtime off the console"
      zh-TW: "自主控台讀取停機時間"
      checklist: [{en: "look at the clock", zh-TW: "查看時鐘"}]
      inputs:
        - {name: downtime, label: {en: "downtime seen on the console", zh-TW: "主控台顯示之停機時間"}, type: duration, required: true}
        - {name: ticket, label: {en: "ticket number", zh-TW: "工單編號"}, type: string}
  - id: flaky
    name: {en: "A check that fails once", zh-TW: "失敗一次之檢查"}
    recovery: true
    exec.local: {shell: "test -f flag || { touch flag; echo not yet >&2; exit 1; }"}
finally:
  - id: cleanup
    log: cleanup
`

// TestGuidedPrompts drives a whole guided run through a pseudo-terminal:
// confirm and run, skip with a reason (an empty reason is asked again),
// a manual step whose checklist items are confirmed one by one, with
// typed inputs (a required one left empty and a wrong duration are asked
// again) and a "done?" that takes only y or n, and a failure retried by
// the operator. The journal records each decision with who made it; the
// screen showed the live view and the prompts.
func TestGuidedPrompts(t *testing.T) {
	t.Parallel()
	words := screenWords{
		"en": {"title": "drbook · guided — Guided drill", "shut": "── shut [exec.local] Shut down the test host",
			"changes": "this step CHANGES STATE", "confirm": "[r]un, [s]kip, [d]one by hand, [a]bort? ",
			"optional": "── optional [log] An optional check", "reason": "reason for skipping (required): ",
			"reason again": "a reason is required — reason for skipping (required): ",
			"manual":       "✋ console — by hand:", "item": "[1/1] look at the clock — done? [y]es / [n]o: ",
			"item again":     "answer y (yes) or n (no) — [1/1] look at the clock — done? [y]es / [n]o: ",
			"downtime":       "downtime seen on the console (duration, required): ",
			"downtime empty": "this value is required — downtime seen on the console (duration, required): ",
			"downtime wrong": "is not a duration such as 58s or 1m30s — downtime seen on the console (duration, required): ",
			"ticket":         "ticket number (string): ", "done": "   done? [y]es / [n]o: ", "done again": "answer y (yes) or n (no) — done? [y]es / [n]o: ",
			"failed": "✘ flaky failed", "failed choice": "[r]etry, [s]kip, [d]one by hand, [a]bort, or [f]ail",
			"end": "RTO clock: |RTO: recovered in|objective 5m0s|✔ prepare|– optional|✔ flaky|result: passed"},
		"zh-TW": {"title": "drbook · guided — 引導演練", "shut": "── shut [exec.local] 將測試主機關機",
			"changes": "本步驟將變更系統狀態", "confirm": "[r]執行 [s]略過 [d]人工完成 [a]中止？",
			"optional": "── optional [log] 選擇性檢查", "reason": "略過原因（必填）：",
			"reason again": "必須填寫原因 — 略過原因（必填）：",
			"manual":       "✋ console — 手動作業：", "item": "[1/1] 查看時鐘 — 已完成？[y]是 / [n]否：",
			"item again":     "請回答 y（是）或 n（否）— [1/1] 查看時鐘 — 已完成？[y]是 / [n]否：",
			"downtime":       "主控台顯示之停機時間（時間長度，如 58s，必填）：",
			"downtime empty": "此欄位為必填 — 主控台顯示之停機時間（時間長度，如 58s，必填）：",
			"downtime wrong": "「about a minute」不是時間長度，請輸入如 58s 或 1m30s — 主控台顯示之停機時間（時間長度，如 58s，必填）：",
			"ticket":         "工單編號（文字）：", "done": "   已完成？[y]是 / [n]否：", "done again": "請回答 y（是）或 n（否）— 已完成？[y]是 / [n]否：",
			"failed": "✘ flaky 失敗", "failed choice": "[r]重試 [s]略過 [d]人工完成 [a]中止 [f]失敗（執行 on_failure）？",
			"end": "RTO 計時：|RTO：已於 |目標 5m0s|✔ prepare|– optional|✔ flaky|結果：通過"},
	}
	runTraps(t, words, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "guided.yaml", guidedRunbook)
		p := r.start(t, dir, "run", "--operator", "alice", "--runs-dir", "runs", "guided.yaml")

		p.expect(say("title"))
		p.expect(say("shut"))
		p.expect(say("changes"))
		p.expect(say("confirm"))
		p.send("r\r")
		p.expect(say("optional"))
		p.expect(say("confirm"))
		p.send("s\r")
		p.expect(say("reason"))
		p.send("\r") // an empty reason is not a reason
		p.expect(say("reason again"))
		p.send("not needed tonight\r")
		p.expect(say("manual"))
		p.expect(say("item"))
		p.send("ok\r") // neither yes nor no: asked again, not taken as a no
		p.expect(say("item again"))
		p.send("y\r")
		p.expect(say("downtime"))
		p.send("\r") // a required value cannot be left empty
		p.expect(say("downtime empty"))
		p.send("about a minute\r")
		p.expect(say("downtime wrong"))
		p.send("58s\r")
		p.expect(say("ticket"))
		p.send("INC-42\r")
		// The answered checklist line, still on screen, ends like the
		// "done?" prompt: wait for the prompt under the ticket's answer
		// (a key typed before its prompt is up is not an answer).
		p.expect(say("ticket") + "INC-42" + say("done"))
		p.send("yep\r")
		p.expect(say("done again"))
		p.send("y\r")
		p.expect(say("failed"))
		p.expect(say("failed choice"))
		p.send("r\r")
		code := p.exitCode()
		if code != exitOK {
			t.Fatalf("exit %d; the screen showed:\n%s", code, tail(p.screen(), 3000))
		}
		screen := p.flat()
		for _, want := range strings.Split(say("end"), "|") {
			if !strings.Contains(screen, want) {
				t.Errorf("the screen never showed %q", want)
			}
		}

		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		if d := findDecision(t, log, "shut", "run"); d.Who != "alice" {
			t.Errorf("run decision by %q, want alice", d.Who)
		}
		if d := findDecision(t, log, "optional", "skip"); d.Reason != "not needed tonight" || d.Who != "alice" {
			t.Errorf("skip decision %+v", d)
		}
		d := findDecision(t, log, "console", "done-by-hand")
		if d.Inputs["downtime"] != "58s" || d.Inputs["ticket"] != "INC-42" {
			t.Errorf("manual inputs %v", d.Inputs)
		}
		findDecision(t, log, "flaky", "retry")
		if f := lastFinishOf(log, "flaky"); f == nil || f.Status != journal.StatusOK || f.Attempts != 2 || f.HumanWait <= 0 {
			t.Errorf("flaky finish %+v, want ok after 2 attempts with human wait", f)
		}
		if f := lastFinishOf(log, "optional"); f == nil || f.Status != journal.StatusSkipped {
			t.Errorf("optional finish %+v", f)
		}
		if f := lastFinishOf(log, "console"); f == nil || f.HumanWait <= 0 || f.Status != journal.StatusOK {
			t.Errorf("console finish %+v, want ok with human wait", f)
		}
		if ev := evidenceOf(log, "console", "Checklist confirmed by the operator"); ev == nil || ev.Table == nil ||
			len(ev.Table.Rows) != 1 || ev.Table.Rows[0][1] != "look at the clock / 查看時鐘" || ev.Table.Rows[0][2] != "yes" || ev.Table.Rows[0][3] != "alice" || ev.Table.Rows[0][4] == "" {
			t.Errorf("console checklist evidence %+v, want the item confirmed by alice with its time", ev)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "shut\n" {
			t.Errorf("markers.txt = %q", b)
		}
		return outcomeOf(code, log)
	})
}

// longRunbook's step "long" runs until the test creates the file
// "release" in the run's directory: the step cannot end before the test
// has pressed Ctrl-C and answered the menu, however slow the machine (a
// fixed wait of 1.5 s could end first on a loaded machine, and the run
// then paused or went on before the menu was ever shown). The step's shell
// says it runs by creating "started"; the test presses Ctrl-C only then
// (waitStarted). The pause is drbook's to take, not the command's: the
// command runs in a process group of its own, which the terminal's SIGINT
// does not reach (TestGuidedCtrlCLetsALocalCommandFinish shows it for a
// shell that does not ignore SIGINT); this one ignores it all the same,
// so that these tests are about the menu alone.
const longRunbook = `name: long
title: {en: "A step to pause at", zh-TW: "於步驟中暫停"}
steps:
  - id: before
    log: before
  - id: long
    name: {en: "Run until released", zh-TW: "執行至放行為止"}
    exec.local: {shell: "` + untilReleased + `"}
  - id: after
    exec.local: {shell: "echo after >> markers.txt"}
finally:
  - id: cleanup
    exec.local: {shell: "echo cleanup >> markers.txt"}
`

// untilReleased is a command that ignores SIGINT, says it started, and
// runs until the file "release" exists.
const untilReleased = "trap '' INT; touch started; while [ ! -e release ]; do sleep 0.05; done"

// waitStarted waits until the step running untilReleased in dir has
// started ignoring SIGINT, or fails when drbook exits first.
func waitStarted(t *testing.T, p *ptyDrbook, dir string) {
	t.Helper()
	guard := time.After(hangGuard(t))
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("drbook exited (%v) before the step started; the screen showed:\n%s", p.err, tail(p.screen(), 3000))
		case <-guard:
			t.Fatalf("the step never started (hang guard); the screen showed:\n%s", tail(p.screen(), 3000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// release lets longRunbook's step "long" end.
func release(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeGuidedRunbook(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGuidedCtrlCPausesThenResume: Ctrl-C once while a step runs shows
// the menu, lets the step finish, ends the run "paused" (exit 3, a hint
// to resume) before the next step and before finally; `drbook resume` in
// guided mode finishes it without running a finished step again.
func TestGuidedCtrlCPausesThenResume(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "long.yaml", longRunbook)
	p := startPTY(t, dir, "run", "--operator", "bob", "--runs-dir", "runs", "long.yaml")
	p.expect("▶ long")
	waitStarted(t, p, dir)
	p.send("\x03")
	p.expect("the run will pause once the current step is over")
	p.expect("[c] stop the running step now and pause")
	p.send("\r") // keep the pause
	// The pause was journaled before the menu was drawn; only now may the
	// step end.
	release(t, dir)
	if code := p.exitCode(); code != exitPaused {
		t.Fatalf("exit %d, want %d; the screen showed:\n%s", code, exitPaused, tail(p.screen(), 3000))
	}
	runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
	if s := p.screen(); !strings.Contains(s, "result: paused") || !strings.Contains(s, "continue with: drbook resume runs/"+filepath.Base(runDir)) {
		t.Errorf("no paused result and resume hint on the screen:\n%s", tail(s, 1500))
	}
	log := readJournal(t, runDir)
	if d := findDecision(t, log, "", "pause"); d.Who != "bob" {
		t.Errorf("pause decision by %q", d.Who)
	}
	if f := lastFinishOf(log, "long"); f == nil || f.Status != journal.StatusOK {
		t.Errorf("long finish %+v, want ok (pause waits for the step)", f)
	}
	if countStarts(log, "after") != 0 || countStarts(log, "cleanup") != 0 {
		t.Errorf("steps ran after the pause")
	}
	if end := log.Events[len(log.Events)-1]; end.Type != journal.TypeRunEnd || end.RunEnd.Result != "paused" {
		t.Errorf("last event %+v, want run.end paused", end)
	}

	r := startPTY(t, dir, "resume", "--operator", "bob", runDir)
	r.expect("✔ long") // the view starts from the journal
	if code := r.exitCode(); code != exitOK {
		t.Fatalf("resume exit %d; the screen showed:\n%s", code, tail(r.screen(), 3000))
	}
	log = readJournal(t, runDir)
	for _, id := range []string{"before", "long", "after", "cleanup"} {
		if n := countStarts(log, id); n != 1 {
			t.Errorf("%s started %d times, want 1", id, n)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "after\ncleanup\n" {
		t.Errorf("markers.txt = %q", b)
	}
}

// TestGuidedCtrlCLetsALocalCommandFinish: one Ctrl-C while exec.local
// runs a shell that does not ignore SIGINT pauses the run after the step,
// and the step's command runs to its end: the terminal's SIGINT goes to
// drbook's process group, and the command has one of its own. When the
// command shared drbook's group, the shell died of the Ctrl-C and the
// step failed half-done.
func TestGuidedCtrlCLetsALocalCommandFinish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "long.yaml", `name: long
title: {en: "A local command to pause at", zh-TW: "於本機指令中暫停"}
steps:
  - id: long
    exec.local: {shell: "touch started; while [ ! -e release ]; do sleep 0.05; done; echo finished >> markers.txt"}
  - id: after
    exec.local: {shell: "echo after >> markers.txt"}
`)
	p := startPTY(t, dir, "run", "--operator", "bob", "--runs-dir", "runs", "long.yaml")
	p.expect("▶ long")
	waitStarted(t, p, dir)
	p.send("\x03")
	p.expect("the run will pause once the current step is over")
	p.expect("[c] stop the running step now and pause")
	p.send("\r") // keep the pause
	release(t, dir)
	if code := p.exitCode(); code != exitPaused {
		t.Fatalf("exit %d, want %d; the screen showed:\n%s", code, exitPaused, tail(p.screen(), 3000))
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	if f := lastFinishOf(log, "long"); f == nil || f.Status != journal.StatusOK {
		t.Errorf("long finish %+v, want ok: the Ctrl-C was drbook's, not the command's", f)
	}
	if countStarts(log, "after") != 0 {
		t.Errorf("a step ran after the pause")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "finished\n" {
		t.Errorf("markers.txt = %q, want the command's own last line", b)
	}
}

// TestGuidedCtrlCStopStep: Ctrl-C then "c" stops the running step at once
// (journaled cancelled) and pauses: exit 3.
func TestGuidedCtrlCStopStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "long.yaml", longRunbook)
	p := startPTY(t, dir, "run", "--runs-dir", "runs", "long.yaml")
	p.expect("▶ long")
	waitStarted(t, p, dir)
	p.send("\x03")
	p.expect("[c] stop the running step now and pause")
	// The step is never released: only the stop can end it.
	p.send("c\r")
	if code := p.exitCode(); code != exitPaused {
		t.Fatalf("exit %d, want %d", code, exitPaused)
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	findDecision(t, log, "", "cancel-step")
	if f := lastFinishOf(log, "long"); f == nil || f.Status != journal.StatusCancelled {
		t.Errorf("long finish %+v, want cancelled", f)
	}
}

// TestGuidedManualNoFailsTheStep: at a manual step, the checklist items
// are asked one by one, and "n" to one (and only "n") fails the step; the
// checklist evidence says which item was not confirmed.
func TestGuidedManualNoFailsTheStep(t *testing.T) {
	t.Parallel()
	words := screenWords{
		"en": {"item 1": "[1/2] look at the clock — done? [y]es / [n]o: ", "item 2": "[2/2] write it down — done? [y]es / [n]o: ",
			"failed": "✘ console failed", "why": "carol did not confirm checklist item 2 (write it down)", "failed choice": "[f]ail"},
		"zh-TW": {"item 1": "[1/2] 查看時鐘 — 已完成？[y]是 / [n]否：", "item 2": "[2/2] 記錄下來 — 已完成？[y]是 / [n]否：",
			"failed": "✘ console 失敗", "why": "carol 未確認檢核項目第 2 項（write it down）", "failed choice": "[f]失敗（執行 on_failure）？"},
	}
	runTraps(t, words, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "manual.yaml", `name: manual
steps:
  - id: console
    manual:
      en: "Check the console"
      zh-TW: "檢查主控台"
      checklist: [{en: "look at the clock", zh-TW: "查看時鐘"}, {en: "write it down", zh-TW: "記錄下來"}]
`)
		p := r.start(t, dir, "run", "--operator", "carol", "--runs-dir", "runs", "manual.yaml")
		p.expect(say("item 1"))
		p.send("y\r")
		p.expect(say("item 2"))
		p.send("n\r")
		p.expect(say("failed"))
		p.expect(say("why")) // the kind's error, in the operator's language
		p.expect(say("failed choice"))
		p.send("f\r")
		code := p.exitCode()
		if code != exitFailed {
			t.Fatalf("exit %d, want %d; screen:\n%s", code, exitFailed, tail(p.screen(), 2000))
		}
		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		if f := lastFinishOf(log, "console"); f == nil || f.Status != journal.StatusFailed {
			t.Errorf("console finish %+v, want failed", f)
		}
		ev := evidenceOf(log, "console", "Checklist confirmed by the operator")
		if ev == nil || len(ev.Table.Rows) != 2 || ev.Table.Rows[0][2] != "yes" || ev.Table.Rows[1][2] != "no" {
			t.Errorf("checklist evidence %+v, want item 1 yes and item 2 no", ev)
		}
		return outcomeOf(code, log)
	})
}

// abortRunbook's step "long" is longRunbook's: it runs until released,
// which nothing here does, so only the abort can end it; Ctrl-C is
// pressed once it started (waitStarted).
const abortRunbook = `name: abort
steps:
  - id: shut
    name: {en: "Shut down the test host", zh-TW: "將測試主機關機"}
    disruptive: true
    exec.local: {shell: "echo shut >> markers.txt"}
  - id: long
    exec.local: {shell: "` + untilReleased + `"}
  - id: after
    exec.local: {shell: "echo after >> markers.txt"}
finally:
  - id: power_on
    name: {en: "Power the test host back on", zh-TW: "將測試主機重新開機"}
    when: steps.shut.happened
    exec.local: {shell: "echo power_on >> markers.txt"}
`

// abortWords are what a second Ctrl-C and the question after it show.
var abortWords = screenWords{
	"en": {"menu": "[c] stop the running step now", "aborted": "✘ the run was aborted. Its finally steps bring the site back: power_on (Power the test host back on)",
		"run finally": "run finally steps now? [Y/n]: ", "again": "answer y (yes) or n (no) — run finally steps now? [Y/n]: ",
		"down": "⚠ STILL DOWN after this run:", "disrupted": "▼ localhost (step shut, Shut down the test host, drbook)",
		"pending": "recovery not done (finally): power_on", "continue": "continue with: drbook resume %s --only power_on"},
	"zh-TW": {"menu": "[c] 立即停止執行中步驟並暫停", "aborted": "✘ 演練已中止。收尾步驟將恢復場域：power_on (將測試主機重新開機)",
		"run finally": "立即執行收尾步驟？[Y]是 / [n]否：", "again": "請回答 y（是）或 n（否）— 立即執行收尾步驟？[Y]是 / [n]否：",
		"down": "⚠ 本次演練結束後仍未恢復：", "disrupted": "▼ localhost（步驟 shut，將測試主機關機，drbook）",
		"pending": "尚未執行之復原步驟（finally）：power_on", "continue": "續行指令：drbook resume %s --only power_on"},
}

// TestGuidedCtrlCTwiceAborts: a second Ctrl-C is abort, as [a]bort at a
// prompt: the running step is journaled cancelled, no later step runs,
// finally (the recovery) is offered and, with Enter, runs; the run ends
// aborted (exit 4) and nothing is left down.
func TestGuidedCtrlCTwiceAborts(t *testing.T) {
	t.Parallel()
	runTraps(t, abortWords, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "abort.yaml", abortRunbook)
		p := r.start(t, dir, "run", "--operator", "dave", "--runs-dir", "runs", "abort.yaml")
		p.expect("▶ long")
		waitStarted(t, p, dir)
		p.send("\x03")
		p.expect(say("menu"))
		p.send("\x03")
		p.expect(say("aborted"))
		p.expect(say("run finally"))
		p.send("\r")
		code := p.exitCode()
		if code != exitAborted {
			t.Fatalf("exit %d, want %d; screen:\n%s", code, exitAborted, tail(p.screen(), 2000))
		}
		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		if d := findDecision(t, log, "", "abort"); d.Who != "dave" {
			t.Errorf("abort decision by %q", d.Who)
		}
		if f := lastFinishOf(log, "long"); f == nil || f.Status != journal.StatusCancelled {
			t.Errorf("long finish %+v, want cancelled", f)
		}
		if f := lastFinishOf(log, "power_on"); f == nil || f.Status != journal.StatusOK {
			t.Errorf("power_on finish %+v, want ok: finally runs after an abort", f)
		}
		if end := log.Events[len(log.Events)-1]; end.Type != journal.TypeRunEnd || end.RunEnd.Result != "aborted" {
			t.Errorf("last event %+v, want run.end aborted", end)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "shut\npower_on\n" {
			t.Errorf("markers.txt = %q, want shut then power_on (and not after)", b)
		}
		if s := p.flat(); strings.Contains(s, say("down")) {
			t.Errorf("nothing is down after finally ran, yet the screen says so:\n%s", tail(p.screen(), 1500))
		}
		return outcomeOf(code, log)
	})
}

// TestGuidedAbortWithoutFinallySaysWhatIsDown: declining the finally
// steps after an abort leaves the host down on purpose; the screen says
// plainly what is still down and the command that brings it back, and
// that command does.
func TestGuidedAbortWithoutFinallySaysWhatIsDown(t *testing.T) {
	t.Parallel()
	runTraps(t, abortWords, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "abort.yaml", abortRunbook)
		p := r.start(t, dir, "run", "--runs-dir", "runs", "abort.yaml")
		p.expect("▶ long")
		waitStarted(t, p, dir)
		p.send("\x03")
		p.expect(say("menu"))
		p.send("\x03")
		p.expect(say("run finally"))
		p.send("maybe\r")
		p.expect(say("again"))
		p.send("n\r")
		code := p.exitCode()
		if code != exitAborted {
			t.Fatalf("exit %d, want %d; screen:\n%s", code, exitAborted, tail(p.screen(), 2000))
		}
		runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
		rel := "runs/" + filepath.Base(runDir)
		s := p.screen()
		for _, want := range []string{say("down"), say("disrupted"), say("pending"), fmt.Sprintf(say("continue"), rel)} {
			if !strings.Contains(s, want) {
				t.Errorf("the screen never said %q:\n%s", want, tail(s, 1500))
			}
		}
		log := readJournal(t, runDir)
		findDecision(t, log, "", "skip-finally")
		if countStarts(log, "power_on") != 0 {
			t.Error("power_on ran although the operator declined")
		}
		outcome := outcomeOf(code, log)
		res := r.start(t, dir, "resume", rel, "--only", "power_on")
		if code := res.exitCode(); code != exitOK {
			t.Fatalf("resume exit %d; screen:\n%s", code, tail(res.screen(), 2000))
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "shut\npower_on\n" {
			t.Errorf("markers.txt = %q, want shut then power_on", b)
		}
		return outcome
	})
}

// TestGuidedNoEscapeCodesWithoutTerminal: guided (stdin is a terminal)
// but output to a pipe prints plain timestamped lines, no escape codes.
func TestGuidedPlainWhenOutputIsNotATerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "short.yaml", "name: short\nsteps:\n  - id: a\n    confirm: true\n    log: hello\n")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	bin, _ := exec.LookPath("drbook")
	cmd := exec.Command(bin, "run", "--runs-dir", "runs", "short.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRBOOK_LANG=en")
	var out bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ptmx.Write([]byte("r\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if bytes.ContainsRune(out.Bytes(), 0x1b) {
		t.Errorf("escape codes in piped output:\n%q", out.String())
	}
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3} ✔ a ok`).Match(out.Bytes()) {
		t.Errorf("no timestamped lines:\n%s", out.String())
	}
}

const confirmSkipRunbook = `name: confirm-skip
title: {en: "Confirm and skip", zh-TW: "確認與略過"}
steps:
  - id: shut
    name: {en: "Shut down the test host", zh-TW: "將測試主機關機"}
    confirm: true
    exec.local: {shell: "echo shut >> markers.txt"}
  - id: optional
    name: {en: "An optional check", zh-TW: "選擇性檢查"}
    confirm: true
    log: optional step
finally:
  - id: cleanup
    name: {en: "Clean up", zh-TW: "清理"}
    log: cleanup
`

// confirmSkipTexts is what the confirm/skip flow shows in one language.
type confirmSkipTexts struct {
	title, shut, changes, confirm, optional, reason, again string
	final                                                  []string
}

// TestGuidedConfirmSkipInBothLanguages drives the same confirm-and-skip
// run in English and in Traditional Chinese: each screen shows its own
// language's prompts (with the same answer keys), and the two journals
// hold the same decisions, statuses and reasons: the language is display,
// never data.
func TestGuidedConfirmSkipInBothLanguages(t *testing.T) {
	t.Parallel()
	const reason = "今晚不需要 (not tonight)" // typed the same in both, CJK included
	texts := map[string]confirmSkipTexts{
		"en": {
			title: "drbook · confirm-skip — Confirm and skip", shut: "── shut [exec.local] Shut down the test host",
			changes: "this step CHANGES STATE", confirm: "[r]un, [s]kip, [d]one by hand, [a]bort? ",
			optional: "── optional [log] An optional check", reason: "reason for skipping (required): ",
			again: "a reason is required — reason for skipping (required): ",
			final: []string{"  finally:", "decision by alice on optional: skip " + reason, "run ended: passed", "result: passed", "run directory: ", "journal hash: "},
		},
		"zh-TW": {
			title: "drbook · confirm-skip — 確認與略過", shut: "── shut [exec.local] 將測試主機關機",
			changes: "本步驟將變更系統狀態", confirm: "[r]執行 [s]略過 [d]人工完成 [a]中止？",
			optional: "── optional [log] 選擇性檢查", reason: "略過原因（必填）：", again: "必須填寫原因 — 略過原因（必填）：",
			final: []string{"執行編號 ", "操作人員 alice", "復原時間目標（RTO）計時：尚未開始", "收尾步驟（finally）：", "清理",
				"決策：alice（步驟 optional）：略過 " + reason, "演練結束：通過", "結果：通過", "執行目錄：", "紀錄檔雜湊值："},
		},
	}
	journals := map[string][]string{}
	for _, lang := range []string{"en", "zh-TW"} {
		want := texts[lang]
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "confirm.yaml", confirmSkipRunbook)
		p := startPTY(t, dir, "run", "--lang", lang, "--operator", "alice", "--runs-dir", "runs", "confirm.yaml")
		p.expect(want.title)
		p.expect(want.shut)
		p.expect(want.changes)
		p.expect(want.confirm)
		p.send("r\r")
		p.expect(want.optional)
		p.expect(want.confirm)
		p.send("s\r")
		p.expect(want.reason)
		p.send("\r") // an empty reason is asked again
		p.expect(want.again)
		p.send(reason + "\r")
		if code := p.exitCode(); code != exitOK {
			t.Fatalf("%s: exit %d; the screen showed:\n%s", lang, code, tail(p.screen(), 3000))
		}
		screen := p.screen()
		for _, s := range want.final {
			if !strings.Contains(screen, s) {
				t.Errorf("%s: the screen never showed %q:\n%s", lang, s, tail(screen, 3000))
			}
		}
		for other, o := range texts {
			if other != lang && strings.Contains(screen, o.confirm) {
				t.Errorf("%s: the screen showed the %s prompt %q", lang, other, o.confirm)
			}
		}
		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		journals[lang] = journalFacts(log)
		if d := findDecision(t, log, "optional", "skip"); d.Reason != reason || d.Who != "alice" {
			t.Errorf("%s: skip decision %+v", lang, d)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "shut\n" {
			t.Errorf("%s: markers.txt = %q", lang, b)
		}
	}
	if en, zh := strings.Join(journals["en"], "\n"), strings.Join(journals["zh-TW"], "\n"); en != zh {
		t.Errorf("the journals differ by language:\nen:\n%s\nzh-TW:\n%s", en, zh)
	}
}

// journalFacts is a journal without what differs between two runs (times,
// ids, hashes, durations): one line per event of its type, step, status,
// decision and reason.
func journalFacts(log *journal.Log) []string {
	var out []string
	for _, ev := range log.Events {
		line := ev.Type + " " + ev.Step
		switch {
		case ev.StepFinish != nil:
			line += " " + ev.StepFinish.Status + " " + ev.StepFinish.Reason + " " + ev.StepFinish.Error
		case ev.Decision != nil:
			line += " " + ev.Decision.Action + " " + ev.Decision.Who + " " + ev.Decision.Reason
		case ev.RunEnd != nil:
			line += " " + ev.RunEnd.Result
		case ev.Note != nil:
			line += " " + ev.Note.Level + " " + ev.Note.Text
		}
		out = append(out, line)
	}
	return out
}
