package vc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// postedEvent is an event the lab posted, kept so State can carry it.
type postedEvent struct {
	event types.BaseEvent
}

// stateVersion is bumped when the State format changes incompatibly.
// Version 2 added what the lab is in the middle of (deadlines, failovers);
// a version 1 state is still read, see restoreHost.
const stateVersion = 2

// savedState is the JSON form of State. Hosts and VMs are named, not
// referenced by moref, because a new lab assigns its own morefs. Every
// deadline is lab time, so a restored lab, whose clock resumes at LabTime,
// finishes each transition after the lab time that was left.
type savedState struct {
	Version int         `json:"version"`
	LabTime time.Time   `json:"lab_time"`
	Hosts   []savedHost `json:"hosts"`
	VMs     []savedVM   `json:"vms"`
	// Failovers are the HA failovers whose restart batches were not all
	// done.
	Failovers []savedFailover `json:"failovers,omitempty"`
	Truth     []Restart       `json:"ground_truth,omitempty"`
	// Datastores hold each datastore's free space, which clones,
	// destroys and storage vMotions change.
	Datastores []savedDatastore `json:"datastores,omitempty"`
	// Events is the lab-posted events as a SOAP ArrayOfEvent, the one
	// encoding that keeps every event's concrete type.
	Events string `json:"events,omitempty"`
}

type savedHost struct {
	Name string `json:"name"`
	// Down is Phase != "up", kept for version 1 readers.
	Down bool `json:"down"`
	// Phase is up, goingDown (shut down or rebooting, not dead yet), down
	// or booting.
	Phase       string   `json:"phase,omitempty"`
	PowerState  string   `json:"power_state"`
	Das         string   `json:"das_state"`
	Failed      bool     `json:"ha_failed,omitempty"`
	DiedRunning []string `json:"died_running,omitempty"`
	Maintenance bool     `json:"maintenance,omitempty"`
	// DiesAt, ShutdownReason and Reboot describe a host going down.
	DiesAt         time.Time `json:"dies_at,omitzero"`
	ShutdownReason string    `json:"shutdown_reason,omitempty"`
	Reboot         bool      `json:"reboot,omitempty"`
	// HeartbeatTimeoutEnds is when HA declares a down host failed.
	HeartbeatTimeoutEnds time.Time `json:"heartbeat_timeout_ends,omitzero"`
	// BootsAt is when a booting host connects.
	BootsAt time.Time `json:"boots_at,omitzero"`
}

type savedDatastore struct {
	Name      string `json:"name"`
	FreeSpace int64  `json:"free_space"`
}

type savedVM struct {
	Name string `json:"name"`
	Host string `json:"host"`
	// Datastore holds the VM's files (storage vMotion changes it).
	Datastore string `json:"datastore,omitempty"`
	// Created describes a VM the API created (a clone), which a restored
	// lab creates again.
	Created    *savedCreated `json:"created,omitempty"`
	PowerState string        `json:"power_state"`
	Connection string        `json:"connection_state"`
	// On is whether the machine really runs (a dead host's VMs still show
	// poweredOn in vCenter).
	On          bool   `json:"on"`
	GuestIP     string `json:"guest_ip,omitempty"`
	GuestTools  string `json:"guest_tools,omitempty"`
	GuestHeader string `json:"guest_hostname,omitempty"`
	// GuestReadyAt is when a booting guest's Tools and IP come up.
	GuestReadyAt time.Time `json:"guest_ready_at,omitzero"`
}

// savedCreated is what a restored lab needs to create a VM again: its
// shape, its disk and the port group of its NIC.
type savedCreated struct {
	GuestID      string `json:"guest_id"`
	MemoryMB     int32  `json:"memory_mb"`
	CPUs         int32  `json:"cpus"`
	DiskBytes    int64  `json:"disk_bytes"`
	Network      string `json:"network,omitempty"`
	InstanceUUID string `json:"instance_uuid,omitempty"`
	Template     bool   `json:"template,omitempty"`
	// Source is the VM it was cloned from, whose guest identity it has.
	Source string `json:"source,omitempty"`
}

type savedFailover struct {
	FailedHost string `json:"failed_host"`
	// Pending are the VMs still to restart, in restart order.
	Pending     []string  `json:"pending"`
	NextBatchAt time.Time `json:"next_batch_at"`
}

