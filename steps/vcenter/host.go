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

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*hostShutdown)(nil)
	_ steps.Preflighter = (*hostShutdown)(nil)
	_ steps.Kind        = (*hostReboot)(nil)
	_ steps.Preflighter = (*hostReboot)(nil)
	_ steps.Kind        = (*hostPowerOn)(nil)
	_ steps.Preflighter = (*hostPowerOn)(nil)
	_ steps.Kind        = (*hostEnterMaintenance)(nil)
	_ steps.Preflighter = (*hostEnterMaintenance)(nil)
	_ steps.Kind        = (*hostExitMaintenance)(nil)
	_ steps.Preflighter = (*hostExitMaintenance)(nil)
	_ steps.Kind        = (*hostDisconnect)(nil)
	_ steps.Preflighter = (*hostDisconnect)(nil)
	_ steps.Kind        = (*hostReconnect)(nil)
	_ steps.Preflighter = (*hostReconnect)(nil)
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

func requireConnected(m mo.HostSystem, doing string) error {
	if m.Runtime.ConnectionState != types.HostSystemConnectionStateConnected {
		return fmt.Errorf("host %s is %s in vCenter, so vCenter cannot %s it; check the host (or run vcenter.host.reconnect first)", m.Name, m.Runtime.ConnectionState, doing)
	}
	return nil
}

// ---- shutdown and reboot ----

// hostStopParams are the parameters of vcenter.host.shutdown and reboot.
type hostStopParams struct {
	Host string `yaml:"host"`
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
}

type hostStop struct {
	verb   string // shut down, reboot
	method string
	call   func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error)
}

var shutdownOp = hostStop{verb: "shut down", method: "ShutdownHost_Task", call: func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error) {
	res, err := methods.ShutdownHost_Task(ctx, s.Client, &types.ShutdownHost_Task{This: host, Force: force})
	if err != nil {
		return nil, err
	}
	return object.NewTask(s.Client, res.Returnval), nil
}}

var rebootOp = hostStop{verb: "reboot", method: "RebootHost_Task", call: func(ctx context.Context, s *Session, host types.ManagedObjectReference, force bool) (*object.Task, error) {
	res, err := methods.RebootHost_Task(ctx, s.Client, &types.RebootHost_Task{This: host, Force: force})
	if err != nil {
		return nil, err
	}
	return object.NewTask(s.Client, res.Returnval), nil
}}

func (op hostStop) validate(params any) []steps.FieldError {
	return required("host", params.(*hostStopParams).Host)
}

func (op hostStop) describe(params any) steps.Description {
	p := params.(*hostStopParams)
	a := op.verb + " host " + p.Host
	if p.Force {
		a += " (force: even with VMs running, outside maintenance mode)"
	}
	return steps.Description{Action: a, Target: p.Host, Command: fmt.Sprintf("%s(force=%t)", op.method, p.Force)}
}

func (op hostStop) check(m mo.HostSystem, p *hostStopParams) error {
	if err := requireConnected(m, op.verb); err != nil {
		return err
	}
	if !p.Force && !m.Runtime.InMaintenanceMode {
		return fmt.Errorf("host %s is not in maintenance mode, and vCenter only lets you %s such a host with force; set force: true to simulate a failure with its VMs running, or run vcenter.host.enter_maintenance first", m.Name, op.verb)
	}
	return nil
}

func (op hostStop) preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*hostStopParams)
	_, _, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return err
	}
	return op.check(m, p)
}

func (op hostStop) execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*hostStopParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
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
	rt.Progress("%s host %s (%d VMs running)", op.verb, m.Name, len(vms))
	if _, err := runTask(ctx, fmt.Sprintf("%s host %s", op.verb, m.Name), func(ctx context.Context) (*object.Task, error) {
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
		Table: &journal.Table{Columns: []string{"VM", "host"}, Rows: rows}})
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: op.verb + " " + m.Name, Facts: []journal.Fact{
		{Key: "requested", Value: res.RequestedAt.Format(time.RFC3339Nano)},
		{Key: "task completed", Value: res.CompletedAt.Format(time.RFC3339Nano)},
		{Key: "force", Value: fmt.Sprint(p.Force)},
		{Key: "running VMs", Value: strings.Join(vms, ", ")},
	}})
	return res, nil
}

// hostShutdown is vcenter.host.shutdown.
type hostShutdown struct{}

