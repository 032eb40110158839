package vcenter

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

var updateContract = flag.Bool("update-contract", false, "rewrite the golden files of the host kinds' contract in testdata/")

// TestHostKindsContract pins what runbooks and plans see of the host
// kinds (name, summary, traits, defaults, result type, validation
// messages, descriptions), which share their code: a change to one must
// not leak into another. After an intended change run
//
//	go test ./steps/vcenter -run TestHostKindsContract -update-contract
func TestHostKindsContract(t *testing.T) {
	samples := map[string][]string{
		"vcenter.host.shutdown":          {`{host: esx-68, force: true}`, `{host: esx-68}`, `{}`},
		"vcenter.host.reboot":            {`{host: esx-68, force: true}`, `{host: esx-68}`, `{}`},
		"vcenter.host.power_on":          {`{host: esx-68, timeout: 2m}`, `{}`},
		"vcenter.host.enter_maintenance": {`{host: esx-68, evacuate: false, timeout: 1m}`, `{}`},
		"vcenter.host.exit_maintenance":  {`{host: esx-68}`, `{evacuate: true}`},
		"vcenter.host.disconnect":        {`{host: esx-68}`, `{}`},
		"vcenter.host.reconnect":         {`{host: esx-68}`, `{}`},
		"vcenter.host.wait_connected":    {`{host: esx-68, within: 5m}`, `{within: 0s}`},
	}
	var b strings.Builder
	for _, k := range Kinds() {
		if !strings.HasPrefix(k.Name(), "vcenter.host.") {
			continue
		}
		fmt.Fprintf(&b, "== %s\nsummary: %s\ntraits: %+v\ndefaults: %+v\nresult: %T\n", k.Name(), k.Summary(), k.Traits(), k.NewParams(), k.NewResult())
		for _, src := range samples[k.Name()] {
			// DecodeErrors runs the kind's Validate after decoding.
			p, errs := steptest.DecodeErrors(k, src)
			fmt.Fprintf(&b, "%s\n  errors: %v\n", src, errs)
			if len(errs) == 0 {
				fmt.Fprintf(&b, "  describe: %+v\n", k.Describe(p))
			}
		}
		delete(samples, k.Name())
	}
	for name := range samples {
		t.Errorf("no host kind %s", name)
	}
	compareContract(t, "host_kinds.golden", b.String())
}

// compareContract compares got with testdata/name, or rewrites the file
// with -update-contract.
func compareContract(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateContract {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	regen := "go test ./steps/vcenter -run " + t.Name() + " -update-contract"
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create it with: %s", err, regen)
	}
	if got != string(want) {
		t.Errorf("%s no longer matches; if the change is intended, run: %s\ngot:\n%s\nwant:\n%s", path, regen, got, want)
	}
}

// TestHostStateChangesAtRuntime pins what the host state-change kinds do
// and say against the simulator: the notes for a host already in the
// wanted state, the results, and the errors (with the power-on hint), in
// one sequence. Regenerate like TestHostKindsContract.
func TestHostStateChangesAtRuntime(t *testing.T) {
	s := newSim(t)
	var b strings.Builder
	run := func(kind, params string, preflight bool) {
		rt := s.runtime(t)
		k := kindNamed(t, kind)
		fmt.Fprintf(&b, "%s %s", kind, params)
		var res any
		var err error
		if preflight {
			b.WriteString(" (preflight)")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = k.(steps.Preflighter).Preflight(ctx, rt, steptest.Decode(t, k, params))
			cancel()
		} else {
			res, err = execute(t, rt, k, params)
		}
		b.WriteString("\n")
		if r, ok := res.(*hostStateResult); ok && r != nil {
			fmt.Fprintf(&b, "  result: %s %s %s maintenance=%t\n", r.Host, r.ConnectionState, r.PowerState, r.InMaintenance)
		}
		for _, n := range rt.Notes {
			fmt.Fprintf(&b, "  note %s: %s\n", n.Level, n.Text)
		}
		if err != nil {
			fmt.Fprintf(&b, "  error: %s\n", varying.ReplaceAllString(err.Error(), "N"))
		}
	}
	run("vcenter.host.power_on", `{host: DC0_C0_H0}`, false)
	run("vcenter.host.exit_maintenance", `{host: DC0_C0_H1}`, false)
	run("vcenter.host.enter_maintenance", `{host: DC0_C0_H1}`, true)
	run("vcenter.host.enter_maintenance", `{host: DC0_C0_H1}`, false)
	run("vcenter.host.enter_maintenance", `{host: DC0_C0_H1}`, false)
	run("vcenter.host.exit_maintenance", `{host: DC0_C0_H1}`, false)
	run("vcenter.host.disconnect", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.disconnect", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.enter_maintenance", `{host: DC0_C0_H2}`, true)
	run("vcenter.host.enter_maintenance", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.power_on", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.reconnect", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.reconnect", `{host: DC0_C0_H2}`, false)
	run("vcenter.host.disconnect", `{host: DC0_C0_H9}`, false)

	compareContract(t, "host_state_changes.golden", b.String())
}

// varying matches what differs between runs in an error: the simulator's
// port and vCenter task numbers.
var varying = regexp.MustCompile(`(127\.0\.0\.1:|task-)\d+`)
