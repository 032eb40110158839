// Package control holds the step kinds that need no site: wait, assert,
// log, manual and exec.local (a command on the operator's machine, for
// tools such as ipmitool).
package control

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// Kinds returns the control kinds.
func Kinds() []steps.Kind {
	return []steps.Kind{waitKind{}, assertKind{}, logKind{}, execLocal{}, manualKind{}}
}

// WaitParams are wait's parameters; `wait: 5s` is shorthand for {for: 5s}.
type WaitParams struct {
	For journal.Duration `yaml:"for"`
}

// UnmarshalYAML accepts the shorthand.
func (p *WaitParams) UnmarshalYAML(unmarshal func(any) error) error {
	var d journal.Duration
	if err := unmarshal(&d); err == nil {
		p.For = d
		return nil
	}
	type plain WaitParams
	return unmarshal((*plain)(p))
}

// WaitResult is what wait did.
type WaitResult struct {
	Waited time.Duration `json:"waited" expr:"waited"`
}

type waitKind struct{}

var _ steps.Kind = waitKind{}

func (waitKind) Name() string    { return "wait" }
func (waitKind) Summary() string { return "pause for a fixed time" }
func (waitKind) Traits() steps.Traits {
	return steps.Traits{Idempotent: true}
}
func (waitKind) NewParams() any { return &WaitParams{} }
func (waitKind) NewResult() any { return &WaitResult{} }
func (waitKind) Validate(p any) []steps.FieldError {
	if p.(*WaitParams).For <= 0 {
		return []steps.FieldError{steps.Fieldf("for", "give how long to wait, e.g. wait: 30s", "請提供等待時間，例如 wait: 30s")}
	}
	return nil
}
func (waitKind) Describe(p any) steps.Description {
	d := p.(*WaitParams).For.String()
	return steps.Description{Action: "wait " + d, ActionZhTW: "等待 " + d}
}
func (waitKind) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	d := p.(*WaitParams).For.D()
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return &WaitResult{Waited: time.Since(start)}, nil
	case <-ctx.Done():
		return &WaitResult{Waited: time.Since(start)}, ctx.Err()
	}
}

// AssertParams are assert's parameters. `that` is a condition over the
// run: `assert: steps.ha.result.restarted == 4` is shorthand for
// {that: …}. The engine evaluates it; the kind reports the outcome.
type AssertParams struct {
	That    bool         `yaml:"that" drbook:"expr"`
	Message journal.Text `yaml:"message"`
}

// AssertResult records the checked condition.
type AssertResult struct {
	Holds bool `json:"holds" expr:"holds"`
}

type assertKind struct{}

var _ steps.Kind = assertKind{}

func (assertKind) Name() string         { return "assert" }
func (assertKind) Summary() string      { return "fail the step unless a condition over the run holds" }
func (assertKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (assertKind) NewParams() any       { return &AssertParams{} }
func (assertKind) NewResult() any       { return &AssertResult{} }
func (assertKind) Validate(any) []steps.FieldError {
	return nil
}
func (assertKind) Describe(p any) steps.Description {
	return steps.Description{Action: "check that the condition holds", ActionZhTW: "確認條件成立"}
}
func (assertKind) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	ap := p.(*AssertParams)
	if !ap.That {
		// The runbook's message in both of its languages (the same text
		// when it gave one); the journal keeps both, the screen shows
		// the run's.
		if ap.Message.IsZero() {
			return &AssertResult{}, i18n.New("the condition does not hold", "條件不成立")
		}
		return &AssertResult{}, i18n.New(ap.Message.In("en"), ap.Message.In("zh-TW"))
	}
	return &AssertResult{Holds: true}, nil
}

// LogParams are log's parameters; `log: text` is shorthand.
type LogParams struct {
	Message journal.Text `yaml:"message"`
	Level   string       `yaml:"level"`
}

// UnmarshalYAML accepts the shorthand.
func (p *LogParams) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		p.Message = journal.Text{EN: s, ZhTW: s}
		return nil
	}
	type plain LogParams
	return unmarshal((*plain)(p))
}

// LogResult is the text recorded.
type LogResult struct {
	Text string `json:"text" expr:"text"`
}

type logKind struct{}

var _ steps.Kind = logKind{}

func (logKind) Name() string         { return "log" }
func (logKind) Summary() string      { return "record a note in the journal" }
func (logKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (logKind) NewParams() any       { return &LogParams{Level: "info"} }
func (logKind) NewResult() any       { return &LogResult{} }
func (logKind) Validate(p any) []steps.FieldError {
	lp := p.(*LogParams)
	var errs []steps.FieldError
	if lp.Message.IsZero() {
		errs = append(errs, steps.Fieldf("message", "a log step needs text", "log 步驟須有文字"))
	}
	if lp.Level != "info" && lp.Level != "warn" {
		errs = append(errs, steps.Fieldf("level", "level %q must be info or warn", "level %q 須為 info 或 warn", lp.Level))
	}
	return errs
}
func (logKind) Describe(p any) steps.Description {
	m := p.(*LogParams).Message
	return steps.Description{Action: "note: " + m.In("en"), ActionZhTW: "紀錄：" + m.In("zh-TW")}
}
func (logKind) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	lp := p.(*LogParams)
	text := lp.Message.In(rt.Options().Lang)
	steps.SayNote(rt, lp.Level, "%[1]s", "%[2]s", lp.Message.In("en"), lp.Message.In("zh-TW"))
	return &LogResult{Text: text}, ctx.Err()
}

