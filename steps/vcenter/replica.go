package vcenter

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*vmClone)(nil)
	_ steps.Preflighter = (*vmClone)(nil)
	_ steps.Kind        = (*vmDestroy)(nil)
	_ steps.Preflighter = (*vmDestroy)(nil)
	_ steps.Kind        = (*vmMigrate)(nil)
	_ steps.Preflighter = (*vmMigrate)(nil)
)

// The journal's record that this run asked vCenter for a VM: a
// vcenter.vm.clone journals it before it starts the clone task, with the
// instance UUID it gives the replica, so that a replica the task made
// after drbook itself was killed is still known as this run's.
// vcenter.vm.destroy destroys only a VM it finds here by name and UUID.
const (
	createdTitle     = "VM created by this run"
	createdByKey     = "created_by"
	createdByValue   = "vcenter.vm.clone"
	createdNameKey   = "vm"
	createdUUIDKey   = "instance_uuid"
	createdSourceKey = "source"
)

// createdByRun reports whether the run's journal records that it asked
// for a VM of this name and instance UUID.
func createdByRun(rt steps.Runtime, name, uuid string) bool {
	if uuid == "" {
		return false
	}
	for _, r := range steps.Recorded(rt) {
		ev := r.Evidence
		if ev.Kind != journal.EvidenceFacts || ev.Title != createdTitle {
			continue
		}
		f := map[string]string{}
		for _, x := range ev.Facts {
			f[x.Key] = x.Value
		}
		if f[createdByKey] == createdByValue && f[createdNameKey] == name && strings.EqualFold(f[createdUUIDKey], uuid) {
			return true
		}
	}
	return false
}

// createdNames are the names of VMs the run recorded creating.
func createdNames(rt steps.Runtime) map[string]bool {
	out := map[string]bool{}
	for _, r := range steps.Recorded(rt) {
		if r.Evidence.Title != createdTitle {
			continue
		}
		for _, x := range r.Evidence.Facts {
			if x.Key == createdNameKey {
				out[x.Value] = true
			}
		}
	}
	return out
}

// newInstanceUUID makes a random (version 4) UUID for a replica.
func newInstanceUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// vmByName returns the VM of that inventory name, or nil when there is none.
func (s *Session) vmByName(ctx context.Context, name string) (*object.VirtualMachine, error) {
	var all []mo.ManagedEntity
	if err := s.retrieveAll(ctx, "VirtualMachine", []string{"name"}, &all); err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.Name == name {
			return object.NewVirtualMachine(s.Client, e.Self), nil
		}
	}
	return nil, nil
}

// findDatastore returns the datastore of that name.
func (s *Session) findDatastore(ctx context.Context, name string) (mo.Datastore, error) {
	ref, err := s.findNamed(ctx, "Datastore", "datastore", name)
	if err != nil {
		return mo.Datastore{}, err
	}
	var ds mo.Datastore
	if err := s.propsOf(ctx, ref, []string{"name", "summary", "host"}, &ds); err != nil {
		return ds, err
	}
	return ds, nil
}

// findNetwork returns the port group (standard or distributed) of that
// name. mo.Network has a name field of its own, which the generic
// findNamed would not fill.
func (s *Session) findNetwork(ctx context.Context, name string) (types.ManagedObjectReference, error) {
	// Raw contents: a container view of Network also returns
	// DistributedVirtualPortgroup objects, which do not decode into
	// mo.Network.
	var all []types.ObjectContent
	if err := s.retrieveAll(ctx, "Network", []string{"name"}, &all); err != nil {
		return types.ManagedObjectReference{}, err
	}
	var known []string
	for _, oc := range all {
		for _, p := range oc.PropSet {
			n, _ := p.Val.(string)
			if p.Name == "name" && n == name {
				return oc.Obj, nil
			}
			if p.Name == "name" {
				known = append(known, n)
			}
		}
	}
	return types.ManagedObjectReference{}, notFound("port group", name, s.endpoint.URL.Host, known)
}

// propsOf reads properties of one object.
func (s *Session) propsOf(ctx context.Context, ref types.ManagedObjectReference, props []string, dst any) error {
	if err := object.NewCommon(s.Client, ref).Properties(ctx, ref, props, dst); err != nil {
		return i18n.Errorf("vCenter %s: reading %s: %w", "vCenter %s：讀取 %s：%w", s.endpoint.URL.Host, ref.Value, err)
	}
	return nil
}

// mountedOn reports whether a datastore is mounted on a host.
func mountedOn(ds mo.Datastore, host types.ManagedObjectReference) bool {
	for _, m := range ds.Host {
		if m.Key == host {
			return true
		}
	}
	return false
}

// usableHost says why vCenter cannot place a VM on the host (nil if it can).
func usableHost(m mo.HostSystem) error {
	if m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		return i18n.Errorf("host %s is %s", "主機 %s 之連線狀態為 %s", m.Name, m.Runtime.ConnectionState)
	}
	if m.Runtime.PowerState != types.HostSystemPowerStatePoweredOn {
		return i18n.Errorf("host %s is %s", "主機 %s 之電源狀態為 %s", m.Name, m.Runtime.PowerState)
	}
	if m.Runtime.InMaintenanceMode {
		return i18n.Errorf("host %s is in maintenance mode, where vCenter places no VM", "主機 %s 處於維護模式，vCenter 不會於其上放置 VM", m.Name)
	}
	return nil
}

// diskBytes sums a VM's virtual disks.
func diskBytes(devices []types.BaseVirtualDevice) int64 {
	var n int64
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok {
			n += disk.CapacityInKB * 1024
		}
	}
	return n
}

