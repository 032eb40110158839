package vcenter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*hostStop)(nil)
	_ steps.Preflighter = (*hostStop)(nil)
	_ steps.Kind        = (*hostStateChange)(nil)
	_ steps.Preflighter = (*hostStateChange)(nil)
	_ steps.Kind        = (*hostWaitConnected)(nil)
	_ steps.Preflighter = (*hostWaitConnected)(nil)
)

// hostTarget finds the host a step names and reads its state.
func hostTarget(ctx context.Context, rt steps.Runtime, name string) (*Session, *object.HostSystem, mo.HostSystem, error) {
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, nil, mo.HostSystem{}, err
	}
	h, err := s.findHost(ctx, hostName(rt, name))
	if err != nil {
		return nil, nil, mo.HostSystem{}, err
	}
	m, err := s.readHost(ctx, h)
	return s, h, m, err
}

func requireConnected(m mo.HostSystem, doing journal.Text) error {
	if m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		return i18n.Errorf("host %s is %s in vCenter, so vCenter cannot %v it; check the host (or run vcenter.host.reconnect first)", "主機 %s 於 vCenter 中為 %s，vCenter 無法將其%v；請檢查該主機（或先執行 vcenter.host.reconnect）", m.Name, m.Runtime.ConnectionState, i18n.New(doing.EN, doing.ZhTW))
	}
	return nil
}

// ---- shutdown and reboot ----

// hostStopParams are the parameters of vcenter.host.shutdown and reboot.
type hostStopParams struct {
	Host string `yaml:"host" drbook:"host"`
	// Force stops the host even when it is not in maintenance mode, with
	// its VMs running: the way a drill simulates a sudden failure.
	Force bool `yaml:"force"`
}

// hostStopResult is what shutdown and reboot record.
type hostStopResult struct {
	Host  string `json:"host" expr:"host"`
	Force bool   `json:"force" expr:"force"`
	// VMs are the VMs powered on on the host just before the call: the VMs
	// HA must restart.
	VMs         []string  `json:"vms" expr:"vms"`
	RequestedAt time.Time `json:"requested_at" expr:"requested_at"`
	CompletedAt time.Time `json:"completed_at" expr:"completed_at"`
	// AlreadyDown is set when the host was down before the step and
	// nothing was sent.
	AlreadyDown bool `json:"already_down,omitempty" expr:"already_down"`
}

// hostStop is vcenter.host.shutdown and vcenter.host.reboot: the same
// checks, the same record of the VMs HA must restart, and one vCenter call
// that differs.
type hostStop struct {
	name, summary string
	verb          string // shut down, reboot
	// verbZhTW is a format over what is acted on: "將%s 關機".
	verbZhTW string
	nounZhTW string // 關機, 重新開機
	method   string
	// doneIfDown makes a host that is already down a success with nothing
	// sent: the step's goal is reached. It makes shutdown idempotent, so a
	// run resumed after a crash mid-shutdown can run it again safely.
	doneIfDown bool
	call       func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error)
}

// hostShutdown is vcenter.host.shutdown.
var hostShutdown = &hostStop{name: "vcenter.host.shutdown", summary: "shut an ESXi host down through vCenter, recording the VMs running on it",
	verb: "shut down", verbZhTW: "將%s 關機", nounZhTW: "關機", method: "ShutdownHost_Task", doneIfDown: true, call: func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error) {
		res, err := methods.ShutdownHost_Task(ctx, s.Client, &types.ShutdownHost_Task{This: host, Force: force})
		if err != nil {
			return nil, err
		}
		return object.NewTask(s.Client, res.Returnval), nil
	}}

// hostReboot is vcenter.host.reboot.
var hostReboot = &hostStop{name: "vcenter.host.reboot", summary: "reboot an ESXi host through vCenter, recording the VMs running on it",
	verb: "reboot", verbZhTW: "將%s 重新開機", nounZhTW: "重新開機", method: "RebootHost_Task", call: func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error) {
		res, err := methods.RebootHost_Task(ctx, s.Client, &types.RebootHost_Task{This: host, Force: force})
		if err != nil {
			return nil, err
		}
		return object.NewTask(s.Client, res.Returnval), nil
	}}

