// Package durable runs a runbook as a Temporal workflow: the workflow
// (on the Temporal server, surviving the starting machine) decides which
// top-level step runs next and waits for people's answers, and a worker
// at the site runs each step as an activity with the local engine, so the
// journal (same format, same hash chain) is written in the worker's run
// directory as the steps complete.
//
// What the workflow history holds: the runbook's text, its --var values,
// the plan (step ids, names, kinds), the answers (who, from where, inputs
// typed at decide) and each step's outcome and error text with the
// run's secrets hidden. Secrets are resolved at the worker and never
// leave it.
//
// Retries and timeouts: a runbook's retry:, until: and timeout: are run
// by the engine inside the step's activity, each attempt journaled as in
// a local run. Temporal's own retry covers only the loss of the worker
// (heartbeat timeout, crash): the retried activity re-enters through the
// journal, where a finished step is never run again and an interrupted
// step is run again only when its kind is idempotent; a step whose
// outcome is unknown (steps.ErrMayStillRun, a non-idempotent
// steps.ErrOutcomeUnknown) waits for a person's decision instead.
package durable

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/drbook/drbook/engine"
)

// Names registered with Temporal.
const (
	WorkflowName     = "drbook.Runbook"
	ActivityOpen     = "drbook.Open"
	ActivityStep     = "drbook.Step"
	ActivityEnd      = "drbook.End"
	UpdateDecide     = "decide"
	QueryProgress    = "progress"
	DefaultTaskQueue = "drbook"
)

// TaskQueue is the default task queue of a site: one worker (or a
// standby sharing its runs directory) per site serves it.
func TaskQueue(site string) string {
	if site == "" {
		return DefaultTaskQueue
	}
	return DefaultTaskQueue + "-" + site
}

// RunInput starts a workflow: the runbook's text travels in the history
// (it holds secret references, never values), the worker loads it
// against its own site file.
type RunInput struct {
	RunID       string            `json:"run_id"`
	File        string            `json:"file"`
	Source      string            `json:"source"`
	Vars        map[string]string `json:"vars,omitempty"`
	Operator    string            `json:"operator"`
	Machine     string            `json:"machine"`
	Mode        string            `json:"mode,omitempty"`
	Yes         bool              `json:"yes,omitempty"`
	NoPreflight bool              `json:"no_preflight,omitempty"`
}

// PlanStep is a top-level step as the workflow sees it.
type PlanStep struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Block string `json:"block"`
	// Confirm is set when the step or a step inside it asks for a
	// confirmation; Manual when it is (or holds) a manual step.
	Confirm bool     `json:"confirm,omitempty"`
	Manual  bool     `json:"manual,omitempty"`
	Inputs  []string `json:"inputs,omitempty"`
	// InputsKnown: Inputs were read at load time (a manual step whose
	// parameters are interpolated at run time is checked by the worker).
	InputsKnown bool `json:"inputs_known,omitempty"`
	// Bound is the longest the step may run by its timeout:, retry: and
	// until:, 0 when unbounded.
	Bound time.Duration `json:"bound,omitempty"`
}

// Plan is what Open returns.
type Plan struct {
	RunDir string     `json:"run_dir"`
	Site   string     `json:"site"`
	Worker string     `json:"worker"`
	Steps  []PlanStep `json:"steps"`
}

// Answer is one person's answer to what a step waits for.
type Answer struct {
	Step string `json:"step"`
	// Yes: run the step, the manual step is done, run the interrupted
	// step again. No: skip it, the manual step is not done, leave the
	// interrupted step to `drbook resume` (the run pauses).
	Yes    bool              `json:"yes"`
	Abort  bool              `json:"abort,omitempty"`
	Inputs map[string]string `json:"inputs,omitempty"`
	Who    string            `json:"who"`
	Seat   string            `json:"seat"`
	Reason string            `json:"reason,omitempty"`
	// AskedAt and AnsweredAt are the workflow's clock (set by it).
	AskedAt    time.Time `json:"asked_at"`
	AnsweredAt time.Time `json:"answered_at"`
}