// State returns what belongs to the current run, for a later lab to resume
// from (Options.Restore): lab time, host power states, VM placement and
// power states, the HA ground truth, the events the lab posted, and what
// the lab is in the middle of: a host going down or booting, a heartbeat
// timeout running, a failover's remaining restart batches, guests booting.
// It waits for a transition in progress to finish, so the state never
// holds half of one.
func (s *Site) State() ([]byte, error) {
	s.tx.Lock()
	defer s.tx.Unlock()
	return s.stateLocked()
}

// stateLocked is State for callers that hold s.tx.
func (s *Site) stateLocked() ([]byte, error) {
	ctx := s.op()
	m := ctx.Map
	st := savedState{Version: stateVersion, LabTime: s.clock.Now()}

	s.mu.Lock()
	hosts := s.sortedHosts()
	hostName := map[types.ManagedObjectReference]string{}
	type hostCopy struct {
		hostState
		died []types.ManagedObjectReference
	}
	copies := make([]hostCopy, len(hosts))
	for i, h := range hosts {
		hostName[h.ref] = h.name
		copies[i] = hostCopy{*h, append([]types.ManagedObjectReference(nil), h.diedRunning...)}
	}
	vmName := map[types.ManagedObjectReference]string{}
	created := map[types.ManagedObjectReference]bool{}
	source := map[types.ManagedObjectReference]string{}
	for ref, v := range s.vms {
		vmName[ref] = v.name
		created[ref] = v.created
		source[ref] = v.source
	}
	for _, fo := range s.failovers {
		sf := savedFailover{FailedHost: fo.host.name, NextBatchAt: fo.nextAt}
		for _, v := range fo.pending {
			sf.Pending = append(sf.Pending, v.name)
		}
		st.Failovers = append(st.Failovers, sf)
	}
	st.Truth = append(st.Truth, s.truth...)
	events := make([]types.BaseEvent, len(s.posted))
	for i, p := range s.posted {
		events[i] = p.event
	}
	s.mu.Unlock()

	for _, h := range copies {
		obj := m.Get(h.ref).(*simulator.HostSystem)
		sh := savedHost{
			Name: h.name, Down: h.phase != hostUp, Phase: string(h.phase), Das: h.das, Failed: h.failed,
			DiesAt: h.diesAt, ShutdownReason: h.shutdownReason, Reboot: h.rebootAfter,
			HeartbeatTimeoutEnds: h.declareAt, BootsAt: h.bootsAt,
		}
		ctx.WithLock(obj, func() {
			sh.PowerState = string(obj.Runtime.PowerState)
			sh.Maintenance = obj.Runtime.InMaintenanceMode
		})
		for _, r := range h.died {
			sh.DiedRunning = append(sh.DiedRunning, vmName[r])
		}
		st.Hosts = append(st.Hosts, sh)
	}
	for ref, name := range vmName {
		vm, ok := m.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		sv := savedVM{Name: name}
		ctx.WithLock(vm, func() {
			if vm.Runtime.Host != nil {
				sv.Host = hostName[*vm.Runtime.Host]
			}
			sv.PowerState = string(vm.Runtime.PowerState)
			sv.Connection = string(vm.Runtime.ConnectionState)
			if len(vm.Datastore) > 0 {
				if ds, ok := m.Get(vm.Datastore[0]).(*simulator.Datastore); ok {
					sv.Datastore = ds.Name
				}
			}
			if created[ref] && vm.Config != nil {
				sv.Created = &savedCreated{GuestID: vm.Config.GuestId, MemoryMB: vm.Config.Hardware.MemoryMB, CPUs: vm.Config.Hardware.NumCPU,
					DiskBytes: diskBytes(vm), InstanceUUID: vm.Config.InstanceUuid, Template: vm.Config.Template, Source: source[ref]}
				for _, d := range vm.Config.Hardware.Device {
					if card, ok := d.(types.BaseVirtualEthernetCard); ok {
						if b, ok := card.GetVirtualEthernetCard().Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
							sv.Created.Network = b.DeviceName
						}
					}
				}
			}
			if vm.Guest != nil {
				sv.GuestIP, sv.GuestTools, sv.GuestHeader = vm.Guest.IpAddress, vm.Guest.ToolsRunningStatus, vm.Guest.HostName
			}
			// Under the VM's lock, as a power operation through the API
			// updates both, so the two agree.
			s.mu.Lock()
			if v := s.vms[ref]; v != nil {
				sv.On, sv.GuestReadyAt = v.on, v.readyAt
			}
			s.mu.Unlock()
		})
		st.VMs = append(st.VMs, sv)
	}
	sort.Slice(st.VMs, func(i, j int) bool { return st.VMs[i].Name < st.VMs[j].Name })
	for _, d := range Datastores {
		if ds, ok := m.FindByName(d.Name, m.Get(s.datastoreFolder()).(*simulator.Folder).ChildEntity).(*simulator.Datastore); ok {
			st.Datastores = append(st.Datastores, savedDatastore{Name: d.Name, FreeSpace: freeSpace(ctx, ds)})
		}
	}

	if len(events) > 0 {
		var buf bytes.Buffer
		if err := xml.NewEncoder(&buf).Encode(types.ArrayOfEvent{Event: events}); err != nil {
			return nil, fmt.Errorf("lab vcenter: encoding the events for the saved state: %w", err)
		}
		st.Events = buf.String()
	}
	return json.MarshalIndent(st, "", "  ")
}

