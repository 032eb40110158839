package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
)

const steerRunbook = `name: steer
steps:
  - id: a
    probe: {key: a}
  - id: b
    probe: {key: b, sleep: 5s}
  - id: c
    probe: {key: c}
finally:
  - id: z
    probe: {key: z}
`

// pauseWhenStarted requests steering once step id has started: a pause,
// or a stop of the running step.
type pauseWhenStarted struct {
	id     string
	cancel bool
	steer  *engine.Steering
}

func (p *pauseWhenStarted) Event(ev journal.Event) {
	if ev.Type == journal.TypeStepStart && ev.Step == p.id {
		if p.cancel {
			go p.steer.CancelRunning("tester", "wrong host")
		} else {
			p.steer.RequestPause("tester", "Ctrl-C")
		}
	}
}
func (p *pauseWhenStarted) Progress(string, string) {}

func decisions(log *journal.Log, action string) []journal.Decision {
	var out []journal.Decision
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision && ev.Decision.Action == action {
			out = append(out, *ev.Decision)
		}
	}
	return out
}

// TestPauseAfterCurrentStep: a pause asked for while a step runs lets it
// finish, runs nothing more (not even finally), ends the run "paused"
// (ErrPaused, which is also ErrNeedsDecision), and resume completes it
// without running the finished steps again.
func TestPauseAfterCurrentStep(t *testing.T) {
	f := newFixture(t)
	src := strings.Replace(steerRunbook, "sleep: 5s", "sleep: 50ms", 1)
	steer := engine.NewSteering()
	cfg := f.config()
	cfg.Steering = steer
	cfg.Observer = &pauseWhenStarted{id: "b", steer: steer}
	res, err := engine.Start(context.Background(), f.load(src), cfg)
	if !errors.Is(err, engine.ErrPaused) || !errors.Is(err, engine.ErrNeedsDecision) {
		t.Fatalf("err = %v, want ErrPaused (and ErrNeedsDecision)", err)
	}
	log := readLog(t, res.RunDir)
	fin := finishes(log)
	if res.Outcome != "paused" || runEnd(log).Result != "paused" {
		t.Errorf("outcome %q, run.end %+v, want paused", res.Outcome, runEnd(log))
	}
	if fin["b"] == nil || fin["b"].Status != journal.StatusOK {
		t.Errorf("b did not finish ok before the pause: %+v", fin["b"])
	}
	if fin["c"] != nil || fin["z"] != nil || f.probe.count("c") != 0 || f.probe.count("z") != 0 {
		t.Errorf("steps after the pause ran: c %+v z %+v", fin["c"], fin["z"])
	}
	if d := decisions(log, "pause"); len(d) != 1 || d[0].Who != "tester" || d[0].Reason != "Ctrl-C" {
		t.Errorf("pause decisions = %+v", d)
	}
	st, err := engine.ReadState(res.RunDir)
	if err != nil || st.Status() != "paused" {
		t.Fatalf("state %v, %v", st, err)
	}

	res, err = engine.Resume(context.Background(), res.RunDir, f.load(src), f.config(), engine.ResumeOptions{})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	for key, want := range map[string]int{"a": 1, "b": 1, "c": 1, "z": 1} {
		if got := f.probe.count(key); got != want {
			t.Errorf("%s ran %d times, want %d", key, got, want)
		}
	}
}

// TestCancelRunningStepPauses: stopping the running step journals it as
// cancelled (not failed), pauses the run, and resume runs it again only
// with the operator's consent because the probe kind is not idempotent.
func TestCancelRunningStepPauses(t *testing.T) {
	f := newFixture(t)
	steer := engine.NewSteering()
	cfg := f.config()
	cfg.Steering = steer
	cfg.Observer = &pauseWhenStarted{id: "b", cancel: true, steer: steer}
	t0 := time.Now()
	res, err := engine.Start(context.Background(), f.load(steerRunbook), cfg)
	if !errors.Is(err, engine.ErrPaused) {
		t.Fatalf("err = %v, want ErrPaused", err)
	}
	if time.Since(t0) > 3*time.Second {
		t.Errorf("the 5 s step was not stopped at once (%s)", time.Since(t0))
	}
	log := readLog(t, res.RunDir)
	if fin := finishes(log)["b"]; fin == nil || fin.Status != journal.StatusCancelled {
		t.Errorf("b finish = %+v, want cancelled", fin)
	}
	if len(decisions(log, "cancel-step")) != 1 {
		t.Errorf("no cancel-step decision journaled")
	}
	_, err = engine.Resume(context.Background(), res.RunDir, f.load(steerRunbook), f.config(), engine.ResumeOptions{})
	if !errors.Is(err, engine.ErrNeedsDecision) || errors.Is(err, engine.ErrPaused) {
		t.Fatalf("resume without consent: %v, want the interrupted-step decision", err)
	}
}

