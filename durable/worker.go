package durable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// Prepared is a runbook loaded at the worker against its site, with the
// engine configuration to run it and what to release when the session
// ends (the lab of a lab run).
type Prepared struct {
	Runbook *runbooks.Runbook
	Config  engine.Config
	Close   func()
	unlock  func()
}

// Site is the worker's side of a run: the site file, secrets, known
// hosts, and for a lab worker the lab of each run. Prepare loads the
// runbook file (in the run directory) against it; it is called once per
// session (a new run, or the same run after a worker restart).
type Site interface {
	Prepare(ctx context.Context, runDir, runbookFile string, in RunInput) (*Prepared, error)
}

// Activities are the worker's activities. One worker (or a standby that
// shares RunsDir) serves a site's task queue: the journal lives here.
type Activities struct {
	RunsDir string
	// Identity names this worker in the plan and in run.resume.
	Identity string
	Site     Site
	// AfterEnd, when set, is called with the run directory after the
	// journal was closed (the CLI writes the reports there).
	AfterEnd func(runDir string)
	// crashAt, for tests, makes Step behave as if the worker died right
	// after the event it matches was journaled.
	crashAt func(ev journal.Event) bool

	mu       sync.Mutex
	sessions map[string]*live
}

// live is an open session of a run at this worker.
type live struct {
	mu   sync.Mutex // one activity at a time per run
	ses  *engine.Session
	op   *seatOperator
	prep *Prepared
}

// Register registers the workflow and the activities with w.
func (a *Activities) Register(w worker.Registry) {
	w.RegisterWorkflowWithOptions(Workflow, workflowOptions())
	a.RegisterActivities(w)
}

// RegisterActivities registers the activities alone.
func (a *Activities) RegisterActivities(r worker.ActivityRegistry) {
	r.RegisterActivityWithOptions(a.Open, activityName(ActivityOpen))
	r.RegisterActivityWithOptions(a.Step, activityName(ActivityStep))
	r.RegisterActivityWithOptions(a.End, activityName(ActivityEnd))
}

// Close ends every open session as interrupted (a worker stopping
// cleanly); the run continues when a worker takes its next step.
func (a *Activities) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, l := range a.sessions {
		l.mu.Lock()
		l.ses.End("interrupted", "the worker stopped")
		l.prep.close()
		l.mu.Unlock()
		delete(a.sessions, id)
	}
}

func (p *Prepared) close() {
	if p != nil && p.Close != nil {
		p.Close()
	}
	if p != nil && p.unlock != nil {
		p.unlock()
		p.unlock = nil
	}
}

// holdLock keeps the run directory's lock until close.
func (p *Prepared) holdLock(release func()) { p.unlock = release }

func refused(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeRefused, nil)
}

func (a *Activities) runDir(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return "", refused("run id %q cannot name a run directory", id)
	}
	return filepath.Join(a.runsDir(), id), nil
}

func (a *Activities) runsDir() string {
	if a.RunsDir == "" {
		return "runs"
	}
	return a.RunsDir
}

