package vc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

var esx68VMs = []string{"(60)mailserver", "(65)apfg(02)", "(72)NTPCWEBFG(02)", "(97)apfg(05)"}

func shutdownHost(ctx context.Context, c *vim25.Client, ref types.ManagedObjectReference, force bool) error {
	res, err := methods.ShutdownHost_Task(ctx, c, &types.ShutdownHost_Task{This: ref, Force: force})
	if err != nil {
		return err
	}
	return object.NewTask(c, res.Returnval).Wait(ctx)
}

func TestShutdownWithoutForceRefusedOutsideMaintenanceMode(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-69")

	err := shutdownHost(ctx, c, h.Reference(), false)
	if !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("shutdown without force outside maintenance mode: err = %v, want InvalidState", err)
	}
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		t.Fatalf("refused shutdown still took the host down: %s", m.Runtime.ConnectionState)
	}

	task, err := h.EnterMaintenanceMode(ctx, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := shutdownHost(ctx, c, h.Reference(), false); err != nil {
		t.Fatalf("shutdown without force in maintenance mode: %v", err)
	}
	settle(t, s)
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateNotResponding ||
		m.Runtime.PowerState != types.HostSystemPowerStateUnknown {
		t.Fatalf("host after its shutdown: %s/%s, want notResponding/unknown", m.Runtime.ConnectionState, m.Runtime.PowerState)
	}
	if err := shutdownHost(ctx, c, h.Reference(), true); !fault.Is(err, &types.InvalidHostConnectionState{}) {
		t.Fatalf("shutdown of a host that is down: err = %v, want InvalidHostConnectionState", err)
	}
}

func TestHostFailureHARestartsVMsOnSurvivors(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	names := hostNames(t, ctx, c)
	h68 := host(t, ctx, c, "esx-68")

	var mu sync.Mutex
	var power []string
	s.OnPowerChange(func(vm string, on bool) {
		mu.Lock()
		defer mu.Unlock()
		state := "off"
		if on {
			state = "on"
		}
		power = append(power, vm+" "+state)
	})

	begin := time.Now()
	if err := shutdownHost(ctx, c, h68.Reference(), true); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	for n, vm := range placement(t, ctx, c) {
		if slices.Contains(esx68VMs, n) && (vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || names[*vm.Runtime.Host] == "esx-68" || vm.Guest.IpAddress == "") {
			t.Fatalf("%s after the failover: %s on %s, IP %q; want running elsewhere with its IP", n, vm.Runtime.PowerState, names[*vm.Runtime.Host], vm.Guest.IpAddress)
		}
	}
	elapsed := time.Since(begin)

	m := hostMO(t, ctx, c, h68)
	if m.Runtime.PowerState != types.HostSystemPowerStateUnknown || m.Runtime.ConnectionState != types.HostSystemConnectionStateNotResponding {
		t.Errorf("esx-68 runtime = %s/%s, want unknown/notResponding (vCenter cannot ask a host it lost)", m.Runtime.PowerState, m.Runtime.ConnectionState)
	}
	if m.Runtime.DasHostState == nil || m.Runtime.DasHostState.State != "hostDown" {
		t.Errorf("esx-68 dasHostState = %+v, want hostDown", m.Runtime.DasHostState)
	}

	vms := placement(t, ctx, c)
	if got := names[*vms["(65)apfg(02)"].Runtime.Host]; got != "esx-70" {
		t.Errorf("(65)apfg(02) restarted on %s; the report's drill restarted it on esx-70", got)
	}
	for _, n := range esx68VMs {
		if ip := vms[n].Guest.IpAddress; ip != opts.GuestIP(vmSuffix(n)) {
			t.Errorf("%s guest IP = %s", n, ip)
		}
	}
	// Capacity: no surviving host runs more memory than it has.
	used := map[string]int64{}
	for _, vm := range vms {
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			used[names[*vm.Runtime.Host]] += int64(vm.Config.Hardware.MemoryMB)
		}
	}
	for h, mb := range used {
		if h != "esx-68" && mb > 80*1024 {
			t.Errorf("%s runs %d MB of VMs, more than its 80 GB", h, mb)
		}
	}

	truth := s.GroundTruth()
	if len(truth) != 4 {
		t.Fatalf("ground truth has %d restarts, want 4: %+v", len(truth), truth)
	}
	for _, r := range truth {
		if r.Failed || r.FromHost != "esx-68" || r.ToHost == "" || r.PoweredOn.Before(begin) || r.PoweredOn.After(begin.Add(elapsed)) {
			t.Errorf("implausible ground truth %+v", r)
		}
		if r.GuestReady.IsZero() || !r.GuestReady.After(r.PoweredOn) {
			t.Errorf("%s: guest ready %v not after power-on %v", r.VM, r.GuestReady, r.PoweredOn)
		}
		if lab := r.PoweredOnLab.Sub(s.clock.at(begin)); lab < s.Options().HeartbeatTimeout {
			t.Errorf("%s restarted %s (lab) after the shutdown, before the heartbeat timeout", r.VM, lab)
		}
		if names[*vms[r.VM].Runtime.Host] != r.ToHost {
			t.Errorf("ground truth says %s went to %s, vCenter says %s", r.VM, r.ToHost, names[*vms[r.VM].Runtime.Host])
		}
	}

	ids := haEvents(t, ctx, c)
	want := []string{
		"HostShutdownEvent", "HostConnectionLostEvent",
		EventHAHostStateChanged, EventHAHostFailed, EventHAFailoverActionInitiated,
		EventHAVMRestarted, EventHAVMRestarted, EventHAVMRestarted, EventHAVMRestarted,
		EventHAFailoverActionCompleted,
	}
	if !slices.Equal(ids, want) {
		t.Errorf("events in order:\n got %v\nwant %v", ids, want)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, n := range esx68VMs {
		off, on := slices.Index(power, n+" off"), slices.Index(power, n+" on")
		if off < 0 || on < off {
			t.Errorf("power hook for %s: %v", n, power)
		}
	}
}

