package bmc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

func labSite(t *testing.T) (*vc.Site, *site.Site) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := vc.Start(ctx, vc.Options{Block: 230, Speed: 150})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	st := &site.Site{Name: "lab", Hosts: map[string]site.Host{}}
	for _, h := range vc.HostNames {
		st.Hosts[h] = site.Host{Name: h, BMC: s.BMCURL(h)}
	}
	return s, st
}

func run(t *testing.T, st *site.Site, params string) (*PowerOnResult, *steptest.Runtime, error) {
	t.Helper()
	rt := steptest.NewRuntime(t, st)
	k := powerOn{}
	res, err := k.Execute(context.Background(), rt, steptest.Decode(t, k, params))
	r, _ := res.(*PowerOnResult)
	return r, rt, err
}

// TestPowerOnAtTheBMC powers on, through the lab's BMC, a host vCenter
// cannot power on (it was failed, not put into standby), and does nothing
// to a host that is on.
func TestPowerOnAtTheBMC(t *testing.T) {
	lab, st := labSite(t)
	r, rt, err := run(t, st, `{host: esx-69}`)
	if err != nil || !r.AlreadyOn || len(rt.Notes) != 1 {
		t.Fatalf("a running host: %+v, %v, notes %+v", r, err, rt.Notes)
	}
	if err := lab.FailHost("esx-69"); err != nil {
		t.Fatal(err)
	}
	r, rt, err = run(t, st, `{host: esx-69}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.PowerBefore != "Off" || r.PowerAfter != "On" || r.AlreadyOn || len(rt.Evidences) != 1 {
		t.Fatalf("%+v, evidence %d", r, len(rt.Evidences))
	}
	if on, _ := lab.HostPoweredOn("esx-69"); !on {
		t.Fatal("the lab's host is still off")
	}
	if err := lab.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestPowerOnErrorsSayWhatToDo(t *testing.T) {
	_, st := labSite(t)
	st.Hosts["nobmc"] = site.Host{Name: "nobmc"}
	if _, _, err := run(t, st, `{host: nobmc}`); err == nil || !strings.Contains(err.Error(), "bmc: https://") {
		t.Errorf("a host without bmc: %v", err)
	}
	// A BMC refusing the credentials.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error": {"message": "Invalid credentials"}}`, http.StatusUnauthorized)
	}))
	defer srv.Close()
	st.Hosts["locked"] = site.Host{Name: "locked", BMC: srv.URL + "/redfish/v1/Systems/1", BMCUser: "admin"}
	if _, _, err := run(t, st, `{host: locked}`); err == nil || !strings.Contains(err.Error(), "bmc_user and bmc_password") || !strings.Contains(err.Error(), "Invalid credentials") {
		t.Errorf("a BMC refusing the login: %v", err)
	}
	if errs := (powerOn{}).Validate(&PowerOnParams{}); len(errs) != 2 {
		t.Errorf("empty params: %v", errs)
	}
}

func TestConformance(t *testing.T) {
	_, st := labSite(t)
	rt := steptest.NewRuntime(t, st)
	steptest.Conformance(t, powerOn{}, steptest.Case{Params: `{host: esx-68, timeout: 30s}`, Runtime: rt, CancelBound: 10 * time.Second})
}
