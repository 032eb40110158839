package vcenter

import (
	"context"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*inventory)(nil)
	_ steps.Preflighter = (*inventory)(nil)
)

// inventoryParams are the parameters of vcenter.inventory.
type inventoryParams struct {
	// Record names what is recorded, e.g. "placement"; it titles the evidence.
	Record string `yaml:"record"`
	// VMs, when set, keeps only VMs whose names match one of these shell
	// patterns, e.g. "(65)*".
	VMs []string `yaml:"vms" drbook:"vm"`
	// PoweredOnOnly leaves powered-off VMs out.
	PoweredOnOnly bool `yaml:"powered_on_only"`
}

// HostState is one host as the inventory saw it.
type HostState struct {
	Name            string `json:"name" expr:"name"`
	Cluster         string `json:"cluster" expr:"cluster"`
	ConnectionState string `json:"connection_state" expr:"connection_state"`
	PowerState      string `json:"power_state" expr:"power_state"`
	InMaintenance   bool   `json:"in_maintenance" expr:"in_maintenance"`
	RunningVMs      int    `json:"running_vms" expr:"running_vms"`
}

// VMState is one VM as the inventory saw it.
type VMState struct {
	Name         string   `json:"name" expr:"name"`
	Host         string   `json:"host" expr:"host"`
	PowerState   string   `json:"power_state" expr:"power_state"`
	IP           string   `json:"ip" expr:"ip"`
	IPs          []string `json:"ips,omitempty" expr:"ips"`
	ToolsRunning bool     `json:"tools_running" expr:"tools_running"`
	GuestOS      string   `json:"guest_os,omitempty" expr:"guest_os"`
}

// inventoryResult is what vcenter.inventory records; later steps read
// e.g. steps.before.result.placement["esx-68"].
type inventoryResult struct {
	Taken time.Time   `json:"taken" expr:"taken"`
	Hosts []HostState `json:"hosts" expr:"hosts"`
	VMs   []VMState   `json:"vms" expr:"vms"`
	// Placement maps each host to the sorted names of its powered-on VMs.
	Placement map[string][]string `json:"placement" expr:"placement"`
}

// inventory is vcenter.inventory.
type inventory struct{}

func (inventory) Name() string { return "vcenter.inventory" }
func (inventory) Summary() string {
	return "record hosts, VMs, power states, placement and guest IPs from vCenter"
}
func (inventory) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (inventory) NewParams() any       { return &inventoryParams{Record: "inventory"} }
func (inventory) NewResult() any       { return &inventoryResult{} }
func (inventory) Validate(params any) []steps.FieldError {
	p := params.(*inventoryParams)
	var errs []steps.FieldError
	for i, pat := range p.VMs {
		if _, err := path.Match(pat, ""); err != nil {
			errs = append(errs, steps.Fieldf(fmt.Sprintf("vms[%d]", i), "%q is not a valid pattern: %v", "%q 不是有效之樣式：%v", pat, err))
		}
	}
	return errs
}
func (inventory) Describe(params any) steps.Description {
	p := params.(*inventoryParams)
	return steps.Description{Action: "record the vCenter inventory (" + p.Record + ")", ActionZhTW: "記錄 vCenter 之主機與 VM 清單（" + p.Record + "）", Target: "vCenter"}
}
func (inventory) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, err := connect(ctx, rt)
	return err
}

