package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestValidateHonoursCtrlC: Ctrl-C while validate loads a long runbook
// stops it with exit 130. The runbook comes through a named pipe: once
// the test has written all of it, drbook is reading it (so its signal
// handler is installed) and has the whole load ahead of it, which at
// 50,000 steps is far longer than a signal takes to arrive. The test
// waits for the process however long it takes: without cancellation it
// finishes the load and exits 0.
func TestValidateHonoursCtrlC(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "huge.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	var b strings.Builder
	b.WriteString("name: huge\nsteps:\n  - id: s0\n    log: start\n")
	for i := 1; i < 50000; i++ {
		fmt.Fprintf(&b, "  - id: s%d\n    when: steps.s%d.status == \"ok\"\n    log: \"after ${{ steps.s%d.status }}\"\n", i, i-1, i-1)
	}
	cmd, stdout, stderr := drbookCommand(t, dir, "validate", "huge.yaml")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once drbook opened it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := exitCode(t, cmd.Wait())
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d (interrupted)\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout, stderr)
	}
	if !strings.Contains(stderr.String(), "validate interrupted; nothing was changed") {
		t.Errorf("stderr does not say validate was interrupted:\n%s", stderr)
	}
}
