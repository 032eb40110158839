package vc

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Why a per-session wrapper: vcsim dispatches a SOAP call to the object its
// session returns for the call's moref, falling back to the shared registry.
// Replacing a HostSystem in the shared registry with a wrapper (the
// documented way to add methods) breaks vcsim itself, which type-asserts
// hosts to *simulator.HostSystem in 30 places (every VM event, CreateVM,
// CloneVM…). So the shared registry keeps vcsim's own objects, and the
// registry's Handler hook puts a hostExtension into the calling session's
// registry the first time that session touches a host. The extension embeds
// the same *simulator.HostSystem, so every vcsim method and property still
// works, and adds the methods vcsim lacks.

// installDispatch hooks the lab into vcsim's call path and property updates.
func (s *Site) installDispatch() {
	m := s.model.Map()
	m.Handler = s.dispatch
	m.AddHandler(&powerWatcher{site: s, self: types.ManagedObjectReference{Type: "DrbookLabPowerWatcher", Value: "power-watcher"}})
}

// vmPowerMethods are refused while the VM's host is down.
var vmPowerMethods = map[string]bool{
	"PowerOnVM_Task": true, "PowerOffVM_Task": true, "ResetVM_Task": true, "SuspendVM_Task": true,
	"ShutdownGuest": true, "RebootGuest": true, "StandbyGuest": true,
}

func (s *Site) dispatch(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
	if ctx.Session == nil {
		// A call without a live session gets vcsim's own answer: a
		// NotAuthenticated fault for most methods, and for property reads
		// an ObjectContent per object whose properties are all missing
		// with NotAuthenticated, as vCenter answers them.
		return nil, nil
	}
	if ctx.Session.UserName == "" {
		// vcsim's in-process client; its session registry is shared by
		// every simulator in the process, so never extend it.
		return nil, nil
	}
	switch method.This.Type {
	case "HostSystem":
		h, ok := ctx.Map.Get(method.This).(*simulator.HostSystem)
		if !ok || ctx.Session.Registry.Get(method.This) != nil {
			return nil, nil
		}
		ctx.WithLock(h, func() {
			// Registry.Put resets an entity's statuses; keep what vCenter shows.
			config, overall := h.ConfigStatus, h.OverallStatus
			ctx.Session.Put(&hostExtension{HostSystem: h, site: s})
			h.ConfigStatus, h.OverallStatus = config, overall
		})
	case "VirtualMachine":
		vm, ok := ctx.Map.Get(method.This).(*simulator.VirtualMachine)
		if !ok {
			// Destroyed: forget this session's extension of it, so the
			// call gets vcsim's ManagedObjectNotFound.
			if ctx.Session.Registry.Get(method.This) != nil {
				ctx.Session.Registry.Remove(ctx, method.This)
			}
			return nil, nil
		}
		if vmMethods[method.Name] && ctx.Session.Registry.Get(method.This) == nil {
			// As for hosts: vcsim prefers the session's object.
			ctx.WithLock(vm, func() {
				config, overall := vm.ConfigStatus, vm.OverallStatus
				ctx.Session.Put(&vmExtension{VirtualMachine: vm, site: s})
				vm.ConfigStatus, vm.OverallStatus = config, overall
			})
		}
		if !vmPowerMethods[method.Name] {
			return nil, nil
		}
		var host *types.ManagedObjectReference
		ctx.WithLock(vm, func() { host = vm.Runtime.Host })
		if host != nil && !s.hostConnected(*host) {
			return nil, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: host}}
		}
	}
	return nil, nil
}

func (s *Site) hostConnected(ref types.ManagedObjectReference) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[ref]
	return !ok || h.phase == hostUp
}

// hostExtension answers the host methods vcsim lacks, for one session.
type hostExtension struct {
	*simulator.HostSystem
	site *Site
}

// ShutdownHostTask shuts the host down. Without force a host that is not in
// maintenance mode is refused with InvalidState, as ESXi does.
func (h *hostExtension) ShutdownHostTask(ctx *simulator.Context, req *types.ShutdownHost_Task) soap.HasFault {
	task := simulator.CreateTask(h.HostSystem, "shutdownHostTask", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, h.site.beginHostDown(h.HostSystem, req.Force, false)
	})
	return &methods.ShutdownHost_TaskBody{Res: &types.ShutdownHost_TaskResponse{Returnval: task.Run(ctx)}}
}

// RebootHostTask reboots the host: it goes down like a shutdown and comes
// back after the host boot delay.
func (h *hostExtension) RebootHostTask(ctx *simulator.Context, req *types.RebootHost_Task) soap.HasFault {
	task := simulator.CreateTask(h.HostSystem, "rebootHostTask", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, h.site.beginHostDown(h.HostSystem, req.Force, true)
	})
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: task.Run(ctx)}}
}

