package vcenter

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

var (
	_ steps.Kind        = (*haVerifyRestart)(nil)
	_ steps.Preflighter = (*haVerifyRestart)(nil)
)

// haVerifyParams are the parameters of vcenter.ha.verify_restart.
type haVerifyParams struct {
	// FailedHost is the host that went down.
	FailedHost string `yaml:"failed_host" drbook:"host"`
	// VMs are the VMs that ran on it when it went down, as journaled by the
	// step that shut it down: `vms: "${{ steps.shut.result.vms }}"`.
	VMs []string `yaml:"vms" drbook:"vm"`
	// Within is how long HA has to restart every VM, from the step's start.
	Within journal.Duration `yaml:"within"`
	// Tools also waits, within the same limit, for VMware Tools to run in
	// each restarted guest.
	Tools bool `yaml:"tools"`
	// AllowEmpty lets an empty vms list pass: by default it fails, because
	// an empty list is far more often a wrong reference than an idle host.
	AllowEmpty bool `yaml:"allow_empty"`
}

// VMRestart is what verify_restart saw of one VM.
type VMRestart struct {
	VM      string `json:"vm" expr:"vm"`
	OldHost string `json:"old_host" expr:"old_host"`
	NewHost string `json:"new_host" expr:"new_host"`
	// SeenOffAt is when vCenter first reported the VM not running (zero if
	// it never did while the step watched).
	SeenOffAt time.Time `json:"seen_off_at,omitzero" expr:"seen_off_at"`
	// PoweredOnAt is when drbook received vCenter's update showing the VM
	// powered on on another host.
	PoweredOnAt time.Time `json:"powered_on_at,omitzero" expr:"powered_on_at"`
	// ToolsAt is when VMware Tools were first seen running after that.
	ToolsAt time.Time `json:"tools_at,omitzero" expr:"tools_at"`
	// Outage is PoweredOnAt − SeenOffAt when both are known.
	Outage journal.Duration `json:"outage,omitempty" expr:"outage"`
	// AlreadyRunning is set when the VM already ran elsewhere when the
	// step began: PoweredOnAt is then an upper bound.
	AlreadyRunning bool `json:"already_running,omitempty" expr:"already_running"`
	Restarted      bool `json:"restarted" expr:"restarted"`
	// Problem says why the VM is not counted as restarted.
	Problem string `json:"problem,omitempty" expr:"problem"`
	// problemZhTW is Problem in Traditional Chinese, for the evidence
	// and the error (the result keeps the English).
	problemZhTW string
}

// haVerifyResult is what vcenter.ha.verify_restart records.
type haVerifyResult struct {
	FailedHost   string        `json:"failed_host" expr:"failed_host"`
	VMs          []VMRestart   `json:"vms" expr:"vms"`
	Restarted    int           `json:"restarted" expr:"restarted"`
	AllRestarted bool          `json:"all_restarted" expr:"all_restarted"`
	LastOnAt     time.Time     `json:"last_on_at,omitzero" expr:"last_on_at"`
	Events       []EventRecord `json:"events" expr:"events"`
}

// haVerifyRestart is vcenter.ha.verify_restart.
type haVerifyRestart struct{}

