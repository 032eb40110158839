package vcenter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/event"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

const (
	h0  = "DC0_C0_H0" // runs vm0 and vm1 in the plain VPX model
	h1  = "DC0_C0_H1"
	h2  = "DC0_C0_H2"
	vm0 = "DC0_C0_RP0_VM0"
	vm1 = "DC0_C0_RP0_VM1"
)

func kindNamed(t *testing.T, name string) steps.Kind {
	t.Helper()
	for _, k := range Kinds() {
		if k.Name() == name {
			return k
		}
	}
	t.Fatalf("no kind %s", name)
	return nil
}

func enableHA(s *sim) {
	c := s.model.Map().Any("ClusterComputeResource").(*simulator.ClusterComputeResource)
	cfg := c.ConfigurationEx.(*types.ClusterConfigInfoEx)
	cfg.DasConfig.Enabled = types.NewBool(true)
	cfg.DasConfig.HostMonitoring = string(types.ClusterDasConfigInfoServiceStateEnabled)
	cfg.DasConfig.AdmissionControlEnabled = types.NewBool(true)
}

func execute(t *testing.T, rt steps.Runtime, k steps.Kind, params string) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return k.Execute(ctx, rt, steptest.Decode(t, k, params))
}

func mustExecute(t *testing.T, rt steps.Runtime, k steps.Kind, params string) any {
	t.Helper()
	res, err := execute(t, rt, k, params)
	if err != nil {
		t.Fatalf("%s %s: %v", k.Name(), params, err)
	}
	return res
}

// TestConformance runs the shared suite for every kind against its own
// simulator over HTTPS.
func TestConformance(t *testing.T) {
	cases := map[string]struct {
		params, slow string
		arrange      func(t *testing.T, s *sim)
	}{
		"vcenter.inventory":              {params: `{record: placement}`},
		"vcenter.cluster.check":          {params: `{ha: true, min_hosts: 3}`, arrange: func(t *testing.T, s *sim) { enableHA(s) }},
		"vcenter.host.shutdown":          {params: `{host: DC0_C0_H0, force: true}`},
		"vcenter.host.reboot":            {params: `{host: DC0_C0_H0, force: true}`},
		"vcenter.host.power_on":          {params: `{host: DC0_C0_H1}`},
		"vcenter.host.enter_maintenance": {params: `{host: DC0_C0_H1, timeout: 1m}`},
		"vcenter.host.exit_maintenance":  {params: `{host: DC0_C0_H1}`},
		"vcenter.host.disconnect":        {params: `{host: DC0_C0_H2}`},
		"vcenter.host.reconnect":         {params: `{host: DC0_C0_H2}`},
		"vcenter.host.wait_connected": {params: `{host: DC0_C0_H1, within: 10s}`, slow: `{host: DC0_H0, within: 1m}`,
			arrange: func(t *testing.T, s *sim) {
				mustExecute(t, s.runtime(t), kindNamed(t, "vcenter.host.disconnect"), `{host: DC0_H0}`)
			}},
		"vcenter.vm.power": {params: `{vm: DC0_C0_RP0_VM1, action: "off"}`},
		"vcenter.vm.wait": {params: `{vm: DC0_C0_RP0_VM0, condition: 'power_state == "poweredOn"', within: 10s}`,
			slow: `{vm: DC0_C0_RP0_VM0, condition: 'ip == "203.0.113.9"', within: 1m}`},
		"vcenter.vm.snapshot": {params: `{vm: DC0_C0_RP0_VM0, action: create, name: before-drill}`},
		"vcenter.vm.clone":    {params: `{vm: DC0_C0_RP0_VM0, datastore: LocalDS_0, name: conformance-replica}`},
		"vcenter.vm.destroy":  {params: `{vm: DC0_C0_RP0_VM1, created_elsewhere_ok: true}`},
		"vcenter.vm.migrate":  {params: `{vm: DC0_C0_RP0_VM0, host: DC0_C0_H1}`},
		"vcenter.events":      {params: `{}`},
		"vcenter.ha.verify_restart": {params: `{failed_host: DC0_C0_H0, vms: [DC0_C0_RP0_VM0], within: 10s}`,
			slow:    `{failed_host: DC0_C0_H0, vms: [DC0_C0_RP0_VM1], within: 1m}`,
			arrange: func(t *testing.T, s *sim) { s.moveAndPowerOn(t, vm0, h1) }},
	}
	for _, k := range Kinds() {
		c, ok := cases[k.Name()]
		if !ok {
			t.Errorf("no conformance case for %s", k.Name())
			continue
		}
		t.Run(k.Name(), func(t *testing.T) {
			s := newSim(t)
			if c.arrange != nil {
				c.arrange(t, s)
			}
			before := s.state(t)
			steptest.Conformance(t, k, steptest.Case{
				Params:  c.params,
				Slow:    c.slow,
				Runtime: s.runtime(t),
				Unchanged: func() bool {
					return s.state(t) == before
				},
			})
		})
	}
}

