package durable

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// plainSite loads runbooks without a site file (log, wait, exec.local,
// manual need none).
type plainSite struct{}

func (plainSite) Prepare(ctx context.Context, runDir, file string, in RunInput) (*Prepared, error) {
	rb, err := runbooks.Load(file, runbooks.Options{Registry: all.Registry(), Vars: in.Vars})
	if err != nil {
		return nil, err
	}
	return &Prepared{Runbook: rb, Config: engine.Config{Registry: all.Registry(), Mode: "drill", Version: "test", NoSync: true}}, nil
}

// drill is a runbook whose exec.local steps append their id to marks, so
// that a step that really ran twice shows twice.
func drill(marks string) string {
	mark := func(id string) string {
		return fmt.Sprintf("    exec.local: {shell: \"echo %s >> %s\"}\n", id, marks)
	}
	return "name: tdrill\nsteps:\n" +
		"  - id: hello\n    log: starting\n" +
		"  - id: prepare\n" + mark("prepare") +
		"  - id: gate\n    confirm: true\n" + mark("gate") +
		"  - id: fix\n    manual: {en: \"Reset the switch\", inputs: [{name: ticket, type: string, required: true}, {name: tries, type: int}]}\n" +
		"  - id: switch\n" + mark("switch") +
		"  - id: check\n    exec.local: {shell: \"grep -q switch " + marks + "\"}\n" +
		"on_failure:\n  - id: cleanup\n" + mark("cleanup") +
		"finally:\n  - id: last\n" + mark("last")
}

type fixture struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	acts    *Activities
	marks   string
	in      RunInput
	runsDir string
}

func newFixture(t *testing.T, source func(marks string) string) *fixture {
	t.Helper()
	dir := t.TempDir()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.SetTestTimeout(10 * time.Minute) // a hang fails, it does not bound the test's speed
	f := &fixture{t: t, env: env, marks: filepath.Join(dir, "marks.txt"), runsDir: filepath.Join(dir, "runs")}
	f.acts = &Activities{RunsDir: f.runsDir, Identity: "test-worker", Site: plainSite{}}
	f.acts.Register(env)
	f.in = RunInput{RunID: "20261202T120000Z-tdrill", File: "tdrill.yaml", Source: source(f.marks),
		Operator: "starter", Machine: "seat-a", NoPreflight: true}
	return f
}

// answerWhenWaiting answers step once the workflow waits for it (the
// test environment calls back when the workflow is blocked), checking
// first that the run asks exactly that.
func (f *fixture) answerWhenWaiting(at time.Duration, step, what string, a Answer, check func()) {
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(QueryProgress)
		if err != nil {
			f.t.Errorf("query: %v", err)
			return
		}
		var p Progress
		v.Get(&p)
		if p.Waiting == nil || p.Waiting.Step != step || p.Waiting.What != what {
			f.t.Errorf("at %s the run waits for %+v, want %s of step %s", at, p.Waiting, what, step)
			return
		}
		if check != nil {
			check()
		}
		a.Step = step
		f.env.UpdateWorkflow(UpdateDecide, "answer-"+step+"-"+what, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { f.t.Errorf("the answer to %s was rejected: %v", step, err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, a)
	}, at)
}

func (f *fixture) run() *Result {
	f.t.Helper()
	f.env.ExecuteWorkflow(WorkflowName, f.in)
	if !f.env.IsWorkflowCompleted() {
		f.t.Fatal("the workflow did not complete")
	}
	if err := f.env.GetWorkflowError(); err != nil {
		f.t.Fatalf("workflow error: %v", err)
	}
	var res Result
	if err := f.env.GetWorkflowResult(&res); err != nil {
		f.t.Fatal(err)
	}
	return &res
}

func (f *fixture) markLines() []string {
	b, _ := os.ReadFile(f.marks)
	return strings.Fields(string(b))
}

func (f *fixture) journal(res *Result) *journal.Log {
	f.t.Helper()
	data, err := os.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	if err != nil {
		f.t.Fatal(err)
	}
	head, _, err := journal.Verify(bytes.NewReader(data))
	if err != nil {
		f.t.Fatalf("the journal does not verify: %v", err)
	}
	if res.Head != "" && head != res.Head {
		f.t.Errorf("the workflow's head %s is not the journal's %s", res.Head, head)
	}
	log, err := journal.Read(bytes.NewReader(data))
	if err != nil {
		f.t.Fatal(err)
	}
	return log
}

