package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// drbookPath is the drbook command TestMain put on $PATH: this test binary
// under the name "drbook", which runs the real CLI with real signals.
func drbookPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("drbook")
	if err != nil {
		t.Fatalf("drbook is not on $PATH (TestMain installs it): %v", err)
	}
	return p
}

// drbookCommand prepares drbook in dir, in a process group of its own so
// that a test can kill it and its children together, as a crash would.
func drbookCommand(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(drbookPath(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DRBOOK_LANG=en")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

// hangGuard is how long a test lets one drbook process run before treating
// it as hung. It is not a speed bound: a busy machine can be many times
// slower than a quiet one, so the guard is what is left of the test
// binary's -timeout, less a minute to report the process's output instead
// of the binary's timeout panic.
func hangGuard(t *testing.T) time.Duration {
	d, ok := t.Deadline()
	if !ok {
		return 10 * time.Minute
	}
	if left := time.Until(d); left > 2*time.Minute {
		return left - time.Minute
	} else {
		return left / 2
	}
}

// runDrbook runs drbook to completion and returns its output and exit code.
func runDrbook(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd, out, errOut := drbookCommand(t, dir, args...)
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errOut.String(), exitCode(t, err)
	case <-time.After(hangGuard(t)):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatalf("drbook %s did not finish before the hang guard\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut)
	}
	return "", "", -1
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("drbook: %v", err)
	return -1
}

// findRunDir returns the only run directory under runsDir, or "".
func findRunDir(t *testing.T, runsDir string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(runsDir, "*", journal.FileName))
	switch len(dirs) {
	case 0:
		return ""
	case 1:
		return filepath.Dir(dirs[0])
	}
	t.Fatalf("more than one run directory under %s: %v", runsDir, dirs)
	return ""
}

// waitForJournal polls the journal of the only run under runsDir until
// done says the whole lines written so far are enough, or the process
// exits. It has no time limit of its own: a busy machine makes it longer,
// and a hung process is go test's -timeout to end. It returns the run
// directory (or "").
func waitForJournal(t *testing.T, runsDir string, exited <-chan struct{}, done func(whole []byte) bool) (string, bool) {
	t.Helper()
	lastSize := int64(-1)
	for {
		select {
		case <-exited:
			return findRunDir(t, runsDir), false
		default:
		}
		if dir := findRunDir(t, runsDir); dir != "" {
			path := filepath.Join(dir, journal.FileName)
			if fi, err := os.Stat(path); err == nil && fi.Size() != lastSize {
				lastSize = fi.Size()
				data, err := os.ReadFile(path)
				if err == nil {
					whole := data[:bytes.LastIndexByte(data, '\n')+1]
					if done(whole) {
						return dir, true
					}
				}
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// readVerifiedJournal reads a run's journal back after a crash or exit:
// the whole lines must verify; a torn last line is tolerated and its
// length returned.
func readVerifiedJournal(t *testing.T, runDir string) (*journal.Log, int64) {
	t.Helper()
	path := filepath.Join(runDir, journal.FileName)
	log, err := journal.ReadFile(path)
	if err != nil {
		t.Fatalf("%s does not read back: %v", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head, torn, err := journal.Verify(f)
	if err != nil {
		t.Fatalf("%s does not verify: %v", path, err)
	}
	if head != log.Head || torn != log.TornBytes {
		t.Fatalf("%s: Verify and ReadFile disagree: head %s/%s, torn %d/%d", path, head, log.Head, torn, log.TornBytes)
	}
	return log, torn
}

// stepHistory is what a journal says about one step id.
type stepHistory struct {
	starts         int
	okFinish       int
	notes          int
	lastState      string // "", "started", or the last finish status
	startedAfterOK bool
}

// histories summarises every step id in a journal.
func histories(log *journal.Log) map[string]*stepHistory {
	out := map[string]*stepHistory{}
	get := func(id string) *stepHistory {
		h := out[id]
		if h == nil {
			h = &stepHistory{}
			out[id] = h
		}
		return h
	}
	for _, ev := range log.Events {
		if ev.Step == "" {
			continue
		}
		h := get(ev.Step)
		switch ev.Type {
		case journal.TypeStepStart:
			if h.okFinish > 0 {
				h.startedAfterOK = true
			}
			h.starts++
			h.lastState = "started"
		case journal.TypeStepFinish:
			if ev.StepFinish.Status == journal.StatusOK {
				h.okFinish++
			}
			h.lastState = ev.StepFinish.Status
		case journal.TypeNote:
			h.notes++
		}
	}
	return out
}

// interrupted reports whether the step was started and never reached an
// outcome that resume honours (it will be re-run or needs a decision).
func (h *stepHistory) interrupted() bool {
	return h.lastState == "started" || h.lastState == journal.StatusInterrupted || h.lastState == journal.StatusCancelled
}

// interruptedRun runs the runbook file in dir, interrupts it with SIGINT
// once step waitStep has started, and returns the run directory. The run
// must have exited 130.
func interruptedRun(t *testing.T, dir, file, waitStep string, extra ...string) string {
	t.Helper()
	runsDir := filepath.Join(dir, "runs")
	args := append([]string{"run", "--yes", "--runs-dir", runsDir}, extra...)
	cmd, stdout, stderr := drbookCommand(t, dir, append(args, file)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	runDir, ok := waitForJournal(t, runsDir, exited, func(whole []byte) bool {
		return bytes.Contains(whole, []byte(`"step":"`+waitStep+`","step_start"`))
	})
	if !ok {
		t.Fatalf("drbook exited before %s began\nstdout:\n%s\nstderr:\n%s", waitStep, stdout, stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	<-exited
	if code := exitCode(t, waitErr); code != exitInterrupted {
		t.Fatalf("interrupted run exited %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout, stderr)
	}
	return runDir
}