// restore applies a saved State to the freshly built inventory, before the
// server and the power watcher start, and schedules the transitions the
// saved lab was in the middle of. Callers hold s.tx, so none of them runs
// before the lab is complete.
func (s *Site) restore(data []byte) error {
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("lab vcenter: Options.Restore is not a saved lab state: %w", err)
	}
	if st.Version < 1 || st.Version > stateVersion {
		return fmt.Errorf("lab vcenter: Options.Restore has state version %d, this lab reads 1 to %d (save it again with this drbook)", st.Version, stateVersion)
	}
	s.clock = newLabClock(s.opts.Speed, time.Now())
	s.clock.labBase = st.LabTime

	ctx := s.op()
	hostRef := map[string]types.ManagedObjectReference{}
	vmRef := map[string]types.ManagedObjectReference{}
	s.mu.Lock()
	for ref, h := range s.hosts {
		hostRef[h.name] = ref
	}
	for ref, v := range s.vms {
		vmRef[v.name] = ref
	}
	// Ground truth first: a booting VM's entry is linked to its boot below.
	s.truth = append(s.truth, st.Truth...)
	s.mu.Unlock()

	for _, sv := range st.VMs {
		if sv.Created == nil {
			continue
		}
		ref, err := s.recreate(ctx, sv, hostRef)
		if err != nil {
			return err
		}
		vmRef[sv.Name] = ref
	}
	for _, sv := range st.VMs {
		if err := s.restoreVM(ctx, sv, vmRef, hostRef); err != nil {
			return err
		}
	}
	for _, sd := range st.Datastores {
		ds, ok := ctx.Map.FindByName(sd.Name, ctx.Map.Get(s.datastoreFolder()).(*simulator.Folder).ChildEntity).(*simulator.Datastore)
		if !ok {
			return fmt.Errorf("lab vcenter: Options.Restore names datastore %q, which this lab does not have", sd.Name)
		}
		addFreeSpace(ctx, ds, sd.FreeSpace-freeSpace(ctx, ds))
	}
	for _, sh := range st.Hosts {
		if err := s.restoreHost(ctx, st, sh, hostRef, vmRef); err != nil {
			return err
		}
	}
	for _, sf := range st.Failovers {
		ref, ok := hostRef[sf.FailedHost]
		if !ok {
			return fmt.Errorf("lab vcenter: Options.Restore has a failover of host %q, which this lab does not have", sf.FailedHost)
		}
		fo := &failover{host: entityRef{ref, sf.FailedHost}, nextAt: sf.NextBatchAt}
		s.mu.Lock()
		for _, name := range sf.Pending {
			v := s.vms[vmRef[name]]
			if v == nil {
				s.mu.Unlock()
				return fmt.Errorf("lab vcenter: Options.Restore has VM %q to restart, which this lab does not have", name)
			}
			fo.pending = append(fo.pending, vmState{name: v.name, ref: v.ref, memoryMB: v.memoryMB, priority: v.priority})
		}
		s.failovers = append(s.failovers, fo)
		s.afterLocked(sf.NextBatchAt.Sub(st.LabTime), s.transition(func() { s.restartBatch(fo) }))
		s.mu.Unlock()
	}

	if st.Events != "" {
		var arr types.ArrayOfEvent
		dec := xml.NewDecoder(bytes.NewBufferString(st.Events))
		dec.TypeFunc = types.TypeFunc()
		if err := dec.Decode(&arr); err != nil {
			return fmt.Errorf("lab vcenter: Options.Restore has unreadable events: %w", err)
		}
		s.repost(arr.Event)
	}
	s.updateClusterSummary()
	return nil
}

