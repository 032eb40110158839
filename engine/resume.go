package engine

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
)

// ErrFinished is returned by Resume for a run that already ended.
var ErrFinished = i18n.New("the run has already finished", "此次演練已結束")

// State is what a journal says about a run, for resume and `drbook runs`.
type State struct {
	// Dir is the run directory the journal was read from.
	Dir   string
	Start *journal.RunStart
	// Finished holds each step instance's last terminal outcome.
	Finished map[string]journal.StepFinish
	// Interrupted are instances started (or cancelled) but not finished.
	Interrupted []string
	// LastEnd is the last session's end, nil after a crash.
	LastEnd *journal.RunEnd
	Log     *journal.Log
}

// Status summarises the run: running-or-crashed, interrupted, paused,
// passed, failed, aborted.
func (s *State) Status() string {
	if s.LastEnd == nil {
		return "interrupted (no end recorded: crashed or still running)"
	}
	return s.LastEnd.Result
}

// ReadState reads and verifies a run's journal.
func ReadState(runDir string) (*State, error) {
	path := filepath.Join(runDir, journal.FileName)
	// One read serves both the check and the parse, so the events used
	// are exactly the bytes whose chain was verified.
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, i18n.Errorf("%s is not a run directory (it has no %s)", "%s 不是執行目錄（其中沒有 %s）", runDir, journal.FileName)
		}
		return nil, err
	}
	return stateOf(runDir, path, data)
}

// stateOf is ReadState of a journal's bytes, read from path.
func stateOf(runDir, path string, data []byte) (*State, error) {
	if len(data) == 0 {
		return nil, i18n.Errorf("%s: the journal is empty: the run stopped before it began, so nothing ran; start it again with `drbook run`", "%s：紀錄檔是空的：演練於開始前即已停止，未執行任何步驟；請以 `drbook run` 重新開始", path)
	}
	if _, _, err := journal.Verify(bytes.NewReader(data)); err != nil {
		return nil, i18n.Errorf("%s: %w; the journal has been altered, so drbook will not continue this run", "%s：%w；紀錄檔已遭變更，drbook 不會續行此次演練", path, err)
	}
	log, err := journal.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st := &State{Dir: runDir, Finished: map[string]journal.StepFinish{}, Log: log}
	started := map[string]bool{}
	for _, ev := range log.Events {
		switch ev.Type {
		case journal.TypeRunStart:
			st.Start = ev.RunStart
		case journal.TypeRunResume:
			st.LastEnd = nil
		case journal.TypeRunEnd:
			st.LastEnd = ev.RunEnd
		case journal.TypeStepStart:
			started[ev.Step] = true
			delete(st.Finished, ev.Step)
		case journal.TypeStepFinish:
			switch ev.StepFinish.Status {
			case journal.StatusCancelled, journal.StatusInterrupted:
				started[ev.Step] = true
			default:
				st.Finished[ev.Step] = *ev.StepFinish
				delete(started, ev.Step)
			}
		}
	}
	if st.Start == nil {
		return nil, i18n.Errorf("%s: the journal has no run.start event", "%s：紀錄檔中沒有 run.start 事件", path)
	}
	for id := range started {
		if _, ok := st.Finished[id]; !ok {
			st.Interrupted = append(st.Interrupted, id)
		}
	}
	sort.Strings(st.Interrupted)
	return st, nil
}

// ResumeOptions control a resume.
type ResumeOptions struct {
	// AllowChanged continues although the runbook's SHA-256 changed.
	AllowChanged bool
	// From re-runs the step with this id and every step declared after
	// it, even those journaled as finished (a targeted re-run).
	From string
	// Only runs just these steps (again, if they finished); the others
	// keep their journaled outcome or, if they never ran, are not run.
	Only []string
	// Params are parameter values the operator changed for this session
	// (--var on resume); they are journaled in run.resume.
	Params map[string]any
}

// ErrRunbookChanged is returned by Resume when the runbook's SHA-256
// differs from the one the run started with and AllowChanged is not set.
var ErrRunbookChanged = i18n.New("the runbook changed", "演練手冊已變更")

// ErrSiteChanged is returned by Resume when the site file's SHA-256
// differs from the one the run started with and AllowChanged is not set.
var ErrSiteChanged = i18n.New("the site file changed", "場域檔已變更")

// ErrUnknownStep is returned by Resume when From or Only names a step the
// runbook does not declare at the top of a block.
var ErrUnknownStep = i18n.New("no such step", "無此步驟")

// Resume continues the run in runDir with rb (loaded by the caller with
// the run's own parameter values). Steps journaled as finished are never
// run again; a step that was interrupted is re-run only when its kind is
// idempotent or cfg.RerunInterrupted says the operator checked it.
func Resume(ctx context.Context, runDir string, rb *runbooks.Runbook, cfg Config, opts ResumeOptions) (*Result, error) {
	state, err := ReadState(runDir)
	if err != nil {
		return nil, err
	}
	return state.Resume(ctx, rb, cfg, opts)
}

