package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
)

// block runs steps in order. It returns the first failure that was not
// allowed to continue, an interruption, or an abort.
func (r *run) block(ctx context.Context, list []*runbooks.Step) error {
	for _, st := range list {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		if r.aborted.Load() && st.Block != runbooks.BlockFinally {
			return ErrAborted
		}
		if r.cfg.Steering.PauseRequested() {
			return ErrPaused
		}
		if err := r.step(ctx, st); err != nil {
			return err
		}
	}
	if r.aborted.Load() && len(list) > 0 && list[0].Block != runbooks.BlockFinally {
		return ErrAborted
	}
	return nil
}

// step runs one declared step (a single kind, a group or a fan-out) and
// records its outcome for later expressions.
func (r *run) step(ctx context.Context, st *runbooks.Step) error {
	if fin, ok := r.recorded[st.ID]; ok {
		return r.replay(st, fin)
	}
	if r.only != nil && !r.only[st.ID] {
		// resume --only: the step is not this session's business.
		return nil
	}
	if reason, ok := r.dependentSkipped(st.ID); ok {
		return r.finishUnstarted(st, journal.StatusSkipped, reason)
	}
	if st.When != nil {
		ok, err := r.env.EvalBool(st.When, runbooks.Vars{})
		if err != nil {
			return r.finishUnstarted(st, journal.StatusFailed, i18n.TextOf(err))
		}
		if !ok {
			return r.finishUnstarted(st, journal.StatusSkipped, journal.Text{EN: "when: " + st.When.Source + " is false", ZhTW: "執行條件 when: " + st.When.Source + " 不成立"})
		}
	}
	switch {
	case st.Parallel != nil:
		return r.group(ctx, st)
	case st.ForEach != nil:
		return r.fanOut(ctx, st)
	}
	res, fin, executed, err := r.instance(ctx, st, st.ID, nil)
	r.remember(res)
	r.env.Record(st, runbooks.Outcome{Status: fin.Status, Result: res, Error: fin.Error, Attempts: fin.Attempts, Duration: fin.Duration.D(),
		Happened: happened(fin.Status, executed), DoneByHand: fin.Status == journal.StatusManual})
	return err
}

// replay applies a journaled outcome instead of running the step.
func (r *run) replay(st *runbooks.Step, fin journal.StepFinish) error {
	res, _ := runbooks.DecodeResult(st, fin.Result)
	// A failed or stopped step from an earlier session is taken as having
	// begun acting when it made an attempt: recovery is guarded by it.
	o := runbooks.Outcome{Status: fin.Status, Result: res, Error: fin.Error, Attempts: fin.Attempts, Duration: fin.Duration.D(),
		Happened: happened(fin.Status, fin.Attempts > 0), DoneByHand: fin.Status == journal.StatusManual}
	if st.ForEach != nil {
		for i := 0; ; i++ {
			f, ok := r.recorded[fmt.Sprintf("%s[%d]", st.ID, i)]
			if !ok {
				break
			}
			ir, _ := runbooks.DecodeResult(st, f.Result)
			o.Results = append(o.Results, ir)
		}
	}
	r.env.Record(st, o)
	if fin.Status == journal.StatusFailed && !st.ContinueOnError {
		return stepFailed(st.ID, i18n.New(fin.Error, fin.ErrorZhTW))
	}
	return nil
}

func (r *run) finishUnstarted(st *runbooks.Step, status string, why journal.Text) error {
	now := r.cfg.now()
	fin := &journal.StepFinish{Status: status, Started: now, Finished: now}
	if status == journal.StatusFailed {
		fin.SetError(why)
	} else {
		fin.SetReason(why)
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: st.ID, StepFinish: fin}); err != nil {
		return fatalError{err}
	}
	r.env.Record(st, runbooks.Outcome{Status: status, Error: fin.Error})
	if status == journal.StatusFailed && !st.ContinueOnError {
		return stepFailed(st.ID, i18n.New(why.EN, why.ZhTW))
	}
	return nil
}

