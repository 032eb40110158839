package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// PlannedStep is one line of `drbook plan`.
type PlannedStep struct {
	ID          string
	Block       string
	Kind        string
	Name        journal.Text
	Description steps.Description
	Traits      steps.Traits
	When        string
	Confirm     bool
	// Dynamic is set when parameters depend on earlier results; the
	// description then shows them unresolved.
	Dynamic   bool
	ForEach   string
	Children  []PlannedStep
	Preflight error
	// PreflightRan is true when the kind has a preflight and it ran.
	PreflightRan bool
}

// Plan resolves every step without running any, and with preflight runs
// each kind's read-only preflight. Nothing is journaled and no
// state-changing call is made: Execute is never called.
func Plan(ctx context.Context, rb *runbooks.Runbook, cfg Config, preflight bool) ([]PlannedStep, []journal.Trust) {
	pr := &planRuntime{site: rb.Site, opts: cfg.Options, prompter: cfg.Prompter, started: time.Now(), shared: map[string]io.Closer{}}
	pr.opts.Plan = true
	pr.opts.Operator = cfg.OperatorName
	defer pr.close()
	var plan func(list []*runbooks.Step) []PlannedStep
	plan = func(list []*runbooks.Step) []PlannedStep {
		var out []PlannedStep
		for _, st := range list {
			p := PlannedStep{ID: st.ID, Block: st.Block, Kind: kindOf(st), Name: st.Name, Confirm: st.Confirm}
			if st.When != nil {
				p.When = st.When.Source
			}
			if st.ForEach != nil {
				if st.ForEach.Items != nil {
					p.ForEach = st.ForEach.Items.Source
				} else {
					p.ForEach = fmt.Sprint(st.ForEach.List)
				}
			}
			if st.Parallel != nil {
				p.Children = plan(st.Parallel)
				out = append(out, p)
				continue
			}
			p.Traits = st.Kind.Traits()
			params := st.Params
			if params == nil {
				p.Dynamic = true
				params = rb.PlaceholderParams(st)
			}
			if params != nil {
				p.Description = st.Kind.Describe(params)
				if pf, ok := st.Kind.(steps.Preflighter); ok && preflight && !p.Dynamic {
					pr.step = st.ID
					p.PreflightRan = true
					p.Preflight = pr.redacted(pf.Preflight(ctx, pr, params))
				}
			} else {
				p.Description = steps.Description{Action: st.Kind.Summary() + " (parameters known only when earlier steps have run)"}
			}
			out = append(out, p)
		}
		return out
	}
	var all []PlannedStep
	all = append(all, plan(rb.Steps)...)
	all = append(all, plan(rb.OnFailure)...)
	all = append(all, plan(rb.Finally)...)
	return all, pr.trusts
}

// planRuntime serves preflights: read-only, nothing journaled.
type planRuntime struct {
	site     *site.Site
	opts     steps.Options
	prompter site.Prompter
	started  time.Time
	step     string

	mu      sync.Mutex
	secrets []string
	shared  map[string]io.Closer
	order   []string
	trusts  []journal.Trust
}

func (p *planRuntime) StepID() string         { return p.step }
func (p *planRuntime) Site() *site.Site       { return p.site }
func (p *planRuntime) Options() steps.Options { return p.opts }
func (p *planRuntime) RunStarted() time.Time  { return p.started }
func (p *planRuntime) Secret(ref site.SecretRef, label string) (string, error) {
	v, err := ref.Resolve(label, p.prompter)
	if err == nil && v != "" {
		p.mu.Lock()
		p.secrets = append(p.secrets, v)
		p.mu.Unlock()
	}
	return v, err
}

// Redact hides the secrets preflights resolved: plan prints what they
// report, often into a ticket or a CI log.
func (p *planRuntime) Redact(text string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.secrets {
		text = strings.ReplaceAll(text, s, journal.Redacted)
	}
	return text
}

// redacted is err with the secrets hidden in its message.
func (p *planRuntime) redacted(err error) error {
	if err == nil {
		return nil
	}
	if msg := p.Redact(err.Error()); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}
func (p *planRuntime) Shared(key string, open func() (io.Closer, error)) (io.Closer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.shared[key]; ok {
		return c, nil
	}
	c, err := open()
	if err != nil {
		return nil, err
	}
	p.shared[key] = c
	p.order = append(p.order, key)
	return c, nil
}
func (p *planRuntime) Evidence(journal.Evidence) {}
func (p *planRuntime) Trust(t journal.Trust) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trusts = append(p.trusts, t)
}
func (p *planRuntime) Note(string, string) {}
func (p *planRuntime) Artifact(name string, r io.Reader) (journal.Artifact, error) {
	return journal.Artifact{}, fmt.Errorf("plan stores no artifacts")
}
func (p *planRuntime) Progress(string, ...any) {}
func (p *planRuntime) Ask(context.Context, steps.Question) (steps.Answer, error) {
	return steps.Answer{}, steps.ErrNoOperator
}

func (p *planRuntime) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.order) - 1; i >= 0; i-- {
		p.shared[p.order[i]].Close()
	}
}
