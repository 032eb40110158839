package vc

import (
	"fmt"
	"sort"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// beginHostDown validates a shutdown or reboot request and schedules the
// host's death. It runs inside the task, under vcsim's lock on the host.
func (s *Site) beginHostDown(h *simulator.HostSystem, force, reboot bool) types.BaseMethodFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.hosts[h.Self]
	if !ok {
		return &types.NotSupported{}
	}
	if st.phase != hostUp {
		return &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &h.Self}}
	}
	if !force && !h.Runtime.InMaintenanceMode {
		// ESXi refuses a non-forced shutdown outside maintenance mode.
		return &types.InvalidState{}
	}
	st.phase = hostGoingDown
	st.diesAt = s.clock.Now().Add(s.opts.HostShutdownDelay)
	st.shutdownReason = "Shutdown requested through vCenter"
	if reboot {
		st.shutdownReason = "Reboot requested through vCenter"
	}
	st.rebootAfter = reboot
	ref := h.Self
	s.afterLocked(s.opts.HostShutdownDelay, s.transition(func() { s.shutdownCompletes(ref) }))
	return nil
}

// shutdownCompletes is the end of a host's shutdown delay: it dies, and a
// rebooting host starts booting. Callers hold s.tx.
func (s *Site) shutdownCompletes(ref types.ManagedObjectReference) {
	s.mu.Lock()
	st := s.hosts[ref]
	if st.phase != hostGoingDown {
		s.mu.Unlock()
		return
	}
	reason, reboot, diedAt := st.shutdownReason, st.rebootAfter, st.diesAt
	st.diesAt, st.shutdownReason, st.rebootAfter = time.Time{}, "", false
	s.mu.Unlock()
	gen := s.hostDies(ref, reason, diedAt)
	if reboot {
		s.mu.Lock()
		st.phase = hostBooting
		st.bootsAt = diedAt.Add(s.opts.HostBootDelay)
		s.atLocked(st.bootsAt, s.transition(func() { s.hostBoots(ref, gen) }))
		s.mu.Unlock()
	}
}

// FailHost makes a host fail at once, as if its power were cut: no task, no
// shutdown event, and vCenter shows its power state as unknown.
func (s *Site) FailHost(name string) error {
	s.tx.Lock()
	defer s.tx.Unlock()
	s.mu.Lock()
	st := s.hostByName(name)
	if st == nil {
		s.mu.Unlock()
		return fmt.Errorf("lab vcenter: no host named %q (the hosts are %v)", name, HostNames)
	}
	if st.phase != hostUp {
		s.mu.Unlock()
		return fmt.Errorf("lab vcenter: host %s is not running (%s)", name, st.phase)
	}
	st.phase = hostGoingDown
	ref := st.ref
	s.mu.Unlock()
	s.hostDies(ref, "", s.clock.Now())
	return nil
}

// hostDies takes a host down: its VMs' machines stop, vCenter marks it not
// responding, with power state unknown (vCenter cannot ask a host it has
// lost, however it went down), and its VMs disconnected, and the HA agent
// starts counting the heartbeat timeout from diedAt, the lab time the host
// died. It returns the host's new generation. Callers hold s.tx.
func (s *Site) hostDies(ref types.ManagedObjectReference, shutdownReason string, diedAt time.Time) int {
	power := types.HostSystemPowerStateUnknown
	ctx := s.op()
	h := ctx.Map.Get(ref).(*simulator.HostSystem)
	var vms []types.ManagedObjectReference
	ctx.WithLock(h, func() { vms = append(vms, h.Vm...) })
	var running []types.ManagedObjectReference
	for _, ref := range vms {
		if vm, ok := ctx.Map.Get(ref).(*simulator.VirtualMachine); ok {
			ctx.WithLock(vm, func() {
				if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
					running = append(running, ref)
				}
			})
		}
	}

	s.mu.Lock()
	st := s.hosts[ref]
	st.phase = hostDown
	st.gen++
	st.failed = false
	st.declareAt = time.Time{}
	st.diedRunning = running
	gen := st.gen
	name := st.name
	for _, r := range running {
		if v := s.vms[r]; v != nil && v.on {
			v.on = false
			v.bootGen++
			v.readyAt = time.Time{}
			s.queuePower(v.name, false)
		}
	}
	s.mu.Unlock()

	ctx.WithLock(h, func() {
		ctx.Update(h, []types.PropertyChange{
			{Name: "runtime.powerState", Val: power},
			{Name: "summary.runtime.powerState", Val: power},
			{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateNotResponding},
			{Name: "summary.runtime.connectionState", Val: types.HostSystemConnectionStateNotResponding},
			{Name: "overallStatus", Val: types.ManagedEntityStatusRed},
			{Name: "summary.overallStatus", Val: types.ManagedEntityStatusRed},
		})
	})
	// vCenter keeps a dead host's VMs at their last known power state and
	// shows them disconnected.
	for _, r := range vms {
		if vm, ok := ctx.Map.Get(r).(*simulator.VirtualMachine); ok {
			ctx.WithLock(vm, func() {
				ctx.Update(vm, []types.PropertyChange{
					{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionStateDisconnected},
					{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionStateDisconnected},
				})
			})
		}
	}

	host := &entityRef{ref, name}
	var events []types.BaseEvent
	if shutdownReason != "" {
		events = append(events, &types.HostShutdownEvent{
			HostEvent: types.HostEvent{Event: s.event(host, nil, fmt.Sprintf("Shut down of %s: %s", name, shutdownReason))},
			Reason:    shutdownReason,
		})
	}
	events = append(events, &types.HostConnectionLostEvent{
		HostEvent: types.HostEvent{Event: s.event(host, nil, fmt.Sprintf("Host %s in %s is not responding", name, DatacenterName))},
	})
	s.post(events...)
	s.updateClusterSummary()

	if s.haEnabled() {
		s.mu.Lock()
		if st.gen == gen {
			st.declareAt = diedAt.Add(s.opts.HeartbeatTimeout)
			s.atLocked(st.declareAt, s.transition(func() { s.declareFailed(ref, gen) }))
		}
		s.mu.Unlock()
	}
	return gen
}

