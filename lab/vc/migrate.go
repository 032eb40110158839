package vc

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// What vcsim gets wrong or leaves out for a drill that copies and moves
// VMs, and the lab answers instead (see dispatch.go for how the calls get
// here): a clone takes time in proportion to its disks and needs room on
// the target datastore; vMotion and storage vMotion take time, check the
// target host and datastore, and keep the VM running (vcsim's
// RelocateVM_Task neither moves the VM between the hosts' vm lists nor
// checks anything); Destroy_Task gives the disks' space back (vcsim's
// keeps it); entering maintenance mode evacuates running VMs by vMotion
// when DRS is on and fails, naming the VM, when one cannot move.

// vmMethods are the VM methods the lab answers itself.
var vmMethods = map[string]bool{"CloneVM_Task": true, "RelocateVM_Task": true, "Destroy_Task": true}

// vmExtension answers vmMethods for one call.
type vmExtension struct {
	*simulator.VirtualMachine
	site *Site
}

// labFault is a task error with a message that says what went wrong,
// where vcsim would say only the fault's type.
type labFault struct {
	fault types.BaseMethodFault
	msg   string
}

func failWith(f types.BaseMethodFault, format string, args ...any) *labFault {
	return &labFault{fault: f, msg: fmt.Sprintf(format, args...)}
}

// labTask is a task the lab finishes later, by a transition: vcsim's tasks
// hold their entity's lock while they run, so a clone of many seconds
// would stall every property read of its VM.
type labTask struct {
	site *Site
	task *simulator.Task
}

// startTask creates a running task on entity.
func (s *Site) startTask(entity mo.Reference, name string) *labTask {
	ctx := s.op()
	t := simulator.CreateTask(entity, name, nil)
	ctx.Map.Put(t)
	t.Info.Key = t.Self.Value
	t.Info.Task = t.Self
	ctx.Map.AtomicUpdate(ctx, t, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	return &labTask{site: s, task: t}
}

// finish ends the task with a result or a fault.
func (t *labTask) finish(result types.AnyType, f *labFault) {
	ctx := t.site.op()
	state := types.TaskInfoStateSuccess
	var fault any
	if f != nil {
		state = types.TaskInfoStateError
		fault = types.LocalizedMethodFault{Fault: f.fault, LocalizedMessage: f.msg}
		result = nil
	}
	ctx.Map.AtomicUpdate(ctx, t.task, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: result},
		{Name: "info.error", Val: fault},
	})
}

// failedTask returns a task that has already failed.
func (s *Site) failedTask(entity mo.Reference, name string, f *labFault) types.ManagedObjectReference {
	t := s.startTask(entity, name)
	t.finish(nil, f)
	return t.task.Self
}

// copyTime is how long (lab time) copying n bytes of disk takes.
func (s *Site) copyTime(n int64) time.Duration {
	return time.Duration(float64(n) / float64(s.opts.CopyRate) * float64(time.Second))
}

// vmotionTime is how long (lab time) vMotion copies memoryMB of memory.
func (s *Site) vmotionTime(memoryMB int32) time.Duration {
	return time.Duration(float64(int64(memoryMB)<<20) / float64(s.opts.VMotionRate) * float64(time.Second))
}

// diskBytes sums a VM's virtual disks; callers hold the VM's lock.
func diskBytes(vm *simulator.VirtualMachine) int64 {
	var n int64
	if vm.Config == nil {
		return 0
	}
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			n += disk.CapacityInKB * 1024
		}
	}
	return n
}

// hostUsable says why a host cannot take a VM ("" when it can).
func (s *Site) hostUsable(ctx *simulator.Context, ref types.ManagedObjectReference) string {
	s.mu.Lock()
	st, ok := s.hosts[ref]
	phase := hostUp
	name := ref.Value
	if ok {
		phase, name = st.phase, st.name
	}
	s.mu.Unlock()
	if phase != hostUp {
		return fmt.Sprintf("host %s is %s", name, map[hostPhase]string{hostGoingDown: "shutting down", hostDown: "down (not responding)", hostBooting: "booting", hostStandby: "in standby"}[phase])
	}
	h, ok := ctx.Map.Get(ref).(*simulator.HostSystem)
	if !ok {
		return "host " + ref.Value + " does not exist"
	}
	inMaintenance := false
	ctx.WithLock(h, func() { inMaintenance = h.Runtime.InMaintenanceMode })
	if inMaintenance {
		return fmt.Sprintf("host %s is in maintenance mode, where vCenter places no VM", name)
	}
	return ""
}