// TestPreflightSendsNoTask proves that Preflight of every state-changing
// kind sends no *_Task call: every task method is rigged to fail with the
// simulator's fault injection, Preflight still passes, the simulator saw
// no task method, and nothing changed. Execute, by contrast, hits the fault
// and says so.
func TestPreflightSendsNoTask(t *testing.T) {
	params := map[string]string{
		"vcenter.host.shutdown":          `{host: DC0_C0_H0, force: true}`,
		"vcenter.host.reboot":            `{host: DC0_C0_H0, force: true}`,
		"vcenter.host.power_on":          `{host: DC0_C0_H1}`,
		"vcenter.host.enter_maintenance": `{host: DC0_C0_H1}`,
		"vcenter.host.exit_maintenance":  `{host: DC0_C0_H1}`,
		"vcenter.host.disconnect":        `{host: DC0_C0_H2}`,
		"vcenter.host.reconnect":         `{host: DC0_C0_H2}`,
		"vcenter.vm.power":               `{vm: DC0_C0_RP0_VM0, action: reset}`,
		"vcenter.vm.snapshot":            `{vm: DC0_C0_RP0_VM0, action: create, name: x}`,
		"vcenter.vm.clone":               `{vm: DC0_C0_RP0_VM0, datastore: LocalDS_0, host: DC0_C0_H1, network: VM Network, power_on: true}`,
		"vcenter.vm.destroy":             `{vm: DC0_C0_RP0_VM1, created_elsewhere_ok: true}`,
		"vcenter.vm.migrate":             `{vm: DC0_C0_RP0_VM0, host: DC0_C0_H1, datastore: LocalDS_0}`,
	}
	s := newSim(t)
	rules := s.taskMethods()
	for _, m := range rules {
		s.model.Service.AddFaultRule(&simulator.FaultInjectionRule{MethodName: m, ObjectType: "*", ObjectName: "*", Probability: 1,
			FaultType: simulator.FaultTypeGeneric, Message: "injected: " + m + " refused", Enabled: true})
	}
	before := s.state(t)
	for _, k := range Kinds() {
		if !k.Traits().ChangesState {
			continue
		}
		p, ok := params[k.Name()]
		if !ok {
			t.Errorf("no preflight case for state-changing kind %s", k.Name())
			continue
		}
		pf, ok := k.(steps.Preflighter)
		if !ok {
			t.Errorf("%s changes state but has no Preflight", k.Name())
			continue
		}
		rt := s.runtime(t)
		rt.Opts.Plan = true
		s.calls(true)
		if err := pf.Preflight(context.Background(), rt, steptest.Decode(t, k, p)); err != nil {
			t.Errorf("%s: Preflight: %v", k.Name(), err)
		}
		_ = k.Describe(steptest.Decode(t, k, p))
		for _, m := range s.calls(true) {
			if strings.HasSuffix(m, "_Task") {
				t.Errorf("%s: Preflight called %s", k.Name(), m)
			}
		}
	}
	if after := s.state(t); after != before {
		t.Fatalf("preflight changed the simulator:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The rules are live: executing a state-changing kind hits them.
	_, err := execute(t, s.runtime(t), kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0, force: true}`)
	if err == nil || !strings.Contains(err.Error(), "injected: ShutdownHost_Task refused") || !strings.Contains(err.Error(), "shut down host DC0_C0_H0") {
		t.Fatalf("want a clear error naming the host and the fault, got %v", err)
	}
	t.Logf("injected %d task methods; execute error: %v", len(rules), err)
}

func TestUnknownCertificateRefusedThenAcceptedNew(t *testing.T) {
	s := newSim(t)
	s.site.VCenter.Thumbprints = nil
	k := kindNamed(t, "vcenter.inventory")
	rt := s.runtime(t)
	_, err := execute(t, rt, k, `{}`)
	var uc *UnknownCertificateError
	if !errors.As(err, &uc) {
		t.Fatalf("want an unknown-certificate error, got %v", err)
	}
	for _, want := range []string{s.sha256, "thumbprints:", "--accept-new"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if len(rt.Trusts) != 0 {
		t.Fatalf("a refused certificate was journaled as trusted: %+v", rt.Trusts)
	}

	rt = s.runtime(t)
	rt.Opts.AcceptNew = true
	mustExecute(t, rt, k, `{}`)
	want := journal.Trust{Kind: "tls-certificate", Endpoint: s.server.URL.Host, Fingerprint: "SHA256:" + s.sha256, Source: "accepted-new"}
	if len(rt.Trusts) != 1 || rt.Trusts[0] != want {
		t.Fatalf("trust journal = %+v, want [%+v]", rt.Trusts, want)
	}
}

func TestCertificateTrustSources(t *testing.T) {
	s := newSim(t)
	caFile, err := s.server.CertificateFile()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		set  func(*site.VCenter)
		want string
	}{
		"sha256 pin":         {func(v *site.VCenter) { v.Thumbprints = []string{s.sha256} }, "pinned"},
		"sha1 pin lowercase": {func(v *site.VCenter) { v.Thumbprints = []string{strings.ToLower(strings.ReplaceAll(s.sha1, ":", ""))} }, "pinned"},
		"ca file":            {func(v *site.VCenter) { v.Thumbprints = nil; v.CAFile = caFile }, "ca"},
	} {
		t.Run(name, func(t *testing.T) {
			vc := *s.site.VCenter
			c.set(&vc)
			rt := steptest.NewRuntime(t, &site.Site{Name: "sim", VCenter: &vc})
			mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`)
			if len(rt.Trusts) != 1 || rt.Trusts[0].Source != c.want || rt.Trusts[0].Fingerprint != "SHA256:"+s.sha256 {
				t.Fatalf("trust journal = %+v, want one %s entry", rt.Trusts, c.want)
			}
			if !slices.Contains(rt.Secrets, "pass") {
				t.Fatal("the password was not registered for scrubbing")
			}
		})
	}
	t.Run("wrong pin refused", func(t *testing.T) {
		vc := *s.site.VCenter
		vc.Thumbprints = []string{strings.Repeat("AB:", 31) + "AB"}
		rt := steptest.NewRuntime(t, &site.Site{Name: "sim", VCenter: &vc})
		if _, err := execute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`); err == nil || !strings.Contains(err.Error(), s.sha256) {
			t.Fatalf("want refusal naming the real thumbprint, got %v", err)
		}
	})
}

func TestGOVCEnvironment(t *testing.T) {
	s := newSim(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte("# govc known hosts\n"+s.server.URL.Host+" "+s.sha256+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOVC_URL", "https://"+s.server.URL.Host+"/sdk")
	t.Setenv("GOVC_USERNAME", "user")
	t.Setenv("GOVC_PASSWORD", "pass")
	t.Setenv("GOVC_TLS_KNOWN_HOSTS", known)
	rt := steptest.NewRuntime(t, &site.Site{Name: "no-vcenter"})
	res := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`).(*inventoryResult)
	if len(res.Hosts) == 0 || len(rt.Trusts) != 1 || rt.Trusts[0].Source != "pinned" {
		t.Fatalf("hosts %d, trusts %+v", len(res.Hosts), rt.Trusts)
	}
	if !slices.Contains(rt.Secrets, "pass") {
		t.Fatal("GOVC_PASSWORD was not registered for scrubbing")
	}
	// A password inside GOVC_URL could not be hidden from the start of
	// the run, and URLs are printed in errors: it is refused, with the way
	// to give it instead.
	t.Setenv("GOVC_URL", "https://user:Url-Pass-Word-1@"+s.server.URL.Host+"/sdk")
	_, err := execute(t, steptest.NewRuntime(t, &site.Site{Name: "no-vcenter"}), kindNamed(t, "vcenter.inventory"), `{}`)
	if err == nil || !strings.Contains(err.Error(), "GOVC_PASSWORD") || strings.Contains(err.Error(), "Url-Pass-Word-1") {
		t.Fatalf("want GOVC_URL's password refused without showing it, got %v", err)
	}
	t.Setenv("GOVC_URL", "")
	_, err = execute(t, steptest.NewRuntime(t, &site.Site{Name: "empty"}), kindNamed(t, "vcenter.inventory"), `{}`)
	if err == nil || !strings.Contains(err.Error(), "no vcenter section") {
		t.Fatalf("want a hint about the missing vcenter section, got %v", err)
	}
}

