package vc

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// The lab's vSphere HA agent (FDM master). When a host stops heartbeating it
// waits Options.HeartbeatTimeout, declares the host failed and restarts the
// VMs that were running there on the surviving hosts, highest restart
// priority first, RestartBatchSize at a time, never beyond a host's memory.

var priorityRank = map[string]int{"highest": 0, "high": 1, "medium": 2, "low": 3, "lowest": 4}

// declareFailed is the end of the heartbeat timeout for one outage (gen).
// Callers hold s.tx.
func (s *Site) declareFailed(ref types.ManagedObjectReference, gen int) {
	s.mu.Lock()
	st := s.hosts[ref]
	if st.gen != gen || st.failed || (st.phase != hostDown && st.phase != hostBooting) {
		// The host came back before HA gave up on it.
		s.mu.Unlock()
		return
	}
	st.failed = true
	declaredAt := st.declareAt
	st.declareAt = time.Time{}
	oldDas := st.das
	st.das = EventHAHostStateHostDown
	var newMaster *hostState
	if oldDas == EventHAHostStateMaster {
		for _, h := range s.sortedHosts() {
			if h.phase == hostUp {
				h.das = EventHAHostStateMaster
				newMaster = h
				break
			}
		}
	}
	master := s.masterRef()
	var plan []vmState
	for _, r := range st.diedRunning {
		if v := s.vms[r]; v != nil {
			plan = append(plan, vmState{name: v.name, ref: v.ref, memoryMB: v.memoryMB, priority: v.priority})
		}
	}
	name := st.name
	s.mu.Unlock()

	sortRestartPlan(plan)

	ctx := s.op()
	setDas := func(r types.ManagedObjectReference, state string) {
		h := ctx.Map.Get(r).(*simulator.HostSystem)
		ctx.WithLock(h, func() {
			ctx.Update(h, []types.PropertyChange{{Name: "runtime.dasHostState", Val: &types.ClusterDasFdmHostState{State: state, StateReporter: master}}})
		})
	}
	setDas(ref, EventHAHostStateHostDown)
	if newMaster != nil {
		setDas(newMaster.ref, EventHAHostStateMaster)
	}

	host := &entityRef{ref, name}
	s.post(
		s.eventEx(EventHAHostStateChanged, "warning", host, nil,
			fmt.Sprintf("The vSphere HA availability state of the host %s in cluster %s in %s has changed to %s", name, ClusterName, DatacenterName, EventHAHostStateHostDown),
			arg("hostname", name), arg("oldState", oldDas), arg("newState", EventHAHostStateHostDown)),
		s.eventEx(EventHAHostFailed, "error", host, nil,
			fmt.Sprintf("vSphere HA detected a possible host failure of host %s in cluster %s in %s", name, ClusterName, DatacenterName),
			arg("hostName", name)),
		s.eventEx(EventHAFailoverActionInitiated, "warning", nil, nil,
			fmt.Sprintf("vSphere HA initiated a failover action on %d virtual machines in cluster %s in %s", len(plan), ClusterName, DatacenterName),
			arg("pendingVms", int32(len(plan)))),
	)
	s.startFailover(host, plan, declaredAt)
}

// startFailover begins restarting plan, its first batch due at the lab
// time HA declared the host failed; callers hold s.tx.
func (s *Site) startFailover(failed *entityRef, plan []vmState, declaredAt time.Time) {
	fo := &failover{host: *failed, pending: plan, nextAt: declaredAt}
	s.mu.Lock()
	s.failovers = append(s.failovers, fo)
	s.mu.Unlock()
	s.restartBatch(fo)
}

// restartBatch restarts the failover's next batch and schedules the one
// after it, or posts the failover's completion. Callers hold s.tx.
func (s *Site) restartBatch(fo *failover) {
	s.mu.Lock()
	n := min(s.opts.RestartBatchSize, len(fo.pending))
	batch := fo.pending[:n]
	fo.pending = fo.pending[n:]
	due := fo.nextAt
	if due.IsZero() {
		due = s.clock.Now()
	}
	fo.nextAt = time.Time{}
	s.mu.Unlock()
	for _, v := range batch {
		s.restartVM(&fo.host, v)
	}
	s.mu.Lock()
	if len(fo.pending) > 0 {
		fo.nextAt = due.Add(s.opts.RestartBatchInterval)
		s.atLocked(fo.nextAt, s.transition(func() { s.restartBatch(fo) }))
		s.mu.Unlock()
		return
	}
	s.failovers = slices.DeleteFunc(s.failovers, func(f *failover) bool { return f == fo })
	s.mu.Unlock()
	s.post(s.eventEx(EventHAFailoverActionCompleted, "info", nil, nil,
		fmt.Sprintf("vSphere HA completed a failover action in cluster %s in %s", ClusterName, DatacenterName)))
}

// sortRestartPlan orders VMs as the HA agent restarts them: restart
// priority, then the largest first (hardest to place), then by name.
func sortRestartPlan(plan []vmState) {
	sort.SliceStable(plan, func(i, j int) bool {
		a, b := plan[i], plan[j]
		if priorityRank[a.priority] != priorityRank[b.priority] {
			return priorityRank[a.priority] < priorityRank[b.priority]
		}
		if a.memoryMB != b.memoryMB {
			return a.memoryMB > b.memoryMB
		}
		return a.name < b.name
	})
}