func decisions(log *journal.Log) []string {
	var out []string
	for _, ev := range log.Events {
		if ev.Decision != nil {
			out = append(out, ev.Step+" "+ev.Decision.Action+" by "+ev.Decision.Who)
		}
	}
	return out
}

func finishes(log *journal.Log, step string) []string {
	var out []string
	for _, ev := range log.Events {
		if ev.StepFinish != nil && ev.Step == step {
			out = append(out, ev.StepFinish.Status)
		}
	}
	return out
}

func TestWorkflowAnswersFromOtherSeats(t *testing.T) {
	f := newFixture(t, drill)
	f.answerWhenWaiting(time.Hour, "gate", "confirm", Answer{Yes: true, Who: "ann", Seat: "seat-b"}, func() {
		// Nothing past the confirmation ran before the answer.
		if got := strings.Join(f.markLines(), " "); got != "prepare" {
			t.Errorf("before gate was confirmed the marks are %q, want only prepare", got)
		}
	})
	f.answerWhenWaiting(2*time.Hour, "fix", "manual", Answer{Yes: true, Who: "bo", Seat: "seat-c", Inputs: map[string]string{"ticket": "INC-7", "tries": "3"}}, nil)
	res := f.run()
	if res.Outcome != "passed" {
		t.Fatalf("outcome %s (%s), want passed", res.Outcome, res.Cause)
	}
	if got := strings.Join(f.markLines(), " "); got != "prepare gate switch last" {
		t.Errorf("marks %q: each step must run exactly once", got)
	}
	log := f.journal(res)
	got := strings.Join(decisions(log), "\n")
	for _, want := range []string{"gate run by ann@seat-b", "fix done-by-hand by bo@seat-c"} {
		if !strings.Contains(got, want) {
			t.Errorf("decisions:\n%s\nwant %q", got, want)
		}
	}
	for _, ev := range log.Events {
		if ev.Decision != nil && ev.Step == "gate" && !strings.Contains(ev.Decision.Reason, "from seat-b") {
			t.Errorf("the confirmation's reason %q does not say where it came from", ev.Decision.Reason)
		}
		if ev.Decision != nil && ev.Step == "fix" && (ev.Decision.Inputs["ticket"] != "INC-7" || ev.Decision.Inputs["tries"] != float64(3)) {
			t.Errorf("the manual step's inputs were journaled as %v, want ticket INC-7 and tries 3 (an int)", ev.Decision.Inputs)
		}
	}
	if log.Events[len(log.Events)-1].RunEnd == nil || log.Events[len(log.Events)-1].RunEnd.Result != "passed" {
		t.Errorf("the journal's last event is %+v, want run.end passed", log.Events[len(log.Events)-1])
	}
}

func TestWorkflowRejectsAnswerNobodyAskedFor(t *testing.T) {
	f := newFixture(t, drill)
	var rejected []string
	f.env.RegisterDelayedCallback(func() {
		for _, a := range []Answer{
			{Step: "switch", Yes: true, Who: "ann", Seat: "b"},                                         // not the step that waits
			{Step: "gate", Yes: true, Seat: "b"},                                                       // nobody
			{Step: "gate", Yes: true, Who: "ann", Seat: "b", Inputs: map[string]string{"ticket": "x"}}, // confirm takes no input
		} {
			f.env.UpdateWorkflow(UpdateDecide, "bad-"+a.Step+a.Who+fmt.Sprint(len(a.Inputs)), &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { rejected = append(rejected, err.Error()) },
				OnAccept:   func() { t.Errorf("answer %+v was accepted", a) },
				OnComplete: func(any, error) {},
			}, a)
		}
	}, time.Hour)
	f.answerWhenWaiting(2*time.Hour, "gate", "confirm", Answer{Yes: false, Who: "ann", Seat: "seat-b", Reason: "not today"}, nil)
	f.env.RegisterDelayedCallback(func() {
		f.env.UpdateWorkflow(UpdateDecide, "typo", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { rejected = append(rejected, err.Error()) },
			OnAccept:   func() { t.Error("an input the manual step does not declare was accepted") },
			OnComplete: func(any, error) {},
		}, Answer{Step: "fix", Yes: true, Who: "bo", Seat: "c", Inputs: map[string]string{"tikcet": "INC-7"}})
	}, 150*time.Minute)
	f.answerWhenWaiting(3*time.Hour, "fix", "manual", Answer{Yes: true, Who: "bo", Seat: "seat-c", Inputs: map[string]string{"ticket": "INC-7"}}, nil)
	res := f.run()
	if len(rejected) != 4 {
		t.Fatalf("rejected %d answers, want 4: %q", len(rejected), rejected)
	}
	for i, want := range []string{"waits for step gate", "--as NAME", "takes no --input", "has no input tikcet (its inputs: ticket, tries)"} {
		if !strings.Contains(rejected[i], want) {
			t.Errorf("rejection %d %q does not say %q", i, rejected[i], want)
		}
	}
	// "no" skips the confirmed step; the rest runs.
	if res.Outcome != "passed" {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Cause)
	}
	if got := strings.Join(f.markLines(), " "); got != "prepare switch last" {
		t.Errorf("marks %q, want the skipped gate absent", got)
	}
	if got := finishes(f.journal(res), "gate"); strings.Join(got, ",") != journal.StatusSkipped {
		t.Errorf("gate finished %v, want skipped", got)
	}
}

