package vcenter

import (
	"context"
	"crypto/tls"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

// passwordEnv holds the simulator's password during tests; the site file
// refers to it as a secret reference, as a real site would.
const passwordEnv = "DRBOOK_TEST_VC_PASSWORD"

// sim is a govmomi simulator (the plain VPX model) served over HTTPS on
// loopback, with a site file that pins its certificate.
type sim struct {
	t      *testing.T
	model  *simulator.Model
	server *simulator.Server
	site   *site.Site
	// client is the test's own session, for arranging and checking state.
	client *vim25.Client
	sha256 string
	sha1   string

	mu      sync.Mutex
	methods []string // every SOAP method the simulator was asked to run
}

func newSim(t *testing.T) *sim {
	t.Helper()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	srv := m.Service.NewServer()
	t.Cleanup(func() { srv.Close(); m.Remove() })
	info := srv.CertificateInfo()
	s := &sim{t: t, model: m, server: srv, sha256: info.ThumbprintSHA256, sha1: info.ThumbprintSHA1}
	// The plain simulator has no host shutdown, reboot or power-on. As
	// lab/vc does, put a stoppableHost (embedding the same HostSystem) in
	// the calling session's registry, which vcsim consults first; replacing
	// the HostSystem in the shared registry would break vcsim's VM events.
	m.Map().Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		s.mu.Lock()
		s.methods = append(s.methods, method.Name)
		s.mu.Unlock()
		if ctx.Session == nil || ctx.Session.UserName == "" || method.This.Type != "HostSystem" {
			return nil, nil
		}
		if h, ok := ctx.Map.Get(method.This).(*simulator.HostSystem); ok && ctx.Session.Registry.Get(method.This) == nil {
			ctx.WithLock(h, func() { ctx.Session.Put(&stoppableHost{HostSystem: h}) })
		}
		return nil, nil
	}
	t.Setenv(passwordEnv, "pass")
	u := *srv.URL
	u.User = nil
	s.site = &site.Site{Name: "sim", VCenter: &site.VCenter{URL: u.String(), User: "user",
		Password: site.SecretRef{Source: "env", Name: passwordEnv}, Thumbprints: []string{s.sha256}}}
	s.client = s.login(t)
	// vcsim places a cluster's VMs on random hosts; the tests want both
	// cluster VMs running on the first host.
	for _, name := range []string{"DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1"} {
		v, ref := s.vm(t, name), s.hostRef(t, "DC0_C0_H0")
		s.wait(t, func(ctx context.Context) (*object.Task, error) {
			return v.Relocate(ctx, types.VirtualMachineRelocateSpec{Host: &ref}, types.VirtualMachineMovePriorityHighPriority)
		})
	}
	s.calls(true)
	return s
}

// login opens a separate session that trusts the simulator by thumbprint.
func (s *sim) login(t *testing.T) *vim25.Client {
	t.Helper()
	ctx := context.Background()
	sc := soap.NewClient(s.server.URL, false)
	sc.SetThumbprint(s.server.URL.Host, s.sha1)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword("user", "pass")); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *sim) runtime(t *testing.T) *steptest.Runtime {
	rt := steptest.NewRuntime(t, s.site)
	rt.Started = time.Now().Add(-time.Second)
	return rt
}

// calls returns the SOAP methods called since the last reset.
func (s *sim) calls(reset bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.methods...)
	if reset {
		s.methods = nil
	}
	return out
}

