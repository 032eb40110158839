package vc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func datastore(t *testing.T, ctx context.Context, c *vim25.Client, name string) *object.Datastore {
	t.Helper()
	ds, err := find.NewFinder(c).Datastore(ctx, "/"+DatacenterName+"/datastore/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func dsFree(t *testing.T, ctx context.Context, ds *object.Datastore) int64 {
	t.Helper()
	var m mo.Datastore
	if err := ds.Properties(ctx, ds.Reference(), []string{"summary"}, &m); err != nil {
		t.Fatal(err)
	}
	return m.Summary.FreeSpace
}

// datastoreFiles lists the folders vcsim wrote on a datastore.
func datastoreFiles(t *testing.T, s *Site, name string) []string {
	t.Helper()
	files, err := s.DatastoreFiles(name)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCloneTakesTimeByDiskSizeAndDestroyGivesSpaceBack clones the 40 GB
// AP server to another datastore onto the isolated port group: the task
// runs for the disk's copy time in lab time, the replica appears only at
// its end with its NIC on the isolated network, the datastore loses the
// disk's size and a folder, and destroying the replica gives both back.
func TestCloneTakesTimeByDiskSizeAndDestroyGivesSpaceBack(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	src := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(65)apfg(02)"))
	ds := datastore(t, ctx, c, "storage2")
	freeBefore, filesBefore := dsFree(t, ctx, ds), datastoreFiles(t, s, "storage2")

	var m mo.VirtualMachine
	if err := src.Properties(ctx, src.Reference(), []string{"config.hardware.device"}, &m); err != nil {
		t.Fatal(err)
	}
	devices := object.VirtualDeviceList(m.Config.Hardware.Device)
	nics := devices.SelectByType((*types.VirtualEthernetCard)(nil))
	if len(nics) != 1 || len(devices.SelectByType((*types.VirtualDisk)(nil))) != 1 {
		t.Fatalf("the AP server has %d NICs and %d disks, want 1 and 1", len(nics), len(devices.SelectByType((*types.VirtualDisk)(nil))))
	}
	nic := nics[0].(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
	nic.Backing = &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: IsolatedNetwork}}
	dsRef := ds.Reference()
	folder := object.NewFolder(c, *placementFolder(t, ctx, c))
	spec := types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Datastore: &dsRef,
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: nics[0]}}}}
	labStart := s.clock.Now()
	task, err := src.Clone(ctx, folder, "(65)apfg(02)-replica", spec)
	if err != nil {
		t.Fatal(err)
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		t.Fatal(err)
	}
	took := s.clock.Now().Sub(labStart)
	want := time.Duration(float64(40<<30) / DefaultCopyRate * float64(time.Second))
	if took < want {
		t.Errorf("the 40 GB clone took %s of lab time, want at least %s at %d MB/s", took, want, DefaultCopyRate>>20)
	}
	replica := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference))
	var r mo.VirtualMachine
	if err := replica.Properties(ctx, replica.Reference(), []string{"config.hardware.device", "datastore", "runtime.powerState"}, &r); err != nil {
		t.Fatal(err)
	}
	rn := object.VirtualDeviceList(r.Config.Hardware.Device).SelectByType((*types.VirtualEthernetCard)(nil))
	if len(rn) != 1 || rn[0].GetVirtualDevice().Backing.(*types.VirtualEthernetCardNetworkBackingInfo).DeviceName != IsolatedNetwork {
		t.Errorf("the replica's NICs: %+v, want one on %s", rn, IsolatedNetwork)
	}
	if len(r.Datastore) != 1 || r.Datastore[0] != dsRef {
		t.Errorf("the replica is on %v, want storage2", r.Datastore)
	}
	if got := freeBefore - dsFree(t, ctx, ds); got != 40<<30 {
		t.Errorf("storage2 lost %d bytes to the clone, want 40 GB", got)
	}
	if files := datastoreFiles(t, s, "storage2"); len(files) != len(filesBefore)+1 {
		t.Errorf("storage2 after the clone: %v, before: %v", files, filesBefore)
	}

	// A second clone of the same name is refused; a clone to a datastore
	// without room is refused.
	if _, err := waitTask(ctx, func() (*object.Task, error) { return src.Clone(ctx, folder, "(65)apfg(02)-replica", spec) }); err == nil {
		t.Error("a second clone with the same name was accepted")
	}
	small := datastore(t, ctx, c, "datastore-69")
	smallRef, h69 := small.Reference(), host(t, ctx, c, "esx-69").Reference()
	fill := dsFree(t, ctx, small)
	op := s.op()
	addFreeSpace(op, op.Map.Get(smallRef).(*simulator.Datastore), -(fill - 10<<30))
	_, err = waitTask(ctx, func() (*object.Task, error) {
		return src.Clone(ctx, folder, "tight", types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Datastore: &smallRef, Host: &h69}})
	})
	if err == nil || !strings.Contains(err.Error(), "datastore-69 has 10 GB free") {
		t.Errorf("a clone to a datastore with 10 GB free: %v", err)
	}
	// datastore-68 is local to esx-68: a clone there on esx-69 is refused.
	d68 := datastore(t, ctx, c, "datastore-68").Reference()
	if _, err := waitTask(ctx, func() (*object.Task, error) {
		return src.Clone(ctx, folder, "elsewhere", types.VirtualMachineCloneSpec{Location: types.VirtualMachineRelocateSpec{Datastore: &d68, Host: &h69}})
	}); err == nil || !strings.Contains(err.Error(), "not mounted on host esx-69") {
		t.Errorf("a clone to a datastore the host does not mount: %v", err)
	}

	if _, err := waitTask(ctx, func() (*object.Task, error) { return replica.Destroy(ctx) }); err != nil {
		t.Fatal(err)
	}
	if got := dsFree(t, ctx, ds); got != freeBefore {
		t.Errorf("storage2 has %d bytes free after the destroy, %d before the clone", got, freeBefore)
	}
	if files := datastoreFiles(t, s, "storage2"); strings.Join(files, ",") != strings.Join(filesBefore, ",") {
		t.Errorf("storage2 after the destroy: %v, before the clone: %v", files, filesBefore)
	}
}