// hostName names a host for messages.
func (s *Site) hostNameOf(ref types.ManagedObjectReference) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.hosts[ref]; ok {
		return h.name
	}
	return ref.Value
}

// mounted reports whether datastore ds is mounted on host.
func mounted(ctx *simulator.Context, ds *simulator.Datastore, host types.ManagedObjectReference) bool {
	on := false
	ctx.WithLock(ds, func() {
		for _, m := range ds.Host {
			if m.Key == host {
				on = true
			}
		}
	})
	return on
}

// freeSpace reads a datastore's free space.
func freeSpace(ctx *simulator.Context, ds *simulator.Datastore) int64 {
	var n int64
	ctx.WithLock(ds, func() { n = ds.Summary.FreeSpace })
	return n
}

// addFreeSpace changes a datastore's free space by n bytes, through
// Update so that watchers see it.
func addFreeSpace(ctx *simulator.Context, ds *simulator.Datastore, n int64) {
	ctx.WithLock(ds, func() {
		free := ds.Summary.FreeSpace + n
		ds.Info.GetDatastoreInfo().FreeSpace = free
		ctx.Update(ds, []types.PropertyChange{{Name: "summary.freeSpace", Val: free}})
	})
}

// memoryFits reports whether host has memoryMB free for one more running VM.
func (s *Site) memoryFits(ctx *simulator.Context, host types.ManagedObjectReference, memoryMB int32) bool {
	h := ctx.Map.Get(host).(*simulator.HostSystem)
	var vms []types.ManagedObjectReference
	ctx.WithLock(h, func() { vms = append(vms, h.Vm...) })
	return s.poweredOnMemoryMB(ctx, vms)+int64(memoryMB) <= int64(s.opts.HostMemoryGB)*1024
}

// networkOn reports whether host has the named port group.
func networkOn(ctx *simulator.Context, host *simulator.HostSystem, name string) bool {
	var nets []types.ManagedObjectReference
	ctx.WithLock(host, func() { nets = append(nets, host.Network...) })
	for _, ref := range nets {
		if n, ok := ctx.Map.Get(ref).(mo.Entity); ok && n.Entity().Name == name {
			return true
		}
	}
	return false
}

// snapshotOf reports whether ref is one of vm's snapshots; callers hold
// the VM's lock.
func snapshotOf(vm *simulator.VirtualMachine, ref types.ManagedObjectReference) bool {
	if vm.Snapshot == nil {
		return false
	}
	var walk func([]types.VirtualMachineSnapshotTree) bool
	walk = func(list []types.VirtualMachineSnapshotTree) bool {
		for _, t := range list {
			if t.Snapshot == ref || walk(t.ChildSnapshotList) {
				return true
			}
		}
		return false
	}
	return walk(vm.Snapshot.RootSnapshotList)
}

