package vc

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/units"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestInventoryMatchesReferenceSite(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	f := find.NewFinder(c)

	if want := "https://" + opts.VCenterIP() + ":"; !strings.HasPrefix(s.URL.String(), want) || s.URL.Path != "/sdk" {
		t.Errorf("URL = %s, want %s…/sdk", s.URL, want)
	}
	if len(s.ThumbprintSHA256) != 32*3-1 || len(s.ThumbprintSHA1) != 20*3-1 {
		t.Errorf("thumbprints %q %q are not colon hex", s.ThumbprintSHA256, s.ThumbprintSHA1)
	}

	dcs, err := f.DatacenterList(ctx, "*")
	if err != nil || len(dcs) != 1 || dcs[0].Name() != DatacenterName {
		t.Fatalf("datacenters = %v, %v; want only %s", dcs, err, DatacenterName)
	}
	clusters, err := f.ClusterComputeResourceList(ctx, "/"+DatacenterName+"/host/*")
	if err != nil || len(clusters) != 1 {
		t.Fatalf("clusters = %v, %v", clusters, err)
	}
	var cl mo.ClusterComputeResource
	if err := clusters[0].Properties(ctx, clusters[0].Reference(), []string{"configurationEx", "host"}, &cl); err != nil {
		t.Fatal(err)
	}
	das := cl.ConfigurationEx.(*types.ClusterConfigInfoEx).DasConfig
	if das.Enabled == nil || !*das.Enabled || das.AdmissionControlEnabled == nil || !*das.AdmissionControlEnabled {
		t.Errorf("cluster HA = %+v, want enabled with admission control", das)
	}

	names := hostNames(t, ctx, c)
	if len(cl.Host) != 3 {
		t.Errorf("cluster has %d hosts, want 3", len(cl.Host))
	}
	for _, n := range HostNames {
		m := hostMO(t, ctx, c, host(t, ctx, c, n))
		if got := m.Summary.Hardware.MemorySize; got != 80*int64(units.GB) {
			t.Errorf("%s memory = %d, want 80 GB", n, got)
		}
		if m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected || m.Runtime.PowerState != types.HostSystemPowerStatePoweredOn {
			t.Errorf("%s runtime = %s/%s", n, m.Runtime.ConnectionState, m.Runtime.PowerState)
		}
	}

	dss, err := f.DatastoreList(ctx, "/"+DatacenterName+"/datastore/*")
	if err != nil {
		t.Fatal(err)
	}
	capacity := map[string]int64{}
	for _, ds := range dss {
		var m mo.Datastore
		if err := ds.Properties(ctx, ds.Reference(), []string{"summary"}, &m); err != nil {
			t.Fatal(err)
		}
		capacity[m.Summary.Name] = m.Summary.Capacity / int64(units.GB)
	}
	wantDS := map[string]int64{"datastore-68": 836, "datastore-69": 539, "datastore-70": 3154, "storage1": 5581, "storage2": 5581, "storage3": 5581}
	if len(capacity) != len(wantDS) {
		t.Errorf("datastores = %v, want %v", capacity, wantDS)
	}
	for n, gb := range wantDS {
		if capacity[n] != gb {
			t.Errorf("datastore %s = %d GB, want %d", n, capacity[n], gb)
		}
	}

	vms := placement(t, ctx, c)
	if len(vms) != 30 {
		t.Fatalf("%d VMs, want 30", len(vms))
	}
	on := 0
	var on68 []string
	for name, vm := range vms {
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			continue
		}
		on++
		if names[*vm.Runtime.Host] == "esx-68" {
			on68 = append(on68, name)
		}
		want := opts.GuestIP(vmSuffix(name))
		if vm.Guest.IpAddress != want || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
			t.Errorf("%s guest = ip %q tools %q, want %s running", name, vm.Guest.IpAddress, vm.Guest.ToolsRunningStatus, want)
		}
	}
	if on != 24 {
		t.Errorf("%d VMs powered on, want 24", on)
	}
	sort.Strings(on68)
	if want := []string{"(60)mailserver", "(65)apfg(02)", "(72)NTPCWEBFG(02)", "(97)apfg(05)"}; strings.Join(on68, ",") != strings.Join(want, ",") {
		t.Errorf("esx-68 runs %v, want %v", on68, want)
	}
	for _, n := range []string{"(65)apfg(02)", "(71)NTPCWEBFG(01)", "(227)VCenter", "(226)Zabbix"} {
		if _, ok := vms[n]; !ok {
			t.Errorf("VM %s missing", n)
		}
	}
	if vc := vms["(227)VCenter"]; names[*vc.Runtime.Host] != "esx-70" {
		t.Errorf("(227)VCenter runs on %s, want esx-70", names[*vc.Runtime.Host])
	}
}
