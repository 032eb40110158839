package vc

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/units"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The reference site's names (DOMAIN.md).
const (
	DatacenterName = "Sanchong"
	ClusterName    = "Sanchong-HA"
)

// ProductionNetwork is the port group every VM's NIC is on; IsolatedNetwork
// is a port group on every host with no uplink, where a replica can boot
// without clashing with the VM it copies (same IP, same host name).
const (
	ProductionNetwork = "VM Network"
	IsolatedNetwork   = "Drill-Isolated"
)

// HostNames are the cluster's ESXi hosts; the number is the management IP suffix.
var HostNames = []string{"esx-68", "esx-69", "esx-70"}

// DatastoreSpec is one datastore of the reference site.
type DatastoreSpec struct {
	Name string
	// CapacityGB is the size vCenter reports (1 TB = 1024 GB).
	CapacityGB int64
	// Hosts mounting it; the SAN LUNs are on every host.
	Hosts []string
}

// Datastores are the reference site's datastores: one local disk per host
// and three SAN LUNs behind the FC switches.
var Datastores = []DatastoreSpec{
	{Name: "datastore-68", CapacityGB: 836, Hosts: []string{"esx-68"}},
	{Name: "datastore-69", CapacityGB: 539, Hosts: []string{"esx-69"}},
	{Name: "datastore-70", CapacityGB: 3154, Hosts: []string{"esx-70"}}, // 3.08 TB
	{Name: "storage1", CapacityGB: 5581, Hosts: HostNames},              // 5.45 TB
	{Name: "storage2", CapacityGB: 5581, Hosts: HostNames},
	{Name: "storage3", CapacityGB: 5581, Hosts: HostNames},
}

// VMSpec is one VM of the reference site.
type VMSpec struct {
	// Name is the inventory name; "(NN)" is its IP suffix.
	Name string
	// Host runs (or, when powered off, holds) the VM.
	Host string
	// Datastore holds its files; HA can only restart VMs on shared storage.
	Datastore string
	On        bool
	MemoryMB  int32
	CPUs      int32
	GuestID   string
	// RestartPriority is its vSphere HA restart priority ("high", "medium",
	// "low"); higher priorities are restarted first.
	RestartPriority string
	// DiskGB is the size of its one virtual disk (thick, on Datastore): a
	// clone or storage vMotion copies it at CloneRate.
	DiskGB int64
}

// Template reports whether the VM is a template (its name ends in
// "-template", as the reference site names them): marked as one in
// vCenter, never powered on.
func (v VMSpec) Template() bool { return strings.HasSuffix(v.Name, "-template") }

// Suffix is the IP suffix in the VM's name, e.g. 65 for "(65)apfg(02)".
func (v VMSpec) Suffix() int { return vmSuffix(v.Name) }

var suffixPattern = regexp.MustCompile(`^\((\d+)\)`)

