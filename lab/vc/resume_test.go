package vc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// resumeOptions stretch every transition to 100 ms or more of real time, so
// a loop saving State every few milliseconds catches the lab in each phase.
func resumeOptions() Options {
	o := testOptions() // Speed 150
	o.HostShutdownDelay = 15 * time.Second
	o.HeartbeatTimeout = 15 * time.Second
	o.RestartBatchInterval = 15 * time.Second
	o.VMBootDelay = 30 * time.Second
	o.HostBootDelay = 30 * time.Second
	return o
}

// rebootOptions boot a host 120 s after it dies, so a rebooting host
// connects 45 s (300 ms) after HA's second restart batch: the events'
// order stays the same on a busy machine. The heartbeat timeout of 60 s
// keeps the phase "host booting before HA declared it failed" 400 ms long,
// long enough for the snapshot loop to catch it when the shutdown before
// it ran late (the phase's deadline does not move with that lateness).
func rebootOptions() Options {
	o := resumeOptions()
	o.HeartbeatTimeout = 60 * time.Second
	o.HostBootDelay = 120 * time.Second
	return o
}

// restoreAndSaveAgain restores snap, saves the restored lab's state at once
// and closes it, as when a resumed run crashes again right away. Every
// deadline still ahead must carry over unchanged: a restored transition
// takes what was left of its delay, not its full delay again.
func restoreAndSaveAgain(t *testing.T, opts Options, snap snapshot, host string) snapshot {
	t.Helper()
	opts.Restore = snap.data
	s := startLab(t, opts)
	data, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if st.LabTime.Before(snap.st.LabTime) {
		t.Errorf("saved again at %s (lab), before the state it was restored from (%s)", st.LabTime, snap.st.LabTime)
	}
	again := snapshot{phase: phaseOf(st, host), data: data, st: st}
	if again.phase == snap.phase {
		for i, h := range st.Hosts {
			was := snap.st.Hosts[i]
			if !h.DiesAt.Equal(was.DiesAt) || !h.HeartbeatTimeoutEnds.Equal(was.HeartbeatTimeoutEnds) || !h.BootsAt.Equal(was.BootsAt) {
				t.Errorf("%s's deadlines changed by a restore: %+v, saved %+v", h.Name, h, was)
			}
		}
		if len(st.Failovers) == len(snap.st.Failovers) {
			for i, f := range st.Failovers {
				if was := snap.st.Failovers[i]; !f.NextBatchAt.Equal(was.NextBatchAt) || !slices.Equal(f.Pending, was.Pending) {
					t.Errorf("failover changed by a restore: %+v, saved %+v", f, was)
				}
			}
		}
	}
	return again
}

// snapshot is one State taken from a running lab.
type snapshot struct {
	phase string
	// last is the last snapshot of its phase (else the first).
	last bool
	data []byte
	st   savedState
}

// phaseOf names what the lab is in the middle of for host name.
func phaseOf(st savedState, name string) string {
	h := savedHostNamed(st, name)
	booting := false
	for _, v := range st.VMs {
		if !v.GuestReadyAt.IsZero() {
			booting = true
		}
	}
	switch {
	case h.Phase == string(hostGoingDown):
		return "host going down"
	case h.Phase == string(hostDown) && !h.Failed:
		return "heartbeat timeout running"
	case h.Phase == string(hostBooting) && !h.Failed:
		return "host booting before HA declared it failed"
	case len(st.Failovers) > 0:
		return "restart batches partly done"
	case booting:
		return "guests booting"
	case h.Phase == string(hostBooting):
		return "host booting"
	case h.Phase == string(hostUp) && h.Das != "" && len(st.Truth) > 0:
		return "host back"
	case h.Phase == string(hostUp):
		return "before"
	default:
		return "failover done, host down"
	}
}

// snapshotter saves State just before and just after each of the lab's
// transitions (Site.observe) and keeps the first and the last snapshot of
// each phase: every phase the lab passes through is seen, however late a
// busy machine runs its timers.
type snapshotter struct {
	s      *Site
	mu     sync.Mutex
	first  map[string]snapshot
	last   map[string]snapshot
	failed error
}