// TestSessionExpiryMidRun ends the session in the simulator (as vCenter
// does after 30 idle minutes) while a step waits on the PropertyCollector
// and again between steps: both carry on after a transparent re-login.
func TestSessionExpiryMidRun(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	ctx := context.Background()
	sess, err := connect(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	sess.waitSlice = time.Second
	terminate := func() {
		us, err := session.NewManager(sess.Client).UserSession(ctx)
		if err != nil || us == nil {
			t.Fatalf("current session: %v", err)
		}
		if err := session.NewManager(s.client).TerminateSession(ctx, []string{us.Key}); err != nil {
			t.Fatal(err)
		}
	}

	k := kindNamed(t, "vcenter.vm.wait")
	done := make(chan error, 1)
	finished := make(chan struct{})
	var res any
	s.calls(true)
	go func() {
		defer close(finished)
		var err error
		res, err = execute(t, rt, k, `{vm: DC0_C0_RP0_VM1, condition: 'power_state == "poweredOff"', within: 20s}`)
		done <- err
	}()
	s.awaitCall(t, "WaitForUpdatesEx", finished)
	terminate()
	// The wait's slice ends on the dead session and it logs in again.
	for sess.Relogins() == 0 {
		select {
		case <-finished:
			t.Fatalf("vm.wait ended before it logged in again: %v", <-done)
		case <-time.After(2 * time.Millisecond):
		}
	}
	s.wait(t, s.vm(t, vm1).PowerOff)
	if err := <-done; err != nil {
		t.Fatalf("vm.wait across a session expiry: %v", err)
	}
	if got := res.(*vmWaitResult).Facts.PowerState; got != "poweredOff" {
		t.Fatalf("power state %s", got)
	}
	if sess.Relogins() < 1 {
		t.Fatal("the session was not re-established")
	}

	// Between steps: the next call meets NotAuthenticated and retries.
	n := sess.Relogins()
	terminate()
	inv := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`).(*inventoryResult)
	if len(inv.VMs) == 0 || sess.Relogins() != n+1 {
		t.Fatalf("inventory after expiry: %d VMs, relogins %d→%d", len(inv.VMs), n, sess.Relogins())
	}
}

func TestInventory(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	res := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{record: placement, vms: ["DC0_C0_*"]}`).(*inventoryResult)
	if got, want := res.Placement[h0], s.vmsOn(t, h0); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Fatalf("placement of %s = %v, want %v", h0, got, want)
	}
	for _, v := range res.VMs {
		if !strings.HasPrefix(v.Name, "DC0_C0_") || v.Host == "" || v.PowerState == "" {
			t.Fatalf("unexpected VM row %+v", v)
		}
	}
	if ev := withoutAbout(rt.Evidences); len(ev) != 2 || ev[0].Table == nil || !strings.HasPrefix(ev[0].Title, "placement") {
		t.Fatalf("evidence %+v", rt.Evidences)
	}
}

