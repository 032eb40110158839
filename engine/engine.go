// Package engine runs a validated runbook: steps in order with their
// conditions, timeouts, retries, polling, fan-out, on_failure and finally
// blocks, monitors in the background, and every happening recorded in the
// run's durable journal before the next one begins. It also resumes an
// interrupted run from its journal without re-running finished steps.
//
// The engine knows step kinds only through steps.Kind; it never imports a
// report renderer or the lab.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// Errors that decide the exit code (see cmd/drbook).
var (
	// ErrStepFailed means the drill failed: a step failed and the run
	// went on to on_failure and finally.
	ErrStepFailed = i18n.New("the run failed", "演練失敗")
	// ErrAborted means the operator aborted the run.
	ErrAborted = i18n.New("aborted by the operator", "操作人員已中止演練")
	// ErrInterrupted means the run was cancelled (Ctrl-C); resume it.
	ErrInterrupted = i18n.New("interrupted", "執行中斷")
	// ErrNeedsDecision means resume met a step that was interrupted while
	// running and cannot safely be run again without the operator.
	ErrNeedsDecision = i18n.New("an interrupted step needs the operator's decision", "執行中斷之步驟須由操作人員決定")
)

// Observer follows a run: the live view and plain progress lines subscribe
// here. Calls may come from several goroutines.
type Observer interface {
	// Event is called after each event is durably journaled.
	Event(ev journal.Event)
	// Progress is a transient status line from a running step.
	Progress(step, text string)
}

// Decision is what the operator chose before or after a step.
type Decision struct {
	Action string // run, skip, done, abort, retry, fail
	Reason string
	// ReasonZhTW is Reason in Traditional Chinese when drbook wrote it.
	ReasonZhTW string
	Who        string
	// At is when the operator said a step was done by hand; the step is
	// dated then (and, if disruptive, the RTO clock starts then).
	At time.Time
}

// Operator makes the decisions a person makes. Unattended runs use
// Unattended.
type Operator interface {
	// Confirm is asked before a step marked confirm: true (or every step
	// in step-by-step mode).
	Confirm(ctx context.Context, st StepInfo) (Decision, error)
	// Failed is asked after a step failed: retry, skip or abort, or fail
	// to let the runbook's own policy decide.
	Failed(ctx context.Context, st StepInfo, err error) (Decision, error)
	// Ask serves manual steps.
	Ask(ctx context.Context, st StepInfo, q steps.Question) (steps.Answer, error)
}

// StepInfo describes a step to the operator.
type StepInfo struct {
	ID          string
	Name        journal.Text
	Kind        string
	Description steps.Description
	Traits      steps.Traits
	Attempt     int
	// Disruptive is the step's disruptive: flag; Affects lists what it
	// will take down (its target, the VMs an earlier step recorded
	// there, the monitors that will see it).
	Disruptive bool
	Affects    []string
}

// Unattended is the operator of a --yes run: confirmations are granted
// (and journaled as such), failures follow the runbook's policy, and
// manual steps cannot be done.
type Unattended struct{ Who string }

// Confirm grants the step.
func (u Unattended) Confirm(context.Context, StepInfo) (Decision, error) {
	return Decision{Action: "run", Reason: "--yes", Who: u.Who}, nil
}

// Failed lets the runbook decide.
func (u Unattended) Failed(context.Context, StepInfo, error) (Decision, error) {
	return Decision{Action: "fail", Who: u.Who}, nil
}

// Ask refuses: nobody is there.
func (u Unattended) Ask(context.Context, StepInfo, steps.Question) (steps.Answer, error) {
	return steps.Answer{}, steps.ErrNoOperator
}

