package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/fleet"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// officeNames are the nine land offices of New Taipei City (the seed
// report: "新北市 9 個地政事務所"), Sanchong's first: it is the reference
// site the lab models. `fleet run --lab-sites N` names its lab sites after
// them when N <= 9.
var officeNames = []string{"sanchong", "banqiao", "tamsui", "xinzhuang", "zhonghe", "xindian", "shulin", "xizhi", "ruifang"}

// maxLabSites is how many labs one machine can hold: each takes a
// loopback block, 127.10.0.0 to 127.209.0.0 (lab.reserveBlock).
const maxLabSites = 200

// labSiteNames names n lab sites.
func labSiteNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		if n <= len(officeNames) {
			out[i] = officeNames[i] + "-lab"
		} else {
			out[i] = fmt.Sprintf("lab-%03d", i+1)
		}
	}
	return out
}

// fleetJob is one site of a fleet run.
type fleetJob struct {
	name     string
	siteFile string // empty for a lab site
	// rb is the runbook loaded against a site file (lab sites load it
	// once their lab runs, since it needs the lab's addresses).
	rb          *runbooks.Runbook
	failRestart []string
}

// fleetRun is a fleet run in progress.
type fleetRun struct {
	g    *globalOptions
	opts *fleetRunOptions
	file string
	dir  string
	id   string
	rec  *fleet.Recorder
	vars map[string]string
	msg  messages

	// view is the live view on a terminal, nil for plain lines.
	view *fleetView
	// out is where plain lines and per-site messages go, one whole line
	// per write.
	out *lockedWriter
	// prompts serializes the operator's questions across sites.
	prompts *fleetPrompts

	mu       sync.Mutex
	stopping bool // fail-fast: no new site starts
	stopWhy  string
	steering map[string]*engine.Steering
}

// lockedWriter serializes whole writes from the sites' goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failFast stops the fleet after site failed: no further site starts and
// every running site is aborted as an operator's abort would (its running
// step stopped, journaled; its finally steps run).
func (f *fleetRun) failFast(failed string) {
	f.mu.Lock()
	if f.stopping {
		f.mu.Unlock()
		return
	}
	f.stopping, f.stopWhy = true, failed
	var others []*engine.Steering
	for name, s := range f.steering {
		if name != failed {
			others = append(others, s)
		}
	}
	f.mu.Unlock()
	for _, s := range others {
		s.Abort(f.g.Operator, "--fail-fast: site "+failed+" failed")
	}
}

// begin registers a site's steering unless the fleet is stopping; it
// reports whether the site may start.
func (f *fleetRun) begin(name string, s *engine.Steering) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopping {
		return false
	}
	f.steering[name] = s
	return true
}

func (f *fleetRun) stopped() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stopping, f.stopWhy
}

// runAll runs every job, opts.Concurrency at a time, and waits for all.
// Sites start in the order given: a slot is taken before the next site's
// goroutine exists, so with --concurrency 1 the second site starts only
// when the first has ended (and, after --fail-fast, never).
func (f *fleetRun) runAll(ctx context.Context, jobs []*fleetJob) {
	sem := make(chan struct{}, f.opts.Concurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			f.notStarted(j, "interrupted before the site started")
			continue
		}
		if stop, why := f.stopped(); stop {
			<-sem
			f.notStarted(j, "--fail-fast: site "+why+" failed")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f.runSite(ctx, j)
		}()
	}
	wg.Wait()
}

func (f *fleetRun) notStarted(j *fleetJob, why string) {
	f.rec.Update(j.name, func(s *fleet.Site) { s.State, s.Error = fleet.StateNotStarted, why })
	f.siteLine(j.name, f.msg.Tf("fleet.not_started", why))
	if f.view != nil {
		f.view.setState(j.name, fleet.StateNotStarted, why)
	}
}

// siteLine prints one line about a site: under its time and name in
// plain mode, above the live view on a terminal.
func (f *fleetRun) siteLine(name, text string) {
	line := fmt.Sprintf("%s [%s] %s\n", time.Now().Format("15:04:05.000"), name, screenBlock(text, plainIndent))
	if f.view != nil {
		f.view.printAbove(line)
		return
	}
	io.WriteString(f.out, line)
}

// fail records that a site ended without a run.
func (f *fleetRun) fail(j *fleetJob, state string, err error) {
	text := err.Error()
	f.rec.Update(j.name, func(s *fleet.Site) {
		now := time.Now().UTC()
		s.State, s.Error, s.Ended = state, text, &now
	})
	f.siteLine(j.name, f.msg.Tf("fleet.site_error", f.msg.Enum("fleet_state", state), err.Error()))
	if f.view != nil {
		f.view.setState(j.name, state, oneLine(text))
	}
	if f.opts.FailFast {
		f.failFast(j.name)
	}
}

