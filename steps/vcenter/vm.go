package vcenter

import (
	"context"
	"fmt"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*vmPower)(nil)
	_ steps.Preflighter = (*vmPower)(nil)
	_ steps.Kind        = (*vmWait)(nil)
	_ steps.Preflighter = (*vmWait)(nil)
	_ steps.Kind        = (*vmSnapshot)(nil)
	_ steps.Preflighter = (*vmSnapshot)(nil)
)

// VMFacts are the VM properties a vcenter.vm.wait condition can use.
type VMFacts struct {
	Name            string `json:"name" expr:"name"`
	PowerState      string `json:"power_state" expr:"power_state"`
	Host            string `json:"host" expr:"host"`
	ConnectionState string `json:"connection_state" expr:"connection_state"`
	ToolsRunning    bool   `json:"tools_running" expr:"tools_running"`
	ToolsStatus     string `json:"tools_status" expr:"tools_status"`
	IP              string `json:"ip" expr:"ip"`
	Hostname        string `json:"hostname" expr:"hostname"`
	GuestState      string `json:"guest_state" expr:"guest_state"`
	Heartbeat       string `json:"heartbeat" expr:"heartbeat"`
}

// vmFactProps are the properties VMFacts is built from.
var vmFactProps = []string{"name", "runtime.powerState", "runtime.host", "runtime.connectionState", "guest.toolsRunningStatus",
	"guest.ipAddress", "guest.hostName", "guest.guestState", "guestHeartbeatStatus"}

// applyChange folds one property change into the facts; hostNames
// resolves a host reference.
func (f *VMFacts) applyChange(c change, hostNames func(types.ManagedObjectReference) string) {
	str := func() string {
		if c.Val == nil {
			return ""
		}
		return fmt.Sprint(c.Val)
	}
	switch c.Name {
	case "name":
		f.Name = str()
	case "runtime.powerState":
		f.PowerState = str()
	case "runtime.host":
		f.Host = ""
		if ref, ok := c.Val.(types.ManagedObjectReference); ok {
			f.Host = hostNames(ref)
		}
	case "runtime.connectionState":
		f.ConnectionState = str()
	case "guest.toolsRunningStatus":
		f.ToolsStatus = str()
		f.ToolsRunning = f.ToolsStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	case "guest.ipAddress":
		f.IP = str()
	case "guest.hostName":
		f.Hostname = str()
	case "guest.guestState":
		f.GuestState = str()
	case "guestHeartbeatStatus":
		f.Heartbeat = str()
	}
}

// hostNamer resolves and caches host names for a session.
func (s *Session) hostNamer(ctx context.Context) func(types.ManagedObjectReference) string {
	cache := map[types.ManagedObjectReference]string{}
	return func(ref types.ManagedObjectReference) string {
		if n, ok := cache[ref]; ok {
			return n
		}
		names, err := s.names(ctx, []types.ManagedObjectReference{ref})
		n := names[ref]
		if err != nil || n == "" {
			n = ref.Value
		}
		cache[ref] = n
		return n
	}
}

// vmTarget finds the VM a step names.
func vmTarget(ctx context.Context, rt steps.Runtime, name string) (*Session, *object.VirtualMachine, error) {
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.findVM(ctx, vmName(rt, name))
	return s, v, err
}

// ---- power ----

// vmPowerParams are the parameters of vcenter.vm.power.
type vmPowerParams struct {
	VM string `yaml:"vm" drbook:"vm"`
	// Action is on, off, reset or shutdown_guest.
	Action string `yaml:"action"`
	// Timeout bounds a guest shutdown (and the wait for the new state).
	Timeout journal.Duration `yaml:"timeout"`
	// Fallback is what to do when a guest shutdown does not finish within
	// timeout (or tools are not running): "off" powers the VM off, "none"
	// fails the step.
	Fallback string `yaml:"fallback"`
}

// vmPowerResult is what vcenter.vm.power did.
type vmPowerResult struct {
	VM          string           `json:"vm" expr:"vm"`
	Action      string           `json:"action" expr:"action"`
	PowerState  string           `json:"power_state" expr:"power_state"`
	Already     bool             `json:"already" expr:"already"`
	FellBack    bool             `json:"fell_back" expr:"fell_back"`
	RequestedAt time.Time        `json:"requested_at" expr:"requested_at"`
	Took        journal.Duration `json:"took" expr:"took"`
}