func (op *hostStop) Name() string    { return op.name }
func (op *hostStop) Summary() string { return op.summary }
func (op *hostStop) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: op.doneIfDown}
}

// hostIsDown reports whether vCenter sees the host powered off or not
// responding (a host that was shut down or has died).
func hostIsDown(m mo.HostSystem) bool {
	return m.Runtime.PowerState == types.HostSystemPowerStatePoweredOff ||
		m.Runtime.PowerState == types.HostSystemPowerStateStandBy ||
		m.Runtime.ConnectionState == types.HostSystemConnectionStateNotResponding
}
func (op *hostStop) NewParams() any { return &hostStopParams{} }
func (op *hostStop) NewResult() any { return &hostStopResult{} }

func (op *hostStop) Validate(params any) []steps.FieldError {
	return required("host", params.(*hostStopParams).Host)
}

func (op *hostStop) Describe(params any) steps.Description {
	p := params.(*hostStopParams)
	a, zh := op.verb+" host "+p.Host, fmt.Sprintf(op.verbZhTW, "主機 "+p.Host)
	if p.Force {
		a += " (force: even with VMs running, outside maintenance mode)"
		zh += "（強制：即使仍有 VM 執行中、未處於維護模式）"
	}
	return steps.Description{Action: a, ActionZhTW: zh, Target: p.Host, Command: fmt.Sprintf("%s(force=%t)", op.method, p.Force)}
}

func (op *hostStop) check(m mo.HostSystem, p *hostStopParams) error {
	if op.doneIfDown && hostIsDown(m) {
		return nil
	}
	if err := requireConnected(m, journal.Text{EN: op.verb, ZhTW: op.nounZhTW}); err != nil {
		return err
	}
	if !p.Force && !m.Runtime.InMaintenanceMode {
		return i18n.Errorf("host %s is not in maintenance mode, and vCenter only lets you %s such a host with force; set force: true to simulate a failure with its VMs running, or run vcenter.host.enter_maintenance first", "主機 %s 不在維護模式，vCenter 僅允許以 force 將此類主機%s；若要於 VM 執行中模擬故障，請設定 force: true，或先執行 vcenter.host.enter_maintenance", m.Name, i18n.New(op.verb, op.nounZhTW))
	}
	return nil
}

func (op *hostStop) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	p := params.(*hostStopParams)
	_, _, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return err
	}
	return op.check(m, p)
}