// runSite prepares one site (its lab, the runbook against it, the
// preflight) and runs it with its own run directory under the fleet's.
func (f *fleetRun) runSite(ctx context.Context, j *fleetJob) {
	so := siteOptions{Site: j.siteFile, Lab: j.siteFile == "", AcceptNew: f.opts.AcceptNew, KnownHosts: f.opts.KnownHosts,
		Vars: f.opts.Vars, LabSpeed: f.opts.LabSpeed, labFailRestart: j.failRestart}
	ro := &runOptions{siteOptions: so, RunsDir: filepath.Join(f.dir, j.name), Yes: f.opts.Yes}
	now := time.Now().UTC()
	f.rec.Update(j.name, func(s *fleet.Site) { s.State, s.Started = fleet.StateRunning, &now })
	if f.view != nil {
		f.view.setState(j.name, "preflight", "")
	}
	cfg := f.engineConfig(j)
	rb := j.rb
	if so.Lab {
		runDir, err := ro.labRunDir(f.file, f.vars)
		if err != nil {
			f.fail(j, fleet.StateError, err)
			return
		}
		rl, err := startRunLab(ctx, &ro.siteOptions, runDir, f.out)
		if err != nil {
			os.RemoveAll(runDir)
			f.fail(j, fleet.StateError, err)
			return
		}
		defer rl.close()
		rl.site.Name = j.name
		f.rec.Update(j.name, func(s *fleet.Site) { s.LabBlock = rl.lab.Block })
		if rb, err = ro.loadLabRunbook(rl, f.file, f.vars); err != nil {
			os.RemoveAll(runDir)
			f.fail(j, fleet.StateError, err)
			return
		}
		cfg.RunDir, cfg.BeforeFinish = runDir, rl.beforeFinish(f.out)
		// Nothing ran yet: a failed preflight leaves no run directory.
		defer func() {
			if _, err := os.Stat(filepath.Join(runDir, journal.FileName)); err != nil {
				os.RemoveAll(runDir)
				os.Remove(ro.RunsDir)
			}
		}()
	}
	rep := engine.Preflight(ctx, rb, cfg)
	if err := rep.Err(); err != nil {
		f.fail(j, fleet.StatePreflightFailed, err)
		return
	}
	cfg.Preflight = rep
	steer := engine.NewSteering()
	cfg.Steering = steer
	if !f.begin(j.name, steer) {
		_, why := f.stopped()
		f.notStarted(j, "--fail-fast: site "+why+" failed")
		return
	}
	if f.view != nil {
		f.view.setState(j.name, fleet.StateRunning, "")
	}
	res, err := engine.Start(ctx, rb, cfg)
	if res == nil {
		f.fail(j, fleet.StateError, err)
		return
	}
	verdict, why := res.Outcome, ""
	if err != nil {
		why = err.Error()
	}
	r, rerr := writeReports(res.RunDir, f.g.Lang)
	if rerr != nil {
		f.siteLine(j.name, f.msg.Tf("fleet.no_report", rerr, res.RunDir))
	}
	if r != nil {
		verdict = r.Summary.Verdict
		if why == "" && verdict != "passed" {
			why = reports.VerdictExplanation(r, f.g.Lang)
		}
	}
	rel, _ := filepath.Rel(f.dir, res.RunDir)
	end := time.Now().UTC()
	f.rec.Update(j.name, func(s *fleet.Site) {
		s.State, s.Verdict, s.RunDir, s.RunID, s.Ended, s.FinalHash, s.Error = res.Outcome, verdict, rel, res.RunID, &end, res.Head, why
	})
	f.siteLine(j.name, f.msg.Tf("fleet.site_done", f.msg.Enum("result", verdict), res.RunDir))
	if f.view != nil {
		f.view.setState(j.name, verdict, oneLine(why))
	}
	if verdict != "passed" && f.opts.FailFast && ctx.Err() == nil {
		f.failFast(j.name)
	}
}

