package vcenter

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"net/url"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"

	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

// vmNames lists every VM vCenter has, sorted.
func (s *sim) vmNames(t *testing.T) []string {
	t.Helper()
	var vms []mo.VirtualMachine
	s.retrieve(t, "VirtualMachine", []string{"name"}, &vms)
	var out []string
	for _, v := range vms {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out
}

// TestCloneMigrateDestroyAgainstVPX runs the three kinds against plain
// vcsim over HTTPS: a clone onto a port group, recorded in the journal
// with the instance UUID drbook chose; a second run of the step reuses it;
// destroy refuses a VM this run did not create and removes the replica;
// migrate moves a VM by vMotion and records that it stayed powered on.
func TestCloneMigrateDestroyAgainstVPX(t *testing.T) {
	s := newSim(t)
	before := s.vmNames(t)
	rt := s.runtime(t)
	clone, destroy, migrate := kindNamed(t, "vcenter.vm.clone"), kindNamed(t, "vcenter.vm.destroy"), kindNamed(t, "vcenter.vm.migrate")

	res := mustExecute(t, rt, clone, `{vm: DC0_C0_RP0_VM0, datastore: LocalDS_0, host: DC0_C0_H1, network: DC0_DVPG0, power_on: true}`).(*vmCloneResult)
	if res.Name != "DC0_C0_RP0_VM0-replica" || res.Host != "DC0_C0_H1" || res.Datastore != "LocalDS_0" || !res.PoweredOn || res.Reused {
		t.Errorf("clone result: %+v", res)
	}
	if len(res.Networks) == 0 || !strings.HasPrefix(res.Networks[0], "dvportgroup ") {
		t.Errorf("the replica's NICs are on %v, want the distributed port group", res.Networks)
	}
	if !createdByRun(rt, res.Name, res.InstanceUUID) {
		t.Errorf("the journal holds no record of the replica with UUID %s: %+v", res.InstanceUUID, rt.Evidences)
	}
	again := mustExecute(t, rt, clone, `{vm: DC0_C0_RP0_VM0, datastore: LocalDS_0, host: DC0_C0_H1, network: DC0_DVPG0, power_on: true}`).(*vmCloneResult)
	if !again.Reused || again.InstanceUUID != res.InstanceUUID {
		t.Errorf("re-running the clone: %+v, want the same replica reused", again)
	}

	// Another run (a fresh journal) does not know the replica.
	other := s.runtime(t)
	if _, err := execute(t, other, clone, `{vm: DC0_C0_RP0_VM0, datastore: LocalDS_0}`); err == nil || !strings.Contains(err.Error(), "this run did not create it") {
		t.Errorf("a clone onto another run's replica: %v", err)
	}
	if _, err := execute(t, other, destroy, `{vm: DC0_C0_RP0_VM0-replica}`); err == nil || !strings.Contains(err.Error(), "was not created by this run") || !strings.Contains(err.Error(), "created_elsewhere_ok: true") {
		t.Errorf("destroy of a VM this run did not create: %v", err)
	}
	if _, err := execute(t, rt, destroy, `{vm: DC0_C0_RP0_VM1}`); err == nil || !strings.Contains(err.Error(), "was not created by this run") {
		t.Errorf("destroy of a VM of the inventory: %v", err)
	}
	if !slices.Contains(s.vmNames(t), "DC0_C0_RP0_VM1") {
		t.Fatal("a refused destroy destroyed the VM")
	}

	d := mustExecute(t, rt, destroy, `{vm: "DC0_C0_RP0_VM0-replica"}`).(*vmDestroyResult)
	if !d.CreatedByThisRun || !d.WasPoweredOn || d.AlreadyGone {
		t.Errorf("destroy result: %+v", d)
	}
	if got := s.vmNames(t); !slices.Equal(got, before) {
		t.Errorf("VMs after clone and destroy: %v, before: %v", got, before)
	}
	// Destroying it again (a resumed run) finds it gone and says so.
	if d := mustExecute(t, rt, destroy, `{vm: "DC0_C0_RP0_VM0-replica"}`).(*vmDestroyResult); !d.AlreadyGone {
		t.Errorf("second destroy: %+v", d)
	}

	m := mustExecute(t, rt, migrate, `{vm: DC0_C0_RP0_VM0, host: DC0_C0_H2}`).(*vmMigrateResult)
	if m.FromHost != "DC0_C0_H0" || m.ToHost != "DC0_C0_H2" || !m.PoweredOnBefore || !m.StayedPoweredOn {
		t.Errorf("migrate result: %+v", m)
	}
	if m := mustExecute(t, rt, migrate, `{vm: DC0_C0_RP0_VM0, host: DC0_C0_H2}`).(*vmMigrateResult); !m.Already {
		t.Errorf("a second migration to the same host: %+v", m)
	}
	if _, err := execute(t, rt, migrate, `{vm: DC0_C0_RP0_VM0, host: DC0_C0_H9}`); err == nil || !strings.Contains(err.Error(), `"DC0_C0_H9" not found`) {
		t.Errorf("migration to an unknown host: %v", err)
	}
}

// TestDestroyRefusesTemplatesAndPreexistingVMsInPreflight: a VM that
// exists before the run fails destroy's preflight (this run cannot have
// made it) unless created_elsewhere_ok, and a template needs template_ok.
func TestDestroyRefusesTemplatesAndPreexistingVMsInPreflight(t *testing.T) {
	s := newSim(t)
	k := kindNamed(t, "vcenter.vm.destroy").(*vmDestroy)
	rt := s.runtime(t)
	if err := k.Preflight(context.Background(), rt, steptest.Decode(t, k, `{vm: DC0_C0_RP0_VM1}`)); err == nil || !strings.Contains(err.Error(), "exists before the run") {
		t.Errorf("preflight of destroying an existing VM: %v", err)
	}
	if err := k.Preflight(context.Background(), rt, steptest.Decode(t, k, `{vm: not-made-yet}`)); err != nil {
		t.Errorf("preflight of destroying a VM an earlier step will make: %v", err)
	}
	vm := s.vm(t, vm1)
	mustExecute(t, rt, kindNamed(t, "vcenter.vm.power"), `{vm: DC0_C0_RP0_VM1, action: "off"}`)
	if err := vm.MarkAsTemplate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := execute(t, rt, k, `{vm: DC0_C0_RP0_VM1, created_elsewhere_ok: true}`); err == nil || !strings.Contains(err.Error(), "template_ok: true") {
		t.Errorf("destroy of a template: %v", err)
	}
}

// TestLabReplicaLeavesNothingBehind clones the lab's AP server to storage2
// onto the isolated port group, powered on, waits for its guest, then
// destroys it: the inventory, every datastore's free space and files are
// as before; the clone took the lab's copy time for 40 GB.
func TestLabReplicaLeavesNothingBehind(t *testing.T) {
	l, st := startLabVC(t, vc.Options{Speed: 300})
	st.Guests = map[string]site.Guest{"ap02": {VM: "(65)apfg(02)"}}
	snap := func() string {
		var b strings.Builder
		for _, d := range vc.Datastores {
			files, err := l.DatastoreFiles(d.Name)
			if err != nil {
				t.Fatal(err)
			}
			b.WriteString(d.Name + ": " + strings.Join(files, ", ") + "\n")
		}
		return b.String()
	}
	space := func() string {
		c := labClient(t, l)
		var dss []mo.Datastore
		readAll(t, c, "Datastore", []string{"name", "summary.freeSpace"}, &dss)
		var lines []string
		for _, d := range dss {
			lines = append(lines, fmt.Sprintf("%s %d", d.Name, d.Summary.FreeSpace))
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	filesBefore, spaceBefore := snap(), space()
	rt := steptest.NewRuntime(t, st)
	inv := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`).(*inventoryResult)
	res := mustExecute(t, rt, kindNamed(t, "vcenter.vm.clone"), `{vm: ap02, datastore: storage2, host: esx-69, network: Drill-Isolated, power_on: true}`).(*vmCloneResult)
	if res.Networks[0] != vc.IsolatedNetwork || res.Datastore != "storage2" || res.Host != "esx-69" || res.DiskBytes != 40<<30 {
		t.Errorf("replica: %+v", res)
	}
	if lab := res.CloneTook.D() * 300; lab < 400e9 {
		t.Errorf("the 40 GB clone took %s (×300: %s of lab time), want at least 400 s at 100 MB/s", res.CloneTook, lab)
	}
	if filesBefore == snap() {
		t.Error("the clone wrote no files on a datastore")
	}
	mustExecute(t, rt, kindNamed(t, "vcenter.vm.wait"), `{vm: "(65)apfg(02)-replica", condition: 'tools_running && ip != ""', within: 10m}`)
	mustExecute(t, rt, kindNamed(t, "vcenter.vm.destroy"), `{vm: "(65)apfg(02)-replica"}`)
	after := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`).(*inventoryResult)
	if a, b := inventoryLines(inv), inventoryLines(after); a != b {
		t.Errorf("the inventory changed:\nbefore:\n%s\nafter:\n%s", a, b)
	}
	if got := space(); got != spaceBefore {
		t.Errorf("datastore free space after the drill:\n%s\nbefore:\n%s", got, spaceBefore)
	}
	if got := snap(); got != filesBefore {
		t.Errorf("datastore files after the drill:\n%s\nbefore:\n%s", got, filesBefore)
	}
}

// inventoryLines is an inventory as sorted lines: every VM with its host
// and power state, every host with its state.
func inventoryLines(r *inventoryResult) string {
	var lines []string
	for _, v := range r.VMs {
		lines = append(lines, fmt.Sprintf("vm %s on %s %s", v.Name, v.Host, v.PowerState))
	}
	for _, h := range r.Hosts {
		lines = append(lines, fmt.Sprintf("host %s %s %s maintenance=%t", h.Name, h.ConnectionState, h.PowerState, h.InMaintenance))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// labClient logs in to the lab vCenter with a session of the test's own.
func labClient(t *testing.T, s *vc.Site) *vim25.Client {
	t.Helper()
	ctx := context.Background()
	sc := soap.NewClient(s.URL, false)
	sc.SetThumbprint(s.URL.Host, s.ThumbprintSHA256)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := session.NewManager(c).Login(ctx, url.UserPassword(s.User, s.Password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.NewManager(c).Logout(context.Background()) })
	return c
}

// TestLabMaintenanceNeedsDRSOrAnEmptyHost: with DRS off, entering
// maintenance mode on a host that runs VMs fails its preflight, naming
// them; with DRS on it evacuates them by vMotion and every one stays
// powered on.
func TestLabMaintenanceNeedsDRSOrAnEmptyHost(t *testing.T) {
	_, st := startLabVC(t, vc.Options{Speed: 300, NoDRS: true})
	k := kindNamed(t, "vcenter.host.enter_maintenance").(*hostStateChange)
	err := k.Preflight(context.Background(), steptest.NewRuntime(t, st), steptest.Decode(t, k, `{host: esx-68}`))
	if err == nil || !strings.Contains(err.Error(), "DRS is off in cluster Sanchong-HA") || !strings.Contains(err.Error(), "(65)apfg(02)") {
		t.Errorf("preflight without DRS: %v", err)
	}

	_, st = startLabVC(t, vc.Options{Speed: 300})
	rt := steptest.NewRuntime(t, st)
	if err := k.Preflight(context.Background(), rt, steptest.Decode(t, k, `{host: esx-68}`)); err != nil {
		t.Fatalf("preflight with DRS: %v", err)
	}
	r := mustExecute(t, rt, k, `{host: esx-68}`).(*hostStateResult)
	if !r.InMaintenance {
		t.Fatalf("esx-68 is not in maintenance mode: %+v", r)
	}
	inv := mustExecute(t, rt, kindNamed(t, "vcenter.inventory"), `{}`).(*inventoryResult)
	for _, v := range inv.VMs {
		for _, n := range []string{"(97)apfg(05)", "(72)NTPCWEBFG(02)", "(65)apfg(02)", "(60)mailserver"} {
			if v.Name == n && (v.Host == "esx-68" || v.PowerState != "poweredOn") {
				t.Errorf("%s after the evacuation: %s on %s", n, v.PowerState, v.Host)
			}
		}
	}
}
