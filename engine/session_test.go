package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
)

// TestSessionDrivesStepsOneAtATime is the durable backend's contract with
// the engine: Begin, then Step for each top-level step; a step finished in
// the session or journaled by an earlier one is never run again; after a
// crash (Abandon) Reopen replays the finished steps so later expressions
// see their results, and the journal verifies end to end.
func TestSessionDrivesStepsOneAtATime(t *testing.T) {
	f := newFixture(t)
	rb := f.load(`
name: t
steps:
  - {id: s1, probe: {key: a}}
  - id: s2
    when: steps.s1.result.count == 1
    probe: {key: b}
finally:
  - {id: f, probe.safe: {key: f}}
`)
	cfg := f.config()
	ses, err := engine.Begin(rb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if o, err := ses.Step(ctx, "s1"); err != nil || o.Status != engine.OutcomeOK || o.Replayed {
		t.Fatalf("s1: %+v %v", o, err)
	}
	if o, err := ses.Step(ctx, "s1"); err != nil || !o.Replayed || f.probe.count("a") != 1 {
		t.Fatalf("s1 again: %+v %v, ran %d times", o, err, f.probe.count("a"))
	}
	if _, err := ses.Step(ctx, "nope"); !errors.Is(err, engine.ErrUnknownStep) {
		t.Fatalf("an unknown step: %v", err)
	}
	ses.Abandon() // the worker dies here

	state, err := engine.ReadState(ses.Dir())
	if err != nil {
		t.Fatal(err)
	}
	again, err := state.Reopen(rb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := again.Step(ctx, "s1"); !o.Replayed || f.probe.count("a") != 1 {
		t.Fatalf("s1 after the reopen: %+v, ran %d times", o, f.probe.count("a"))
	}
	// s2's when: reads s1's journaled result.
	if o, err := again.Step(ctx, "s2"); err != nil || o.Status != engine.OutcomeOK || f.probe.count("b") != 1 {
		t.Fatalf("s2: %+v %v, ran %d times (its when: must see s1's replayed result)", o, err, f.probe.count("b"))
	}
	if o, err := again.Step(ctx, "f"); err != nil || o.Status != engine.OutcomeOK {
		t.Fatalf("f: %+v %v", o, err)
	}
	res, err := again.End("passed", "")
	if err != nil || res.Outcome != "passed" {
		t.Fatalf("end: %+v %v", res, err)
	}
	if _, err := again.Step(ctx, "f"); err == nil {
		t.Error("a step ran in an ended session")
	}
	data, _ := os.ReadFile(filepath.Join(ses.Dir(), journal.FileName))
	head, _, err := journal.Verify(bytes.NewReader(data))
	if err != nil || head != res.Head {
		t.Fatalf("the journal does not verify (%v) or its head %s is not the session's %s", err, head, res.Head)
	}
	log, _ := journal.Read(bytes.NewReader(data))
	var kinds []string
	for _, ev := range log.Events {
		if ev.Step == "" {
			kinds = append(kinds, ev.Type)
		} else {
			kinds = append(kinds, ev.Type+":"+ev.Step)
		}
	}
	want := "run.start step.start:s1 step.finish:s1 run.resume step.start:s2 step.finish:s2 step.start:f step.finish:f run.end"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("journal:\n%s\nwant\n%s", got, want)
	}
}

// TestSessionOutcomeHidesSecrets: the outcome's error goes to the
// workflow history, so it is redacted like the journal.
func TestSessionOutcomeHidesSecrets(t *testing.T) {
	t.Setenv("DRBOOK_TEST_SECRET", "hunter2-秘密")
	f := newFixture(t)
	rb := f.load(`
name: t
steps:
  - {id: a, probe: {key: a, secret: DRBOOK_TEST_SECRET, leak: true}}
`)
	ses, err := engine.Begin(rb, f.config())
	if err != nil {
		t.Fatal(err)
	}
	o, err := ses.Step(context.Background(), "a")
	if err != nil || o.Status != engine.OutcomeFailed {
		t.Fatalf("a: %+v %v, want failed", o, err)
	}
	if strings.Contains(o.Error, "hunter2") || !strings.Contains(o.Error, "[redacted]") {
		t.Errorf("the outcome shows %q", o.Error)
	}
	ses.End("failed", o.Error)
}