// ExecLocalParams run a command on the operator's machine. Command is an
// argument vector (no shell), or Shell a script for /bin/sh.
type ExecLocalParams struct {
	Command   []string         `yaml:"command" drbook:"argv"`
	Shell     string           `yaml:"shell" drbook:"shell"`
	Dir       string           `yaml:"dir"`
	ExitCodes []int            `yaml:"exit_codes"`
	MaxOutput int              `yaml:"max_output"`
	Timeout   journal.Duration `yaml:"timeout"`
}

// ExecLocalResult is what the command did.
type ExecLocalResult struct {
	ExitCode int    `json:"exit_code" expr:"exit_code"`
	Stdout   string `json:"stdout" expr:"stdout"`
	Stderr   string `json:"stderr" expr:"stderr"`
}

// execLocal is the exec.local kind. grace is how long a stopped command
// has between SIGTERM and SIGKILL; defaultStopGrace when 0 (tests shorten
// it).
type execLocal struct{ grace time.Duration }

var _ steps.Kind = execLocal{}

func (execLocal) Name() string    { return "exec.local" }
func (execLocal) Summary() string { return "run a command on the operator's machine (e.g. ipmitool)" }
func (execLocal) Traits() steps.Traits {
	return steps.Traits{ChangesState: true}
}
func (execLocal) NewParams() any { return &ExecLocalParams{ExitCodes: []int{0}, MaxOutput: 16 * 1024} }
func (execLocal) NewResult() any { return &ExecLocalResult{} }
func (execLocal) Validate(p any) []steps.FieldError {
	ep := p.(*ExecLocalParams)
	if (len(ep.Command) == 0) == (ep.Shell == "") {
		return []steps.FieldError{steps.Fieldf("command", "give exactly one of command (an argument list) or shell (a script)", "command（引數清單）與 shell（腳本）須恰給其一")}
	}
	return nil
}
func (execLocal) Describe(p any) steps.Description {
	ep := p.(*ExecLocalParams)
	cmd := ep.Shell
	if cmd == "" {
		q := make([]string, len(ep.Command))
		for i, a := range ep.Command {
			q[i] = steps.ShellQuote(a)
		}
		cmd = strings.Join(q, " ")
	}
	return steps.Description{Action: "run a local command", ActionZhTW: "於本機執行指令", Target: "localhost", Command: cmd}
}

func (k execLocal) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	ep := p.(*ExecLocalParams)
	if ep.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, ep.Timeout.D(), i18n.Errorf("timed out after %s (exec.local's timeout)", "逾時：已超過 %s（exec.local 之 timeout）", ep.Timeout))
		defer cancel()
	}
	command := k.Describe(p).Command
	if ctx.Err() != nil {
		return &ExecLocalResult{ExitCode: -1}, i18n.Errorf("command not started: %w", "指令未啟動：%w", context.Cause(ctx))
	}
	// Not exec.CommandContext: its cancellation kills the command's own
	// process alone, and what that started would live on. The stop below
	// ends the command's whole process group.
	var cmd *exec.Cmd
	if ep.Shell != "" {
		cmd = exec.Command("/bin/sh", "-c", ep.Shell)
	} else {
		cmd = exec.Command(ep.Command[0], ep.Command[1:]...)
	}
	cmd.Dir = ep.Dir
	inOwnGroup(cmd)
	// Once the command has exited, a process it left behind that holds
	// its stdout open does not keep the step waiting.
	cmd.WaitDelay = time.Second
	var stdout, stderr outputBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var stopped *localStop
	err := cmd.Start()
	if err == nil {
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err = <-waited:
		case <-ctx.Done():
			st := stopGroup(cmd.Process, k.stopGrace())
			stopped = &st
			if st.Gone {
				// No process of the group holds the output open,
				// and WaitDelay bounds one that left the group.
				err = <-waited
			}
		}
	}
	res := &ExecLocalResult{ExitCode: -1}
	if stopped == nil || stopped.Gone {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	outB, errB := stdout.bytes(), stderr.bytes()
	tr := journal.Transcript{Target: "localhost", Command: command, ExitCode: res.ExitCode}
	res.Stdout, tr.Truncated = steps.CapText(rt, string(outB), ep.MaxOutput)
	var trunc2 bool
	res.Stderr, trunc2 = steps.CapText(rt, string(errB), ep.MaxOutput)
	tr.Truncated = tr.Truncated || trunc2
	tr.Stdout, tr.Stderr = res.Stdout, res.Stderr
	if tr.Truncated {
		if a, err := rt.Artifact("stdout.txt", bytes.NewReader(outB)); err == nil {
			tr.StdoutArtifact = a.Path
		}
		if a, err := rt.Artifact("stderr.txt", bytes.NewReader(errB)); err == nil {
			tr.StderrArtifact = a.Path
		}
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTranscript, Title: "local command", TitleZhTW: "本機指令", Transcript: &tr})
	if stopped != nil {
		return res, newStopError(context.Cause(ctx), command, *stopped)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return res, i18n.Errorf("cannot run %s: %w", "無法執行 %s：%w", tr.Command, err)
	}
	for _, c := range ep.ExitCodes {
		if c == res.ExitCode {
			return res, nil
		}
	}
	return res, i18n.Errorf("command exited with %d (expected %v): %s", "指令結束代碼為 %d（預期為 %v）：%s", res.ExitCode, ep.ExitCodes, lastLine(res.Stderr))
}

func (k execLocal) stopGrace() time.Duration {
	if k.grace > 0 {
		return k.grace
	}
	return defaultStopGrace
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
