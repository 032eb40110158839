package vcenter

import (
	"context"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/steps/steptest"
)

// aboutFacts returns the facts of the endpoint evidence rt holds, failing
// unless there is exactly one.
func aboutFacts(t *testing.T, rt *steptest.Runtime) map[string]string {
	t.Helper()
	var found []journal.Evidence
	for _, e := range rt.Evidences {
		if e.Title == AboutTitle {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %q evidences, want exactly one per run: %+v", len(found), AboutTitle, rt.Evidences)
	}
	facts := map[string]string{}
	for _, f := range found[0].Facts {
		facts[f.Key] = f.Value
	}
	return facts
}

func TestAboutOfPlainVCSimJournaledOncePerRun(t *testing.T) {
	s := newSim(t)
	rt := s.runtime(t)
	inv := kindNamed(t, "vcenter.inventory")
	mustExecute(t, rt, inv, `{}`)
	mustExecute(t, rt, inv, `{}`)
	facts := aboutFacts(t, rt)
	// govmomi v0.56.0 simulator/vpx/service_content.go.
	want := map[string]string{"product": "VMware vCenter Server 6.5.0 build-5973321", "version": "6.5.0",
		"build": "5973321", "api type": "VirtualCenter", "endpoint": s.server.URL.Host}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("fact %q = %q, want %q (all: %v)", k, facts[k], v, facts)
		}
	}
	if facts["instance uuid"] == "" {
		t.Errorf("no instance uuid: %v", facts)
	}
	if _, ok := facts[FactLab]; ok {
		t.Errorf("plain vcsim recorded as a lab: %v", facts)
	}
}

func TestLabNamesItselfOverTheAPI(t *testing.T) {
	if labProductName != vc.ProductName || labSpeedSetting != vc.SpeedSetting {
		t.Fatalf("the lab's marker (%q, %q) and what drbook reads (%q, %q) differ", vc.ProductName, vc.SpeedSetting, labProductName, labSpeedSetting)
	}
	_, st := startLabVC(t, vc.Options{Speed: 12.5})
	// Only the lab's own marker counts, not the site's lab flag.
	st.Lab = false
	rt := steptest.NewRuntime(t, st)
	if _, err := connect(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	facts := aboutFacts(t, rt)
	if facts[FactLab] != "drbook lab" || facts[FactLabSpeed] != "12.5" {
		t.Fatalf("the lab's endpoint evidence lacks its marker or speed: %v", facts)
	}
	if facts["api type"] != "VirtualCenter" || facts["version"] == "" {
		t.Errorf("the lab must still say what API it speaks: %v", facts)
	}
}

// withoutAbout is a step's own evidence: evs less the endpoint evidence the
// run's first vCenter step also carries.
func withoutAbout(evs []journal.Evidence) []journal.Evidence {
	var out []journal.Evidence
	for _, e := range evs {
		if e.Title != AboutTitle {
			out = append(out, e)
		}
	}
	return out
}