// CloneVMTask clones the VM the way vCenter does, but taking the time its
// disks take to copy at Options.CopyRate, and refusing what vCenter
// refuses: no room on the target datastore, a target host that is down or
// in maintenance mode, a datastore the host does not mount, a port group
// the host does not have, a snapshot of another VM.
func (v *vmExtension) CloneVMTask(ctx *simulator.Context, req *types.CloneVM_Task) soap.HasFault {
	s := v.site
	vm := v.VirtualMachine
	var name string
	var srcHost types.ManagedObjectReference
	var srcDS []types.ManagedObjectReference
	var size int64
	snapOK := true
	template := false
	ctx.WithLock(vm, func() {
		name = vm.Name
		if vm.Runtime.Host != nil {
			srcHost = *vm.Runtime.Host
		}
		srcDS = append(srcDS, vm.Datastore...)
		size = diskBytes(vm)
		if req.Spec.Snapshot != nil {
			snapOK = snapshotOf(vm, *req.Spec.Snapshot)
		}
		template = vm.Config != nil && vm.Config.Template
	})
	fail := func(f types.BaseMethodFault, format string, args ...any) soap.HasFault {
		return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: s.failedTask(vm, "cloneVm", failWith(f, format, args...))}}
	}
	if req.Name == "" {
		return fail(&types.InvalidArgument{InvalidProperty: "name"}, "the clone of %s needs a name", name)
	}
	if !snapOK {
		return fail(&types.InvalidArgument{InvalidProperty: "spec.snapshot"}, "snapshot %s is not a snapshot of VM %s", req.Spec.Snapshot.Value, name)
	}
	if why := s.hostUsable(ctx, srcHost); why != "" && !strings.Contains(why, "maintenance") {
		return fail(&types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &srcHost}}, "cannot read the disks of VM %s: %s", name, why)
	}
	dstHost := srcHost
	if req.Spec.Location.Host != nil {
		dstHost = *req.Spec.Location.Host
	}
	if why := s.hostUsable(ctx, dstHost); why != "" {
		return fail(&types.InvalidHostState{Host: &dstHost}, "cannot place the clone %s: %s", req.Name, why)
	}
	host := ctx.Map.Get(dstHost).(*simulator.HostSystem)
	dsRef := types.ManagedObjectReference{}
	if len(srcDS) > 0 {
		dsRef = srcDS[0]
	}
	if req.Spec.Location.Datastore != nil {
		dsRef = *req.Spec.Location.Datastore
	}
	ds, ok := ctx.Map.Get(dsRef).(*simulator.Datastore)
	if !ok {
		return fail(&types.InvalidArgument{InvalidProperty: "spec.location.datastore"}, "datastore %s does not exist", dsRef.Value)
	}
	if !mounted(ctx, ds, dstHost) {
		return fail(&types.DatastoreNotWritableOnHost{InvalidDatastore: types.InvalidDatastore{Datastore: &dsRef, Name: ds.Name}, Host: dstHost},
			"datastore %s is not mounted on host %s", ds.Name, s.hostNameOf(dstHost))
	}
	if free := freeSpace(ctx, ds); free < size {
		return fail(&types.NoDiskSpace{Datastore: ds.Name}, "datastore %s has %d GB free, the clone of %s needs %d GB", ds.Name, free>>30, name, size>>30)
	}
	for _, dc := range req.Spec.Location.DeviceChange {
		card, ok := dc.GetVirtualDeviceConfigSpec().Device.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		b, ok := card.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardNetworkBackingInfo)
		if !ok || !networkOn(ctx, host, b.DeviceName) {
			net := "(not a standard port group)"
			if ok {
				net = b.DeviceName
			}
			return fail(&types.InvalidArgument{InvalidProperty: "spec.location.deviceChange"}, "host %s has no port group %s", s.hostNameOf(dstHost), net)
		}
	}
	if template && req.Spec.PowerOn {
		return fail(&types.InvalidState{}, "VM %s is a template; its clone can be powered on only when it is not cloned as a template", name)
	}
	t := s.startTask(vm, "cloneVm")
	took := s.copyTime(size)
	// The copy runs in lab time; the clone appears, and is powered on if
	// asked, when it is done.
	s.after(took, s.transition(func() {
		if why := s.hostUsable(s.op(), dstHost); why != "" {
			t.finish(nil, failWith(&types.InvalidHostState{Host: &dstHost}, "the clone %s of %s failed: %s", req.Name, name, why))
			return
		}
		if free := freeSpace(s.op(), ds); free < size {
			t.finish(nil, failWith(&types.NoDiskSpace{Datastore: ds.Name}, "datastore %s ran out of space while %s was copied", ds.Name, req.Name))
			return
		}
		op := s.op()
		inner := *req
		inner.Spec.Location.Datastore = &dsRef
		inner.Spec.Location.Host = &dstHost
		var body soap.HasFault
		op.WithLock(vm, func() { body = vm.CloneVMTask(op, &inner) })
		if f := body.Fault(); f != nil {
			t.finish(nil, failWith(f.VimFault().(types.BaseMethodFault), "the clone %s of %s failed: %s", req.Name, name, f.String))
			return
		}
		it := op.Map.Get(body.(*methods.CloneVM_TaskBody).Res.Returnval).(*simulator.Task)
		it.Wait()
		if it.Info.Error != nil {
			t.finish(nil, failWith(it.Info.Error.Fault, "the clone %s of %s failed: %T", req.Name, name, it.Info.Error.Fault))
			return
		}
		ref := it.Info.Result.(types.ManagedObjectReference)
		s.mu.Lock()
		st := s.vms[ref]
		if st == nil {
			st = &vmState{name: req.Name, ref: ref, priority: string(types.ClusterDasVmSettingsRestartPriorityMedium)}
			s.vms[ref] = st
		}
		st.created, st.source = true, name
		if c, ok := op.Map.Get(ref).(*simulator.VirtualMachine); ok && c.Config != nil {
			st.memoryMB = c.Config.Hardware.MemoryMB
		}
		s.mu.Unlock()
		t.finish(ref, nil)
	}))
	return &methods.CloneVM_TaskBody{Res: &types.CloneVM_TaskResponse{Returnval: t.task.Self}}
}