// Config is everything a run needs besides the runbook.
type Config struct {
	Registry *steps.Registry
	// RunsDir is where a new run directory is made.
	RunsDir string
	// Operator's name, machine name, mode (lab, drill, recovery).
	OperatorName string
	Machine      string
	Mode         string
	Version      string
	Options      steps.Options
	Operator     Operator
	Observer     Observer
	// StepByStep asks before every step, not only those marked confirm.
	StepByStep bool
	// RerunInterrupted lets resume run again a step that was interrupted
	// although its kind is not idempotent (the operator checked it).
	RerunInterrupted bool
	// Prompter serves secret references of the `prompt` kind.
	Prompter site.Prompter
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// NoSync skips fsync (benchmarks comparing its cost only).
	NoSync bool
	// Labels are added to the run's labels (e.g. the lab's time scale).
	Labels map[string]string
	// Steering, when set, lets the operator pause the run or stop the
	// running step from outside the prompts (guided mode's Ctrl-C).
	Steering *Steering
	// RunDir, when set, is the new run's directory instead of one named
	// by RunDirName under RunsDir: a caller that must put files in it
	// before the run starts (the lab's guests) chooses it. It may exist
	// but must not hold a journal.
	RunDir string
	// BaselineWait bounds how long a disruptive step waits for every
	// monitor to be up before it is refused; 0 means 20 probe intervals
	// of the slowest monitor, at least 10 s.
	BaselineWait time.Duration
	// Preflight is the preflight that ran before the run (journaled as
	// passed, with its checks as evidence), or nil when the operator
	// skipped it (--no-preflight, journaled as skipped).
	Preflight *PreflightReport
	// BeforeFinish, when set, is called after a step instance's work and
	// before its finish is journaled: the lab saves its state there, so
	// that a crash never leaves a journal newer than the saved world.
	BeforeFinish func(step string)
}

// Result is how a run ended.
type Result struct {
	RunDir string
	RunID  string
	// Outcome is passed, failed, aborted or interrupted.
	Outcome string
	Err     error
	Head    string
}

// RunDirName is the directory name of a new run: UTC time and runbook name.
func RunDirName(t time.Time, name string) string {
	return t.UTC().Format("20060102T150405Z") + "-" + name
}

// Start creates the run directory and journal for rb and runs it.
func Start(ctx context.Context, rb *runbooks.Runbook, cfg Config) (*Result, error) {
	r, err := begin(rb, cfg)
	if err != nil {
		return nil, err
	}
	return r.execute(ctx)
}

// begin creates the run directory and journal for rb and journals the
// run's start: everything Start does before the first step.
func begin(rb *runbooks.Runbook, cfg Config) (*run, error) {
	now := cfg.now()
	// Every secret first: one that is missing must stop the run before
	// anything changed, and each must be hidden from the first event on.
	secrets, err := resolveSecrets(rb.Site, cfg.Prompter)
	if err != nil {
		return nil, err
	}
	if cfg.RunsDir == "" {
		cfg.RunsDir = "runs"
	}
	id := RunDirName(now, rb.Name)
	dir := filepath.Join(cfg.RunsDir, id)
	if cfg.RunDir != "" {
		dir, id = cfg.RunDir, filepath.Base(cfg.RunDir)
		if _, err := os.Stat(filepath.Join(dir, journal.FileName)); err == nil {
			return nil, i18n.Errorf("%s already holds a run; continue it with `drbook resume %s`", "%s 已有一次執行；請以 `drbook resume %s` 續行", dir, dir)
		}
	}
	for i := 2; cfg.RunDir == ""; i++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			break
		}
		id = fmt.Sprintf("%s-%d", RunDirName(now, rb.Name), i)
		dir = filepath.Join(cfg.RunsDir, id)
	}
	// A run directory holds what guests printed and what the operator
	// typed: only its owner reads it.
	if err := os.MkdirAll(filepath.Join(dir, "artifacts"), 0o700); err != nil {
		return nil, i18n.Errorf("cannot create the run directory: %w (choose another with --runs-dir)", "無法建立執行目錄：%w（請以 --runs-dir 指定其他目錄）", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "runbook.yaml"), rb.Source, 0o600); err != nil {
		return nil, err
	}
	w, err := journal.Create(filepath.Join(dir, journal.FileName))
	if err != nil {
		return nil, err
	}
	w.NoSync = cfg.NoSync
	r := newRun(rb, cfg, w, dir, id, secrets)
	abs, _ := filepath.Abs(rb.Path)
	start := &journal.RunStart{
		Schema: journal.SchemaVersion, RunID: id, Runbook: rb.Name, RunbookPath: abs,
		RunbookSHA256: rb.SHA256, RunbookVer: rb.Version, Title: rb.Title,
		Site: rb.Site.Name, SitePath: rb.SiteFile, SiteSHA256: rb.SiteSHA256,
		DrbookVersion: cfg.Version, Operator: cfg.OperatorName, Machine: cfg.Machine, Mode: cfg.Mode,
		Params: journalParams(rb.Values), RTO: journal.Duration(rb.RTO), Labels: map[string]string{},
	}
	for k, v := range rb.Labels {
		start.Labels[k] = v
	}
	for k, v := range cfg.Labels {
		start.Labels[k] = v
	}
	for _, st := range rb.AllSteps() {
		start.Steps = append(start.Steps, journal.PlannedStep{ID: st.ID, Name: st.Name, Kind: kindOf(st), Block: st.Block,
			Expect: journal.Duration(st.Expect), Disruptive: st.Disruptive, Recovery: st.Recovery})
	}
	start.Preflight = "skipped"
	if cfg.Preflight != nil {
		start.Preflight = "passed"
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeRunStart, Time: now, RunStart: start}); err != nil {
		w.Close()
		return nil, err
	}
	if cfg.Preflight != nil {
		ev := cfg.Preflight.Evidence()
		if err := r.mustAppend(journal.Event{Type: journal.TypeEvidence, Evidence: &ev}); err != nil {
			w.Close()
			return nil, err
		}
	}
	return r, nil
}

