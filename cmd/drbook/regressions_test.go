package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// The tests in this file are regression tests for bugs found while writing
// the whole-CLI tests: usage errors that exited 1, resume losing or
// silently changing parameter values, and an empty journal taken for
// tampering. Each runs the scenario for real.

func writeRunbook(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUsageExitCodes: main.go documents exit 2 for invalid usage, but
// cobra's argument and unknown-command errors, a runbook file that does
// not exist and resume's refusal of a changed runbook all exit 1, the code
// that means "the drill failed".
func TestUsageExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "ok.yaml", "name: ok\nsteps:\n  - id: a\n    log: hi\n")
	cases := [][]string{
		{"validate"},
		{"run", "--yes"},
		{"run", "--yes", "ok.yaml", "extra.yaml"},
		{"resume", "--yes"},
		{"plan"},
		{"nosuch"},
		{"version", "extra"},
		{"validate", "missing.yaml"},
		{"run", "--yes", "missing.yaml"},
		{"plan", "missing.yaml"},
	}
	var wrong []string
	for _, args := range cases {
		_, stderr, code := runDrbook(t, dir, args...)
		if !strings.HasPrefix(stderr, "drbook: error: ") {
			t.Errorf("drbook %s: stderr does not start with \"drbook: error: \":\n%s", strings.Join(args, " "), stderr)
		}
		switch code {
		case exitUsage:
		case exitFailed:
			wrong = append(wrong, strings.Join(args, " "))
		default:
			t.Errorf("drbook %s exited %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}

	// Resume refusing a changed runbook needs --allow-changed: usage.
	writeRunbook(t, dir, "long.yaml", "name: long\nsteps:\n  - id: pause\n    wait: 30s\n")
	runDir := interruptedRun(t, dir, "long.yaml", "pause")
	writeRunbook(t, dir, "long.yaml", "name: long\nsteps:\n  - id: pause\n    wait: 10ms\n")
	_, stderr, code := runDrbook(t, dir, "resume", "--yes", runDir)
	if !strings.Contains(stderr, "--allow-changed") {
		t.Errorf("resume of a changed runbook does not mention --allow-changed:\n%s", stderr)
	}
	switch code {
	case exitUsage:
	case exitFailed:
		wrong = append(wrong, "resume (changed runbook, no --allow-changed)")
	default:
		t.Errorf("resume of a changed runbook exited %d, want %d", code, exitUsage)
	}
	if len(wrong) > 0 && !t.Failed() {
		t.Fatalf("these exit 1 (drill failed) instead of 2 (invalid usage): %s", strings.Join(wrong, "; "))
	}
}

// TestResumeDurationParam is a regression test: resume used to fail for
// any runbook with a duration parameter (run.start journaled the value as
// nanoseconds, paramText turned it into "1000000000", and the loader
// rejected that: exit 2). Commit 64956dc journals durations as text.
func TestResumeDurationParam(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRunbook(t, dir, "d.yaml", `name: durations
params:
  settle: {type: duration, default: 1s}
steps:
  - id: pause
    wait: "${{ params.settle }}"
  - id: after
    log: "settled for ${{ params.settle }}"
`)
	runDir := interruptedRun(t, dir, "d.yaml", "pause")
	out, stderr, code := runDrbook(t, dir, "resume", "--yes", runDir)
	if code != exitOK {
		t.Fatalf("resume exited %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "settled for 1s") {
		t.Errorf("resume did not keep the parameter's value:\n%s", out)
	}
}

// TestResumeListParamWithComma: a list parameter is journaled as a JSON
// array but handed back to the loader as comma-joined --var text, so an
// item that contains a comma becomes two items on resume, silently.
func TestResumeListParamWithComma(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRunbook(t, dir, "l.yaml", `name: lists
params:
  guests: {type: list, default: ["web, primary", "db"]}
steps:
  - id: pause
    wait: 1s
  - id: after
    log: "${{ len(params.guests) }} guests"
`)
	runDir := interruptedRun(t, dir, "l.yaml", "pause")
	out, stderr, code := runDrbook(t, dir, "resume", "--yes", runDir)
	if code != exitOK {
		t.Fatalf("resume exited %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if strings.Contains(out, "info: 3 guests") {
		t.Fatal("resume split the list item \"web, primary\" in two (3 guests instead of 2)")
	}
	if !strings.Contains(out, "info: 2 guests") {
		t.Errorf("resume changed the list parameter:\n%s", out)
	}
}

// TestResumeRejectsBadVar: `resume --var who` (no '=') must be refused
// like `run --var who`; mustVars in cmd_run.go drops the error and the
// run continues as if no --var had been given.
func TestResumeRejectsBadVar(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRunbook(t, dir, "v.yaml", `name: vars
params:
  who: {type: string, default: world}
steps:
  - id: pause
    wait: 1s
  - id: after
    log: "hello ${{ params.who }}"
`)
	runDir := interruptedRun(t, dir, "v.yaml", "pause")
	out, stderr, code := runDrbook(t, dir, "resume", "--yes", "--var", "who", runDir)
	if code == exitOK && strings.Contains(out, "info: hello world") {
		t.Fatal("resume ignored the malformed --var \"who\" and ran on")
	}
	if code != exitUsage || !strings.Contains(stderr, `--var "who" has no '='`) {
		t.Errorf("resume --var who exited %d, want %d with the --var error\nstdout:\n%s\nstderr:\n%s", code, exitUsage, out, stderr)
	}
}

// TestResumeAfterCrashBeforeRunStart: a crash between creating the journal
// and writing run.start leaves an empty journal. Nothing ran, but resume
// says the journal "has been altered", accusing tampering.
func TestResumeAfterCrashBeforeRunStart(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "runs", "20260101T000000Z-empty")
	if err := os.MkdirAll(filepath.Join(runDir, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, journal.FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runDrbook(t, dir, "resume", "--yes", runDir)
	if code == exitOK {
		t.Fatalf("resume of a run that never started exited 0")
	}
	if strings.Contains(stderr, "has been altered") {
		t.Fatal("an empty journal (crash before run.start) is reported as tampering: " + firstLine(stderr))
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// TestResumeVarIsRecorded: `resume --var who=other` changes a parameter in
// the middle of a run, and nothing but the later steps' own output shows
// it: run.start still says who=world and run.resume does not mention the
// override, so a report built from the journal misstates what ran. Resume
// should either refuse --var or journal the new value.
func TestResumeVarIsRecorded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRunbook(t, dir, "v.yaml", `name: vars
params:
  who: {type: string, default: world}
steps:
  - id: pause
    wait: 1s
  - id: after
    log: "hello ${{ params.who }}"
`)
	runDir := interruptedRun(t, dir, "v.yaml", "pause")
	out, stderr, code := runDrbook(t, dir, "resume", "--yes", "--var", "who=mallory", runDir)
	if code == exitUsage {
		return // refused: the run keeps the parameters it started with
	}
	if code != exitOK {
		t.Fatalf("resume exited %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	log, _ := readVerifiedJournal(t, runDir)
	for _, ev := range log.Events {
		switch ev.Type {
		case journal.TypeRunStart, journal.TypeStepStart, journal.TypeStepFinish, journal.TypeNote, journal.TypeEvidence:
			continue // the old value, or the steps' own output
		}
		if b, _ := json.Marshal(ev); strings.Contains(string(b), "mallory") {
			return // the override is on record
		}
	}
	if strings.Contains(out, "hello mallory") {
		t.Fatal("resume --var who=mallory changed the parameter mid-run without journaling the override (run.start still says who=world)")
	}
	t.Errorf("resume --var neither refused nor applied the override:\n%s", out)
}
