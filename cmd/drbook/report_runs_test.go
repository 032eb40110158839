package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// regenReportRuns rewrites the journals under reports/testdata/runs/ that
// the reports' golden files are rendered from. They are made by the real
// engine through the real command line, on a terminal where a person is
// needed:
//
//	go generate ./reports
//
// which runs this test with -regen-report-runs and then renders the
// reports' golden files from the new journals (reports/golden_runs_test.go);
// review both diffs like code.
var regenReportRuns = flag.Bool("regen-report-runs", false, "rewrite reports/testdata/runs/ from real runs")

// TestRegenerateReportRuns makes, with -regen-report-runs, a guided lab
// run of the reference HA drill (the operator confirms the shutdown), a
// run whose recovery misses its objective, a run paused with Ctrl-C and
// resumed, and a copy of the guided run with one line edited.
func TestRegenerateReportRuns(t *testing.T) {
	if !*regenReportRuns {
		t.Skip("pass -regen-report-runs to rewrite reports/testdata/runs/")
	}
	out := mustAbs(t, "../../reports/testdata/runs")
	keep := func(name, runDir string) string {
		dst := filepath.Join(out, name)
		os.RemoveAll(dst)
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(runDir, "journal.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "journal.jsonl"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return dst
	}

	// guided: the HA drill in the lab, confirmed at the prompt.
	dir := t.TempDir()
	src, err := os.ReadFile("../../runbooks/sanchong/ha-host-failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeRunbook(t, dir, "ha-host-failure.yaml", string(src))
	p := startPTY(t, dir, "run", "--operator", "chen.wl", "--lab", "--runs-dir", "runs", "ha-host-failure.yaml")
	p.expect("[r]un, [s]kip, [d]one by hand, [a]bort? ")
	time.Sleep(thinkTime)
	p.send("r\r")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("guided: exit %d\n%s", code, tail(p.screen(), 3000))
	}
	guided := keep("guided", onlyRunDir(t, filepath.Join(dir, "runs")))

	// tampered: the guided journal with one step's status edited.
	data, _ := os.ReadFile(filepath.Join(guided, "journal.jsonl"))
	lines := bytes.SplitAfter(data, []byte("\n"))
	edited := false
	for i, l := range lines[:len(lines)-3] {
		if bytes.Contains(l, []byte(`"step":"ha","step_finish"`)) || (bytes.Contains(l, []byte(`"type":"step.finish"`)) && bytes.Contains(l, []byte(`"step":"ha"`))) {
			lines[i] = bytes.Replace(l, []byte(`"status":"ok"`), []byte(`"status":"failed"`), 1)
			edited = !bytes.Equal(lines[i], l)
			break
		}
	}
	if !edited {
		t.Fatal("found no finish of step ha to edit")
	}
	tampered := filepath.Join(out, "tampered")
	os.RemoveAll(tampered)
	os.MkdirAll(tampered, 0o755)
	if err := os.WriteFile(filepath.Join(tampered, "journal.jsonl"), bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}

	// rto-missed: every step passes, recovery takes longer than the objective.
	dir = t.TempDir()
	writeRunbook(t, dir, "slow.yaml", missedRTORunbook)
	if _, stderr, code := runDrbook(t, dir, "run", "--yes", "--operator", "lin.sy", "--runs-dir", "runs", "slow.yaml"); code != exitFailed {
		t.Fatalf("rto-missed: exit %d: %s", code, stderr)
	}
	keep("rto-missed", onlyRunDir(t, filepath.Join(dir, "runs")))

	// paused-resumed: Ctrl-C during a step, the pause kept, then resumed.
	dir = t.TempDir()
	writeGuidedRunbook(t, dir, "long.yaml", longRunbook)
	p = startPTY(t, dir, "run", "--operator", "bob", "--runs-dir", "runs", "long.yaml")
	p.expect("▶ long")
	waitStarted(t, p, dir)
	p.send("\x03")
	p.expect("[c] stop the running step now and pause")
	p.send("\r")
	release(t, dir)
	if code := p.exitCode(); code != exitPaused {
		t.Fatalf("paused: exit %d\n%s", code, tail(p.screen(), 3000))
	}
	runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
	r := startPTY(t, dir, "resume", "--operator", "bob", runDir)
	if code := r.exitCode(); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, tail(r.screen(), 3000))
	}
	keep("paused-resumed", runDir)
	if !strings.Contains(string(data), `"run.end"`) {
		t.Fatal("the guided journal has no run.end")
	}
}
