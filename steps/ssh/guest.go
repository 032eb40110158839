package ssh

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// MkdirParams are ssh.mkdir's parameters.
type MkdirParams struct {
	Target `yaml:",inline"`
	// Paths are the directories to create, with their parents.
	Paths []string `yaml:"paths"`
	// Mode is the octal mode of created directories; the umask's when empty.
	Mode string `yaml:"mode"`
}

// MkdirResult is what ssh.mkdir returns.
type MkdirResult struct {
	// Created lists the directories that did not exist before.
	Created []string `json:"created" expr:"created"`
}

type mkdir struct{}

var _ steps.Kind = (*mkdir)(nil)
var _ steps.Producer = (*mkdir)(nil)

// Produces says the directories exist once the step has run.
func (*mkdir) Produces(params any) []steps.Product {
	p := params.(*MkdirParams)
	out := make([]steps.Product, len(p.Paths))
	for i, d := range p.Paths {
		out[i] = steps.Product{Guest: p.name(), Path: d}
	}
	return out
}

func (*mkdir) Name() string         { return "ssh.mkdir" }
func (*mkdir) Summary() string      { return "create directories (with parents) on a guest" }
func (*mkdir) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*mkdir) NewParams() any       { return &MkdirParams{} }
func (*mkdir) NewResult() any       { return &MkdirResult{} }
func (*mkdir) Validate(params any) []steps.FieldError {
	p := params.(*MkdirParams)
	errs := p.Target.validate()
	if len(p.Paths) == 0 {
		errs = append(errs, steps.Fieldf("paths", "list the directories to create", "請列出要建立之目錄"))
	}
	for i, d := range p.Paths {
		errs = append(errs, needPath(fmt.Sprintf("paths[%d]", i), d)...)
	}
	return append(errs, validMode("mode", p.Mode)...)
}

func (p *MkdirParams) command() string {
	mk := "mkdir -p"
	if p.Mode != "" {
		mk += " -m " + p.Mode
	}
	return "for d in " + transport.QuoteAll(p.Paths...) + "; do [ -d \"$d\" ] && continue; " + mk + " -- \"$d\" || exit 1; echo \"drbook-created: $d\"; done"
}

func (*mkdir) Describe(params any) steps.Description {
	p := params.(*MkdirParams)
	return steps.Description{Action: fmt.Sprintf("create %s on %s", strings.Join(p.Paths, ", "), p.name()), ActionZhTW: fmt.Sprintf("於 %s 建立 %s", p.name(), strings.Join(p.Paths, "、")), Target: p.name(), Command: p.command()}
}

func (*mkdir) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*MkdirParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	stdout, stderr, code, err := runScript(ctx, rt, c, steps.Text("mkdir on "+p.name(), "於 "+p.name()+" 建立目錄"), p.command(), 16<<10)
	if err != nil {
		return nil, err
	}
	res := &MkdirResult{Created: markers(stdout.String())["created"]}
	if code != 0 {
		return res, commandFailed(rt, c, journal.Text{EN: "mkdir", ZhTW: "mkdir"}, code, stderr.String())
	}
	return res, nil
}

// ServiceParams are ssh.service's parameters.
type ServiceParams struct {
	Target `yaml:",inline"`
	// Name is the service, e.g. httpd.
	Name string `yaml:"name"`
	// Action is start, stop, restart, reload or status.
	Action string `yaml:"action"`
	// Manager forces systemctl, service or initd; auto detects, preferring
	// systemd when it runs, then service (RHEL 5), then /etc/init.d.
	Manager string `yaml:"manager"`
}

// ServiceResult is what ssh.service returns.
type ServiceResult struct {
	Manager  string `json:"manager" expr:"manager"`
	ExitCode int    `json:"exit_code" expr:"exit_code"`
	// Active is true when status exits 0 (LSB: the service runs), or when
	// another action succeeded and left the service started.
	Active bool   `json:"active" expr:"active"`
	Output string `json:"output" expr:"output"`
}

type service struct{}

var _ steps.Kind = (*service)(nil)
var _ steps.Preflighter = (*service)(nil)

var serviceActions = []string{"start", "stop", "restart", "reload", "status"}