// engineConfig is one site's run configuration: the run's own observer
// (the site's row of the live view, or plain lines naming the site) and
// operator (unattended, or the fleet's serialized prompts naming the site).
func (f *fleetRun) engineConfig(j *fleetJob) engine.Config {
	mode := "drill"
	if j.siteFile == "" {
		mode = "lab"
	}
	cfg := engine.Config{
		Registry: all.Registry(), RunsDir: filepath.Join(f.dir, j.name), OperatorName: f.g.Operator, Machine: machineName(),
		Mode: mode, Version: version,
		Options: steps.Options{AcceptNew: f.opts.AcceptNew, KnownHosts: f.opts.KnownHosts, Lang: f.g.Lang},
		Labels:  map[string]string{"fleet": f.id, "fleet_site": j.name},
	}
	if mode == "lab" {
		cfg.Labels["lab_speed"] = strconv.FormatFloat(f.opts.LabSpeed, 'g', -1, 64)
	}
	if f.view != nil {
		cfg.Observer = f.view.site(j.name)
	} else {
		p := newPlainObserver(f.out, f.g.Lang)
		p.site = j.name
		cfg.Observer = p
	}
	if f.opts.Yes {
		cfg.Operator = engine.Unattended{Who: f.g.Operator}
	} else {
		cfg.Operator = f.prompts.operator(j.name)
		cfg.Prompter = f.prompts.prompter(j.name)
	}
	return cfg
}

// fleetPrompts asks the operator one site's question at a time: each
// question names its site, holds the live view still while it is asked,
// and waits for the one before it to be answered.
type fleetPrompts struct {
	g    *globalOptions
	mu   sync.Mutex
	in   *lineReader
	view *fleetView
}

// operator is the engine.Operator of one site.
func (p *fleetPrompts) operator(site string) engine.Operator {
	ui := &sitePrompts{p: p, site: site}
	return &serialOperator{p: p, site: site, t: newTerminalOperator(p.g, ui)}
}

func (p *fleetPrompts) prompter(site string) site.Prompter {
	return sitePrompter{p: p, site: site}
}

func (p *fleetPrompts) hold(site string) func() {
	p.mu.Lock()
	if p.view != nil {
		p.view.hold(site)
	}
	return func() {
		if p.view != nil {
			p.view.release()
		}
		p.mu.Unlock()
	}
}

// sitePrompts is a site's operatorUI: plain lines, each naming the site.
type sitePrompts struct {
	p    *fleetPrompts
	site string
}

func (s *sitePrompts) say(line string) {
	fmt.Fprintln(s.p.g.stdout, "["+s.site+"] "+screenBlock(line, "   "))
}
func (s *sitePrompts) settle() {}
func (s *sitePrompts) ask(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(s.p.g.stdout, "["+s.site+"] "+strings.TrimLeft(prompt, " "))
	return s.p.in.next(ctx)
}

// serialOperator is one site's operator in a guided fleet run.
type serialOperator struct {
	p    *fleetPrompts
	site string
	t    *terminalOperator
}

var (
	_ engine.FinallyAsker      = (*serialOperator)(nil)
	_ engine.DependentsSkipper = (*serialOperator)(nil)
)

func (o *serialOperator) Confirm(ctx context.Context, st engine.StepInfo) (engine.Decision, error) {
	defer o.p.hold(o.site)()
	return o.t.Confirm(ctx, st)
}

func (o *serialOperator) Failed(ctx context.Context, st engine.StepInfo, err error) (engine.Decision, error) {
	defer o.p.hold(o.site)()
	return o.t.Failed(ctx, st, err)
}

func (o *serialOperator) Ask(ctx context.Context, st engine.StepInfo, q steps.Question) (steps.Answer, error) {
	defer o.p.hold(o.site)()
	return o.t.Ask(ctx, st, q)
}

func (o *serialOperator) RunFinally(ctx context.Context, finally []engine.StepInfo) (bool, error) {
	defer o.p.hold(o.site)()
	return o.t.RunFinally(ctx, finally)
}

func (o *serialOperator) SkipDependents(ctx context.Context, skipped engine.StepInfo, deps []engine.StepInfo) (bool, error) {
	defer o.p.hold(o.site)()
	return o.t.SkipDependents(ctx, skipped, deps)
}

// sitePrompter asks a site's prompt: secrets, naming the site.
type sitePrompter struct {
	p    *fleetPrompts
	site string
}

func (s sitePrompter) PromptSecret(label string) (string, error) {
	defer s.p.hold(s.site)()
	return terminalPrompter{s.p.g}.PromptSecret("[" + s.site + "] " + label)
}

// fleetResult is the fleet's result from its sites' entries: passed when
// every site passed, interrupted when the fleet was interrupted, failed
// otherwise.
func fleetResult(ctx context.Context, sites []fleet.Site) string {
	if ctx.Err() != nil {
		return "interrupted"
	}
	for _, s := range sites {
		if s.Verdict != "passed" {
			return "failed"
		}
	}
	return "passed"
}

// errFleetFailed is the error of a fleet in which a site did not pass.
var errFleetFailed = i18n.New("the fleet failed", "演練批次未通過")