// PowerUpHostFromStandByTask wakes a host from standby; a host that is
// not in standby (shut down, failed, running) is refused with InvalidState,
// as vCenter refuses it: only the console or the BMC powers such a host on
// (Site.PowerOnHost, the lab's BMC endpoint).
func (h *hostExtension) PowerUpHostFromStandByTask(ctx *simulator.Context, req *types.PowerUpHostFromStandBy_Task) soap.HasFault {
	task := simulator.CreateTask(h.HostSystem, "powerUpHostFromStandByTask", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, h.site.powerUpHost(h.Self)
	})
	return &methods.PowerUpHostFromStandBy_TaskBody{Res: &types.PowerUpHostFromStandBy_TaskResponse{Returnval: task.Run(ctx)}}
}

// PowerDownHostToStandByTask puts a connected host without running VMs
// into standby.
func (h *hostExtension) PowerDownHostToStandByTask(ctx *simulator.Context, req *types.PowerDownHostToStandBy_Task) soap.HasFault {
	task := simulator.CreateTask(h.HostSystem, "powerDownHostToStandByTask", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if f := h.site.enterStandby(h.HostSystem); f != nil {
			return nil, f
		}
		ctx.Update(h.HostSystem, []types.PropertyChange{
			{Name: "runtime.powerState", Val: types.HostSystemPowerStateStandBy},
			{Name: "summary.runtime.powerState", Val: types.HostSystemPowerStateStandBy},
		})
		h.site.updateClusterSummary()
		return nil, nil
	})
	return &methods.PowerDownHostToStandBy_TaskBody{Res: &types.PowerDownHostToStandBy_TaskResponse{Returnval: task.Run(ctx)}}
}

// EnterMaintenanceModeTask evacuates the host's running VMs by vMotion
// when DRS is on and then puts it into maintenance mode, through Update so
// watchers see it; refused for a host that is not connected, and failed
// when a running VM cannot move (see evacuate).
func (h *hostExtension) EnterMaintenanceModeTask(ctx *simulator.Context, req *types.EnterMaintenanceMode_Task) soap.HasFault {
	return &methods.EnterMaintenanceMode_TaskBody{Res: &types.EnterMaintenanceMode_TaskResponse{
		Returnval: h.maintenance(ctx, "enterMaintenanceModeTask", true),
	}}
}

// ExitMaintenanceModeTask mirrors EnterMaintenanceModeTask.
func (h *hostExtension) ExitMaintenanceModeTask(ctx *simulator.Context, req *types.ExitMaintenanceMode_Task) soap.HasFault {
	return &methods.ExitMaintenanceMode_TaskBody{Res: &types.ExitMaintenanceMode_TaskResponse{
		Returnval: h.maintenance(ctx, "exitMaintenanceModeTask", false),
	}}
}

func (h *hostExtension) maintenance(ctx *simulator.Context, name string, enter bool) types.ManagedObjectReference {
	if enter {
		var in bool
		ctx.WithLock(h.HostSystem, func() { in = h.Runtime.InMaintenanceMode })
		if !in {
			// Evacuation takes lab time; see evacuate.
			t := h.site.startTask(h.HostSystem, name)
			h.site.after(0, h.site.transition(func() { h.site.evacuate(h.HostSystem, t) }))
			return t.task.Self
		}
	}
	task := simulator.CreateTask(h.HostSystem, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if !h.site.hostConnected(h.Self) {
			return nil, &types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &h.Self}}
		}
		ctx.Update(h.HostSystem, []types.PropertyChange{
			{Name: "runtime.inMaintenanceMode", Val: enter},
			{Name: "summary.runtime.inMaintenanceMode", Val: enter},
		})
		return nil, nil
	})
	return task.Run(ctx)
}

// powerWatcher sees every property change; it turns VM power-state changes
// into the guests' power hook and the guest's boot (tools, IP).
type powerWatcher struct {
	site *Site
	self types.ManagedObjectReference
}

func (w *powerWatcher) Reference() types.ManagedObjectReference { return w.self }

// PutObject is not needed: new VMs are learnt on their first power change.
func (w *powerWatcher) PutObject(*simulator.Context, mo.Reference) {}

// RemoveObject forgets a destroyed VM.
func (w *powerWatcher) RemoveObject(_ *simulator.Context, ref types.ManagedObjectReference) {
	if ref.Type != "VirtualMachine" {
		return
	}
	w.site.mu.Lock()
	delete(w.site.vms, ref)
	w.site.mu.Unlock()
}

// UpdateObject runs inside the caller's lock on obj: it only records and
// schedules, never locks a simulator object.
func (w *powerWatcher) UpdateObject(_ *simulator.Context, obj mo.Reference, changes []types.PropertyChange) {
	vm, ok := obj.(*mo.VirtualMachine)
	if !ok {
		return
	}
	for _, c := range changes {
		if c.Name != "runtime.powerState" {
			continue
		}
		state, _ := c.Val.(types.VirtualMachinePowerState)
		w.site.machinePowered(vm.Self, vm.Name, vm.Config, state == types.VirtualMachinePowerStatePoweredOn)
	}
}
