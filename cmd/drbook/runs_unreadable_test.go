package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/journal/journaltest"
)

// TestRunsListsAnUnreadableRun: one run whose journal has a step.finish
// without its payload (chained, so only its content is wrong) is listed as
// unreadable, with the reason, and the other runs are still listed; resume
// of it is refused with the same reason, not a panic.
func TestRunsListsAnUnreadableRun(t *testing.T) {
	runs := t.TempDir()
	start := `{"type":"run.start","time":"2026-03-01T10:00:00Z","run_start":{"schema":1,"run_id":"r","runbook":"RB","runbook_sha256":"ab","operator":"op","mode":"plain"}}`
	write := func(name string, lines ...string) string {
		dir := filepath.Join(runs, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var bs [][]byte
		for _, l := range lines {
			bs = append(bs, []byte(l))
		}
		if err := os.WriteFile(filepath.Join(dir, journal.FileName), journaltest.Chain(bs...), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	bad := write("a-bad", start, `{"type":"step.finish","time":"2026-03-01T10:00:01Z","step":"s"}`)
	write("b-good", strings.ReplaceAll(start, "RB", "good-runbook"),
		`{"type":"run.end","time":"2026-03-01T10:00:02Z","run_end":{"result":"passed"}}`)

	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"runs", "--runs-dir", runs}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Fatalf("runs exited %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	if !strings.Contains(out, "unreadable: ") || !strings.Contains(out, "journal line 2: step.finish event without its payload") {
		t.Errorf("the bad run is not listed as unreadable with its reason:\n%s", out)
	}
	if !strings.Contains(out, "good-runbook") || !strings.Contains(out, "passed") {
		t.Errorf("the good run is not listed:\n%s", out)
	}

	stdout.Reset()
	stderr.Reset()
	code := runMain([]string{"resume", "--yes", bad}, strings.NewReader(""), &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "step.finish event without its payload") {
		t.Errorf("resume exited %d, want %d with the reason\nstderr:\n%s", code, exitUsage, &stderr)
	}
}
