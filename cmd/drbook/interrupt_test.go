package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// longWaitRunbook's wait is long enough to be interrupted for sure and
// short enough that resume, which runs it again in full, stays quick.
const longWaitRunbook = `name: interrupted
steps:
  - id: before
    log: before the wait
  - id: pause
    wait: 2s
  - id: after
    log: after the wait
finally:
  - id: cleanup
    log: cleanup
`

// TestInterruptExits130 starts the real binary on a runbook with a long
// wait, interrupts it (Ctrl-C, or SIGTERM from a service manager), and
// checks the documented contract: exit 130, the wait journaled as
// cancelled and the run as interrupted, and `resume` finishing the run
// without running the finished step again.
func TestInterruptExits130(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel() // each spends its time in a 2 s wait
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "long.yaml"), []byte(longWaitRunbook), 0o644); err != nil {
				t.Fatal(err)
			}
			runsDir := filepath.Join(dir, "runs")
			cmd, stdout, stderr := drbookCommand(t, dir, "run", "--yes", "--runs-dir", runsDir, "long.yaml")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			var waitErr error
			go func() { waitErr = cmd.Wait(); close(exited) }()
			runDir, ok := waitForJournal(t, runsDir, exited, func(whole []byte) bool {
				return bytes.Contains(whole, []byte(`"step":"pause","step_start"`))
			})
			if !ok {
				t.Fatalf("drbook exited before the wait began\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(hangGuard(t)):
				cmd.Process.Kill()
				t.Fatalf("drbook did not stop after %s (hang guard)", sig)
			}
			if code := exitCode(t, waitErr); code != exitInterrupted {
				t.Fatalf("exit code %d after %s, want %d\nstdout:\n%s\nstderr:\n%s", code, sig, exitInterrupted, stdout, stderr)
			}
			if !strings.Contains(stderr.String(), "drbook: hint: continue with: drbook resume") {
				t.Errorf("stderr does not say how to continue:\n%s", stderr)
			}
			if !strings.Contains(stdout.String(), "run directory: "+runDir) {
				t.Errorf("stdout does not name the run directory %s:\n%s", runDir, stdout)
			}

			log, torn := readVerifiedJournal(t, runDir)
			if torn != 0 {
				t.Errorf("a clean interruption left a torn line of %d bytes", torn)
			}
			n := len(log.Events)
			if n < 2 {
				t.Fatalf("journal has %d events", n)
			}
			// The wait journaled as cancelled, not ok, is the proof that
			// the signal stopped it (a wall-clock bound proved nothing a
			// 2 s wait would not also meet, and flaked under load).
			fin, end := log.Events[n-2], log.Events[n-1]
			if fin.Type != journal.TypeStepFinish || fin.Step != "pause" || fin.StepFinish.Status != journal.StatusCancelled {
				t.Errorf("second-to-last event is %s %s %+v, want step.finish pause cancelled", fin.Type, fin.Step, fin.StepFinish)
			}
			if end.Type != journal.TypeRunEnd || end.RunEnd.Result != "interrupted" {
				t.Errorf("last event is %s %+v, want run.end interrupted", end.Type, end.RunEnd)
			}
			h := histories(log)
			if h["after"] != nil || h["cleanup"] != nil {
				t.Errorf("steps after the interrupted one ran: after=%+v cleanup=%+v", h["after"], h["cleanup"])
			}

			out, errOut, code := runDrbook(t, dir, "resume", "--yes", runDir)
			if code != exitOK {
				t.Fatalf("resume exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			log, _ = readVerifiedJournal(t, runDir)
			h = histories(log)
			for id, want := range map[string]int{"before": 1, "pause": 2, "after": 1, "cleanup": 1} {
				if h[id] == nil || h[id].starts != want || h[id].okFinish != 1 || h[id].startedAfterOK {
					t.Errorf("step %s: %+v, want %d start(s) and exactly one ok finish", id, h[id], want)
				}
			}
			last := log.Events[len(log.Events)-1]
			if last.Type != journal.TypeRunEnd || last.RunEnd.Result != "passed" {
				t.Errorf("after resume the last event is %s %+v, want run.end passed", last.Type, last.RunEnd)
			}
			if !hasDecision(log, "pause", "rerun-interrupted") {
				t.Errorf("resume did not journal its decision to re-run the interrupted wait")
			}
		})
	}
}

func hasDecision(log *journal.Log, step, action string) bool {
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision && ev.Step == step && ev.Decision.Action == action {
			return true
		}
	}
	return false
}
