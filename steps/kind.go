// Package steps defines what a step kind is: the one interface that carries
// a kind's whole contract (its typed parameters and their validation, how it
// describes itself for `plan`, how it executes, whether it is idempotent and
// whether it changes state), the runtime a kind receives from the engine, and
// the registry that maps names to kinds.
//
// Kinds live in sub-packages by family (control, check, ssh, vcenter); the
// registry of all of them is built in one place, steps/all. A kind never
// imports the engine: it receives what it needs through Runtime.
package steps

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
)

// Kind is a named, typed step implementation.
type Kind interface {
	// Name is the key a runbook uses, e.g. "vcenter.host.shutdown".
	Name() string
	// Summary is one line saying what the kind does, for `plan`, the schema
	// and error hints.
	Summary() string
	// Traits declares how the kind may be run, planned and resumed.
	Traits() Traits
	// NewParams returns a pointer to a new parameter struct holding the
	// kind's defaults. The loader decodes the step's YAML into it strictly:
	// an unknown field is an error. Fields carry `yaml` tags.
	NewParams() any
	// NewResult returns a pointer to a zero result struct. Its type is what
	// expressions over steps.<id>.result are checked against; its fields
	// carry `json` and `expr` tags with the same snake_case names.
	NewResult() any
	// Validate checks decoded parameters beyond their types and returns every
	// problem found. It must not contact anything.
	Validate(params any) []FieldError
	// Describe says what Execute would do with these parameters, for `plan`
	// and for the confirmation prompt. It must not contact anything.
	Describe(params any) Description
	// Execute performs the step and returns its result (a pointer of the
	// type NewResult returns; nil is allowed on error). It must return
	// promptly once ctx is done.
	Execute(ctx context.Context, rt Runtime, params any) (any, error)
}

// Preflighter is implemented by kinds that can check, read-only, that a run
// has what it needs (logins, objects exist, keys pinned). `plan` calls it.
type Preflighter interface {
	Preflight(ctx context.Context, rt Runtime, params any) error
}

// Traits declares a kind's safety properties.
type Traits struct {
	// Idempotent kinds may be re-run by `resume` when they were started but
	// not finished.
	Idempotent bool
	// ChangesState kinds alter a host, a guest or the site; `plan` never
	// executes them, and guided mode shows them as such.
	ChangesState bool
	// Human kinds wait for a person; their time counts as human wait time.
	Human bool
}