// recreate creates again a VM the saved lab's API had created, with its
// shape, disk, port group and instance UUID, on its host and datastore.
func (s *Site) recreate(ctx *simulator.Context, sv savedVM, hostRef map[string]types.ManagedObjectReference) (types.ManagedObjectReference, error) {
	c := sv.Created
	host, ok := hostRef[sv.Host]
	if !ok {
		return types.ManagedObjectReference{}, fmt.Errorf("lab vcenter: Options.Restore has VM %q on host %q, which this lab does not have", sv.Name, sv.Host)
	}
	dc := ctx.Map.Get(s.dcRef).(*simulator.Datacenter)
	folder := ctx.Map.Get(dc.VmFolder).(*simulator.Folder)
	cl := ctx.Map.Get(s.clusterRef).(*simulator.ClusterComputeResource)
	spec := vmConfigSpec(VMSpec{Name: sv.Name, Datastore: sv.Datastore, MemoryMB: c.MemoryMB, CPUs: c.CPUs, GuestID: c.GuestID}, c.DiskBytes, c.Network)
	spec.InstanceUuid = c.InstanceUUID
	var body soap.HasFault
	ctx.WithLock(folder, func() {
		body = folder.CreateVMTask(ctx, &types.CreateVM_Task{This: folder.Self, Config: spec, Pool: *cl.ResourcePool, Host: &host})
	})
	if f := body.Fault(); f != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("lab vcenter: creating VM %s again: %s", sv.Name, f.String)
	}
	task := ctx.Map.Get(body.(*methods.CreateVM_TaskBody).Res.Returnval).(*simulator.Task)
	task.Wait()
	if task.Info.Error != nil {
		return types.ManagedObjectReference{}, fmt.Errorf("lab vcenter: creating VM %s again: %T", sv.Name, task.Info.Error.Fault)
	}
	ref := task.Info.Result.(types.ManagedObjectReference)
	if c.Template {
		vm := ctx.Map.Get(ref).(*simulator.VirtualMachine)
		ctx.WithLock(vm, func() { vm.MarkAsTemplate(&types.MarkAsTemplate{This: ref}) })
	}
	s.mu.Lock()
	s.vms[ref] = &vmState{name: sv.Name, ref: ref, memoryMB: c.MemoryMB, priority: string(types.ClusterDasVmSettingsRestartPriorityMedium), created: true, source: c.Source}
	s.mu.Unlock()
	return ref, nil
}