// Waiting is what the run waits for a person to answer.
type Waiting struct {
	Step  string    `json:"step"`
	Name  string    `json:"name"`
	Kind  string    `json:"kind"`
	What  string    `json:"what"` // confirm, manual, rerun-interrupted
	Since time.Time `json:"since"`
	// Why is the interruption's explanation (rerun-interrupted).
	Why         string   `json:"why,omitempty"`
	Inputs      []string `json:"inputs,omitempty"`
	InputsKnown bool     `json:"inputs_known,omitempty"`
}

// StepRequest asks the worker to run one top-level step.
type StepRequest struct {
	RunID  string   `json:"run_id"`
	Input  RunInput `json:"input"`
	Step   string   `json:"step"`
	Answer *Answer  `json:"answer,omitempty"`
	// Rerun: a person decided the interrupted step may run again.
	Rerun bool `json:"rerun,omitempty"`
}

// EndRequest closes the run's session at the worker.
type EndRequest struct {
	RunID   string   `json:"run_id"`
	Input   RunInput `json:"input"`
	Outcome string   `json:"outcome"`
	Cause   string   `json:"cause,omitempty"`
}

// EndResult is the closed journal.
type EndResult struct {
	RunDir string `json:"run_dir"`
	Head   string `json:"head"`
}

// StepState is one step's line in the progress.
type StepState struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Block    string `json:"block"`
	Status   string `json:"status"` // pending, waiting, running, ok, failed, aborted, needs-decision
	Error    string `json:"error,omitempty"`
	Replayed bool   `json:"replayed,omitempty"`
	Attempts int    `json:"attempts,omitempty"` // activity attempts that reported (a retry after a lost worker adds one)
}

// Progress is the workflow's state, as the query returns it.
type Progress struct {
	RunID   string      `json:"run_id"`
	RunDir  string      `json:"run_dir,omitempty"`
	Site    string      `json:"site,omitempty"`
	Worker  string      `json:"worker,omitempty"`
	Phase   string      `json:"phase"` // opening, running, ended
	Steps   []StepState `json:"steps"`
	Waiting *Waiting    `json:"waiting,omitempty"`
	Answers []Answer    `json:"answers,omitempty"`
	Outcome string      `json:"outcome,omitempty"`
	Cause   string      `json:"cause,omitempty"`
	Head    string      `json:"head,omitempty"`
}

// Result is the workflow's result.
type Result struct {
	Outcome string `json:"outcome"`
	Cause   string `json:"cause,omitempty"`
	RunDir  string `json:"run_dir"`
	Head    string `json:"head"`
}

// Error types the workflow does not retry.
const (
	ErrTypeRefused = "DrbookRefused" // the run cannot start or go on at this worker
)

// Activity options. The heartbeat timeout is how soon a dead worker is
// noticed; start-to-close is only a backstop far beyond any step's own
// bound, because an activity timed out while still running at a live
// worker would be handed to another.
const (
	HeartbeatTimeout = 20 * time.Second
	HeartbeatEvery   = 2 * time.Second
	stepBackstop     = 48 * time.Hour
)

// activityOptions are a step's activity options; bound is the step's
// own bound (0: the backstop).
func activityOptions(ctx workflow.Context, bound time.Duration) workflow.Context {
	timeout := stepBackstop
	if bound > 0 {
		timeout = bound + stepGrace
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		HeartbeatTimeout:    HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        0, // a lost worker is waited for
			NonRetryableErrorTypes: []string{ErrTypeRefused},
		},
	})
}