func TestClusterCheck(t *testing.T) {
	s := newSim(t)
	k := kindNamed(t, "vcenter.cluster.check")
	_, err := execute(t, s.runtime(t), k, `{}`)
	if err == nil || !strings.Contains(err.Error(), "vSphere HA is disabled on cluster DC0_C0") {
		t.Fatalf("want HA disabled named, got %v", err)
	}
	enableHA(s)
	mustExecute(t, s.runtime(t), kindNamed(t, "vcenter.host.enter_maintenance"), `{host: DC0_C0_H2}`)
	res, err := execute(t, s.runtime(t), k, `{admission_control: false}`)
	if err == nil || !strings.Contains(err.Error(), "host DC0_C0_H2 is in maintenance mode") || !strings.Contains(err.Error(), "admission control is on") {
		t.Fatalf("want the maintenance host and admission control named, got %v", err)
	}
	if r := res.(*clusterCheckResult); !r.HAEnabled || len(r.Problems) != 2 {
		t.Fatalf("result %+v", r)
	}
	mustExecute(t, s.runtime(t), kindNamed(t, "vcenter.host.exit_maintenance"), `{host: DC0_C0_H2}`)
	mustExecute(t, s.runtime(t), k, `{}`)
}

func TestHostShutdownRecordsRunningVMsAndPowerOn(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	want := s.vmsOn(t, h0)
	_, err := execute(t, rt, kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0}`)
	if err == nil || !strings.Contains(err.Error(), "not in maintenance mode") || !strings.Contains(err.Error(), "force: true") {
		t.Fatalf("want a refusal without force, got %v", err)
	}
	res := mustExecute(t, rt, kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0, force: true}`).(*hostStopResult)
	if !reflect.DeepEqual(res.VMs, want) || res.CompletedAt.Before(res.RequestedAt) {
		t.Fatalf("result %+v, want VMs %v", res, want)
	}
	if got := s.vmsOn(t, h0); len(got) != 0 {
		t.Fatalf("VMs still running on the shut-down host: %v", got)
	}
	// Shutting down a host that is already down sends nothing and
	// succeeds (shutdown is idempotent: a resumed run may repeat it).
	again := mustExecute(t, rt, kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0, force: true}`).(*hostStopResult)
	if !again.AlreadyDown {
		t.Fatalf("a second shutdown of a down host: %+v, want already_down", again)
	}
	if len(rt.Notes) == 0 || !strings.Contains(rt.Notes[len(rt.Notes)-1].Text, "already down") {
		t.Fatalf("the step should say the host was already down: %+v", rt.Notes)
	}
	// Reboot is not: a host that is down cannot be rebooted.
	_, err = execute(t, rt, kindNamed(t, "vcenter.host.reboot"), `{host: DC0_C0_H0, force: true}`)
	if err == nil || !strings.Contains(err.Error(), "notResponding") {
		t.Fatalf("want a refusal to reboot a host that is down, got %v", err)
	}
	on := mustExecute(t, rt, kindNamed(t, "vcenter.host.power_on"), `{host: DC0_C0_H0}`).(*hostStateResult)
	if on.PowerState != "poweredOn" || on.ConnectionState != "connected" {
		t.Fatalf("power_on result %+v", on)
	}
	mustExecute(t, rt, kindNamed(t, "vcenter.host.wait_connected"), `{host: DC0_C0_H0, within: 5s}`)
}

func TestMaintenanceDisconnectReconnectWait(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	r := mustExecute(t, rt, kindNamed(t, "vcenter.host.enter_maintenance"), `{host: DC0_C0_H1}`).(*hostStateResult)
	if !r.InMaintenance {
		t.Fatalf("%+v", r)
	}
	r = mustExecute(t, rt, kindNamed(t, "vcenter.host.exit_maintenance"), `{host: DC0_C0_H1}`).(*hostStateResult)
	if r.InMaintenance {
		t.Fatalf("%+v", r)
	}
	r = mustExecute(t, rt, kindNamed(t, "vcenter.host.disconnect"), `{host: DC0_C0_H2}`).(*hostStateResult)
	if r.ConnectionState != "disconnected" {
		t.Fatalf("%+v", r)
	}
	// wait_connected blocks on the PropertyCollector until the reconnect.
	// vcsim's ReconnectHost_Task sets the state without publishing it to
	// property collectors, so the wait sees it only when its slice ends and
	// the filter is re-created: shorten the slice for this test.
	sess, err := connect(context.Background(), rt)
	if err != nil {
		t.Fatal(err)
	}
	sess.waitSlice = time.Second
	done := make(chan any, 1)
	finished := make(chan struct{})
	s.calls(true)
	go func() {
		defer close(finished)
		done <- mustExecute(t, rt, kindNamed(t, "vcenter.host.wait_connected"), `{host: DC0_C0_H2, within: 20s}`)
	}()
	s.awaitCall(t, "WaitForUpdatesEx", finished)
	reconnectAt := time.Now()
	mustExecute(t, s.runtime(t), kindNamed(t, "vcenter.host.reconnect"), `{host: DC0_C0_H2}`)
	w := (<-done).(*waitConnectedResult)
	if w.ConnectedAt.Before(reconnectAt) || w.Waited <= 0 {
		t.Fatalf("wait_connected %+v, reconnect at %s", w, reconnectAt)
	}
	_, err = execute(t, rt, kindNamed(t, "vcenter.host.wait_connected"), `{host: DC0_H0, within: 10s}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = execute(t, rt, kindNamed(t, "vcenter.host.enter_maintenance"), `{host: DC0_C0_H9}`)
	if err == nil || !strings.Contains(err.Error(), `host "DC0_C0_H9" not found`) || !strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("want a not-found error with a suggestion, got %v", err)
	}
}