func vmSuffix(name string) int {
	m := suffixPattern.FindStringSubmatch(name)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

const (
	rhel5   = "rhel5_64Guest"
	win2003 = "winNetStandardGuest"
	win2008 = "windows7Server64Guest"
	centos  = "centos64Guest"
)

// VMs are the 30 VMs of the reference site, 24 powered on. The names are
// the report's backup list (figure 33); (20), (35), (63), (74), (77), (80),
// (81), (90) and (91) are invented in the same style to reach the report's
// count. Host esx-68 runs exactly .97, .72, .65 and .60 (figure 34);
// "(227)VCenter" runs on esx-70. Memory per host is 30, 52 and 46 GB of 80
// (the report's 23-65 %), so after esx-68 fails its 30 GB fit on the others
// and "(65)apfg(02)", the first high-priority VM, lands on esx-70, as in
// figure 37.
var VMs = []VMSpec{
	{"(97)apfg(05)", "esx-68", "storage1", true, 8192, 4, rhel5, "high", 40},
	{"(72)NTPCWEBFG(02)", "esx-68", "storage2", true, 6144, 2, rhel5, "medium", 40},
	{"(65)apfg(02)", "esx-68", "storage1", true, 8192, 4, rhel5, "high", 40},
	{"(60)mailserver", "esx-68", "storage3", true, 8192, 2, rhel5, "medium", 100},

	{"(62)PRT(01)", "esx-69", "storage3", true, 2048, 1, win2003, "low", 30},
	{"(05)ad", "esx-69", "storage3", true, 4096, 2, win2003, "high", 30},
	{"(71)NTPCWEBFG(01)", "esx-69", "storage2", true, 6144, 2, rhel5, "medium", 40},
	{"(15)dellserver.sc.gov.tw", "esx-69", "storage2", true, 4096, 2, win2003, "low", 30},
	{"(64)APFG(01)", "esx-69", "storage1", true, 8192, 4, rhel5, "high", 40},
	{"(67)apfg(04)", "esx-69", "storage1", true, 8192, 4, rhel5, "high", 40},
	{"(200)ask", "esx-69", "storage2", true, 4096, 2, win2003, "low", 30},
	{"(226)Zabbix", "esx-69", "storage3", true, 4096, 2, centos, "medium", 20},
	{"(66)apfg(03)", "esx-69", "storage1", true, 8192, 4, rhel5, "high", 40},
	{"(81)fileserver03", "esx-69", "storage3", true, 4096, 2, win2003, "low", 120},
	{"(74)NTPCWEBFG(04)", "esx-69", "storage2", false, 6144, 2, rhel5, "medium", 40},
	{"(63)apfg-test", "esx-69", "datastore-69", false, 4096, 2, rhel5, "low", 40},

	{"(227)VCenter", "esx-70", "storage3", true, 8192, 2, win2008, "high", 60},
	{"(78)MOI-CentOS", "esx-70", "storage2", true, 4096, 2, centos, "medium", 20},
	{"(76)PRT(02)", "esx-70", "storage3", true, 2048, 1, win2003, "low", 30},
	{"(06)ibm(226)", "esx-70", "storage3", true, 4096, 2, win2003, "low", 30},
	{"(33)hpserver(2)", "esx-70", "storage2", true, 4096, 2, win2003, "low", 30},
	{"(99)fg-km", "esx-70", "storage2", true, 4096, 2, win2003, "medium", 30},
	{"(19)gis-data", "esx-70", "storage3", true, 8192, 4, win2003, "medium", 200},
	{"(73)NTPCWEBFG(03)", "esx-70", "storage2", true, 6144, 2, rhel5, "medium", 40},
	{"(80)ftp-backup", "esx-70", "storage3", true, 2048, 1, centos, "low", 80},
	{"(20)gis-web", "esx-70", "storage3", true, 4096, 2, win2003, "medium", 30},
	{"(35)hpserver(3)", "esx-70", "storage2", false, 4096, 2, win2003, "low", 30},
	{"(77)PRT(03)", "esx-70", "datastore-70", false, 2048, 1, win2003, "low", 30},
	{"(90)rhel58-template", "esx-68", "datastore-68", false, 4096, 2, rhel5, "low", 16},
	{"(91)win2003-template", "esx-68", "datastore-68", false, 2048, 1, win2003, "low", 16},
}

// hostState is the lab's view of a host's life; the simulator objects carry
// what vCenter shows.
type hostState struct {
	name   string
	ref    types.ManagedObjectReference
	phase  hostPhase
	gen    int // bumped on every death and boot, so stale timers do nothing
	das    string
	failed bool // HA declared it failed during the current outage
	// diedRunning are the VMs that were running when the host died.
	diedRunning []types.ManagedObjectReference

	// What the host is in the middle of, as lab-time deadlines, so State
	// can carry it and a restored lab finish it on time. Timers only
	// trigger; these fields are the truth.

	// diesAt is when a host going down (shutdown or reboot) dies;
	// shutdownReason is its HostShutdownEvent's reason and rebootAfter
	// makes it boot again by itself.
	diesAt         time.Time
	shutdownReason string
	rebootAfter    bool
	// declareAt is when the HA agent's heartbeat timeout ends for a down
	// host not yet declared failed; zero when HA is not counting.
	declareAt time.Time
	// bootsAt is when a booting host connects.
	bootsAt time.Time
	// wakingFromStandby marks a boot that PowerUpHostFromStandBy (or the
	// BMC) started from standby.
	wakingFromStandby bool
}

type hostPhase string

const (
	hostUp        hostPhase = "up"
	hostGoingDown hostPhase = "goingDown"
	hostDown      hostPhase = "down"
	hostBooting   hostPhase = "booting"
	// hostStandby is a host vCenter put into standby (DPM): powered
	// down, still connected, woken by PowerUpHostFromStandBy.
	hostStandby hostPhase = "standby"
)

// vmState is the lab's view of a VM: whether the machine really runs.
type vmState struct {
	name     string
	ref      types.ManagedObjectReference
	memoryMB int32
	priority string
	on       bool
	bootGen  int
	// readyAt is when a booting guest's VMware Tools start and its IP
	// appears (lab time); zero when the guest is not booting.
	readyAt time.Time
	// created is set for a VM the lab's API created (a clone), which a
	// restored lab must create again; source is the VM it copies, whose
	// guest identity (IP, host name) its guest reports, as a clone's does.
	created bool
	source  string
}

// guestIdentity is the VM whose guest IP and host name v's VMware Tools
// report: its own, or for a clone its source's.
func (v *vmState) guestIdentity() string {
	if v.source != "" {
		return v.source
	}
	return v.name
}

// failover is one HA failover in progress: the failed host's VMs the agent
// still has to restart, in order, and when the next batch is due.
type failover struct {
	host    entityRef
	pending []vmState
	nextAt  time.Time
}

// modelCreate serializes simulator.Model.Create: govmomi v0.56.0's
// LicenseManager.init appends to the package-level simulator.EvalLicense,
// so two labs created at once in one process (a fleet's --lab-sites, or
// parallel tests) race on it (found by go test -race on `drbook fleet run`).
var modelCreate sync.Mutex

// build creates the reference inventory in a fresh simulator model. It uses
// the simulator's in-process client, before any HTTP listener exists.
func (s *Site) build(ctx context.Context) error {
	model := simulator.VPX()
	// No default inventory: only the reference site exists.
	model.Datacenter, model.Portgroup, model.Host, model.Cluster = 0, 0, 0, 0
	model.ClusterHost, model.Datastore, model.Machine = 0, 0, 0
	model.Autostart = false
	markAsLab(model, s.opts.Speed)
	modelCreate.Lock()
	err := model.Create()
	modelCreate.Unlock()
	if err != nil {
		return fmt.Errorf("lab vcenter: creating the simulator model: %w", err)
	}
	s.model = model
	m := model.Map()
	s.base = context.WithoutCancel(ctx)
	s.agent = s.newContext(&simulator.Session{
		UserSession: types.UserSession{Key: "lab-ha-agent"},
		Registry:    simulator.NewRegistry(),
		Map:         m,
	})

	c, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		return fmt.Errorf("lab vcenter: in-process client: %w", err)
	}
	if err := publishSpeed(ctx, c, s.opts.Speed); err != nil {
		return fmt.Errorf("lab vcenter: publishing the lab's speed: %w", err)
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("lab vcenter: building the reference inventory: %s: %w", what, err)
	}

	root := object.NewRootFolder(c)
	dc, err := root.CreateDatacenter(ctx, DatacenterName)
	if err != nil {
		return fail("datacenter", err)
	}
	s.dcRef = dc.Reference()
	folders, err := dc.Folders(ctx)
	if err != nil {
		return fail("datacenter folders", err)
	}
	cluster, err := folders.HostFolder.CreateCluster(ctx, ClusterName, types.ClusterConfigSpecEx{})
	if err != nil {
		return fail("cluster", err)
	}
	s.clusterRef = cluster.Reference()

	hostObj := map[string]*object.HostSystem{}
	for _, name := range HostNames {
		task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: name}, true, nil, nil)
		if err != nil {
			return fail("host "+name, err)
		}
		info, err := task.WaitForResult(ctx)
		if err != nil {
			return fail("host "+name, err)
		}
		ref := info.Result.(types.ManagedObjectReference)
		hostObj[name] = object.NewHostSystem(c, ref)
		s.hosts[ref] = &hostState{name: name, ref: ref, phase: hostUp, das: "connectedToMaster"}
	}
	s.hostByName(HostNames[1]).das = "master"

	dir, err := os.MkdirTemp("", "drbook-lab-vc-")
	if err != nil {
		return fail("datastore directory", err)
	}
	s.dirs = append(s.dirs, dir)
	for _, d := range Datastores {
		path := filepath.Join(dir, d.Name)
		if err := os.Mkdir(path, 0o700); err != nil {
			return fail("datastore "+d.Name, err)
		}
		for _, h := range d.Hosts {
			dss, err := hostObj[h].ConfigManager().DatastoreSystem(ctx)
			if err != nil {
				return fail("datastore system of "+h, err)
			}
			if _, err := dss.CreateLocalDatastore(ctx, d.Name, path); err != nil {
				return fail("datastore "+d.Name+" on "+h, err)
			}
		}
	}

	if err := addIsolatedNetwork(ctx, hostObj); err != nil {
		return fail("port group "+IsolatedNetwork, err)
	}

	pool, err := cluster.ResourcePool(ctx)
	if err != nil {
		return fail("cluster resource pool", err)
	}
	// Each task wait costs a PropertyCollector round (20 ms in vcsim), so
	// the VMs are created concurrently.
	refs := make([]types.ManagedObjectReference, len(VMs))
	errs := make([]error, len(VMs))
	var wg sync.WaitGroup
	for i, v := range VMs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[i], errs[i] = createVM(ctx, c, folders.VmFolder, pool, hostObj[v.Host], v)
		}()
	}
	wg.Wait()
	for i, v := range VMs {
		if errs[i] != nil {
			return fail("VM "+v.Name, errs[i])
		}
		s.vms[refs[i]] = &vmState{name: v.Name, ref: refs[i], memoryMB: v.MemoryMB, priority: v.RestartPriority, on: v.On}
	}

	s.decorate()
	return nil
}