// powerUpHost is PowerUpHostFromStandBy: vCenter wakes a host it put into
// standby (through the host's BMC or Wake-on-LAN, which it configured for
// DPM). A host that was shut down or failed is not in standby, and vCenter
// cannot power it on: that takes the console or the BMC (PowerOnHost). It
// reconnects after the host boot delay.
func (s *Site) powerUpHost(ref types.ManagedObjectReference) types.BaseMethodFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.hosts[ref]
	if !ok {
		return &types.NotSupported{}
	}
	switch st.phase {
	case hostBooting:
		if st.wakingFromStandby {
			// Already waking: the same request again changes nothing.
			return nil
		}
		return &types.InvalidState{}
	case hostStandby:
	default:
		// Running, on its way down, or down: not in standby mode.
		return &types.InvalidState{}
	}
	st.wakingFromStandby = true
	s.bootLocked(st)
	return nil
}

// bootLocked starts a host's boot; callers hold s.mu.
func (s *Site) bootLocked(st *hostState) {
	st.phase = hostBooting
	st.bootsAt = s.clock.Now().Add(s.opts.HostBootDelay)
	gen, ref := st.gen, st.ref
	s.afterLocked(s.opts.HostBootDelay, s.transition(func() { s.hostBoots(ref, gen) }))
}

// enterStandby is PowerDownHostToStandBy: a connected host without running
// VMs goes into standby, its power state standBy. vCenter keeps it
// connected; HA does not treat it as failed.
func (s *Site) enterStandby(h *simulator.HostSystem) types.BaseMethodFault {
	s.mu.Lock()
	st, ok := s.hosts[h.Self]
	if !ok {
		s.mu.Unlock()
		return &types.NotSupported{}
	}
	if st.phase != hostUp {
		s.mu.Unlock()
		return &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &h.Self}}
	}
	for _, r := range h.Vm {
		if v := s.vms[r]; v != nil && v.on {
			// DPM would first migrate them; this lab has no DRS.
			s.mu.Unlock()
			return &types.InvalidState{}
		}
	}
	st.phase = hostStandby
	st.gen++
	s.mu.Unlock()
	return nil
}

// PowerOnHost presses the host's power button, the way its BMC (IMM, iLO,
// iDRAC) or a person at the console does: a host that is off (shut down,
// failed, or in standby) boots and reconnects after the host boot delay; a
// host that is on is left alone, as IPMI's "chassis power on" leaves it.
func (s *Site) PowerOnHost(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.hostByName(name)
	if st == nil {
		return fmt.Errorf("lab vcenter: no host named %q (the hosts are %v)", name, HostNames)
	}
	switch st.phase {
	case hostDown, hostStandby:
		st.wakingFromStandby = st.phase == hostStandby
		s.bootLocked(st)
	}
	return nil
}

// HostPoweredOn reports whether the host's chassis has power, as its BMC
// sees it: true while it runs, shuts down or boots.
func (s *Site) HostPoweredOn(name string) (on, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.hostByName(name)
	if st == nil {
		return false, false
	}
	return st.phase == hostUp || st.phase == hostGoingDown || st.phase == hostBooting, true
}