// restoreVM puts one VM where the saved lab had it, as it was, and lets a
// guest that was booting finish its boot.
func (s *Site) restoreVM(ctx *simulator.Context, sv savedVM, vmRef, hostRef map[string]types.ManagedObjectReference) error {
	m := ctx.Map
	ref, ok := vmRef[sv.Name]
	to, ok2 := hostRef[sv.Host]
	if !ok || !ok2 {
		return fmt.Errorf("lab vcenter: Options.Restore names VM %q on host %q, which this lab does not have", sv.Name, sv.Host)
	}
	vm := m.Get(ref).(*simulator.VirtualMachine)
	var from types.ManagedObjectReference
	ctx.WithLock(vm, func() { from = *vm.Runtime.Host })
	if from != to {
		for _, hr := range []types.ManagedObjectReference{from, to} {
			h := m.Get(hr).(*simulator.HostSystem)
			add := hr == to
			ctx.WithLock(h, func() {
				var list []types.ManagedObjectReference
				for _, r := range h.Vm {
					if r != ref {
						list = append(list, r)
					}
				}
				if add {
					list = append(list, ref)
				}
				ctx.Update(h, []types.PropertyChange{{Name: "vm", Val: list}})
			})
		}
	}
	if sv.Datastore != "" {
		to, ok := ctx.Map.FindByName(sv.Datastore, ctx.Map.Get(s.datastoreFolder()).(*simulator.Folder).ChildEntity).(*simulator.Datastore)
		if !ok {
			return fmt.Errorf("lab vcenter: Options.Restore has VM %q on datastore %q, which this lab does not have", sv.Name, sv.Datastore)
		}
		var from []types.ManagedObjectReference
		ctx.WithLock(vm, func() { from = append(from, vm.Datastore...) })
		if len(from) != 1 || from[0] != to.Self {
			for _, r := range append(from, to.Self) {
				ds := ctx.Map.Get(r).(*simulator.Datastore)
				add := r == to.Self
				ctx.WithLock(ds, func() {
					var list []types.ManagedObjectReference
					for _, x := range ds.Vm {
						if x != ref {
							list = append(list, x)
						}
					}
					if add {
						list = append(list, ref)
					}
					ctx.Update(ds, []types.PropertyChange{{Name: "vm", Val: list}})
				})
			}
			ctx.WithLock(vm, func() {
				ctx.Update(vm, []types.PropertyChange{{Name: "datastore", Val: []types.ManagedObjectReference{to.Self}}})
			})
		}
	}
	power := types.VirtualMachinePowerState(sv.PowerState)
	changes := []types.PropertyChange{
		{Name: "runtime.host", Val: to},
		{Name: "summary.runtime.host", Val: to},
		{Name: "runtime.powerState", Val: power},
		{Name: "summary.runtime.powerState", Val: power},
		{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionState(sv.Connection)},
		{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionState(sv.Connection)},
	}
	tools := sv.GuestTools == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	identity := sv.Name
	if sv.Created != nil && sv.Created.Source != "" {
		identity = sv.Created.Source
	}
	if n := vmSuffix(identity); sv.GuestIP != "" && n > 0 {
		// The guest's address in this lab's block, which differs from
		// the saved one when that block was taken.
		sv.GuestIP = s.opts.GuestIP(n)
	}
	if power != types.VirtualMachinePowerStatePoweredOn {
		// Saved between a power-off and the guest's tools going away.
		tools = false
		sv.GuestIP, sv.GuestHeader = "", ""
	}
	changes = append(changes, guestChanges(tools, sv.GuestIP, sv.GuestHeader)...)
	ctx.WithLock(vm, func() { ctx.Update(vm, changes) })

	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vms[ref]
	v.on = sv.On
	v.readyAt = time.Time{}
	if !sv.On || sv.GuestReadyAt.IsZero() {
		return nil
	}
	v.bootGen++
	v.readyAt = sv.GuestReadyAt
	gen := v.bootGen
	for i := len(s.truth) - 1; i >= 0; i-- {
		t := &s.truth[i]
		if t.VM == sv.Name && !t.Failed && t.GuestReady.IsZero() {
			t.bootGen = gen
			break
		}
	}
	s.afterLocked(sv.GuestReadyAt.Sub(s.clock.Now()), s.transition(func() { s.guestUp(ref, gen) }))
	return nil
}