func TestVMPowerWaitSnapshot(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	power := kindNamed(t, "vcenter.vm.power")
	r := mustExecute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: "off"}`).(*vmPowerResult)
	if r.PowerState != "poweredOff" || r.Already {
		t.Fatalf("%+v", r)
	}
	r = mustExecute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: "off"}`).(*vmPowerResult)
	if !r.Already {
		t.Fatalf("second power off should be a no-op: %+v", r)
	}
	mustExecute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: "on"}`)
	mustExecute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: reset}`)

	// Guest shutdown without tools falls back to power off, or fails.
	_, err := execute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: shutdown_guest, fallback: none}`)
	if err == nil || !strings.Contains(err.Error(), "VMware Tools are not running") {
		t.Fatalf("want tools named, got %v", err)
	}
	r = mustExecute(t, rt, power, `{vm: DC0_C0_RP0_VM0, action: shutdown_guest, timeout: 5s}`).(*vmPowerResult)
	if !r.FellBack || r.PowerState != "poweredOff" || len(rt.Notes) == 0 {
		t.Fatalf("%+v notes %+v", r, rt.Notes)
	}

	wait := kindNamed(t, "vcenter.vm.wait")
	done := make(chan any, 1)
	finished := make(chan struct{})
	s.calls(true)
	go func() {
		defer close(finished)
		done <- mustExecute(t, rt, wait, `{vm: DC0_C0_RP0_VM0, condition: 'power_state == "poweredOn" && host != ""', within: 20s}`)
	}()
	s.awaitCall(t, "WaitForUpdatesEx", finished)
	s.wait(t, s.vm(t, vm0).PowerOn)
	w := (<-done).(*vmWaitResult)
	if w.Facts.Host != h0 || w.Facts.PowerState != "poweredOn" {
		t.Fatalf("%+v", w)
	}
	_, err = execute(t, rt, wait, `{vm: DC0_C0_RP0_VM0, condition: 'ip == "203.0.113.9"', within: 500ms}`)
	if err == nil || !strings.Contains(err.Error(), "did not reach") {
		t.Fatalf("want a timeout naming the condition, got %v", err)
	}

	snap := kindNamed(t, "vcenter.vm.snapshot")
	c := mustExecute(t, rt, snap, `{vm: DC0_C0_RP0_VM0, action: create, name: pre}`).(*vmSnapshotResult)
	if c.SnapshotID == "" {
		t.Fatalf("%+v", c)
	}
	mustExecute(t, rt, snap, `{vm: DC0_C0_RP0_VM0, action: revert, name: pre}`)
	mustExecute(t, rt, snap, `{vm: DC0_C0_RP0_VM0, action: remove, name: pre}`)
	_, err = execute(t, rt, snap, `{vm: DC0_C0_RP0_VM0, action: revert, name: pre}`)
	if err == nil || !strings.Contains(err.Error(), `snapshot "pre"`) {
		t.Fatalf("want the missing snapshot named, got %v", err)
	}
}

func TestValidateCatchesMistakes(t *testing.T) {
	for _, c := range []struct{ kind, params, want string }{
		{"vcenter.vm.wait", `{vm: a, condition: 'tools_runing && ip != ""'}`, "tools_runing"},
		{"vcenter.vm.wait", `{vm: a, condition: 'ip'}`, "condition"},
		{"vcenter.vm.power", `{vm: a, action: off_now}`, "action"},
		{"vcenter.host.shutdown", `{force: true}`, "host: is required"},
		{"vcenter.ha.verify_restart", `{failed_host: h, vms: [a, a]}`, "listed twice"},
		{"vcenter.vm.snapshot", `{vm: a, action: revert, name: s, memory: true}`, "only to action: create"},
	} {
		_, errs := steptest.DecodeErrors(kindNamed(t, c.kind), c.params)
		if len(errs) == 0 || !strings.Contains(errs[0].Msg, c.want) {
			t.Errorf("%s %s: got %v, want %q", c.kind, c.params, errs, c.want)
		}
	}
}

func TestFaultInjectedGivesClearError(t *testing.T) {
	s := newSim(t)
	s.model.Service.AddFaultRule(&simulator.FaultInjectionRule{MethodName: "PowerOffVM_Task", ObjectType: "VirtualMachine", ObjectName: vm1,
		Probability: 1, FaultType: simulator.FaultTypeInvalidState, Message: "VM is locked by a backup job", Enabled: true})
	_, err := execute(t, s.runtime(t), kindNamed(t, "vcenter.vm.power"), `{vm: DC0_C0_RP0_VM1, action: "off"}`)
	if err == nil || !strings.Contains(err.Error(), "power off VM DC0_C0_RP0_VM1") || !strings.Contains(err.Error(), "locked by a backup job") {
		t.Fatalf("want the VM, the action and the fault named, got %v", err)
	}
}

func TestEvents(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	s.wait(t, s.vm(t, vm1).PowerOff)
	res := mustExecute(t, rt, kindNamed(t, "vcenter.events"), `{types: [VmPoweredOff]}`).(*eventsResult)
	if res.Count != 1 || res.Events[0].VM != vm1 || res.Events[0].Time.Before(rt.Started) {
		t.Fatalf("%+v", res)
	}
	if ev := withoutAbout(rt.Evidences); len(ev) != 1 || len(ev[0].Timeline) != 1 {
		t.Fatalf("evidence %+v", rt.Evidences)
	}
}

// TestVerifyRestartPlainSimulator emulates HA on the plain simulator by
// moving and powering on the failed host's VMs from the test.
func TestVerifyRestartPlainSimulator(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	shut := mustExecute(t, rt, kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0, force: true}`).(*hostStopResult)
	if !reflect.DeepEqual(shut.VMs, []string{vm0, vm1}) {
		t.Fatalf("shutdown recorded %v", shut.VMs)
	}
	k := kindNamed(t, "vcenter.ha.verify_restart")
	type outcome struct {
		res any
		err error
	}
	done := make(chan outcome, 1)
	finished := make(chan struct{})
	s.calls(true)
	go func() {
		defer close(finished)
		res, err := execute(t, rt, k, `{failed_host: DC0_C0_H0, vms: [DC0_C0_RP0_VM0, DC0_C0_RP0_VM1], within: 20s}`)
		done <- outcome{res, err}
	}()
	s.awaitCall(t, "WaitForUpdatesEx", finished)
	before := time.Now()
	s.moveAndPowerOn(t, vm0, h1)
	s.moveAndPowerOn(t, vm1, h2)
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	res := o.res.(*haVerifyResult)
	if !res.AllRestarted || res.Restarted != 2 {
		t.Fatalf("%+v", res)
	}
	for i, want := range []string{h1, h2} {
		r := res.VMs[i]
		if r.NewHost != want || r.OldHost != h0 || r.SeenOffAt.IsZero() || r.PoweredOnAt.Before(before) || r.AlreadyRunning || r.Outage <= 0 {
			t.Errorf("VM %d: %+v", i, r)
		}
	}
	var table *journal.Table
	for _, e := range rt.Evidences {
		if e.Table != nil && strings.HasPrefix(e.Title, "HA restart") {
			table = e.Table
		}
	}
	if table == nil || len(table.Rows) != 2 {
		t.Fatalf("no per-VM table in %+v", rt.Evidences)
	}
}