// RelocateVMTask is vMotion (a new host), storage vMotion (a new
// datastore) or both. A running VM stays running throughout: nothing of
// its power, guest or network changes, only its host and datastore when
// the copy is done. It takes the VM's memory at VMotionRate plus its disks
// at CopyRate, and is refused for a source host that is down, a target
// host that is down or in maintenance mode or without the memory, a
// datastore the target host does not mount, or a datastore without room.
func (v *vmExtension) RelocateVMTask(ctx *simulator.Context, req *types.RelocateVM_Task) soap.HasFault {
	s := v.site
	vm := v.VirtualMachine
	ref := vm.Self
	t, f := s.relocate(ctx, ref, req.Spec.Host, req.Spec.Datastore, vm)
	if f != nil {
		return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: s.failedTask(vm, "relocateVm", f)}}
	}
	return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: t.task.Self}}
}

// relocation is one checked move of a VM.
type relocation struct {
	vm            *simulator.VirtualMachine
	name          string
	on            bool
	memoryMB      int32
	size          int64
	fromHost      types.ManagedObjectReference
	toHost        types.ManagedObjectReference
	fromDS, toDS  *simulator.Datastore
	took          time.Duration
	hostChange    bool
	storageChange bool
}

// checkRelocation checks a move of vm to host and datastore (nil: keep).
func (s *Site) checkRelocation(ctx *simulator.Context, vm *simulator.VirtualMachine, host, datastore *types.ManagedObjectReference) (*relocation, *labFault) {
	r := &relocation{vm: vm}
	var dsRefs []types.ManagedObjectReference
	ctx.WithLock(vm, func() {
		r.name = vm.Name
		if vm.Runtime.Host != nil {
			r.fromHost = *vm.Runtime.Host
		}
		r.on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
		if vm.Config != nil {
			r.memoryMB = vm.Config.Hardware.MemoryMB
		}
		r.size = diskBytes(vm)
		dsRefs = append(dsRefs, vm.Datastore...)
	})
	if len(dsRefs) > 0 {
		r.fromDS, _ = ctx.Map.Get(dsRefs[0]).(*simulator.Datastore)
	}
	r.toHost, r.toDS = r.fromHost, r.fromDS
	if host != nil {
		r.toHost = *host
	}
	if datastore != nil {
		ds, ok := ctx.Map.Get(*datastore).(*simulator.Datastore)
		if !ok {
			return nil, failWith(&types.InvalidArgument{InvalidProperty: "spec.datastore"}, "datastore %s does not exist", datastore.Value)
		}
		r.toDS = ds
	}
	r.hostChange = r.toHost != r.fromHost
	r.storageChange = r.toDS != nil && r.fromDS != nil && r.toDS.Self != r.fromDS.Self
	if why := s.hostUsable(ctx, r.fromHost); why != "" && !strings.Contains(why, "maintenance") {
		return nil, failWith(&types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &r.fromHost}}, "cannot migrate VM %s: %s", r.name, why)
	}
	if r.hostChange {
		if why := s.hostUsable(ctx, r.toHost); why != "" {
			return nil, failWith(&types.InvalidHostState{Host: &r.toHost}, "cannot migrate VM %s: %s", r.name, why)
		}
		if r.on && !s.memoryFits(ctx, r.toHost, r.memoryMB) {
			return nil, failWith(&types.InsufficientMemoryResourcesFault{Requested: int64(r.memoryMB) << 20},
				"cannot migrate VM %s: host %s has not %d MB of memory free", r.name, s.hostNameOf(r.toHost), r.memoryMB)
		}
	}
	if r.toDS != nil && !mounted(ctx, r.toDS, r.toHost) {
		return nil, failWith(&types.DatastoreNotWritableOnHost{InvalidDatastore: types.InvalidDatastore{Datastore: &r.toDS.Self, Name: r.toDS.Name}, Host: r.toHost},
			"cannot migrate VM %s: datastore %s is not mounted on host %s", r.name, r.toDS.Name, s.hostNameOf(r.toHost))
	}
	if r.storageChange && freeSpace(ctx, r.toDS) < r.size {
		return nil, failWith(&types.NoDiskSpace{Datastore: r.toDS.Name}, "cannot migrate VM %s: datastore %s has %d GB free, its disks need %d GB", r.name, r.toDS.Name, freeSpace(ctx, r.toDS)>>30, r.size>>30)
	}
	if r.hostChange && r.on {
		r.took += s.vmotionTime(r.memoryMB)
	}
	if r.storageChange {
		r.took += s.copyTime(r.size)
	}
	return r, nil
}