// Open creates the run at this worker (run directory, runbook copy,
// journal with run.start) after the read-only preflight, and returns the
// plan. Called again for a run that exists here, it returns the plan
// without touching the journal.
func (a *Activities) Open(ctx context.Context, in RunInput) (*Plan, error) {
	dir, err := a.runDir(in.RunID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	l := a.sessions[in.RunID]
	a.mu.Unlock()
	if l != nil {
		return a.plan(l.prep.Runbook, dir), nil
	}
	if _, err := os.Stat(filepath.Join(dir, journal.FileName)); err == nil {
		// Opened by an earlier attempt whose answer was lost.
		l, err := a.session(ctx, in, "")
		if err != nil {
			return nil, err
		}
		return a.plan(l.prep.Runbook, dir), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, refused("cannot create the run directory %s at worker %s: %v (check --runs-dir)", dir, a.Identity, err)
	}
	release, err := lockRun(dir)
	if err != nil {
		return nil, err // retryable: the holder may let go
	}
	file := filepath.Join(dir, "runbook.yaml")
	if err := os.WriteFile(file, []byte(in.Source), 0o600); err != nil {
		release()
		return nil, refused("cannot write %s at worker %s: %v", file, a.Identity, err)
	}
	prep, err := a.Site.Prepare(ctx, dir, file, in)
	if err != nil {
		release()
		os.RemoveAll(dir)
		return nil, refused("%s at worker %s: %v", in.File, a.Identity, err)
	}
	prep.holdLock(release)
	op := &seatOperator{}
	cfg := a.config(prep.Config, in, op)
	if !in.NoPreflight {
		rep := engine.Preflight(ctx, prep.Runbook, cfg)
		if err := rep.Err(); err != nil {
			prep.close()
			os.RemoveAll(dir)
			var lines []string
			for _, c := range rep.Checks {
				if c.Result == engine.CheckFailed {
					lines = append(lines, fmt.Sprintf("  %s (%s): %s %s", c.Step, c.Kind, c.Detail, c.Hint))
				}
			}
			return nil, refused("the preflight at worker %s failed, nothing was changed: %v\n%s", a.Identity, err, strings.Join(lines, "\n"))
		}
		cfg.Preflight = rep
	}
	ses, err := engine.Begin(prep.Runbook, cfg)
	if err != nil {
		prep.close()
		return nil, refused("cannot start run %s at worker %s: %v", in.RunID, a.Identity, err)
	}
	a.keep(in.RunID, &live{ses: ses, op: op, prep: prep})
	return a.plan(prep.Runbook, dir), nil
}

func (a *Activities) config(cfg engine.Config, in RunInput, op *seatOperator) engine.Config {
	cfg.Operator = op
	cfg.OperatorName = in.Operator
	cfg.Machine = in.Machine
	if in.Mode != "" && cfg.Mode != "lab" {
		cfg.Mode = in.Mode
	}
	cfg.RunsDir = a.runsDir()
	dir, _ := a.runDir(in.RunID)
	cfg.RunDir = dir
	cfg.StepByStep = false
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	if a.crashAt != nil {
		cfg.Observer = crashObserver{next: cfg.Observer, at: a.crashAt}
	}
	cfg.Labels["backend"] = "temporal"
	cfg.Labels["temporal_worker"] = a.Identity
	return cfg
}

func (a *Activities) keep(id string, l *live) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions == nil {
		a.sessions = map[string]*live{}
	}
	a.sessions[id] = l
}

func (a *Activities) drop(id string, l *live) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sessions[id] == l {
		delete(a.sessions, id)
	}
}

// session is the run's open session here, or a new one continuing the
// journal (after a worker restart): rerunBy, when set, is the person who
// decided that an interrupted step may run again.
func (a *Activities) session(ctx context.Context, in RunInput, rerunBy string) (*live, error) {
	a.mu.Lock()
	l := a.sessions[in.RunID]
	a.mu.Unlock()
	if l != nil {
		return l, nil
	}
	dir, err := a.runDir(in.RunID)
	if err != nil {
		return nil, err
	}
	state, err := engine.ReadState(dir)
	if err != nil {
		// Retryable: the worker that holds this run may come back.
		return nil, fmt.Errorf("worker %s cannot continue run %s: %w; the run's journal lives at the worker that started it (same --runs-dir)", a.Identity, in.RunID, err)
	}
	release, err := lockRun(dir)
	if err != nil {
		return nil, err // retryable: the holder may let go
	}
	prep, err := a.Site.Prepare(ctx, dir, filepath.Join(dir, "runbook.yaml"), in)
	if err != nil {
		release()
		return nil, refused("%s at worker %s: %v", in.File, a.Identity, err)
	}
	prep.holdLock(release)
	op := &seatOperator{}
	cfg := a.config(prep.Config, in, op)
	cfg.OperatorName = "temporal worker " + a.Identity
	if rerunBy != "" {
		cfg.OperatorName = rerunBy
		cfg.RerunInterrupted = true
	}
	ses, err := state.Reopen(prep.Runbook, cfg)
	if err != nil {
		prep.close()
		if errors.Is(err, engine.ErrFinished) {
			return nil, refused("run %s has already ended at worker %s (%s)", in.RunID, a.Identity, state.Status())
		}
		return nil, refused("cannot continue run %s at worker %s: %v", in.RunID, a.Identity, err)
	}
	l = &live{ses: ses, op: op, prep: prep}
	a.keep(in.RunID, l)
	return l, nil
}

