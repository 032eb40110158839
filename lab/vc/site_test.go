package vc

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// nextBlock hands tests loopback blocks above lab.Start's automatic ones
// (10-209), in turn. They wrap around: a lab vCenter listens on an
// ephemeral port and serves no guests, so two labs sharing a block only
// share the arithmetic of their addresses.
var (
	blockMu   sync.Mutex
	nextBlock = 209
)

func testOptions() Options {
	blockMu.Lock()
	defer blockMu.Unlock()
	nextBlock++
	if nextBlock > 254 {
		nextBlock = 210
	}
	return Options{Block: nextBlock, Speed: 150}
}

func startLab(t *testing.T, opts Options) *Site {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	return s
}

// dial connects like drbook does: TLS verified by the pinned thumbprint,
// never insecure.
func dial(t *testing.T, ctx context.Context, s *Site) (*vim25.Client, *session.Manager) {
	t.Helper()
	sc := soap.NewClient(s.URL, false)
	sc.SetThumbprint(s.URL.Host, s.ThumbprintSHA256)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatalf("connect %s: %v", s.URL, err)
	}
	m := session.NewManager(c)
	if err := m.Login(ctx, url.UserPassword(s.User, s.Password)); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c, m
}

func host(t *testing.T, ctx context.Context, c *vim25.Client, name string) *object.HostSystem {
	t.Helper()
	h, err := find.NewFinder(c).HostSystem(ctx, "/"+DatacenterName+"/host/"+ClusterName+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func hostMO(t *testing.T, ctx context.Context, c *vim25.Client, h *object.HostSystem) mo.HostSystem {
	t.Helper()
	var m mo.HostSystem
	if err := h.Properties(ctx, h.Reference(), []string{"name", "runtime", "vm", "summary"}, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// placement maps each VM name to its host name and power state.
func placement(t *testing.T, ctx context.Context, c *vim25.Client) map[string]mo.VirtualMachine {
	t.Helper()
	vms, err := find.NewFinder(c).VirtualMachineList(ctx, "/"+DatacenterName+"/vm/*")
	if err != nil {
		t.Fatal(err)
	}
	refs := make([]types.ManagedObjectReference, len(vms))
	for i, vm := range vms {
		refs[i] = vm.Reference()
	}
	var out []mo.VirtualMachine
	if err := property.DefaultCollector(c).Retrieve(ctx, refs, []string{"name", "runtime", "guest", "config.hardware.memoryMB"}, &out); err != nil {
		t.Fatal(err)
	}
	m := map[string]mo.VirtualMachine{}
	for _, vm := range out {
		m[vm.Name] = vm
	}
	return m
}

func hostNames(t *testing.T, ctx context.Context, c *vim25.Client) map[types.ManagedObjectReference]string {
	t.Helper()
	out := map[types.ManagedObjectReference]string{}
	for _, n := range HostNames {
		out[host(t, ctx, c, n).Reference()] = n
	}
	return out
}

// settle waits, with no time limit of its own, until the lab has finished
// everything it was in the middle of (Site.WaitIdle): a wait on the lab's
// events, never on the wall clock, so a busy machine only makes it longer.
func settle(t *testing.T, s *Site) {
	t.Helper()
	if err := s.WaitIdle(t.Context()); err != nil {
		t.Fatalf("waiting for the lab to settle: %v", err)
	}
}

func vmRef(t *testing.T, ctx context.Context, c *vim25.Client, name string) *types.ManagedObjectReference {
	t.Helper()
	vm, err := find.NewFinder(c).VirtualMachine(ctx, "/"+DatacenterName+"/vm/"+name)
	if err != nil {
		t.Fatal(err)
	}
	ref := vm.Reference()
	return &ref
}