// addIsolatedNetwork adds the isolated port group to every host's
// vSwitch0: vcsim makes one Network object of it, on the first host.
func addIsolatedNetwork(ctx context.Context, hosts map[string]*object.HostSystem) error {
	for _, name := range HostNames {
		ns, err := hosts[name].ConfigManager().NetworkSystem(ctx)
		if err != nil {
			return err
		}
		err = ns.AddPortGroup(ctx, types.HostPortGroupSpec{Name: IsolatedNetwork, VswitchName: "vSwitch0", Policy: types.HostNetworkPolicy{}})
		if err != nil && !fault.Is(err, &types.DuplicateName{}) {
			return err
		}
	}
	return nil
}

// vmConfigSpec is the configuration of a lab VM: one thick disk of disk
// bytes on its datastore and one E1000 NIC on the named port group.
func vmConfigSpec(v VMSpec, disk int64, network string) types.VirtualMachineConfigSpec {
	return types.VirtualMachineConfigSpec{
		Name:     v.Name,
		GuestId:  v.GuestID,
		MemoryMB: int64(v.MemoryMB),
		NumCPUs:  v.CPUs,
		Files:    &types.VirtualMachineFileInfo{VmPathName: "[" + v.Datastore + "]"},
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd,
				Device: &types.VirtualLsiLogicController{VirtualSCSIController: types.VirtualSCSIController{
					VirtualController: types.VirtualController{VirtualDevice: types.VirtualDevice{Key: 1000}, BusNumber: 0},
					SharedBus:         types.VirtualSCSISharingNoSharing}}},
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd,
				FileOperation: types.VirtualDeviceConfigSpecFileOperationCreate,
				Device: &types.VirtualDisk{
					VirtualDevice: types.VirtualDevice{Key: 2000, ControllerKey: 1000, UnitNumber: types.NewInt32(0),
						Backing: &types.VirtualDiskFlatVer2BackingInfo{
							VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: "[" + v.Datastore + "]"},
							DiskMode:                     string(types.VirtualDiskModePersistent),
							ThinProvisioned:              types.NewBool(false)}},
					CapacityInKB: disk >> 10, CapacityInBytes: disk}},
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd,
				Device: &types.VirtualE1000{VirtualEthernetCard: types.VirtualEthernetCard{
					VirtualDevice: types.VirtualDevice{Key: 4000, Backing: &types.VirtualEthernetCardNetworkBackingInfo{
						VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: network}}}}}},
		},
	}
}