func (op *hostStop) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*hostStopParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	if op.doneIfDown && hostIsDown(m) {
		// Already down (e.g. this step is re-run after drbook itself was
		// interrupted mid-shutdown): nothing is sent. The VMs vCenter still
		// places on the host are recorded; HA may have moved others.
		vms, _ := s.poweredOnVMs(ctx, m)
		steps.SayNote(rt, "info", "host %s is already down (%s, %s); no %s was sent", "主機 %s 已停機（%s，%s）；未送出 %s", m.Name, m.Runtime.PowerState, m.Runtime.ConnectionState, op.method)
		now := time.Now()
		return &hostStopResult{Host: m.Name, Force: p.Force, VMs: vms, RequestedAt: now, CompletedAt: now, AlreadyDown: true}, nil
	}
	if err := op.check(m, p); err != nil {
		return nil, err
	}
	// Read the running VMs just before the call: they are what HA must
	// restart, and the runbook passes them to vcenter.ha.verify_restart.
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	vms, err := s.poweredOnVMs(ctx, m)
	if err != nil {
		return nil, err
	}
	res := &hostStopResult{Host: m.Name, Force: p.Force, VMs: vms, RequestedAt: time.Now()}
	steps.Say(rt, "%[1]s host %[2]s (%[4]d VMs running)", "%[3]s（%[4]d 台 VM 執行中）", op.verb, m.Name, fmt.Sprintf(op.verbZhTW, "主機 "+m.Name), len(vms))
	if _, err := s.runTask(ctx, journal.Text{EN: fmt.Sprintf("%s host %s", op.verb, m.Name), ZhTW: fmt.Sprintf(op.verbZhTW, "主機 "+m.Name)}, func(ctx context.Context) (*object.Task, error) {
		return op.call(ctx, s, h.Reference(), p.Force)
	}); err != nil {
		return nil, err
	}
	res.CompletedAt = time.Now()
	rows := make([][]string, 0, len(vms))
	for _, v := range vms {
		rows = append(rows, []string{v, m.Name})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTable, Title: fmt.Sprintf("VMs running on %s when it was told to %s", m.Name, op.verb),
		TitleZhTW: fmt.Sprintf("送出%s指令時主機 %s 上執行中之 VM", op.nounZhTW, m.Name),
		Table:     &journal.Table{Columns: []string{"VM", "host"}, ColumnsZhTW: []string{"VM", "主機"}, Rows: rows}})
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: op.verb + " " + m.Name, TitleZhTW: fmt.Sprintf(op.verbZhTW, "主機 "+m.Name), Facts: []journal.Fact{
		{Key: "requested", KeyZhTW: "送出時間", Value: res.RequestedAt.Format(time.RFC3339Nano)},
		{Key: "task completed", KeyZhTW: "工作完成時間", Value: res.CompletedAt.Format(time.RFC3339Nano)},
		{Key: "force", KeyZhTW: "強制", Value: fmt.Sprint(p.Force), ValueZhTW: yesNoZhTW(p.Force)},
		{Key: "running VMs", KeyZhTW: "執行中之 VM", Value: strings.Join(vms, ", ")},
	}})
	return res, nil
}

// ---- power on, maintenance mode, disconnect and reconnect ----

// hostStateResult is what the host state-changing kinds record.
type hostStateResult struct {
	Host            string    `json:"host" expr:"host"`
	ConnectionState string    `json:"connection_state" expr:"connection_state"`
	PowerState      string    `json:"power_state" expr:"power_state"`
	InMaintenance   bool      `json:"in_maintenance" expr:"in_maintenance"`
	RequestedAt     time.Time `json:"requested_at" expr:"requested_at"`
	CompletedAt     time.Time `json:"completed_at" expr:"completed_at"`
}

func stateResult(m mo.HostSystem, requested time.Time) *hostStateResult {
	return &hostStateResult{Host: m.Name, ConnectionState: string(m.Runtime.ConnectionState), PowerState: string(m.Runtime.PowerState),
		InMaintenance: m.Runtime.InMaintenanceMode, RequestedAt: requested, CompletedAt: time.Now()}
}

// hostParams are parameters that name one host.
type hostParams interface{ hostName() string }

// hostOnlyParams name one host.
type hostOnlyParams struct {
	Host string `yaml:"host" drbook:"host"`
}

// hostPowerOnParams are the parameters of vcenter.host.power_on.
type hostPowerOnParams struct {
	Host string `yaml:"host" drbook:"host"`
	// Timeout is how long vCenter may take to bring the host out of
	// standby (through IPMI/iLO or Wake-on-LAN configured in vCenter).
	Timeout journal.Duration `yaml:"timeout"`
}

// maintenanceParams are the parameters of enter_maintenance and exit_maintenance.
type maintenanceParams struct {
	Host string `yaml:"host" drbook:"host"`
	// Evacuate also moves powered-off VMs off the host (entering only).
	Evacuate bool `yaml:"evacuate"`
	// Timeout is how long vCenter may take; 0 means no limit.
	Timeout journal.Duration `yaml:"timeout"`
}

func (p *hostOnlyParams) hostName() string    { return p.Host }
func (p *hostPowerOnParams) hostName() string { return p.Host }
func (p *maintenanceParams) hostName() string { return p.Host }