func (*service) Name() string { return "ssh.service" }
func (*service) Summary() string {
	return "start, stop, restart, reload or query a service on a guest (systemctl, service or /etc/init.d)"
}
func (*service) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*service) NewParams() any       { return &ServiceParams{Action: "status", Manager: "auto"} }
func (*service) NewResult() any       { return &ServiceResult{} }
func (*service) Validate(params any) []steps.FieldError {
	p := params.(*ServiceParams)
	errs := p.Target.validate()
	switch {
	case p.Name == "" || strings.ContainsAny(p.Name, "/ \t\n"):
		errs = append(errs, steps.Fieldf("name", "give the service's name, e.g. httpd", "請提供服務名稱，例如 httpd"))
	case strings.HasPrefix(p.Name, "-"):
		// systemctl and service would read it as an option.
		errs = append(errs, steps.Fieldf("name", "%q is not a service name: it starts with \"-\"", "%q 不是服務名稱：其以 \"-\" 開頭", p.Name))
	}
	if !contains(serviceActions, p.Action) {
		errs = append(errs, steps.Fieldf("action", "%q is not one of %s", "%q 不是下列之一：%s", p.Action, strings.Join(serviceActions, ", ")))
	}
	if !contains([]string{"auto", "systemctl", "service", "initd"}, p.Manager) {
		errs = append(errs, steps.Fieldf("manager", "must be auto, systemctl, service or initd", "須為 auto、systemctl、service 或 initd"))
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// command detects the service manager on the guest and runs the action.
// /sbin and /usr/sbin are added to PATH because a non-login root shell on
// RHEL 5 may lack them, and service lives in /sbin there.
func (p *ServiceParams) command() string {
	name, action := transport.Quote(p.Name), transport.Quote(p.Action)
	systemctl := "echo drbook-manager: systemctl; systemctl " + action + " " + name
	svc := "echo drbook-manager: service; service " + name + " " + action
	initd := "echo drbook-manager: initd; /etc/init.d/" + name + " " + action
	var body string
	switch p.Manager {
	case "systemctl":
		body = systemctl
	case "service":
		body = svc
	case "initd":
		body = initd
	default:
		body = "if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then " + systemctl +
			"; elif command -v service >/dev/null 2>&1; then " + svc +
			"; elif [ -x /etc/init.d/" + name + " ]; then " + initd +
			"; else echo \"drbook: no systemctl, service or /etc/init.d/\"" + name + " >&2; exit 127; fi"
	}
	return "PATH=$PATH:/sbin:/usr/sbin; " + body
}

// serviceActionZhTW words ssh.service's actions in Traditional Chinese.
var serviceActionZhTW = map[string]string{"start": "啟動", "stop": "停止", "restart": "重新啟動", "reload": "重新載入", "status": "查詢"}

func (*service) Describe(params any) steps.Description {
	p := params.(*ServiceParams)
	return steps.Description{Action: fmt.Sprintf("%s service %s on %s", p.Action, p.Name, p.name()), ActionZhTW: fmt.Sprintf("%s %s 上之 %s 服務", serviceActionZhTW[p.Action], p.name(), p.Name), Target: p.name(), Command: p.command()}
}

func (*service) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*ServiceParams)
	_, err := p.connect(ctx, rt)
	return err
}

func (*service) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*ServiceParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	stdout, stderr, code, err := runScript(ctx, rt, c, steps.Text(p.Action+" "+p.Name+" on "+p.name(), serviceActionZhTW[p.Action]+" "+p.name()+" 上之 "+p.Name), p.command(), 16<<10)
	if err != nil {
		return nil, err
	}
	out := stdout.String()
	res := &ServiceResult{Manager: first(markers(out), "manager"), ExitCode: code}
	var lines []string
	for _, l := range strings.Split(out+stderr.String(), "\n") {
		if !strings.HasPrefix(l, "drbook-manager: ") {
			lines = append(lines, l)
		}
	}
	res.Output = strings.TrimSpace(strings.Join(lines, "\n"))
	switch {
	case p.Action == "status":
		res.Active = code == 0
	case code != 0:
		return res, commandFailed(rt, c, journal.Text{EN: fmt.Sprintf("%s %s (%s)", p.Action, p.Name, res.Manager), ZhTW: fmt.Sprintf("%s %s（%s）", p.Action, p.Name, res.Manager)}, code, res.Output)
	default:
		res.Active = p.Action != "stop"
	}
	return res, nil
}