// Workflow runs the runbook: steps in order, on_failure after a failure,
// finally always (unless a step waits for a decision, which pauses the
// run as the local engine does), each step an activity at the site's
// worker. Confirmations, manual steps and interrupted steps wait for an
// Answer sent as the "decide" update.
func Workflow(ctx workflow.Context, in RunInput) (*Result, error) {
	w := &wf{in: in, prog: Progress{RunID: in.RunID, Phase: "opening"}, answers: map[string]*Answer{}}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) { return w.snapshot(), nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, w.decide, workflow.UpdateHandlerOptions{Validator: w.validate}); err != nil {
		return nil, err
	}
	actx := activityOptions(ctx, 0)
	var plan Plan
	if err := workflow.ExecuteActivity(actx, ActivityOpen, in).Get(ctx, &plan); err != nil {
		w.prog.Phase, w.prog.Outcome, w.prog.Cause = "ended", "refused", rootMessage(err)
		return nil, err
	}
	w.plan = plan
	w.prog.RunDir, w.prog.Site, w.prog.Worker, w.prog.Phase = plan.RunDir, plan.Site, plan.Worker, "running"
	for _, ps := range plan.Steps {
		w.prog.Steps = append(w.prog.Steps, StepState{ID: ps.ID, Name: ps.Name, Block: ps.Block, Status: "pending"})
	}

	outcome, cause := "passed", ""
	for _, ps := range w.block("steps") {
		st, err := w.runStep(ctx, actx, ps)
		if err != nil {
			return nil, err
		}
		if st.Status == engine.OutcomeOK {
			continue
		}
		outcome, cause = outcomeOf(st.Status), st.Error
		break
	}
	if outcome == "failed" {
		for _, ps := range w.block("on_failure") {
			st, err := w.runStep(ctx, actx, ps)
			if err != nil {
				return nil, err
			}
			if st.Status == engine.OutcomeNeedsDecision {
				outcome, cause = "paused", st.Error
				break
			}
			if st.Status != engine.OutcomeOK {
				break
			}
		}
	}
	if outcome != "paused" {
		for _, ps := range w.block("finally") {
			st, err := w.runStep(ctx, actx, ps)
			if err != nil {
				return nil, err
			}
			if st.Status == engine.OutcomeOK {
				continue
			}
			if outcome == "passed" || st.Status == engine.OutcomeNeedsDecision {
				outcome, cause = outcomeOf(st.Status), st.Error
			}
			break
		}
	}
	res := &Result{Outcome: outcome, Cause: cause, RunDir: plan.RunDir}
	if outcome != "paused" {
		// A paused session was ended at the worker when the step
		// stopped; the run goes on with `drbook resume` there.
		var end EndResult
		if err := workflow.ExecuteActivity(actx, ActivityEnd, EndRequest{RunID: in.RunID, Input: in, Outcome: outcome, Cause: cause}).Get(ctx, &end); err != nil {
			return nil, err
		}
		res.Head = end.Head
	}
	w.prog.Phase, w.prog.Outcome, w.prog.Cause, w.prog.Head = "ended", outcome, cause, res.Head
	// Let a decide that raced the end finish cleanly.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	return res, nil
}

func outcomeOf(status string) string {
	switch status {
	case engine.OutcomeAborted:
		return "aborted"
	case engine.OutcomeNeedsDecision, engine.OutcomeInterrupted:
		return "paused"
	}
	return "failed"
}

type wf struct {
	in      RunInput
	plan    Plan
	prog    Progress
	answers map[string]*Answer
}

func (w *wf) snapshot() Progress {
	p := w.prog
	p.Steps = append([]StepState(nil), w.prog.Steps...)
	p.Answers = append([]Answer(nil), w.prog.Answers...)
	return p
}

func (w *wf) block(name string) []PlanStep {
	var out []PlanStep
	for _, ps := range w.plan.Steps {
		if ps.Block == name {
			out = append(out, ps)
		}
	}
	return out
}

func (w *wf) state(id string) *StepState {
	for i := range w.prog.Steps {
		if w.prog.Steps[i].ID == id {
			return &w.prog.Steps[i]
		}
	}
	return &StepState{}
}