// hostStateChange is a kind that brings a host into one state with one
// vCenter task, and does nothing but note it when the host is already
// there, so a resumed run may repeat it: power on from standby, enter and
// exit maintenance mode, disconnect and reconnect. Each records the host's
// state after the task.
type hostStateChange struct {
	name, summary string
	newParams     func() any
	// validate adds checks beyond the required host.
	validate func(params any) []steps.FieldError
	describe func(params any) steps.Description
	// already is the note for a host that needs no change, none otherwise.
	already func(m mo.HostSystem) journal.Text
	// needsConnected is what vCenter cannot do to a host that is not
	// connected ("put into maintenance mode"); "" when the task works on any
	// host.
	needsConnected journal.Text
	// doing words the task for its errors: "disconnect host esx-68".
	doing func(host string) journal.Text
	task  func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error)
	// hint is added to the error of a failed task.
	hint journal.Text
	// check, when set, refuses (read-only, in Preflight and before the
	// task) what vCenter would not finish.
	check func(ctx context.Context, s *Session, m mo.HostSystem) error
}

// hostPowerOn is vcenter.host.power_on.
var hostPowerOn = &hostStateChange{
	name:      "vcenter.host.power_on",
	summary:   "power an ESXi host on from standby through vCenter (PowerUpHostFromStandBy; needs IPMI/iLO or WOL configured)",
	newParams: func() any { return &hostPowerOnParams{Timeout: journal.Duration(10 * time.Minute)} },
	describe: func(params any) steps.Description {
		p := params.(*hostPowerOnParams)
		return steps.Description{Action: fmt.Sprintf("power host %s on from standby (up to %s)", p.Host, p.Timeout), ActionZhTW: fmt.Sprintf("經由 vCenter 將主機 %s 自待命狀態開機（最長 %s）", p.Host, p.Timeout), Target: p.Host, Command: "PowerUpHostFromStandBy_Task"}
	},
	already: func(m mo.HostSystem) journal.Text {
		if m.Runtime.PowerState == types.HostSystemPowerStatePoweredOn && m.Runtime.ConnectionState == types.HostSystemConnectionStateConnected {
			return steps.Textf("host %s is already powered on and connected", "主機 %s 已開機且已連線", m.Name)
		}
		return journal.Text{}
	},
	doing: func(host string) journal.Text {
		return journal.Text{EN: "power on host " + host, ZhTW: "將主機 " + host + " 開機"}
	},
	task: func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error) {
		secs := int32(params.(*hostPowerOnParams).Timeout.D() / time.Second)
		res, err := methods.PowerUpHostFromStandBy_Task(ctx, s.Client, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: secs})
		if err != nil {
			return nil, err
		}
		return object.NewTask(s.Client, res.Returnval), nil
	},
	hint: journal.Text{EN: "vCenter powers a host on only through IPMI/iLO or Wake-on-LAN configured for it; otherwise power it on at its console",
		ZhTW: "vCenter 僅能透過為主機設定之 IPMI/iLO 或網路喚醒（Wake-on-LAN）將其開機；否則請於其主控台開機"},
}

// hostEnterMaintenance is vcenter.host.enter_maintenance.
var hostEnterMaintenance = &hostStateChange{
	name:      "vcenter.host.enter_maintenance",
	summary:   "put an ESXi host into maintenance mode, evacuating its VMs",
	newParams: func() any { return &maintenanceParams{Evacuate: true, Timeout: journal.Duration(30 * time.Minute)} },
	describe: func(params any) steps.Description {
		p := params.(*maintenanceParams)
		return steps.Description{Action: fmt.Sprintf("put host %s into maintenance mode (evacuate powered-off VMs: %t, timeout %s)", p.Host, p.Evacuate, p.Timeout),
			ActionZhTW: fmt.Sprintf("將主機 %s 切換至維護模式（一併移出已關機之 VM：%t，時限 %s）", p.Host, p.Evacuate, p.Timeout), Target: p.Host, Command: "EnterMaintenanceMode_Task"}
	},
	already: func(m mo.HostSystem) journal.Text {
		if m.Runtime.InMaintenanceMode {
			return steps.Textf("host %s is already in maintenance mode", "主機 %s 已處於維護模式", m.Name)
		}
		return journal.Text{}
	},
	needsConnected: journal.Text{EN: "put into maintenance mode", ZhTW: "切換至維護模式"},
	check:          evacuationPossible,
	doing: func(host string) journal.Text {
		return journal.Text{EN: "put host " + host + " into maintenance mode", ZhTW: "將主機 " + host + " 切換至維護模式"}
	},
	task: func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error) {
		p := params.(*maintenanceParams)
		return h.EnterMaintenanceMode(ctx, int32(p.Timeout.D()/time.Second), p.Evacuate, nil)
	},
}