func createVM(ctx context.Context, c *vim25.Client, folder *object.Folder, pool *object.ResourcePool, host *object.HostSystem, v VMSpec) (types.ManagedObjectReference, error) {
	spec := vmConfigSpec(v, v.DiskGB<<30, ProductionNetwork)
	task, err := folder.CreateVM(ctx, spec, pool, host)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	info, err := task.WaitForResult(ctx)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	ref := info.Result.(types.ManagedObjectReference)
	if v.Template() {
		// A template is a template: config.template is true and vCenter
		// refuses to power it on (vcsim: InvalidState).
		if err := object.NewVirtualMachine(c, ref).MarkAsTemplate(ctx); err != nil {
			return ref, fmt.Errorf("marking as a template: %w", err)
		}
		return ref, nil
	}
	if v.On {
		task, err := object.NewVirtualMachine(c, ref).PowerOn(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return ref, fmt.Errorf("powering on: %w", err)
		}
	}
	return ref, nil
}

// decorate sets what vcsim's templates get wrong for this site: host memory
// and addresses, datastore sizes, the HA configuration and running guests.
// Nothing is served yet, so fields are set directly.
func (s *Site) decorate() {
	m := s.model.Map()
	memory := int64(s.opts.HostMemoryGB) * int64(units.GB)
	for ref, st := range s.hosts {
		h := m.Get(ref).(*simulator.HostSystem)
		h.Summary.Hardware.MemorySize = memory
		h.Hardware.MemorySize = memory
		h.Summary.Hardware.Vendor = "IBM"
		h.Summary.Hardware.Model = "System x3650 M3 -[7945AC1]-"
		h.Summary.ManagementServerIp = s.opts.VCenterIP()
		ip := s.opts.HostIP(hostSuffix(st.name))
		if len(h.Config.Network.Vnic) > 0 {
			h.Config.Network.Vnic[0].Spec.Ip.IpAddress = ip
		}
		h.Runtime.DasHostState = &types.ClusterDasFdmHostState{State: st.das, StateReporter: s.masterRef()}
	}

	// vcsim attaches the isolated port group's Network to the first host
	// only; every host has it.
	dc := m.Get(s.dcRef).(*simulator.Datacenter)
	if n, ok := m.FindByName(IsolatedNetwork, dc.Network).(*mo.Network); ok {
		n.Host = nil
		for ref := range s.hosts {
			h := m.Get(ref).(*simulator.HostSystem)
			if !slices.Contains(h.Network, n.Self) {
				h.Network = append(h.Network, n.Self)
			}
			n.Host = append(n.Host, ref)
		}
	}

	for _, d := range Datastores {
		ds := m.FindByName(d.Name, m.Get(s.datastoreFolder()).(*simulator.Folder).ChildEntity).(*simulator.Datastore)
		capacity := d.CapacityGB * int64(units.GB)
		ds.Summary.Capacity = capacity
		ds.Summary.FreeSpace = capacity * 2 / 5
		ds.Summary.Type = "VMFS"
		info := ds.Info.GetDatastoreInfo()
		info.FreeSpace = ds.Summary.FreeSpace
		info.MaxFileSize = capacity
	}

	cl := m.Get(s.clusterRef).(*simulator.ClusterComputeResource)
	cfg := cl.ConfigurationEx.(*types.ClusterConfigInfoEx)
	cfg.DasConfig = types.ClusterDasConfigInfo{
		Enabled:                 types.NewBool(true),
		VmMonitoring:            string(types.ClusterDasConfigInfoVmMonitoringStateVmMonitoringDisabled),
		HostMonitoring:          string(types.ClusterDasConfigInfoServiceStateEnabled),
		FailoverLevel:           1,
		AdmissionControlPolicy:  &types.ClusterFailoverLevelAdmissionControlPolicy{FailoverLevel: 1},
		AdmissionControlEnabled: types.NewBool(true),
		DefaultVmSettings: &types.ClusterDasVmSettings{
			RestartPriority:   string(types.ClusterDasVmSettingsRestartPriorityMedium),
			IsolationResponse: string(types.ClusterDasVmSettingsIsolationResponseNone),
		},
	}
	// DRS fully automated: planned maintenance evacuates a host by
	// vMotion (the report's 67 vMotions a year). Options.NoDRS models a
	// Standard licence without it.
	cfg.DrsConfig.Enabled = types.NewBool(!s.opts.NoDRS)
	cfg.DrsConfig.DefaultVmBehavior = types.DrsBehaviorFullyAutomated
	if s.opts.NoDRS {
		cfg.DrsConfig.DefaultVmBehavior = types.DrsBehaviorManual
	}
	cfg.DasVmConfig = nil
	for ref, v := range s.vms {
		cfg.DasVmConfig = append(cfg.DasVmConfig, types.ClusterDasVmConfigInfo{
			Key:         ref,
			DasSettings: &types.ClusterDasVmSettings{RestartPriority: v.priority},
		})
	}
	cl.Configuration.DasConfig = cfg.DasConfig
	cl.Configuration.DasVmConfig = cfg.DasVmConfig
	if sum, ok := cl.Summary.(*types.ClusterComputeResourceSummary); ok {
		sum.AdmissionControlInfo = &types.ClusterFailoverLevelAdmissionControlInfo{CurrentFailoverLevel: 1}
		sum.CurrentFailoverLevel = 1
	}

	for ref, v := range s.vms {
		if !v.on {
			continue
		}
		vm := m.Get(ref).(*simulator.VirtualMachine)
		ip := s.opts.GuestIP(vmSuffix(v.name))
		vm.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		vm.Guest.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
		vm.Guest.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		vm.Guest.GuestState = string(types.VirtualMachineGuestStateRunning)
		vm.Guest.IpAddress = ip
		vm.Guest.HostName = guestHostName(v.name)
		vm.Guest.Net = []types.GuestNicInfo{{Network: "VM Network", IpAddress: []string{ip}, Connected: true, DeviceConfigId: 4000}}
		vm.Summary.Guest.ToolsStatus = vm.Guest.ToolsStatus
		vm.Summary.Guest.ToolsRunningStatus = vm.Guest.ToolsRunningStatus
		vm.Summary.Guest.IpAddress = ip
		vm.Summary.Guest.HostName = vm.Guest.HostName
		vm.GuestHeartbeatStatus = types.ManagedEntityStatusGreen
		vm.Summary.QuickStats.GuestHeartbeatStatus = types.ManagedEntityStatusGreen
	}
}