func waitTask(ctx context.Context, start func() (*object.Task, error)) (*types.TaskInfo, error) {
	task, err := start()
	if err != nil {
		return nil, err
	}
	return task.WaitForResult(ctx)
}

func placementFolder(t *testing.T, ctx context.Context, c *vim25.Client) *types.ManagedObjectReference {
	t.Helper()
	f, err := find.NewFinder(c).Folder(ctx, "/"+DatacenterName+"/vm")
	if err != nil {
		t.Fatal(err)
	}
	ref := f.Reference()
	return &ref
}

// powerLog records the machines' power changes the lab's hooks see.
type powerLog struct {
	mu      sync.Mutex
	changes []string
}

func (p *powerLog) hook(vm string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.changes = append(p.changes, fmt.Sprintf("%s on=%t", vm, on))
}

func (p *powerLog) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.changes...)
}

// TestVMotionKeepsTheVMRunning moves the AP server from esx-68 to esx-69
// by vMotion, then to storage3 by storage vMotion: its machine never stops
// (the power hook, which the guests follow, sees nothing), each move takes
// its copy time, the hosts' vm lists and the datastores' free space follow,
// and a move the target cannot take is refused.
func TestVMotionKeepsTheVMRunning(t *testing.T) {
	t.Parallel()
	var log powerLog
	opts := testOptions()
	opts.OnPowerChange = log.hook
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	vm := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(65)apfg(02)"))
	h69 := host(t, ctx, c, "esx-69")

	labStart := s.clock.Now()
	if _, err := waitTask(ctx, func() (*object.Task, error) {
		return vm.Relocate(ctx, types.VirtualMachineRelocateSpec{Host: types.NewReference(h69.Reference())}, types.VirtualMachineMovePriorityDefaultPriority)
	}); err != nil {
		t.Fatal(err)
	}
	if took, want := s.clock.Now().Sub(labStart), s.vmotionTime(8192); took < want {
		t.Errorf("vMotion of 8 GB took %s of lab time, want at least %s", took, want)
	}
	m := placement(t, ctx, c)["(65)apfg(02)"]
	if *m.Runtime.Host != h69.Reference() || m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || m.Guest.IpAddress == "" {
		t.Errorf("after vMotion: host %v, power %s, ip %q; want esx-69, poweredOn, an IP", m.Runtime.Host, m.Runtime.PowerState, m.Guest.IpAddress)
	}
	if hm := hostMO(t, ctx, c, h69); !slices.Contains(hm.Vm, vm.Reference()) {
		t.Error("esx-69's vm list does not hold the VM that moved there")
	}
	if hm := hostMO(t, ctx, c, host(t, ctx, c, "esx-68")); slices.Contains(hm.Vm, vm.Reference()) {
		t.Error("esx-68's vm list still holds the VM that left")
	}

	s1, s3 := datastore(t, ctx, c, "storage1"), datastore(t, ctx, c, "storage3")
	free1, free3 := dsFree(t, ctx, s1), dsFree(t, ctx, s3)
	if _, err := waitTask(ctx, func() (*object.Task, error) {
		return vm.Relocate(ctx, types.VirtualMachineRelocateSpec{Datastore: types.NewReference(s3.Reference())}, types.VirtualMachineMovePriorityDefaultPriority)
	}); err != nil {
		t.Fatal(err)
	}
	if dsFree(t, ctx, s1)-free1 != 40<<30 || free3-dsFree(t, ctx, s3) != 40<<30 {
		t.Errorf("storage vMotion of 40 GB: storage1 gained %d, storage3 lost %d", dsFree(t, ctx, s1)-free1, free3-dsFree(t, ctx, s3))
	}
	settle(t, s)
	for _, ch := range log.all() {
		if strings.HasPrefix(ch, "(65)apfg(02)") {
			t.Errorf("the machine's power changed during vMotion: %s", ch)
		}
	}

	// (63)apfg-test lives on datastore-69, local to esx-69.
	local := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(63)apfg-test"))
	_, err := waitTask(ctx, func() (*object.Task, error) {
		return local.Relocate(ctx, types.VirtualMachineRelocateSpec{Host: types.NewReference(host(t, ctx, c, "esx-70").Reference())}, types.VirtualMachineMovePriorityDefaultPriority)
	})
	if err == nil || !strings.Contains(err.Error(), "datastore-69 is not mounted on host esx-70") {
		t.Errorf("vMotion of a VM on a local datastore to another host: %v", err)
	}
}

