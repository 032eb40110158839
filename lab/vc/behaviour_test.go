package vc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// redfish sends one request to a lab BMC and checks the status.
func redfish(t *testing.T, method, u, body string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %s %s, want %d", method, u, res.Status, b, want)
	}
	return b
}

func bmcPowerState(t *testing.T, s *Site, host string) string {
	t.Helper()
	var sys struct{ PowerState, HostName string }
	if err := json.Unmarshal(redfish(t, "GET", s.BMCURL(host), "", http.StatusOK), &sys); err != nil {
		t.Fatal(err)
	}
	if sys.HostName != host {
		t.Fatalf("the BMC at %s says it is %q's", s.BMCURL(host), sys.HostName)
	}
	return sys.PowerState
}

// TestBMCPowersHostsOnAndOff: each host's BMC listens on its own address,
// reports the chassis power, cuts it (ForceOff: the host fails, power state
// unknown in vCenter) and powers a host that is off on, while vCenter's
// PowerUpHostFromStandBy refuses that host.
func TestBMCPowersHostsOnAndOff(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-69")
	if u, _ := url.Parse(s.BMCURL("esx-69")); u.Hostname() != opts.BMCIP(69) {
		t.Fatalf("esx-69's BMC is at %s, want %s", u.Host, opts.BMCIP(69))
	}
	if got := bmcPowerState(t, s, "esx-69"); got != "On" {
		t.Fatalf("power state of a running host: %s", got)
	}
	redfish(t, "POST", s.BMCURL("esx-69")+"/Actions/ComputerSystem.Reset", `{"ResetType": "Off"}`, http.StatusBadRequest)
	redfish(t, "POST", s.BMCURL("esx-69")+"/Actions/ComputerSystem.Reset", `{"ResetType": "On"}`, http.StatusNoContent)
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		t.Fatalf("powering on a running host changed it: %s", m.Runtime.ConnectionState)
	}

	redfish(t, "POST", s.BMCURL("esx-69")+"/Actions/ComputerSystem.Reset", `{"ResetType": "ForceOff"}`, http.StatusNoContent)
	if got := bmcPowerState(t, s, "esx-69"); got != "Off" {
		t.Fatalf("power state after ForceOff: %s", got)
	}
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateNotResponding || m.Runtime.PowerState != types.HostSystemPowerStateUnknown {
		t.Fatalf("vCenter shows a host whose power was cut as %s/%s, want notResponding/unknown", m.Runtime.ConnectionState, m.Runtime.PowerState)
	}
	res, err := methods.PowerUpHostFromStandBy_Task(ctx, c, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: 60})
	if err != nil {
		t.Fatal(err)
	}
	if err := object.NewTask(c, res.Returnval).Wait(ctx); !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("PowerUpHostFromStandBy of a failed host: %v, want InvalidState", err)
	}
	redfish(t, "POST", s.BMCURL("esx-69")+"/Actions/ComputerSystem.Reset", `{"ResetType": "On"}`, http.StatusNoContent)
	if got := bmcPowerState(t, s, "esx-69"); got != "On" {
		t.Fatalf("power state while booting: %s", got)
	}
	settle(t, s)
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected || m.Runtime.PowerState != types.HostSystemPowerStatePoweredOn {
		t.Fatalf("esx-69 after the BMC powered it on: %s/%s", m.Runtime.ConnectionState, m.Runtime.PowerState)
	}
}