// nicNetworks lists the port groups a VM's NICs are on.
func nicNetworks(devices []types.BaseVirtualDevice) []string {
	var out []string
	for _, d := range devices {
		card, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		switch b := card.GetVirtualEthernetCard().Backing.(type) {
		case *types.VirtualEthernetCardNetworkBackingInfo:
			out = append(out, b.DeviceName)
		case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
			out = append(out, "dvportgroup "+b.Port.PortgroupKey)
		}
	}
	return out
}

func gb(n int64) string { return fmt.Sprintf("%.1f GB", float64(n)/(1<<30)) }

// ---- clone ----

// vmCloneParams are the parameters of vcenter.vm.clone.
type vmCloneParams struct {
	// VM is the VM to copy.
	VM string `yaml:"vm" drbook:"vm"`
	// Name is the replica's name; empty means "<vm>-replica".
	Name string `yaml:"name"`
	// Datastore receives the replica's files.
	Datastore string `yaml:"datastore"`
	// Host runs the replica; empty keeps the VM's host.
	Host string `yaml:"host" drbook:"host"`
	// Snapshot clones from the VM's snapshot of that name instead of its
	// current state.
	Snapshot string `yaml:"snapshot"`
	// Network puts every NIC of the replica on this port group, e.g. an
	// isolated one, so that it cannot clash with the original.
	Network string `yaml:"network"`
	// PowerOn powers the replica on once it is made.
	PowerOn bool `yaml:"power_on"`
	// Timeout bounds the clone task.
	Timeout journal.Duration `yaml:"timeout"`
}

// vmCloneResult is what vcenter.vm.clone made.
type vmCloneResult struct {
	Name         string           `json:"name" expr:"name"`
	Moref        string           `json:"moref" expr:"moref"`
	InstanceUUID string           `json:"instance_uuid" expr:"instance_uuid"`
	Source       string           `json:"source" expr:"source"`
	Datastore    string           `json:"datastore" expr:"datastore"`
	Host         string           `json:"host" expr:"host"`
	Networks     []string         `json:"networks" expr:"networks"`
	Snapshot     string           `json:"snapshot" expr:"snapshot"`
	DiskBytes    int64            `json:"disk_bytes" expr:"disk_bytes"`
	PoweredOn    bool             `json:"powered_on" expr:"powered_on"`
	Reused       bool             `json:"reused" expr:"reused"`
	RequestedAt  time.Time        `json:"requested_at" expr:"requested_at"`
	ClonedAt     time.Time        `json:"cloned_at" expr:"cloned_at"`
	CloneTook    journal.Duration `json:"clone_took" expr:"clone_took"`
}

// vmClone is vcenter.vm.clone.
type vmClone struct{}

func (vmClone) Name() string { return "vcenter.vm.clone" }
func (vmClone) Summary() string {
	return "clone a VM (its current state or a snapshot) to another datastore and host, optionally onto an isolated port group and powered on"
}

// Traits: idempotent because a replica of the same name that this run's
// journal records is reused, never made twice.
func (vmClone) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (vmClone) NewParams() any {
	return &vmCloneParams{Timeout: journal.Duration(4 * time.Hour)}
}
func (vmClone) NewResult() any { return &vmCloneResult{} }
func (vmClone) Validate(params any) []steps.FieldError {
	p := params.(*vmCloneParams)
	errs := required("vm", p.VM)
	errs = append(errs, required("datastore", p.Datastore)...)
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 2h", "須為正數之時間長度，例如 2h"))
	}
	if p.Name != "" && p.Name == p.VM {
		errs = append(errs, steps.Fieldf("name", "must differ from vm: the replica needs a name of its own", "須與 vm 不同：複本須有自己之名稱"))
	}
	return errs
}

func (p *vmCloneParams) replicaName(source string) string {
	if p.Name != "" {
		return p.Name
	}
	return source + "-replica"
}

func (vmClone) Describe(params any) steps.Description {
	p := params.(*vmCloneParams)
	from, zhFrom := "the current state of VM "+p.VM, "VM "+p.VM+" 之目前狀態"
	if p.Snapshot != "" {
		from = fmt.Sprintf("snapshot %q of VM %s", p.Snapshot, p.VM)
		zhFrom = fmt.Sprintf("VM %s 之快照 %q", p.VM, p.Snapshot)
	}
	a := fmt.Sprintf("clone %s as %s to datastore %s", from, p.replicaName(p.VM), p.Datastore)
	zh := fmt.Sprintf("將%s複製為 %s，置於資料存放區 %s", zhFrom, p.replicaName(p.VM), p.Datastore)
	if p.Host != "" {
		a += " on host " + p.Host
		zh += "，主機 " + p.Host
	}
	if p.Network != "" {
		a += ", NICs on port group " + p.Network
		zh += "，網路卡接至連接埠群組 " + p.Network
	}
	if p.PowerOn {
		a += ", then power it on"
		zh += "，完成後開機"
	}
	return steps.Description{Action: a, ActionZhTW: zh, Target: p.VM, Command: "CloneVM_Task"}
}

// clonePlan is what a clone will do, found read-only.
type clonePlan struct {
	s        *Session
	src      *object.VirtualMachine
	srcMO    mo.VirtualMachine
	name     string
	ds       mo.Datastore
	host     *mo.HostSystem
	hostName string
	network  *types.ManagedObjectReference
	snapshot *types.ManagedObjectReference
	size     int64
}