// vmPower is vcenter.vm.power.
type vmPower struct{}

func (vmPower) Name() string { return "vcenter.vm.power" }
func (vmPower) Summary() string {
	return "power a VM on or off, reset it, or shut its guest down with a fallback to power off"
}
func (vmPower) Traits() steps.Traits { return steps.Traits{ChangesState: true} }
func (vmPower) NewParams() any {
	return &vmPowerParams{Timeout: journal.Duration(5 * time.Minute), Fallback: "off"}
}
func (vmPower) NewResult() any { return &vmPowerResult{} }
func (vmPower) Validate(params any) []steps.FieldError {
	p := params.(*vmPowerParams)
	errs := required("vm", p.VM)
	errs = append(errs, oneOf("action", p.Action, "on", "off", "reset", "shutdown_guest")...)
	errs = append(errs, oneOf("fallback", p.Fallback, "off", "none")...)
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 5m", "須為正數之時間長度，例如 5m"))
	}
	return errs
}
func (vmPower) Describe(params any) steps.Description {
	p := params.(*vmPowerParams)
	a := map[string]string{"on": "power on", "off": "power off", "reset": "reset", "shutdown_guest": "shut down the guest of"}[p.Action]
	zh := map[string]string{"on": "將 VM %s 開機", "off": "將 VM %s 關機（切斷電源）", "reset": "重設 VM %s", "shutdown_guest": "將 VM %s 之客體作業系統關機"}[p.Action]
	d := steps.Description{Action: a + " VM " + p.VM, ActionZhTW: fmt.Sprintf(zh, p.VM), Target: p.VM}
	if p.Action == "shutdown_guest" {
		d.Action += fmt.Sprintf(" (up to %s, then fallback: %s)", p.Timeout, p.Fallback)
		d.ActionZhTW += fmt.Sprintf("（最長 %s，逾時則改採：%s）", p.Timeout, p.Fallback)
	}
	return d
}
func (vmPower) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, _, err := vmTarget(ctx, rt, params.(*vmPowerParams).VM)
	return err
}

