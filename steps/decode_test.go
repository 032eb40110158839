package steps_test

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

type decodeParams struct {
	Count  int              `yaml:"count"`
	Pause  journal.Duration `yaml:"pause"`
	Names  []string         `yaml:"names"`
	Nested struct {
		On bool `yaml:"on"`
	} `yaml:"nested"`
}

// TestEveryBadValueAtItsValue: yaml.v3 stops at the first bad value and
// places a custom unmarshaler's error (a duration) at the whole mapping;
// DecodeParams names each bad value, at the value, in words.
func TestEveryBadValueAtItsValue(t *testing.T) {
	src := "count: many\npause: soon\nnames: {a: b}\nnested:\n  on: maybe\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	kind := fakeKind{params: func() any { return &decodeParams{} }}
	_, errs := steps.DecodeParams(kind, doc.Content[0])
	want := []struct {
		line, col int
		msg       string
	}{
		{1, 8, "count: `many` must be a whole number"},
		{2, 8, `pause: "soon" is not a duration`},
		{3, 8, "names: expected a list of text, found a mapping"},
		{5, 7, "nested.on: `maybe` must be true or false"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for i, w := range want {
		e := errs[i]
		if e.Line != w.line || e.Column != w.col || !strings.HasPrefix(e.Msg, w.msg) {
			t.Errorf("error %d = %d:%d %q, want %d:%d %q", i, e.Line, e.Column, e.Msg, w.line, w.col, w.msg)
		}
	}
}

// TestNoGoTypeNames: a kind whose parameters decode through a private
// type (control's `type plain`) must not name it.
func TestNoGoTypeNames(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("true\n"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range control.Kinds() {
		if k.Name() != "wait" {
			continue
		}
		_, errs := steps.DecodeParams(k, doc.Content[0])
		if len(errs) != 1 || strings.Contains(errs[0].Msg, "plain") || strings.Contains(errs[0].Msg, "control.") {
			t.Fatalf("errors = %v; want one, without Go type names", errs)
		}
	}
}

// fakeKind is a kind with the given parameters and nothing else.
type fakeKind struct{ params func() any }

func (fakeKind) Name() string                    { return "test.fake" }
func (fakeKind) Summary() string                 { return "a fake for decoding tests" }
func (fakeKind) Traits() steps.Traits            { return steps.Traits{} }
func (k fakeKind) NewParams() any                { return k.params() }
func (fakeKind) NewResult() any                  { return &struct{}{} }
func (fakeKind) Validate(any) []steps.FieldError { return nil }
func (fakeKind) Describe(any) steps.Description  { return steps.Description{} }
func (fakeKind) Execute(context.Context, steps.Runtime, any) (any, error) {
	return nil, nil
}
