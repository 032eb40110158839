package vc

import (
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// Restart is the ground truth of one HA restart attempt: what the simulator
// did and when, for measuring how late drbook noticed.
type Restart struct {
	VM       string `json:"vm"`
	FromHost string `json:"from_host"`
	// ToHost is empty when the restart failed.
	ToHost string `json:"to_host,omitempty"`
	// PoweredOn is the real wall-clock time the simulator powered the VM on
	// (runtime.powerState became poweredOn on ToHost); PoweredOnLab is the
	// same instant in lab time.
	PoweredOn    time.Time `json:"powered_on"`
	PoweredOnLab time.Time `json:"powered_on_lab"`
	// GuestReady is when VMware Tools ran and the guest IP appeared; zero
	// until then.
	GuestReady    time.Time `json:"guest_ready,omitempty"`
	GuestReadyLab time.Time `json:"guest_ready_lab,omitempty"`
	// Failed is true when HA gave up on the VM; Reason says why.
	Failed bool   `json:"failed,omitempty"`
	Reason string `json:"reason,omitempty"`

	bootGen int
}

// GroundTruth returns every HA restart attempt so far, in order.
func (s *Site) GroundTruth() []Restart {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Restart(nil), s.truth...)
}

type powerChange struct {
	vm string
	on bool
}

// queuePower records a change of a machine's actual power for the hooks.
// Callers hold s.mu.
func (s *Site) queuePower(vm string, on bool) {
	s.queue = append(s.queue, powerChange{vm, on})
	s.wake.Broadcast()
	if vm == VCenterVM {
		s.vcenterPowered(on)
	}
}

// deliverPowerChanges calls the hooks in order, outside every lock, so a
// slow hook never stalls the simulator.
func (s *Site) deliverPowerChanges() {
	defer s.notified.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.wake.Wait()
		}
		batch, hooks := s.queue, append([]func(vm string, on bool){}, s.hooks...)
		s.queue = nil
		closed := s.closed
		s.delivering++
		s.mu.Unlock()
		for _, c := range batch {
			for _, h := range hooks {
				h(c.vm, c.on)
			}
		}
		s.mu.Lock()
		s.delivering--
		s.idle.Broadcast()
		s.mu.Unlock()
		if closed {
			return
		}
	}
}

// machinePowered is called by the power watcher, under vcsim's lock on the
// VM, whenever runtime.powerState is written. It acts only on real changes
// of the machine's power.
func (s *Site) machinePowered(ref types.ManagedObjectReference, name string, config *types.VirtualMachineConfigInfo, on bool) {
	s.mu.Lock()
	v, ok := s.vms[ref]
	if !ok {
		v = &vmState{name: name, ref: ref, priority: string(types.ClusterDasVmSettingsRestartPriorityMedium)}
		if config != nil {
			v.memoryMB = config.Hardware.MemoryMB
		}
		s.vms[ref] = v
	}
	if v.on == on {
		s.mu.Unlock()
		return
	}
	v.on = on
	v.bootGen++
	gen := v.bootGen
	s.queuePower(v.name, on)
	v.readyAt = time.Time{}
	if on {
		v.readyAt = s.clock.Now().Add(s.opts.VMBootDelay)
		s.afterLocked(s.opts.VMBootDelay, s.transition(func() { s.guestUp(ref, gen) }))
	} else {
		s.afterLocked(0, s.transition(func() { s.guestDown(ref, gen) }))
	}
	s.mu.Unlock()
}

// guestUp is the end of a VM's boot: VMware Tools report running and the
// guest IP appears. Callers hold s.tx.
func (s *Site) guestUp(ref types.ManagedObjectReference, gen int) {
	s.mu.Lock()
	v, ok := s.vms[ref]
	if !ok || !v.on || v.bootGen != gen {
		s.mu.Unlock()
		return
	}
	v.readyAt = time.Time{}
	name, identity := v.name, v.guestIdentity()
	s.mu.Unlock()

	ctx := s.op()
	vm, ok := ctx.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	ip := ""
	if n := vmSuffix(identity); n > 0 {
		ip = s.opts.GuestIP(n)
	}
	changes := guestChanges(true, ip, guestHostName(identity))
	ctx.WithLock(vm, func() { ctx.Update(vm, changes) })
	if name == VCenterVM {
		s.vcenterBooted()
	}

	now := time.Now()
	s.mu.Lock()
	for i := len(s.truth) - 1; i >= 0; i-- {
		t := &s.truth[i]
		if t.VM == name && !t.Failed && t.bootGen == gen && t.GuestReady.IsZero() {
			t.GuestReady, t.GuestReadyLab = now, s.clock.at(now)
			break
		}
	}
	s.mu.Unlock()
}

// guestDown clears what VMware Tools reported once a VM is off. Callers
// hold s.tx.
func (s *Site) guestDown(ref types.ManagedObjectReference, gen int) {
	s.mu.Lock()
	v, ok := s.vms[ref]
	if !ok || v.on || v.bootGen != gen {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	ctx := s.op()
	if vm, ok := ctx.Map.Get(ref).(*simulator.VirtualMachine); ok {
		ctx.WithLock(vm, func() { ctx.Update(vm, guestChanges(false, "", "")) })
	}
}

// guestChanges are the property changes of a guest coming up or going away.
func guestChanges(up bool, ip, hostName string) []types.PropertyChange {
	running := string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	tools := types.VirtualMachineToolsStatusToolsOk
	state := string(types.VirtualMachineGuestStateRunning)
	heartbeat := types.ManagedEntityStatusGreen
	var nics []types.GuestNicInfo
	if up && ip != "" {
		nics = []types.GuestNicInfo{{Network: "VM Network", IpAddress: []string{ip}, Connected: true, DeviceConfigId: 4000}}
	}
	if !up {
		running = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
		tools = types.VirtualMachineToolsStatusToolsNotRunning
		state = string(types.VirtualMachineGuestStateNotRunning)
		heartbeat = types.ManagedEntityStatusGray
	}
	return []types.PropertyChange{
		{Name: "guest.toolsRunningStatus", Val: running},
		{Name: "guest.toolsStatus", Val: tools},
		{Name: "guest.guestState", Val: state},
		{Name: "guest.ipAddress", Val: ip},
		{Name: "guest.hostName", Val: hostName},
		{Name: "guest.net", Val: nics},
		{Name: "guestHeartbeatStatus", Val: heartbeat},
		{Name: "summary.guest.toolsRunningStatus", Val: running},
		{Name: "summary.guest.toolsStatus", Val: tools},
		{Name: "summary.guest.ipAddress", Val: ip},
		{Name: "summary.guest.hostName", Val: hostName},
		{Name: "summary.quickStats.guestHeartbeatStatus", Val: heartbeat},
	}
}

// GuestBootRemaining is how much longer, in real time, the named VM's
// guest takes to finish booting (VMware Tools and its IP up): zero when
// its machine is off or has booted. A restored lab uses it to hold a
// guest that was still booting when the state was saved.
func (s *Site) GuestBootRemaining(vm string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.vms {
		if v.name == vm && v.on && !v.readyAt.IsZero() {
			return max(s.clock.Real(v.readyAt.Sub(s.clock.Now())), 0)
		}
	}
	return 0
}

// MachineOn reports whether the named VM's machine really runs (which is
// what its guest should follow); ok is false for an unknown VM.
func (s *Site) MachineOn(vm string) (on, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.vms {
		if v.name == vm {
			return v.on, true
		}
	}
	return false, false
}