func TestWorkflowFailingStepRunsOnFailureAndFinally(t *testing.T) {
	f := newFixture(t, func(marks string) string {
		return strings.Replace(drill(marks), "grep -q switch", "grep -q nothing-like-this", 1)
	})
	f.in.Yes = true
	f.answerWhenWaiting(time.Hour, "fix", "manual", Answer{Yes: true, Who: "bo", Seat: "seat-c", Inputs: map[string]string{"ticket": "INC-7"}}, nil)
	res := f.run()
	if res.Outcome != "failed" || !strings.Contains(res.Cause, "check") {
		t.Fatalf("outcome %s (%s), want failed at check", res.Outcome, res.Cause)
	}
	if got := strings.Join(f.markLines(), " "); got != "prepare gate switch cleanup last" {
		t.Errorf("marks %q, want on_failure and finally after the failure", got)
	}
	log := f.journal(res)
	if got := finishes(log, "check"); strings.Join(got, ",") != journal.StatusFailed {
		t.Errorf("check finished %v, want failed once (exec.local has no retry:)", got)
	}
	if !strings.Contains(strings.Join(decisions(log), "\n"), "gate run by starter@seat-a") {
		t.Errorf("--yes must be journaled as the starter's: %v", decisions(log))
	}
}

// TestWorkflowWorkerCrashNotRetriedForNonIdempotentStep kills the worker
// (as far as the run can tell) right after the start of exec.local step
// "switch" was journaled. Temporal gives the step to the next attempt,
// which continues the journal: exec.local is not idempotent, so it is
// not run again until a person says so, from another seat; the steps
// before it are not run again at all.
func TestWorkflowWorkerCrashNotRetriedForNonIdempotentStep(t *testing.T) {
	f := newFixture(t, drill)
	f.in.Yes = true
	var once sync.Once
	f.acts.crashAt = func(ev journal.Event) bool {
		hit := false
		if ev.Type == journal.TypeStepStart && ev.Step == "switch" {
			once.Do(func() { hit = true })
		}
		return hit
	}
	f.answerWhenWaiting(time.Hour, "fix", "manual", Answer{Yes: true, Who: "bo", Seat: "seat-c", Inputs: map[string]string{"ticket": "INC-7"}}, nil)
	f.answerWhenWaiting(5*time.Hour, "switch", "rerun-interrupted", Answer{Yes: true, Who: "cy", Seat: "seat-d", Reason: "switch port checked"}, func() {
		if got := strings.Join(f.markLines(), " "); got != "prepare gate" {
			t.Errorf("while the decision is pending the marks are %q: the interrupted step ran again on its own", got)
		}
	})
	res := f.run()
	if res.Outcome != "passed" {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Cause)
	}
	if got := strings.Join(f.markLines(), " "); got != "prepare gate switch last" {
		t.Errorf("marks %q: a finished step ran again, or switch ran twice", got)
	}
	log := f.journal(res)
	if got := strings.Join(finishes(log, "switch"), ","); got != "interrupted,ok" {
		t.Errorf("switch finished %s, want interrupted then ok", got)
	}
	for _, id := range []string{"hello", "prepare", "gate", "fix"} {
		if got := finishes(log, id); len(got) != 1 {
			t.Errorf("%s finished %v in the journal, want once", id, got)
		}
	}
	ds := strings.Join(decisions(log), "\n")
	if !strings.Contains(ds, "switch rerun-interrupted by cy@seat-d") {
		t.Errorf("decisions:\n%s\nwant the rerun journaled as cy@seat-d's", ds)
	}
	var sessions []string
	for _, ev := range log.Events {
		switch {
		case ev.RunResume != nil:
			sessions = append(sessions, "resume by "+ev.RunResume.Operator)
		case ev.RunEnd != nil:
			sessions = append(sessions, "end "+ev.RunEnd.Result)
		}
	}
	want := "resume by temporal worker test-worker,end paused,resume by cy@seat-d,end passed"
	if got := strings.Join(sessions, ","); got != want {
		t.Errorf("sessions %s, want %s", got, want)
	}
}