// planClone finds everything a clone needs and checks what vCenter would
// refuse: every check read-only.
func planClone(ctx context.Context, rt steps.Runtime, p *vmCloneParams) (*clonePlan, error) {
	s, src, err := vmTarget(ctx, rt, p.VM)
	if err != nil {
		return nil, err
	}
	pl := &clonePlan{s: s, src: src}
	if err := s.propsOf(ctx, src.Reference(), []string{"name", "config.template", "config.hardware.device", "runtime.host", "datastore"}, &pl.srcMO); err != nil {
		return nil, err
	}
	pl.name = p.replicaName(pl.srcMO.Name)
	pl.size = diskBytes(pl.srcMO.Config.Hardware.Device)
	if p.Snapshot != "" {
		ref, err := src.FindSnapshot(ctx, p.Snapshot)
		if err != nil {
			return nil, i18n.Errorf("VM %s has no snapshot %q (%v); take one with vcenter.vm.snapshot or leave snapshot: out to clone its current state", "VM %s 沒有快照 %q（%v）；請以 vcenter.vm.snapshot 建立，或省略 snapshot: 以複製其目前狀態", pl.srcMO.Name, p.Snapshot, err)
		}
		pl.snapshot = ref
	}
	if pl.srcMO.Config.Template && p.PowerOn {
		return nil, i18n.Errorf("VM %s is a template: its clone is a VM that can be powered on, but drbook does not power on clones of templates; set power_on: false", "VM %s 是範本：其複本是可開機之 VM，但 drbook 不開啟範本複本之電源；請設定 power_on: false", pl.srcMO.Name)
	}
	if pl.ds, err = s.findDatastore(ctx, p.Datastore); err != nil {
		return nil, err
	}
	hostRef := pl.srcMO.Runtime.Host
	if p.Host != "" {
		h, err := s.findHost(ctx, hostName(rt, p.Host))
		if err != nil {
			return nil, err
		}
		r := h.Reference()
		hostRef = &r
	}
	if hostRef != nil {
		m, err := s.readHost(ctx, object.NewHostSystem(s.Client, *hostRef))
		if err != nil {
			return nil, err
		}
		pl.host, pl.hostName = &m, m.Name
		if why := usableHost(m); why != nil {
			return nil, i18n.Errorf("cannot place the replica %s: %v; choose another host:", "無法放置複本 %s：%v；請以 host: 另選主機", pl.name, why)
		}
		if !mountedOn(pl.ds, m.Self) {
			return nil, i18n.Errorf("datastore %s is not mounted on host %s, so the replica cannot run there; choose a datastore the host mounts (shared storage) or another host:", "資料存放區 %s 未掛載於主機 %s，複本無法於該處執行；請選擇該主機已掛載之資料存放區（共用儲存）或以 host: 另選主機", pl.ds.Name, m.Name)
		}
	}
	if pl.ds.Summary.FreeSpace < pl.size {
		return nil, i18n.Errorf("datastore %s has %s free, the clone of %s needs %s; choose another datastore: or free space", "資料存放區 %s 可用空間為 %s，%s 之複本需要 %s；請以 datastore: 另選資料存放區或釋出空間", pl.ds.Name, gb(pl.ds.Summary.FreeSpace), pl.srcMO.Name, gb(pl.size))
	}
	if p.Network != "" {
		ref, err := s.findNetwork(ctx, p.Network)
		if err != nil {
			return nil, err
		}
		if pl.host != nil {
			var hn mo.HostSystem
			if err := s.propsOf(ctx, pl.host.Self, []string{"network"}, &hn); err != nil {
				return nil, err
			}
			found := false
			for _, n := range hn.Network {
				found = found || n == ref
			}
			if !found {
				return nil, i18n.Errorf("host %s has no port group %s, so the replica's NICs cannot be put on it; choose a port group every host has", "主機 %s 沒有連接埠群組 %s，複本之網路卡無法接上；請選擇每台主機皆有之連接埠群組", pl.hostName, p.Network)
			}
		}
		pl.network = &ref
	}
	return pl, nil
}

func (vmClone) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmCloneParams)
	pl, err := planClone(ctx, rt, p)
	if err != nil {
		return err
	}
	existing, err := pl.s.vmByName(ctx, pl.name)
	if err != nil {
		return err
	}
	if existing != nil {
		return i18n.Errorf("a VM named %s already exists in vCenter, and this run has not created it yet; choose another name: or remove that VM by hand", "vCenter 中已有名為 %s 之 VM，且並非本次執行所建立；請以 name: 另取名稱，或以人工移除該 VM", pl.name)
	}
	return nil
}

// nicChanges puts every NIC of the source on network.
func (pl *clonePlan) nicChanges(ctx context.Context) ([]types.BaseVirtualDeviceConfigSpec, error) {
	if pl.network == nil {
		return nil, nil
	}
	var backing types.BaseVirtualDeviceBackingInfo
	switch pl.network.Type {
	case "DistributedVirtualPortgroup":
		var pg mo.DistributedVirtualPortgroup
		if err := pl.s.propsOf(ctx, *pl.network, []string{"key", "config.distributedVirtualSwitch"}, &pg); err != nil {
			return nil, err
		}
		var dvs mo.DistributedVirtualSwitch
		if err := pl.s.propsOf(ctx, *pg.Config.DistributedVirtualSwitch, []string{"uuid"}, &dvs); err != nil {
			return nil, err
		}
		backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{Port: types.DistributedVirtualSwitchPortConnection{PortgroupKey: pg.Key, SwitchUuid: dvs.Uuid}}
	default:
		var n mo.Network
		if err := pl.s.propsOf(ctx, *pl.network, []string{"name"}, &n); err != nil {
			return nil, err
		}
		backing = &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n.Name}, Network: pl.network}
	}
	var out []types.BaseVirtualDeviceConfigSpec
	for _, d := range pl.srcMO.Config.Hardware.Device {
		card, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		card.GetVirtualEthernetCard().Backing = backing
		out = append(out, &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationEdit, Device: d})
	}
	if len(out) == 0 {
		return nil, i18n.Errorf("VM %s has no NIC to put on port group %v; leave network: out", "VM %s 沒有可接上連接埠群組 %v 之網路卡；請省略 network:", pl.srcMO.Name, pl.network.Value)
	}
	return out, nil
}