func (haVerifyRestart) Name() string { return "vcenter.ha.verify_restart" }
func (haVerifyRestart) Summary() string {
	return "verify that vSphere HA restarted a failed host's VMs on other hosts, timing each one"
}
func (haVerifyRestart) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (haVerifyRestart) NewParams() any {
	return &haVerifyParams{Within: journal.Duration(5 * time.Minute)}
}
func (haVerifyRestart) NewResult() any { return &haVerifyResult{} }
func (haVerifyRestart) Validate(params any) []steps.FieldError {
	p := params.(*haVerifyParams)
	errs := required("failed_host", p.FailedHost)
	if p.Within <= 0 {
		errs = append(errs, steps.Fieldf("within", "must be a positive duration such as 5m", "須為正數之時間長度，例如 5m"))
	}
	seen := map[string]bool{}
	for i, v := range p.VMs {
		if v == "" {
			errs = append(errs, steps.Fieldf(fmt.Sprintf("vms[%d]", i), "is empty", "為空"))
		}
		if seen[v] {
			errs = append(errs, steps.Fieldf(fmt.Sprintf("vms[%d]", i), "%q is listed twice", "%q 重複列出", v))
		}
		seen[v] = true
	}
	return errs
}
func (haVerifyRestart) Describe(params any) steps.Description {
	p := params.(*haVerifyParams)
	vms, zhVMs := "the VMs given", "所列 VM"
	if len(p.VMs) > 0 {
		vms, zhVMs = strings.Join(p.VMs, ", "), strings.Join(p.VMs, "、")
	}
	a := fmt.Sprintf("wait up to %s for HA to restart %s, which ran on failed host %s, on other hosts", p.Within, vms, p.FailedHost)
	zh := fmt.Sprintf("等待 HA 於其他主機重新啟動原執行於故障主機 %s 之 %s（最長 %s）", p.FailedHost, zhVMs, p.Within)
	if p.Tools {
		a += ", with VMware Tools running"
		zh += "，且 VMware Tools 須已執行"
	}
	return steps.Description{Action: a, ActionZhTW: zh, Target: p.FailedHost}
}
func (haVerifyRestart) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	ctx = withRuntime(ctx, rt)
	p := params.(*haVerifyParams)
	s, err := connect(ctx, rt)
	if err != nil {
		return err
	}
	if _, err := s.findHost(ctx, hostName(rt, p.FailedHost)); err != nil {
		return err
	}
	for _, v := range p.VMs {
		if _, err := s.findVM(ctx, vmName(rt, v)); err != nil {
			return err
		}
	}
	return nil
}

// restartTracker follows one VM.
type restartTracker struct {
	r       VMRestart
	facts   VMFacts
	hostRef types.ManagedObjectReference
	seen    bool
}

