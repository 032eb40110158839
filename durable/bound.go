package durable

import (
	"time"

	"github.com/drbook/drbook/runbooks"
)

// stepGrace is added to a step's own bound for what the engine does
// around its attempts: the baseline wait of a disruptive step, opening
// connections, journaling.
const stepGrace = 10 * time.Minute

// bound is the longest a step may run by its own declaration (timeout:,
// retry:, until:), or 0 when nothing bounds it (no timeout, a fan-out
// whose items are known only at run time). The workflow makes it the
// step activity's start-to-close timeout, plus stepGrace; an unbounded
// step gets the backstop. The runbook's retries themselves stay in the
// engine, journaled attempt by attempt as in a local run.
func bound(st *runbooks.Step) time.Duration {
	if st.ForEach != nil {
		return 0
	}
	var attempt time.Duration
	switch {
	case st.Parallel != nil:
		for _, c := range st.Parallel {
			b := bound(c)
			if b == 0 {
				return 0
			}
			attempt += b // concurrency may serialise them
		}
	case st.Timeout > 0:
		attempt = st.Timeout
	case st.Until != nil && st.Until.Within > 0:
		attempt = st.Until.Within + st.Until.Interval
	default:
		return 0
	}
	r := st.Retry
	if r == nil {
		return attempt
	}
	total, delay := attempt, r.Delay
	for i := 1; i < r.Attempts; i++ {
		total += delay + attempt
		delay = time.Duration(float64(delay) * max(r.Backoff, 1))
		if r.MaxDelay > 0 && delay > r.MaxDelay {
			delay = r.MaxDelay
		}
	}
	return total
}