// group runs a parallel group's children concurrently (up to its
// concurrency). A failing branch does not cancel its siblings: stopping an
// infrastructure operation half-way is worse than letting it finish. The
// group fails when a branch failed without continue_on_error.
func (r *run) group(ctx context.Context, st *runbooks.Step) error {
	start := r.cfg.now()
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepStart, Step: st.ID, StepStart: &journal.StepStart{Kind: "parallel", Name: r.rb.StepName(st, r.env, runbooks.Vars{}), Block: st.Block, Attempt: 1}}); err != nil {
		return fatalError{err}
	}
	errs := r.concurrently(ctx, len(st.Parallel), st.Concurrency, func(i int) error {
		return r.step(ctx, st.Parallel[i])
	})
	return r.finishComposite(ctx, st, start, errs, nil)
}

// fanOut runs one instance per item, ids "id[0]", "id[1]", ….
func (r *run) fanOut(ctx context.Context, st *runbooks.Step) error {
	items, err := r.rb.Items(st, r.env)
	if err != nil {
		return r.finishUnstarted(st, journal.StatusFailed, i18n.TextOf(err))
	}
	start := r.cfg.now()
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepStart, Step: st.ID, StepStart: &journal.StepStart{Kind: st.KindName, Name: r.rb.StepName(st, r.env, runbooks.Vars{}), Block: st.Block, Attempt: 1, Description: fmt.Sprintf("%d instances", len(items)), DescriptionZhTW: fmt.Sprintf("共 %d 個執行個體", len(items))}}); err != nil {
		return fatalError{err}
	}
	results := make([]any, len(items))
	errs := r.concurrently(ctx, len(items), st.Concurrency, func(i int) error {
		id := fmt.Sprintf("%s[%d]", st.ID, i)
		if fin, ok := r.recorded[id]; ok {
			results[i], _ = runbooks.DecodeResult(st, fin.Result)
			if fin.Status == journal.StatusFailed && !st.ContinueOnError {
				return stepFailed(id, i18n.New(fin.Error, fin.ErrorZhTW))
			}
			return nil
		}
		res, _, _, err := r.instance(ctx, st, id, items[i])
		results[i] = res
		return err
	})
	return r.finishComposite(ctx, st, start, errs, results)
}

func (r *run) concurrently(ctx context.Context, n, limit int, fn func(i int) error) []error {
	if limit <= 0 || limit > n {
		limit = n
	}
	errs := make([]error, n)
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}(i)
	}
	wg.Wait()
	return errs
}

func (r *run) finishComposite(ctx context.Context, st *runbooks.Step, start time.Time, errs []error, results []any) error {
	var first error
	failed := 0
	for _, e := range errs {
		if e != nil {
			if isFatal(e) {
				return e
			}
			failed++
			if first == nil {
				first = e
			}
		}
	}
	now := r.cfg.now()
	fin := &journal.StepFinish{Status: journal.StatusOK, Attempts: 1, Started: start, Finished: now, Duration: journal.Duration(now.Sub(start))}
	decide := slices.IndexFunc(errs, func(e error) bool { return errors.Is(e, ErrNeedsDecision) })
	switch {
	case ctx.Err() != nil:
		fin.Status = journal.StatusCancelled
		fin.SetError(i18n.TextOf(ErrInterrupted))
	case decide >= 0:
		// A branch waits for the operator: the group is not over, and
		// resume comes back into it.
		fin.Status = journal.StatusInterrupted
		fin.SetError(i18n.TextOf(errs[decide]))
	case failed > 0:
		fin.Status = journal.StatusFailed
		fin.SetError(i18n.TextOf(i18n.Errorf("%d of %d branches failed; first: %v", "%d／%d 個分支失敗；第一個：%v", failed, len(errs), first)))
		fin.ContinuedOnError = st.ContinueOnError
	}
	if results != nil {
		fin.Result, _ = json.Marshal(results)
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: st.ID, StepFinish: fin}); err != nil {
		return fatalError{err}
	}
	r.env.Record(st, runbooks.Outcome{Status: fin.Status, Results: results, Error: fin.Error, Attempts: 1, Duration: fin.Duration.D(), Happened: true})
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	// An abort in any branch ends the run as aborted, even when an
	// earlier branch failed: the failure must not send it to on_failure.
	if slices.ContainsFunc(errs, func(e error) bool { return errors.Is(e, ErrAborted) }) {
		return ErrAborted
	}
	if decide >= 0 {
		return errs[decide]
	}
	if failed > 0 && !st.ContinueOnError {
		return stepFailed(st.ID, i18n.New(fin.Error, fin.ErrorZhTW))
	}
	return nil
}