// Step runs one top-level step with the engine (its retry, until,
// timeout, parallel branches, confirmation and journal), heartbeating
// while it runs. A step that stops in a state only a person can judge
// ends the session as paused, and the workflow asks.
func (a *Activities) Step(ctx context.Context, req StepRequest) (out engine.StepOutcome, err error) {
	rerunBy := ""
	if req.Rerun && req.Answer != nil {
		rerunBy = req.Answer.Who + "@" + req.Answer.Seat
	}
	l, err := a.session(ctx, req.Input, rerunBy)
	if err != nil {
		return out, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	stop := heartbeat(ctx, req.Step)
	defer stop()
	l.op.set(req.Step, req.Answer)
	defer l.op.set("", nil)
	if a.crashAt != nil {
		defer func() {
			if p := recover(); p != nil {
				// What a killed worker leaves: a journal whose last
				// step started, an open session nobody ends.
				l.ses.Abandon()
				l.prep.close()
				a.drop(req.RunID, l)
				err = temporal.NewApplicationError(fmt.Sprint(p), "WorkerLost")
			}
		}()
	}
	out, err = l.ses.Step(ctx, req.Step)
	if err != nil {
		if errors.Is(err, engine.ErrUnknownStep) {
			return out, refused("%v", err)
		}
		// The journal could not be written: nothing more may happen
		// unrecorded at this worker.
		l.ses.Abandon()
		l.prep.close()
		a.drop(req.RunID, l)
		return out, refused("run %s at worker %s: %v", req.RunID, a.Identity, err)
	}
	switch out.Status {
	case engine.OutcomeNeedsDecision:
		// As a local run does: the session ends paused, and a person's
		// decision reopens it.
		l.ses.End("paused", out.Error)
		l.prep.close()
		a.drop(req.RunID, l)
	case engine.OutcomeInterrupted:
		// The activity was cancelled (the worker stops): the journal
		// says so, and the retry continues from it.
		l.ses.End("interrupted", out.Error)
		l.prep.close()
		a.drop(req.RunID, l)
		return out, fmt.Errorf("step %s was interrupted at worker %s: %s", req.Step, a.Identity, out.Error)
	}
	return out, nil
}

// End journals the run's end and closes the journal.
func (a *Activities) End(ctx context.Context, req EndRequest) (*EndResult, error) {
	dir, err := a.runDir(req.RunID)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	l := a.sessions[req.RunID]
	a.mu.Unlock()
	if l == nil {
		// A retry whose first attempt ended the run, or a worker that
		// restarted between the last step and the end.
		if st, err := engine.ReadState(dir); err == nil && st.LastEnd != nil && st.LastEnd.Result == req.Outcome {
			return &EndResult{RunDir: dir, Head: st.Log.Head}, nil
		}
		if l, err = a.session(ctx, req.Input, ""); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	res, err := l.ses.End(req.Outcome, req.Cause)
	l.prep.close()
	a.drop(req.RunID, l)
	if err != nil {
		return nil, refused("cannot end run %s at worker %s: %v", req.RunID, a.Identity, err)
	}
	if a.AfterEnd != nil {
		a.AfterEnd(res.RunDir)
	}
	return &EndResult{RunDir: res.RunDir, Head: res.Head}, nil
}

// plan lists the top-level steps and what each needs from a person.
func (a *Activities) plan(rb *runbooks.Runbook, dir string) *Plan {
	p := &Plan{RunDir: dir, Worker: a.Identity}
	if rb.Site != nil {
		p.Site = rb.Site.Name
	}
	for _, list := range [][]*runbooks.Step{rb.Steps, rb.OnFailure, rb.Finally} {
		for _, st := range list {
			ps := PlanStep{ID: st.ID, Name: st.Name.In("en"), Kind: st.KindName, Block: st.Block, Bound: bound(st)}
			if ps.Kind == "" {
				ps.Kind = "parallel"
			}
			walk(st, func(s *runbooks.Step) {
				ps.Confirm = ps.Confirm || s.Confirm
				if s.KindName == "manual" {
					ps.Manual = true
					if mp, ok := s.Params.(*control.ManualParams); ok && s.Static {
						ps.InputsKnown = true
						for _, in := range mp.Inputs {
							ps.Inputs = append(ps.Inputs, in.Name)
						}
					}
				}
			})
			p.Steps = append(p.Steps, ps)
		}
	}
	return p
}

func walk(st *runbooks.Step, fn func(*runbooks.Step)) {
	fn(st)
	for _, c := range st.Parallel {
		walk(c, fn)
	}
}

// heartbeat tells Temporal the worker is alive until stop is called: a
// worker that dies stops heartbeating, and the step's activity is given
// to the next worker after HeartbeatTimeout.
func heartbeat(ctx context.Context, step string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(HeartbeatEvery)
		defer t.Stop()
		for {
			activity.RecordHeartbeat(ctx, step)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done) }
}

// seatOperator answers the engine's questions during one step with the
// answer the workflow collected before the step's activity began.
type seatOperator struct {
	mu     sync.Mutex
	step   string
	answer *Answer
}

func (o *seatOperator) set(step string, a *Answer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.step, o.answer = step, a
}

func (o *seatOperator) get() *Answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.answer
}