// hostExitMaintenance is vcenter.host.exit_maintenance.
var hostExitMaintenance = &hostStateChange{
	name:      "vcenter.host.exit_maintenance",
	summary:   "take an ESXi host out of maintenance mode",
	newParams: func() any { return &maintenanceParams{Timeout: journal.Duration(10 * time.Minute)} },
	validate: func(params any) []steps.FieldError {
		if params.(*maintenanceParams).Evacuate {
			return []steps.FieldError{steps.Fieldf("evacuate", "applies only to vcenter.host.enter_maintenance", "僅適用於 vcenter.host.enter_maintenance")}
		}
		return nil
	},
	describe: func(params any) steps.Description {
		p := params.(*maintenanceParams)
		return steps.Description{Action: fmt.Sprintf("take host %s out of maintenance mode (timeout %s)", p.Host, p.Timeout), ActionZhTW: fmt.Sprintf("將主機 %s 結束維護模式（時限 %s）", p.Host, p.Timeout), Target: p.Host, Command: "ExitMaintenanceMode_Task"}
	},
	already: func(m mo.HostSystem) journal.Text {
		if !m.Runtime.InMaintenanceMode {
			return steps.Textf("host %s is not in maintenance mode", "主機 %s 未處於維護模式", m.Name)
		}
		return journal.Text{}
	},
	doing: func(host string) journal.Text {
		return journal.Text{EN: "take host " + host + " out of maintenance mode", ZhTW: "使主機 " + host + " 結束維護模式"}
	},
	task: func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error) {
		return h.ExitMaintenanceMode(ctx, int32(params.(*maintenanceParams).Timeout.D()/time.Second))
	},
}

// hostDisconnect is vcenter.host.disconnect.
var hostDisconnect = &hostStateChange{
	name:      "vcenter.host.disconnect",
	summary:   "disconnect an ESXi host from vCenter",
	newParams: func() any { return &hostOnlyParams{} },
	describe: func(params any) steps.Description {
		p := params.(*hostOnlyParams)
		return steps.Description{Action: "disconnect host " + p.Host + " from vCenter", ActionZhTW: "將主機 " + p.Host + " 自 vCenter 中斷連線", Target: p.Host, Command: "DisconnectHost_Task"}
	},
	already: func(m mo.HostSystem) journal.Text {
		if m.Runtime.ConnectionState == types.HostSystemConnectionStateDisconnected {
			return steps.Textf("host %s is already disconnected", "主機 %s 已中斷連線", m.Name)
		}
		return journal.Text{}
	},
	doing: func(host string) journal.Text {
		return journal.Text{EN: "disconnect host " + host, ZhTW: "中斷主機 " + host + " 之連線"}
	},
	task: func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error) {
		return h.Disconnect(ctx)
	},
}