// instance runs one step instance: confirmation, parameter resolution,
// attempts with retry and until, each journaled. executed is true once
// the kind's Execute was called.
func (r *run) instance(ctx context.Context, st *runbooks.Step, id string, item any) (res any, fin journal.StepFinish, executed bool, err error) {
	ctx, release := r.cfg.Steering.stepContext(ctx, id, st.Block != runbooks.BlockFinally)
	defer release()
	var humanWait time.Duration
	info := StepInfo{ID: id, Name: r.rb.StepName(st, r.env, runbooks.Vars{Item: item}), Kind: st.KindName, Traits: st.Kind.Traits(), Attempt: 1, Disruptive: st.Disruptive, Affects: r.affects(st)}
	params, perr := r.rb.ResolveParams(st, r.env, runbooks.Vars{Item: item})
	if perr == nil {
		info.Description = r.redactedDescription(st.Kind.Describe(params))
	}
	if r.takeInterrupted(id) {
		if err := r.decideInterrupted(st, id); err != nil {
			return nil, journal.StepFinish{Status: journal.StatusInterrupted}, false, err
		}
	}
	if st.Confirm || r.cfg.StepByStep {
		t0 := time.Now()
		d, err := r.cfg.Operator.Confirm(ctx, info)
		humanWait += time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				return nil, journal.StepFinish{Status: journal.StatusCancelled}, false, ErrInterrupted
			}
			return nil, journal.StepFinish{}, false, fatalError{err}
		}
		if jerr := r.decision(id, d); jerr != nil {
			return nil, journal.StepFinish{}, false, jerr
		}
		if d.Action == "pause" {
			// Nothing has started: the step runs when the run is resumed.
			return nil, journal.StepFinish{}, false, ErrPaused
		}
		if d.Action != "run" {
			fin, err := r.notRun(ctx, st, info, d, humanWait)
			return nil, fin, false, err
		}
	}
	if st.Disruptive && !r.board.isDisrupted() {
		// The outage this step causes must be told from one that was
		// there before: every monitor up first, then the mark. A later
		// disruptive step adds to an outage already measured.
		for {
			berr := r.waitBaseline(ctx)
			if berr == nil {
				break
			}
			if ctx.Err() != nil {
				return nil, journal.StepFinish{Status: journal.StatusCancelled}, false, ErrInterrupted
			}
			t0 := time.Now()
			d, derr := r.cfg.Operator.Failed(ctx, info, berr)
			humanWait += time.Since(t0)
			if derr != nil || d.Action == "fail" {
				fin := r.finishNow(id, journal.StatusFailed, "", humanWait)
				fin.SetError(i18n.TextOf(berr))
				if err := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: id, StepFinish: &fin}); err != nil {
					return nil, fin, false, fatalError{err}
				}
				if st.ContinueOnError {
					return nil, fin, false, nil
				}
				return nil, fin, false, stepFailed(id, berr)
			}
			if jerr := r.decision(id, d); jerr != nil {
				return nil, journal.StepFinish{}, false, jerr
			}
			if d.Action != "retry" {
				fin, err := r.notRun(ctx, st, info, d, humanWait)
				return nil, fin, false, err
			}
		}
		r.markDisrupted()
	}
	start := r.cfg.now()
	ss := &journal.StepStart{Kind: st.KindName, Name: info.Name, Block: st.Block, Idempotent: info.Traits.Idempotent,
		ChangesState: info.Traits.ChangesState, Expect: journal.Duration(st.Expect), Attempt: 1,
		Description: info.Description.Action, DescriptionZhTW: info.Description.ActionZhTW, Target: info.Description.Target}
	if perr == nil {
		ss.Params = params
	}
	// The start is durable before the side effect begins.
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepStart, Step: id, Time: start, StepStart: ss}); err != nil {
		return nil, journal.StepFinish{}, false, fatalError{err}
	}
	fin = journal.StepFinish{Started: start}
	if perr != nil {
		err = perr
		fin.Attempts = 1
	} else {
		executed = true
		rt := &stepRuntime{run: r, id: id, info: info}
		res, err = r.attempts(ctx, st, id, rt, params, item, &fin)
		humanWait += rt.humanWait
		// After the runbook's own retries, a person may still retry.
		for err != nil && ctx.Err() == nil && !errors.Is(err, ErrAborted) {
			t0 := time.Now()
			d, derr := r.cfg.Operator.Failed(ctx, info, r.redacted(err))
			humanWait += time.Since(t0)
			if derr != nil || d.Action == "fail" {
				break
			}
			if jerr := r.decision(id, d); jerr != nil {
				return nil, fin, executed, jerr
			}
			if d.Action == "retry" {
				info.Attempt = fin.Attempts + 1
				var more journal.StepFinish
				more.Attempts = fin.Attempts
				res, err = r.attempts(ctx, st, id, rt, params, item, &more)
				fin.Attempts = more.Attempts
				continue
			}
			if d.Action == "skip" || d.Action == "done" {
				status := journal.StatusSkipped
				if d.Action == "done" {
					status = journal.StatusManual
				} else {
					r.offerSkipDependents(ctx, st, info)
				}
				fin.Status, fin.Reason, err = status, d.Reason, nil
				break
			}
			if d.Action == "abort" {
				r.aborted.Store(true)
				err = i18n.Errorf("%w: %v", "%w：%v", ErrAborted, err)
			}
			break
		}
	}
	fin.Finished = r.cfg.now()
	fin.Duration = journal.Duration(fin.Finished.Sub(start))
	fin.HumanWait = journal.Duration(humanWait)
	if res != nil {
		if b, jerr := json.Marshal(res); jerr == nil {
			fin.Result = b
		}
	}
	if fin.Status == "" {
		switch {
		case err == nil:
			fin.Status = journal.StatusOK
		case ctx.Err() != nil:
			fin.Status = journal.StatusCancelled
			fin.SetError(i18n.TextOf(i18n.Errorf("interrupted by the operator: %v", "操作人員中斷執行：%v", err)))
			fin.MayStillRun = errors.Is(err, steps.ErrMayStillRun)
		case needsOperator(err, info.Traits):
			// Like a step the run stopped in: only a person can say
			// whether it may run again.
			fin.Status = journal.StatusInterrupted
			fin.SetError(i18n.TextOf(err))
			fin.MayStillRun = errors.Is(err, steps.ErrMayStillRun)
		default:
			fin.Status = journal.StatusFailed
			fin.SetError(i18n.TextOf(err))
			fin.ContinuedOnError = st.ContinueOnError
		}
	}
	if r.cfg.BeforeFinish != nil {
		r.cfg.BeforeFinish(id)
	}
	if jerr := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: id, Time: fin.Finished, StepFinish: &fin}); jerr != nil {
		return res, fin, executed, fatalError{jerr}
	}
	switch {
	case fin.Status == journal.StatusCancelled:
		return res, fin, executed, ErrInterrupted
	case fin.Status == journal.StatusInterrupted:
		target, targetZh := info.Description.Target, info.Description.Target
		if target == "" {
			target, targetZh = "its target", "其對象"
		}
		return res, fin, executed, i18n.Errorf("%w: step %s (%s) stopped and drbook cannot tell whether it may run again: %v; check %s by hand, then `drbook resume --rerun-interrupted` to run it again",
			"%w：步驟 %s（%s）已停止，drbook 無法判斷可否再次執行：%v；請以人工檢查 %s 後，以 `drbook resume --rerun-interrupted` 再次執行",
			ErrNeedsDecision, id, st.KindName, err, i18n.New(target, targetZh))
	case errors.Is(err, ErrAborted):
		return res, fin, executed, ErrAborted
	case err != nil && !st.ContinueOnError:
		return res, fin, executed, stepFailed(id, err)
	}
	return res, fin, executed, nil
}

