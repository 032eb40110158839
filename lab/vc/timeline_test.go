package vc

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// savedNow returns the lab's saved state.
func savedNow(t *testing.T, s *Site) savedState {
	t.Helper()
	data, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// awaitState returns the lab's state as soon as it satisfies ok: now, or
// after the transition that makes it so. It waits on the lab's own
// transitions (Site.observe), with no time limit but the test's.
func awaitState(t *testing.T, s *Site, ok func(savedState) bool) savedState {
	t.Helper()
	parse := func() (savedState, error) {
		var st savedState
		data, err := s.stateLocked()
		if err == nil {
			err = json.Unmarshal(data, &st)
		}
		return st, err
	}
	found := make(chan savedState, 1)
	failed := make(chan error, 1)
	s.tx.Lock()
	st, err := parse()
	if err != nil || ok(st) {
		s.tx.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	s.observe = func(done bool) {
		if !done {
			return
		}
		st, err := parse()
		switch {
		case err != nil:
			select {
			case failed <- err:
			default:
			}
		case ok(st):
			select {
			case found <- st:
			default:
			}
		}
	}
	s.tx.Unlock()
	defer func() {
		s.tx.Lock()
		s.observe = nil
		s.tx.Unlock()
	}()
	select {
	case st := <-found:
		return st
	case err := <-failed:
		t.Fatal(err)
	case <-t.Context().Done():
		t.Fatal("the test ended before the lab reached the state")
	}
	return savedState{}
}

// holdTransitions keeps the lab's transitions waiting for d of real time,
// as a busy machine does when a timer's goroutine runs late.
func holdTransitions(s *Site, d time.Duration) {
	s.tx.Lock()
	time.Sleep(d)
	s.tx.Unlock()
}

// TestLateTransitionsDoNotDelayTheNext checks that each transition of a
// reboot and its failover is due a fixed lab delay after the deadline of
// the one before, however late that one ran: on a loaded machine the lab's
// timeline (and so the order of its events) must not drift with each step.
func TestLateTransitionsDoNotDelayTheNext(t *testing.T) {
	t.Parallel()
	// Each window between transitions is wide enough (300 ms to 2.7 s of
	// real time) for the test to hold one transition late and read the
	// deadlines it set before the next one runs.
	opts := testOptions() // Speed 150
	opts.HostShutdownDelay = 45 * time.Second
	opts.HeartbeatTimeout = 150 * time.Second
	opts.RestartBatchInterval = 150 * time.Second
	opts.HostBootDelay = 400 * time.Second
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")
	// The lab's transitions wait from before the reboot, so the test reads
	// the shutdown's deadline before the shutdown can complete, however
	// late the test runs; then the shutdown completes 150 ms (22.5 s of lab
	// time) after its deadline, or later on a busy machine.
	s.tx.Lock()
	res, err := methods.RebootHost_Task(ctx, c, &types.RebootHost_Task{This: h.Reference(), Force: true})
	if err == nil {
		err = object.NewTask(c, res.Returnval).Wait(ctx)
	}
	var diesAt time.Time
	if err == nil {
		var data []byte
		if data, err = s.stateLocked(); err == nil {
			var st savedState
			if err = json.Unmarshal(data, &st); err == nil {
				diesAt = savedHostNamed(st, "esx-68").DiesAt
			}
		}
	}
	if err == nil && !diesAt.IsZero() {
		time.Sleep(max(s.clock.Real(diesAt.Sub(s.clock.Now())), 0) + 150*time.Millisecond)
	}
	s.tx.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if diesAt.IsZero() {
		t.Fatal("esx-68 is not going down after a reboot")
	}

	down := savedHostNamed(awaitState(t, s, func(st savedState) bool {
		return !savedHostNamed(st, "esx-68").BootsAt.IsZero()
	}), "esx-68")
	if want := diesAt.Add(opts.HeartbeatTimeout); !down.HeartbeatTimeoutEnds.Equal(want) {
		t.Errorf("heartbeat timeout ends %s, want %s (the shutdown's deadline plus %s)", down.HeartbeatTimeoutEnds, want, opts.HeartbeatTimeout)
	}
	if want := diesAt.Add(opts.HostBootDelay); !down.BootsAt.Equal(want) {
		t.Errorf("esx-68 boots at %s, want %s (the shutdown's deadline plus %s)", down.BootsAt, want, opts.HostBootDelay)
	}

	// HA declares the host failed 150 ms late; its second batch stays due
	// one batch interval after the declaration's deadline.
	time.Sleep(max(s.clock.Real(down.HeartbeatTimeoutEnds.Sub(s.clock.Now()))-50*time.Millisecond, 0))
	holdTransitions(s, 200*time.Millisecond)
	fo := awaitState(t, s, func(st savedState) bool {
		return len(st.Failovers) > 0 && !st.Failovers[0].NextBatchAt.IsZero()
	}).Failovers
	if want := down.HeartbeatTimeoutEnds.Add(opts.RestartBatchInterval); !fo[0].NextBatchAt.Equal(want) {
		t.Errorf("second restart batch at %s, want %s (the declaration's deadline plus %s)", fo[0].NextBatchAt, want, opts.RestartBatchInterval)
	}
}