// awaitCall returns once the simulator was asked to run method since the
// last reset of calls: a step in another goroutine is then where the test
// needs it (WaitForUpdatesEx: its filter exists, so it sees every change
// from now on). It fails when finished closes first.
func (s *sim) awaitCall(t *testing.T, method string, finished <-chan struct{}) {
	t.Helper()
	for !slices.Contains(s.calls(false), method) {
		select {
		case <-finished:
			t.Fatalf("the step ended before it called %s", method)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// hosts returns the cluster's hosts, sorted by name.
func (s *sim) clusterHosts() []*simulator.HostSystem {
	var out []*simulator.HostSystem
	for _, e := range s.model.Map().All("HostSystem") {
		h := e.(*simulator.HostSystem)
		if h.Parent != nil && h.Parent.Type == "ClusterComputeResource" {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// vmsOn returns the names of the powered-on VMs on host, sorted.
func (s *sim) vmsOn(t *testing.T, host string) []string {
	t.Helper()
	var vms []mo.VirtualMachine
	s.retrieve(t, "VirtualMachine", []string{"name", "runtime.host", "runtime.powerState"}, &vms)
	ref := s.hostRef(t, host)
	var out []string
	for _, v := range vms {
		if v.Runtime.Host != nil && *v.Runtime.Host == ref && v.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			out = append(out, v.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (s *sim) retrieve(t *testing.T, kind string, props []string, dst any) {
	t.Helper()
	ctx := context.Background()
	v, err := view.NewManager(s.client).CreateContainerView(ctx, s.client.ServiceContent.RootFolder, []string{kind}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Destroy(ctx)
	if err := v.Retrieve(ctx, []string{kind}, props, dst); err != nil {
		t.Fatal(err)
	}
}

func (s *sim) hostRef(t *testing.T, name string) types.ManagedObjectReference {
	t.Helper()
	var hosts []mo.HostSystem
	s.retrieve(t, "HostSystem", []string{"name"}, &hosts)
	for _, h := range hosts {
		if h.Name == name {
			return h.Self
		}
	}
	t.Fatalf("no host %s", name)
	return types.ManagedObjectReference{}
}

func (s *sim) vm(t *testing.T, name string) *object.VirtualMachine {
	t.Helper()
	var vms []mo.VirtualMachine
	s.retrieve(t, "VirtualMachine", []string{"name"}, &vms)
	for _, v := range vms {
		if v.Name == name {
			return object.NewVirtualMachine(s.client, v.Self)
		}
	}
	t.Fatalf("no VM %s", name)
	return nil
}

// state is a fingerprint of everything a step could change: host power,
// connection and maintenance; VM power, placement and snapshots.
func (s *sim) state(t *testing.T) string {
	t.Helper()
	var hosts []mo.HostSystem
	s.retrieve(t, "HostSystem", []string{"name", "runtime"}, &hosts)
	var vms []mo.VirtualMachine
	s.retrieve(t, "VirtualMachine", []string{"name", "runtime.host", "runtime.powerState", "snapshot", "datastore"}, &vms)
	var lines []string
	for _, h := range hosts {
		lines = append(lines, h.Name+" "+string(h.Runtime.ConnectionState)+" "+string(h.Runtime.PowerState)+" "+strings.Repeat("M", btoi(h.Runtime.InMaintenanceMode)))
	}
	for _, v := range vms {
		snaps := 0
		if v.Snapshot != nil {
			snaps = len(v.Snapshot.RootSnapshotList)
		}
		ds := ""
		for _, d := range v.Datastore {
			ds += " " + d.Value
		}
		lines = append(lines, v.Name+" "+v.Runtime.Host.Value+" "+string(v.Runtime.PowerState)+" "+strings.Repeat("S", snaps)+ds)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// moveAndPowerOn emulates vSphere HA restarting a VM on another host.
func (s *sim) moveAndPowerOn(t *testing.T, vmName, host string) {
	t.Helper()
	ctx := context.Background()
	v := s.vm(t, vmName)
	ref := s.hostRef(t, host)
	if st, _ := v.PowerState(ctx); st == types.VirtualMachinePowerStatePoweredOn {
		s.wait(t, v.PowerOff)
	}
	s.wait(t, func(ctx context.Context) (*object.Task, error) {
		return v.Relocate(ctx, types.VirtualMachineRelocateSpec{Host: &ref}, types.VirtualMachineMovePriorityHighPriority)
	})
	s.wait(t, v.PowerOn)
}

func (s *sim) wait(t *testing.T, call func(context.Context) (*object.Task, error)) {
	t.Helper()
	ctx := context.Background()
	task, err := call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// taskMethods lists every *_Task method the simulator's objects answer,
// found by reflection the way the simulator dispatches them.
func (s *sim) taskMethods() []string {
	seen := map[string]bool{}
	for _, kind := range []string{"HostSystem", "VirtualMachine", "ClusterComputeResource", "Folder", "Datacenter", "ResourcePool", "Datastore", "VirtualMachineSnapshot", "DistributedVirtualSwitch"} {
		for _, obj := range s.model.Map().All(kind) {
			o := s.model.Map().Get(obj.Reference())
			t := reflect.TypeOf(o)
			for i := 0; i < t.NumMethod(); i++ {
				name := t.Method(i).Name
				if strings.HasSuffix(name, "Task") && name != "Task" {
					seen[strings.TrimSuffix(name, "Task")+"_Task"] = true
				}
			}
		}
	}
	// Snapshots do not exist until a test takes one, and the host power
	// methods are answered by stoppableHost.
	for _, m := range []string{"RemoveSnapshot_Task", "RevertToSnapshot_Task", "ShutdownHost_Task", "RebootHost_Task", "PowerUpHostFromStandBy_Task"} {
		seen[m] = true
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// stoppableHost adds the host power operations the plain simulator lacks.
type stoppableHost struct {
	*simulator.HostSystem
}

func (h *stoppableHost) stop(ctx *simulator.Context, name string, reboot bool) types.ManagedObjectReference {
	task := simulator.CreateTask(h, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		for _, e := range ctx.Map.All("VirtualMachine") {
			vm := e.(*simulator.VirtualMachine)
			if vm.Runtime.Host == nil || *vm.Runtime.Host != h.Self {
				continue
			}
			ctx.Map.Update(ctx, vm, []types.PropertyChange{
				{Name: "runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
				{Name: "summary.runtime.powerState", Val: types.VirtualMachinePowerStatePoweredOff},
			})
		}
		if !reboot {
			ctx.Map.Update(ctx, h, []types.PropertyChange{
				{Name: "runtime.powerState", Val: types.HostSystemPowerStatePoweredOff},
				{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateNotResponding},
			})
		}
		return nil, nil
	})
	return task.Run(ctx)
}

func (h *stoppableHost) ShutdownHostTask(ctx *simulator.Context, req *types.ShutdownHost_Task) soap.HasFault {
	return &methods.ShutdownHost_TaskBody{Res: &types.ShutdownHost_TaskResponse{Returnval: h.stop(ctx, "shutdownHost", false)}}
}

func (h *stoppableHost) RebootHostTask(ctx *simulator.Context, req *types.RebootHost_Task) soap.HasFault {
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: h.stop(ctx, "rebootHost", true)}}
}

func (h *stoppableHost) PowerUpHostFromStandByTask(ctx *simulator.Context, req *types.PowerUpHostFromStandBy_Task) soap.HasFault {
	task := simulator.CreateTask(h, "powerUpHostFromStandBy", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		ctx.Map.Update(ctx, h, []types.PropertyChange{
			{Name: "runtime.powerState", Val: types.HostSystemPowerStatePoweredOn},
			{Name: "runtime.connectionState", Val: types.HostSystemConnectionStateConnected},
		})
		return nil, nil
	})
	return &methods.PowerUpHostFromStandBy_TaskBody{Res: &types.PowerUpHostFromStandBy_TaskResponse{Returnval: task.Run(ctx)}}
}