// describeReplica reads what the replica is.
func (s *Session) describeReplica(ctx context.Context, ref types.ManagedObjectReference, res *vmCloneResult) error {
	var m mo.VirtualMachine
	if err := s.propsOf(ctx, ref, []string{"name", "config.instanceUuid", "config.hardware.device", "datastore", "runtime.host", "runtime.powerState"}, &m); err != nil {
		return err
	}
	res.Name, res.Moref = m.Name, ref.Value
	res.InstanceUUID = m.Config.InstanceUuid
	res.Networks = nicNetworks(m.Config.Hardware.Device)
	if res.Networks == nil {
		res.Networks = []string{}
	}
	res.DiskBytes = diskBytes(m.Config.Hardware.Device)
	res.PoweredOn = m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	refs := append([]types.ManagedObjectReference{}, m.Datastore...)
	if m.Runtime.Host != nil {
		refs = append(refs, *m.Runtime.Host)
	}
	names, err := s.names(ctx, refs)
	if err != nil {
		return err
	}
	if len(m.Datastore) > 0 {
		res.Datastore = names[m.Datastore[0]]
	}
	if m.Runtime.Host != nil {
		res.Host = names[*m.Runtime.Host]
	}
	return nil
}

func (vmClone) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmCloneParams)
	pl, err := planClone(ctx, rt, p)
	if err != nil {
		return nil, err
	}
	s := pl.s
	res := &vmCloneResult{Source: pl.srcMO.Name, Snapshot: p.Snapshot, RequestedAt: time.Now()}
	if existing, err := s.vmByName(ctx, pl.name); err != nil {
		return nil, err
	} else if existing != nil {
		// A replica of this name: this run's own (a resumed run, or a
		// task that finished after drbook was killed) is reused.
		var m mo.VirtualMachine
		if err := s.propsOf(ctx, existing.Reference(), []string{"config.instanceUuid", "runtime.powerState"}, &m); err != nil {
			return nil, err
		}
		if !createdByRun(rt, pl.name, m.Config.InstanceUuid) {
			return nil, i18n.Errorf("a VM named %s already exists in vCenter and this run did not create it (its instance UUID %s is in no vcenter.vm.clone record of this run's journal); drbook will not take it over: choose another name:, or remove that VM by hand if it is a leftover of an earlier drill", "vCenter 中已有名為 %s 之 VM，且並非本次執行所建立（其執行個體 UUID %s 不在本次紀錄檔之任何 vcenter.vm.clone 紀錄中）；drbook 不會接管之：請以 name: 另取名稱，若為先前演練之殘留，請以人工移除該 VM", pl.name, m.Config.InstanceUuid)
		}
		steps.SayNote(rt, "info", "replica %s already exists and this run created it (instance UUID %s); reusing it", "複本 %s 已存在且為本次演練所建立（執行個體 UUID %s）；沿用之", pl.name, m.Config.InstanceUuid)
		if p.PowerOn && m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			if _, err := s.runTask(ctx, journal.Text{EN: "power on replica " + pl.name, ZhTW: "將複本 " + pl.name + " 開機"}, existing.PowerOn); err != nil {
				return nil, err
			}
		}
		res.Reused = true
		res.ClonedAt = time.Now()
		if err := s.describeReplica(ctx, existing.Reference(), res); err != nil {
			return nil, err
		}
		return res, nil
	}
	uuid, err := newInstanceUUID()
	if err != nil {
		return nil, err
	}
	nics, err := pl.nicChanges(ctx)
	if err != nil {
		return nil, err
	}
	var folder mo.VirtualMachine
	if err := s.propsOf(ctx, pl.src.Reference(), []string{"parent"}, &folder); err != nil {
		return nil, err
	}
	if folder.Parent == nil {
		return nil, i18n.Errorf("VM %s is in no folder, so vCenter has nowhere to put its clone", "VM %s 不在任何資料夾中，vCenter 無處放置其複本", pl.srcMO.Name)
	}
	dsRef := pl.ds.Self
	spec := types.VirtualMachineCloneSpec{
		Location: types.VirtualMachineRelocateSpec{Datastore: &dsRef, DeviceChange: nics},
		Config:   &types.VirtualMachineConfigSpec{InstanceUuid: uuid},
		PowerOn:  p.PowerOn,
		Snapshot: pl.snapshot,
	}
	if pl.host != nil {
		h := pl.host.Self
		spec.Location.Host = &h
	}
	// Journal the request before vCenter gets it: if drbook dies while
	// the task runs, the replica vCenter finishes is still this run's.
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: createdTitle, TitleZhTW: "本次演練所建立之 VM", Facts: []journal.Fact{
		{Key: createdByKey, KeyZhTW: "建立者", Value: createdByValue},
		{Key: createdNameKey, KeyZhTW: "名稱", Value: pl.name},
		{Key: createdUUIDKey, KeyZhTW: "執行個體 UUID", Value: uuid},
		{Key: createdSourceKey, KeyZhTW: "來源", Value: pl.srcMO.Name},
		{Key: "datastore", KeyZhTW: "資料存放區", Value: pl.ds.Name},
		{Key: "host", KeyZhTW: "主機", Value: pl.hostName},
		{Key: "requested", KeyZhTW: "送出時間", Value: stamp(res.RequestedAt)},
	}})
	steps.Say(rt, "cloning %s (%s) to %s as %s", "正在將 %s（%s）複製至 %s，名稱 %s", pl.srcMO.Name, gb(pl.size), pl.ds.Name, pl.name)
	wctx, cancel, timedOut := within(ctx, p.Timeout.D())
	defer cancel()
	info, err := s.runTask(wctx, journal.Text{EN: fmt.Sprintf("clone VM %s as %s", pl.srcMO.Name, pl.name), ZhTW: fmt.Sprintf("將 VM %s 複製為 %s", pl.srcMO.Name, pl.name)}, func(ctx context.Context) (*object.Task, error) {
		return pl.src.Clone(ctx, object.NewFolder(s.Client, *folder.Parent), pl.name, spec)
	})
	if timedOut(err) {
		return nil, i18n.Errorf("the clone of %s as %s did not finish within %s; vCenter may still be copying it (see its Recent Tasks); raise timeout: and resume, which reuses the replica once it exists", "%s 複製為 %s 未於 %s 內完成；vCenter 可能仍在複製（請見其「近期工作」）；請提高 timeout: 後續行，複本存在後將沿用之", pl.srcMO.Name, pl.name, p.Timeout)
	}
	if err != nil {
		return nil, err
	}
	res.ClonedAt = time.Now()
	res.CloneTook = journal.Duration(res.ClonedAt.Sub(res.RequestedAt))
	ref, ok := info.Result.(types.ManagedObjectReference)
	if !ok {
		return nil, i18n.Errorf("the clone task of %s returned no VM", "%s 之複製工作未傳回 VM", pl.name)
	}
	if err := s.describeReplica(ctx, ref, res); err != nil {
		return nil, err
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "replica " + res.Name, TitleZhTW: "複本 " + res.Name, Facts: []journal.Fact{
		{Key: "source", KeyZhTW: "來源", Value: res.Source},
		{Key: "snapshot", KeyZhTW: "快照", Value: res.Snapshot},
		{Key: "moref", KeyZhTW: "受管物件參照（moref）", Value: res.Moref},
		{Key: "instance UUID", KeyZhTW: "執行個體 UUID", Value: res.InstanceUUID},
		{Key: "datastore", KeyZhTW: "資料存放區", Value: res.Datastore},
		{Key: "host", KeyZhTW: "主機", Value: res.Host},
		{Key: "port groups", KeyZhTW: "連接埠群組", Value: strings.Join(res.Networks, ", ")},
		{Key: "disks", KeyZhTW: "磁碟", Value: gb(res.DiskBytes)},
		{Key: "clone took", KeyZhTW: "複製耗時", Value: res.CloneTook.String()},
		{Key: "powered on", KeyZhTW: "已開機", Value: fmt.Sprint(res.PoweredOn)},
	}})
	return res, nil
}