func (hostShutdown) Name() string { return "vcenter.host.shutdown" }
func (hostShutdown) Summary() string {
	return "shut an ESXi host down through vCenter, recording the VMs running on it"
}
func (hostShutdown) Traits() steps.Traits              { return steps.Traits{ChangesState: true} }
func (hostShutdown) NewParams() any                    { return &hostStopParams{} }
func (hostShutdown) NewResult() any                    { return &hostStopResult{} }
func (hostShutdown) Validate(p any) []steps.FieldError { return shutdownOp.validate(p) }
func (hostShutdown) Describe(p any) steps.Description  { return shutdownOp.describe(p) }
func (hostShutdown) Preflight(ctx context.Context, rt steps.Runtime, p any) error {
	return shutdownOp.preflight(ctx, rt, p)
}
func (hostShutdown) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	return shutdownOp.execute(ctx, rt, p)
}

// hostReboot is vcenter.host.reboot.
type hostReboot struct{}

func (hostReboot) Name() string { return "vcenter.host.reboot" }
func (hostReboot) Summary() string {
	return "reboot an ESXi host through vCenter, recording the VMs running on it"
}
func (hostReboot) Traits() steps.Traits              { return steps.Traits{ChangesState: true} }
func (hostReboot) NewParams() any                    { return &hostStopParams{} }
func (hostReboot) NewResult() any                    { return &hostStopResult{} }
func (hostReboot) Validate(p any) []steps.FieldError { return rebootOp.validate(p) }
func (hostReboot) Describe(p any) steps.Description  { return rebootOp.describe(p) }
func (hostReboot) Preflight(ctx context.Context, rt steps.Runtime, p any) error {
	return rebootOp.preflight(ctx, rt, p)
}
func (hostReboot) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	return rebootOp.execute(ctx, rt, p)
}

// ---- power on from standby ----

// hostPowerOnParams are the parameters of vcenter.host.power_on.
type hostPowerOnParams struct {
	Host string `yaml:"host"`
	// Timeout is how long vCenter may take to bring the host out of
	// standby (through IPMI/iLO or Wake-on-LAN configured in vCenter).
	Timeout journal.Duration `yaml:"timeout"`
}

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

// hostPowerOn is vcenter.host.power_on.
type hostPowerOn struct{}

func (hostPowerOn) Name() string { return "vcenter.host.power_on" }
func (hostPowerOn) Summary() string {
	return "power an ESXi host on from standby through vCenter (PowerUpHostFromStandBy; needs IPMI/iLO or WOL configured)"
}
func (hostPowerOn) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (hostPowerOn) NewParams() any {
	return &hostPowerOnParams{Timeout: journal.Duration(10 * time.Minute)}
}
func (hostPowerOn) NewResult() any { return &hostStateResult{} }
func (hostPowerOn) Validate(params any) []steps.FieldError {
	return required("host", params.(*hostPowerOnParams).Host)
}
func (hostPowerOn) Describe(params any) steps.Description {
	p := params.(*hostPowerOnParams)
	return steps.Description{Action: fmt.Sprintf("power host %s on from standby (up to %s)", p.Host, p.Timeout), Target: p.Host, Command: "PowerUpHostFromStandBy_Task"}
}
func (hostPowerOn) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, _, err := hostTarget(ctx, rt, params.(*hostPowerOnParams).Host)
	return err
}
func (hostPowerOn) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*hostPowerOnParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if m.Runtime.PowerState == types.HostSystemPowerStatePoweredOn && m.Runtime.ConnectionState == types.HostSystemConnectionStateConnected {
		rt.Note("info", fmt.Sprintf("host %s is already powered on and connected", m.Name))
		return stateResult(m, at), nil
	}
	secs := int32(p.Timeout.D() / time.Second)
	if _, err := runTask(ctx, "power on host "+m.Name, func(ctx context.Context) (*object.Task, error) {
		res, err := methods.PowerUpHostFromStandBy_Task(ctx, s.Client, &types.PowerUpHostFromStandBy_Task{This: h.Reference(), TimeoutSec: secs})
		if err != nil {
			return nil, err
		}
		return object.NewTask(s.Client, res.Returnval), nil
	}); err != nil {
		return nil, fmt.Errorf("%w (vCenter powers a host on only through IPMI/iLO or Wake-on-LAN configured for it; otherwise power it on at its console)", err)
	}
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	return stateResult(m, at), nil
}