// relocate checks and starts a move; the task finishes when it is done.
func (s *Site) relocate(ctx *simulator.Context, ref types.ManagedObjectReference, host, datastore *types.ManagedObjectReference, vm *simulator.VirtualMachine) (*labTask, *labFault) {
	r, f := s.checkRelocation(ctx, vm, host, datastore)
	if f != nil {
		return nil, f
	}
	t := s.startTask(vm, "relocateVm")
	s.after(r.took, s.transition(func() { t.finish(nil, s.completeRelocation(r)) }))
	return t, nil
}

// completeRelocation is the switch-over at the end of a move: both hosts
// must still be up, then the VM's host and datastore change at once.
func (s *Site) completeRelocation(r *relocation) *labFault {
	ctx := s.op()
	if why := s.hostUsable(ctx, r.fromHost); why != "" && !strings.Contains(why, "maintenance") {
		return failWith(&types.MigrationFault{}, "the migration of VM %s failed: %s", r.name, why)
	}
	if r.hostChange {
		if why := s.hostUsable(ctx, r.toHost); why != "" {
			return failWith(&types.MigrationFault{}, "the migration of VM %s failed: %s", r.name, why)
		}
	}
	if _, ok := ctx.Map.Get(r.vm.Self).(*simulator.VirtualMachine); !ok {
		return failWith(&types.ManagedObjectNotFound{Obj: r.vm.Self}, "VM %s was destroyed while it migrated", r.name)
	}
	if r.hostChange {
		for _, hr := range []types.ManagedObjectReference{r.fromHost, r.toHost} {
			h := ctx.Map.Get(hr).(*simulator.HostSystem)
			add := hr == r.toHost
			ctx.WithLock(h, func() {
				var list []types.ManagedObjectReference
				for _, x := range h.Vm {
					if x != r.vm.Self {
						list = append(list, x)
					}
				}
				if add {
					list = append(list, r.vm.Self)
				}
				ctx.Update(h, []types.PropertyChange{{Name: "vm", Val: list}})
			})
		}
	}
	var changes []types.PropertyChange
	if r.hostChange {
		changes = append(changes,
			types.PropertyChange{Name: "runtime.host", Val: r.toHost},
			types.PropertyChange{Name: "summary.runtime.host", Val: r.toHost})
	}
	if r.storageChange {
		changes = append(changes, types.PropertyChange{Name: "datastore", Val: []types.ManagedObjectReference{r.toDS.Self}})
		for _, d := range [][2]any{{r.fromDS, false}, {r.toDS, true}} {
			ds, add := d[0].(*simulator.Datastore), d[1].(bool)
			ctx.WithLock(ds, func() {
				var list []types.ManagedObjectReference
				for _, x := range ds.Vm {
					if x != r.vm.Self {
						list = append(list, x)
					}
				}
				if add {
					list = append(list, r.vm.Self)
				}
				ctx.Update(ds, []types.PropertyChange{{Name: "vm", Val: list}})
			})
		}
		addFreeSpace(ctx, r.toDS, -r.size)
		addFreeSpace(ctx, r.fromDS, r.size)
	}
	ctx.WithLock(r.vm, func() { ctx.Update(r.vm, changes) })
	from, to := &entityRef{r.fromHost, s.hostNameOf(r.fromHost)}, &entityRef{r.toHost, s.hostNameOf(r.toHost)}
	msg := fmt.Sprintf("Migration of virtual machine %s from %s to %s completed", r.name, from.name, to.name)
	if r.storageChange {
		msg += fmt.Sprintf(" (datastore %s to %s)", r.fromDS.Name, r.toDS.Name)
	}
	ev := s.event(to, &entityRef{r.vm.Self, r.name}, msg)
	ev.Ds = &types.DatastoreEventArgument{Datastore: r.toDS.Self, EntityEventArgument: types.EntityEventArgument{Name: r.toDS.Name}}
	s.post(&types.VmMigratedEvent{
		VmEvent:         types.VmEvent{Event: ev},
		SourceHost:      types.HostEventArgument{Host: from.ref, EntityEventArgument: types.EntityEventArgument{Name: from.name}},
		SourceDatastore: &types.DatastoreEventArgument{Datastore: r.fromDS.Self, EntityEventArgument: types.EntityEventArgument{Name: r.fromDS.Name}},
	})
	return nil
}

