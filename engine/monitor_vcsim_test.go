package engine_test

import (
	"context"
	"crypto/tls"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vmware/govmomi/simulator"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
	"github.com/drbook/drbook/steps/vcenter"
)

// monitorGates lets a test step wait until a monitor has been seen in a
// state a number of times: the run waits on journaled events, not on a
// clock.
type monitorGates struct {
	mu     sync.Mutex
	seen   map[string]int
	change chan struct{}
}

func newMonitorGates() *monitorGates {
	return &monitorGates{seen: map[string]int{}, change: make(chan struct{})}
}

func (g *monitorGates) Event(ev journal.Event) {
	if ev.Monitor == nil {
		return
	}
	g.mu.Lock()
	g.seen[ev.Monitor.State]++
	close(g.change)
	g.change = make(chan struct{})
	g.mu.Unlock()
}
func (g *monitorGates) Progress(string, string) {}

// gate is a test kind: it waits until the monitor was seen in state at
// least times times.
type gate struct{ g *monitorGates }

type gateParams struct {
	State string `yaml:"state"`
	Times int    `yaml:"times"`
}

func (gate) Name() string                    { return "gate" }
func (gate) Summary() string                 { return "waits for a monitor state" }
func (gate) Traits() steps.Traits            { return steps.Traits{Idempotent: true} }
func (gate) NewParams() any                  { return &gateParams{Times: 1} }
func (gate) NewResult() any                  { return &struct{}{} }
func (gate) Validate(any) []steps.FieldError { return nil }
func (gate) Describe(any) steps.Description  { return steps.Description{Action: "wait"} }
func (k gate) Execute(ctx context.Context, _ steps.Runtime, p any) (any, error) {
	gp := p.(*gateParams)
	for {
		k.g.mu.Lock()
		n, ch := k.g.seen[gp.State], k.g.change
		k.g.mu.Unlock()
		if n >= gp.Times {
			return &struct{}{}, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// TestMonitorSlowVCenterLoginIsUnknownNotAnOutage runs a vcenter.vm.wait
// monitor against plain simulator.VPX() whose Login takes longer than the
// monitor's interval. The probes that wait for the login got no answer:
// they are journaled "unknown", never "down", so no outage window opens
// (the gates' timeouts only keep a broken engine from hanging the suite)
// before the disruption. The real outage (the VM powered off by the
// disruptive step) is still "down", and its end "up".
func TestMonitorSlowVCenterLoginIsUnknownNotAnOutage(t *testing.T) {
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.DelayConfig = simulator.DelayConfig{MethodDelay: map[string]int{"Login": 2500}}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	srv := m.Service.NewServer()
	defer func() { srv.Close(); m.Remove() }()
	t.Setenv("DRBOOK_TEST_VC_PASSWORD", "slow-login-secret")
	u := *srv.URL
	u.User = nil
	s := &site.Site{Name: "sim", VCenter: &site.VCenter{URL: u.String(), User: "user",
		Password: site.SecretRef{Source: "env", Name: "DRBOOK_TEST_VC_PASSWORD"}, Thumbprints: []string{srv.CertificateInfo().ThumbprintSHA256}}}

	gates := newMonitorGates()
	reg := steps.NewRegistry(append(append(control.Kinds(), vcenter.Kinds()...), gate{gates})...)
	dir := t.TempDir()
	path := filepath.Join(dir, "rb.yaml")
	os.WriteFile(path, []byte(`
name: slow-login
monitors:
  - name: vm
    every: 1s
    vcenter.vm.wait: {vm: DC0_H0_VM0, condition: 'power_state == "poweredOn"', within: 900ms}
steps:
  - id: login
    vcenter.inventory: {}
  - id: baseline
    timeout: 2m
    gate: {state: up}
  - id: off
    disruptive: true
    vcenter.vm.power: {vm: DC0_H0_VM0, action: "off"}
  - id: seen_down
    timeout: 2m
    gate: {state: down}
  - id: on
    recovery: true
    vcenter.vm.power: {vm: DC0_H0_VM0, action: "on"}
  - id: seen_up
    timeout: 2m
    gate: {state: up, times: 3}
`), 0o644)
	rb, err := runbooks.Load(path, runbooks.Options{Registry: reg, Site: s})
	if err != nil {
		t.Fatal(err)
	}
	res, err := engine.Start(context.Background(), rb, engine.Config{Registry: reg, RunsDir: filepath.Join(dir, "runs"), OperatorName: "t",
		Observer: gates, Options: steps.Options{Lang: "en"}})
	if err != nil {
		t.Fatal(err)
	}
	log := readLog(t, res.RunDir)
	var states []string
	disrupted := false
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepStart && ev.Step == "off" {
			disrupted = true
		}
		mon := ev.Monitor
		if mon == nil {
			continue
		}
		states = append(states, mon.State)
		if !disrupted && mon.State == "down" {
			t.Errorf("an outage before the disruption: %+v", mon)
		}
		if mon.State == "unknown" && (!mon.Baseline || !strings.Contains(mon.Detail, "no answer within 1s")) {
			t.Errorf("unknown event %+v: want a baseline state saying the probe got no answer", mon)
		}
	}
	if got := strings.Join(states, ","); got != "unknown,up,up,down,up" {
		t.Errorf("monitor states %s, want unknown (slow login), up (baseline), up (at the disruption), down, up", got)
	}
}