func (s *Site) datastoreFolder() types.ManagedObjectReference {
	dc := s.model.Map().Get(s.dcRef).(*simulator.Datacenter)
	return dc.DatastoreFolder
}

func (s *Site) hostByName(name string) *hostState {
	for _, h := range s.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// masterRef is the host whose HA agent is master; callers hold s.mu or run
// before serving.
func (s *Site) masterRef() *types.ManagedObjectReference {
	for _, h := range s.hosts {
		if h.das == "master" {
			ref := h.ref
			return &ref
		}
	}
	return nil
}

func hostSuffix(name string) int {
	n, _ := strconv.Atoi(name[len("esx-"):])
	return n
}

// guestHostName is what VMware Tools reports as the guest's host name.
func guestHostName(vm string) string {
	name := suffixPattern.ReplaceAllString(vm, "")
	out := make([]rune, 0, len(name))
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			out = append(out, r)
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		}
	}
	return string(out)
}

func (s *Site) newContext(session *simulator.Session) *simulator.Context {
	return &simulator.Context{Context: s.base, Map: s.model.Map(), Session: session}
}

// op returns a context of its own for one lab operation: vcsim's object locks
// are re-entrant per context, so concurrent operations must not share one.
func (s *Site) op() *simulator.Context {
	c := *s.agent
	return &c
}
