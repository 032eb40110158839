package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// crashSteps is how many steps the crash runbook has before its finally.
const crashSteps = 25

// crashRunbook cycles through log, wait 20ms and exec.local. Each
// exec.local appends "step-N" to markers.txt, so a step that really ran
// twice shows twice. Odd exec steps write their marker and then linger,
// even ones linger first, so that kills land both after and before the
// side effect of a step that was started but not journaled as finished.
func crashRunbook() string {
	var b strings.Builder
	b.WriteString("name: crash\nsteps:\n")
	for i := 1; i <= crashSteps; i++ {
		fmt.Fprintf(&b, "  - id: s%d\n", i)
		switch i % 3 {
		case 1:
			fmt.Fprintf(&b, "    log: step-%d\n", i)
		case 2:
			b.WriteString("    wait: 20ms\n")
		case 0:
			if i%2 == 1 {
				fmt.Fprintf(&b, "    exec.local: {shell: \"echo step-%d >> markers.txt; sleep 0.01\"}\n", i)
			} else {
				fmt.Fprintf(&b, "    exec.local: {shell: \"sleep 0.01; echo step-%d >> markers.txt\"}\n", i)
			}
		}
	}
	b.WriteString("finally:\n  - id: last\n    log: finally\n")
	return b.String()
}

func crashStepIDs() []string {
	ids := make([]string, 0, crashSteps+1)
	for i := 1; i <= crashSteps; i++ {
		ids = append(ids, fmt.Sprintf("s%d", i))
	}
	return append(ids, "last")
}

func isExecStep(id string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "s"))
	return err == nil && n%3 == 0
}

// crashIterations is 32 by default (about 20 s); DRBOOK_CRASH_ITERATIONS
// runs more, e.g. the long variant:
//
//	DRBOOK_CRASH_ITERATIONS=200 go test -run TestCrashResume -timeout 20m ./cmd/drbook/
func crashIterations(t *testing.T) int {
	n := 32
	if s := os.Getenv("DRBOOK_CRASH_ITERATIONS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("DRBOOK_CRASH_ITERATIONS=%q is not a positive number", s)
		}
		n = v
	}
	return n
}

// TestCrashResume kills drbook (and its children, as a crash would) with
// SIGKILL at many points of a run, then checks what the design promises:
// the journal reads back and its chain verifies (a torn last line
// tolerated), `resume` completes the run, an interrupted exec.local (not
// idempotent) stops resume with exit 3 until the operator passes
// --rerun-interrupted, and no step that was journaled as finished ever
// runs again.
//
// Kill points are spread over the run by the number of whole journal
// lines written (plus a jitter of up to 0.6 ms); every fourth kill instead
// waits for the start of an exec.local step so that the exit-3 path is
// always exercised. A process kill never tears a line (each event is one
// write), so every fifth crash also gets the beginning of a next event
// appended without its newline: what a machine crash in the middle of
// that write leaves, before the event's fsync and so before its effect.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test starts dozens of processes")
	}
	iterations := crashIterations(t)
	base := t.TempDir()
	rbPath := filepath.Join(base, "crash.yaml")
	if err := os.WriteFile(rbPath, []byte(crashRunbook()), 0o644); err != nil {
		t.Fatal(err)
	}

	// A run nobody kills: the reference length of the journal, and proof
	// that the runbook itself passes with one marker per exec step.
	ref := filepath.Join(base, "reference")
	os.Mkdir(ref, 0o755)
	if out, errOut, code := runDrbook(t, ref, "run", "--yes", "--runs-dir", "runs", rbPath); code != 0 {
		t.Fatalf("the crash runbook fails without a crash: exit %d\n%s\n%s", code, out, errOut)
	}
	refLog, _ := readVerifiedJournal(t, findRunDir(t, filepath.Join(ref, "runs")))
	total := len(refLog.Events)
	checkMarkers(t, ref, nil)

	killedAt := map[int]bool{}
	paused, torn, finishedBeforeKill, markerTwice := 0, 0, 0, 0
	for i := range iterations {
		work := filepath.Join(base, fmt.Sprintf("crash-%03d", i))
		os.Mkdir(work, 0o755)
		runsDir := filepath.Join(work, "runs")
		var awaited func([]byte) bool
		what := ""
		if i%4 == 3 {
			execID := fmt.Sprintf("s%d", 3*(1+(i/4)%(crashSteps/3)))
			what = "start of " + execID
			needle := []byte(`"step":"` + execID + `","step_start"`)
			awaited = func(whole []byte) bool { return bytes.Contains(whole, needle) }
		} else {
			lines := 1 + i*(total-1)/iterations
			what = fmt.Sprintf("%d whole lines", lines)
			awaited = func(whole []byte) bool { return bytes.Count(whole, []byte{'\n'}) >= lines }
		}
		jitter := time.Duration(i%3) * 300 * time.Microsecond
		t.Run(fmt.Sprintf("kill-%03d", i), func(t *testing.T) {
			tear := i%5 == 2
			log, wasPaused, tornBytes, finished, twice := crashOnce(t, work, runsDir, rbPath, awaited, jitter, tear)
			killedAt[len(log.Events)] = true
			if wasPaused {
				paused++
			}
			if tornBytes > 0 {
				torn++
			}
			if finished {
				finishedBeforeKill++
			}
			if twice {
				markerTwice++
			}
			t.Logf("killed at %s (+%s): %d whole lines, %d torn bytes (tear requested: %v), paused for a decision: %v", what, jitter, len(log.Events), tornBytes, tear, wasPaused)
		})
		if t.Failed() {
			break
		}
	}
	t.Logf("%d kills at %d distinct journal lengths (of %d lines); %d ended in a torn line; %d needed --rerun-interrupted, of which %d had written their marker before the kill; %d runs ended before their kill",
		iterations, len(killedAt), total, torn, paused, markerTwice, finishedBeforeKill)
	// Several kills may land at one journal length (polling lags a busy
	// machine, and the exec.local kills aim at fixed steps), but half of
	// them (or of the journal's lengths) at distinct points shows the
	// schedule really spreads them.
	if want := min(iterations, total) / 2; iterations >= 30 && len(killedAt) < want {
		t.Errorf("kills landed at only %d distinct journal lengths; they must be spread over the run", len(killedAt))
	}
	if iterations >= 8 && paused == 0 {
		t.Errorf("no kill interrupted an exec.local step, so the exit-3 path was never exercised")
	}
}