// haEvents returns, oldest first, the ids of the host and HA events posted
// after the inventory was built.
func haEvents(t *testing.T, ctx context.Context, c *vim25.Client) []string {
	t.Helper()
	m := event.NewManager(c)
	events, err := m.QueryEvents(ctx, types.EventFilterSpec{
		// Without it vcsim answers with its default page of 10 events.
		MaxCount: 1000,
		EventTypeId: []string{
			"HostShutdownEvent", "HostConnectionLostEvent", "HostConnectedEvent", "VmFailoverFailed", "NotEnoughResourcesToStartVmEvent",
			EventHAHostStateChanged, EventHAHostFailed, EventHAFailoverActionInitiated, EventHAFailoverActionCompleted, EventHAVMRestarted,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := len(events) - 1; i >= 0; i-- {
		switch e := events[i].(type) {
		case *types.EventEx:
			ids = append(ids, e.EventTypeId)
		default:
			ids = append(ids, strings.TrimPrefix(fmt.Sprintf("%T", e), "*types."))
		}
	}
	return ids
}

func TestFailRestartOptionLeavesVMDown(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.FailRestart = []string{"(60)mailserver"}
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	names := hostNames(t, ctx, c)

	if err := s.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if ids := haEvents(t, ctx, c); len(ids) == 0 || ids[len(ids)-1] != EventHAFailoverActionCompleted {
		t.Fatalf("the settled lab's last event is not the failover's completion: %v", ids)
	}
	vms := placement(t, ctx, c)
	mail := vms["(60)mailserver"]
	if names[*mail.Runtime.Host] != "esx-68" || mail.Runtime.ConnectionState != types.VirtualMachineConnectionStateDisconnected {
		t.Errorf("(60)mailserver = host %s, %s; want left on the dead esx-68, disconnected", names[*mail.Runtime.Host], mail.Runtime.ConnectionState)
	}
	if h := hostMO(t, ctx, c, host(t, ctx, c, "esx-68")); h.Runtime.PowerState != types.HostSystemPowerStateUnknown {
		t.Errorf("a host that lost power shows power state %s, want unknown", h.Runtime.PowerState)
	}
	ids := haEvents(t, ctx, c)
	if slices.Contains(ids, "HostShutdownEvent") {
		t.Errorf("a power failure posted a shutdown event: %v", ids)
	}
	if n := count(ids, "VmFailoverFailed"); n != 1 {
		t.Errorf("%d VmFailoverFailed events, want 1: %v", n, ids)
	}
	if n := count(ids, EventHAVMRestarted); n != 3 {
		t.Errorf("%d restarted events, want 3: %v", n, ids)
	}
	var failed []Restart
	for _, r := range s.GroundTruth() {
		if r.Failed {
			failed = append(failed, r)
		}
	}
	if len(failed) != 1 || failed[0].VM != "(60)mailserver" || failed[0].Reason == "" {
		t.Errorf("ground truth failures = %+v", failed)
	}
}

func TestHARespectsHostMemory(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	// 60 GB hosts: esx-69 has 8 GB free and esx-70 14 GB, not enough for
	// esx-68's 30 GB.
	opts.HostMemoryGB = 60
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	names := hostNames(t, ctx, c)

	if err := s.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if ids := haEvents(t, ctx, c); len(ids) == 0 || ids[len(ids)-1] != EventHAFailoverActionCompleted {
		t.Fatalf("the settled lab's last event is not the failover's completion: %v", ids)
	}
	vms := placement(t, ctx, c)
	used := map[string]int64{}
	for _, vm := range vms {
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && vm.Runtime.ConnectionState == types.VirtualMachineConnectionStateConnected {
			used[names[*vm.Runtime.Host]] += int64(vm.Config.Hardware.MemoryMB)
		}
	}
	for h, mb := range used {
		if mb > 60*1024 {
			t.Errorf("%s runs %d MB, more than its 60 GB", h, mb)
		}
	}
	ids := haEvents(t, ctx, c)
	if count(ids, "NotEnoughResourcesToStartVmEvent") != 1 || count(ids, "VmFailoverFailed") != 1 || count(ids, EventHAVMRestarted) != 3 {
		t.Errorf("events %v: want 3 restarts and 1 VM without room", ids)
	}
}

func TestPowerUpBringsHostBack(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.FailRestart = []string{"(60)mailserver"}
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")

	res, err := methods.PowerUpHostFromStandBy_Task(ctx, c, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: 600})
	if err != nil {
		t.Fatal(err)
	}
	if err := object.NewTask(c, res.Returnval).Wait(ctx); !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("power-up of a running host: err = %v, want InvalidState", err)
	}

	if err := shutdownHost(ctx, c, h.Reference(), true); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if ids := haEvents(t, ctx, c); len(ids) == 0 || ids[len(ids)-1] != EventHAFailoverActionCompleted {
		t.Fatalf("the settled lab's last event is not the failover's completion: %v", ids)
	}
	// Shut down is not standby: vCenter cannot power it on.
	res, err = methods.PowerUpHostFromStandBy_Task(ctx, c, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: 600})
	if err != nil {
		t.Fatal(err)
	}
	if err := object.NewTask(c, res.Returnval).Wait(ctx); !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("power-up from standby of a host that was shut down: err = %v, want InvalidState", err)
	}
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateNotResponding {
		t.Fatalf("a refused power-up changed the host: %s", m.Runtime.ConnectionState)
	}
	// Its BMC can, over Redfish.
	redfish(t, "POST", s.BMCURL("esx-68")+"/Actions/ComputerSystem.Reset", `{"ResetType": "On"}`, http.StatusNoContent)
	settle(t, s)
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected || m.Runtime.PowerState != types.HostSystemPowerStatePoweredOn {
		t.Fatalf("esx-68 after the BMC powered it on: %s/%s", m.Runtime.ConnectionState, m.Runtime.PowerState)
	}
	vms := placement(t, ctx, c)
	mail := vms["(60)mailserver"]
	if mail.Runtime.ConnectionState != types.VirtualMachineConnectionStateConnected || mail.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		t.Errorf("the VM HA could not restart is %s/%s after its host booted, want connected/poweredOff", mail.Runtime.ConnectionState, mail.Runtime.PowerState)
	}
	// The host is usable again: a VM powers on there.
	tmpl := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(60)mailserver"))
	task, err := tmpl.PowerOn(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		t.Fatalf("power on a VM on the returned host: %v", err)
	}
}

func count(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}