// runStep asks what the step needs from a person, runs it at the worker,
// and, when it stopped in a state only a person can judge, asks whether
// to run it again.
func (w *wf) runStep(ctx, actx workflow.Context, ps PlanStep) (engine.StepOutcome, error) {
	var ans *Answer
	switch {
	case ps.Manual:
		a, err := w.ask(ctx, Waiting{Step: ps.ID, Name: ps.Name, Kind: ps.Kind, What: "manual", Inputs: ps.Inputs, InputsKnown: ps.InputsKnown})
		if err != nil {
			return engine.StepOutcome{}, err
		}
		ans = a
	case ps.Confirm && w.in.Yes:
		now := workflow.Now(ctx)
		ans = &Answer{Step: ps.ID, Yes: true, Who: w.in.Operator, Seat: w.in.Machine, Reason: "--yes", AskedAt: now, AnsweredAt: now}
	case ps.Confirm:
		a, err := w.ask(ctx, Waiting{Step: ps.ID, Name: ps.Name, Kind: ps.Kind, What: "confirm"})
		if err != nil {
			return engine.StepOutcome{}, err
		}
		ans = a
	}
	rerun := false
	for {
		st := w.state(ps.ID)
		st.Status = "running"
		var out engine.StepOutcome
		req := StepRequest{RunID: w.in.RunID, Input: w.in, Step: ps.ID, Answer: ans, Rerun: rerun}
		if err := workflow.ExecuteActivity(activityOptions(ctx, ps.Bound), ActivityStep, req).Get(ctx, &out); err != nil {
			st.Status, st.Error = "failed", rootMessage(err)
			return engine.StepOutcome{}, err
		}
		st.Attempts++
		st.Status, st.Error, st.Replayed = out.Status, out.Error, out.Replayed
		if out.Status != engine.OutcomeNeedsDecision {
			return out, nil
		}
		// The worker ended its session as paused. A person checks the
		// target and says whether it may run again.
		a, err := w.ask(ctx, Waiting{Step: ps.ID, Name: ps.Name, Kind: ps.Kind, What: "rerun-interrupted", Why: out.Error})
		if err != nil {
			return engine.StepOutcome{}, err
		}
		if !a.Yes {
			out.Error = fmt.Sprintf("%s; %s chose not to run it again from %s: continue with `drbook resume %s` at the site", out.Error, a.Who, a.Seat, w.plan.RunDir)
			return out, nil
		}
		// The first answer was about starting the step; the run goes on
		// with the person's decision to run it again.
		ans, rerun = a, true
	}
}

// ask publishes what the step waits for and blocks until the decide
// update answers it.
func (w *wf) ask(ctx workflow.Context, q Waiting) (*Answer, error) {
	q.Since = workflow.Now(ctx)
	w.prog.Waiting = &q
	w.state(q.Step).Status = "waiting"
	delete(w.answers, q.Step)
	if err := workflow.Await(ctx, func() bool { return w.answers[q.Step] != nil }); err != nil {
		return nil, err
	}
	a := w.answers[q.Step]
	delete(w.answers, q.Step)
	w.prog.Waiting = nil
	a.AskedAt = q.Since
	w.prog.Answers = append(w.prog.Answers, *a)
	return a, nil
}

// validate refuses an answer nobody asked for, so that `drbook decide`
// tells its user at once.
func (w *wf) validate(a Answer) error {
	q := w.prog.Waiting
	if q == nil {
		return fmt.Errorf("run %s is not waiting for an answer now (phase %s); `drbook run --temporal … --follow %s` shows what it does", w.in.RunID, w.prog.Phase, w.in.RunID)
	}
	if a.Step != q.Step {
		return fmt.Errorf("run %s waits for step %s (%s), not %s; answer that step", w.in.RunID, q.Step, q.What, a.Step)
	}
	if strings.TrimSpace(a.Who) == "" {
		return errors.New("the answer does not say who answers; pass --as NAME")
	}
	if len(a.Inputs) > 0 && q.What != "manual" {
		return fmt.Errorf("step %s is a %s, which takes no --input", q.Step, q.What)
	}
	if q.What == "manual" && q.InputsKnown {
		known := map[string]bool{}
		for _, n := range q.Inputs {
			known[n] = true
		}
		var unknown []string
		for k := range a.Inputs {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		if len(unknown) > 0 {
			return fmt.Errorf("step %s has no input %s (its inputs: %s)", q.Step, strings.Join(unknown, ", "), strings.Join(q.Inputs, ", "))
		}
	}
	if a.Abort && q.What != "confirm" {
		return fmt.Errorf("--abort answers a confirmation; step %s waits for a %s answer (--yes or --no)", q.Step, q.What)
	}
	return nil
}

func (w *wf) decide(ctx workflow.Context, a Answer) (string, error) {
	if err := w.validate(a); err != nil {
		return "", err
	}
	a.AnsweredAt = workflow.Now(ctx)
	w.answers[a.Step] = &a
	return fmt.Sprintf("answered %s of step %s in run %s", w.prog.Waiting.What, a.Step, w.in.RunID), nil
}

// rootMessage is an activity error's own message, without the SDK's
// wrapping.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