func (vmPower) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmPowerParams)
	s, v, err := vmTarget(ctx, rt, p.VM)
	if err != nil {
		return nil, err
	}
	var m mo.VirtualMachine
	if err := v.Properties(ctx, v.Reference(), []string{"name", "runtime.powerState", "guest.toolsRunningStatus"}, &m); err != nil {
		return nil, i18n.Errorf("vCenter: reading VM %s: %w", "vCenter：讀取 VM %s：%w", p.VM, err)
	}
	res := &vmPowerResult{VM: m.Name, Action: p.Action, RequestedAt: time.Now()}
	state := m.Runtime.PowerState
	finish := func(st types.VirtualMachinePowerState) (any, error) {
		res.PowerState = string(st)
		res.Took = journal.Duration(time.Since(res.RequestedAt))
		return res, nil
	}
	switch p.Action {
	case "on":
		if state == types.VirtualMachinePowerStatePoweredOn {
			res.Already = true
			return finish(state)
		}
		if _, err := s.runTask(ctx, journal.Text{EN: "power on VM " + m.Name, ZhTW: "將 VM " + m.Name + " 開機"}, v.PowerOn); err != nil {
			return nil, err
		}
		return finish(types.VirtualMachinePowerStatePoweredOn)
	case "off":
		if state == types.VirtualMachinePowerStatePoweredOff {
			res.Already = true
			return finish(state)
		}
		if _, err := s.runTask(ctx, journal.Text{EN: "power off VM " + m.Name, ZhTW: "將 VM " + m.Name + " 關機"}, v.PowerOff); err != nil {
			return nil, err
		}
		return finish(types.VirtualMachinePowerStatePoweredOff)
	case "reset":
		if _, err := s.runTask(ctx, journal.Text{EN: "reset VM " + m.Name, ZhTW: "重設 VM " + m.Name}, v.Reset); err != nil {
			return nil, err
		}
		return finish(types.VirtualMachinePowerStatePoweredOn)
	}
	// shutdown_guest
	if state == types.VirtualMachinePowerStatePoweredOff {
		res.Already = true
		return finish(state)
	}
	fallBack := func(why error) (any, error) {
		if p.Fallback != "off" {
			return nil, i18n.Errorf("VM %s: %v, and fallback is none; power it off by hand or set fallback: off", "VM %s：%v，且 fallback 為 none；請以人工關機，或設定 fallback: off", m.Name, why)
		}
		steps.SayNote(rt, "warn", "VM %s: %s; powering it off", "VM %s：%s；改為切斷電源", m.Name, why)
		res.FellBack = true
		if _, err := s.runTask(ctx, journal.Text{EN: "power off VM " + m.Name, ZhTW: "將 VM " + m.Name + " 關機"}, v.PowerOff); err != nil {
			return nil, err
		}
		return finish(types.VirtualMachinePowerStatePoweredOff)
	}
	if m.Guest == nil || m.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return fallBack(i18n.New("VMware Tools are not running, so the guest cannot be asked to shut down", "VMware Tools 未執行，無法要求客體作業系統關機"))
	}
	if err := v.ShutdownGuest(ctx); err != nil {
		return fallBack(i18n.Errorf("the guest shutdown was refused (%w)", "客體作業系統拒絕關機（%w）", err))
	}
	wctx, cancel, timedOut := within(ctx, p.Timeout.D())
	defer cancel()
	err = s.watch(wctx, []types.ManagedObjectReference{v.Reference()}, "VirtualMachine", []string{"runtime.powerState"}, func(cs []change) bool {
		for _, c := range cs {
			if c.Name == "runtime.powerState" && c.Val == types.VirtualMachinePowerStatePoweredOff {
				return true
			}
		}
		return false
	})
	if timedOut(err) {
		return fallBack(i18n.Errorf("the guest did not shut down within %s", "客體作業系統未於 %s 內關機", p.Timeout))
	}
	if err != nil {
		return nil, err
	}
	return finish(types.VirtualMachinePowerStatePoweredOff)
}

// ---- wait for a condition ----

// vmWaitParams are the parameters of vcenter.vm.wait.
type vmWaitParams struct {
	VM string `yaml:"vm" drbook:"vm"`
	// Condition is an expr expression over VMFacts, e.g.
	// `tools_running && ip != ""`.
	Condition string `yaml:"condition"`
	// Within is how long to wait before failing.
	Within journal.Duration `yaml:"within"`
}

// vmWaitResult records when the condition held and the facts then.
type vmWaitResult struct {
	VM     string           `json:"vm" expr:"vm"`
	MetAt  time.Time        `json:"met_at" expr:"met_at"`
	Waited journal.Duration `json:"waited" expr:"waited"`
	Facts  VMFacts          `json:"facts" expr:"facts"`
}

func compileCondition(cond string) (*vm.Program, error) {
	return expr.Compile(cond, expr.Env(VMFacts{}), expr.AsBool())
}

// vmWait is vcenter.vm.wait.
type vmWait struct{}