// ---- destroy ----

// vmDestroyParams are the parameters of vcenter.vm.destroy.
type vmDestroyParams struct {
	VM string `yaml:"vm" drbook:"vm"`
	// CreatedElsewhereOK destroys a VM this run did not create.
	CreatedElsewhereOK bool `yaml:"created_elsewhere_ok"`
	// TemplateOK destroys a template.
	TemplateOK bool `yaml:"template_ok"`
	// Timeout bounds the power-off and the destroy.
	Timeout journal.Duration `yaml:"timeout"`
}

// vmDestroyResult is what vcenter.vm.destroy did.
type vmDestroyResult struct {
	VM               string           `json:"vm" expr:"vm"`
	Moref            string           `json:"moref" expr:"moref"`
	InstanceUUID     string           `json:"instance_uuid" expr:"instance_uuid"`
	CreatedByThisRun bool             `json:"created_by_this_run" expr:"created_by_this_run"`
	WasPoweredOn     bool             `json:"was_powered_on" expr:"was_powered_on"`
	AlreadyGone      bool             `json:"already_gone" expr:"already_gone"`
	DestroyedAt      time.Time        `json:"destroyed_at" expr:"destroyed_at"`
	Took             journal.Duration `json:"took" expr:"took"`
}

// vmDestroy is vcenter.vm.destroy.
type vmDestroy struct{}

func (vmDestroy) Name() string { return "vcenter.vm.destroy" }
func (vmDestroy) Summary() string {
	return "power off and destroy a VM this run created (refusing any other unless told)"
}
func (vmDestroy) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (vmDestroy) NewParams() any {
	return &vmDestroyParams{Timeout: journal.Duration(30 * time.Minute)}
}
func (vmDestroy) NewResult() any { return &vmDestroyResult{} }
func (vmDestroy) Validate(params any) []steps.FieldError {
	p := params.(*vmDestroyParams)
	errs := required("vm", p.VM)
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 30m", "須為正數之時間長度，例如 30m"))
	}
	return errs
}
func (vmDestroy) Describe(params any) steps.Description {
	p := params.(*vmDestroyParams)
	a, zh := "power off and destroy VM "+p.VM+" (only if this run created it)", "將 VM "+p.VM+" 關機並刪除（僅限本次演練所建立者）"
	if p.CreatedElsewhereOK {
		a, zh = "power off and destroy VM "+p.VM+" (even if this run did not create it)", "將 VM "+p.VM+" 關機並刪除（即使非本次演練所建立）"
	}
	return steps.Description{Action: a, ActionZhTW: zh, Target: p.VM, Command: "Destroy_Task"}
}