// notRun journals a step the operator decided not to have drbook run:
// skipped, done by hand, or the run aborted. A step done by hand is
// dated at the moment the operator said so; when it is disruptive, that
// moment starts the RTO clock, as its start would have.
func (r *run) notRun(ctx context.Context, st *runbooks.Step, info StepInfo, d Decision, humanWait time.Duration) (journal.StepFinish, error) {
	status, reason := journal.StatusSkipped, d.Reason
	switch d.Action {
	case "done":
		status = journal.StatusManual
	case "abort":
		r.aborted.Store(true)
		reason = "aborted: " + d.Reason
	}
	fin := r.finishNow(info.ID, status, reason, humanWait)
	if d.Action == "abort" {
		fin.ReasonZhTW = "中止：" + d.Reason
	}
	if status == journal.StatusManual && !d.At.IsZero() {
		fin.Started, fin.Finished = d.At, d.At
	}
	if status == journal.StatusManual && st.Disruptive {
		r.markDisrupted()
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeStepFinish, Step: info.ID, StepFinish: &fin}); err != nil {
		return fin, fatalError{err}
	}
	switch d.Action {
	case "abort":
		return fin, ErrAborted
	case "skip":
		r.offerSkipDependents(ctx, st, info)
	}
	return fin, nil
}

