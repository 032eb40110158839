package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// probe is a test kind: it counts its calls per key, fails the first
// fail_times calls, sleeps (honouring cancellation) and returns the count.
type probe struct {
	idempotent bool
	mu         *sync.Mutex // shared by the probes that share calls
	calls      map[string]int
}

type probeParams struct {
	Key       string           `yaml:"key"`
	FailTimes int              `yaml:"fail_times"`
	Sleep     journal.Duration `yaml:"sleep"`
	Secret    string           `yaml:"secret"`
	Note      string           `yaml:"note"`
	// Leak puts the secret into the failure's message, as a careless
	// command's stderr would.
	Leak bool `yaml:"leak"`
}

type probeResult struct {
	Count int    `json:"count" expr:"count"`
	Key   string `json:"key" expr:"key"`
}

func (p *probe) Name() string {
	if p.idempotent {
		return "probe.safe"
	}
	return "probe"
}
func (p *probe) Summary() string { return "test probe" }
func (p *probe) Traits() steps.Traits {
	return steps.Traits{Idempotent: p.idempotent, ChangesState: !p.idempotent}
}
func (p *probe) NewParams() any                  { return &probeParams{} }
func (p *probe) NewResult() any                  { return &probeResult{} }
func (p *probe) Validate(any) []steps.FieldError { return nil }
func (p *probe) Describe(any) steps.Description  { return steps.Description{Action: "probe"} }
func (p *probe) count(key string) int            { p.mu.Lock(); defer p.mu.Unlock(); return p.calls[key] }
func (p *probe) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	pp := params.(*probeParams)
	p.mu.Lock()
	p.calls[pp.Key]++
	n := p.calls[pp.Key]
	p.mu.Unlock()
	if pp.Secret != "" {
		v, err := rt.Secret(site.SecretRef{Source: "env", Name: pp.Secret}, "test secret")
		if err != nil {
			return nil, err
		}
		rt.Note("info", "the secret is "+v)
		if pp.Leak {
			return nil, fmt.Errorf("login refused for password %s", v)
		}
	}
	if pp.Note != "" {
		rt.Note("info", pp.Note)
	}
	if pp.Sleep > 0 {
		select {
		case <-time.After(pp.Sleep.D()):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n <= pp.FailTimes {
		return &probeResult{Count: n, Key: pp.Key}, fmt.Errorf("probe %s failing on call %d", pp.Key, n)
	}
	return &probeResult{Count: n, Key: pp.Key}, nil
}

type fixture struct {
	t      *testing.T
	probe  *probe
	safe   *probe
	reg    *steps.Registry
	dir    string
	ops    engine.Operator
	stepBy bool
}

func newFixture(t *testing.T) *fixture {
	p := &probe{calls: map[string]int{}, mu: &sync.Mutex{}}
	s := &probe{idempotent: true, calls: p.calls, mu: p.mu}
	kinds := append(control.Kinds(), p, s)
	return &fixture{t: t, probe: p, safe: s, reg: steps.NewRegistry(kinds...), dir: t.TempDir()}
}

func (f *fixture) load(src string) *runbooks.Runbook {
	f.t.Helper()
	path := filepath.Join(f.dir, "rb.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		f.t.Fatal(err)
	}
	rb, err := runbooks.Load(path, runbooks.Options{Registry: f.reg})
	if err != nil {
		f.t.Fatalf("load: %v", err)
	}
	return rb
}

func (f *fixture) config() engine.Config {
	return engine.Config{Registry: f.reg, RunsDir: filepath.Join(f.dir, "runs"), OperatorName: "tester", Machine: "test", Mode: "drill", Version: "test", Operator: f.ops, StepByStep: f.stepBy, Options: steps.Options{Lang: "en"}}
}

func (f *fixture) run(ctx context.Context, src string) (*engine.Result, error, *journal.Log) {
	f.t.Helper()
	res, err := engine.Start(ctx, f.load(src), f.config())
	if res == nil {
		f.t.Fatalf("no result: %v", err)
	}
	return res, err, readLog(f.t, res.RunDir)
}

func readLog(t *testing.T, dir string) *journal.Log {
	t.Helper()
	fh, err := os.Open(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, _, err := journal.Verify(fh); err != nil {
		t.Fatalf("journal chain: %v", err)
	}
	log, err := journal.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// finishes returns the last step.finish per step id.
func finishes(log *journal.Log) map[string]*journal.StepFinish {
	out := map[string]*journal.StepFinish{}
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish {
			out[ev.Step] = ev.StepFinish
		}
	}
	return out
}

func count(log *journal.Log, typ, step string) int {
	n := 0
	for _, ev := range log.Events {
		if ev.Type == typ && (step == "" || ev.Step == step) {
			n++
		}
	}
	return n
}

func runEnd(log *journal.Log) *journal.RunEnd {
	ev := log.Events[len(log.Events)-1]
	if ev.Type != journal.TypeRunEnd {
		return nil
	}
	return ev.RunEnd
}

func TestSemantics(t *testing.T) {
	type want struct {
		outcome  string
		err      error
		statuses map[string]string
		attempts map[string]int
		errText  map[string]string
	}
	cases := []struct {
		name string
		src  string
		want want
	}{
		{"ordered steps pass", `
name: t
steps:
  - {id: a, probe: {key: a}}
  - {id: b, probe: {key: b}}
`, want{outcome: "passed", statuses: map[string]string{"a": "ok", "b": "ok"}}},
		{"when false skips", `
name: t
params: {go: false}
steps:
  - {id: a, when: params.go, probe: {key: a}}
  - {id: b, when: "!params.go && steps.a.status == 'skipped'", probe: {key: b}}
`, want{outcome: "passed", statuses: map[string]string{"a": "skipped", "b": "ok"}}},
		{"retry until success", `
name: t
steps:
  - {id: a, retry: {attempts: 3, delay: 1ms}, probe: {key: a, fail_times: 2}}
`, want{outcome: "passed", statuses: map[string]string{"a": "ok"}, attempts: map[string]int{"a": 3}}},
		{"retry exhausted runs on_failure and finally", `
name: t
steps:
  - {id: a, retry: {attempts: 2, delay: 1ms, backoff: 2}, probe: {key: a, fail_times: 5}}
  - {id: b, probe: {key: b}}
on_failure:
  - {id: f, probe: {key: f}}
finally:
  - {id: z, probe: {key: z}}
`, want{outcome: "failed", err: engine.ErrStepFailed, statuses: map[string]string{"a": "failed", "f": "ok", "z": "ok"}, attempts: map[string]int{"a": 2}}},
		{"timeout bounds an attempt", `
name: t
steps:
  - {id: a, timeout: 50ms, probe: {key: a, sleep: 5s}}
`, want{outcome: "failed", err: engine.ErrStepFailed, statuses: map[string]string{"a": "failed"}, errText: map[string]string{"a": "timed out after 50ms"}}},
		{"until polls the result", `
name: t
steps:
  - {id: a, until: {condition: result.count >= 3, interval: 1ms, within: 5s}, probe: {key: a}}
  - {id: b, assert: steps.a.result.count == 3 && steps.a.attempts == 3}
`, want{outcome: "passed", statuses: map[string]string{"a": "ok", "b": "ok"}, attempts: map[string]int{"a": 3}}},
		{"until gives up", `
name: t
steps:
  - {id: a, until: {condition: result.count > 100, interval: 1ms, attempts: 4}, probe: {key: a}}
`, want{outcome: "failed", err: engine.ErrStepFailed, statuses: map[string]string{"a": "failed"}, attempts: map[string]int{"a": 4}, errText: map[string]string{"a": "still not true after 4 polls"}}},
		{"continue_on_error goes on", `
name: t
steps:
  - {id: a, continue_on_error: true, probe: {key: a, fail_times: 1}}
  - {id: b, assert: steps.a.status == "failed"}
`, want{outcome: "passed", statuses: map[string]string{"a": "failed", "b": "ok"}}},
		{"parallel with a failing branch lets siblings finish", `
name: t
steps:
  - id: g
    parallel:
      - {id: p1, probe: {key: p1, fail_times: 1}}
      - {id: p2, probe: {key: p2, sleep: 30ms}}
  - {id: after, probe: {key: after}}
on_failure:
  - {id: f, probe: {key: f}}
`, want{outcome: "failed", err: engine.ErrStepFailed, statuses: map[string]string{"p1": "failed", "p2": "ok", "g": "failed", "f": "ok"}, errText: map[string]string{"g": "1 of 2 branches failed"}}},
		{"for_each fans out with results", `
name: t
steps:
  - {id: fan, for_each: [x, y, z], concurrency: 2, probe: {key: "k-${{ item }}"}}
  - {id: check, assert: "len(steps.fan.results) == 3 && steps.fan.results[2].key == 'k-z'"}
`, want{outcome: "passed", statuses: map[string]string{"fan[0]": "ok", "fan[1]": "ok", "fan[2]": "ok", "fan": "ok", "check": "ok"}}},
		{"register exposes vars", `
name: t
steps:
  - {id: a, register: first, probe: {key: reg}}
  - {id: b, assert: vars.first.count == 1 && vars.first.key == "reg"}
`, want{outcome: "passed", statuses: map[string]string{"a": "ok", "b": "ok"}}},
		{"assert failure message", `
name: t
steps:
  - {id: a, assert: {that: "1 > 2", message: "one is not greater than two"}}
`, want{outcome: "failed", err: engine.ErrStepFailed, statuses: map[string]string{"a": "failed"}, errText: map[string]string{"a": "one is not greater than two"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			res, err, log := f.run(context.Background(), c.src)
			if res.Outcome != c.want.outcome {
				t.Fatalf("outcome %s, want %s (err %v)", res.Outcome, c.want.outcome, err)
			}
			if c.want.err == nil && err != nil || c.want.err != nil && !errors.Is(err, c.want.err) {
				t.Fatalf("err %v, want %v", err, c.want.err)
			}
			fin := finishes(log)
			for id, st := range c.want.statuses {
				if fin[id] == nil || fin[id].Status != st {
					t.Errorf("step %s: %+v, want status %s", id, fin[id], st)
				}
			}
			for id, n := range c.want.attempts {
				if fin[id] == nil || fin[id].Attempts != n {
					t.Errorf("step %s attempts %+v, want %d", id, fin[id], n)
				}
			}
			for id, text := range c.want.errText {
				if fin[id] == nil || !strings.Contains(fin[id].Error, text) {
					t.Errorf("step %s error %+v, want it to contain %q", id, fin[id], text)
				}
			}
			if end := runEnd(log); end == nil || end.Result != c.want.outcome {
				t.Errorf("run.end %+v, want %s", end, c.want.outcome)
			}
			for _, id := range []string{"b", "after"} {
				if c.want.outcome == "failed" && f.probe.count(id) != 0 && c.want.statuses[id] == "" {
					t.Errorf("step %s ran after a failure", id)
				}
			}
		})
	}
}

func TestJournalOrderAndTimes(t *testing.T) {
	f := newFixture(t)
	_, err, log := f.run(context.Background(), `
name: t
steps:
  - {id: a, expect: 1s, probe: {key: a, sleep: 20ms}}
`)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range log.Events {
		types = append(types, ev.Type+":"+ev.Step)
	}
	if got := strings.Join(types, " "); got != "run.start: step.start:a step.finish:a run.end:" {
		t.Fatalf("events: %s", got)
	}
	rs := log.Events[0].RunStart
	if rs.RunbookSHA256 == "" || rs.Operator != "tester" || len(rs.Steps) != 1 || rs.Steps[0].Expect.D() != time.Second {
		t.Fatalf("run.start incomplete: %+v", rs)
	}
	fin := log.Events[2].StepFinish
	if fin.Duration.D() < 20*time.Millisecond || !fin.Finished.After(fin.Started) {
		t.Fatalf("timing not captured: %+v", fin)
	}
	if string(fin.Result) != `{"count":1,"key":"a"}` {
		t.Fatalf("result %s", fin.Result)
	}
}

func TestCancellationInterruptsAndResumeCompletes(t *testing.T) {
	f := newFixture(t)
	src := `
name: t
params: {nap: {type: duration, default: 10s}}
steps:
  - {id: a, probe: {key: a}}
  - {id: slow, probe.safe: {key: slow, sleep: "${{ params.nap }}"}}
  - {id: c, probe: {key: c}}
finally:
  - {id: z, probe: {key: z}}
`
	rb := f.load(src)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.probe.count("slow") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	res, err := engine.Start(ctx, rb, f.config())
	if !errors.Is(err, engine.ErrInterrupted) || res.Outcome != "interrupted" {
		t.Fatalf("err %v outcome %s", err, res.Outcome)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("cancellation was not prompt")
	}
	if f.probe.count("z") != 0 || f.probe.count("c") != 0 {
		t.Fatal("steps ran after the interruption (finally is left to resume)")
	}
	log := readLog(t, res.RunDir)
	if fin := finishes(log)["slow"]; fin == nil || fin.Status != journal.StatusCancelled {
		t.Fatalf("slow: %+v", fin)
	}
	// Resume: a is never run again; slow is idempotent so it re-runs
	// without asking; c and z run.
	rb2, err := runbooks.Load(filepath.Join(f.dir, "rb.yaml"), runbooks.Options{Registry: f.reg, Vars: map[string]string{"nap": "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := engine.Resume(context.Background(), res.RunDir, rb2, f.config(), engine.ResumeOptions{})
	if err != nil || res2.Outcome != "passed" {
		t.Fatalf("resume: %v %+v", err, res2)
	}
	for key, want := range map[string]int{"a": 1, "slow": 2, "c": 1, "z": 1} {
		if got := f.probe.count(key); got != want {
			t.Errorf("%s ran %d times, want %d", key, got, want)
		}
	}
	log = readLog(t, res.RunDir)
	var rerun bool
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision && ev.Step == "slow" && ev.Decision.Action == "rerun-interrupted" && ev.Decision.Who == "drbook" {
			rerun = true
		}
	}
	if !rerun {
		t.Error("the re-run of the interrupted step is not journaled as a decision")
	}
}

func TestResumeNeverRerunsFinishedSteps(t *testing.T) {
	f := newFixture(t)
	src := `
name: t
steps:
  - {id: a, probe: {key: a}}
  - {id: b, probe.safe: {key: b, fail_times: 0}}
  - {id: c, probe: {key: c, sleep: "${{ params.nap }}"}}
  - {id: d, probe: {key: d}}
params: {nap: {type: duration, default: 10s}}
`
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.probe.count("c") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := engine.Start(ctx, f.load(src), f.config())
	if !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("want interrupted, got %v", err)
	}
	// c is not idempotent: resume must stop and ask.
	_, err = engine.Resume(context.Background(), res.RunDir, f.load(src), f.config(), engine.ResumeOptions{})
	if !errors.Is(err, engine.ErrNeedsDecision) || !strings.Contains(err.Error(), "not safe to run twice") {
		t.Fatalf("want a decision request, got %v", err)
	}
	if f.probe.count("d") != 0 {
		t.Fatal("d ran although c needed a decision")
	}
	// The operator checked and allows the re-run; a shorter nap keeps the
	// test quick (the runbook is unchanged: only the parameter differs).
	cfg := f.config()
	cfg.RerunInterrupted = true
	rb, err := runbooks.Load(filepath.Join(f.dir, "rb.yaml"), runbooks.Options{Registry: f.reg, Vars: map[string]string{"nap": "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	res3, err := engine.Resume(context.Background(), res.RunDir, rb, cfg, engine.ResumeOptions{})
	if err != nil || res3.Outcome != "passed" {
		t.Fatalf("resume: %v %v", err, res3)
	}
	for key, want := range map[string]int{"a": 1, "b": 1, "c": 2, "d": 1} {
		if got := f.probe.count(key); got != want {
			t.Errorf("%s ran %d times, want %d", key, got, want)
		}
	}
	log := readLog(t, res.RunDir)
	if n := count(log, journal.TypeRunResume, ""); n != 2 {
		t.Errorf("%d run.resume events, want 2", n)
	}
	// Resuming a finished run does nothing.
	if _, err := engine.Resume(context.Background(), res.RunDir, rb, cfg, engine.ResumeOptions{}); !errors.Is(err, engine.ErrFinished) {
		t.Fatalf("resume of a finished run: %v", err)
	}
}

func TestResumeRefusesChangedRunbook(t *testing.T) {
	f := newFixture(t)
	src := "name: t\nsteps:\n  - {id: a, probe: {key: a, sleep: 10s}}\n"
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.probe.count("a") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, _ := engine.Start(ctx, f.load(src), f.config())
	_, err := engine.Resume(context.Background(), res.RunDir, f.load(src+"  - {id: b, log: x}\n"), f.config(), engine.ResumeOptions{})
	if err == nil || !strings.Contains(err.Error(), "--allow-changed") {
		t.Fatalf("want refusal, got %v", err)
	}
}

func TestSecretsNeverReachTheJournal(t *testing.T) {
	const secret = "pa55-w0rd-\"quoted\"-秘密"
	t.Setenv("DRBOOK_TEST_SECRET", secret)
	f := newFixture(t)
	seen := &eventRecorder{}
	cfg := f.config()
	cfg.Observer = seen
	res, err := engine.Start(context.Background(), f.load(`
name: t
steps:
  - {id: a, probe: {key: a, secret: DRBOOK_TEST_SECRET}}
`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The observer drives the screen and the plain log (often a CI log).
	if s := seen.text(); strings.Contains(s, "pa55-w0rd") || strings.Contains(s, "秘密") || !strings.Contains(s, "[redacted]") {
		t.Fatalf("the observer saw %s", s)
	}
	data, _ := os.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	if strings.Contains(string(data), "pa55-w0rd") || strings.Contains(string(data), "秘密") {
		t.Fatal("the secret reached the journal")
	}
	if !strings.Contains(string(data), "[redacted]") {
		t.Fatal("the note should show where the secret was scrubbed")
	}
}

// eventRecorder is an engine.Observer that keeps what it was shown.
type eventRecorder struct {
	mu  sync.Mutex
	out strings.Builder
}

func (e *eventRecorder) Event(ev journal.Event) {
	b, _ := json.Marshal(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.out.Write(b)
}

func (e *eventRecorder) Progress(step, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.out.WriteString(text)
}

func (e *eventRecorder) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.out.String()
}

// TestSecretsNeverReachTheOperatorOrTheCaller: a step's error that holds
// a secret is redacted in the failure prompt and in the run's error (which
// drbook prints), as it is in the journal.
func TestSecretsNeverReachTheOperatorOrTheCaller(t *testing.T) {
	const secret = "hunter2-秘密"
	t.Setenv("DRBOOK_TEST_SECRET", secret)
	f := newFixture(t)
	op := &failureRecorder{}
	f.ops = op
	res, err, _ := f.run(context.Background(), `
name: t
steps:
  - {id: a, probe: {key: a, secret: DRBOOK_TEST_SECRET, leak: true}}
`)
	if !errors.Is(err, engine.ErrStepFailed) || res.Outcome != "failed" {
		t.Fatalf("err %v outcome %s, want a failed run", err, res.Outcome)
	}
	if len(op.shown) != 1 {
		t.Fatalf("the operator was asked %d times about the failure, want 1", len(op.shown))
	}
	for what, s := range map[string]string{"the failure prompt": op.shown[0], "the run's error": err.Error(), "Result.Err": res.Err.Error()} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "[redacted]") {
			t.Errorf("%s shows %q", what, s)
		}
	}
}

// failureRecorder keeps the errors the operator was shown.
type failureRecorder struct {
	engine.Unattended
	shown []string
}

func (f *failureRecorder) Failed(ctx context.Context, st engine.StepInfo, err error) (engine.Decision, error) {
	f.shown = append(f.shown, err.Error())
	return engine.Decision{Action: "fail"}, nil
}

type scriptedOperator struct {
	engine.Unattended
	confirm []engine.Decision
	failed  []engine.Decision
}

func (s *scriptedOperator) Confirm(context.Context, engine.StepInfo) (engine.Decision, error) {
	d := s.confirm[0]
	s.confirm = s.confirm[1:]
	return d, nil
}

func (s *scriptedOperator) Failed(context.Context, engine.StepInfo, error) (engine.Decision, error) {
	if len(s.failed) == 0 {
		return engine.Decision{Action: "fail"}, nil
	}
	d := s.failed[0]
	s.failed = s.failed[1:]
	return d, nil
}

func TestOperatorDecisions(t *testing.T) {
	f := newFixture(t)
	op := &scriptedOperator{
		confirm: []engine.Decision{{Action: "run", Who: "ann"}, {Action: "skip", Reason: "host already down", Who: "ann"}, {Action: "abort", Reason: "fire alarm", Who: "ann"}},
		failed:  []engine.Decision{{Action: "retry", Who: "ann"}},
	}
	f.ops = op
	res, err, log := f.run(context.Background(), `
name: t
steps:
  - {id: a, confirm: true, probe: {key: a, fail_times: 1}}
  - {id: b, confirm: true, probe: {key: b}}
  - {id: c, confirm: true, probe: {key: c}}
  - {id: d, probe: {key: d}}
finally:
  - {id: z, probe: {key: z}}
`)
	if !errors.Is(err, engine.ErrAborted) || res.Outcome != "aborted" {
		t.Fatalf("err %v outcome %s", err, res.Outcome)
	}
	fin := finishes(log)
	if fin["a"].Status != "ok" || fin["a"].Attempts != 2 {
		t.Errorf("a: %+v (the operator retried it)", fin["a"])
	}
	if fin["b"].Status != "skipped" || fin["b"].Reason != "host already down" || f.probe.count("b") != 0 {
		t.Errorf("b: %+v", fin["b"])
	}
	if f.probe.count("c") != 0 || f.probe.count("d") != 0 {
		t.Error("steps ran after the abort")
	}
	if fin["z"] == nil || fin["z"].Status != "ok" {
		t.Error("finally must run after an abort")
	}
	decisions := 0
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision {
			decisions++
			if ev.Decision.Who != "ann" {
				t.Errorf("decision by %q", ev.Decision.Who)
			}
		}
	}
	if decisions != 4 {
		t.Errorf("%d decisions journaled, want 4 (run, retry, skip, abort)", decisions)
	}
}

// flappy is a monitor kind that is down from its downOn-th call until
// its upOn-th, and keeps when each call began. Counting calls instead of
// reading the clock keeps the test independent of how promptly a loaded
// machine schedules the monitor.
type flappy struct {
	downOn, upOn int

	mu     sync.Mutex
	calls  []time.Time
	enough chan struct{} // closed at the call after upOn
}

func (f *flappy) Name() string                    { return "flappy" }
func (f *flappy) Summary() string                 { return "test monitor" }
func (f *flappy) Traits() steps.Traits            { return steps.Traits{Idempotent: true} }
func (f *flappy) NewParams() any                  { return &struct{}{} }
func (f *flappy) NewResult() any                  { return &struct{}{} }
func (f *flappy) Validate(any) []steps.FieldError { return nil }
func (f *flappy) Describe(any) steps.Description  { return steps.Description{Action: "probe"} }
func (f *flappy) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	f.mu.Lock()
	f.calls = append(f.calls, time.Now())
	n := len(f.calls)
	f.mu.Unlock()
	if n == f.upOn+1 {
		close(f.enough)
	}
	if n >= f.downOn && n < f.upOn {
		return nil, errors.New("connection refused")
	}
	return &struct{}{}, nil
}

// flappySeen is a step that lasts until the flappy monitor has gone down
// and come back.
type flappySeen struct{ *flappy }

func (f flappySeen) Name() string { return "flappy.seen" }
func (f flappySeen) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	select {
	case <-f.enough:
		return &struct{}{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestMonitorsRecordOutageWindows(t *testing.T) {
	f := newFixture(t)
	fl := &flappy{downOn: 3, upOn: 6, enough: make(chan struct{})}
	f.reg = steps.NewRegistry(append(control.Kinds(), f.probe, fl, flappySeen{fl})...)
	_, err, log := f.run(context.Background(), `
name: t
monitors:
  - {name: web, every: 10ms, flappy: {}}
steps:
  - {id: a, timeout: 30s, flappy.seen: {}}
`)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	var down, up time.Time
	for _, ev := range log.Events {
		if ev.Type == journal.TypeMonitor {
			states = append(states, ev.Monitor.State)
			if ev.Monitor.State == "down" {
				down = ev.Monitor.Since
			} else if !down.IsZero() {
				up = ev.Monitor.Since
			}
			if ev.Monitor.Resolution.D() != 10*time.Millisecond {
				t.Errorf("resolution %s, want the monitor's interval", ev.Monitor.Resolution)
			}
		}
	}
	if strings.Join(states, ",") != "up,down,up" {
		t.Fatalf("monitor states %v", states)
	}
	// Each change is dated at the poll that saw it: after the poll
	// before it and no later than that poll's own start.
	fl.mu.Lock()
	calls := fl.calls
	fl.mu.Unlock()
	for _, c := range []struct {
		what string
		at   time.Time
		poll int
	}{{"down", down, fl.downOn}, {"up", up, fl.upOn}} {
		before, seen := calls[c.poll-2], calls[c.poll-1]
		if c.at.Before(before) || c.at.After(seen) {
			t.Errorf("%s dated %s, want between poll %d (%s) and poll %d (%s)", c.what, c.at.Format(time.StampMicro),
				c.poll-1, before.Format(time.StampMicro), c.poll, seen.Format(time.StampMicro))
		}
	}
}

// interruptedGroup starts a run of four parallel branches, interrupts it
// while they all run, and returns the runbook to resume it with (short
// naps) and the run's result.
func interruptedGroup(t *testing.T, f *fixture) (*runbooks.Runbook, *engine.Result) {
	t.Helper()
	src := `
name: t
params: {nap: {type: duration, default: 10s}}
steps:
  - id: g
    parallel:
      - {id: b1, probe.safe: {key: b1, sleep: "${{ params.nap }}"}}
      - {id: b2, probe.safe: {key: b2, sleep: "${{ params.nap }}"}}
      - {id: b3, probe.safe: {key: b3, sleep: "${{ params.nap }}"}}
      - {id: b4, probe.safe: {key: b4, sleep: "${{ params.nap }}"}}
`
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.probe.count("b1") == 0 || f.probe.count("b2") == 0 || f.probe.count("b3") == 0 || f.probe.count("b4") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := engine.Start(ctx, f.load(src), f.config())
	if !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("want interrupted, got %v", err)
	}
	rb, err := runbooks.Load(filepath.Join(f.dir, "rb.yaml"), runbooks.Options{Registry: f.reg, Vars: map[string]string{"nap": "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	return rb, res
}

// TestResumeInterruptedParallelBranches resumes a group whose branches were
// all interrupted: the branches decide their re-run concurrently, so the
// run's record of interrupted steps must be safe to use from several
// goroutines (run with -race).
func TestResumeInterruptedParallelBranches(t *testing.T) {
	f := newFixture(t)
	rb, res := interruptedGroup(t, f)
	res2, err := engine.Resume(context.Background(), res.RunDir, rb, f.config(), engine.ResumeOptions{})
	if err != nil || res2.Outcome != "passed" {
		t.Fatalf("resume: %v %+v", err, res2)
	}
	log := readLog(t, res.RunDir)
	for _, id := range []string{"b1", "b2", "b3", "b4"} {
		if got := f.probe.count(id); got != 2 {
			t.Errorf("%s ran %d times, want 2 (once interrupted, once on resume)", id, got)
		}
		if n := count(log, journal.TypeDecision, id); n != 1 {
			t.Errorf("%s: %d rerun decisions journaled, want 1", id, n)
		}
	}
}

// TestResumeFromJournalsForcedReRunsInOrder: the re-runs that --from
// forces on interrupted steps are journaled in step order, not in the
// order a map happens to iterate.
func TestResumeFromJournalsForcedReRunsInOrder(t *testing.T) {
	f := newFixture(t)
	rb, res := interruptedGroup(t, f)
	if _, err := engine.Resume(context.Background(), res.RunDir, rb, f.config(), engine.ResumeOptions{From: "g"}); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, ev := range readLog(t, res.RunDir).Events {
		if ev.Type == journal.TypeDecision && ev.Decision.Action == "rerun-interrupted" {
			order = append(order, ev.Step)
		}
	}
	if got := strings.Join(order, ","); got != "b1,b2,b3,b4,g" {
		t.Errorf("re-runs journaled for %s, want b1,b2,b3,b4,g", got)
	}
}

// abortAt aborts at the confirmation of one step and lets the runbook
// decide failures; it is safe for parallel branches.
type abortAt struct {
	engine.Unattended
	step string
}

func (a abortAt) Confirm(_ context.Context, st engine.StepInfo) (engine.Decision, error) {
	if st.ID == a.step {
		return engine.Decision{Action: "abort", Reason: "stop", Who: "ann"}, nil
	}
	return engine.Decision{Action: "run", Who: "ann"}, nil
}

// TestAbortInOneBranchWinsOverAFailureInAnother: the operator aborts one
// branch of a group while a branch declared before it fails. The run is
// aborted, as it would be without the failure: on_failure does not run.
func TestAbortInOneBranchWinsOverAFailureInAnother(t *testing.T) {
	f := newFixture(t)
	f.ops = abortAt{step: "b2"}
	res, err, log := f.run(context.Background(), `
name: t
steps:
  - id: g
    parallel:
      - {id: b1, probe: {key: b1, fail_times: 1}}
      - {id: b2, confirm: true, probe: {key: b2}}
on_failure:
  - {id: of, probe: {key: of}}
finally:
  - {id: z, probe: {key: z}}
`)
	if !errors.Is(err, engine.ErrAborted) || res.Outcome != "aborted" {
		t.Fatalf("err %v, outcome %s; want aborted", err, res.Outcome)
	}
	if f.probe.count("of") != 0 || f.probe.count("b2") != 0 {
		t.Error("on_failure or the aborted branch ran")
	}
	if fin := finishes(log)["z"]; fin == nil || fin.Status != journal.StatusOK {
		t.Errorf("finally: %+v, want it run after the abort", fin)
	}
}