// TestMaintenanceEvacuatesByVMotion puts esx-68 into maintenance mode: DRS
// moves its four running VMs by vMotion, none of their machines stops, the
// templates (off) stay registered there; without DRS, or when a VM has
// nowhere to go, the task fails naming the VM and the host stays out of
// maintenance mode.
func TestMaintenanceEvacuatesByVMotion(t *testing.T) {
	t.Parallel()
	var log powerLog
	opts := testOptions()
	opts.OnPowerChange = log.hook
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	h68 := host(t, ctx, c, "esx-68")
	if _, err := waitTask(ctx, func() (*object.Task, error) { return h68.EnterMaintenanceMode(ctx, 0, false, nil) }); err != nil {
		t.Fatal(err)
	}
	hm := hostMO(t, ctx, c, h68)
	if !hm.Runtime.InMaintenanceMode {
		t.Fatal("esx-68 is not in maintenance mode")
	}
	names := hostNames(t, ctx, c)
	for n, vm := range placement(t, ctx, c) {
		on := vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
		if names[*vm.Runtime.Host] == "esx-68" && on {
			t.Errorf("%s still runs on esx-68 in maintenance mode", n)
		}
	}
	for _, n := range esx68VMs {
		if vm := placement(t, ctx, c)[n]; vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			t.Errorf("%s is %s after the evacuation", n, vm.Runtime.PowerState)
		}
	}
	if len(hm.Vm) != 2 {
		t.Errorf("esx-68 holds %d VMs in maintenance mode, want its two templates", len(hm.Vm))
	}
	settle(t, s)
	if got := log.all(); len(got) != 0 {
		t.Errorf("machines changed power during the evacuation: %v", got)
	}

	// Without DRS nothing moves the VMs.
	opts = testOptions()
	opts.NoDRS = true
	s2 := startLab(t, opts)
	c2, _ := dial(t, ctx, s2)
	h := host(t, ctx, c2, "esx-68")
	_, err := waitTask(ctx, func() (*object.Task, error) { return h.EnterMaintenanceMode(ctx, 0, false, nil) })
	if err == nil || !strings.Contains(err.Error(), "DRS is off") || !strings.Contains(err.Error(), "(65)apfg(02)") {
		t.Errorf("maintenance mode without DRS: %v", err)
	}
	if hostMO(t, ctx, c2, h).Runtime.InMaintenanceMode {
		t.Error("the host entered maintenance mode with its VMs running")
	}

	// Hosts of 40 GB: esx-69's 52 GB of running VMs cannot fit anywhere.
	opts = testOptions()
	opts.HostMemoryGB = 60
	s3 := startLab(t, opts)
	c3, _ := dial(t, ctx, s3)
	h = host(t, ctx, c3, "esx-69")
	_, err = waitTask(ctx, func() (*object.Task, error) { return h.EnterMaintenanceMode(ctx, 0, false, nil) })
	if err == nil || !strings.Contains(err.Error(), "cannot be moved by vMotion") {
		t.Errorf("maintenance mode with a VM that cannot move: %v", err)
	}
	if hostMO(t, ctx, c3, h).Runtime.InMaintenanceMode {
		t.Error("the host entered maintenance mode though a VM could not move")
	}
}