// hostBoots brings a host back: connected, powered on, its remaining VMs
// reconnected; VMs that were running when it died and that HA did not
// restart elsewhere are now powered off, as after any ESXi boot. Callers
// hold s.tx.
func (s *Site) hostBoots(ref types.ManagedObjectReference, gen int) {
	s.mu.Lock()
	st := s.hosts[ref]
	if st.gen != gen || st.phase != hostBooting {
		s.mu.Unlock()
		return
	}
	st.phase = hostUp
	st.wakingFromStandby = false
	st.bootsAt, st.declareAt = time.Time{}, time.Time{}
	st.gen++
	wasFailed := st.failed
	st.failed = false
	died := st.diedRunning
	st.diedRunning = nil
	oldDas := st.das
	st.das = EventHAHostStateConnectedMaster
	if s.masterRef() == nil {
		st.das = EventHAHostStateMaster
	}
	das := st.das
	master := s.masterRef()
	name := st.name
	s.mu.Unlock()

	ctx := s.op()
	h := ctx.Map.Get(ref).(*simulator.HostSystem)
	now := time.Now()
	var vms []types.ManagedObjectReference
	ctx.WithLock(h, func() {
		vms = append(vms, h.Vm...)
		ctx.Update(h, []types.PropertyChange{
			{Name: "runtime.powerState", Val: types.HostSystemPowerStatePoweredOn},
			{Name: "summary.runtime.powerState", Val: types.HostSystemPowerStatePoweredOn},
			{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateConnected},
			{Name: "summary.runtime.connectionState", Val: types.HostSystemConnectionStateConnected},
			{Name: "runtime.bootTime", Val: &now},
			{Name: "runtime.dasHostState", Val: &types.ClusterDasFdmHostState{State: das, StateReporter: master}},
			{Name: "overallStatus", Val: types.ManagedEntityStatusGreen},
			{Name: "summary.overallStatus", Val: types.ManagedEntityStatusGreen},
		})
	})
	wasRunning := map[types.ManagedObjectReference]bool{}
	for _, r := range died {
		wasRunning[r] = true
	}
	for _, r := range vms {
		vm, ok := ctx.Map.Get(r).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		changes := []types.PropertyChange{
			{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
			{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
		}
		if wasRunning[r] {
			changes = append(changes,
				types.PropertyChange{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
				types.PropertyChange{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
			)
			changes = append(changes, guestChanges(false, "", "")...)
		}
		ctx.WithLock(vm, func() { ctx.Update(vm, changes) })
	}

	host := &entityRef{ref, name}
	events := []types.BaseEvent{&types.HostConnectedEvent{
		HostEvent: types.HostEvent{Event: s.event(host, nil, fmt.Sprintf("Connected to %s in %s", name, DatacenterName))},
	}}
	if wasFailed || oldDas != das {
		events = append(events, s.eventEx(EventHAHostStateChanged, "info", host, nil,
			fmt.Sprintf("The vSphere HA availability state of the host %s in cluster %s in %s has changed to %s", name, ClusterName, DatacenterName, das),
			arg("hostname", name), arg("oldState", oldDas), arg("newState", das)))
	}
	s.post(events...)
	s.updateClusterSummary()
}

// haEnabled reports whether the cluster's vSphere HA is on.
func (s *Site) haEnabled() bool {
	ctx := s.op()
	cl := ctx.Map.Get(s.clusterRef).(*simulator.ClusterComputeResource)
	enabled := false
	ctx.WithLock(cl, func() {
		if cfg, ok := cl.ConfigurationEx.(*types.ClusterConfigInfoEx); ok && cfg.DasConfig.Enabled != nil {
			enabled = *cfg.DasConfig.Enabled
		}
	})
	return enabled
}

// updateClusterSummary recomputes the cluster's effective hosts and memory.
func (s *Site) updateClusterSummary() {
	s.mu.Lock()
	up := 0
	for _, h := range s.hosts {
		if h.phase == hostUp {
			up++
		}
	}
	s.mu.Unlock()
	ctx := s.op()
	cl := ctx.Map.Get(s.clusterRef).(*simulator.ClusterComputeResource)
	ctx.WithLock(cl, func() {
		sum, ok := cl.Summary.(*types.ClusterComputeResourceSummary)
		if !ok {
			return
		}
		next := *sum
		next.NumEffectiveHosts = int32(up)
		next.EffectiveMemory = int64(up) * int64(s.opts.HostMemoryGB) * 1024
		next.CurrentFailoverLevel = int32(max(up-2, 0))
		next.AdmissionControlInfo = &types.ClusterFailoverLevelAdmissionControlInfo{CurrentFailoverLevel: next.CurrentFailoverLevel}
		ctx.Update(cl, []types.PropertyChange{{Name: "summary", Val: &next}})
	})
}

// sortedHosts returns the hosts in name order; callers hold s.mu.
func (s *Site) sortedHosts() []*hostState {
	out := make([]*hostState, 0, len(s.hosts))
	for _, h := range s.hosts {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