// TestStandbyHostPowersUpThroughVCenter: only a host vCenter put into
// standby comes back through PowerUpHostFromStandBy.
func TestStandbyHostPowersUpThroughVCenter(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")
	standby := func() error {
		res, err := methods.PowerDownHostToStandBy_Task(ctx, c, &types.PowerDownHostToStandBy_Task{This: h.Reference(), TimeoutSec: 60})
		if err != nil {
			return err
		}
		return object.NewTask(c, res.Returnval).Wait(ctx)
	}
	if err := standby(); !fault.Is(err, &types.InvalidState{}) {
		t.Fatalf("standby of a host with running VMs: %v, want InvalidState", err)
	}
	for _, name := range esx68VMs {
		task, err := object.NewVirtualMachine(c, *vmRef(t, ctx, c, name)).PowerOff(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := standby(); err != nil {
		t.Fatalf("standby of an empty host: %v", err)
	}
	if m := hostMO(t, ctx, c, h); m.Runtime.PowerState != types.HostSystemPowerStateStandBy {
		t.Fatalf("power state in standby: %s", m.Runtime.PowerState)
	}
	res, err := methods.PowerUpHostFromStandBy_Task(ctx, c, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: 60})
	if err == nil {
		err = object.NewTask(c, res.Returnval).Wait(ctx)
	}
	if err != nil {
		t.Fatalf("PowerUpHostFromStandBy of a standby host: %v", err)
	}
	settle(t, s)
	if m := hostMO(t, ctx, c, h); m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected || m.Runtime.PowerState != types.HostSystemPowerStatePoweredOn {
		t.Fatalf("esx-68 after waking: %s/%s", m.Runtime.ConnectionState, m.Runtime.PowerState)
	}
}

// TestTemplatesAreTemplates: the reference site's two templates are
// templates in vCenter and cannot be powered on.
func TestTemplatesAreTemplates(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	for _, name := range []string{"(90)rhel58-template", "(91)win2003-template"} {
		vm := object.NewVirtualMachine(c, *vmRef(t, ctx, c, name))
		var m mo.VirtualMachine
		if err := vm.Properties(ctx, vm.Reference(), []string{"config.template", "summary.config.template"}, &m); err != nil {
			t.Fatal(err)
		}
		if m.Config == nil || !m.Config.Template || !m.Summary.Config.Template {
			t.Errorf("%s: config.template is not set", name)
		}
		task, err := vm.PowerOn(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err == nil {
			t.Errorf("%s: a template was powered on", name)
		}
	}
	n := 0
	for _, v := range VMs {
		if v.Template() {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d templates in the reference site, want 2", n)
	}
}

// dialNoLogin connects without logging in.
func dialNoLogin(ctx context.Context, s *Site) (*vim25.Client, error) {
	sc := soap.NewClient(s.URL, false)
	sc.SetThumbprint(s.URL.Host, s.ThumbprintSHA256)
	return vim25.NewClient(ctx, sc)
}

// TestVCenterGoesDownWithItsHost: when the host running (227)VCenter
// fails, vCenter's address refuses connections until HA has restarted the
// VM and its guest booted; then the API answers again, every session of
// before is gone (a property read answers NotAuthenticated in its
// MissingSet, as plain vcsim does) and a new login works.
func TestVCenterGoesDownWithItsHost(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h := host(t, ctx, c, "esx-68")

	if err := s.FailHost("esx-70"); err != nil {
		t.Fatal(err)
	}
	// The host's death took the endpoint down at once.
	if _, err := dialNoLogin(ctx, s); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connecting while (227)VCenter is down: %v, want connection refused", err)
	}
	settle(t, s)
	if on, _ := s.MachineOn(VCenterVM); !on {
		t.Fatal("HA did not restart (227)VCenter")
	}

	var m mo.HostSystem
	err := property.DefaultCollector(c).RetrieveOne(ctx, h.Reference(), []string{"name"}, &m)
	if !fault.Is(err, &types.NotAuthenticated{}) {
		t.Fatalf("the old session after vCenter restarted: %v, want NotAuthenticated", err)
	}
	c2, _ := dial(t, ctx, s)
	if err := property.DefaultCollector(c2).RetrieveOne(ctx, h.Reference(), []string{"name"}, &m); err != nil || m.Name != "esx-68" {
		t.Fatalf("a new session: %q, %v", m.Name, err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(s.User, s.Password)); err != nil {
		t.Fatalf("logging in again on the old connection: %v", err)
	}
}

// TestEndpointStates: off refuses connections, starting answers 503 (as
// vCenter's reverse proxy does while vpxd starts), up serves.
func TestEndpointStates(t *testing.T) {
	t.Parallel()
	s := startLab(t, testOptions())
	get := func() (int, error) {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(s.CertPEM)
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}
		res, err := (&http.Client{Transport: tr}).Get(s.URL.String())
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	for _, c := range []struct {
		state   endpointState
		refused bool
		status  int
	}{{endpointOff, true, 0}, {endpointStarting, false, http.StatusServiceUnavailable}, {endpointUp, false, http.StatusMethodNotAllowed}} {
		if err := s.endpoint.set(c.state); err != nil {
			t.Fatal(err)
		}
		code, err := get()
		var op *net.OpError
		switch {
		case c.refused && !(errors.As(err, &op) && errors.Is(err, syscall.ECONNREFUSED)):
			t.Errorf("%s: %d, %v; want connection refused", c.state, code, err)
		case !c.refused && (err != nil || code != c.status):
			t.Errorf("%s: %d, %v; want %d", c.state, code, err, c.status)
		}
	}
}
