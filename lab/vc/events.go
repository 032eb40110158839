package vc

import (
	"github.com/vmware/govmomi/vim25/types"
)

// The vSphere HA event type ids real vCenter (5.0 and later) posts, from
// VMware's event catalogue. vCenter posts them as EventEx; the lab does too,
// so an EventFilterSpec.EventTypeId of these ids finds them.
const (
	EventHAHostStateChanged         = "com.vmware.vc.HA.HostStateChangedEvent"
	EventHAHostFailed               = "com.vmware.vc.HA.DasHostFailedEvent"
	EventHAFailoverActionInitiated  = "com.vmware.vc.HA.ClusterFailoverActionInitiatedEvent"
	EventHAFailoverActionCompleted  = "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent"
	EventHAVMRestarted              = "com.vmware.vc.ha.VmRestartedByHAEvent"
	EventHAHostStateHostDown        = "hostDown"
	EventHAHostStateConnectedMaster = "connectedToMaster"
	EventHAHostStateMaster          = "master"
)

// A restart that fails is reported with vCenter's standard event classes:
// VmFailoverFailed ("vSphere HA unsuccessfully failed over …") and, when no
// host has room, NotEnoughResourcesToStartVmEvent before it.

type entityRef struct {
	ref  types.ManagedObjectReference
	name string
}

func (s *Site) event(host, vm *entityRef, msg string) types.Event {
	e := types.Event{
		Datacenter: &types.DatacenterEventArgument{
			Datacenter:          s.dcRef,
			EntityEventArgument: types.EntityEventArgument{Name: DatacenterName},
		},
		ComputeResource: &types.ComputeResourceEventArgument{
			ComputeResource:     s.clusterRef,
			EntityEventArgument: types.EntityEventArgument{Name: ClusterName},
		},
		FullFormattedMessage: msg,
	}
	if host != nil {
		e.Host = &types.HostEventArgument{Host: host.ref, EntityEventArgument: types.EntityEventArgument{Name: host.name}}
	}
	if vm != nil {
		e.Vm = &types.VmEventArgument{Vm: vm.ref, EntityEventArgument: types.EntityEventArgument{Name: vm.name}}
	}
	return e
}

// eventEx builds an EventEx the way vCenter posts HA events: the type id,
// a severity, the object it is about and its arguments.
func (s *Site) eventEx(id, severity string, host, vm *entityRef, msg string, args ...types.KeyAnyValue) *types.EventEx {
	e := &types.EventEx{
		Event:       s.event(host, vm, msg),
		EventTypeId: id,
		Severity:    severity,
		Message:     msg,
		Arguments:   args,
	}
	switch {
	case vm != nil:
		e.ObjectId, e.ObjectType, e.ObjectName = vm.ref.Value, vm.ref.Type, vm.name
	case host != nil:
		e.ObjectId, e.ObjectType, e.ObjectName = host.ref.Value, host.ref.Type, host.name
	default:
		e.ObjectId, e.ObjectType, e.ObjectName = s.clusterRef.Value, s.clusterRef.Type, ClusterName
	}
	return e
}

func arg(key string, val any) types.KeyAnyValue { return types.KeyAnyValue{Key: key, Value: val} }

// post posts events through vcsim's EventManager, so event collectors and
// QueryEvents see them, and remembers them for State.
func (s *Site) post(events ...types.BaseEvent) {
	ctx := s.op()
	em := ctx.Map.EventManager()
	ctx.WithLock(em, func() {
		for _, e := range events {
			em.PostEvent(ctx, &types.PostEvent{EventToPost: e})
		}
	})
	s.mu.Lock()
	for _, e := range events {
		s.posted = append(s.posted, postedEvent{event: e})
	}
	s.mu.Unlock()
}
