package vc

import (
	"context"
	"sync"
	"testing"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

func TestAPIPowerOpsDriveHookAndGuest(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	// HA must not move the VM before the last call below: its restart
	// fails, so it stays on its dead host whenever the call comes.
	opts.FailRestart = []string{"(226)Zabbix"}
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	var mu sync.Mutex
	var seen []string
	s.OnPowerChange(func(vm string, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			seen = append(seen, vm+" on")
		} else {
			seen = append(seen, vm+" off")
		}
	})
	vm := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(226)Zabbix"))
	task, err := vm.PowerOff(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if ip := placement(t, ctx, c)["(226)Zabbix"].Guest.IpAddress; ip != "" {
		t.Fatalf("guest IP %q after power-off, want none", ip)
	}
	task, err = vm.PowerOn(ctx)
	if err == nil {
		err = task.Wait(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	if ip := placement(t, ctx, c)["(226)Zabbix"].Guest.IpAddress; ip != opts.GuestIP(226) {
		t.Fatalf("guest IP %q after power-on, want %s", ip, opts.GuestIP(226))
	}
	mu.Lock()
	if len(seen) != 2 || seen[0] != "(226)Zabbix off" || seen[1] != "(226)Zabbix on" {
		t.Errorf("power hook saw %v", seen)
	}
	mu.Unlock()

	// A VM on a dead host cannot be operated.
	if err := s.FailHost("esx-69"); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.PowerOff(ctx); !fault.Is(err, &types.InvalidHostConnectionState{}) {
		t.Errorf("power-off of a VM on a dead host: %v, want InvalidHostConnectionState", err)
	}
}

func TestRebootHostComesBack(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-69")
	// The watcher runs from before the reboot, so it sees the host go down
	// and come back however late this test is scheduled.
	watching := make(chan struct{})
	seen := make(chan error, 1)
	// It watches the two leaf properties, not "runtime": vcsim fills a
	// change of a parent path with the object's value when it sends the
	// update, so under load the down state could arrive already replaced
	// by the booted one and the wait would never end.
	go func() {
		down := false
		first := true
		var conn types.HostSystemConnectionState
		var power types.HostSystemPowerState
		seen <- property.Wait(ctx, property.DefaultCollector(c), h.Reference(), []string{"runtime.connectionState", "runtime.powerState"}, func(changes []types.PropertyChange) bool {
			if first {
				first = false
				close(watching)
			}
			for _, ch := range changes {
				switch v := ch.Val.(type) {
				case types.HostSystemConnectionState:
					conn = v
				case types.HostSystemPowerState:
					power = v
				}
				if conn == types.HostSystemConnectionStateNotResponding && power == types.HostSystemPowerStateUnknown {
					down = true
				}
				if down && conn == types.HostSystemConnectionStateConnected && power == types.HostSystemPowerStatePoweredOn {
					return true
				}
			}
			return false
		})
	}()
	<-watching
	res, err := methods.RebootHost_Task(ctx, c, &types.RebootHost_Task{This: h.Reference(), Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := object.NewTask(c, res.Returnval).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-seen; err != nil {
		t.Fatalf("watching esx-69 reboot: %v", err)
	}
}