// TestStateCarriesClonesAndMoves saves a lab with a powered-on clone on
// the isolated port group and a VM moved by storage vMotion: a lab
// restored from it has the clone (same instance UUID, NIC, datastore,
// power), the moved VM on its new datastore, and the same free space.
func TestStateCarriesClonesAndMoves(t *testing.T) {
	t.Parallel()
	opts := testOptions()
	s := startLab(t, opts)
	ctx := context.Background()
	c, _ := dial(t, ctx, s)
	src := object.NewVirtualMachine(c, *vmRef(t, ctx, c, "(64)APFG(01)"))
	s2ref := datastore(t, ctx, c, "storage2").Reference()
	info, err := waitTask(ctx, func() (*object.Task, error) {
		return src.Clone(ctx, object.NewFolder(c, *placementFolder(t, ctx, c)), "replica", types.VirtualMachineCloneSpec{PowerOn: true,
			Location: types.VirtualMachineRelocateSpec{Datastore: &s2ref}, Config: &types.VirtualMachineConfigSpec{InstanceUuid: "5010aaaa-bbbb-cccc-dddd-eeeeffff0001"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waitTask(ctx, func() (*object.Task, error) {
		return src.Relocate(ctx, types.VirtualMachineRelocateSpec{Datastore: types.NewReference(datastore(t, ctx, c, "storage3").Reference())}, types.VirtualMachineMovePriorityDefaultPriority)
	}); err != nil {
		t.Fatal(err)
	}
	settle(t, s)
	var before mo.VirtualMachine
	if err := object.NewVirtualMachine(c, info.Result.(types.ManagedObjectReference)).Properties(ctx, info.Result.(types.ManagedObjectReference), []string{"config", "runtime", "datastore"}, &before); err != nil {
		t.Fatal(err)
	}
	free := map[string]int64{}
	for _, d := range Datastores {
		free[d.Name] = dsFree(t, ctx, datastore(t, ctx, c, d.Name))
	}
	state, err := s.State()
	if err != nil {
		t.Fatal(err)
	}

	ropts := testOptions()
	ropts.Restore = state
	r := startLab(t, ropts)
	rc, _ := dial(t, ctx, r)
	var after mo.VirtualMachine
	rv := object.NewVirtualMachine(rc, *vmRef(t, ctx, rc, "replica"))
	if err := rv.Properties(ctx, rv.Reference(), []string{"config", "runtime", "datastore"}, &after); err != nil {
		t.Fatal(err)
	}
	if after.Config.InstanceUuid != before.Config.InstanceUuid || after.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		t.Errorf("restored clone: uuid %s power %s, want %s poweredOn", after.Config.InstanceUuid, after.Runtime.PowerState, before.Config.InstanceUuid)
	}
	if len(after.Datastore) != 1 || after.Datastore[0] != datastore(t, ctx, rc, "storage2").Reference() {
		t.Errorf("restored clone on %v, want storage2", after.Datastore)
	}
	var moved mo.VirtualMachine
	mv := object.NewVirtualMachine(rc, *vmRef(t, ctx, rc, "(64)APFG(01)"))
	if err := mv.Properties(ctx, mv.Reference(), []string{"datastore"}, &moved); err != nil {
		t.Fatal(err)
	}
	if len(moved.Datastore) != 1 || moved.Datastore[0] != datastore(t, ctx, rc, "storage3").Reference() {
		t.Errorf("the VM moved to storage3 is on %v after the restore", moved.Datastore)
	}
	for _, d := range Datastores {
		if got := dsFree(t, ctx, datastore(t, ctx, rc, d.Name)); got != free[d.Name] {
			t.Errorf("%s: %d bytes free after the restore, %d before", d.Name, got, free[d.Name])
		}
	}
	// A destroy after the restore gives the clone's space back.
	if _, err := rv.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, r)
	if _, err := waitTask(ctx, func() (*object.Task, error) { return rv.Destroy(ctx) }); err != nil {
		t.Fatal(err)
	}
	if got := free["storage2"] + 40<<30; dsFree(t, ctx, datastore(t, ctx, rc, "storage2")) != got {
		t.Errorf("storage2 after destroying the restored clone: %d, want %d", dsFree(t, ctx, datastore(t, ctx, rc, "storage2")), got)
	}
}
