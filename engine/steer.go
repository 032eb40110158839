package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// ErrPaused means the operator paused the run between steps (or stopped
// the running step and paused). The run is not over: `drbook resume`
// continues it. It is also an ErrNeedsDecision, because a paused run, like
// one held by an interrupted step, waits for a person (exit 3).
var ErrPaused error = pausedError{}

type pausedError struct{}

// pausedWords are a pause's words in both languages, for i18n.In.
var pausedWords = i18n.New("paused by the operator", "操作人員已暫停演練")

func (pausedError) Error() string { return pausedWords.Error() }
func (pausedError) Unwrap() error { return pausedWords }

// Is makes a pause count as a run waiting for the operator's decision.
func (pausedError) Is(target error) bool { return target == ErrNeedsDecision }

// Steering lets a person steer a run from outside the step flow, as the
// guided view does on Ctrl-C: pause before the next step, or stop the
// running step now and pause. Every request is journaled as a decision the
// moment the run knows it. The zero value is not usable; use NewSteering.
// Its methods are safe for concurrent use.
type Steering struct {
	mu      sync.Mutex
	run     *run
	pending []journal.Decision
	pause   bool
	abort   bool
	running map[string]context.CancelFunc
}

// NewSteering returns a Steering to pass in Config.Steering.
func NewSteering() *Steering {
	return &Steering{running: map[string]context.CancelFunc{}}
}

// RequestPause asks the run to stop before its next step starts; the
// steps running now finish first. It is journaled as a "pause" decision.
func (s *Steering) RequestPause(who, reason string) {
	s.mu.Lock()
	s.pause = true
	s.mu.Unlock()
	s.journal(journal.Decision{Who: who, Action: "pause", Reason: reason})
}

// CancelRunning stops the running step instances now (each is journaled
// as cancelled, so resume treats it as interrupted) and pauses the run.
// It is journaled as a "cancel-step" decision.
func (s *Steering) CancelRunning(who, reason string) {
	s.mu.Lock()
	s.pause = true
	cancels := make([]context.CancelFunc, 0, len(s.running))
	for _, c := range s.running {
		cancels = append(cancels, c)
	}
	s.mu.Unlock()
	s.journal(journal.Decision{Who: who, Action: "cancel-step", Reason: reason})
	for _, c := range cancels {
		c()
	}
}

// GoOn withdraws a pause that has not taken effect yet.
func (s *Steering) GoOn(who, reason string) {
	s.mu.Lock()
	s.pause = false
	s.mu.Unlock()
	s.journal(journal.Decision{Who: who, Action: "go-on", Reason: reason})
}

// PauseRequested reports whether a pause is pending.
func (s *Steering) PauseRequested() bool {
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pause
}

// journal records d now when the run is bound, or when it binds.
func (s *Steering) journal(d journal.Decision) {
	s.mu.Lock()
	r := s.run
	if r == nil {
		s.pending = append(s.pending, d)
	}
	s.mu.Unlock()
	if r != nil {
		r.append(journal.Event{Type: journal.TypeDecision, Decision: &d})
	}
}

// bind attaches the steering to a run session.
func (s *Steering) bind(r *run) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.run = r
	pending := s.pending
	s.pending = nil
	if s.abort {
		r.aborted.Store(true)
	}
	s.mu.Unlock()
	for _, d := range pending {
		r.append(journal.Event{Type: journal.TypeDecision, Decision: &d})
	}
}

// stepContext gives a step instance a context the operator can cancel
// without cancelling the run (its monitors keep measuring the outage).
//
// An instance of steps or on_failure (stoppable) registered after an
// abort is stopped at once; finally's run after the abort, as they must.
func (s *Steering) stepContext(ctx context.Context, id string, stoppable bool) (context.Context, func()) {
	if s == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.running[id] = cancel
	aborted := s.abort && stoppable
	s.mu.Unlock()
	if aborted {
		// The abort came after block looked and before this instance
		// was registered (a fleet's --fail-fast aborts from another
		// goroutine at any moment): it is stopped like one that ran.
		cancel()
	}
	return ctx, func() {
		s.mu.Lock()
		delete(s.running, id)
		s.mu.Unlock()
		cancel()
	}
}

// pausedAt turns the interruption of a step the operator stopped into a
// pause, as long as the run itself was not cancelled.
func (s *Steering) pausedAt(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !s.PauseRequested() || !errors.Is(err, ErrInterrupted) {
		return err
	}
	return i18n.Errorf("%w: the running step was stopped", "%w：已停止執行中步驟", ErrPaused)
}

// Abort ends the run as aborted by the operator, as [a]bort at a prompt
// does (guided mode's second Ctrl-C): the running step instances are
// stopped now (journaled cancelled), no further step of steps starts,
// and finally, the recovery, is offered. It is journaled as an "abort"
// decision; a pending pause is withdrawn, since the run ends instead.
func (s *Steering) Abort(who, reason string) {
	s.mu.Lock()
	s.pause, s.abort = false, true
	r := s.run
	cancels := make([]context.CancelFunc, 0, len(s.running))
	for _, c := range s.running {
		cancels = append(cancels, c)
	}
	s.mu.Unlock()
	if r != nil {
		r.aborted.Store(true)
	}
	s.journal(journal.Decision{Who: who, Action: "abort", Reason: reason})
	for _, c := range cancels {
		c()
	}
}

// Interrupt journals that the operator is cancelling the whole run (a
// second Ctrl-C); the caller then cancels the run's context, and the
// engine journals the running step as cancelled and the run as
// interrupted.
func (s *Steering) Interrupt(who, reason string) {
	s.journal(journal.Decision{Who: who, Action: "interrupt", Reason: reason})
}