// restartVM powers one VM of a failed host on on the surviving host with the
// most free memory.
func (s *Site) restartVM(failed *entityRef, plan vmState) {
	s.mu.Lock()
	v, ok := s.vms[plan.ref]
	if !ok || v.on {
		// Destroyed, or somebody already started it.
		s.mu.Unlock()
		return
	}
	failRestart := s.failVM[v.name]
	s.mu.Unlock()

	ctx := s.op()
	vm, ok := ctx.Map.Get(plan.ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	stillThere := false
	ctx.WithLock(vm, func() { stillThere = vm.Runtime.Host != nil && *vm.Runtime.Host == failed.ref })
	if !stillThere {
		return
	}
	vmRef := &entityRef{plan.ref, plan.name}

	if failRestart {
		msg := "Cannot power on the virtual machine: the lab was told to fail this restart (Options.FailRestart)"
		s.failRestart(failed, vmRef, msg, &types.GenericVmConfigFault{Reason: msg})
		return
	}
	target, ok := s.pickHost(plan.memoryMB, failed.ref)
	if !ok {
		msg := fmt.Sprintf("no surviving host has %d MB of memory free for the virtual machine", plan.memoryMB)
		s.post(&types.NotEnoughResourcesToStartVmEvent{
			VmEvent: types.VmEvent{Event: s.event(failed, vmRef, fmt.Sprintf("Insufficient resources to fail over %s in %s in %s. vSphere HA will retry the fail over when enough resources are available. Reason: %s", plan.name, ClusterName, DatacenterName, msg))},
			Reason:  msg,
		})
		s.failRestart(failed, vmRef, msg, &types.InsufficientMemoryResourcesFault{Unreserved: 0, Requested: int64(plan.memoryMB) << 20})
		return
	}

	move := func(hostRef types.ManagedObjectReference, add bool) {
		h := ctx.Map.Get(hostRef).(*simulator.HostSystem)
		ctx.WithLock(h, func() {
			var list []types.ManagedObjectReference
			for _, r := range h.Vm {
				if r != plan.ref {
					list = append(list, r)
				}
			}
			if add {
				list = append(list, plan.ref)
			}
			ctx.Update(h, []types.PropertyChange{{Name: "vm", Val: list}})
		})
	}
	move(failed.ref, false)
	move(target.ref, true)

	now := time.Now()
	changes := []types.PropertyChange{
		{Name: "runtime.host", Val: target.ref},
		{Name: "summary.runtime.host", Val: target.ref},
		{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
		{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionStateConnected},
		{Name: "runtime.bootTime", Val: &now},
		{Name: "summary.runtime.bootTime", Val: &now},
	}
	changes = append(changes, guestChanges(false, "", "")...)
	changes = append(changes,
		types.PropertyChange{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOn},
		types.PropertyChange{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOn},
	)
	ctx.WithLock(vm, func() { ctx.Update(vm, changes) })
	poweredOn := time.Now()

	s.mu.Lock()
	gen := 0
	if v := s.vms[plan.ref]; v != nil {
		gen = v.bootGen
	}
	s.truth = append(s.truth, Restart{
		VM: plan.name, FromHost: failed.name, ToHost: target.name,
		PoweredOn: poweredOn, PoweredOnLab: s.clock.at(poweredOn), bootGen: gen,
	})
	s.mu.Unlock()

	s.post(s.eventEx(EventHAVMRestarted, "warning", target, vmRef,
		fmt.Sprintf("vSphere HA restarted virtual machine %s on host %s in cluster %s", plan.name, target.name, ClusterName),
		arg("vm", plan.name), arg("host", target.name), arg("sourceHost", failed.name)))
}

func (s *Site) failRestart(failed, vm *entityRef, msg string, fault types.BaseMethodFault) {
	s.mu.Lock()
	s.truth = append(s.truth, Restart{VM: vm.name, FromHost: failed.name, Failed: true, Reason: msg})
	s.mu.Unlock()
	s.post(&types.VmFailoverFailed{
		VmEvent: types.VmEvent{Event: s.event(failed, vm, fmt.Sprintf("vSphere HA unsuccessfully failed over %s on %s in cluster %s in %s. vSphere HA will retry if the maximum number of attempts has not been exceeded. Reason: %s", vm.name, failed.name, ClusterName, DatacenterName, msg))},
		Reason:  &types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg},
	})
}

// pickHost returns the connected host, other than exclude and not in
// maintenance mode, with the most memory free after placing memoryMB.
func (s *Site) pickHost(memoryMB int32, exclude types.ManagedObjectReference) (*entityRef, bool) {
	s.mu.Lock()
	var candidates []entityRef
	for _, h := range s.sortedHosts() {
		if h.phase == hostUp && h.ref != exclude {
			candidates = append(candidates, entityRef{h.ref, h.name})
		}
	}
	s.mu.Unlock()

	ctx := s.op()
	capacity := int64(s.opts.HostMemoryGB) * 1024
	var best *entityRef
	var bestFree int64
	for i := range candidates {
		c := &candidates[i]
		h := ctx.Map.Get(c.ref).(*simulator.HostSystem)
		var vms []types.ManagedObjectReference
		inMaintenance := false
		ctx.WithLock(h, func() {
			vms = append(vms, h.Vm...)
			inMaintenance = h.Runtime.InMaintenanceMode
		})
		if inMaintenance {
			continue
		}
		used := s.poweredOnMemoryMB(ctx, vms)
		free := capacity - used - int64(memoryMB)
		if free >= 0 && (best == nil || free > bestFree) {
			best, bestFree = c, free
		}
	}
	return best, best != nil
}

// poweredOnMemoryMB sums the configured memory of the powered-on VMs.
func (s *Site) poweredOnMemoryMB(ctx *simulator.Context, vms []types.ManagedObjectReference) int64 {
	var used int64
	for _, r := range vms {
		vm, ok := ctx.Map.Get(r).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		ctx.WithLock(vm, func() {
			if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Config != nil {
				used += int64(vm.Config.Hardware.MemoryMB)
			}
		})
	}
	return used
}
