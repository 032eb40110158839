package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// stopped is the error of a remote command that did not finish, as the
// SSH transport returns it.
type stopped struct {
	lost      bool
	confirmed bool
}

func (e stopped) Error() string {
	if e.confirmed {
		return "connection lost; the command was stopped and confirmed gone"
	}
	return "connection lost; THE COMMAND MAY STILL BE RUNNING on ap01 (pid 4242)"
}

func (e stopped) Is(target error) bool {
	return target == steps.ErrOutcomeUnknown && e.lost || target == steps.ErrMayStillRun && !e.confirmed
}

func (e stopped) RemoteStop() steps.RemoteStop {
	return steps.RemoteStop{Target: "ap01 (10.0.0.65:22)", Command: "sleep 30", PID: 4242, PGID: 4242, Confirmed: e.confirmed, Outcome: "test"}
}

// remoteKind fails its first fail_times calls with a stopped error.
type remoteKind struct {
	idempotent bool
	mu         sync.Mutex
	calls      int
}

type remoteParams struct {
	FailTimes int  `yaml:"fail_times"`
	Lost      bool `yaml:"lost"`
	Confirmed bool `yaml:"confirmed"`
}

func (k *remoteKind) Name() string {
	if k.idempotent {
		return "remote.safe"
	}
	return "remote"
}
func (k *remoteKind) Summary() string { return "test remote command" }
func (k *remoteKind) Traits() steps.Traits {
	return steps.Traits{Idempotent: k.idempotent, ChangesState: true}
}
func (k *remoteKind) NewParams() any                  { return &remoteParams{} }
func (k *remoteKind) NewResult() any                  { return &struct{}{} }
func (k *remoteKind) Validate(any) []steps.FieldError { return nil }
func (k *remoteKind) Describe(any) steps.Description {
	return steps.Description{Action: "run on ap01", Target: "ap01"}
}
func (k *remoteKind) count() int { k.mu.Lock(); defer k.mu.Unlock(); return k.calls }
func (k *remoteKind) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*remoteParams)
	k.mu.Lock()
	k.calls++
	n := k.calls
	k.mu.Unlock()
	if n <= p.FailTimes {
		return nil, stopped{lost: p.Lost, confirmed: p.Confirmed}
	}
	return &struct{}{}, nil
}

func remoteFixture(t *testing.T) (*remoteKind, *remoteKind, *steps.Registry, string) {
	plain, safe := &remoteKind{}, &remoteKind{idempotent: true}
	return plain, safe, steps.NewRegistry(append(control.Kinds(), plain, safe)...), t.TempDir()
}

