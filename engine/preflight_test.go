package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// fileMake is a test kind that declares it creates a file on a guest.
type fileMake struct{}

type fileParams struct {
	Guest string `yaml:"guest"`
	Path  string `yaml:"path"`
}

type fileResult struct {
	Path string `json:"path" expr:"path"`
}

func (fileMake) Name() string                    { return "file.make" }
func (fileMake) Summary() string                 { return "makes a file" }
func (fileMake) Traits() steps.Traits            { return steps.Traits{ChangesState: true} }
func (fileMake) NewParams() any                  { return &fileParams{} }
func (fileMake) NewResult() any                  { return &fileResult{} }
func (fileMake) Validate(any) []steps.FieldError { return nil }
func (fileMake) Describe(p any) steps.Description {
	return steps.Description{Action: "make", Target: p.(*fileParams).Guest}
}
func (fileMake) Execute(_ context.Context, _ steps.Runtime, p any) (any, error) {
	return &fileResult{Path: p.(*fileParams).Path}, nil
}
func (fileMake) Produces(p any) []steps.Product {
	fp := p.(*fileParams)
	return []steps.Product{{Guest: fp.Guest, Path: fp.Path}}
}

// fileNeed is a test kind whose preflight requires a file that exists on
// the guest now (only /etc/hosts does) or that an earlier step produces.
type fileNeed struct{ fileMake }

func (fileNeed) Name() string { return "file.need" }
func (fileNeed) Preflight(_ context.Context, rt steps.Runtime, p any) error {
	fp := p.(*fileParams)
	if by, ok := steps.ProducedBy(rt, fp.Guest, fp.Path); ok {
		rt.Note("info", fmt.Sprintf("%s: produced by step %s", fp.Path, by))
		return nil
	}
	if fp.Path != "/etc/hosts" {
		return fmt.Errorf("%s: %s: file does not exist", fp.Guest, fp.Path)
	}
	return nil
}

func checkByStep(rep *engine.PreflightReport) map[string]engine.Check {
	out := map[string]engine.Check{}
	for _, c := range rep.Checks {
		out[c.Step] = c
	}
	return out
}

// TestPreflightJudgesTheRunThatWillHappen: an input an earlier step
// creates (declared, or computed from its result) is not an error for
// being absent now, and the check says which step produces it; a step
// whose when: is false before the run is shown skipped, not checked; a
// real typo still fails, and the report's error names it.
func TestPreflightJudgesTheRunThatWillHappen(t *testing.T) {
	f := newFixture(t)
	f.reg = steps.NewRegistry(append(control.Kinds(), fileMake{}, fileNeed{})...)
	rb := f.load(`
name: t
params: {extra: {type: bool, default: false}}
steps:
  - id: fetch
    file.make: {guest: b, path: /root/x.tgz}
  - id: use
    file.need: {guest: b, path: /root/x.tgz}
  - id: elsewhere
    file.need: {guest: a, path: /root/x.tgz}
  - id: use_result
    file.need: {guest: b, path: "${{ steps.fetch.result.path }}"}
  - id: optional
    when: params.extra
    file.need: {guest: b, path: /nope}
  - id: fine
    file.need: {guest: b, path: /etc/hosts}
  - id: typo
    file.need: {guest: b, path: /etc/hostss}
`)
	rep := engine.Preflight(context.Background(), rb, f.config())
	got := checkByStep(rep)
	for id, want := range map[string]struct{ result, detail string }{
		"use":        {engine.CheckOK, "/root/x.tgz: produced by step fetch"},
		"elsewhere":  {engine.CheckFailed, "a: /root/x.tgz: file does not exist"},
		"use_result": {engine.CheckOK, "produced by step fetch"},
		"optional":   {engine.CheckSkipped, "when: params.extra is false"},
		"fine":       {engine.CheckOK, ""},
		"typo":       {engine.CheckFailed, "/etc/hostss: file does not exist"},
		"fetch":      {engine.CheckNotChecked, "nothing to check"},
	} {
		c := got[id]
		if c.Result != want.result || !strings.Contains(c.Detail, want.detail) {
			t.Errorf("%s: %s %q, want %s with %q", id, c.Result, c.Detail, want.result, want.detail)
		}
	}
	if got["typo"].Hint == "" {
		t.Error("a failed check must say how to fix it")
	}
	err := rep.Err()
	if !errors.Is(err, engine.ErrPreflightFailed) || !strings.Contains(err.Error(), "2 check(s) failed:\n  elsewhere: a: /root/x.tgz: file does not exist\n  typo: b: /etc/hostss: file does not exist") {
		t.Errorf("the error %v should be ErrPreflightFailed naming elsewhere and typo", err)
	}
	if errors.Is(err, engine.ErrStepFailed) {
		t.Error("a failed preflight is not a failed run: nothing ran")
	}

	// With the parameter set, the optional step runs, so it is checked.
	f2 := newFixture(t)
	f2.reg = f.reg
	rb2 := f2.load(`
name: t
params: {extra: {type: bool, default: true}}
steps:
  - id: optional
    when: params.extra
    file.need: {guest: b, path: /nope}
`)
	if c := checkByStep(engine.Preflight(context.Background(), rb2, f2.config()))["optional"]; c.Result != engine.CheckFailed {
		t.Errorf("optional with extra=true: %s %q, want failed", c.Result, c.Detail)
	}
}

// TestPreflightLeavesRunTimeGuestsToTheRun: a step whose guest is an
// earlier step's result cannot be checked before the run; it is shown as
// not checked rather than failed (so run is not refused for it), and a
// for_each step is checked as each instance runs.
func TestPreflightLeavesRunTimeGuestsToTheRun(t *testing.T) {
	f := newFixture(t)
	f.reg = steps.NewRegistry(append(control.Kinds(), fileMake{}, fileNeed{})...)
	rb := f.load(`
name: t
steps:
  - id: fetch
    file.make: {guest: b, path: /etc/hosts}
  - id: on_result_guest
    file.need: {guest: "${{ steps.fetch.result.path }}", path: /nope}
  - id: each
    for_each: [/a, /b]
    file.need: {guest: b, path: "${{ item }}"}
`)
	rep := engine.Preflight(context.Background(), rb, f.config())
	got := checkByStep(rep)
	for _, id := range []string{"on_result_guest", "each"} {
		if c := got[id]; c.Result != engine.CheckNotChecked {
			t.Errorf("%s: %s %q, want not checked (its values come at run time)", id, c.Result, c.Detail)
		}
	}
	if err := rep.Err(); err != nil {
		t.Errorf("the preflight failed on values known only at run time: %v", err)
	}
}