func (haVerifyRestart) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	ctx = withRuntime(ctx, rt)
	p := params.(*haVerifyParams)
	start := time.Now()
	if len(p.VMs) == 0 && !p.AllowEmpty {
		return nil, i18n.Errorf("no VMs to verify: vms is empty; pass the VMs that ran on %s (vms: \"${{ steps.<shutdown step>.result.vms }}\"), or set allow_empty: true if the host really ran none", "沒有要驗證之 VM：vms 是空的；請傳入曾於 %s 上執行之 VM（vms: \"${{ steps.<停機步驟>.result.vms }}\"），若該主機確實未執行任何 VM，請設定 allow_empty: true", p.FailedHost)
	}
	s, err := connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	failed, err := s.findHost(ctx, hostName(rt, p.FailedHost))
	if err != nil {
		return nil, err
	}
	failedName := hostName(rt, p.FailedHost)
	trackers := map[types.ManagedObjectReference]*restartTracker{}
	var refs []types.ManagedObjectReference
	for _, name := range p.VMs {
		v, err := s.findVM(ctx, vmName(rt, name))
		if err != nil {
			return nil, err
		}
		refs = append(refs, v.Reference())
		trackers[v.Reference()] = &restartTracker{r: VMRestart{VM: name, OldHost: failedName}}
	}
	names := s.hostNamer(ctx)
	wctx, cancel, timedOut := within(ctx, p.Within.D())
	defer cancel()
	steps.Say(rt, "waiting for HA to restart %d VMs of %s", "等待 HA 重新啟動 %[2]s 之 %[1]d 台 VM", len(refs), failedName)
	lastBack := 0
	err = s.watch(wctx, refs, "VirtualMachine", []string{"runtime.powerState", "runtime.host", "runtime.connectionState", "guest.toolsRunningStatus"}, func(cs []change) bool {
		at := cs[0].At
		for _, c := range cs {
			t := trackers[c.Obj]
			if t == nil {
				continue
			}
			if c.Name == "runtime.host" {
				t.hostRef, _ = c.Val.(types.ManagedObjectReference)
			}
			t.facts.applyChange(c, names)
		}
		done := true
		back := 0
		for _, t := range trackers {
			t.observe(at, failed.Reference(), p.Tools)
			if t.r.PoweredOnAt.IsZero() || (p.Tools && t.r.ToolsAt.IsZero()) {
				done = false
			} else {
				back++
			}
		}
		if back != lastBack {
			// The operator sees HA's progress, not only a clock.
			lastBack = back
			steps.Say(rt, "%d of %d restarted on other hosts", "已於其他主機重新啟動 %d／%d 台", back, len(trackers))
		}
		return done
	})
	if err != nil && !timedOut(err) {
		return nil, err
	}
	res := &haVerifyResult{FailedHost: failedName, VMs: []VMRestart{}, Events: []EventRecord{}}
	// vCenter's own account: HA events since the run (or this step) began.
	since := rt.RunStarted()
	if start.Before(since) || since.IsZero() {
		since = start
	}
	evs, _, eerr := s.queryEvents(ctx, since.Add(-time.Minute), 1000)
	if eerr != nil {
		steps.SayNote(rt, "warn", "could not read vCenter's HA events: %v", "無法讀取 vCenter 之 HA 事件：%v", eerr)
	}
	failover := map[string]string{}
	for _, e := range evs {
		if isHAEvent(e) {
			res.Events = append(res.Events, e)
			if strings.Contains(e.Type, "FailoverFailed") && e.VM != "" {
				failover[e.VM] = e.Message
			}
		}
	}
	var missing, missingZh []string
	for _, ref := range refs {
		t := trackers[ref]
		r := t.r
		switch {
		case !r.PoweredOnAt.IsZero() && (!p.Tools || !r.ToolsAt.IsZero()):
			r.Restarted = true
			res.Restarted++
			if r.PoweredOnAt.After(res.LastOnAt) {
				res.LastOnAt = r.PoweredOnAt
			}
		case !r.PoweredOnAt.IsZero():
			r.Problem = fmt.Sprintf("powered on on %s, but VMware Tools were not running within %s", r.NewHost, p.Within)
			r.problemZhTW = fmt.Sprintf("已於 %s 開機，但 VMware Tools 未於 %s 內執行", r.NewHost, p.Within)
		default:
			where, whereZh := t.facts.Host, t.facts.Host
			if where == "" {
				where, whereZh = "an unknown host", "不明主機"
			}
			r.Problem = fmt.Sprintf("still %s on %s (connection %s)", orUnknown(t.facts.PowerState), where, orUnknown(t.facts.ConnectionState))
			r.problemZhTW = fmt.Sprintf("仍於 %s 上為 %s（連線 %s）", whereZh, orUnknown(t.facts.PowerState), orUnknown(t.facts.ConnectionState))
		}
		if msg, ok := failover[r.VM]; ok && !r.Restarted {
			r.Problem += "; vCenter: " + msg
			r.problemZhTW += "；vCenter：" + msg
		}
		if !r.Restarted {
			missing = append(missing, fmt.Sprintf("%s: %s", r.VM, r.Problem))
			missingZh = append(missingZh, fmt.Sprintf("%s：%s", r.VM, r.problemZhTW))
		}
		res.VMs = append(res.VMs, r)
	}
	res.AllRestarted = len(missing) == 0
	emitRestartEvidence(rt, res)
	if ctx.Err() != nil {
		return res, i18n.Errorf("verifying the HA restart was cancelled: %w", "HA 重新啟動之驗證已取消：%w", ctx.Err())
	}
	if len(missing) > 0 {
		return res, i18n.Errorf("%d of %d VMs of failed host %s were not back on another host within %s:\n  - %v", "故障主機 %[3]s 之 %[1]d／%[2]d 台 VM 未於 %[4]s 內於其他主機恢復：\n  - %[5]v",
			len(missing), len(res.VMs), failedName, p.Within, i18n.New(strings.Join(missing, "\n  - "), strings.Join(missingZh, "\n  - ")))
	}
	return res, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// observe updates the tracker from its VM's current facts at time at.
