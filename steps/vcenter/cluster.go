package vcenter

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*clusterCheck)(nil)
	_ steps.Preflighter = (*clusterCheck)(nil)
)

// clusterCheckParams are the parameters of vcenter.cluster.check.
type clusterCheckParams struct {
	// Cluster names the cluster; empty means the only one.
	Cluster string `yaml:"cluster"`
	// HA requires vSphere HA to be enabled, with host monitoring on.
	HA bool `yaml:"ha"`
	// AdmissionControl, when set, requires admission control to be on
	// (true) or off (false).
	AdmissionControl *bool `yaml:"admission_control"`
	// HostsConnected requires every host to be connected, powered on and
	// out of maintenance mode: a host that is not cannot take restarted VMs.
	HostsConnected bool `yaml:"hosts_connected"`
	// MinHosts is the fewest hosts the cluster must have.
	MinHosts int `yaml:"min_hosts"`
}

// clusterCheckResult is what vcenter.cluster.check found.
type clusterCheckResult struct {
	Cluster                 string      `json:"cluster" expr:"cluster"`
	HAEnabled               bool        `json:"ha_enabled" expr:"ha_enabled"`
	HostMonitoring          string      `json:"host_monitoring" expr:"host_monitoring"`
	AdmissionControlEnabled bool        `json:"admission_control_enabled" expr:"admission_control_enabled"`
	Hosts                   []HostState `json:"hosts" expr:"hosts"`
	Problems                []string    `json:"problems" expr:"problems"`
}

// clusterCheck is vcenter.cluster.check.
type clusterCheck struct{}

func (clusterCheck) Name() string { return "vcenter.cluster.check" }
func (clusterCheck) Summary() string {
	return "check, read-only, that a cluster is ready for a failure: HA enabled, admission control, hosts connected"
}
func (clusterCheck) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (clusterCheck) NewParams() any {
	return &clusterCheckParams{HA: true, HostsConnected: true, MinHosts: 2}
}
func (clusterCheck) NewResult() any { return &clusterCheckResult{} }
func (clusterCheck) Validate(params any) []steps.FieldError {
	p := params.(*clusterCheckParams)
	if p.MinHosts < 0 {
		return []steps.FieldError{steps.Fieldf("min_hosts", "must not be negative", "不可為負值")}
	}
	return nil
}
func (clusterCheck) Describe(params any) steps.Description {
	p := params.(*clusterCheckParams)
	// Without a name the step checks vCenter's only cluster: the target
	// is then vCenter, as for the other kinds that read all of it.
	name, zhName, target := "cluster "+p.Cluster, "叢集 "+p.Cluster, p.Cluster
	if p.Cluster == "" {
		name, zhName, target = "the cluster", "叢集", "vCenter"
	}
	var wants, zh []string
	if p.HA {
		wants = append(wants, "HA enabled")
		zh = append(zh, "HA 已啟用")
	}
	if p.AdmissionControl != nil {
		wants = append(wants, fmt.Sprintf("admission control %s", onOff(*p.AdmissionControl)))
		zh = append(zh, "允入控制"+onOffZhTW(*p.AdmissionControl))
	}
	if p.HostsConnected {
		wants = append(wants, "every host connected")
		zh = append(zh, "所有主機皆已連線")
	}
	wants = append(wants, fmt.Sprintf("at least %d hosts", p.MinHosts))
	zh = append(zh, fmt.Sprintf("至少 %d 台主機", p.MinHosts))
	return steps.Description{Action: "check " + name + ": " + strings.Join(wants, ", "), ActionZhTW: "確認" + zhName + "：" + strings.Join(zh, "、"), Target: target}
}

// onOffZhTW is onOff in Traditional Chinese.
func onOffZhTW(b bool) string {
	if b {
		return "已啟用"
	}
	return "未啟用"
}

// yesNoZhTW words a boolean fact for the zh-TW report.
func yesNoZhTW(b bool) string {
	_, zh := journal.YesNo(b)
	return zh
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (k clusterCheck) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, err := k.Execute(ctx, rt, params)
	return err
}