// hostReconnect is vcenter.host.reconnect.
var hostReconnect = &hostStateChange{
	name:      "vcenter.host.reconnect",
	summary:   "reconnect an ESXi host to vCenter",
	newParams: func() any { return &hostOnlyParams{} },
	describe: func(params any) steps.Description {
		p := params.(*hostOnlyParams)
		return steps.Description{Action: "reconnect host " + p.Host + " to vCenter", ActionZhTW: "將主機 " + p.Host + " 重新連線至 vCenter", Target: p.Host, Command: "ReconnectHost_Task"}
	},
	already: func(m mo.HostSystem) journal.Text {
		if m.Runtime.ConnectionState == types.HostSystemConnectionStateConnected {
			return steps.Textf("host %s is already connected", "主機 %s 已連線", m.Name)
		}
		return journal.Text{}
	},
	doing: func(host string) journal.Text {
		return journal.Text{EN: "reconnect host " + host, ZhTW: "重新連線主機 " + host}
	},
	task: func(ctx context.Context, s *Session, h *object.HostSystem, params any) (*object.Task, error) {
		return h.Reconnect(ctx, nil, nil)
	},
}

func (k *hostStateChange) Name() string    { return k.name }
func (k *hostStateChange) Summary() string { return k.summary }
func (k *hostStateChange) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: true}
}
func (k *hostStateChange) NewParams() any                        { return k.newParams() }
func (k *hostStateChange) NewResult() any                        { return &hostStateResult{} }
func (k *hostStateChange) Describe(params any) steps.Description { return k.describe(params) }

func (k *hostStateChange) Validate(params any) []steps.FieldError {
	errs := required("host", params.(hostParams).hostName())
	if k.validate != nil {
		errs = append(errs, k.validate(params)...)
	}
	return errs
}

func (k *hostStateChange) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	s, _, m, err := hostTarget(ctx, rt, params.(hostParams).hostName())
	if err != nil || k.needsConnected.IsZero() {
		return err
	}
	if err := requireConnected(m, k.needsConnected); err != nil {
		return err
	}
	if k.check != nil && k.already(m).IsZero() {
		return k.check(ctx, s, m)
	}
	return nil
}

// evacuationPossible refuses maintenance mode for a host that runs VMs in
// a cluster whose DRS will not move them: vCenter's task would wait until
// someone moved them by hand.
func evacuationPossible(ctx context.Context, s *Session, m mo.HostSystem) error {
	vms, err := s.poweredOnVMs(ctx, m)
	if err != nil || len(vms) == 0 {
		return err
	}
	why := i18n.New("it is in no cluster", "其不屬於任何叢集")
	if m.Parent != nil && m.Parent.Type == "ClusterComputeResource" {
		var cl mo.ClusterComputeResource
		if err := s.propsOf(ctx, *m.Parent, []string{"name", "configurationEx"}, &cl); err != nil {
			return err
		}
		cfg, _ := cl.ConfigurationEx.(*types.ClusterConfigInfoEx)
		switch {
		case cfg == nil || cfg.DrsConfig.Enabled == nil || !*cfg.DrsConfig.Enabled:
			why = i18n.Errorf("DRS is off in cluster %s", "叢集 %s 之 DRS 未啟用", cl.Name)
		case cfg.DrsConfig.DefaultVmBehavior != types.DrsBehaviorFullyAutomated:
			why = i18n.Errorf("DRS in cluster %s is %s, not fullyAutomated", "叢集 %s 之 DRS 為 %s，而非 fullyAutomated", cl.Name, cfg.DrsConfig.DefaultVmBehavior)
		default:
			return nil
		}
	}
	return i18n.Errorf("host %s runs %d VMs (%s) and %v, so vCenter will not move them and maintenance mode would wait forever; move them first with vcenter.vm.migrate, or set DRS to fully automated", "主機 %s 上有 %d 台 VM 執行中（%s），且%v，vCenter 不會移轉之，維護模式將無限期等待；請先以 vcenter.vm.migrate 移轉，或將 DRS 設為全自動", m.Name, len(vms), strings.Join(vms, ", "), why)
}