// DestroyTask is vcsim's (which deletes the VM's folder and gives its
// disks' space back), refused while the VM's host is not connected, as
// vCenter refuses it.
func (v *vmExtension) DestroyTask(ctx *simulator.Context, req *types.Destroy_Task) soap.HasFault {
	s := v.site
	vm := v.VirtualMachine
	var host types.ManagedObjectReference
	var name string
	ctx.WithLock(vm, func() {
		name = vm.Name
		if vm.Runtime.Host != nil {
			host = *vm.Runtime.Host
		}
	})
	if !s.hostConnected(host) {
		return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: s.failedTask(vm, "destroy",
			failWith(&types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &host}}, "cannot destroy VM %s: its host %s is not connected", name, s.hostNameOf(host)))}}
	}
	body := vm.DestroyTask(ctx, req).(*methods.Destroy_TaskBody)
	inner := ctx.Map.Get(body.Res.Returnval).(*simulator.Task)
	t := s.startTask(vm, "destroy")
	go func() {
		inner.Wait()
		if inner.Info.Error != nil {
			t.finish(nil, failWith(inner.Info.Error.Fault, "cannot destroy VM %s: %T (power it off first)", name, inner.Info.Error.Fault))
			return
		}
		t.finish(nil, nil)
	}()
	return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: t.task.Self}}
}

// evacuate is entering maintenance mode: with DRS on, every running VM on
// the host moves by vMotion, one after another, to the connected host
// outside maintenance mode with the most memory free that mounts its
// datastore; the host enters maintenance mode when the last is gone.
// Without DRS, or when a VM cannot move, the task fails naming the VM,
// and the host stays out of maintenance mode. (vCenter without DRS waits
// for someone to move the VMs; the lab fails at once, which is harsher.)
// Powered-off VMs stay registered on the host, as vCenter allows.
func (s *Site) evacuate(h *simulator.HostSystem, t *labTask) {
	ctx := s.op()
	if why := s.hostUsable(ctx, h.Self); why != "" && !strings.Contains(why, "maintenance") {
		t.finish(nil, failWith(&types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &h.Self}}, "host %s cannot enter maintenance mode: %s", s.hostNameOf(h.Self), why))
		return
	}
	var vms []types.ManagedObjectReference
	name := s.hostNameOf(h.Self)
	ctx.WithLock(h, func() { vms = append(vms, h.Vm...) })
	var running []*simulator.VirtualMachine
	for _, r := range vms {
		if vm, ok := ctx.Map.Get(r).(*simulator.VirtualMachine); ok {
			on := false
			ctx.WithLock(vm, func() { on = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn })
			if on {
				running = append(running, vm)
			}
		}
	}
	sort.Slice(running, func(i, j int) bool { return running[i].Name < running[j].Name })
	if len(running) > 0 && !s.drsEnabled() {
		names := make([]string, len(running))
		for i, vm := range running {
			names[i] = vm.Name
		}
		t.finish(nil, failWith(&types.InvalidState{}, "host %s runs %d VMs (%s) and DRS is off in cluster %s, so nothing moves them: migrate them first", name, len(running), strings.Join(names, ", "), ClusterName))
		return
	}
	var next func(i int)
	next = func(i int) {
		ctx := s.op()
		if i == len(running) {
			if why := s.hostUsable(ctx, h.Self); why != "" && !strings.Contains(why, "maintenance") {
				t.finish(nil, failWith(&types.InvalidHostConnectionState{InvalidHostState: types.InvalidHostState{Host: &h.Self}}, "host %s cannot enter maintenance mode: %s", name, why))
				return
			}
			ctx.WithLock(h, func() {
				ctx.Update(h, []types.PropertyChange{
					{Name: "runtime.inMaintenanceMode", Val: true},
					{Name: "summary.runtime.inMaintenanceMode", Val: true},
				})
			})
			s.post(&types.EnteredMaintenanceModeEvent{HostEvent: types.HostEvent{Event: s.event(&entityRef{h.Self, name}, nil, fmt.Sprintf("Host %s in %s has entered maintenance mode", name, DatacenterName))}})
			t.finish(nil, nil)
			return
		}
		vm := running[i]
		target, why := s.drsTarget(ctx, vm, h.Self)
		if target == nil {
			t.finish(nil, failWith(&types.MigrationFault{}, "host %s cannot enter maintenance mode: VM %s cannot be moved by vMotion: %s", name, vm.Name, why))
			return
		}
		r, f := s.checkRelocation(ctx, vm, target, nil)
		if f != nil {
			t.finish(nil, failWith(f.fault, "host %s cannot enter maintenance mode: %s", name, f.msg))
			return
		}
		s.after(r.took, s.transition(func() {
			if f := s.completeRelocation(r); f != nil {
				t.finish(nil, failWith(f.fault, "host %s cannot enter maintenance mode: %s", name, f.msg))
				return
			}
			next(i + 1)
		}))
	}
	next(0)
}

