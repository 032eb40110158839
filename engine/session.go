package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
)

// Session is a run whose top-level steps a caller drives one at a time
// instead of Start or Resume running them all: the durable (Temporal)
// backend runs each step as an activity, and its workflow decides the
// order, on_failure and finally. Everything below the top level (retry,
// until, timeout, parallel groups, fan-out, confirmation, the journal)
// is the engine's own, so a step behaves as it does in a local run.
//
// The monitors run from Begin or Reopen to End. A step finished in this
// session or journaled by an earlier one is never run again by Step.
type Session struct {
	r      *run
	mon    *monitors
	cancel context.CancelFunc
	mu     sync.Mutex
	done   map[string]StepOutcome
	ended  bool
}

// StepOutcome is how one top-level step ended, as Session.Step reports it.
type StepOutcome struct {
	// Status is ok (also: skipped, done by hand, failed with
	// continue_on_error), failed, aborted, needs-decision (interrupted
	// and not safe to run again without a person) or interrupted (the
	// context was cancelled).
	Status string
	// Error is the step's error, with the run's secrets hidden.
	Error string
	// Replayed is true when the step was not run because the journal
	// already held its finish.
	Replayed bool
}

// Step outcomes.
const (
	OutcomeOK            = "ok"
	OutcomeFailed        = "failed"
	OutcomeAborted       = "aborted"
	OutcomeNeedsDecision = "needs-decision"
	OutcomeInterrupted   = "interrupted"
)

// Begin creates the run directory and journal for rb, journals the run's
// start and starts the monitors; no step runs until Step.
func Begin(rb *runbooks.Runbook, cfg Config) (*Session, error) {
	r, err := begin(rb, cfg)
	if err != nil {
		return nil, err
	}
	return newSession(r), nil
}

// Reopen continues the run of s as a session (journaled as a run.resume,
// as Resume does): steps journaled as finished are replayed, never run
// again, and an interrupted step is run again only when its kind is
// idempotent or cfg.RerunInterrupted says a person checked its target. A
// run that already ended returns ErrFinished.
func (s *State) Reopen(rb *runbooks.Runbook, cfg Config) (*Session, error) {
	r, _, err := s.reopen(rb, cfg, ResumeOptions{})
	if r == nil {
		return nil, err
	}
	ses := newSession(r)
	// The caller goes on from where the last session stopped: the steps
	// before it are replayed now, in their declared order, so that later
	// expressions see their results as they would in one session.
	for _, list := range [][]*runbooks.Step{rb.Steps, rb.OnFailure, rb.Finally} {
		for _, st := range list {
			fin, ok := r.recorded[st.ID]
			if !ok {
				continue
			}
			o := StepOutcome{Status: OutcomeOK, Replayed: true}
			if err := r.replay(st, fin); err != nil {
				o.Status, o.Error = OutcomeFailed, r.redacted(err).Error()
			}
			ses.done[st.ID] = o
		}
	}
	return ses, nil
}

func newSession(r *run) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	return &Session{r: r, mon: r.startMonitors(ctx), cancel: cancel, done: map[string]StepOutcome{}}
}

// Dir is the run directory; RunID its id.
func (s *Session) Dir() string   { return s.r.dir }
func (s *Session) RunID() string { return s.r.id }

// Head is the journal's current hash.
func (s *Session) Head() string { return s.r.w.Head() }

// topStep finds a step declared at the top of steps, on_failure or
// finally.
func (s *Session) topStep(id string) *runbooks.Step {
	for _, list := range [][]*runbooks.Step{s.r.rb.Steps, s.r.rb.OnFailure, s.r.rb.Finally} {
		for _, st := range list {
			if st.ID == id {
				return st
			}
		}
	}
	return nil
}

// Step runs the top-level step id, or replays its journaled outcome. The
// error is non-nil only when the step cannot be run at all (unknown id,
// session ended) or the journal could not be written.
func (s *Session) Step(ctx context.Context, id string) (StepOutcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return StepOutcome{}, i18n.Errorf("the session of run %s has ended", "執行編號 %s 之工作階段已結束", s.r.id)
	}
	if o, ok := s.done[id]; ok {
		o.Replayed = true
		return o, nil
	}
	st := s.topStep(id)
	if st == nil {
		return StepOutcome{}, i18n.Errorf("%w: %q is not a top-level step of runbook %s", "%w：%q 不是演練手冊 %s 最上層之步驟", ErrUnknownStep, id, s.r.rb.Name)
	}
	_, replayed := s.r.recorded[id]
	err := s.r.step(ctx, st)
	o := StepOutcome{Status: OutcomeOK, Replayed: replayed}
	switch {
	case err == nil:
	case isFatal(err):
		return StepOutcome{}, err
	case errors.Is(err, ErrAborted):
		o.Status = OutcomeAborted
	case errors.Is(err, ErrNeedsDecision):
		o.Status = OutcomeNeedsDecision
	case errors.Is(err, ErrInterrupted) || ctx.Err() != nil:
		o.Status = OutcomeInterrupted
	default:
		o.Status = OutcomeFailed
	}
	if err != nil {
		o.Error = s.r.redacted(err).Error()
	}
	if o.Status == OutcomeOK || o.Status == OutcomeFailed || o.Status == OutcomeAborted {
		s.done[id] = o
	}
	return o, nil
}

// End stops the monitors, journals the session's end with outcome
// (passed, failed, aborted, paused, interrupted) and closes the journal.
// cause is the error that decided the outcome, if any.
func (s *Session) End(outcome, cause string) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, i18n.Errorf("the session of run %s has already ended", "執行編號 %s 之工作階段已結束", s.r.id)
	}
	s.ended = true
	s.mon.stop()
	s.cancel()
	end := &journal.RunEnd{Result: outcome, Duration: journal.Duration(s.r.cfg.now().Sub(s.r.started)), Error: s.r.w.Scrub(cause)}
	jerr := s.r.mustAppend(journal.Event{Type: journal.TypeRunEnd, RunEnd: end})
	s.r.closeShared()
	res := &Result{RunDir: s.r.dir, RunID: s.r.id, Outcome: outcome, Head: s.r.w.Head()}
	if cerr := s.r.w.Close(); jerr == nil {
		jerr = cerr
	}
	return res, jerr
}

// Abandon stops the session without journaling its end, as a crash
// would leave it: the next Reopen records the interruption. A worker
// uses it when it must let go of a run it cannot finish.
func (s *Session) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	s.mon.stop()
	s.cancel()
	s.r.closeShared()
	s.r.w.Close()
}
