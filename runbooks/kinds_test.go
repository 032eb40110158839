package runbooks_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// The loader's tests build their own registry from the control kinds plus
// the small fakes below, so that golden error text does not move when a
// real vcenter or ssh kind changes its fields during development. The fakes
// copy the shapes that matter to the loader: a state-changing kind, a
// read-only probe, a shell command field, list and number fields, and a
// Validate that reports a field.

func testRegistry() *steps.Registry {
	kinds := control.Kinds()
	kinds = append(kinds, hostShutdownKind{}, hostWaitKind{}, httpCheckKind{}, guestExecKind{}, fanKind{})
	return steps.NewRegistry(kinds...)
}

// hostShutdownParams mirror vcenter.host.shutdown.
type hostShutdownParams struct {
	Host  string           `yaml:"host" drbook:"host"`
	Force bool             `yaml:"force"`
	Wait  journal.Duration `yaml:"wait"`
}

type hostShutdownResult struct {
	Host      string `json:"host" expr:"host"`
	PoweredOn int    `json:"powered_on" expr:"powered_on"`
}

type hostShutdownKind struct{}

var _ steps.Kind = hostShutdownKind{}

func (hostShutdownKind) Name() string    { return "vcenter.host.shutdown" }
func (hostShutdownKind) Summary() string { return "shut an ESXi host down (test fake)" }
func (hostShutdownKind) Traits() steps.Traits {
	return steps.Traits{ChangesState: true}
}
func (hostShutdownKind) NewParams() any { return &hostShutdownParams{} }
func (hostShutdownKind) NewResult() any { return &hostShutdownResult{} }
func (hostShutdownKind) Validate(p any) []steps.FieldError {
	if p.(*hostShutdownParams).Host == "" {
		return []steps.FieldError{steps.Fieldf("host", "name the host to shut down", "請指定要關機之主機")}
	}
	return nil
}
func (hostShutdownKind) Describe(p any) steps.Description {
	return steps.Description{Action: "shut down " + p.(*hostShutdownParams).Host}
}
func (hostShutdownKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, errors.New("test fake: never executed")
}

// hostWaitParams mirror vcenter.host.wait_connected.
type hostWaitParams struct {
	Host string `yaml:"host" drbook:"host"`
	// VMs are the VMs expected back, as the HA check names them.
	VMs    []string         `yaml:"vms" drbook:"vm"`
	Within journal.Duration `yaml:"within"`
}

type hostWaitResult struct {
	Connected bool `json:"connected" expr:"connected"`
}

type hostWaitKind struct{}

var _ steps.Kind = hostWaitKind{}

func (hostWaitKind) Name() string         { return "vcenter.host.wait_connected" }
func (hostWaitKind) Summary() string      { return "wait until a host is connected (test fake)" }
func (hostWaitKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (hostWaitKind) NewParams() any       { return &hostWaitParams{Within: journal.Duration(60e9)} }
func (hostWaitKind) NewResult() any       { return &hostWaitResult{} }
func (hostWaitKind) Validate(any) []steps.FieldError {
	return nil
}
func (hostWaitKind) Describe(p any) steps.Description {
	return steps.Description{Action: "wait for " + p.(*hostWaitParams).Host}
}
func (hostWaitKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, errors.New("test fake: never executed")
}

// httpCheckParams mirror check.http: a read-only probe usable as a monitor.
type httpCheckParams struct {
	URL    string           `yaml:"url"`
	Status int              `yaml:"status"`
	Every  journal.Duration `yaml:"every"`
}

type httpCheckResult struct {
	Status int    `json:"status" expr:"status"`
	Body   string `json:"body" expr:"body"`
}

type httpCheckKind struct{}

var _ steps.Kind = httpCheckKind{}

func (httpCheckKind) Name() string         { return "check.http" }
func (httpCheckKind) Summary() string      { return "probe a URL (test fake)" }
func (httpCheckKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (httpCheckKind) NewParams() any       { return &httpCheckParams{Status: 200} }
func (httpCheckKind) NewResult() any       { return &httpCheckResult{} }
func (httpCheckKind) Validate(p any) []steps.FieldError {
	if p.(*httpCheckParams).URL == "" {
		return []steps.FieldError{{Field: "url", Msg: "give the URL to probe"}}
	}
	return nil
}
func (httpCheckKind) Describe(p any) steps.Description {
	return steps.Description{Action: "GET " + p.(*httpCheckParams).URL}
}
func (httpCheckKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, errors.New("test fake: never executed")
}

// guestExecParams mirror ssh.exec: Command is a remote shell command, so
// the loader must shell-quote what is interpolated into it.
type guestExecParams struct {
	Guest   string `yaml:"guest" drbook:"guest"`
	Command string `yaml:"command" drbook:"shell"`
	Note    string `yaml:"note"`
}

type guestExecResult struct {
	ExitCode int      `json:"exit_code" expr:"exit_code"`
	Stdout   string   `json:"stdout" expr:"stdout"`
	Lines    []string `json:"lines" expr:"lines"`
}

type guestExecKind struct{}

var _ steps.Kind = guestExecKind{}

func (guestExecKind) Name() string         { return "ssh.exec" }
func (guestExecKind) Summary() string      { return "run a command on a guest (test fake)" }
func (guestExecKind) Traits() steps.Traits { return steps.Traits{ChangesState: true} }
func (guestExecKind) NewParams() any       { return &guestExecParams{} }
func (guestExecKind) NewResult() any       { return &guestExecResult{} }
func (guestExecKind) Validate(p any) []steps.FieldError {
	if p.(*guestExecParams).Command == "" {
		return []steps.FieldError{{Field: "command", Msg: "give the command to run"}}
	}
	return nil
}
func (guestExecKind) Describe(p any) steps.Description {
	gp := p.(*guestExecParams)
	return steps.Description{Action: "run on " + gp.Guest, Command: gp.Command}
}
func (guestExecKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, errors.New("test fake: never executed")
}

// fanParams hold a list, a number and a flag, to show that a whole-value
// interpolation keeps its type.
type fanParams struct {
	Hosts   []string         `yaml:"hosts"`
	Count   int              `yaml:"count"`
	Enabled bool             `yaml:"enabled"`
	Pause   journal.Duration `yaml:"pause"`
}

type fanResult struct {
	Seen []string `json:"seen" expr:"seen"`
}

type fanKind struct{}

var _ steps.Kind = fanKind{}

func (fanKind) Name() string         { return "test.fan" }
func (fanKind) Summary() string      { return "hold typed values (test fake)" }
func (fanKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (fanKind) NewParams() any       { return &fanParams{} }
func (fanKind) NewResult() any       { return &fanResult{} }
func (fanKind) Validate(p any) []steps.FieldError {
	if c := p.(*fanParams).Count; c < 0 {
		return []steps.FieldError{{Field: "count", Msg: fmt.Sprintf("count %d must not be negative", c)}}
	}
	return nil
}
func (fanKind) Describe(p any) steps.Description {
	return steps.Description{Action: fmt.Sprintf("fan over %v", p.(*fanParams).Hosts)}
}
func (fanKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, errors.New("test fake: never executed")
}
