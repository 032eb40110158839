package vc

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

func TestStateRestoresPlacementPowerAndEvents(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	opts.FailRestart = []string{"(72)NTPCWEBFG(02)"}
	first := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, first)
	if err := first.FailHost("esx-68"); err != nil {
		t.Fatal(err)
	}
	settle(t, first)
	if ids := haEvents(t, ctx, c); len(ids) == 0 || ids[len(ids)-1] != EventHAFailoverActionCompleted {
		t.Fatalf("the settled lab's last event is not the failover's completion: %v", ids)
	}
	for _, r := range first.GroundTruth() {
		if !r.Failed && r.GuestReady.IsZero() {
			t.Fatalf("%s's guest is not up after the lab settled", r.VM)
		}
	}
	savedAt := first.Now()
	state, err := first.State()
	if err != nil {
		t.Fatal(err)
	}
	wantVMs := summarize(t, ctx, c)
	wantEvents := haEvents(t, ctx, c)

	opts2 := testOptions()
	opts2.Restore = state
	second := startLab(t, opts2)
	c2, _ := dial(t, ctx, second)
	if got := summarize(t, ctx, c2); !slices.Equal(got, wantVMs) {
		t.Errorf("restored placement differs:\n got %v\nwant %v", got, wantVMs)
	}
	if got := haEvents(t, ctx, c2); !slices.Equal(got, wantEvents) {
		t.Errorf("restored events:\n got %v\nwant %v", got, wantEvents)
	}
	if got, want := len(second.GroundTruth()), len(first.GroundTruth()); got != want {
		t.Errorf("restored ground truth has %d entries, want %d", got, want)
	}
	h := hostMO(t, ctx, c2, host(t, ctx, c2, "esx-68"))
	if h.Runtime.ConnectionState != types.HostSystemConnectionStateNotResponding {
		t.Errorf("restored esx-68 is %s, want notResponding", h.Runtime.ConnectionState)
	}
	if on, ok := second.MachineOn("(65)apfg(02)"); !ok || !on {
		t.Errorf("restored (65)apfg(02) machine on = %v, %v", on, ok)
	}
	if on, _ := second.MachineOn("(72)NTPCWEBFG(02)"); on {
		t.Error("restored (72)NTPCWEBFG(02), which HA failed to restart, is running")
	}
	if second.Now().Before(savedAt) {
		t.Errorf("lab time went back: restored lab says %v, the state was saved at %v", second.Now(), savedAt)
	}
}

// summarize lists "name host power connection tools .ip-suffix" for every
// VM, sorted; the suffix because two labs live in different blocks.
func summarize(t *testing.T, ctx context.Context, c *vim25.Client) []string {
	t.Helper()
	names := hostNames(t, ctx, c)
	var out []string
	for name, vm := range placement(t, ctx, c) {
		ip := vm.Guest.IpAddress
		if i := strings.LastIndex(ip, "."); i >= 0 {
			ip = ip[i:]
		}
		out = append(out, strings.Join([]string{name, names[*vm.Runtime.Host], string(vm.Runtime.PowerState), string(vm.Runtime.ConnectionState), vm.Guest.ToolsRunningStatus, ip}, " "))
	}
	sort.Strings(out)
	return out
}
