package lab

import (
	"testing"
)

// TestRestoredLabGuestFollowsTheFailoverItWasIn saves the vCenter while
// esx-68 is dead and HA's heartbeat timeout runs, and restores it into a new
// lab: its guests start with ap02 off, and the restored failover, not
// anything the test does, brings ap02 back with SSH answering.
func TestRestoredLabGuestFollowsTheFailoverItWasIn(t *testing.T) {
	t.Parallel()
	first := startLab(t, Options{Speed: 100})
	ap := first.Guests["ap02"]
	if err := first.VCenter.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	state, err := first.VCenter.State()
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := first.VCenter.MachineOn(ap.VM); on {
		t.Fatalf("%s still runs after its host failed", ap.VM)
	}
	first.Close()

	second := startLab(t, Options{Speed: 100, Restore: state})
	ap = second.Guests["ap02"]
	// Guest first: the VM powers on before its guest is told, so a guest
	// that runs while its VM does not was never switched off.
	if guestOn, vmOn := ap.Sim.Powered(), machineOn(second, ap.VM); guestOn && !vmOn {
		t.Fatal("the restored lab started ap02's guest although its VM is off")
	}
	if err := second.VCenter.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !machineOn(second, ap.VM) || !ap.Sim.Powered() {
		t.Fatalf("the restored lab never restarted %s (machine on: %v, guest powered: %v)", ap.VM, machineOn(second, ap.VM), ap.Sim.Powered())
	}
	if ready := ap.Sim.Ready(); ready != nil {
		<-ready
	}
	c, err := dial(t, second, ap)
	if err != nil {
		t.Fatalf("ssh to ap02 after the restored failover: %v", err)
	}
	c.Close()
	if truth := second.VCenter.GroundTruth(); len(truth) != 4 {
		t.Errorf("the restored lab restarted %d VMs, want esx-68's 4: %+v", len(truth), truth)
	}
	if !second.Guests["ap03"].Sim.Powered() {
		t.Error("ap03 on esx-69 is off in the restored lab")
	}
}

func machineOn(l *Lab, vm string) bool {
	on, _ := l.VCenter.MachineOn(vm)
	return on
}
