package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// scripted is an operator whose confirmations follow a script by step id.
type scripted struct {
	confirm map[string]engine.Decision
	failed  map[string]engine.Decision
}

func (s scripted) Confirm(_ context.Context, st engine.StepInfo) (engine.Decision, error) {
	if d, ok := s.confirm[st.ID]; ok {
		return d, nil
	}
	return engine.Decision{Action: "run"}, nil
}
func (s scripted) Failed(_ context.Context, st engine.StepInfo, _ error) (engine.Decision, error) {
	if d, ok := s.failed[st.ID]; ok {
		return d, nil
	}
	return engine.Decision{Action: "fail"}, nil
}
func (s scripted) Ask(context.Context, engine.StepInfo, steps.Question) (steps.Answer, error) {
	return steps.Answer{}, steps.ErrNoOperator
}

// TestHappenedGuardsRecovery: steps.X.happened is true for a step done by
// hand and for one that ran (also when it failed after it began), false
// for a skipped one; a disruptive step done by hand is dated when the
// operator said so.
func TestHappenedGuardsRecovery(t *testing.T) {
	doneAt := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	f := newFixture(t)
	f.ops = scripted{confirm: map[string]engine.Decision{
		"by_hand": {Action: "done", Reason: "pulled the plug", At: doneAt},
		"skipped": {Action: "skip", Reason: "not tonight"},
	}}
	_, err, log := f.run(context.Background(), `
name: t
steps:
  - {id: by_hand, confirm: true, disruptive: true, probe: {key: a}}
  - {id: skipped, confirm: true, probe: {key: b}}
  - {id: broke, continue_on_error: true, probe: {key: c, fail_times: 1}}
finally:
  - {id: back_a, when: "steps.by_hand.happened && steps.by_hand.done_by_hand", log: a}
  - {id: back_b, when: steps.skipped.happened, log: b}
  - {id: back_c, when: "steps.broke.happened && !steps.broke.done_by_hand", log: c}
`)
	if err != nil {
		t.Fatalf("run: %v (broke continues on error)", err)
	}
	fin := finishes(log)
	for id, want := range map[string]string{"back_a": journal.StatusOK, "back_b": journal.StatusSkipped, "back_c": journal.StatusOK} {
		if fin[id] == nil || fin[id].Status != want {
			t.Errorf("%s: %+v, want %s", id, fin[id], want)
		}
	}
	if f.probe.count("a") != 0 {
		t.Error("drbook ran a step the operator did by hand")
	}
	if got := fin["by_hand"]; got.Status != journal.StatusManual || !got.Started.Equal(doneAt) {
		t.Errorf("by_hand finish %+v, want done-by-hand dated %s", got, doneAt)
	}
}

// TestDisruptiveStepWaitsForTheBaseline: a disruptive step does not start
// while a monitor is down, because the outage it causes could not be told
// from the one already there; the step fails unstarted with a message
// naming the monitor, and nothing of it ran.
func TestDisruptiveStepWaitsForTheBaseline(t *testing.T) {
	f := newFixture(t)
	rb := f.load(`
name: t
monitors:
  - {name: web, every: 5ms, probe.safe: {key: mon, fail_times: 1000000}}
steps:
  - {id: shut, disruptive: true, probe: {key: shut}}
`)
	cfg := f.config()
	cfg.BaselineWait = 50 * time.Millisecond
	res, err := engine.Start(context.Background(), rb, cfg)
	if !errors.Is(err, engine.ErrStepFailed) || !strings.Contains(err.Error(), "no baseline") {
		t.Fatalf("err %v, want a failed run for want of a baseline", err)
	}
	if !strings.Contains(err.Error(), "web is down") {
		t.Errorf("the error %q does not name the monitor", err)
	}
	log := readLog(t, res.RunDir)
	if count(log, journal.TypeStepStart, "shut") != 0 || f.probe.count("shut") != 0 {
		t.Error("the disruptive step started without a baseline")
	}
	for _, ev := range log.Events {
		if ev.Monitor != nil && !ev.Monitor.Baseline {
			t.Errorf("monitor event %+v not flagged baseline although nothing was disrupted", ev.Monitor)
		}
	}
}

// TestOnlyTheFirstDisruptiveStepNeedsABaseline: once the drill has
// disrupted the service, its monitors are down because of it; a second
// disruptive step adds to that outage and must not wait for them.
func TestOnlyTheFirstDisruptiveStepNeedsABaseline(t *testing.T) {
	f := newFixture(t)
	fl := &flappy{downOn: 3, upOn: 1 << 30, enough: make(chan struct{})}
	f.reg = steps.NewRegistry(append(control.Kinds(), f.probe, f.safe, fl, flappyDown{fl})...)
	rb := f.load(`
name: t
monitors:
  - {name: web, every: 5ms, flappy: {}}
steps:
  - {id: first, disruptive: true, probe: {key: first}}
  - {id: down, timeout: 1m, flappy.down: {}}
  - {id: second, disruptive: true, probe: {key: second}}
`)
	cfg := f.config()
	cfg.BaselineWait = 200 * time.Millisecond // the monitor stays down: a wait would end refused
	res, err := engine.Start(context.Background(), rb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := readLog(t, res.RunDir)
	if fin := finishes(log)["second"]; fin == nil || fin.Status != journal.StatusOK {
		t.Errorf("second disruptive step %+v, want ok without waiting for the monitor", fin)
	}
}

// flappyDown is a step that lasts until the flappy monitor has been
// probed while down.
type flappyDown struct{ f *flappy }

func (flappyDown) Name() string                    { return "flappy.down" }
func (flappyDown) Summary() string                 { return "waits for the monitor to go down" }
func (flappyDown) Traits() steps.Traits            { return steps.Traits{Idempotent: true} }
func (flappyDown) NewParams() any                  { return &struct{}{} }
func (flappyDown) NewResult() any                  { return &struct{}{} }
func (flappyDown) Validate(any) []steps.FieldError { return nil }
func (flappyDown) Describe(any) steps.Description  { return steps.Description{Action: "wait"} }
func (k flappyDown) Execute(ctx context.Context, _ steps.Runtime, _ any) (any, error) {
	for {
		k.f.mu.Lock()
		n := len(k.f.calls)
		k.f.mu.Unlock()
		if n > k.f.downOn+1 { // the down probe's state is journaled by now
			return &struct{}{}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