func (clusterCheck) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*clusterCheckParams)
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	var clusters []mo.ClusterComputeResource
	if err := s.retrieveAll(ctx, "ClusterComputeResource", []string{"name", "configurationEx", "host"}, &clusters); err != nil {
		return nil, err
	}
	var c *mo.ClusterComputeResource
	var known []string
	for i := range clusters {
		known = append(known, clusters[i].Name)
		if clusters[i].Name == p.Cluster {
			c = &clusters[i]
		}
	}
	switch {
	case c == nil && p.Cluster != "":
		return nil, notFound("cluster", p.Cluster, s.endpoint.URL.Host, known)
	case c == nil && len(clusters) == 1:
		c = &clusters[0]
	case c == nil:
		sort.Strings(known)
		return nil, i18n.Errorf("vCenter %s has %d clusters (%s); name one with cluster:", "vCenter %s 有 %d 個叢集（%s）；請以 cluster: 指定其一", s.endpoint.URL.Host, len(clusters), strings.Join(known, ", "))
	}
	res := &clusterCheckResult{Cluster: c.Name, Hosts: []HostState{}, Problems: []string{}}
	if cfg, ok := c.ConfigurationEx.(*types.ClusterConfigInfoEx); ok {
		das := cfg.DasConfig
		res.HAEnabled = das.Enabled != nil && *das.Enabled
		res.HostMonitoring = das.HostMonitoring
		res.AdmissionControlEnabled = das.AdmissionControlEnabled != nil && *das.AdmissionControlEnabled
	}
	if p.HA && !res.HAEnabled {
		res.Problems = append(res.Problems, fmt.Sprintf("vSphere HA is disabled on cluster %s: a failed host's VMs will not be restarted", c.Name))
	}
	if p.HA && res.HAEnabled && res.HostMonitoring == string(types.ClusterDasConfigInfoServiceStateDisabled) {
		res.Problems = append(res.Problems, fmt.Sprintf("HA host monitoring is disabled on cluster %s: host failures are not acted on", c.Name))
	}
	if p.AdmissionControl != nil && res.AdmissionControlEnabled != *p.AdmissionControl {
		res.Problems = append(res.Problems, fmt.Sprintf("HA admission control is %s on cluster %s, the runbook expects it %s", onOff(res.AdmissionControlEnabled), c.Name, onOff(*p.AdmissionControl)))
	}
	var hosts []mo.HostSystem
	if len(c.Host) > 0 {
		if err := property.DefaultCollector(s.Client).Retrieve(ctx, c.Host, hostProps, &hosts); err != nil {
			return nil, i18n.Errorf("vCenter %s: reading the hosts of cluster %s: %w", "vCenter %s：讀取叢集 %s 之主機：%w", s.endpoint.URL.Host, c.Name, err)
		}
	}
	sort.Slice(hosts, func(i, j int) bool { return hosts[i].Name < hosts[j].Name })
	var problemsZh []string
	for _, h := range hosts {
		res.Hosts = append(res.Hosts, HostState{Name: h.Name, Cluster: c.Name, ConnectionState: string(h.Runtime.ConnectionState),
			PowerState: string(h.Runtime.PowerState), InMaintenance: h.Runtime.InMaintenanceMode})
		if !p.HostsConnected {
			continue
		}
		switch {
		case h.Runtime.ConnectionState != types.HostSystemConnectionStateConnected:
			res.Problems = append(res.Problems, fmt.Sprintf("host %s is %s", h.Name, h.Runtime.ConnectionState))
			problemsZh = append(problemsZh, fmt.Sprintf("主機 %s 之連線狀態為 %s", h.Name, h.Runtime.ConnectionState))
		case h.Runtime.PowerState != types.HostSystemPowerStatePoweredOn:
			res.Problems = append(res.Problems, fmt.Sprintf("host %s is %s", h.Name, h.Runtime.PowerState))
			problemsZh = append(problemsZh, fmt.Sprintf("主機 %s 之電源狀態為 %s", h.Name, h.Runtime.PowerState))
		case h.Runtime.InMaintenanceMode:
			res.Problems = append(res.Problems, fmt.Sprintf("host %s is in maintenance mode", h.Name))
			problemsZh = append(problemsZh, fmt.Sprintf("主機 %s 處於維護模式", h.Name))
		}
	}
	if len(hosts) < p.MinHosts {
		res.Problems = append(res.Problems, fmt.Sprintf("cluster %s has %d hosts, fewer than the %d the runbook needs", c.Name, len(hosts), p.MinHosts))
		problemsZh = append(problemsZh, fmt.Sprintf("叢集 %s 有 %d 台主機，少於演練手冊所需之 %d 台", c.Name, len(hosts), p.MinHosts))
	}
	rows, zhRows := [][]string{}, [][]string{}
	for _, h := range res.Hosts {
		rows = append(rows, []string{h.Name, h.ConnectionState, h.PowerState, fmt.Sprint(h.InMaintenance)})
		_, zh := journal.YesNo(h.InMaintenance)
		zhRows = append(zhRows, []string{h.Name, h.ConnectionState, h.PowerState, zh})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "cluster " + c.Name, TitleZhTW: "叢集 " + c.Name, Facts: []journal.Fact{
		{Key: "HA enabled", KeyZhTW: "HA 已啟用", Value: fmt.Sprint(res.HAEnabled), ValueZhTW: yesNoZhTW(res.HAEnabled)},
		{Key: "host monitoring", KeyZhTW: "主機監控", Value: res.HostMonitoring},
		{Key: "admission control", KeyZhTW: "允入控制", Value: onOff(res.AdmissionControlEnabled), ValueZhTW: onOffZhTW(res.AdmissionControlEnabled)},
		{Key: "problems", KeyZhTW: "問題", Value: strings.Join(res.Problems, "; "), ValueZhTW: strings.Join(problemsZh, "；")},
	}})
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTable, Title: "hosts of cluster " + c.Name, TitleZhTW: "叢集 " + c.Name + " 之主機",
		Table: &journal.Table{Columns: []string{"host", "connection", "power", "maintenance"}, ColumnsZhTW: []string{"主機", "連線狀態", "電源", "維護模式"}, Rows: rows, RowsZhTW: zhRows}})
	if len(res.Problems) > 0 {
		return res, i18n.Errorf("cluster %s is not ready:\n  - %v", "叢集 %s 尚未就緒：\n  - %v", c.Name,
			i18n.New(strings.Join(res.Problems, "\n  - "), strings.Join(problemsZh, "\n  - ")))
	}
	return res, nil
}