// restoreHost restores one host's state and schedules what it was in the
// middle of: its death, HA's heartbeat timeout, its boot.
func (s *Site) restoreHost(ctx *simulator.Context, st savedState, sh savedHost, hostRef, vmRef map[string]types.ManagedObjectReference) error {
	ref, ok := hostRef[sh.Name]
	if !ok {
		return fmt.Errorf("lab vcenter: Options.Restore names host %q, which this lab does not have", sh.Name)
	}
	phase := hostPhase(sh.Phase)
	switch {
	case sh.Phase == "" && sh.Down: // version 1
		phase = hostDown
	case sh.Phase == "":
		phase = hostUp
	case phase != hostUp && phase != hostGoingDown && phase != hostDown && phase != hostBooting && phase != hostStandby:
		return fmt.Errorf("lab vcenter: Options.Restore has host %s in phase %q, which this lab does not know", sh.Name, sh.Phase)
	}
	dead := phase == hostDown || phase == hostBooting

	s.mu.Lock()
	h := s.hosts[ref]
	h.phase, h.das, h.failed = phase, sh.Das, sh.Failed
	h.diedRunning = nil
	for _, n := range sh.DiedRunning {
		h.diedRunning = append(h.diedRunning, vmRef[n])
	}
	gen := h.gen
	if phase == hostGoingDown {
		h.diesAt, h.shutdownReason, h.rebootAfter = sh.DiesAt, sh.ShutdownReason, sh.Reboot
		if h.diesAt.IsZero() {
			h.diesAt = st.LabTime
		}
		s.afterLocked(h.diesAt.Sub(st.LabTime), s.transition(func() { s.shutdownCompletes(ref) }))
	}
	if dead && !sh.Failed {
		h.declareAt = sh.HeartbeatTimeoutEnds
		if h.declareAt.IsZero() && st.Version == 1 {
			// Version 1 did not save the countdown: the HA master, meeting
			// a host it has no heartbeat from, starts a fresh one.
			h.declareAt = st.LabTime.Add(s.opts.HeartbeatTimeout)
		}
		if !h.declareAt.IsZero() {
			s.afterLocked(h.declareAt.Sub(st.LabTime), s.transition(func() { s.declareFailed(ref, gen) }))
		}
	}
	if phase == hostBooting {
		h.bootsAt = sh.BootsAt
		if h.bootsAt.IsZero() {
			h.bootsAt = st.LabTime.Add(s.opts.HostBootDelay)
		}
		s.afterLocked(h.bootsAt.Sub(st.LabTime), s.transition(func() { s.hostBoots(ref, gen) }))
	}
	s.mu.Unlock()

	obj := ctx.Map.Get(ref).(*simulator.HostSystem)
	changes := []types.PropertyChange{
		{Name: "runtime.inMaintenanceMode", Val: sh.Maintenance},
		{Name: "summary.runtime.inMaintenanceMode", Val: sh.Maintenance},
		{Name: "runtime.dasHostState", Val: &types.ClusterDasFdmHostState{State: sh.Das}},
	}
	if phase == hostStandby {
		changes = append(changes,
			types.PropertyChange{Name: "runtime.powerState", Val: types.HostSystemPowerStateStandBy},
			types.PropertyChange{Name: "summary.runtime.powerState", Val: types.HostSystemPowerStateStandBy},
		)
	}
	if dead {
		changes = append(changes,
			types.PropertyChange{Name: "runtime.powerState", Val: types.HostSystemPowerState(sh.PowerState)},
			types.PropertyChange{Name: "summary.runtime.powerState", Val: types.HostSystemPowerState(sh.PowerState)},
			types.PropertyChange{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateNotResponding},
			types.PropertyChange{Name: "summary.runtime.connectionState", Val: types.HostSystemConnectionStateNotResponding},
			types.PropertyChange{Name: "overallStatus", Val: types.ManagedEntityStatusRed},
			types.PropertyChange{Name: "summary.overallStatus", Val: types.ManagedEntityStatusRed},
		)
	}
	ctx.WithLock(obj, func() { ctx.Update(obj, changes) })
	return nil
}

// repost posts saved events again, keeping their original creation times,
// and remaps their morefs to this lab's objects by name.
func (s *Site) repost(events []types.BaseEvent) {
	s.mu.Lock()
	byName := map[string]types.ManagedObjectReference{}
	for ref, h := range s.hosts {
		byName["HostSystem/"+h.name] = ref
	}
	for ref, v := range s.vms {
		byName["VirtualMachine/"+v.name] = ref
	}
	s.mu.Unlock()
	ctx := s.op()
	em := ctx.Map.EventManager()
	for _, e := range events {
		base := e.GetEvent()
		created := base.CreatedTime
		base.Datacenter = &types.DatacenterEventArgument{Datacenter: s.dcRef, EntityEventArgument: types.EntityEventArgument{Name: DatacenterName}}
		base.ComputeResource = &types.ComputeResourceEventArgument{ComputeResource: s.clusterRef, EntityEventArgument: types.EntityEventArgument{Name: ClusterName}}
		if base.Host != nil {
			base.Host.Host = byName["HostSystem/"+base.Host.Name]
		}
		if base.Vm != nil {
			base.Vm.Vm = byName["VirtualMachine/"+base.Vm.Name]
		}
		if ex, ok := e.(*types.EventEx); ok && ex.ObjectType != "" {
			if ref, ok := byName[ex.ObjectType+"/"+ex.ObjectName]; ok {
				ex.ObjectId = ref.Value
			} else if ex.ObjectType == "ClusterComputeResource" {
				ex.ObjectId = s.clusterRef.Value
			}
		}
		ctx.WithLock(em, func() {
			em.PostEvent(ctx, &types.PostEvent{EventToPost: e})
			base.CreatedTime = created
		})
		s.mu.Lock()
		s.posted = append(s.posted, postedEvent{event: e})
		s.mu.Unlock()
	}
}