// who is the answer's author and seat, as journaled.
func (a *Answer) who() string {
	if a.Seat == "" {
		return a.Who
	}
	return a.Who + "@" + a.Seat
}

func (a *Answer) reason() string {
	r := fmt.Sprintf("answered through Temporal by %s from %s after %s", a.Who, a.Seat, a.AnsweredAt.Sub(a.AskedAt).Round(time.Millisecond))
	if a.Reason != "" {
		r += ": " + a.Reason
	}
	return r
}

// Confirm returns the collected answer; a confirmation nobody was asked
// for is not granted.
func (o *seatOperator) Confirm(ctx context.Context, st engine.StepInfo) (engine.Decision, error) {
	a := o.get()
	if a == nil {
		return engine.Decision{Action: "skip", Who: "drbook", Reason: "no answer reached the worker for this confirmation (Temporal backend)"}, nil
	}
	d := engine.Decision{Action: "skip", Who: a.who(), Reason: a.reason()}
	switch {
	case a.Abort:
		d.Action = "abort"
	case a.Yes:
		d.Action = "run"
	}
	return d, nil
}

// Failed lets the runbook's policy decide: in this backend a person is
// asked only before a step and after an unknown outcome.
func (o *seatOperator) Failed(context.Context, engine.StepInfo, error) (engine.Decision, error) {
	return engine.Decision{Action: "fail"}, nil
}

// Ask serves a manual step from the collected answer; inputs are typed
// by the step's declaration.
func (o *seatOperator) Ask(ctx context.Context, st engine.StepInfo, q steps.Question) (steps.Answer, error) {
	a := o.get()
	if a == nil {
		return steps.Answer{}, steps.ErrNoOperator
	}
	ans := steps.Answer{Who: a.who(), Done: a.Yes, Inputs: map[string]any{}}
	for _, in := range q.Inputs {
		s, ok := a.Inputs[in.Name]
		if !ok {
			continue
		}
		v, err := typed(in.Type, s)
		if err != nil {
			return ans, fmt.Errorf("input %s=%q from %s: %w; answer again with `drbook decide … --input %s=VALUE`", in.Name, s, a.who(), err, in.Name)
		}
		ans.Inputs[in.Name] = v
	}
	if a.Yes {
		for range q.Checklist {
			ans.Checked = append(ans.Checked, a.AnsweredAt)
		}
	}
	return ans, nil
}

func typed(typ, s string) (any, error) {
	switch typ {
	case "int":
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("not a whole number")
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("not true or false")
		}
		return v, nil
	case "duration":
		v, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("not a duration such as 90s or 5m")
		}
		return v.String(), nil
	}
	return s, nil
}

func workflowOptions() workflow.RegisterOptions { return workflow.RegisterOptions{Name: WorkflowName} }

func activityName(n string) activity.RegisterOptions { return activity.RegisterOptions{Name: n} }

// crashObserver stops the step's goroutine (as a killed worker would)
// right after the event matched was journaled.
type crashObserver struct {
	next engine.Observer
	at   func(journal.Event) bool
}

func (c crashObserver) Event(ev journal.Event) {
	if c.next != nil {
		c.next.Event(ev)
	}
	if c.at(ev) {
		panic(fmt.Sprintf("the worker died after journaling %s of %s", ev.Type, ev.Step))
	}
}

func (c crashObserver) Progress(step, text string) {
	if c.next != nil {
		c.next.Progress(step, text)
	}
}