func startSnapshots(s *Site, host string) *snapshotter {
	sn := &snapshotter{s: s, first: map[string]snapshot{}, last: map[string]snapshot{}}
	take := func() {
		data, err := s.stateLocked()
		var st savedState
		if err == nil {
			err = json.Unmarshal(data, &st)
		}
		sn.mu.Lock()
		defer sn.mu.Unlock()
		if err != nil {
			sn.failed = err
			return
		}
		p := phaseOf(st, host)
		snap := snapshot{phase: p, data: data, st: st}
		if _, ok := sn.first[p]; !ok {
			sn.first[p] = snap
		}
		sn.last[p] = snap
	}
	s.tx.Lock()
	take()
	s.observe = func(bool) { take() }
	s.tx.Unlock()
	return sn
}

// finish stops the loop and returns the snapshots, first and last of each
// phase, in the order they were taken.
func (sn *snapshotter) finish(t *testing.T) []snapshot {
	t.Helper()
	sn.s.tx.Lock()
	sn.s.observe = nil
	sn.s.tx.Unlock()
	if sn.failed != nil {
		t.Fatalf("State: %v", sn.failed)
	}
	var out []snapshot
	for p, f := range sn.first {
		out = append(out, f)
		if l := sn.last[p]; !l.st.LabTime.Equal(f.st.LabTime) {
			l.last = true
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].st.LabTime.Before(out[j].st.LabTime) })
	return out
}

func phases(snaps []snapshot) []string {
	var out []string
	for _, s := range snaps {
		if !slices.Contains(out, s.phase) {
			out = append(out, s.phase)
		}
	}
	return out
}

// restoredWorld is what a restored lab must reach.
type restoredWorld struct {
	vms    []string // summarize
	events []string // haEvents
}

// checkResume restores snap into a new lab and checks it finishes what the
// saved lab was in the middle of: the same placement, tools and IPs, the
// same events once each, the ground truth completed, every deadline kept
// in lab time, and the power hook told of every machine it powers on.
func checkResume(t *testing.T, opts Options, snap snapshot, want restoredWorld, host string) {
	ctx := context.Background()
	var mu sync.Mutex
	var powered []string
	opts.Restore = snap.data
	opts.OnPowerChange = func(vm string, on bool) {
		mu.Lock()
		defer mu.Unlock()
		powered = append(powered, fmt.Sprintf("%s %t", vm, on))
	}
	s := startLab(t, opts)
	c, _ := dial(t, ctx, s)
	// Every transition is a timer: once none is left, the lab has done
	// all it will do.
	settle(t, s)
	if got := summarize(t, ctx, c); !slices.Equal(got, want.vms) {
		t.Errorf("the restored lab ended with\n%s\nthe original with\n%s", strings.Join(got, "\n"), strings.Join(want.vms, "\n"))
	}
	if got := haEvents(t, ctx, c); !slices.Equal(got, want.events) {
		t.Errorf("the restored lab's events:\n got %v\nwant %v", got, want.events)
	}

	names := hostNames(t, ctx, c)
	vms := placement(t, ctx, c)
	for _, n := range esx68VMs {
		vm := vms[n]
		if names[*vm.Runtime.Host] == host || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn ||
			vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) || vm.Guest.IpAddress != opts.GuestIP(vmSuffix(n)) {
			t.Errorf("%s: on %s, %s, tools %s, IP %q", n, names[*vm.Runtime.Host], vm.Runtime.PowerState, vm.Guest.ToolsRunningStatus, vm.Guest.IpAddress)
		}
		if on, _ := s.MachineOn(n); !on {
			t.Errorf("%s: the machine does not run", n)
		}
	}

	// Ground truth: one restart per VM, each guest ready, and what the
	// restored lab did happened on time in lab time.
	truth := s.GroundTruth()
	if len(truth) != len(esx68VMs) {
		t.Fatalf("ground truth has %d entries, want %d: %+v", len(truth), len(esx68VMs), truth)
	}
	// A restored transition never happens before its saved deadline. How
	// soon after depends on how busy the machine is, so it is not timed
	// here: restoreAndSaveAgain proves each deadline is carried exactly.
	late := func(what string, at, deadline time.Time) {
		t.Helper()
		if at.Before(deadline) {
			t.Errorf("%s at %s (lab), before its saved deadline %s", what, at.Format("15:04:05.000"), deadline.Format("15:04:05.000"))
		}
	}
	saved := len(snap.st.Truth)
	h := savedHostNamed(snap.st, host)
	for i, r := range truth {
		if r.Failed || r.GuestReady.IsZero() || r.FromHost != host {
			t.Errorf("implausible ground truth %+v", r)
		}
		if i < saved {
			if !r.PoweredOnLab.Equal(snap.st.Truth[i].PoweredOnLab) {
				t.Errorf("%s: restored ground truth changed its power-on time", r.VM)
			}
			continue
		}
		if !r.PoweredOnLab.After(snap.st.LabTime) {
			t.Errorf("%s: restarted at %s (lab), before the state was saved at %s", r.VM, r.PoweredOnLab, snap.st.LabTime)
		}
	}
	if saved < len(truth) {
		first := truth[saved].PoweredOnLab
		switch {
		case !h.HeartbeatTimeoutEnds.IsZero():
			late("the first restart", first, h.HeartbeatTimeoutEnds)
		case len(snap.st.Failovers) > 0:
			late("the next restart batch", first, snap.st.Failovers[0].NextBatchAt)
		}
	}
	for _, v := range snap.st.VMs {
		if v.GuestReadyAt.IsZero() {
			continue
		}
		for _, r := range truth {
			if r.VM == v.Name {
				late(v.Name+"'s guest ready", r.GuestReadyLab, v.GuestReadyAt)
			}
		}
	}

	// Events the restored lab posted itself, in lab time.
	m := event.NewManager(c)
	evs, err := m.QueryEvents(ctx, types.EventFilterSpec{EventTypeId: []string{"HostShutdownEvent", "HostConnectedEvent"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		at := s.clock.at(e.GetEvent().CreatedTime)
		switch e.(type) {
		case *types.HostShutdownEvent:
			if h.Phase == string(hostGoingDown) {
				late("the host's death", at, h.DiesAt)
			}
		case *types.HostConnectedEvent:
			if !h.BootsAt.IsZero() {
				late("the host connecting", at, h.BootsAt)
			}
		}
	}

	// The power hook: told once of each VM the restored lab restarted,
	// never of one restarted before the state was saved.
	mu.Lock()
	defer mu.Unlock()
	for i, r := range truth {
		want := 0
		if i >= saved {
			want = 1
		}
		if got := count(powered, r.VM+" true"); got != want {
			t.Errorf("%s: power hook said on %d times, want %d: %v", r.VM, got, want, powered)
		}
	}
}

// settledPhases have nothing in flight; TestStateRestoresPlacementPowerAndEvents
// covers restoring those.
var settledPhases = []string{"before", "failover done, host down", "host back"}

// restoreEach runs check on every snapshot with something in flight, each
// in a subtest, four at a time: the labs mostly wait for timers, and
// t.Parallel would run only GOMAXPROCS (two here) at once.
func restoreEach(t *testing.T, snaps []snapshot, check func(t *testing.T, snap snapshot)) {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, snap := range snaps {
		if slices.Contains(settledPhases, snap.phase) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			which := "first"
			if snap.last {
				which = "last"
			}
			t.Run(fmt.Sprintf("%02d %s %s", i, which, snap.phase), func(t *testing.T) { check(t, snap) })
		}()
	}
	wg.Wait()
}