func loadIn(t *testing.T, dir string, reg *steps.Registry, src string) *runbooks.Runbook {
	t.Helper()
	path := filepath.Join(dir, "rb.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	rb, err := runbooks.Load(path, runbooks.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

func remoteConfig(reg *steps.Registry, dir string) engine.Config {
	return engine.Config{Registry: reg, RunsDir: filepath.Join(dir, "runs"), OperatorName: "tester", Machine: "test", Mode: "drill", Version: "test", Options: steps.Options{Lang: "en"}}
}

func stopEvidence(log *journal.Log, step string) []string {
	var out []string
	for _, ev := range log.Events {
		if ev.Type == journal.TypeEvidence && ev.Step == step && ev.Evidence.Title == "remote command stopped" {
			for _, f := range ev.Evidence.Facts {
				if f.Key == "stop confirmed" {
					out = append(out, f.Value)
				}
			}
		}
	}
	return out
}

// TestLostConnectionStopsANonIdempotentStep: after "connection lost
// before the command finished" a non-idempotent step is not retried by
// drbook, whatever its retry policy; the run waits for a decision (exit 3)
// without running on_failure or finally, and resume runs the step again
// only with --rerun-interrupted.
func TestLostConnectionStopsANonIdempotentStep(t *testing.T) {
	plain, _, reg, dir := remoteFixture(t)
	src := `
name: t
steps:
  - {id: restore, remote: {fail_times: 1, lost: true, confirmed: true}, retry: {attempts: 3}}
on_failure:
  - {id: cleanup, log: {message: "cleanup"}}
finally:
  - {id: z, log: {message: "finally"}}
`
	rb := loadIn(t, dir, reg, src)
	res, err := engine.Start(context.Background(), rb, remoteConfig(reg, dir))
	if !errors.Is(err, engine.ErrNeedsDecision) || res.Outcome != "paused" {
		t.Fatalf("want a run waiting for a decision, got %v (outcome %s)", err, res.Outcome)
	}
	if plain.count() != 1 {
		t.Fatalf("the step ran %d times; a non-idempotent step whose outcome is unknown must not be retried", plain.count())
	}
	if !strings.Contains(err.Error(), "--rerun-interrupted") {
		t.Errorf("the error must say how to continue: %v", err)
	}
	log := readLog(t, res.RunDir)
	fin := finishes(log)
	if fin["restore"].Status != journal.StatusInterrupted || fin["restore"].MayStillRun {
		t.Fatalf("restore: %+v", fin["restore"])
	}
	if fin["cleanup"] != nil || fin["z"] != nil {
		t.Fatal("on_failure and finally wait for the operator's decision, as for an interrupted step")
	}
	if count(log, journal.TypeStepRetry, "restore") != 0 {
		t.Fatal("a retry was journaled")
	}
	if got := stopEvidence(log, "restore"); len(got) != 1 || got[0] != "yes" {
		t.Fatalf("the stop is journaled as evidence: %v", got)
	}

	if _, err := engine.Resume(context.Background(), res.RunDir, rb, remoteConfig(reg, dir), engine.ResumeOptions{}); !errors.Is(err, engine.ErrNeedsDecision) {
		t.Fatalf("resume without --rerun-interrupted: %v", err)
	}
	if plain.count() != 1 {
		t.Fatal("resume ran the step without the operator's word")
	}
	cfg := remoteConfig(reg, dir)
	cfg.RerunInterrupted = true
	res3, err := engine.Resume(context.Background(), res.RunDir, rb, cfg, engine.ResumeOptions{})
	if err != nil || res3.Outcome != "passed" || plain.count() != 2 {
		t.Fatalf("resume --rerun-interrupted: %v %+v, %d calls", err, res3, plain.count())
	}
}

// TestLostConnectionRetriesAnIdempotentStep keeps idempotent kinds
// retryable when the first copy is confirmed gone.
func TestLostConnectionRetriesAnIdempotentStep(t *testing.T) {
	_, safe, reg, dir := remoteFixture(t)
	rb := loadIn(t, dir, reg, `
name: t
steps:
  - {id: svc, remote.safe: {fail_times: 2, lost: true, confirmed: true}, retry: {attempts: 3}}
`)
	res, err := engine.Start(context.Background(), rb, remoteConfig(reg, dir))
	if err != nil || res.Outcome != "passed" || safe.count() != 3 {
		t.Fatalf("%v %+v, %d calls", err, res, safe.count())
	}
	if got := stopEvidence(readLog(t, res.RunDir), "svc"); len(got) != 2 {
		t.Fatalf("each stopped attempt is journaled: %v", got)
	}
}

// TestUnconfirmedStopIsNeverRetriedNorResumed: when drbook could not see
// the remote command gone, not even an idempotent step runs again, in
// the retry loop or on resume, until the operator says so.
func TestUnconfirmedStopIsNeverRetriedNorResumed(t *testing.T) {
	_, safe, reg, dir := remoteFixture(t)
	rb := loadIn(t, dir, reg, `
name: t
steps:
  - {id: svc, remote.safe: {fail_times: 1, confirmed: false}, retry: {attempts: 5}}
`)
	res, err := engine.Start(context.Background(), rb, remoteConfig(reg, dir))
	if !errors.Is(err, engine.ErrNeedsDecision) || safe.count() != 1 {
		t.Fatalf("%v, %d calls", err, safe.count())
	}
	if !strings.Contains(err.Error(), "MAY STILL BE RUNNING") {
		t.Errorf("the error must say the command may still run: %v", err)
	}
	log := readLog(t, res.RunDir)
	if fin := finishes(log)["svc"]; fin.Status != journal.StatusInterrupted || !fin.MayStillRun {
		t.Fatalf("svc: %+v", fin)
	}
	if got := stopEvidence(log, "svc"); len(got) != 1 || !strings.HasPrefix(got[0], "no") {
		t.Fatalf("the unconfirmed stop is journaled: %v", got)
	}
	if _, err := engine.Resume(context.Background(), res.RunDir, rb, remoteConfig(reg, dir), engine.ResumeOptions{}); !errors.Is(err, engine.ErrNeedsDecision) || !strings.Contains(err.Error(), "not confirmed gone") {
		t.Fatalf("resume of an idempotent step that may still run: %v", err)
	}
	if safe.count() != 1 {
		t.Fatal("resume re-ran a step whose first copy may still be running")
	}
	cfg := remoteConfig(reg, dir)
	cfg.RerunInterrupted = true
	if res, err := engine.Resume(context.Background(), res.RunDir, rb, cfg, engine.ResumeOptions{}); err != nil || res.Outcome != "passed" || safe.count() != 2 {
		t.Fatalf("resume --rerun-interrupted: %v, %d calls", err, safe.count())
	}
}

// TestConfirmedStopKeepsTheRetryPolicy: a timeout whose command was
// confirmed gone is retried as the runbook says, with each stop journaled.
func TestConfirmedStopKeepsTheRetryPolicy(t *testing.T) {
	plain, _, reg, dir := remoteFixture(t)
	rb := loadIn(t, dir, reg, `
name: t
steps:
  - {id: x, remote: {fail_times: 1, confirmed: true}, retry: {attempts: 2}}
`)
	res, err := engine.Start(context.Background(), rb, remoteConfig(reg, dir))
	if err != nil || plain.count() != 2 {
		t.Fatalf("%v, %d calls", err, plain.count())
	}
	if got := stopEvidence(readLog(t, res.RunDir), "x"); len(got) != 1 || got[0] != "yes" {
		t.Fatalf("%v", got)
	}
}

// TestStopInAParallelBranchPausesTheGroup: a branch waiting for a
// decision leaves its group unfinished, so resume comes back into it.
func TestStopInAParallelBranchPausesTheGroup(t *testing.T) {
	plain, _, reg, dir := remoteFixture(t)
	rb := loadIn(t, dir, reg, `
name: t
steps:
  - id: g
    parallel:
      - {id: a, log: {message: "a"}}
      - {id: b, remote: {fail_times: 1, lost: true, confirmed: true}}
`)
	res, err := engine.Start(context.Background(), rb, remoteConfig(reg, dir))
	if !errors.Is(err, engine.ErrNeedsDecision) || res.Outcome != "paused" {
		t.Fatalf("%v %s", err, res.Outcome)
	}
	if fin := finishes(readLog(t, res.RunDir))["g"]; fin.Status != journal.StatusInterrupted {
		t.Fatalf("g: %+v", fin)
	}
	cfg := remoteConfig(reg, dir)
	cfg.RerunInterrupted = true
	if res, err := engine.Resume(context.Background(), res.RunDir, rb, cfg, engine.ResumeOptions{}); err != nil || res.Outcome != "passed" || plain.count() != 2 {
		t.Fatalf("resume: %v, %d calls", err, plain.count())
	}
}

// TestGuidedOperatorDecidesAfterALostConnection: in guided mode the
// operator is asked, and a retry they choose runs (and is journaled as
// their decision); drbook itself never retried.
func TestGuidedOperatorDecidesAfterALostConnection(t *testing.T) {
	plain, _, reg, dir := remoteFixture(t)
	rb := loadIn(t, dir, reg, `
name: t
steps:
  - {id: restore, remote: {fail_times: 1, lost: true, confirmed: true}, retry: {attempts: 3}}
`)
	cfg := remoteConfig(reg, dir)
	cfg.Operator = &scriptedOperator{failed: []engine.Decision{{Action: "retry", Who: "ann", Reason: "checked the guest"}}}
	res, err := engine.Start(context.Background(), rb, cfg)
	if err != nil || res.Outcome != "passed" || plain.count() != 2 {
		t.Fatalf("%v %+v, %d calls", err, res, plain.count())
	}
	log := readLog(t, res.RunDir)
	var retried bool
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision && ev.Step == "restore" && ev.Decision.Action == "retry" && ev.Decision.Who == "ann" {
			retried = true
		}
	}
	if !retried || count(log, journal.TypeStepRetry, "restore") != 0 {
		t.Fatal("the retry must be the operator's journaled decision, not the runbook's retry policy")
	}
}
