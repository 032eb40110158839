package engine

import (
	"context"
	"fmt"
	"io"
	pathpkg "path"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/i18n"
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
	Disruptive  bool
	// Dynamic is set when parameters depend on earlier results; the
	// description then shows those values unresolved.
	Dynamic  bool
	ForEach  string
	Children []PlannedStep
	// Skip is why the step will not run, when that is known before the
	// run (its when: condition is false); it is then not preflighted.
	Skip string
	// SkipZhTW is Skip in Traditional Chinese.
	SkipZhTW  string
	Preflight error
	// PreflightRan is true when the kind has a preflight and it ran.
	PreflightRan bool
	// Notes are what the preflight did not hold against the step, e.g.
	// an input produced by an earlier step.
	Notes []string
	// NotesZhTW are Notes in Traditional Chinese, note for note.
	NotesZhTW []string
	// DependsOn are the steps whose outcomes this step reads.
	DependsOn []string
}

// Plan resolves every step without running any, and with preflight runs
// each kind's read-only preflight against the run that will happen: a
// step whose when: is false before anything ran is shown skipped and not
// checked, and an input that an earlier step produces (a value computed
// from its result, or a file it declares it creates) is not an error for
// being absent now. Nothing is journaled and no state-changing call is
// made: Execute is never called, except a monitor's read-only probe.
func Plan(ctx context.Context, rb *runbooks.Runbook, cfg Config, preflight bool) ([]PlannedStep, []journal.Trust) {
	pr := &planRuntime{site: rb.Site, opts: cfg.Options, prompter: cfg.Prompter, started: time.Now(), shared: map[string]io.Closer{}}
	pr.opts.Plan = true
	pr.opts.Operator = cfg.OperatorName
	defer pr.close()
	env := rb.StaticEnv()
	var plan func(list []*runbooks.Step) []PlannedStep
	plan = func(list []*runbooks.Step) []PlannedStep {
		var out []PlannedStep
		for _, st := range list {
			p := PlannedStep{ID: st.ID, Block: st.Block, Kind: kindOf(st), Name: st.Name, Confirm: st.Confirm, Disruptive: st.Disruptive, DependsOn: st.StepRefs()}
			if st.When != nil {
				p.When = st.When.Source
				if !st.When.Dynamic {
					if ok, err := env.EvalBool(st.When, runbooks.Vars{}); err == nil && !ok {
						p.Skip, p.SkipZhTW = "when: "+st.When.Source+" is false", "執行條件 when: "+st.When.Source+" 不成立"
					}
				}
			}
			if st.ForEach != nil {
				if st.ForEach.Items != nil {
					p.ForEach = st.ForEach.Items.Source
				} else {
					p.ForEach = fmt.Sprint(st.ForEach.List)
				}
			}
			if st.Parallel != nil {
				if p.Skip == "" {
					p.Children = plan(st.Parallel)
				}
				out = append(out, p)
				continue
			}
			p.Traits = st.Kind.Traits()
			params, pending := rb.PreflightParams(st)
			p.Dynamic = !st.Static
			if params == nil && p.Dynamic {
				params = rb.PlaceholderParams(st)
				pending = nil
			}
			if params == nil {
				p.Description = steps.Description{Action: st.Kind.Summary() + " (parameters known only when earlier steps have run)"}
				out = append(out, p)
				continue
			}
			p.Description = st.Kind.Describe(params)
			if p.Skip != "" {
				out = append(out, p)
				continue
			}
			// A step whose values come from earlier results is checked with
			// those values pending (PreflightParams); one whose kind cannot
			// take them pending is checked when it runs.
			checkable := !p.Dynamic || pending != nil
			if pf, ok := st.Kind.(steps.Preflighter); ok && preflight && checkable {
				pr.begin(st.ID, pending)
				p.PreflightRan = true
				p.Preflight = pr.redacted(pf.Preflight(ctx, pr, params))
				p.Notes, p.NotesZhTW = pr.end()
				if p.Preflight != nil && p.Dynamic && strings.Contains(p.Preflight.Error(), "${{") {
					// It failed on a value an earlier step computes (a
					// guest named by a result): nothing to judge before
					// the run; the step checks it when it runs.
					p.PreflightRan, p.Preflight, p.Notes, p.NotesZhTW = false, nil, nil, nil
				}
			}
			if prod, ok := st.Kind.(steps.Producer); ok {
				pr.produce(st.ID, prod.Produces(params))
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
	// pending maps the ${{ }} text of the current step's run-time values
	// to the steps they read; products are what earlier steps create.
	pending  map[string][]string
	products []product
	notes    []string
	notesZh  []string

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
	return redactWith(p.Redact, err)
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
func (p *planRuntime) Note(_, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notes = append(p.notes, text)
	p.notesZh = append(p.notesZh, text)
}

// product is a steps.Product and the step that creates it.
type product struct {
	steps.Product
	step string
}

var _ steps.Planner = (*planRuntime)(nil)

func (p *planRuntime) begin(step string, pending map[string][]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.step, p.pending, p.notes, p.notesZh = step, pending, nil, nil
}

func (p *planRuntime) end() (notes, notesZhTW []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	notes, notesZhTW = p.notes, p.notesZh
	p.notes, p.notesZh, p.pending = nil, nil, nil
	return notes, notesZhTW
}

func (p *planRuntime) produce(step string, ps []steps.Product) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range ps {
		p.products = append(p.products, product{Product: x, step: step})
	}
}

// ProducedBy answers a preflight: a value computed from an earlier step's
// result is that step's; a path is the latest earlier step's that
// creates it (or a tree holding it) on the same guest.
func (p *planRuntime) ProducedBy(guest, path string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if refs, ok := p.pending[path]; ok {
		if len(refs) == 0 {
			return "an earlier step", true
		}
		return strings.Join(refs, ", "), true
	}
	for i := len(p.products) - 1; i >= 0; i-- {
		x := p.products[i]
		if x.Guest != guest {
			continue
		}
		if x.Path == path || (x.Tree && underPath(path, x.Path)) {
			return x.step, true
		}
	}
	return "", false
}

// underPath reports whether path is dir or below it.
func underPath(path, dir string) bool {
	path, dir = pathpkg.Clean(path), pathpkg.Clean(dir)
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+"/")
}
func (p *planRuntime) Artifact(name string, r io.Reader) (journal.Artifact, error) {
	return journal.Artifact{}, i18n.New("plan stores no artifacts", "plan 不儲存附件")
}
func (p *planRuntime) Progress(string, ...any)   {}
func (p *planRuntime) ProgressText(journal.Text) {}

// NoteText keeps a preflight note in both languages.
func (p *planRuntime) NoteText(_ string, t journal.Text) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notes = append(p.notes, t.In("en"))
	p.notesZh = append(p.notesZh, t.In("zh-TW"))
}
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