// pausingOperator answers the first confirmation with a pause (Ctrl-C at
// the prompt).
type pausingOperator struct{ engine.Unattended }

func (pausingOperator) Confirm(context.Context, engine.StepInfo) (engine.Decision, error) {
	return engine.Decision{Action: "pause", Who: "tester", Reason: "Ctrl-C at the prompt"}, nil
}

func TestConfirmPauseStartsNothing(t *testing.T) {
	f := newFixture(t)
	f.ops = pausingOperator{}
	src := strings.Replace(steerRunbook, "  - id: b\n", "  - id: b\n    confirm: true\n", 1)
	res, err, log := f.run(context.Background(), src)
	if !errors.Is(err, engine.ErrPaused) {
		t.Fatalf("err = %v", err)
	}
	if res.Outcome != "paused" || count(log, journal.TypeStepStart, "b") != 0 || f.probe.count("b") != 0 {
		t.Errorf("outcome %s; b started %d times", res.Outcome, count(log, journal.TypeStepStart, "b"))
	}
	if d := decisions(log, "pause"); len(d) != 1 {
		t.Errorf("pause decisions %+v", d)
	}
}

// TestResumeFromAndOnly: --from re-runs a finished step and those after
// it; --only runs just the named step; both are journaled in run.resume;
// unknown names are refused.
func TestResumeFromAndOnly(t *testing.T) {
	f := newFixture(t)
	src := strings.Replace(steerRunbook, "sleep: 5s", "sleep: 1ms", 1)
	res, err, _ := f.run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Resume(context.Background(), res.RunDir, f.load(src), f.config(), engine.ResumeOptions{}); !errors.Is(err, engine.ErrFinished) {
		t.Fatalf("plain resume of a passed run: %v, want ErrFinished", err)
	}
	if _, err := engine.Resume(context.Background(), res.RunDir, f.load(src), f.config(), engine.ResumeOptions{From: "nope"}); !errors.Is(err, engine.ErrUnknownStep) {
		t.Fatalf("--from nope: %v", err)
	}
	// drbook resume reads the state first and resumes from it; the
	// caller's state is not changed by the steps --from forces.
	state, err := engine.ReadState(res.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := state.Resume(context.Background(), f.load(src), f.config(), engine.ResumeOptions{From: "b"}); err != nil {
		t.Fatalf("--from b: %v", err)
	}
	if _, ok := state.Finished["b"]; !ok || len(state.Finished) != 4 {
		t.Errorf("State.Resume changed the caller's state: %v", state.Finished)
	}
	want := map[string]int{"a": 1, "b": 2, "c": 2, "z": 2}
	for key, n := range want {
		if got := f.probe.count(key); got != n {
			t.Errorf("after --from b: %s ran %d times, want %d", key, got, n)
		}
	}
	if _, err := engine.Resume(context.Background(), res.RunDir, f.load(src), f.config(), engine.ResumeOptions{Only: []string{"a", "z"}}); err != nil {
		t.Fatalf("--only a,z: %v", err)
	}
	want = map[string]int{"a": 2, "b": 2, "c": 2, "z": 3}
	for key, n := range want {
		if got := f.probe.count(key); got != n {
			t.Errorf("after --only a,z: %s ran %d times, want %d", key, got, n)
		}
	}
	log := readLog(t, res.RunDir)
	var resumes []journal.RunResume
	for _, ev := range log.Events {
		if ev.Type == journal.TypeRunResume {
			resumes = append(resumes, *ev.RunResume)
		}
	}
	if len(resumes) != 2 || resumes[0].From != "b" || strings.Join(resumes[1].Only, ",") != "a,z" {
		t.Errorf("run.resume events = %+v", resumes)
	}
	if end := runEnd(log); end == nil || end.Result != "passed" {
		t.Errorf("run.end after --only = %+v", end)
	}
}
