package vc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// postedEvent is an event the lab posted, kept so State can carry it.
type postedEvent struct {
	event types.BaseEvent
}

// stateVersion is bumped when the State format changes incompatibly.
const stateVersion = 1

// savedState is the JSON form of State. Hosts and VMs are named, not
// referenced by moref, because a new lab assigns its own morefs.
type savedState struct {
	Version int         `json:"version"`
	LabTime time.Time   `json:"lab_time"`
	Hosts   []savedHost `json:"hosts"`
	VMs     []savedVM   `json:"vms"`
	Truth   []Restart   `json:"ground_truth,omitempty"`
	// Events is the lab-posted events as a SOAP ArrayOfEvent, the one
	// encoding that keeps every event's concrete type.
	Events string `json:"events,omitempty"`
}

type savedHost struct {
	Name        string   `json:"name"`
	Down        bool     `json:"down"`
	PowerState  string   `json:"power_state"`
	Das         string   `json:"das_state"`
	Failed      bool     `json:"ha_failed,omitempty"`
	DiedRunning []string `json:"died_running,omitempty"`
	Maintenance bool     `json:"maintenance,omitempty"`
}

type savedVM struct {
	Name       string `json:"name"`
	Host       string `json:"host"`
	PowerState string `json:"power_state"`
	Connection string `json:"connection_state"`
	// On is whether the machine really runs (a dead host's VMs still show
	// poweredOn in vCenter).
	On          bool   `json:"on"`
	GuestIP     string `json:"guest_ip,omitempty"`
	GuestTools  string `json:"guest_tools,omitempty"`
	GuestHeader string `json:"guest_hostname,omitempty"`
}

// State returns what belongs to the current run, for a later lab to resume
// from (Options.Restore): lab time, host power states, VM placement and
// power states, the HA ground truth and the events the lab posted. An HA
// failover in progress is not carried: a restored lab restarts the heartbeat
// countdown for a host that was down and not yet declared failed.
func (s *Site) State() ([]byte, error) {
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
	vmOn := map[types.ManagedObjectReference]bool{}
	for ref, v := range s.vms {
		vmName[ref], vmOn[ref] = v.name, v.on
	}
	st.Truth = append(st.Truth, s.truth...)
	events := make([]types.BaseEvent, len(s.posted))
	for i, p := range s.posted {
		events[i] = p.event
	}
	s.mu.Unlock()

	for _, h := range copies {
		obj := m.Get(h.ref).(*simulator.HostSystem)
		sh := savedHost{Name: h.name, Down: h.phase != hostUp, Das: h.das, Failed: h.failed}
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
		sv := savedVM{Name: name, On: vmOn[ref]}
		ctx.WithLock(vm, func() {
			if vm.Runtime.Host != nil {
				sv.Host = hostName[*vm.Runtime.Host]
			}
			sv.PowerState = string(vm.Runtime.PowerState)
			sv.Connection = string(vm.Runtime.ConnectionState)
			if vm.Guest != nil {
				sv.GuestIP, sv.GuestTools, sv.GuestHeader = vm.Guest.IpAddress, vm.Guest.ToolsRunningStatus, vm.Guest.HostName
			}
		})
		st.VMs = append(st.VMs, sv)
	}
	sort.Slice(st.VMs, func(i, j int) bool { return st.VMs[i].Name < st.VMs[j].Name })

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
// server and the power watcher start.
func (s *Site) restore(data []byte) error {
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("lab vcenter: Options.Restore is not a saved lab state: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("lab vcenter: Options.Restore has state version %d, this lab reads %d (save it again with this drbook)", st.Version, stateVersion)
	}
	s.clock = newLabClock(s.opts.Speed, time.Now())
	s.clock.labBase = st.LabTime

	ctx := s.op()
	m := ctx.Map
	hostRef := map[string]types.ManagedObjectReference{}
	vmRef := map[string]types.ManagedObjectReference{}
	s.mu.Lock()
	for ref, h := range s.hosts {
		hostRef[h.name] = ref
	}
	for ref, v := range s.vms {
		vmRef[v.name] = ref
	}
	s.mu.Unlock()

	// Placement first: move VMs between the hosts' vm lists.
	for _, sv := range st.VMs {
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
		changes := []types.PropertyChange{
			{Name: "runtime.host", Val: to},
			{Name: "summary.runtime.host", Val: to},
			{Name: "runtime.powerState", Val: types.VirtualMachinePowerState(sv.PowerState)},
			{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerState(sv.PowerState)},
			{Name: "runtime.connectionState", Val: types.VirtualMachineConnectionState(sv.Connection)},
			{Name: "summary.runtime.connectionState", Val: types.VirtualMachineConnectionState(sv.Connection)},
		}
		tools := sv.GuestTools == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		changes = append(changes, guestChanges(tools, sv.GuestIP, sv.GuestHeader)...)
		ctx.WithLock(vm, func() { ctx.Update(vm, changes) })
		s.mu.Lock()
		s.vms[ref].on = sv.On
		s.mu.Unlock()
	}

	var pendingFailure []types.ManagedObjectReference
	for _, sh := range st.Hosts {
		ref, ok := hostRef[sh.Name]
		if !ok {
			return fmt.Errorf("lab vcenter: Options.Restore names host %q, which this lab does not have", sh.Name)
		}
		s.mu.Lock()
		h := s.hosts[ref]
		h.das, h.failed = sh.Das, sh.Failed
		h.diedRunning = nil
		for _, n := range sh.DiedRunning {
			h.diedRunning = append(h.diedRunning, vmRef[n])
		}
		if sh.Down {
			h.phase = hostDown
			if !sh.Failed {
				pendingFailure = append(pendingFailure, ref)
			}
		}
		s.mu.Unlock()
		obj := m.Get(ref).(*simulator.HostSystem)
		changes := []types.PropertyChange{
			{Name: "runtime.inMaintenanceMode", Val: sh.Maintenance},
			{Name: "runtime.dasHostState", Val: &types.ClusterDasFdmHostState{State: sh.Das}},
		}
		if sh.Down {
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
	}
	s.mu.Lock()
	s.truth = append(s.truth, st.Truth...)
	s.mu.Unlock()

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
	for _, ref := range pendingFailure {
		s.mu.Lock()
		gen := s.hosts[ref].gen
		s.mu.Unlock()
		if s.haEnabled() {
			s.after(s.opts.HeartbeatTimeout, func() { s.declareFailed(ref, gen) })
		}
	}
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