func (t *restartTracker) observe(at time.Time, failed types.ManagedObjectReference, tools bool) {
	first := !t.seen
	t.seen = true
	running := t.facts.PowerState == string(types.VirtualMachinePowerStatePoweredOn) &&
		(t.facts.ConnectionState == "" || t.facts.ConnectionState == string(types.VirtualMachineConnectionStateConnected))
	elsewhere := running && t.hostRef.Value != "" && t.hostRef != failed
	if !running && t.r.SeenOffAt.IsZero() && t.r.PoweredOnAt.IsZero() {
		t.r.SeenOffAt = at
	}
	if elsewhere && t.r.PoweredOnAt.IsZero() {
		t.r.PoweredOnAt = at
		t.r.NewHost = t.facts.Host
		t.r.AlreadyRunning = first
		if !t.r.SeenOffAt.IsZero() {
			t.r.Outage = journal.Duration(at.Sub(t.r.SeenOffAt))
		}
	}
	if !t.r.PoweredOnAt.IsZero() && t.r.ToolsAt.IsZero() && t.facts.ToolsRunning && elsewhere {
		t.r.ToolsAt = at
	}
}

func emitRestartEvidence(rt steps.Runtime, res *haVerifyResult) {
	rows, zhRows := [][]string{}, [][]string{}
	var moments []journal.Moment
	for _, r := range res.VMs {
		outage := "—"
		if r.Outage > 0 {
			outage = r.Outage.D().Round(time.Millisecond).String()
		}
		status, zh := "restarted", "已重新啟動"
		if !r.Restarted {
			status, zh = "NOT restarted: "+r.Problem, "未重新啟動："+orText(r.problemZhTW, r.Problem)
		} else if r.AlreadyRunning {
			status, zh = "already running elsewhere when the check began", "檢查開始時已於其他主機執行"
		}
		row := []string{r.VM, r.OldHost, r.NewHost, stamp(r.SeenOffAt), stamp(r.PoweredOnAt), stamp(r.ToolsAt), outage, status}
		rows = append(rows, row)
		zhRows = append(zhRows, append(append([]string(nil), row[:7]...), zh))
		if !r.SeenOffAt.IsZero() {
			moments = append(moments, journal.Moment{At: r.SeenOffAt, Label: r.VM + " seen off", LabelZhTW: r.VM + " 已停止執行", Source: "drbook"})
		}
		if !r.PoweredOnAt.IsZero() {
			moments = append(moments, journal.Moment{At: r.PoweredOnAt, Label: r.VM + " powered on on " + r.NewHost, LabelZhTW: r.VM + " 已於 " + r.NewHost + " 開機", Source: "drbook"})
		}
		if !r.ToolsAt.IsZero() {
			moments = append(moments, journal.Moment{At: r.ToolsAt, Label: r.VM + " VMware Tools running", LabelZhTW: r.VM + " 之 VMware Tools 已執行", Source: "drbook"})
		}
	}
	for _, e := range res.Events {
		moments = append(moments, journal.Moment{At: e.Time, Label: e.Message, Source: "vCenter " + e.Type})
	}
	sort.SliceStable(moments, func(i, j int) bool { return moments[i].At.Before(moments[j].At) })
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTable, Title: "HA restart of the VMs of " + res.FailedHost, TitleZhTW: "HA 重新啟動主機 " + res.FailedHost + " 之 VM",
		Table: &journal.Table{Columns: []string{"VM", "old host", "new host", "seen off", "powered on", "tools up", "outage", "status"},
			ColumnsZhTW: []string{"VM", "原主機", "新主機", "停止時間", "開機時間", "Tools 就緒時間", "停機時間", "狀態"}, Rows: rows, RowsZhTW: zhRows}})
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTimeline, Title: "HA restart timeline", TitleZhTW: "HA 重新啟動時間軸", Timeline: moments})
}

// orText is s, or or when s is empty.
func orText(s, or string) string {
	if s != "" {
		return s
	}
	return or
}