// ---- maintenance mode ----

// maintenanceParams are the parameters of enter_maintenance and exit_maintenance.
type maintenanceParams struct {
	Host string `yaml:"host"`
	// Evacuate also moves powered-off VMs off the host (entering only).
	Evacuate bool `yaml:"evacuate"`
	// Timeout is how long vCenter may take; 0 means no limit.
	Timeout journal.Duration `yaml:"timeout"`
}

// hostEnterMaintenance is vcenter.host.enter_maintenance.
type hostEnterMaintenance struct{}

func (hostEnterMaintenance) Name() string { return "vcenter.host.enter_maintenance" }
func (hostEnterMaintenance) Summary() string {
	return "put an ESXi host into maintenance mode, evacuating its VMs"
}
func (hostEnterMaintenance) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: true}
}
func (hostEnterMaintenance) NewParams() any {
	return &maintenanceParams{Evacuate: true, Timeout: journal.Duration(30 * time.Minute)}
}
func (hostEnterMaintenance) NewResult() any { return &hostStateResult{} }
func (hostEnterMaintenance) Validate(params any) []steps.FieldError {
	return required("host", params.(*maintenanceParams).Host)
}
func (hostEnterMaintenance) Describe(params any) steps.Description {
	p := params.(*maintenanceParams)
	return steps.Description{Action: fmt.Sprintf("put host %s into maintenance mode (evacuate powered-off VMs: %t, timeout %s)", p.Host, p.Evacuate, p.Timeout), Target: p.Host, Command: "EnterMaintenanceMode_Task"}
}
func (hostEnterMaintenance) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, m, err := hostTarget(ctx, rt, params.(*maintenanceParams).Host)
	if err != nil {
		return err
	}
	return requireConnected(m, "put into maintenance mode")
}
func (hostEnterMaintenance) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*maintenanceParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if m.Runtime.InMaintenanceMode {
		rt.Note("info", fmt.Sprintf("host %s is already in maintenance mode", m.Name))
		return stateResult(m, at), nil
	}
	if err := requireConnected(m, "put into maintenance mode"); err != nil {
		return nil, err
	}
	if _, err := runTask(ctx, "put host "+m.Name+" into maintenance mode", func(ctx context.Context) (*object.Task, error) {
		return h.EnterMaintenanceMode(ctx, int32(p.Timeout.D()/time.Second), p.Evacuate, nil)
	}); err != nil {
		return nil, err
	}
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	return stateResult(m, at), nil
}

// hostExitMaintenance is vcenter.host.exit_maintenance.
type hostExitMaintenance struct{}

func (hostExitMaintenance) Name() string    { return "vcenter.host.exit_maintenance" }
func (hostExitMaintenance) Summary() string { return "take an ESXi host out of maintenance mode" }
func (hostExitMaintenance) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: true}
}
func (hostExitMaintenance) NewParams() any {
	return &maintenanceParams{Timeout: journal.Duration(10 * time.Minute)}
}
func (hostExitMaintenance) NewResult() any { return &hostStateResult{} }
func (hostExitMaintenance) Validate(params any) []steps.FieldError {
	p := params.(*maintenanceParams)
	errs := required("host", p.Host)
	if p.Evacuate {
		errs = append(errs, steps.FieldError{Field: "evacuate", Msg: "applies only to vcenter.host.enter_maintenance"})
	}
	return errs
}
func (hostExitMaintenance) Describe(params any) steps.Description {
	p := params.(*maintenanceParams)
	return steps.Description{Action: fmt.Sprintf("take host %s out of maintenance mode (timeout %s)", p.Host, p.Timeout), Target: p.Host, Command: "ExitMaintenanceMode_Task"}
}
func (hostExitMaintenance) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, _, err := hostTarget(ctx, rt, params.(*maintenanceParams).Host)
	return err
}
func (hostExitMaintenance) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*maintenanceParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if !m.Runtime.InMaintenanceMode {
		rt.Note("info", fmt.Sprintf("host %s is not in maintenance mode", m.Name))
		return stateResult(m, at), nil
	}
	if _, err := runTask(ctx, "take host "+m.Name+" out of maintenance mode", func(ctx context.Context) (*object.Task, error) {
		return h.ExitMaintenanceMode(ctx, int32(p.Timeout.D()/time.Second))
	}); err != nil {
		return nil, err
	}
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	return stateResult(m, at), nil
}