func (vmWait) Name() string { return "vcenter.vm.wait" }
func (vmWait) Summary() string {
	return "wait until a condition over a VM's properties holds, e.g. tools_running && ip != \"\""
}
func (vmWait) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (vmWait) NewParams() any {
	return &vmWaitParams{Condition: `power_state == "poweredOn" && tools_running`, Within: journal.Duration(10 * time.Minute)}
}
func (vmWait) NewResult() any { return &vmWaitResult{} }
func (vmWait) Validate(params any) []steps.FieldError {
	p := params.(*vmWaitParams)
	errs := required("vm", p.VM)
	if _, err := compileCondition(p.Condition); err != nil {
		errs = append(errs, steps.Fieldf("condition", "%v (known names: name, power_state, host, connection_state, tools_running, tools_status, ip, hostname, guest_state, heartbeat)", "%v（已知之名稱：name, power_state, host, connection_state, tools_running, tools_status, ip, hostname, guest_state, heartbeat）", err))
	}
	if p.Within <= 0 {
		errs = append(errs, steps.Fieldf("within", "must be a positive duration such as 10m", "須為正數之時間長度，例如 10m"))
	}
	return errs
}
func (vmWait) Describe(params any) steps.Description {
	p := params.(*vmWaitParams)
	return steps.Description{Action: fmt.Sprintf("wait up to %s until VM %s has %s", p.Within, p.VM, p.Condition),
		ActionZhTW: fmt.Sprintf("等待 VM %s 符合 %s（最長 %s）", p.VM, p.Condition, p.Within), Target: p.VM}
}
func (vmWait) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	_, _, err := vmTarget(ctx, rt, params.(*vmWaitParams).VM)
	return err
}
func (vmWait) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmWaitParams)
	prog, err := compileCondition(p.Condition)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	s, v, err := vmTarget(ctx, rt, p.VM)
	if err != nil {
		return nil, err
	}
	wctx, cancel, timedOut := within(ctx, p.Within.D())
	defer cancel()
	var facts VMFacts
	var met time.Time
	var evalErr error
	// answered is whether vCenter sent the VM's state at all: a window
	// that ends before the first update says nothing about the VM, only
	// that vCenter was too slow to tell (a monitor records it as unknown,
	// never as an outage).
	answered := false
	names := s.hostNamer(ctx)
	steps.Say(rt, "waiting for VM %s: %s", "等待 VM %s：%s", p.VM, p.Condition)
	err = s.watch(wctx, []types.ManagedObjectReference{v.Reference()}, "VirtualMachine", vmFactProps, func(cs []change) bool {
		answered = true
		for _, c := range cs {
			facts.applyChange(c, names)
		}
		out, err := expr.Run(prog, facts)
		if err != nil {
			evalErr = err
			return true
		}
		if out == true {
			met = cs[0].At
			return true
		}
		return false
	})
	if timedOut(err) && !answered {
		return nil, i18n.Errorf("VM %s: vCenter sent no state within %s, so whether it reached %q is not known: %w", "VM %s：vCenter 於 %s 內未傳回狀態，無法得知是否已達 %q：%w", p.VM, p.Within, p.Condition, steps.ErrNoAnswer)
	}
	if timedOut(err) {
		return nil, i18n.Errorf("VM %s did not reach %q within %s (last seen: power %s, connection %s, host %s, tools %s, ip %q)", "VM %s 未於 %[3]s 內達到 %[2]q（最後狀態：電源 %[4]s，連線 %[5]s，主機 %[6]s，VMware Tools %[7]s，IP %[8]q）", p.VM, p.Condition, p.Within, facts.PowerState, facts.ConnectionState, facts.Host, facts.ToolsStatus, facts.IP)
	}
	if err != nil {
		return nil, err
	}
	if evalErr != nil {
		return nil, i18n.Errorf("VM %s: evaluating %q: %w", "VM %s：評估 %q：%w", p.VM, p.Condition, evalErr)
	}
	return &vmWaitResult{VM: facts.Name, MetAt: met, Waited: journal.Duration(met.Sub(start)), Facts: facts}, nil
}

// ---- snapshots ----