// crashOnce runs the crash runbook in work, SIGKILLs it when awaited says
// so (plus jitter), checks the journal left behind, resumes to the end and
// checks the whole history. It returns the journal as the crash left it.
func crashOnce(t *testing.T, work, runsDir, rbPath string, awaited func([]byte) bool, jitter time.Duration, tear bool) (crashed *journal.Log, paused bool, torn int64, finished, rerunTwice bool) {
	cmd, stdout, stderr := drbookCommand(t, work, "run", "--yes", "--runs-dir", runsDir, rbPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	runDir, reached := waitForJournal(t, runsDir, exited, awaited)
	if reached {
		if jitter > 0 {
			time.Sleep(jitter)
		}
		// The whole process group: the shell of a running exec.local dies
		// with drbook, as it would when the machine goes down.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	<-exited
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && !ws.Signaled() {
		finished = true
		if code := exitCode(t, waitErr); code != 0 {
			t.Fatalf("the run ended by itself with exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	}
	if runDir == "" {
		t.Fatalf("no run directory under %s", runsDir)
	}

	if tear {
		tear = tearJournal(t, runDir)
	}
	crashed, torn = readVerifiedJournal(t, runDir)
	if tear && torn == 0 {
		t.Fatalf("the torn last line was not reported by ReadFile/Verify")
	}
	if len(crashed.Events) == 0 || crashed.Events[0].Type != journal.TypeRunStart {
		t.Fatalf("the journal left by the crash does not begin with run.start")
	}
	before := histories(crashed)
	needsDecision := ""
	for id, h := range before {
		if h.interrupted() && isExecStep(id) {
			needsDecision = id
		}
	}

	out, errOut, code := runDrbook(t, work, "resume", "--yes", runDir)
	switch {
	case needsDecision != "":
		// exec.local is not idempotent: resume must stop and ask.
		if code != exitPaused {
			t.Fatalf("%s was interrupted (exec.local, not idempotent) but resume exited %d, want %d\nstdout:\n%s\nstderr:\n%s", needsDecision, code, exitPaused, out, errOut)
		}
		if !strings.Contains(errOut, "step "+needsDecision+" (exec.local) was interrupted") || !strings.Contains(errOut, "--rerun-interrupted") {
			t.Errorf("resume's message does not name %s and --rerun-interrupted:\n%s", needsDecision, errOut)
		}
		mid, _ := readVerifiedJournal(t, runDir)
		if h := histories(mid)[needsDecision]; h.starts != before[needsDecision].starts {
			t.Fatalf("resume ran %s again without the operator's decision", needsDecision)
		}
		if end := mid.Events[len(mid.Events)-1]; end.Type != journal.TypeRunEnd || end.RunEnd.Result != "paused" {
			t.Errorf("a resume that stops for a decision should journal run.end paused, got %s %+v", end.Type, end.RunEnd)
		}
		paused = true
		out, errOut, code = runDrbook(t, work, "resume", "--yes", "--rerun-interrupted", runDir)
		if code != exitOK {
			t.Fatalf("resume --rerun-interrupted exited %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	case code != exitOK:
		t.Fatalf("resume exited %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	final, finalTorn := readVerifiedJournal(t, runDir)
	if finalTorn != 0 {
		t.Errorf("the journal ends in a torn line (%d bytes) after a clean resume", finalTorn)
	}
	if end := final.Events[len(final.Events)-1]; end.Type != journal.TypeRunEnd || end.RunEnd.Result != "passed" {
		t.Errorf("the last event is %s %+v, want run.end passed", end.Type, end.RunEnd)
	}
	if torn > 0 && !hasNote(final, "torn") {
		t.Errorf("resume cut a torn line of %d bytes without journaling a note about it", torn)
	}
	after := histories(final)
	for _, id := range crashStepIDs() {
		h := after[id]
		if h == nil || h.okFinish != 1 {
			t.Errorf("step %s has %+v, want exactly one step.finish ok", id, h)
			continue
		}
		if h.startedAfterOK {
			t.Errorf("step %s ran again after it was journaled as finished", id)
		}
		wantStarts := 1
		if b := before[id]; b != nil && b.interrupted() {
			wantStarts = b.starts + 1
		}
		if h.starts != wantStarts {
			t.Errorf("step %s started %d times, want %d (crash journal: %+v)", id, h.starts, wantStarts, before[id])
		}
		if h.notes > h.starts {
			t.Errorf("step %s logged %d notes in %d starts", id, h.notes, h.starts)
		}
	}
	rerunTwice = checkMarkers(t, work, before) > 0
	return crashed, paused, torn, finished, rerunTwice
}

var markerLine = regexp.MustCompile(`^step-(\d+)$`)

// checkMarkers counts the marker each exec.local step wrote: one per step,
// two only for a step that the crash journal shows as interrupted (and
// that was therefore re-run).
func checkMarkers(t *testing.T, dir string, before map[string]*stepHistory) (twice int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "markers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		m := markerLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("markers.txt has a malformed line %q", line)
			continue
		}
		count["s"+m[1]]++
	}
	for _, id := range crashStepIDs() {
		if !isExecStep(id) {
			continue
		}
		n := count[id]
		interrupted := before != nil && before[id] != nil && before[id].interrupted()
		switch {
		case n == 1:
		case n == 2 && interrupted:
			twice++
		case n == 2:
			t.Errorf("step %s wrote its marker twice but the crash journal shows it finished or not started: it ran again", id)
		default:
			t.Errorf("step %s wrote its marker %d times", id, n)
		}
		delete(count, id)
	}
	for id, n := range count {
		t.Errorf("markers.txt has %d marker(s) of %s, which is not an exec.local step", n, id)
	}
	return twice
}

// tearJournal appends the first part of a next event, as a crash in the
// middle of writing it would leave. After run.end a session writes
// nothing more, so a journal that ends there is left alone (false).
func tearJournal(t *testing.T, runDir string) bool {
	t.Helper()
	path := filepath.Join(runDir, journal.FileName)
	log, err := journal.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(log.Events); n > 0 && log.Events[n-1].Type == journal.TypeRunEnd {
		return false
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	partial := fmt.Sprintf(`{"seq":%d,"type":"step.start","time":"2026-`, len(log.Events)+1)
	if _, err := f.WriteString(partial); err != nil {
		t.Fatal(err)
	}
	return true
}

func hasNote(log *journal.Log, substr string) bool {
	for _, ev := range log.Events {
		if ev.Type == journal.TypeNote && strings.Contains(ev.Note.Text, substr) {
			return true
		}
	}
	return false
}