// Resume is Resume for a caller that has already read the run's state
// (drbook resume reads it to choose the lab and the runbook), so that the
// journal is read and verified once. The state must be fresh: nothing may
// have been appended to the journal since ReadState.
func (s *State) Resume(ctx context.Context, rb *runbooks.Runbook, cfg Config, opts ResumeOptions) (*Result, error) {
	r, res, err := s.reopen(rb, cfg, opts)
	if r == nil {
		return res, err
	}
	return r.execute(ctx)
}

// reopen is Resume up to the first step: the checks, the run.resume event
// and the interrupted steps' finishes. A run that already ended comes back
// as its Result with ErrFinished.
func (s *State) reopen(rb *runbooks.Runbook, cfg Config, opts ResumeOptions) (*run, *Result, error) {
	runDir := s.Dir
	targeted := opts.From != "" || len(opts.Only) > 0
	force, only, err := selectSteps(rb, opts)
	if err != nil {
		return nil, nil, err
	}
	if !targeted && s.LastEnd != nil && s.LastEnd.Result != "interrupted" && s.LastEnd.Result != "paused" {
		return nil, &Result{RunDir: runDir, RunID: s.Start.RunID, Outcome: s.LastEnd.Result, Head: s.Log.Head}, ErrFinished
	}
	if rb.SHA256 != s.Start.RunbookSHA256 && !opts.AllowChanged {
		return nil, nil, i18n.Errorf("%w since the run started (was sha256 %s, now %s); resuming a drill with different steps is refused unless you pass --allow-changed, which records both hashes",
			"%w（自演練開始後；原為 sha256 %s，現為 %s）；步驟不同之演練不予續行，除非加上 --allow-changed（將記錄兩者之雜湊值）",
			ErrRunbookChanged, short(s.Start.RunbookSHA256), short(rb.SHA256))
	}
	siteChanged := s.Start.SiteSHA256 != "" && rb.SiteSHA256 != s.Start.SiteSHA256
	if siteChanged && !opts.AllowChanged {
		now := i18n.New("no site file", "無場域檔")
		if rb.SiteSHA256 != "" {
			now = i18n.New("sha256 "+short(rb.SiteSHA256), "sha256 "+short(rb.SiteSHA256))
		}
		return nil, nil, i18n.Errorf("%w since the run started (%s was sha256 %s, now %s); resuming against a different site is refused unless you pass --allow-changed, which records both hashes",
			"%w（自演練開始後；%s 原為 sha256 %s，現為 %v）；對不同場域之演練不予續行，除非加上 --allow-changed（將記錄兩者之雜湊值）",
			ErrSiteChanged, s.Start.SitePath, short(s.Start.SiteSHA256), now)
	}
	secrets, err := resolveSecrets(rb.Site, cfg.Prompter)
	if err != nil {
		return nil, nil, err
	}
	w, torn, err := journal.OpenAppend(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return nil, nil, err
	}
	w.NoSync = cfg.NoSync
	r := newRun(rb, cfg, w, runDir, s.Start.RunID, secrets)
	r.recorded = maps.Clone(s.Finished) // forced steps are deleted from it below
	for _, id := range s.Interrupted {
		r.interrupted[id] = true
	}
	r.mayStillRun = stillRunning(s.Log)
	r.only = only
	for _, ev := range s.Log.Events {
		if ev.Type == journal.TypeEvidence && ev.Evidence != nil {
			r.evidence = append(r.evidence, steps.RecordedEvidence{Step: ev.Step, Evidence: *ev.Evidence})
		}
	}
	// Until execute, which closes the journal, a failed write ends here.
	abandon := func(err error) (*run, *Result, error) {
		w.Close()
		return nil, nil, err
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeRunResume, RunResume: &journal.RunResume{
		Operator: cfg.OperatorName, Machine: cfg.Machine, RunbookSHA256: rb.SHA256,
		AllowedChange: rb.SHA256 != s.Start.RunbookSHA256 || siteChanged, SiteSHA256: rb.SiteSHA256, DrbookVersion: cfg.Version,
		From: opts.From, Only: opts.Only, Params: opts.Params}}); err != nil {
		return abandon(err)
	}
	if torn > 0 {
		if err := r.mustAppend(journal.Event{Type: journal.TypeNote, Note: &journal.Note{Level: "warn", Text: fmt.Sprintf("the journal's last line was torn by a crash (%d bytes) and was cut off", torn),
			TextZhTW: fmt.Sprintf("紀錄檔最後一行因當機而不完整（%d 位元組），已截除", torn)}}); err != nil {
			return abandon(err)
		}
	}
	// Make the interruption explicit in the record before anything re-runs
	// (a step cancelled by Ctrl-C already has its finish).
	unfinished := startedLast(s.Log)
	for _, id := range s.Interrupted {
		if unfinished[id] {
			now := cfg.now()
			if err := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: id, StepFinish: &journal.StepFinish{Status: journal.StatusInterrupted, Started: now, Finished: now,
				Error: "the run stopped while this step was running", ErrorZhTW: "本步驟執行中演練即已停止"}}); err != nil {
				return abandon(err)
			}
		}
	}
	// Forced steps run again whatever the journal says; the operator asked
	// for it by name, which run.resume records.
	for id := range r.recorded {
		if force(id) {
			delete(r.recorded, id)
		}
	}
	// A disruption that an earlier session began is not this session's
	// baseline: its monitors' states are the outage, and a later
	// disruptive step does not wait for a baseline again.
	disruptive := map[string]bool{}
	for _, st := range rb.AllSteps() {
		disruptive[st.ID] = st.Disruptive
	}
	for _, ev := range s.Log.Events {
		id := ev.Step
		if i := strings.IndexByte(id, '['); i > 0 {
			id = id[:i]
		}
		if disruptive[id] && (ev.StepStart != nil || (ev.StepFinish != nil && ev.StepFinish.Status == journal.StatusManual)) {
			r.board.disrupted = true
		}
	}
	for _, id := range s.Interrupted { // sorted: the journal's order does not depend on map order
		if force(id) {
			delete(r.interrupted, id)
			if err := r.decision(id, Decision{Action: "rerun-interrupted", Who: cfg.OperatorName, Reason: "named by --from or --only", ReasonZhTW: "由 --from 或 --only 指定"}); err != nil {
				return abandon(err)
			}
		}
	}
	return r, nil, nil
}