// happened is steps.X.happened: the step's action may be in effect.
func happened(status string, executed bool) bool {
	switch status {
	case journal.StatusOK, journal.StatusManual:
		return true
	case journal.StatusFailed, journal.StatusCancelled, journal.StatusInterrupted:
		return executed
	}
	return false
}

func (r *run) finishNow(id, status, reason string, humanWait time.Duration) journal.StepFinish {
	now := r.cfg.now()
	return journal.StepFinish{Status: status, Reason: reason, Started: now, Finished: now, HumanWait: journal.Duration(humanWait)}
}

func (r *run) decision(id string, d Decision) error {
	who := d.Who
	if who == "" {
		who = r.cfg.OperatorName
	}
	if err := r.mustAppend(journal.Event{Type: journal.TypeDecision, Step: id, Decision: &journal.Decision{Who: who, Action: d.Action, Reason: d.Reason, ReasonZhTW: d.ReasonZhTW}}); err != nil {
		return fatalError{err}
	}
	return nil
}

// attempts runs the step until it succeeds or its retry policy is spent.
// fin.Attempts counts every execution, including until's polls.
func (r *run) attempts(ctx context.Context, st *runbooks.Step, id string, rt *stepRuntime, params, item any, fin *journal.StepFinish) (any, error) {
	retry := st.Retry
	if retry == nil {
		retry = &runbooks.Retry{Attempts: 1}
	}
	delay := retry.Delay
	var res any
	var err error
	for attempt := 1; ; attempt++ {
		res, err = r.attemptOnce(ctx, st, rt, params, item, fin)
		r.journalRemoteStop(rt, err)
		if err == nil || ctx.Err() != nil || attempt >= retry.Attempts {
			return res, err
		}
		if needsOperator(err, rt.info.Traits) {
			steps.SayNote(rt, "warn", "not retried: %s", "未重試：%s", notRetriedWhy(err))
			return res, err
		}
		t := i18n.TextOf(err)
		if jerr := r.mustAppend(journal.Event{Type: journal.TypeStepRetry, Step: id, StepRetry: &journal.StepRetry{Attempt: fin.Attempts, Error: t.EN, ErrorZhTW: t.ZhTW, Delay: journal.Duration(delay)}}); jerr != nil {
			return res, fatalError{jerr}
		}
		if !sleep(ctx, delay) {
			return res, ctx.Err()
		}
		delay = time.Duration(float64(delay) * retry.Backoff)
		if retry.MaxDelay > 0 && delay > retry.MaxDelay {
			delay = retry.MaxDelay
		}
	}
}