func kindOf(st *runbooks.Step) string {
	if st.Kind == nil {
		return "parallel"
	}
	return st.KindName
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// run is one session of a run.
type run struct {
	rb      *runbooks.Runbook
	cfg     Config
	w       *journal.Writer
	dir     string
	id      string
	env     *runbooks.Env
	started time.Time
	// secrets are the run's resolved secrets, each registered with w.
	secrets *secretStore

	// mu guards shared, opening, order and interrupted: parallel
	// branches and fan-out instances use them from their own goroutines.
	mu      sync.Mutex
	shared  map[string]io.Closer
	opening map[string]chan struct{}
	order   []string

	// From the journal, when resuming. recorded is only read once the
	// blocks run; interrupted shrinks as its steps are decided.
	recorded    map[string]journal.StepFinish
	interrupted map[string]bool
	// mayStillRun holds the interrupted steps whose remote command was
	// not confirmed gone, with the error that said so.
	mayStillRun map[string]string
	// aborted is set by whichever branch the operator aborted.
	aborted atomic.Bool
	// only, when set by resume --only, is the steps this session may run.
	only map[string]bool
	// board is the monitors' last states and the disruption mark.
	board monitorBoard
	// skipDeps are steps the operator chose to skip as dependents of a
	// skipped step, with the reason; results are finished steps' results
	// (both guarded by mu).
	skipDeps map[string]journal.Text
	results  []any
	// evidence is every piece of evidence journaled in the run, earlier
	// sessions included, for kinds that read it (steps.Ledger); guarded
	// by mu.
	evidence []steps.RecordedEvidence
}

func newRun(rb *runbooks.Runbook, cfg Config, w *journal.Writer, dir, id string, secrets *secretStore) *run {
	for _, v := range secrets.all() {
		w.AddSecret(v)
	}
	if cfg.Operator == nil {
		cfg.Operator = Unattended{Who: cfg.OperatorName}
	}
	r := &run{rb: rb, cfg: cfg, w: w, dir: dir, id: id, env: rb.NewEnv(), started: cfg.now(), secrets: secrets,
		shared: map[string]io.Closer{}, opening: map[string]chan struct{}{}, recorded: map[string]journal.StepFinish{}, interrupted: map[string]bool{}}
	r.board.init()
	cfg.Steering.bind(r)
	return r
}

func (r *run) append(ev journal.Event) (journal.Event, error) {
	ev, err := r.w.Append(ev)
	if err != nil {
		return ev, err
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer.Event(ev)
	}
	return ev, nil
}

// mustAppend journals an event; a journal that cannot be written stops the
// run, because an unrecorded drill is worth nothing to an auditor.
func (r *run) mustAppend(ev journal.Event) error {
	_, err := r.append(ev)
	if err != nil {
		return i18n.Errorf("cannot write the journal, stopping so that nothing happens unrecorded: %w", "無法寫入紀錄檔，為免有未記錄之作業而停止：%w", err)
	}
	return nil
}

// execute runs the blocks and closes the session.
func (r *run) execute(ctx context.Context) (*Result, error) {
	mon := r.startMonitors(ctx)
	err := r.cfg.Steering.pausedAt(ctx, r.block(ctx, r.rb.Steps))
	if r.aborted.Load() && ctx.Err() == nil && !isFatal(err) && (err == nil || errors.Is(err, ErrInterrupted) || errors.Is(err, ErrNeedsDecision)) {
		// The operator aborted while a step ran (guided mode's second
		// Ctrl-C): one meaning of abort, as at a prompt.
		err = ErrAborted
	}
	failed := err != nil && !errors.Is(err, ErrInterrupted) && !errors.Is(err, ErrAborted) && !errors.Is(err, ErrNeedsDecision) && !isFatal(err)
	if failed && len(r.rb.OnFailure) > 0 && ctx.Err() == nil {
		if ferr := r.block(ctx, r.rb.OnFailure); ferr != nil && isFatal(ferr) {
			err = ferr
		}
	}
	if !errors.Is(err, ErrInterrupted) && ctx.Err() == nil && !isFatal(err) && !errors.Is(err, ErrNeedsDecision) {
		// finally runs after success, failure and abort: it is where the
		// host is powered back on. An interruption leaves it to resume.
		// After an abort a guided operator is asked first (the site may
		// need a person before the host comes back); unattended, it runs.
		if r.offerFinally(ctx, err) {
			if ferr := r.cfg.Steering.pausedAt(ctx, r.block(ctx, r.rb.Finally)); ferr != nil && (err == nil || errors.Is(ferr, ErrPaused)) {
				// A pause in finally wins over an earlier failure: the run
				// is not over until resume has run the rest of finally.
				err = ferr
			}
		}
	}
	mon.stop()
	if ctx.Err() != nil && err != nil && !errors.Is(err, ErrInterrupted) {
		err = i18n.Errorf("%w: %v", "%w：%v", ErrInterrupted, err)
	}
	outcome := "passed"
	switch {
	case err == nil:
	case errors.Is(err, ErrInterrupted):
		outcome = "interrupted"
	case errors.Is(err, ErrAborted):
		outcome = "aborted"
	case errors.Is(err, ErrNeedsDecision):
		outcome = "paused"
	default:
		outcome = "failed"
	}
	end := &journal.RunEnd{Result: outcome, Duration: journal.Duration(r.cfg.now().Sub(r.started))}
	if err != nil {
		t := i18n.TextOf(err)
		end.Error, end.ErrorZhTW = t.EN, t.ZhTW
	}
	jerr := r.mustAppend(journal.Event{Type: journal.TypeRunEnd, RunEnd: end})
	r.closeShared()
	res := &Result{RunDir: r.dir, RunID: r.id, Outcome: outcome, Head: r.w.Head()}
	if cerr := r.w.Close(); jerr == nil {
		jerr = cerr
	}
	if jerr != nil {
		return res, jerr
	}
	switch outcome {
	case "passed":
		return res, nil
	case "failed":
		res.Err = r.redacted(i18n.Errorf("%w: %v", "%w：%v", ErrStepFailed, err))
	default:
		res.Err = r.redacted(err)
	}
	return res, res.Err
}

// FinallyAsker is implemented by operators who are asked, after an abort,
// whether to run the finally steps (the recovery) now. An operator
// without it (an unattended run) runs them.
type FinallyAsker interface {
	RunFinally(ctx context.Context, finally []StepInfo) (bool, error)
}

// offerFinally says whether finally runs now. Only after an abort is the
// operator asked; a "no" is journaled, and the run ends aborted with its
// recovery pending (`drbook resume --only` runs it later).
func (r *run) offerFinally(ctx context.Context, err error) bool {
	asker, ok := r.cfg.Operator.(FinallyAsker)
	if !errors.Is(err, ErrAborted) || !ok || len(r.rb.Finally) == 0 {
		return true
	}
	infos := make([]StepInfo, 0, len(r.rb.Finally))
	for _, st := range r.rb.Finally {
		if _, done := r.recorded[st.ID]; done {
			continue
		}
		infos = append(infos, StepInfo{ID: st.ID, Name: st.Name, Kind: kindOf(st)})
	}
	if len(infos) == 0 {
		return true
	}
	yes, aerr := asker.RunFinally(ctx, infos)
	if aerr != nil || yes {
		return true
	}
	r.mustAppend(journal.Event{Type: journal.TypeDecision, Decision: &journal.Decision{Who: r.cfg.OperatorName, Action: "skip-finally",
		Reason: "the operator chose not to run the finally steps after aborting", ReasonZhTW: "操作人員於中止後選擇不執行收尾步驟"}})
	return false
}

// redacted hides the run's secrets in err's message, as the journal
// does, before the error leaves the engine for a prompt or the caller's
// output; errors.Is and errors.As still see the original.
func (r *run) redacted(err error) error {
	if err == nil {
		return nil
	}
	return redactWith(r.w.Scrub, err)
}

// redactWith is err with scrub applied to its text in both languages.
func redactWith(scrub func(string) string, err error) error {
	t := i18n.TextOf(err)
	en, zh := scrub(t.EN), scrub(t.ZhTW)
	switch {
	case en == t.EN && zh == t.ZhTW:
		return err
	case t.ZhTW != "":
		// In still finds the Chinese, hidden as the English is.
		return i18n.Wrap(journal.Text{EN: en, ZhTW: zh}, err)
	}
	return &redactedError{msg: en, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// fatalError wraps errors that must stop everything (the journal broke).
type fatalError struct{ error }

func (f fatalError) Unwrap() error { return f.error }

func isFatal(err error) bool {
	var f fatalError
	return errors.As(err, &f)
}

func (r *run) closeShared() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.order) - 1; i >= 0; i-- {
		r.shared[r.order[i]].Close()
	}
	r.shared = map[string]io.Closer{}
	r.order = nil
}

// sharedResource opens each run-wide resource once. The run's lock is not
// held while open runs, so that parallel steps connect to different hosts
// at the same time; callers for the same key wait for the first opener.
// A failed open is not kept: the next caller tries again.
func (r *run) sharedResource(key string, open func() (io.Closer, error)) (io.Closer, error) {
	for {
		r.mu.Lock()
		if c, ok := r.shared[key]; ok {
			r.mu.Unlock()
			return c, nil
		}
		if wait, busy := r.opening[key]; busy {
			r.mu.Unlock()
			<-wait
			continue
		}
		done := make(chan struct{})
		r.opening[key] = done
		r.mu.Unlock()

		c, err := open()

		r.mu.Lock()
		delete(r.opening, key)
		if err == nil {
			r.shared[key] = c
			r.order = append(r.order, key)
		}
		r.mu.Unlock()
		close(done)
		return c, err
	}
}

// stepFailed is a step's failure, kept apart from interruptions.
func stepFailed(id string, err error) error {
	return i18n.Errorf("step %s: %w", "步驟 %s：%w", id, err)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// journalParams writes parameter values as a person reads them: a
// duration as "5m0s", not nanoseconds.
func journalParams(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if d, ok := v.(time.Duration); ok {
			out[k] = d.String()
			continue
		}
		out[k] = v
	}
	return out
}
