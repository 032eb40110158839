package main

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/simulator"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/lab"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// taskMethods lists every *_Task SOAP method the lab's objects answer,
// plus the host power methods the lab adds on top of vcsim.
func taskMethods(m *simulator.Model) []string {
	seen := map[string]bool{"ShutdownHost_Task": true, "RebootHost_Task": true, "PowerUpHostFromStandBy_Task": true,
		"PowerDownHostToStandBy_Task": true, "RemoveSnapshot_Task": true, "RevertToSnapshot_Task": true}
	for _, kind := range []string{"HostSystem", "VirtualMachine", "ClusterComputeResource", "Folder", "Datacenter", "ResourcePool", "Datastore"} {
		for _, obj := range m.Map().All(kind) {
			t := reflect.TypeOf(m.Map().Get(obj.Reference()))
			for i := 0; i < t.NumMethod(); i++ {
				if name := t.Method(i).Name; strings.HasSuffix(name, "Task") && name != "Task" {
					seen[strings.TrimSuffix(name, "Task")+"_Task"] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestPlanAgainstLabSendsNoTask runs the plan of the HA drill against the
// lab while the simulator refuses every *_Task method: every preflight
// still passes and no rule ever fires, so plan sent no state-changing
// call. Running the drill with the same rules hits them at the shutdown,
// which proves the rules are live. (Ansible's vmware_host_powerstate once
// shut hosts down in check mode; drbook must never.)
func TestPlanAgainstLabSendsNoTask(t *testing.T) {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := labSite(l)
	if err != nil {
		t.Fatal(err)
	}
	svc := l.VCenter.Model().Service
	methods := taskMethods(l.VCenter.Model())
	for _, m := range methods {
		svc.AddFaultRule(&simulator.FaultInjectionRule{MethodName: m, ObjectType: "*", ObjectName: "*", Probability: 1,
			FaultType: simulator.FaultTypeGeneric, Message: "plan test: " + m + " is forbidden", Enabled: true})
	}
	rb, err := runbooks.Load("../../runbooks/sanchong/ha-host-failure.yaml", runbooks.Options{Registry: all.Registry(), Site: s})
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.Config{Registry: all.Registry(), OperatorName: "test", Options: steps.Options{Lang: "en"}}
	plan, trusts := engine.Plan(ctx, rb, cfg, true)
	ran := 0
	for _, p := range plan {
		if p.PreflightRan {
			ran++
			if p.Preflight != nil {
				t.Errorf("preflight of %s failed: %v", p.ID, p.Preflight)
			}
		}
	}
	if ran < 5 {
		t.Fatalf("only %d preflights ran; the test proves little", ran)
	}
	if len(trusts) == 0 {
		t.Error("plan should report the pinned vCenter certificate it trusted")
	}
	if n := svc.GetFaultStats()["total_injections"].(int64); n != 0 {
		t.Fatalf("plan sent %d state-changing call(s)", n)
	}
	if on, ok := l.VCenter.MachineOn("(65)apfg(02)"); !ok || !on {
		t.Fatal("the plan changed the lab: (65)apfg(02) is not running")
	}

	// The rules are live: a real run is refused at the shutdown.
	res, err := engine.Start(ctx, rb, engine.Config{Registry: all.Registry(), RunsDir: t.TempDir(), OperatorName: "test", Options: steps.Options{Lang: "en"}})
	if err == nil || res.Outcome != "failed" {
		t.Fatalf("the run should fail at the forbidden shutdown, got %v", err)
	}
	if !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("the failure should come from the injected fault: %v", err)
	}
	if n := svc.GetFaultStats()["total_injections"].(int64); n == 0 {
		t.Fatal("the run sent no task call at all")
	}
}