// TestWorkflowWorkerCrashIdempotentStepRunsAgain: a log step (idempotent)
// cut short by the worker's death is run again by the next attempt
// without asking anyone, and the journal says why.
func TestWorkflowWorkerCrashIdempotentStepRunsAgain(t *testing.T) {
	f := newFixture(t, drill)
	f.in.Yes = true
	var once sync.Once
	f.acts.crashAt = func(ev journal.Event) bool {
		hit := false
		if ev.Type == journal.TypeStepStart && ev.Step == "hello" {
			once.Do(func() { hit = true })
		}
		return hit
	}
	f.answerWhenWaiting(time.Hour, "fix", "manual", Answer{Yes: true, Who: "bo", Seat: "seat-c", Inputs: map[string]string{"ticket": "INC-7"}}, nil)
	res := f.run()
	if res.Outcome != "passed" {
		t.Fatalf("outcome %s (%s)", res.Outcome, res.Cause)
	}
	log := f.journal(res)
	if got := strings.Join(finishes(log, "hello"), ","); got != "interrupted,ok" {
		t.Errorf("hello finished %s, want interrupted then ok", got)
	}
	if ds := strings.Join(decisions(log), "\n"); !strings.Contains(ds, "hello rerun-interrupted by drbook") {
		t.Errorf("decisions:\n%s\nwant drbook's rerun of the idempotent step", ds)
	}
	if got := strings.Join(f.markLines(), " "); got != "prepare gate switch last" {
		t.Errorf("marks %q", got)
	}
}

// TestStandbyWorkerWaitsForTheRunsHolder: two workers sharing a runs
// directory never write one journal at once; the second is refused (a
// retryable error, so Temporal tries again) until the first lets go, and
// then continues the same journal.
func TestStandbyWorkerWaitsForTheRunsHolder(t *testing.T) {
	f := newFixture(t, drill)
	var ts testsuite.WorkflowTestSuite
	first, standby := ts.NewTestActivityEnvironment(), ts.NewTestActivityEnvironment()
	f.acts.RegisterActivities(first)
	other := &Activities{RunsDir: f.runsDir, Identity: "standby", Site: plainSite{}}
	other.RegisterActivities(standby)
	if _, err := first.ExecuteActivity(ActivityOpen, f.in); err != nil {
		t.Fatal(err)
	}
	req := StepRequest{RunID: f.in.RunID, Input: f.in, Step: "prepare"}
	_, err := standby.ExecuteActivity(ActivityStep, req)
	if err == nil || !strings.Contains(err.Error(), "another process holds run") {
		t.Fatalf("the standby ran a step of a run the first worker holds: %v", err)
	}
	if got := f.markLines(); len(got) != 0 {
		t.Fatalf("marks %q: the refused step ran", got)
	}
	f.acts.Close() // the first worker stops cleanly: its session ends interrupted
	v, err := standby.ExecuteActivity(ActivityStep, req)
	if err != nil {
		t.Fatalf("after the first worker let go the standby is still refused: %v", err)
	}
	var out engine.StepOutcome
	v.Get(&out)
	if out.Status != engine.OutcomeOK || strings.Join(f.markLines(), " ") != "prepare" {
		t.Fatalf("standby's step: %+v, marks %q", out, f.markLines())
	}
	other.Close()
	log := f.journal(&Result{RunDir: filepath.Join(f.runsDir, f.in.RunID), Head: ""})
	var sessions []string
	for _, ev := range log.Events {
		switch {
		case ev.RunStart != nil:
			sessions = append(sessions, "start")
		case ev.RunResume != nil:
			sessions = append(sessions, "resume by "+ev.RunResume.Operator)
		case ev.RunEnd != nil:
			sessions = append(sessions, "end "+ev.RunEnd.Result)
		}
	}
	if got, want := strings.Join(sessions, ","), "start,end interrupted,resume by temporal worker standby,end interrupted"; got != want {
		t.Errorf("sessions %s, want %s", got, want)
	}
}
