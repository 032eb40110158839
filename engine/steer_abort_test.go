package engine

import (
	"context"
	"testing"
)

// TestAbortStopsAStepRegisteredAfterIt: an abort that lands after the run
// looked for one and before the next step instance registered its context
// (another goroutine aborts at any moment: a fleet's --fail-fast) stops
// that instance at once rather than letting it run its whole course; a
// finally step after the abort runs.
func TestAbortStopsAStepRegisteredAfterIt(t *testing.T) {
	s := NewSteering()
	s.Abort("operator", "--fail-fast: site a failed")
	ctx, release := s.stepContext(context.Background(), "long", true)
	defer release()
	if ctx.Err() == nil {
		t.Fatal("a step instance registered after the abort got a live context")
	}
	fin, releaseFin := s.stepContext(context.Background(), "cleanup", false)
	defer releaseFin()
	if fin.Err() != nil {
		t.Fatal("a finally step after the abort got a cancelled context: the recovery must run")
	}
	other, release2 := NewSteering().stepContext(context.Background(), "long", true)
	defer release2()
	if other.Err() != nil {
		t.Fatal("a step instance of a run nobody aborted got a cancelled context")
	}
}