func TestVerifyRestartFailsNamingTheVM(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	mustExecute(t, rt, kindNamed(t, "vcenter.host.shutdown"), `{host: DC0_C0_H0, force: true}`)
	s.moveAndPowerOn(t, vm0, h1)
	// vCenter's own word on the VM it could not restart.
	v1 := s.vm(t, vm1)
	err := event.NewManager(s.client).PostEvent(context.Background(), &types.VmFailoverFailed{
		VmEvent: types.VmEvent{Event: types.Event{Vm: &types.VmEventArgument{EntityEventArgument: types.EntityEventArgument{Name: vm1}, Vm: v1.Reference()},
			FullFormattedMessage: "vSphere HA virtual machine failover failed: insufficient resources"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = execute(t, rt, kindNamed(t, "vcenter.ha.verify_restart"), `{failed_host: DC0_C0_H0, vms: [DC0_C0_RP0_VM0, DC0_C0_RP0_VM1], within: 1s}`)
	if err == nil {
		t.Fatal("verify_restart passed with a VM left off")
	}
	msg := err.Error()
	for _, want := range []string{"1 of 2 VMs", vm1 + ": still poweredOff on " + h0, "insufficient resources"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, vm0+":") {
		t.Errorf("the restarted VM is listed as failed:\n%s", msg)
	}
	_, err = execute(t, rt, kindNamed(t, "vcenter.ha.verify_restart"), `{failed_host: DC0_C0_H0, vms: []}`)
	if err == nil || !strings.Contains(err.Error(), "vms is empty") {
		t.Fatalf("an empty VM list must fail, got %v", err)
	}
}

// TestVMWaitWithoutAnAnswerIsNotAFalseCondition: a vcenter.vm.wait whose
// window ended before vCenter sent the VM's state said "did not reach",
// which a monitor journaled as the service down. With vCenter's
// WaitForUpdatesEx slower than the window (plain simulator.VPX(),
// DelayConfig), the error says nothing is known and wraps
// steps.ErrNoAnswer; a VM that answers and is not in the state still
// fails as before, without it.
func TestVMWaitWithoutAnAnswerIsNotAFalseCondition(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	k := kindNamed(t, "vcenter.vm.wait")
	_, err := execute(t, rt, k, `{vm: DC0_C0_RP0_VM0, condition: 'power_state == "poweredOff"', within: 300ms}`)
	if err == nil || errors.Is(err, steps.ErrNoAnswer) || !strings.Contains(err.Error(), "did not reach") {
		t.Fatalf("a running VM waited on for poweredOff: want 'did not reach' without ErrNoAnswer, got %v", err)
	}
	s.model.DelayConfig = simulator.DelayConfig{MethodDelay: map[string]int{"WaitForUpdatesEx": 1500}}
	t.Cleanup(func() { s.model.DelayConfig = simulator.DelayConfig{} })
	_, err = execute(t, rt, k, `{vm: DC0_C0_RP0_VM0, condition: 'power_state == "poweredOn"', within: 300ms}`)
	if !errors.Is(err, steps.ErrNoAnswer) {
		t.Fatalf("vCenter slower than the window: want ErrNoAnswer, got %v", err)
	}
}

// TestEvidenceTimesCarryTheirZone: the HA restart table's times were bare
// clock times in the machine's zone, which a report cannot put in the
// runbook's zone; they are RFC 3339 in UTC, to the millisecond.
func TestEvidenceTimesCarryTheirZone(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 37, 14, 483_900_000, time.FixedZone("CST", 8*3600))
	got := stamp(at)
	back, err := time.Parse(time.RFC3339Nano, got)
	if err != nil || !back.Equal(at.Truncate(time.Millisecond)) || got != "2026-12-02T07:37:14.483Z" {
		t.Fatalf("stamp(%v) = %q (parsed %v, %v)", at, got, back, err)
	}
	if stamp(time.Time{}) != "—" {
		t.Fatal("an unknown time must read —")
	}
}

// TestVMWaitMetIsMetWhenTheWindowEndsAfter: the condition held in the
// first answer, but tearing the wait down in vCenter (DestroyPropertyFilter
// and DestroyPropertyCollector, slow here) ran past the window. That is
// no reason to report the VM as not having reached it: on a loaded
// machine, a 200 ms monitor of a running VM read "down before the drill".
func TestVMWaitMetIsMetWhenTheWindowEndsAfter(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	k := kindNamed(t, "vcenter.vm.wait")
	s.model.DelayConfig = simulator.DelayConfig{MethodDelay: map[string]int{"DestroyPropertyFilter": 800, "DestroyPropertyCollector": 800}}
	t.Cleanup(func() { s.model.DelayConfig = simulator.DelayConfig{} })
	if _, err := execute(t, rt, k, `{vm: DC0_C0_RP0_VM0, condition: 'power_state == "poweredOn"', within: 300ms}`); err != nil {
		t.Fatalf("a running VM waited on for poweredOn: %v", err)
	}
}