// vmSnapshotParams are the parameters of vcenter.vm.snapshot.
type vmSnapshotParams struct {
	VM string `yaml:"vm" drbook:"vm"`
	// Action is create, revert or remove.
	Action      string `yaml:"action"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Memory includes the VM's memory in a new snapshot.
	Memory bool `yaml:"memory"`
	// Quiesce asks VMware Tools to quiesce the file systems first.
	Quiesce bool `yaml:"quiesce"`
	// RemoveChildren removes the snapshot's children too.
	RemoveChildren bool `yaml:"remove_children"`
	// SuppressPowerOn keeps a reverted VM off even if the snapshot was
	// taken while it ran.
	SuppressPowerOn bool `yaml:"suppress_power_on"`
}

// vmSnapshotResult is what vcenter.vm.snapshot did.
type vmSnapshotResult struct {
	VM         string `json:"vm" expr:"vm"`
	Action     string `json:"action" expr:"action"`
	Snapshot   string `json:"snapshot" expr:"snapshot"`
	SnapshotID string `json:"snapshot_id" expr:"snapshot_id"`
	PowerState string `json:"power_state" expr:"power_state"`
}

// vmSnapshot is vcenter.vm.snapshot.
type vmSnapshot struct{}

func (vmSnapshot) Name() string    { return "vcenter.vm.snapshot" }
func (vmSnapshot) Summary() string { return "create, revert to or remove a VM snapshot" }
func (vmSnapshot) Traits() steps.Traits {
	return steps.Traits{ChangesState: true}
}
func (vmSnapshot) NewParams() any { return &vmSnapshotParams{} }
func (vmSnapshot) NewResult() any { return &vmSnapshotResult{} }
func (vmSnapshot) Validate(params any) []steps.FieldError {
	p := params.(*vmSnapshotParams)
	errs := required("vm", p.VM)
	errs = append(errs, oneOf("action", p.Action, "create", "revert", "remove")...)
	errs = append(errs, required("name", p.Name)...)
	if p.Action != "create" && (p.Memory || p.Quiesce || p.Description != "") {
		errs = append(errs, steps.Fieldf("action", "memory, quiesce and description apply only to action: create", "memory、quiesce 與 description 僅適用於 action: create"))
	}
	return errs
}
func (vmSnapshot) Describe(params any) steps.Description {
	p := params.(*vmSnapshotParams)
	a := map[string]string{"create": "take snapshot %q of VM %s", "revert": "revert VM %[2]s to snapshot %[1]q", "remove": "remove snapshot %q of VM %s"}[p.Action]
	zh := map[string]string{"create": "建立 VM %[2]s 之快照 %[1]q", "revert": "將 VM %[2]s 還原至快照 %[1]q", "remove": "刪除 VM %[2]s 之快照 %[1]q"}[p.Action]
	return steps.Description{Action: fmt.Sprintf(a, p.Name, p.VM), ActionZhTW: fmt.Sprintf(zh, p.Name, p.VM), Target: p.VM}
}
func (vmSnapshot) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmSnapshotParams)
	_, v, err := vmTarget(ctx, rt, p.VM)
	if err != nil || p.Action == "create" {
		return err
	}
	if _, err := v.FindSnapshot(ctx, p.Name); err != nil {
		return i18n.Errorf("VM %s: snapshot %q: %w", "VM %s：快照 %q：%w", p.VM, p.Name, err)
	}
	return nil
}
func (vmSnapshot) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*vmSnapshotParams)
	s, v, err := vmTarget(ctx, rt, p.VM)
	if err != nil {
		return nil, err
	}
	res := &vmSnapshotResult{VM: p.VM, Action: p.Action, Snapshot: p.Name}
	what := journal.Text{EN: fmt.Sprintf("%s snapshot %q of VM %s", p.Action, p.Name, p.VM),
		ZhTW: fmt.Sprintf("%s VM %s 之快照 %q", map[string]string{"create": "建立", "revert": "還原", "remove": "移除"}[p.Action], p.VM, p.Name)}
	switch p.Action {
	case "create":
		info, err := s.runTask(ctx, what, func(ctx context.Context) (*object.Task, error) {
			return v.CreateSnapshot(ctx, p.Name, p.Description, p.Memory, p.Quiesce)
		})
		if err != nil {
			return nil, err
		}
		if ref, ok := info.Result.(types.ManagedObjectReference); ok {
			res.SnapshotID = ref.Value
		}
	case "revert", "remove":
		ref, err := v.FindSnapshot(ctx, p.Name)
		if err != nil {
			return nil, i18n.Errorf("VM %s: snapshot %q: %w", "VM %s：快照 %q：%w", p.VM, p.Name, err)
		}
		res.SnapshotID = ref.Value
		if _, err := s.runTask(ctx, what, func(ctx context.Context) (*object.Task, error) {
			if p.Action == "revert" {
				return v.RevertToSnapshot(ctx, ref.Value, p.SuppressPowerOn)
			}
			consolidate := true
			return v.RemoveSnapshot(ctx, ref.Value, p.RemoveChildren, &consolidate)
		}); err != nil {
			return nil, err
		}
	}
	st, err := v.PowerState(ctx)
	if err != nil {
		return nil, err
	}
	res.PowerState = string(st)
	return res, nil
}