// ---- disconnect and reconnect ----

// hostOnlyParams name one host.
type hostOnlyParams struct {
	Host string `yaml:"host"`
}

// hostDisconnect is vcenter.host.disconnect.
type hostDisconnect struct{}

func (hostDisconnect) Name() string    { return "vcenter.host.disconnect" }
func (hostDisconnect) Summary() string { return "disconnect an ESXi host from vCenter" }
func (hostDisconnect) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: true}
}
func (hostDisconnect) NewParams() any { return &hostOnlyParams{} }
func (hostDisconnect) NewResult() any { return &hostStateResult{} }
func (hostDisconnect) Validate(params any) []steps.FieldError {
	return required("host", params.(*hostOnlyParams).Host)
}
func (hostDisconnect) Describe(params any) steps.Description {
	p := params.(*hostOnlyParams)
	return steps.Description{Action: "disconnect host " + p.Host + " from vCenter", Target: p.Host, Command: "DisconnectHost_Task"}
}
func (hostDisconnect) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, _, err := hostTarget(ctx, rt, params.(*hostOnlyParams).Host)
	return err
}
func (hostDisconnect) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*hostOnlyParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if m.Runtime.ConnectionState == types.HostSystemConnectionStateDisconnected {
		rt.Note("info", fmt.Sprintf("host %s is already disconnected", m.Name))
		return stateResult(m, at), nil
	}
	if _, err := runTask(ctx, "disconnect host "+m.Name, h.Disconnect); err != nil {
		return nil, err
	}
	m, err = s.readHost(ctx, h)
	if err != nil {
		return nil, err
	}
	return stateResult(m, at), nil
}

// hostReconnect is vcenter.host.reconnect.
type hostReconnect struct{}

func (hostReconnect) Name() string    { return "vcenter.host.reconnect" }
func (hostReconnect) Summary() string { return "reconnect an ESXi host to vCenter" }
func (hostReconnect) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Idempotent: true}
}
func (hostReconnect) NewParams() any { return &hostOnlyParams{} }
func (hostReconnect) NewResult() any { return &hostStateResult{} }
func (hostReconnect) Validate(params any) []steps.FieldError {
	return required("host", params.(*hostOnlyParams).Host)
}
func (hostReconnect) Describe(params any) steps.Description {
	p := params.(*hostOnlyParams)
	return steps.Description{Action: "reconnect host " + p.Host + " to vCenter", Target: p.Host, Command: "ReconnectHost_Task"}
}
func (hostReconnect) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, _, err := hostTarget(ctx, rt, params.(*hostOnlyParams).Host)
	return err
}
func (hostReconnect) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*hostOnlyParams)
	s, h, m, err := hostTarget(ctx, rt, p.Host)
	if err != nil {
		return nil, err
	}
	at := time.Now()
	if m.Runtime.ConnectionState == types.HostSystemConnectionStateConnected {
		rt.Note("info", fmt.Sprintf("host %s is already connected", m.Name))
		return stateResult(m, at), nil
	}
	if _, err := runTask(ctx, "reconnect host "+m.Name, func(ctx context.Context) (*object.Task, error) {
		return h.Reconnect(ctx, nil, nil)
	}); err != nil {
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
	Host string `yaml:"host"`
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
		errs = append(errs, steps.FieldError{Field: "within", Msg: "must be a positive duration such as 15m"})
	}
	return errs
}
func (hostWaitConnected) Describe(params any) steps.Description {
	p := params.(*waitConnectedParams)
	return steps.Description{Action: fmt.Sprintf("wait up to %s for host %s to be connected", p.Within, p.Host), Target: p.Host}
}
func (hostWaitConnected) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	_, _, _, err := hostTarget(ctx, rt, params.(*waitConnectedParams).Host)
	return err
}
func (hostWaitConnected) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
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
	rt.Progress("waiting for host %s to be connected", m.Name)
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
		return nil, fmt.Errorf("host %s was not connected within %s (last seen: connection %v, power %v)", m.Name, p.Within, state["runtime.connectionState"], state["runtime.powerState"])
	}
	if err != nil {
		return nil, err
	}
	return &waitConnectedResult{Host: m.Name, ConnectedAt: at, Waited: journal.Duration(at.Sub(start))}, nil
}