// powerUpHost powers a host that was shut down on through its BMC, as the
// operator does: vCenter cannot (PowerUpHostFromStandBy is for standby).
func powerUpHost(t *testing.T, s *Site, name string) {
	t.Helper()
	if err := s.PowerOnHost(name); err != nil {
		t.Fatalf("power up %s: %v", name, err)
	}
}

// TestRestoreMidFailoverAndPowerUpFinishes saves the lab's state every few
// milliseconds while host esx-68 is shut down, HA fails it over and the
// host is powered back on, and restores the first and last state of each
// phase into a new lab, which must finish the sequence as the original did.
func TestRestoreMidFailoverAndPowerUpFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := resumeOptions()
	s := startLab(t, opts)
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")

	sn := startSnapshots(s, "esx-68")
	if err := shutdownHost(ctx, c, h.Reference(), true); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	failedOver := restoredWorld{vms: summarize(t, ctx, c), events: haEvents(t, ctx, c)}
	powerUpHost(t, s, "esx-68")
	settle(t, s)
	if st := hostMO(t, ctx, c, h).Runtime.ConnectionState; st != types.HostSystemConnectionStateConnected {
		t.Fatalf("esx-68 is %s after its power-up settled", st)
	}
	snaps := sn.finish(t)
	back := restoredWorld{vms: summarize(t, ctx, c), events: haEvents(t, ctx, c)}

	wantEvents := []string{
		"HostShutdownEvent", "HostConnectionLostEvent",
		EventHAHostStateChanged, EventHAHostFailed, EventHAFailoverActionInitiated,
		EventHAVMRestarted, EventHAVMRestarted, EventHAVMRestarted, EventHAVMRestarted,
		EventHAFailoverActionCompleted,
	}
	if !slices.Equal(failedOver.events, wantEvents) {
		t.Fatalf("the original lab's events:\n got %v\nwant %v", failedOver.events, wantEvents)
	}
	if want := append(slices.Clone(wantEvents), "HostConnectedEvent", EventHAHostStateChanged); !slices.Equal(back.events, want) {
		t.Fatalf("the original lab's events after the power-up:\n got %v\nwant %v", back.events, want)
	}
	got := phases(snaps)
	for _, p := range []string{"host going down", "heartbeat timeout running", "restart batches partly done", "guests booting", "failover done, host down", "host booting", "host back"} {
		if !slices.Contains(got, p) {
			t.Errorf("no state was saved while the lab was in phase %q (phases seen: %v)", p, got)
		}
	}

	restoreEach(t, snaps, func(t *testing.T, snap snapshot) {
		want := failedOver
		if h := savedHostNamed(snap.st, "esx-68"); h.Phase == string(hostBooting) || h.Phase == string(hostUp) {
			want = back
		}
		if !snap.last {
			snap = restoreAndSaveAgain(t, resumeOptions(), snap, "esx-68")
		}
		checkResume(t, resumeOptions(), snap, want, "esx-68")
	})
}

