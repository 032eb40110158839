// Package runbooks turns runbook and site YAML into a typed, validated
// model. Every problem is collected with its file:line:col and reported
// together; every step kind's parameters are decoded strictly into the
// kind's own struct, and every expression is compiled and type-checked
// against what it can see, so that a typo fails `validate`, not the drill.
package runbooks

import (
	"reflect"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// Runbook is a loaded and validated runbook.
type Runbook struct {
	Path    string
	SHA256  string
	Source  []byte
	Name    string
	Title   journal.Text
	Summary journal.Text
	Owner   string
	Version string
	// SitePath is the site file the runbook names, relative to the runbook.
	SitePath string
	RTO      time.Duration
	Params   []*Param
	// Values are the parameters' values for this load (defaults and --var).
	Values    map[string]any
	Monitors  []*Monitor
	Steps     []*Step
	OnFailure []*Step
	Finally   []*Step
	Labels    map[string]string

	// Site is the site the runbook was loaded against.
	Site *site.Site
	// SiteSHA256 is the site file's hash ("" for the lab or no site).
	SiteSHA256 string
	// SiteFile is the absolute path of the site file loaded ("" for the
	// lab or no site).
	SiteFile string

	scope *scope
}

// Blocks of steps.
const (
	BlockSteps     = "steps"
	BlockOnFailure = "on_failure"
	BlockFinally   = "finally"
)

// Param is a declared runbook parameter.
type Param struct {
	Name        string
	Type        string // string, int, bool, duration, list, host, guest
	Default     any
	HasDefault  bool
	Description journal.Text
	Pos         Pos
	badDefault  bool
	// defaultPos is where the default value is written.
	defaultPos Pos
}

// Monitor is a background probe declared by the runbook.
type Monitor struct {
	Name     string
	KindName string
	Kind     steps.Kind
	Node     *yaml.Node
	Every    time.Duration
	Pos      Pos
	// Params holds the parameters decoded at load time.
	Params any
}

// Retry is a step's retry policy.
type Retry struct {
	Attempts int
	Delay    time.Duration
	Backoff  float64
	MaxDelay time.Duration
}

// Until polls a step until a condition over its result holds.
type Until struct {
	Cond     *Expr
	Interval time.Duration
	// Within bounds the whole polling; Attempts bounds the count; either
	// may be zero but not both.
	Within   time.Duration
	Attempts int
}

// Step is one declared step.
type Step struct {
	ID string
	// AutoID is set when the id was derived from the position.
	AutoID bool
	// Name is the step's title; an interpolation that reads only params
	// and site is rendered into it at load time.
	Name journal.Text
	// nameTemplates are the name's interpolations that read run-time
	// values (item, steps.…), rendered by StepName.
	nameTemplates nameTemplates
	Block         string
	Pos           Pos

	// KindName and Kind are empty for a parallel group.
	KindName string
	Kind     steps.Kind
	// ParamsNode is the kind's parameter YAML, interpolated at run time.
	ParamsNode *yaml.Node
	// Params is the load-time decoding, valid when Static is true.
	Params any
	// Static is true when the parameters contain no expression whose
	// value is known only at run time.
	Static bool
	// Templates are the interpolations inside ParamsNode, by node.
	Templates map[*yaml.Node]*Template

	When            *Expr
	Timeout         time.Duration
	Retry           *Retry
	Until           *Until
	Register        string
	ContinueOnError bool
	Confirm         bool
	Expect          time.Duration
	Disruptive      bool
	Recovery        bool

	// Parallel holds a group's children; Concurrency limits them (and
	// for_each instances); 0 means no limit.
	Parallel    []*Step
	Concurrency int
	ForEach     *ForEach

	scope *stepScope
	// kindPos is where the kind's name is written.
	kindPos Pos
}

// ForEach fans a step out over a list.
type ForEach struct {
	// Items is an expression yielding a list, or nil when List is set.
	Items *Expr
	List  []any
	As    string
}

// Pos is a position in a source file.
type Pos struct {
	File   string
	Line   int
	Column int
}

func posOf(file string, n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: n.Line, Column: n.Column}
}

// AllSteps returns every step in execution order of declaration,
// including parallel children.
func (rb *Runbook) AllSteps() []*Step {
	var out []*Step
	var walk func([]*Step)
	walk = func(list []*Step) {
		for _, s := range list {
			out = append(out, s)
			walk(s.Parallel)
		}
	}
	walk(rb.Steps)
	walk(rb.OnFailure)
	walk(rb.Finally)
	return out
}

// ResultType returns the Go type of a step's result (a pointer to struct),
// or nil for a group.
func (s *Step) ResultType() reflect.Type {
	if s.Kind == nil {
		return nil
	}
	return reflect.TypeOf(s.Kind.NewResult())
}