func (inventory) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*inventoryParams)
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	res, err := s.readInventory(ctx, p)
	if err != nil {
		return nil, err
	}
	rows, zhRows := make([][]string, 0, len(res.VMs)), make([][]string, 0, len(res.VMs))
	for _, v := range res.VMs {
		tools, zh := journal.YesNo(v.ToolsRunning)
		rows = append(rows, []string{v.Host, v.Name, v.PowerState, v.IP, tools})
		zhRows = append(zhRows, []string{v.Host, v.Name, v.PowerState, v.IP, zh})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTable, Title: p.Record + ": VMs by host at " + res.Taken.Format(time.RFC3339),
		TitleZhTW: p.Record + "：各主機之 VM（" + res.Taken.Format(time.RFC3339) + "）",
		Table:     &journal.Table{Columns: []string{"host", "VM", "power", "IP", "tools"}, ColumnsZhTW: []string{"主機", "VM", "電源", "IP", "VMware Tools"}, Rows: rows, RowsZhTW: zhRows}})
	hrows, zhHrows := make([][]string, 0, len(res.Hosts)), make([][]string, 0, len(res.Hosts))
	for _, h := range res.Hosts {
		hrows = append(hrows, []string{h.Name, h.Cluster, h.ConnectionState, h.PowerState, fmt.Sprint(h.InMaintenance), fmt.Sprint(h.RunningVMs)})
		_, zh := journal.YesNo(h.InMaintenance)
		zhHrows = append(zhHrows, []string{h.Name, h.Cluster, h.ConnectionState, h.PowerState, zh, fmt.Sprint(h.RunningVMs)})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTable, Title: p.Record + ": hosts", TitleZhTW: p.Record + "：主機",
		Table: &journal.Table{Columns: []string{"host", "cluster", "connection", "power", "maintenance", "running VMs"},
			ColumnsZhTW: []string{"主機", "叢集", "連線狀態", "電源", "維護模式", "執行中 VM 數"}, Rows: hrows, RowsZhTW: zhHrows}})
	return res, nil
}

// readInventory reads hosts and VMs in two PropertyCollector round trips.
func (s *Session) readInventory(ctx context.Context, p *inventoryParams) (*inventoryResult, error) {
	var hosts []mo.HostSystem
	if err := s.retrieveAll(ctx, "HostSystem", hostProps, &hosts); err != nil {
		return nil, err
	}
	var vms []mo.VirtualMachine
	if err := s.retrieveAll(ctx, "VirtualMachine", []string{"name", "runtime.host", "runtime.powerState", "guest.ipAddress", "guest.net", "guest.toolsRunningStatus", "config.guestFullName", "config.template"}, &vms); err != nil {
		return nil, err
	}
	var parents []types.ManagedObjectReference
	for _, h := range hosts {
		if h.Parent != nil {
			parents = append(parents, *h.Parent)
		}
	}
	parentNames, err := s.names(ctx, parents)
	if err != nil {
		return nil, err
	}
	hostNames := map[types.ManagedObjectReference]string{}
	res := &inventoryResult{Taken: time.Now(), Hosts: []HostState{}, VMs: []VMState{}, Placement: map[string][]string{}}
	for _, h := range hosts {
		hostNames[h.Self] = h.Name
		res.Placement[h.Name] = []string{}
	}
	running := map[string]int{}
	for _, v := range vms {
		if v.Config != nil && v.Config.Template {
			continue
		}
		st := VMState{Name: v.Name, PowerState: string(v.Runtime.PowerState), IP: v.Guest.IpAddress,
			ToolsRunning: v.Guest.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)}
		if v.Runtime.Host != nil {
			st.Host = hostNames[*v.Runtime.Host]
		}
		if v.Config != nil {
			st.GuestOS = v.Config.GuestFullName
		}
		if v.Guest != nil {
			for _, n := range v.Guest.Net {
				st.IPs = append(st.IPs, n.IpAddress...)
			}
		}
		if v.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn && st.Host != "" {
			running[st.Host]++
			res.Placement[st.Host] = append(res.Placement[st.Host], v.Name)
		}
		if p.PoweredOnOnly && v.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
			continue
		}
		if !matchesAny(v.Name, p.VMs) {
			continue
		}
		res.VMs = append(res.VMs, st)
	}
	for _, h := range hosts {
		hs := HostState{Name: h.Name, ConnectionState: string(h.Runtime.ConnectionState), PowerState: string(h.Runtime.PowerState),
			InMaintenance: h.Runtime.InMaintenanceMode, RunningVMs: running[h.Name]}
		if h.Parent != nil && h.Parent.Type == "ClusterComputeResource" {
			hs.Cluster = parentNames[*h.Parent]
		}
		res.Hosts = append(res.Hosts, hs)
	}
	for _, l := range res.Placement {
		sort.Strings(l)
	}
	sort.Slice(res.Hosts, func(i, j int) bool { return res.Hosts[i].Name < res.Hosts[j].Name })
	sort.Slice(res.VMs, func(i, j int) bool {
		if res.VMs[i].Host != res.VMs[j].Host {
			return res.VMs[i].Host < res.VMs[j].Host
		}
		return res.VMs[i].Name < res.VMs[j].Name
	})
	return res, nil
}

func matchesAny(name string, patterns []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