func (k *hostStateChange) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	s, h, m, err := hostTarget(ctx, rt, params.(hostParams).hostName())
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if note := k.already(m); !note.IsZero() {
		steps.SayNote(rt, "info", "%[1]s", "%[2]s", note.EN, note.ZhTW)
		return stateResult(m, at), nil
	}
	if !k.needsConnected.IsZero() {
		if err := requireConnected(m, k.needsConnected); err != nil {
			return nil, err
		}
	}
	if k.check != nil {
		if err := k.check(ctx, s, m); err != nil {
			return nil, err
		}
	}
	if _, err := s.runTask(ctx, k.doing(m.Name), func(ctx context.Context) (*object.Task, error) {
		return k.task(ctx, s, h, params)
	}); err != nil {
		if !k.hint.IsZero() {
			return nil, i18n.Errorf("%w (%v)", "%w（%v）", err, i18n.New(k.hint.EN, k.hint.ZhTW))
		}
		return nil, err
	}
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	return stateResult(m, at), nil
}

// ---- wait until connected ----

// waitConnectedParams are the parameters of vcenter.host.wait_connected.
type waitConnectedParams struct {
	Host string `yaml:"host" drbook:"host"`
	// Within is how long to wait before failing.
	Within journal.Duration `yaml:"within"`
}

// waitConnectedResult records when the host was seen connected.
type waitConnectedResult struct {
	Host        string           `json:"host" expr:"host"`
	ConnectedAt time.Time        `json:"connected_at" expr:"connected_at"`
	Waited      journal.Duration `json:"waited" expr:"waited"`
}

// hostWaitConnected is vcenter.host.wait_connected.
type hostWaitConnected struct{}

func (hostWaitConnected) Name() string { return "vcenter.host.wait_connected" }
func (hostWaitConnected) Summary() string {
	return "wait until vCenter sees an ESXi host connected and powered on"
}
func (hostWaitConnected) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (hostWaitConnected) NewParams() any {
	return &waitConnectedParams{Within: journal.Duration(15 * time.Minute)}
}
func (hostWaitConnected) NewResult() any { return &waitConnectedResult{} }
func (hostWaitConnected) Validate(params any) []steps.FieldError {
	p := params.(*waitConnectedParams)
	errs := required("host", p.Host)
	if p.Within <= 0 {
		errs = append(errs, steps.Fieldf("within", "must be a positive duration such as 15m", "須為正數之時間長度，例如 15m"))
	}
	return errs
}
func (hostWaitConnected) Describe(params any) steps.Description {
	p := params.(*waitConnectedParams)
	return steps.Description{Action: fmt.Sprintf("wait up to %s for host %s to be connected", p.Within, p.Host), ActionZhTW: fmt.Sprintf("等待主機 %s 重新連線（最長 %s）", p.Host, p.Within), Target: p.Host}
}
func (hostWaitConnected) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, _, _, err := hostTarget(ctx, rt, params.(*waitConnectedParams).Host)
	return err
}
func (hostWaitConnected) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*waitConnectedParams)
	start := time.Now()
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	wctx, cancel, timedOut := within(ctx, p.Within.D())
	defer cancel()
	state := map[string]any{}
	var at time.Time
	steps.Say(rt, "waiting for host %s to be connected", "等待主機 %s 連線", m.Name)
	err = s.watch(wctx, []types.ManagedObjectReference{h.Reference()}, "HostSystem", []string{"runtime.connectionState", "runtime.powerState"}, func(cs []change) bool {
		for _, c := range cs {
			state[c.Name] = c.Val
		}
		if state["runtime.connectionState"] == types.HostSystemConnectionStateConnected && state["runtime.powerState"] == types.HostSystemPowerStatePoweredOn {
			at = cs[0].At
			return true
		}
		return false
	})
	if timedOut(err) {
		return nil, i18n.Errorf("host %s was not connected within %s (last seen: connection %v, power %v)", "主機 %s 未於 %s 內連線（最後狀態：連線 %v，電源 %v）", m.Name, p.Within, state["runtime.connectionState"], state["runtime.powerState"])
	}
	if err != nil {
		return nil, err
	}
	return &waitConnectedResult{Host: m.Name, ConnectedAt: at, Waited: journal.Duration(at.Sub(start))}, nil
}