func savedHostNamed(st savedState, name string) savedHost {
	for _, h := range st.Hosts {
		if h.Name == name {
			return h
		}
	}
	return savedHost{}
}

// TestRestoreMidRebootFinishes reboots esx-68 while esx-69 is in
// maintenance mode: the restored lab must keep esx-69 out of HA's
// placement, restart everything on esx-70, and bring esx-68 back by
// itself, from every phase.
func TestRestoreMidRebootFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startLab(t, rebootOptions())
	c, _ := dial(t, ctx, s)
	h68, h69 := host(t, ctx, c, "esx-68"), host(t, ctx, c, "esx-69")
	// This test is about HA placing no VM on a host in maintenance mode,
	// with esx-69's VMs where they are: the flag is set directly, since
	// EnterMaintenanceMode would first move them by vMotion.
	op := s.op()
	hs := op.Map.Get(h69.Reference()).(*simulator.HostSystem)
	op.WithLock(hs, func() {
		op.Update(hs, []types.PropertyChange{{Name: "runtime.inMaintenanceMode", Val: true}, {Name: "summary.runtime.inMaintenanceMode", Val: true}})
	})

	sn := startSnapshots(s, "esx-68")
	res, err := methods.RebootHost_Task(ctx, c, &types.RebootHost_Task{This: h68.Reference(), Force: true})
	if err == nil {
		err = object.NewTask(c, res.Returnval).Wait(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if len(s.GroundTruth()) != 4 || hostMO(t, ctx, c, h68).Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		t.Fatalf("after the reboot settled: %d restarts, esx-68 %s", len(s.GroundTruth()), hostMO(t, ctx, c, h68).Runtime.ConnectionState)
	}
	for _, r := range s.GroundTruth() {
		if r.GuestReady.IsZero() {
			t.Fatalf("%s's guest never came up", r.VM)
		}
	}
	snaps := sn.finish(t)
	want := restoredWorld{vms: summarize(t, ctx, c), events: haEvents(t, ctx, c)}
	names := hostNames(t, ctx, c)
	for n, vm := range placement(t, ctx, c) {
		if slices.Contains(esx68VMs, n) && names[*vm.Runtime.Host] != "esx-70" {
			t.Fatalf("the original lab restarted %s on %s, not esx-70 (esx-69 is in maintenance mode)", n, names[*vm.Runtime.Host])
		}
	}
	for _, p := range []string{"host going down", "host booting before HA declared it failed"} {
		if !slices.Contains(phases(snaps), p) {
			t.Errorf("no state was saved while the lab was in phase %q (phases seen: %v)", p, phases(snaps))
		}
	}
	var reboot []snapshot
	for _, snap := range snaps {
		// The other phases are TestRestoreMidFailoverAndPowerUpFinishes's.
		if snap.phase == "host going down" || snap.phase == "host booting before HA declared it failed" {
			reboot = append(reboot, snap)
		}
	}
	restoreEach(t, reboot, func(t *testing.T, snap snapshot) {
		if !snap.last {
			snap = restoreAndSaveAgain(t, rebootOptions(), snap, "esx-68")
		}
		checkResume(t, rebootOptions(), snap, want, "esx-68")
	})
}