// FieldError is a problem with one parameter. Field is the YAML key path
// below the kind's mapping, e.g. "within" or "edits[2].pattern"; the loader
// turns it into file:line:col.
type FieldError struct {
	Field string
	Msg   string
	// MsgZhTW is Msg in Traditional Chinese; when empty, `drbook --lang
	// zh-TW validate` shows Msg.
	MsgZhTW string
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// Description is what a step would do, resolved.
type Description struct {
	// Action is one sentence, e.g. "shut down host esx-68 (force)".
	Action string
	// ActionZhTW is Action in Traditional Chinese ("將主機 esx-68 關機（強制）"),
	// shown by plan, the prompts and the zh-TW report. Every kind gives
	// it: TestEveryKindDescribesItselfInBothLanguages in steps/all fails
	// a kind whose example describes itself in English only.
	ActionZhTW string
	// Target names what the step acts on, e.g. "esx-68" or "ap01 (10.0.0.65)".
	Target string
	// Command is the exact remote or local command, when there is one.
	Command string
}

// ActionIn returns the action in lang ("en" or "zh-TW").
func (d Description) ActionIn(lang string) string {
	return journal.Text{EN: d.Action, ZhTW: d.ActionZhTW}.In(lang)
}

// Runtime is what the engine gives a kind while it executes. It is safe for
// concurrent use by parallel steps.
type Runtime interface {
	// StepID is the id of the running step instance.
	StepID() string
	// Site is the site the run targets; never nil.
	Site() *site.Site
	// Options are the run's settings that kinds honour.
	Options() Options
	// Secret resolves a secret reference and registers the value so that it
	// is scrubbed from everything the run writes.
	Secret(ref site.SecretRef, label string) (string, error)
	// Redact hides the run's secrets in text. The journal does it for
	// everything it records, but a kind that shortens text first (output
	// cut at output_cap) must redact before cutting: half a secret is no
	// longer recognised. CapText does both.
	Redact(text string) string
	// Shared returns the run-wide resource stored under key, creating it with
	// open on first use (e.g. the vCenter session, one SSH connection per
	// guest). Resources are closed when the run ends.
	Shared(key string, open func() (io.Closer, error)) (io.Closer, error)
	// Evidence attaches evidence to the step; it is journaled at once.
	Evidence(ev journal.Evidence)
	// Trust journals a host key or certificate the step relied on.
	Trust(t journal.Trust)
	// Note journals a line of text.
	Note(level, text string)
	// Artifact stores data as a file in the run's artifacts folder and
	// journals its name, size and SHA-256.
	Artifact(name string, r io.Reader) (journal.Artifact, error)
	// Progress reports a transient status line for the live view; it is not
	// journaled.
	Progress(format string, args ...any)
	// Ask asks the operator to confirm or enter values (guided mode). It
	// returns ErrNoOperator when nobody is at the terminal.
	Ask(ctx context.Context, q Question) (Answer, error)
	// RunStarted is when the run began, for windows such as vCenter events.
	RunStarted() time.Time
}

// Ledger is implemented by the engine's step runtime: it reads back the
// evidence the run's steps have journaled, in every session of the run (a
// resumed run sees what the sessions before it recorded). A kind that
// must act only on what this run did asks it: vcenter.vm.destroy destroys
// only a VM whose creation vcenter.vm.clone journaled. A runtime without
// it (plan, preflight) has recorded nothing.
type Ledger interface {
	// Recorded returns the evidence journaled so far, oldest first.
	Recorded() []RecordedEvidence
}

// RecordedEvidence is one piece of journaled evidence and the step
// instance that journaled it.
type RecordedEvidence struct {
	Step     string
	Evidence journal.Evidence
}

// Recorded returns what rt's run has journaled as evidence, or nil when
// rt cannot tell (it is not a Ledger).
func Recorded(rt Runtime) []RecordedEvidence {
	if l, ok := rt.(Ledger); ok {
		return l.Recorded()
	}
	return nil
}

// Options are run settings that kinds honour.
type Options struct {
	// AcceptNew pins unknown host keys and certificates for this run and
	// journals them, instead of refusing.
	AcceptNew bool
	// KnownHosts is the known_hosts file consulted for SSH host keys.
	KnownHosts string
	// Plan is true when nothing may change (plan and preflight).
	Plan bool
	// Lang is the operator's language, "en" or "zh-TW".
	Lang string
	// Operator is who runs the drill.
	Operator string
}

// Question is something a kind asks a person.
type Question struct {
	Text      journal.Text
	Checklist []journal.Text
	Inputs    []Input
}

// Input is a typed value a person enters.
type Input struct {
	Name     string
	Label    journal.Text
	Type     string // string, int, duration, bool
	Required bool
}

// Answer is the person's reply.
type Answer struct {
	Who    string
	Done   bool
	Inputs map[string]any
	// Checked holds, for each item of the question's checklist in order,
	// when the person confirmed it (zero: not confirmed). A manual step is
	// done only when every item was confirmed.
	Checked []time.Time
}

// ErrNoOperator is returned by Ask when the run is unattended.
var ErrNoOperator = i18n.New("this step needs an operator, but the run is unattended (run it in a terminal without --yes, or mark it done with `drbook resume --only`)", "此步驟需要操作人員，但本次為無人值守執行（請於終端機中不加 --yes 執行，或以 `drbook resume --only` 標示為已完成）")

// Registry maps kind names to kinds.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry builds a registry; it panics on a duplicate name, which is a
// programming error.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: map[string]Kind{}}
	for _, k := range kinds {
		if _, dup := r.kinds[k.Name()]; dup {
			panic("steps: duplicate kind " + k.Name())
		}
		r.kinds[k.Name()] = k
	}
	return r
}

// Lookup returns the kind with the given name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names returns every kind name, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Fieldf is a FieldError worded in both languages: en and zhTW formatted
// over the same args, like fmt.Sprintf (an error argument made with package
// i18n is put in the Chinese text in Chinese).
func Fieldf(field, en, zhTW string, args ...any) FieldError {
	zargs := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok {
			zargs[i] = i18n.In(err, "zh-TW")
		} else {
			zargs[i] = a
		}
	}
	return FieldError{Field: field, Msg: fmt.Sprintf(en, args...), MsgZhTW: fmt.Sprintf(zhTW, zargs...)}
}