// startedLast is the step instances whose last event in log is their
// start: they were running when the session stopped.
func startedLast(log *journal.Log) map[string]bool {
	open := map[string]bool{}
	for _, ev := range log.Events {
		switch ev.Type {
		case journal.TypeStepStart:
			open[ev.Step] = true
		case journal.TypeStepFinish:
			delete(open, ev.Step)
		}
	}
	return open
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// takeInterrupted reports whether id was interrupted in an earlier
// session and forgets it, so that it is decided once.
func (r *run) takeInterrupted(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.interrupted[id]
	delete(r.interrupted, id)
	return was
}

// stillRunning is the step instances whose last finish in log says their
// remote command may still be running, with that finish's error.
func stillRunning(log *journal.Log) map[string]string {
	out := map[string]string{}
	for _, ev := range log.Events {
		switch {
		case ev.Type == journal.TypeStepStart:
			delete(out, ev.Step)
		case ev.Type == journal.TypeStepFinish && ev.StepFinish.MayStillRun:
			out[ev.Step] = ev.StepFinish.Error
		}
	}
	return out
}

// decideInterrupted says whether an interrupted step may run again.
func (r *run) decideInterrupted(st *runbooks.Step, id string) error {
	if why, ok := r.mayStillRun[id]; ok && !r.cfg.RerunInterrupted {
		return i18n.Errorf("%w: step %s (%s) was stopped, but its remote command was not confirmed gone (%s); it is not run again while a first copy may still be running: check %s by hand, then `drbook resume --rerun-interrupted` to run it again",
			"%w：步驟 %s（%s）已停止，但未能確認其遠端指令已結束（%s）；第一份可能仍在執行，故不再次執行：請以人工檢查 %s 後，以 `drbook resume --rerun-interrupted` 再次執行",
			ErrNeedsDecision, id, st.KindName, why, strings.TrimSpace(describeTarget(st)))
	}
	switch {
	case st.Kind.Traits().Idempotent:
		return r.decision(id, Decision{Action: "rerun-interrupted", Who: "drbook", Reason: st.KindName + " is idempotent", ReasonZhTW: st.KindName + " 可重複執行（冪等）"})
	case r.cfg.RerunInterrupted:
		return r.decision(id, Decision{Action: "rerun-interrupted", Reason: "--rerun-interrupted: the operator checked the target", ReasonZhTW: "--rerun-interrupted：操作人員已檢查對象"})
	}
	return i18n.Errorf("%w: step %s (%s) was interrupted while it ran, and %s is not safe to run twice; check %s by hand, then `drbook resume --rerun-interrupted` to run it again",
		"%w：步驟 %s（%s）於執行中遭中斷，而 %s 重複執行並不安全；請以人工檢查 %s 後，以 `drbook resume --rerun-interrupted` 再次執行",
		ErrNeedsDecision, id, st.KindName, st.KindName, strings.TrimSpace(describeTarget(st)))
}

func describeTarget(st *runbooks.Step) string {
	if st.Params != nil {
		if d := st.Kind.Describe(st.Params); d.Target != "" {
			return d.Target
		}
	}
	return "its target"
}
