package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// thinkTime is how long the test, playing the operator, reads a
// confirmation prompt before answering: a person's wait, longer than the
// confirmed step itself takes, so a report that subtracted it from step
// time would show a negative automated time. Nothing is asserted about
// how long anything took.
const thinkTime = 300 * time.Millisecond

// checkTimeSplit checks a guided run's report: wall-clock time is exactly
// automated + human wait + gaps, none negative, the human wait includes the
// operator's think time at the confirmation, and automated time is no more
// than the time the steps ran.
func checkTimeSplit(t *testing.T, runDir, confirmed string) *reports.Report {
	t.Helper()
	r, err := reports.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Summary
	if s.Automated < 0 || s.HumanWait < 0 || s.Gaps < 0 {
		t.Errorf("negative figure: automated %v, human %v, gaps %v", s.Automated, s.HumanWait, s.Gaps)
	}
	if s.Automated+s.HumanWait+s.Gaps != s.WallClock {
		t.Errorf("wall clock %v ≠ automated %v + human %v + gaps %v", s.WallClock, s.Automated, s.HumanWait, s.Gaps)
	}
	if s.HumanWait.D() < thinkTime {
		t.Errorf("human wait %v, want at least the %v spent at the prompt", s.HumanWait, thinkTime)
	}
	if s.Automated > s.StepTime {
		t.Errorf("automated %v exceeds the time in steps %v", s.Automated, s.StepTime)
	}
	for _, st := range r.Steps {
		if st.ID == confirmed && (st.WaitBefore.D() < thinkTime || st.WaitBefore > st.HumanWait) {
			t.Errorf("step %s: wait before it %v (human wait %v), want the confirmation's ≥ %v", st.ID, st.WaitBefore, st.HumanWait, thinkTime)
		}
	}
	// The JSON report written at the end of the run says the same.
	var doc struct {
		Summary struct {
			Automated, HumanWait, Gaps, WallClock journal.Duration
		} `json:"summary"`
	}
	b, err := os.ReadFile(filepath.Join(runDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Summary.Automated != s.Automated || doc.Summary.Gaps != s.Gaps {
		t.Errorf("report.json: %+v, rebuilt: automated %v gaps %v", doc.Summary, s.Automated, s.Gaps)
	}
	return r
}

// TestGuidedRunFiguresAddUp runs a guided drill on a terminal with every
// kind of human wait (a confirmation, a skip with its reason, a manual step
// with inputs, a failure retried) and checks the report's time split. The
// guided HA lab drill's journal (reports/testdata/runs/guided) is checked
// the same way by the reports' TestGoldenRunsSayWhatHappened.
func TestGuidedRunFiguresAddUp(t *testing.T) {
	t.Run("every-wait", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "guided.yaml", guidedRunbook)
		p := startPTY(t, dir, "run", "--operator", "alice", "--runs-dir", "runs", "guided.yaml")
		p.expect("[r]un, [s]kip, [d]one by hand, [a]bort? ")
		time.Sleep(thinkTime)
		p.send("r\r")
		p.expect("── optional")
		p.expect("[a]bort? ")
		p.send("s\r")
		p.expect("reason for skipping (required): ")
		p.send("not tonight\r")
		p.expect("[1/1] look at the clock — done? [y]es / [n]o: ")
		p.send("y\r")
		p.expect("downtime seen on the console (duration, required): ")
		p.send("58s\r")
		p.expect("ticket number (string): ")
		p.send("INC-1\r")
		p.expect("done? [y]es / [n]o: ")
		p.send("y\r")
		p.expect("[r]etry, [s]kip, [d]one by hand, [a]bort, or [f]ail")
		p.send("r\r")
		if code := p.exitCode(); code != exitOK {
			t.Fatalf("exit %d; the screen showed:\n%s", code, tail(p.screen(), 3000))
		}
		checkTimeSplit(t, onlyRunDir(t, filepath.Join(dir, "runs")), "shut")
	})
}

// missedRTORunbook's recovery takes longer than its objective: every
// step passes, the drill does not.
const missedRTORunbook = `name: slow
rto: 20ms
steps:
  - id: cut
    disruptive: true
    wait: 100ms
  - id: back
    recovery: true
    log: back
`

// TestMissedRTOFailsEverywhere: a run whose steps all pass but whose
// recovery exceeds the objective exits 1, says failed on the screen and
// in every report format, with the reason.
func TestMissedRTOFailsEverywhere(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "slow.yaml", missedRTORunbook)
	stdout, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", "runs", "slow.yaml")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "result: failed") || !strings.Contains(stderr, "over the objective of 20 ms") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
	for format, want := range map[string][]string{
		"md":    {"**Result: FAILED**", "The run ended as recorded (passed), but the drill failed: Recovery took"},
		"json":  {`"verdict": "failed"`, `"recorded_result": "passed"`, `"passed": false`},
		"junit": {`name="result" value="failed"`, `type="rto-exceeded"`},
		"html":  {`class="badge failed"`},
	} {
		out, errOut, code := runDrbook(t, dir, "report", "--format", format, runDir)
		if code != exitOK {
			t.Fatalf("report --format %s exited %d: %s", format, code, errOut)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s report lacks %q", format, w)
			}
		}
		if strings.Contains(out, "PASSED") {
			t.Errorf("%s report says PASSED", format)
		}
	}
	out, _, _ := runDrbook(t, dir, "runs", "--runs-dir", "runs")
	if !strings.Contains(out, "failed") || !strings.Contains(out, "MISSED") {
		t.Errorf("runs:\n%s", out)
	}
}