// WaitReachableParams are ssh.wait_reachable's parameters.
type WaitReachableParams struct {
	Target `yaml:",inline"`
	// Within is how long to keep trying; 5m by default.
	Within journal.Duration `yaml:"within"`
	// Interval is the pause between attempts; 2s by default.
	Interval journal.Duration `yaml:"interval"`
}

// WaitReachableResult is what ssh.wait_reachable returns.
type WaitReachableResult struct {
	Attempts      int     `json:"attempts" expr:"attempts"`
	WaitedSeconds float64 `json:"waited_seconds" expr:"waited_seconds"`
}

type waitReachable struct{}

var _ steps.Kind = (*waitReachable)(nil)

func (*waitReachable) Name() string { return "ssh.wait_reachable" }
func (*waitReachable) Summary() string {
	return "wait until a guest accepts an SSH login and runs a command"
}
func (*waitReachable) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (*waitReachable) NewParams() any {
	return &WaitReachableParams{Within: journal.Duration(5 * time.Minute), Interval: journal.Duration(2 * time.Second)}
}
func (*waitReachable) NewResult() any { return &WaitReachableResult{} }
func (*waitReachable) Validate(params any) []steps.FieldError {
	p := params.(*WaitReachableParams)
	errs := p.Target.validate()
	if p.Within <= 0 {
		errs = append(errs, steps.Fieldf("within", "must be a positive duration such as 5m", "須為正數之時間長度，例如 5m"))
	}
	if p.Interval <= 0 {
		errs = append(errs, steps.Fieldf("interval", "must be a positive duration such as 2s", "須為正數之時間長度，例如 2s"))
	}
	return errs
}
func (*waitReachable) Describe(params any) steps.Description {
	p := params.(*WaitReachableParams)
	return steps.Description{Action: fmt.Sprintf("wait up to %s for %s to accept SSH", p.Within, p.name()), ActionZhTW: fmt.Sprintf("等待 %s 接受 SSH 連線（最長 %s）", p.name(), p.Within), Target: p.name(), Command: "true"}
}

func (*waitReachable) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*WaitReachableParams)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.Within.D())
	defer cancel()
	res := &WaitReachableResult{}
	var last error
	for {
		res.Attempts++
		steps.Say(rt, "waiting for %s (attempt %d, %s)", "等待 %s（第 %d 次嘗試，已 %s）", p.name(), res.Attempts, time.Since(start).Round(time.Second))
		c, err := transport.Lookup(rt, p.name())
		if err != nil {
			return res, err
		}
		attempt := p.ConnectTimeout.D()
		if attempt <= 0 {
			attempt = 10 * time.Second
		}
		err = c.Connect(ctx, attempt)
		if err == nil {
			var code int
			if code, err = c.Run(ctx, "true", nil, nil, nil); err == nil && code != 0 {
				err = i18n.Errorf("true exited %d", "true 結束代碼為 %d", code)
			}
		}
		if err == nil {
			res.WaitedSeconds = seconds(time.Since(start))
			return res, nil
		}
		last = err
		// Host key and login problems will not fix themselves by waiting.
		if !transport.IsRetryable(err) && ctx.Err() == nil {
			return res, err
		}
		select {
		case <-ctx.Done():
			res.WaitedSeconds = seconds(time.Since(start))
			if errors.Is(context.Cause(ctx), context.Canceled) {
				return res, i18n.Errorf("waiting for %s cancelled: %w", "等待 %s 已取消：%w", p.name(), context.Cause(ctx))
			}
			return res, i18n.Errorf("%s did not become reachable within %s (%s attempts); last error: %v", "%s 未於 %s 內可連線（嘗試 %s 次）；最後之錯誤：%v", p.name(), p.Within, strconv.Itoa(res.Attempts), last)
		case <-time.After(p.Interval.D()):
		}
	}
}