// drsTarget picks where DRS moves vm off host: a usable host that mounts
// its datastore, with the most memory free; nil and why when none fits.
func (s *Site) drsTarget(ctx *simulator.Context, vm *simulator.VirtualMachine, from types.ManagedObjectReference) (*types.ManagedObjectReference, string) {
	var memoryMB int32
	var ds *simulator.Datastore
	ctx.WithLock(vm, func() {
		if vm.Config != nil {
			memoryMB = vm.Config.Hardware.MemoryMB
		}
		if len(vm.Datastore) > 0 {
			ds, _ = ctx.Map.Get(vm.Datastore[0]).(*simulator.Datastore)
		}
	})
	s.mu.Lock()
	hosts := s.sortedHosts()
	s.mu.Unlock()
	var best *types.ManagedObjectReference
	var bestFree int64
	var reasons []string
	for _, st := range hosts {
		ref := st.ref
		if ref == from {
			continue
		}
		if why := s.hostUsable(ctx, ref); why != "" {
			reasons = append(reasons, why)
			continue
		}
		if ds != nil && !mounted(ctx, ds, ref) {
			reasons = append(reasons, fmt.Sprintf("its datastore %s is not mounted on %s", ds.Name, st.name))
			continue
		}
		h := ctx.Map.Get(ref).(*simulator.HostSystem)
		var vms []types.ManagedObjectReference
		ctx.WithLock(h, func() { vms = append(vms, h.Vm...) })
		free := int64(s.opts.HostMemoryGB)*1024 - s.poweredOnMemoryMB(ctx, vms) - int64(memoryMB)
		if free < 0 {
			reasons = append(reasons, fmt.Sprintf("host %s has not %d MB of memory free", st.name, memoryMB))
			continue
		}
		if best == nil || free > bestFree {
			best, bestFree = &ref, free
		}
	}
	return best, strings.Join(reasons, "; ")
}

// drsEnabled reports whether the cluster's DRS is on and fully automated.
func (s *Site) drsEnabled() bool {
	ctx := s.op()
	cl := ctx.Map.Get(s.clusterRef).(*simulator.ClusterComputeResource)
	on := false
	ctx.WithLock(cl, func() {
		if cfg, ok := cl.ConfigurationEx.(*types.ClusterConfigInfoEx); ok && cfg.DrsConfig.Enabled != nil {
			on = *cfg.DrsConfig.Enabled && cfg.DrsConfig.DefaultVmBehavior == types.DrsBehaviorFullyAutomated
		}
	})
	return on
}

// DatastoreFiles lists the top folder of a datastore's backing directory:
// one folder per VM whose files vcsim wrote there. Tests compare it before
// and after a drill that must leave nothing behind.
func (s *Site) DatastoreFiles(name string) ([]string, error) {
	if len(s.dirs) == 0 {
		return nil, fmt.Errorf("lab vcenter: no datastore directory")
	}
	entries, err := os.ReadDir(filepath.Join(s.dirs[0], name))
	if err != nil {
		return nil, fmt.Errorf("lab vcenter: datastore %s: %w", name, err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out, nil
}