// destroyCheck refuses what the step must not destroy.
func destroyCheck(rt steps.Runtime, p *vmDestroyParams, m mo.VirtualMachine) (created bool, err error) {
	if m.Config != nil && m.Config.Template && !p.TemplateOK {
		return false, i18n.Errorf("VM %s is a template; drbook does not destroy templates unless told: set template_ok: true if you mean it", "VM %s 是範本；除非明確指定，drbook 不刪除範本：若確有此意，請設定 template_ok: true", m.Name)
	}
	uuid := ""
	if m.Config != nil {
		uuid = m.Config.InstanceUuid
	}
	created = createdByRun(rt, m.Name, uuid)
	if !created && !p.CreatedElsewhereOK {
		return false, i18n.Errorf("VM %s was not created by this run: no vcenter.vm.clone of this run's journal records a VM of that name with instance UUID %s, and drbook destroys only what its run created; if it must go anyway, set created_elsewhere_ok: true", "VM %s 並非本次執行所建立：本次紀錄檔之 vcenter.vm.clone 紀錄中沒有該名稱且執行個體 UUID 為 %s 之 VM，而 drbook 僅刪除其執行所建立者；若仍須刪除，請設定 created_elsewhere_ok: true", m.Name, uuid)
	}
	return created, nil
}

func (vmDestroy) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmDestroyParams)
	s, err := connect(ctx, rt)
	if err != nil {
		return err
	}
	// The VM is usually made by an earlier step of the run: a name that
	// does not exist yet is not a problem here.
	v, err := s.vmByName(ctx, vmName(rt, p.VM))
	if err != nil || v == nil {
		return err
	}
	var m mo.VirtualMachine
	if err := s.propsOf(ctx, v.Reference(), []string{"name", "config.template", "config.instanceUuid"}, &m); err != nil {
		return err
	}
	if m.Config != nil && m.Config.Template && !p.TemplateOK {
		return i18n.Errorf("VM %s is a template; drbook does not destroy templates unless told: set template_ok: true if you mean it", "VM %s 是範本；除非明確指定，drbook 不刪除範本：若確有此意，請設定 template_ok: true", m.Name)
	}
	if !p.CreatedElsewhereOK {
		return i18n.Errorf("VM %s exists before the run, so this run cannot have created it, and vcenter.vm.destroy will refuse it; set created_elsewhere_ok: true if it must go", "VM %s 於執行前即已存在，不可能為本次執行所建立，vcenter.vm.destroy 將拒絕刪除；若須刪除，請設定 created_elsewhere_ok: true", m.Name)
	}
	return nil
}

func (vmDestroy) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmDestroyParams)
	start := time.Now()
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	name := vmName(rt, p.VM)
	v, err := s.vmByName(ctx, name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		if createdNames(rt)[name] {
			// This run made it and it is gone: destroyed by an earlier
			// attempt of this step (a resumed run), or never finished.
			steps.SayNote(rt, "info", "VM %s, which this run created, no longer exists; nothing to destroy", "本次演練所建立之 VM %s 已不存在；無須刪除", name)
			now := time.Now()
			return &vmDestroyResult{VM: name, CreatedByThisRun: true, AlreadyGone: true, DestroyedAt: now}, nil
		}
		_, err := s.findVM(ctx, name) // the error names the VMs vCenter has
		return nil, err
	}
	var m mo.VirtualMachine
	if err := s.propsOf(ctx, v.Reference(), []string{"name", "config.template", "config.instanceUuid", "runtime.powerState"}, &m); err != nil {
		return nil, err
	}
	created, err := destroyCheck(rt, p, m)
	if err != nil {
		return nil, err
	}
	if !created {
		steps.SayNote(rt, "warn", "destroying VM %s, which this run did not create (created_elsewhere_ok: true)", "正在刪除非本次演練所建立之 VM %s（created_elsewhere_ok: true）", m.Name)
	}
	res := &vmDestroyResult{VM: m.Name, Moref: v.Reference().Value, CreatedByThisRun: created}
	if m.Config != nil {
		res.InstanceUUID = m.Config.InstanceUuid
	}
	wctx, cancel, timedOut := within(ctx, p.Timeout.D())
	defer cancel()
	if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		res.WasPoweredOn = true
		if _, err := s.runTask(wctx, journal.Text{EN: "power off VM " + m.Name, ZhTW: "將 VM " + m.Name + " 關機"}, v.PowerOff); err != nil {
			if timedOut(err) {
				return nil, i18n.Errorf("VM %s did not power off within %s; raise timeout:", "VM %s 未於 %s 內關機；請提高 timeout:", m.Name, p.Timeout)
			}
			return nil, err
		}
	}
	if _, err := s.runTask(wctx, journal.Text{EN: "destroy VM " + m.Name, ZhTW: "刪除 VM " + m.Name}, v.Destroy); err != nil {
		if timedOut(err) {
			return nil, i18n.Errorf("VM %s was not destroyed within %s; raise timeout:", "VM %s 未於 %s 內刪除；請提高 timeout:", m.Name, p.Timeout)
		}
		return nil, err
	}
	res.DestroyedAt = time.Now()
	res.Took = journal.Duration(res.DestroyedAt.Sub(start))
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "destroyed VM " + m.Name, TitleZhTW: "已刪除之 VM " + m.Name, Facts: []journal.Fact{
		{Key: "moref", KeyZhTW: "受管物件參照（moref）", Value: res.Moref},
		{Key: "instance UUID", KeyZhTW: "執行個體 UUID", Value: res.InstanceUUID},
		{Key: "created by this run", KeyZhTW: "本次演練所建立", Value: fmt.Sprint(created)},
		{Key: "was powered on", KeyZhTW: "刪除前已開機", Value: fmt.Sprint(res.WasPoweredOn)},
		{Key: "destroyed", KeyZhTW: "刪除時間", Value: stamp(res.DestroyedAt)},
	}})
	return res, nil
}

// ---- migrate ----

