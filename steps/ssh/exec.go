package ssh

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// ExecParams are ssh.exec's parameters.
type ExecParams struct {
	Target `yaml:",inline"`
	// Command is one shell command line, run as given.
	Command string `yaml:"command" drbook:"shell"`
	// Script is a multi-line script, run with Shell -c.
	Script string `yaml:"script" drbook:"shell"`
	// Shell runs Script; "sh" by default.
	Shell string `yaml:"shell"`
	// ExpectExit lists the exit codes that count as success; [0] by default.
	ExpectExit []int `yaml:"expect_exit"`
	// Assert is an expression over stdout, stderr and exit_code that must
	// be true, e.g. `stdout contains "active"`.
	Assert string `yaml:"assert"`
	// OutputCap is how many bytes of each stream the result keeps; the full
	// text goes to artifacts. 64 KiB by default.
	OutputCap int `yaml:"output_cap"`

	assert *vm.Program
}

// ExecResult is what ssh.exec returns.
type ExecResult struct {
	ExitCode  int     `json:"exit_code" expr:"exit_code"`
	Stdout    string  `json:"stdout" expr:"stdout"`
	Stderr    string  `json:"stderr" expr:"stderr"`
	Truncated bool    `json:"truncated" expr:"truncated"`
	Seconds   float64 `json:"seconds" expr:"seconds"`
}

// assertEnv is what an ssh.exec assertion sees.
type assertEnv struct {
	Stdout   string `expr:"stdout"`
	Stderr   string `expr:"stderr"`
	ExitCode int    `expr:"exit_code"`
}

type exec struct{}

var _ steps.Kind = (*exec)(nil)
var _ steps.Preflighter = (*exec)(nil)

func (*exec) Name() string { return "ssh.exec" }
func (*exec) Summary() string {
	return "run a command or script on a guest, capture its output and check its exit code"
}
func (*exec) Traits() steps.Traits { return steps.Traits{ChangesState: true} }
func (*exec) NewParams() any {
	return &ExecParams{Shell: "sh", ExpectExit: []int{0}, OutputCap: 64 << 10}
}
func (*exec) NewResult() any { return &ExecResult{} }

func (*exec) Validate(params any) []steps.FieldError {
	p := params.(*ExecParams)
	errs := p.Target.validate()
	switch {
	case p.Command == "" && p.Script == "":
		errs = append(errs, steps.Fieldf("command", "give a command or a script", "請提供 command 或 script"))
	case p.Command != "" && p.Script != "":
		errs = append(errs, steps.Fieldf("script", "give a command or a script, not both", "請提供 command 或 script，不可兩者皆給"))
	}
	if !shellProgram.MatchString(p.Shell) {
		errs = append(errs, steps.Fieldf("shell", "must be a program name or path such as sh or /bin/bash", "須為程式名稱或路徑，例如 sh 或 /bin/bash"))
	}
	if len(p.ExpectExit) == 0 {
		errs = append(errs, steps.Fieldf("expect_exit", "list at least one exit code", "請至少列出一個結束碼"))
	}
	if p.OutputCap <= 0 {
		errs = append(errs, steps.Fieldf("output_cap", "must be a positive number of bytes", "須為正數之位元組數"))
	}
	if p.Assert != "" {
		prog, err := expr.Compile(p.Assert, expr.Env(assertEnv{}), expr.AsBool())
		if err != nil {
			errs = append(errs, steps.Fieldf("assert", "invalid expression: %v (it sees stdout, stderr and exit_code)", "運算式無效：%v（可使用 stdout、stderr 與 exit_code）", err))
		}
		p.assert = prog
	}
	return errs
}

// shellProgram is what shell may name: a program or path, never an option
// or shell syntax (sh>file would redirect).
var shellProgram = regexp.MustCompile(`^[A-Za-z0-9_./+][A-Za-z0-9_./+-]*$`)

func (p *ExecParams) remote() string {
	if p.Script != "" {
		return p.Shell + " -c " + transport.Quote(p.Script)
	}
	return p.Command
}

func (*exec) Describe(params any) steps.Description {
	p := params.(*ExecParams)
	action, zh := "run a command on "+p.name(), "於 "+p.name()+" 執行指令"
	if p.Script != "" {
		n := strings.Count(strings.TrimRight(p.Script, "\n"), "\n") + 1
		action = fmt.Sprintf("run a %d-line script on %s", n, p.name())
		zh = fmt.Sprintf("於 %s 執行 %d 行之指令稿", p.name(), n)
	}
	if !slices.Equal(p.ExpectExit, []int{0}) {
		action += fmt.Sprintf(", expecting exit %v", p.ExpectExit)
		zh += fmt.Sprintf("，預期結束代碼 %v", p.ExpectExit)
	}
	if p.Assert != "" {
		action += ", asserting " + p.Assert
		zh += "，並確認 " + p.Assert
	}
	return steps.Description{Action: action, ActionZhTW: zh, Target: p.name(), Command: p.remote()}
}

func (*exec) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*ExecParams)
	_, err := p.connect(ctx, rt)
	return err
}

func (*exec) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*ExecParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	stdout, stderr, code, err := runScript(ctx, rt, c, steps.Text("ssh.exec on "+p.name(), "於 "+p.name()+" 執行 ssh.exec"), p.remote(), p.OutputCap)
	if err != nil {
		return nil, err
	}
	res := &ExecResult{ExitCode: code, Seconds: seconds(time.Since(start))}
	var cut1, cut2 bool
	res.Stdout, cut1 = stdout.head(rt)
	res.Stderr, cut2 = stderr.head(rt)
	res.Truncated = cut1 || cut2
	if !slices.Contains(p.ExpectExit, code) {
		return res, i18n.Errorf("%s: exit code %d, expected %s; stderr: %s", "%s：結束代碼 %d，預期為 %s；stderr：%s", c.Target(), code, exitList(p.ExpectExit), tail(res.Stderr))
	}
	prog := p.assert
	if prog == nil && p.Assert != "" {
		if prog, err = expr.Compile(p.Assert, expr.Env(assertEnv{}), expr.AsBool()); err != nil {
			return res, i18n.Errorf("assert: %w", "assert：%w", err)
		}
	}
	if prog != nil {
		// The assertion sees the whole output, not the capped copy.
		ok, err := expr.Run(prog, assertEnv{Stdout: stdout.String(), Stderr: stderr.String(), ExitCode: code})
		if err != nil {
			return res, i18n.Errorf("assert %s: %w", "assert %s：%w", p.Assert, err)
		}
		if ok != true {
			return res, i18n.Errorf("%s: the assertion %s is false; stdout: %s", "%s：斷言 %s 不成立；stdout：%s", c.Target(), p.Assert, tail(res.Stdout))
		}
	}
	return res, nil
}

func exitList(codes []int) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, " or ")
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(empty)"
	}
	if len(s) > 400 {
		return "…" + s[len(s)-400:]
	}
	return s
}