// attemptOnce is one attempt: a single execution, or with until a polling
// loop bounded by its within/attempts. The step's timeout bounds the attempt.
func (r *run) attemptOnce(ctx context.Context, st *runbooks.Step, rt *stepRuntime, params, item any, fin *journal.StepFinish) (any, error) {
	ctx = steps.WithRunStep(ctx, r.id, rt.id)
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, st.Timeout, i18n.Errorf("timed out after %s (the step's timeout)", "逾時：已超過 %s（步驟之 timeout）", st.Timeout))
		defer cancel()
	}
	if st.Until == nil {
		fin.Attempts++
		res, err := st.Kind.Execute(ctx, rt, params)
		return res, timeoutCause(ctx, err)
	}
	u := st.Until
	deadline := time.Time{}
	if u.Within > 0 {
		deadline = time.Now().Add(u.Within)
	}
	polls := 0
	for {
		polls++
		fin.Attempts++
		res, err := st.Kind.Execute(ctx, rt, params)
		if ctx.Err() != nil {
			return res, timeoutCause(ctx, err)
		}
		if needsOperator(err, rt.info.Traits) {
			return res, err
		}
		var holds bool
		if err == nil {
			holds, err = r.env.EvalBool(u.Cond, runbooks.Vars{Item: item, Result: res, Attempt: polls})
			if err != nil {
				return res, err
			}
		}
		if err == nil && holds {
			return res, nil
		}
		last := err
		if (u.Attempts > 0 && polls >= u.Attempts) || (!deadline.IsZero() && time.Now().Add(u.Interval).After(deadline)) {
			if last != nil {
				return res, i18n.Errorf("until %s: still not true after %d polls; last error: %w", "until %s：查詢 %d 次後仍不成立；最後之錯誤：%w", u.Cond.Source, polls, last)
			}
			return res, i18n.Errorf("until %s: still not true after %d polls", "until %s：查詢 %d 次後仍不成立", u.Cond.Source, polls)
		}
		steps.Say(rt, "waiting for %s (poll %d)", "等待條件成立：%s（第 %d 次查詢）", u.Cond.Source, polls)
		if !sleep(ctx, u.Interval) {
			return res, timeoutCause(ctx, ctx.Err())
		}
	}
}

func timeoutCause(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		var rs interface{ RemoteStop() steps.RemoteStop }
		switch {
		case errors.Is(err, cause):
			return err // it already says it timed out, and more
		case errors.As(err, &rs) || errors.Is(err, steps.ErrMayStillRun) || errors.Is(err, steps.ErrOutcomeUnknown):
			// What happened to the remote command must not be lost.
			return i18n.Errorf("%w: %w", "%w：%w", cause, err)
		}
		return cause
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// needsOperator reports whether a failure leaves the step in a state only
// a person can judge: its remote command may still run, or it is not
// idempotent and nobody knows whether it took effect. Such a step is not
// retried by drbook and stops the run like an interrupted step.
func needsOperator(err error, t steps.Traits) bool {
	return errors.Is(err, steps.ErrMayStillRun) || (!t.Idempotent && errors.Is(err, steps.ErrOutcomeUnknown))
}

func notRetriedWhy(err error) string {
	if errors.Is(err, steps.ErrMayStillRun) {
		return "the first attempt's command may still be running, and a retry would run a second copy beside it"
	}
	return "the kind is not idempotent and whether the first attempt took effect is unknown"
}

// journalRemoteStop journals, as evidence, how a step's remote command was
// stopped when err says so.
func (r *run) journalRemoteStop(rt *stepRuntime, err error) {
	var rs interface{ RemoteStop() steps.RemoteStop }
	if errors.As(err, &rs) {
		rt.Evidence(rs.RemoteStop().Evidence())
	}
}