// vmMigrateParams are the parameters of vcenter.vm.migrate.
type vmMigrateParams struct {
	VM string `yaml:"vm" drbook:"vm"`
	// Host is where vMotion moves the VM; empty keeps its host.
	Host string `yaml:"host" drbook:"host"`
	// Datastore is where storage vMotion moves its files; empty keeps them.
	Datastore string `yaml:"datastore"`
	// Priority is vCenter's migration priority: default, high or low.
	Priority string `yaml:"priority"`
	// Timeout bounds the migration.
	Timeout journal.Duration `yaml:"timeout"`
}

// vmMigrateResult is what vcenter.vm.migrate did.
type vmMigrateResult struct {
	VM              string           `json:"vm" expr:"vm"`
	FromHost        string           `json:"from_host" expr:"from_host"`
	ToHost          string           `json:"to_host" expr:"to_host"`
	FromDatastore   string           `json:"from_datastore" expr:"from_datastore"`
	ToDatastore     string           `json:"to_datastore" expr:"to_datastore"`
	PoweredOnBefore bool             `json:"powered_on_before" expr:"powered_on_before"`
	StayedPoweredOn bool             `json:"stayed_powered_on" expr:"stayed_powered_on"`
	Already         bool             `json:"already" expr:"already"`
	RequestedAt     time.Time        `json:"requested_at" expr:"requested_at"`
	CompletedAt     time.Time        `json:"completed_at" expr:"completed_at"`
	Took            journal.Duration `json:"took" expr:"took"`
}

// vmMigrate is vcenter.vm.migrate.
type vmMigrate struct{}

func (vmMigrate) Name() string { return "vcenter.vm.migrate" }
func (vmMigrate) Summary() string {
	return "move a VM to another host (vMotion), another datastore (storage vMotion) or both, recording whether it stayed powered on"
}
func (vmMigrate) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (vmMigrate) NewParams() any {
	return &vmMigrateParams{Priority: "default", Timeout: journal.Duration(2 * time.Hour)}
}
func (vmMigrate) NewResult() any { return &vmMigrateResult{} }
func (vmMigrate) Validate(params any) []steps.FieldError {
	p := params.(*vmMigrateParams)
	errs := required("vm", p.VM)
	if p.Host == "" && p.Datastore == "" {
		errs = append(errs, steps.Fieldf("host", "give host (vMotion), datastore (storage vMotion) or both", "請提供 host（vMotion）、datastore（storage vMotion）或兩者"))
	}
	errs = append(errs, oneOf("priority", p.Priority, "default", "high", "low")...)
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 1h", "須為正數之時間長度，例如 1h"))
	}
	return errs
}
func (vmMigrate) Describe(params any) steps.Description {
	p := params.(*vmMigrateParams)
	var to, zh []string
	if p.Host != "" {
		to = append(to, "host "+p.Host+" (vMotion)")
		zh = append(zh, "主機 "+p.Host+"（vMotion）")
	}
	if p.Datastore != "" {
		to = append(to, "datastore "+p.Datastore+" (storage vMotion)")
		zh = append(zh, "資料存放區 "+p.Datastore+"（storage vMotion）")
	}
	return steps.Description{Action: fmt.Sprintf("migrate VM %s to %s", p.VM, strings.Join(to, " and ")), ActionZhTW: fmt.Sprintf("將 VM %s 移轉至%s", p.VM, strings.Join(zh, "及")), Target: p.VM, Command: "RelocateVM_Task"}
}

// migratePlan is a checked migration.
type migratePlan struct {
	s      *Session
	v      *object.VirtualMachine
	m      mo.VirtualMachine
	host   *mo.HostSystem
	ds     *mo.Datastore
	from   string
	fromDS string
}

func planMigrate(ctx context.Context, rt steps.Runtime, p *vmMigrateParams) (*migratePlan, error) {
	s, v, err := vmTarget(ctx, rt, p.VM)
	if err != nil {
		return nil, err
	}
	pl := &migratePlan{s: s, v: v}
	if err := s.propsOf(ctx, v.Reference(), []string{"name", "runtime.host", "runtime.powerState", "datastore", "config.hardware.device"}, &pl.m); err != nil {
		return nil, err
	}
	refs := append([]types.ManagedObjectReference{}, pl.m.Datastore...)
	if pl.m.Runtime.Host != nil {
		refs = append(refs, *pl.m.Runtime.Host)
	}
	names, err := s.names(ctx, refs)
	if err != nil {
		return nil, err
	}
	if pl.m.Runtime.Host != nil {
		pl.from = names[*pl.m.Runtime.Host]
	}
	if len(pl.m.Datastore) > 0 {
		pl.fromDS = names[pl.m.Datastore[0]]
	}
	targetHost := pl.m.Runtime.Host
	if p.Host != "" {
		h, err := s.findHost(ctx, hostName(rt, p.Host))
		if err != nil {
			return nil, err
		}
		hm, err := s.readHost(ctx, h)
		if err != nil {
			return nil, err
		}
		pl.host = &hm
		targetHost = &hm.Self
		if pl.m.Runtime.Host == nil || hm.Self != *pl.m.Runtime.Host {
			if why := usableHost(hm); why != nil {
				return nil, i18n.Errorf("cannot migrate VM %s: %v; choose another host:", "無法移轉 VM %s：%v；請以 host: 另選主機", pl.m.Name, why)
			}
		}
	}
	if p.Datastore != "" {
		ds, err := s.findDatastore(ctx, p.Datastore)
		if err != nil {
			return nil, err
		}
		pl.ds = &ds
		moving := len(pl.m.Datastore) == 0 || pl.m.Datastore[0] != ds.Self
		if need := diskBytes(pl.m.Config.Hardware.Device); moving && ds.Summary.FreeSpace < need {
			return nil, i18n.Errorf("datastore %s has %s free, VM %s's disks need %s; choose another datastore:", "資料存放區 %s 可用空間為 %s，VM %s 之磁碟需要 %s；請以 datastore: 另選資料存放區", ds.Name, gb(ds.Summary.FreeSpace), pl.m.Name, gb(need))
		}
		if targetHost != nil && !mountedOn(ds, *targetHost) {
			return nil, i18n.Errorf("datastore %s is not mounted on the VM's target host; choose a datastore the host mounts", "資料存放區 %s 未掛載於該 VM 之目標主機；請選擇該主機已掛載之資料存放區", ds.Name)
		}
	} else if targetHost != nil && len(pl.m.Datastore) > 0 {
		var ds mo.Datastore
		if err := s.propsOf(ctx, pl.m.Datastore[0], []string{"name", "host"}, &ds); err != nil {
			return nil, err
		}
		if !mountedOn(ds, *targetHost) {
			return nil, i18n.Errorf("VM %s's datastore %s is not mounted on host %s, so vMotion alone cannot move it there; add datastore: to move its files too (storage vMotion)", "VM %s 之資料存放區 %s 未掛載於主機 %s，僅以 vMotion 無法移至該處；請加上 datastore: 一併移動其檔案（storage vMotion）", pl.m.Name, ds.Name, p.Host)
		}
	}
	return pl, nil
}

func (vmMigrate) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, err := planMigrate(ctx, rt, params.(*vmMigrateParams))
	return err
}

func (vmMigrate) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmMigrateParams)
	pl, err := planMigrate(ctx, rt, p)
	if err != nil {
		return nil, err
	}
	s, v := pl.s, pl.v
	on := pl.m.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	res := &vmMigrateResult{VM: pl.m.Name, FromHost: pl.from, ToHost: pl.from, FromDatastore: pl.fromDS, ToDatastore: pl.fromDS,
		PoweredOnBefore: on, StayedPoweredOn: on, RequestedAt: time.Now()}
	var spec types.VirtualMachineRelocateSpec
	if pl.host != nil && (pl.m.Runtime.Host == nil || pl.host.Self != *pl.m.Runtime.Host) {
		h := pl.host.Self
		spec.Host = &h
		res.ToHost = pl.host.Name
	}
	if pl.ds != nil && (len(pl.m.Datastore) == 0 || pl.ds.Self != pl.m.Datastore[0]) {
		d := pl.ds.Self
		spec.Datastore = &d
		res.ToDatastore = pl.ds.Name
	}
	if spec.Host == nil && spec.Datastore == nil {
		steps.SayNote(rt, "info", "VM %s is already on host %s and datastore %s; nothing to migrate", "VM %s 已位於主機 %s 及資料存放區 %s；無須移轉", pl.m.Name, pl.from, pl.fromDS)
		res.Already = true
		res.CompletedAt = res.RequestedAt
		return res, nil
	}
	// Watch the power state while the migration runs: a VM that went
	// down and came back (an HA restart meanwhile) did not stay up.
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.watch(wctx, []types.ManagedObjectReference{v.Reference()}, "VirtualMachine", []string{"runtime.powerState"}, func(cs []change) bool {
			for _, c := range cs {
				if c.Name == "runtime.powerState" && c.Val != types.VirtualMachinePowerStatePoweredOn {
					res.StayedPoweredOn = false
				}
			}
			return false
		})
	}()
	tctx, cancel, timedOut := within(ctx, p.Timeout.D())
	defer cancel()
	steps.Say(rt, "migrating %s to %s / %s", "正在將 %s 移轉至 %s／%s", pl.m.Name, res.ToHost, res.ToDatastore)
	_, err = s.runTask(tctx, journal.Text{EN: fmt.Sprintf("migrate VM %s to %s / %s", pl.m.Name, res.ToHost, res.ToDatastore), ZhTW: fmt.Sprintf("將 VM %s 移轉至 %s / %s", pl.m.Name, res.ToHost, res.ToDatastore)}, func(ctx context.Context) (*object.Task, error) {
		return v.Relocate(ctx, spec, types.VirtualMachineMovePriority(p.Priority+"Priority"))
	})
	// A last read settles the power state the watch may not have
	// delivered yet.
	var after mo.VirtualMachine
	rerr := s.propsOf(ctx, v.Reference(), []string{"runtime.powerState"}, &after)
	stopWatch()
	<-watched
	if timedOut(err) {
		return nil, i18n.Errorf("the migration of VM %s did not finish within %s; vCenter may still be moving it; raise timeout:", "VM %s 之移轉未於 %s 內完成；vCenter 可能仍在移動；請提高 timeout:", pl.m.Name, p.Timeout)
	}
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		return nil, rerr
	}
	if after.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		res.StayedPoweredOn = false
	}
	res.CompletedAt = time.Now()
	res.Took = journal.Duration(res.CompletedAt.Sub(res.RequestedAt))
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "migrated VM " + pl.m.Name, TitleZhTW: "已移轉之 VM " + pl.m.Name, Facts: []journal.Fact{
		{Key: "host", KeyZhTW: "主機", Value: res.FromHost + " → " + res.ToHost},
		{Key: "datastore", KeyZhTW: "資料存放區", Value: res.FromDatastore + " → " + res.ToDatastore},
		{Key: "powered on before", KeyZhTW: "移轉前已開機", Value: fmt.Sprint(res.PoweredOnBefore)},
		{Key: "stayed powered on", KeyZhTW: "移轉中保持開機", Value: fmt.Sprint(res.StayedPoweredOn)},
		{Key: "took", KeyZhTW: "耗時", Value: res.Took.String()},
	}})
	return res, nil
}
