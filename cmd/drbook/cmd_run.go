package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

type runOptions struct {
	siteOptions
	RunsDir          string
	Yes              bool
	Mode             string
	Step             bool
	RerunInterrupted bool
	Sign             string
	Guided           bool
	NoPreflight      bool
	Temporal         temporalOptions

	flags *pflag.FlagSet
}

// AddFlags registers the flags run and resume share.
func (o *runOptions) AddFlags(f *pflag.FlagSet) {
	o.siteOptions.AddFlags(f)
	f.BoolVarP(&o.Yes, "yes", "y", false, "unattended: grant confirmations (recorded as such); manual steps fail")
	f.BoolVar(&o.Step, "step", false, "ask before every step")
	f.BoolVar(&o.RerunInterrupted, "rerun-interrupted", false, "run again a step that was interrupted although it is not idempotent (you checked its target)")
	f.StringVar(&o.Sign, "sign", "", "sign the journal's final hash with this ed25519 private key when the run ends")
	f.BoolVar(&o.Guided, "guided", false, "live view with prompts; the default when standard input is a terminal and --yes is not given (--guided=false asks line by line)")
	o.flags = f
}

// guided says whether the run is guided: an operator at a terminal, not
// --yes, and not --guided=false.
func (o *runOptions) guided(g *globalOptions) (bool, error) {
	explicit := o.flags != nil && o.flags.Changed("guided")
	if explicit && o.Guided && o.Yes {
		return false, usage(text("choose one: --guided (an operator answers) or --yes (unattended)", "請擇一：--guided（由操作人員回答）或 --yes（無人值守）"), i18n.New("--guided and --yes contradict each other", "--guided 與 --yes 互相衝突"))
	}
	if explicit && !o.Guided {
		return false, nil
	}
	return !o.Yes && isTerminal(g.stdin), nil
}

func newRunCommand(g *globalOptions) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a runbook; every step is journaled in a new run directory",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd.Context(), g, opts, args[0])
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&opts.RunsDir, "runs-dir", "runs", "where run directories are created")
	cmd.Flags().StringVar(&opts.Mode, "mode", "", "drill or recovery (lab runs are always lab)")
	cmd.Flags().BoolVar(&opts.NoPreflight, "no-preflight", false, "start without the read-only preflight of every step (journaled in run.start)")
	opts.Temporal.AddFlags(cmd.Flags())
	return cmd
}

// engineConfig builds the run's configuration. A guided run on a terminal
// also gets its session (the live view and Ctrl-C), which the caller
// closes when the run ends; it is nil otherwise.
func (o *runOptions) engineConfig(g *globalOptions) (engine.Config, *guidedSession, error) {
	cfg, err := o.baseConfig(g)
	if err != nil {
		return cfg, nil, err
	}
	guided, err := o.guided(g)
	if err != nil || !guided {
		return cfg, nil, err
	}
	if f, ok := g.stdout.(*os.File); !ok || !isTerminal(f) {
		// Guided, but the output goes to a file or a pipe: the plain
		// lines and line-by-line prompts, never escape codes.
		return cfg, nil, nil
	}
	s, err := startGuided(g)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Observer = s.observer()
	cfg.Operator = newTerminalOperator(g, s.view)
	cfg.Prompter = s.prompter()
	cfg.Steering = s.steer
	return cfg, s, nil
}

func (o *runOptions) baseConfig(g *globalOptions) (engine.Config, error) {
	mode := o.Mode
	switch {
	case o.Lab:
		mode = "lab"
	case mode == "":
		mode = "drill"
	case mode != "drill" && mode != "recovery":
		return engine.Config{}, usage(text("use --mode drill or --mode recovery", "請使用 --mode drill 或 --mode recovery"), i18n.Errorf("unknown mode %q", "不支援之模式 %q", mode))
	}
	if !o.Yes && !isTerminal(g.stdin) {
		return engine.Config{}, usage(text("pass --yes to run unattended (confirmations are then granted and recorded as such)", "如需無人值守執行請加 --yes（各項確認將自動同意並如實記錄）"), i18n.New("standard input is not a terminal, so nobody can confirm steps", "標準輸入不是終端機，無人能確認步驟"))
	}
	cfg := engine.Config{
		Registry: all.Registry(), RunsDir: o.RunsDirOrDefault(), OperatorName: g.Operator, Machine: machineName(),
		Mode: mode, Version: version, StepByStep: o.Step, RerunInterrupted: o.RerunInterrupted,
		Options:  steps.Options{AcceptNew: o.AcceptNew, KnownHosts: o.KnownHosts, Lang: g.Lang},
		Observer: newPlainObserver(g.stdout, g.Lang),
	}
	if o.Lab {
		cfg.Labels = map[string]string{"lab_speed": strconv.FormatFloat(o.LabSpeed, 'g', -1, 64)}
	}
	if o.Yes {
		cfg.Operator = engine.Unattended{Who: g.Operator}
	} else {
		cfg.Operator = newTerminalOperator(g, nil)
		cfg.Prompter = terminalPrompter{g}
	}
	return cfg, nil
}

// RunsDirOrDefault returns the runs directory.
func (o *runOptions) RunsDirOrDefault() string {
	if o.RunsDir == "" {
		return "runs"
	}
	return o.RunsDir
}

// startLabRun makes a lab run's directory, starts its lab there and loads
// the runbook against it; cfg is set to make the run in that directory
// and to save the lab's state before each step's finish is journaled.
func (o *runOptions) startLabRun(ctx context.Context, g *globalOptions, file string, cfg *engine.Config) (*runbooks.Runbook, *labOfRun, error) {
	vars, err := o.vars()
	if err != nil {
		return nil, nil, err
	}
	runDir, err := o.labRunDir(file, vars)
	if err != nil {
		return nil, nil, err
	}
	rl, err := startRunLab(ctx, &o.siteOptions, runDir, g.stderr)
	if err == nil {
		var rb *runbooks.Runbook
		if rb, err = o.loadLabRunbook(rl, file, vars); err == nil {
			cfg.RunDir, cfg.BeforeFinish = runDir, rl.beforeFinish(g.stderr)
			return rb, rl, nil
		}
		rl.close()
	}
	// Nothing ran: leave no run directory without a journal behind.
	os.RemoveAll(runDir)
	return nil, nil, err
}

func runRun(ctx context.Context, g *globalOptions, opts *runOptions, file string) error {
	if opts.Temporal.Address != "" {
		return runTemporal(ctx, g, opts, file)
	}
	cfg, session, err := opts.engineConfig(g)
	if err != nil {
		return err
	}
	if session != nil {
		defer session.close()
	}
	var rb *runbooks.Runbook
	var rl *labOfRun
	if opts.Lab {
		if rb, rl, err = opts.startLabRun(ctx, g, file, &cfg); err != nil {
			return err
		}
		defer func() {
			if rl != nil {
				rl.close()
			}
		}()
	} else {
		var closeLab func()
		if rb, closeLab, err = opts.loadRunbook(ctx, file, nil); err != nil {
			return err
		}
		defer closeLab()
	}
	if session != nil && rb.Site != nil {
		vc := ""
		if rb.Site.VCenter != nil {
			vc = rb.Site.VCenter.URL
		}
		session.view.setSite(rb.Site.Name, vc, rb.Site.Lab || opts.Lab)
	}
	if !opts.NoPreflight {
		// Every step's read-only check before the first one changes
		// anything: a typo found now costs nothing, found after a VM was
		// powered off it leaves the site worse than the drill found it.
		m := messagesFor(g.Lang)
		if session != nil {
			session.view.setStatus(m.T("preflight.running"))
		}
		rep := engine.Preflight(ctx, rb, cfg)
		if rep.Err() != nil {
			if session != nil {
				session.close()
			}
			fmt.Fprintln(g.stdout, m.Tf("preflight.title", rb.Name, rb.Site.Name))
			printPreflight(g.stdout, m, rep.Checks)
			if rl != nil {
				// Nothing ran: leave no run directory without a journal.
				rl.close()
				rl = nil
				os.RemoveAll(cfg.RunDir)
				os.Remove(filepath.Dir(cfg.RunDir)) // the runs folder, if this made it

			}
			return preflightError(m, rep)
		}
		if session != nil {
			session.view.setStatus("")
		}
		cfg.Preflight = rep
	}
	if session != nil {
		ctx = session.context(ctx)
	}
	res, err := engine.Start(ctx, rb, cfg)
	if session != nil {
		session.close()
	}
	return finishRun(g, opts, res, err)
}

// finishRun signs the journal when asked, writes the HTML and JSON reports
// into the run directory (also for a failed or interrupted run) and says
// where everything is.
func finishRun(g *globalOptions, opts *runOptions, res *engine.Result, err error) error {
	if res == nil {
		return err
	}
	if opts.Sign != "" {
		if serr := signRun(g, res.RunDir, opts.Sign); serr != nil {
			m := messagesFor(g.Lang)
			fmt.Fprintln(g.stderr, m.Tf("warn.line", m.Tf("warn.not_signed", i18n.In(serr, g.Lang))))
		}
	}
	rep, rerr := writeReports(res.RunDir, g.Lang)
	if rerr != nil {
		m := messagesFor(g.Lang)
		fmt.Fprintln(g.stderr, m.Tf("warn.line", m.Tf("warn.reports", rerr, res.RunDir)))
	}
	m := messagesFor(g.Lang)
	result := m.Enum("result", res.Outcome)
	if rep != nil {
		// The report's verdict is the run's one result (a missed RTO
		// fails a run whose steps all passed).
		result = m.Enum("result", rep.Summary.Verdict)
	}
	fmt.Fprintf(g.stdout, "\n%s\n%s\n%s\n%s\n", m.Tf("summary.result", result), m.Tf("summary.run_dir", res.RunDir),
		m.Tf("summary.report", filepath.Join(res.RunDir, "report.html")), m.Tf("summary.hash", res.Head))
	// Never leave the site down without saying so.
	readLeftDown(res.RunDir).print(g.stdout, m)
	if err == nil && rep != nil && !rep.Summary.Passed {
		return drillFailed(rep, g.Lang)
	}
	if errors.Is(err, engine.ErrInterrupted) || errors.Is(err, engine.ErrNeedsDecision) {
		return &resumableError{err: err, runDir: res.RunDir}
	}
	if errors.Is(err, engine.ErrPaused) {
		return i18n.Errorf("%w; continue with: drbook resume %s", "%w；續行指令：drbook resume %s", err, res.RunDir)
	}
	return err
}

func newResumeCommand(g *globalOptions) *cobra.Command {
	opts := &runOptions{}
	var ro engine.ResumeOptions
	cmd := &cobra.Command{
		Use:               "resume RUN_DIR",
		Short:             "Continue an interrupted or paused run; finished steps are never run again unless named by --from or --only",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRunDirs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runResume(cmd.Context(), g, opts, args[0], ro)
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&ro.AllowChanged, "allow-changed", false, "resume although the runbook or the site file changed since the run started (both hashes are recorded)")
	cmd.Flags().StringVar(&ro.From, "from", "", "run again from this step on, even steps journaled as finished (recorded in the journal)")
	cmd.Flags().StringSliceVar(&ro.Only, "only", nil, "run just these steps (STEP[,STEP]), again if they finished (recorded in the journal)")
	cmd.RegisterFlagCompletionFunc("from", completeStepIDs)
	cmd.RegisterFlagCompletionFunc("only", completeStepIDs)
	return cmd
}

func runResume(ctx context.Context, g *globalOptions, opts *runOptions, runDir string, ro engine.ResumeOptions) error {
	if err := needRunDir(runDir); err != nil {
		return err
	}
	state, err := engine.ReadState(runDir)
	if err != nil {
		return usage(text("give the directory `drbook run` printed", "請指定 `drbook run` 所列出之目錄"), err)
	}
	if e := state.LastEnd; e != nil && e.Result != "interrupted" && e.Result != "paused" && ro.From == "" && len(ro.Only) == 0 {
		// Nothing to do, so nobody needs to be at a terminal for it.
		m := messagesFor(g.Lang)
		fmt.Fprintln(g.stdout, m.Tf("resume.finished", m.Enum("result", e.Result)))
		return nil
	}
	opts.RunsDir = filepath.Dir(filepath.Clean(runDir)) // Clean: "runs/x/" is in "runs", not "runs/x"
	if state.Start.Mode == "lab" {
		opts.Lab = true
		// The lab keeps the run's time scale unless told otherwise.
		if sp, err := strconv.ParseFloat(state.Start.Labels["lab_speed"], 64); err == nil && !opts.flags.Changed("lab-speed") {
			opts.LabSpeed = sp
		}
	}
	cfg, session, err := opts.engineConfig(g)
	if err != nil {
		return err
	}
	if session != nil {
		defer session.close()
		session.replay(state.Log.Events)
	}
	path := state.Start.RunbookPath
	if _, err := os.Stat(path); err != nil {
		// The run directory keeps the exact runbook that was run.
		path = filepath.Join(runDir, "runbook.yaml")
	}
	if opts.Site == "" && state.Start.SitePath != "" {
		opts.Site = journaledSitePath(state.Start.SitePath, opts.RunsDir)
	}
	// The run continues with the values it started with; --var changes
	// are journaled in run.resume.
	vars, err := opts.vars()
	if err != nil {
		return err
	}
	opts.values = state.Start.Params
	if len(vars) > 0 {
		ro.Params = map[string]any{}
		for k, v := range vars {
			ro.Params[k] = v
		}
	}
	var rb *runbooks.Runbook
	if opts.Lab {
		// The lab continues the world the run left (lab-state.json).
		rl, err := startRunLab(ctx, &opts.siteOptions, runDir, g.stderr)
		if err != nil {
			return err
		}
		defer rl.close()
		if name := state.Start.Site; name != "" {
			// A fleet's lab site keeps its name (fleet run --lab-sites).
			rl.site.Name = name
		}
		if rb, err = opts.loadLabRunbook(rl, path, vars); err != nil {
			return err
		}
		cfg.BeforeFinish = rl.beforeFinish(g.stderr)
	} else {
		var closeLab func()
		if rb, closeLab, err = opts.loadRunbook(ctx, path, vars); err != nil {
			return err
		}
		defer closeLab()
	}
	if session != nil {
		if rb.Site != nil {
			vc := ""
			if rb.Site.VCenter != nil {
				vc = rb.Site.VCenter.URL
			}
			session.view.setSite(rb.Site.Name, vc, rb.Site.Lab || opts.Lab)
		}
		ctx = session.context(ctx)
	}
	res, err := state.Resume(ctx, rb, cfg, ro)
	if session != nil {
		session.close()
	}
	if errors.Is(err, engine.ErrRunbookChanged) {
		return usage(text("resume with --allow-changed to accept the new runbook (both hashes are journaled), or restore the old one", "請加 --allow-changed 續行以接受新演練手冊（新舊雜湊值均記錄於紀錄檔），或還原舊演練手冊"), err)
	}
	if errors.Is(err, engine.ErrSiteChanged) {
		return usage(text("resume with --allow-changed to accept the changed site file (both hashes are journaled), or restore the old one", "請加 --allow-changed 續行以接受變更後之場域檔（新舊雜湊值均記錄於紀錄檔），或還原舊場域檔"), err)
	}
	if errors.Is(err, engine.ErrUnknownStep) {
		return usage(text("name a step id as `drbook plan` lists it", "請指定 `drbook plan` 所列之步驟代號"), err)
	}
	if errors.Is(err, engine.ErrFinished) {
		m := messagesFor(g.Lang)
		fmt.Fprintln(g.stdout, m.Tf("resume.finished", m.Enum("result", res.Outcome)))
		return nil
	}
	return finishRun(g, opts, res, err)
}

// plainObserver prints one timestamped line per event: what a log file or
// a CI system wants, never escape codes.
type plainObserver struct {
	mu   sync.Mutex
	w    io.Writer
	lang string
	msg  messages
	// site, when set, names the site on every line (a fleet run).
	site string
}

func newPlainObserver(w io.Writer, lang string) *plainObserver {
	return &plainObserver{w: w, lang: lang, msg: messagesFor(lang)}
}

// line prints the catalog's text for key, worded with args, under its time.
// What the args bring (a guest's error output, a note, a value) is shown,
// never obeyed, and its lines after the first are marked as continuations
// under the message, so none can pass for a line of drbook's own.
func (p *plainObserver) line(t time.Time, key string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	site := ""
	if p.site != "" {
		site = "[" + p.site + "] "
	}
	fmt.Fprintf(p.w, "%s %s%s\n", t.Local().Format("15:04:05.000"), site, screenBlock(p.msg.Tf(key, args...), plainIndent))
}

// plainIndent puts a continuation line under the message, past the time.
const plainIndent = "             "

func (p *plainObserver) Event(ev journal.Event) {
	switch ev.Type {
	case journal.TypeRunStart:
		s := ev.RunStart
		p.line(ev.Time, "plain.run_start", s.RunID, s.Runbook, s.Title.In(p.lang), s.Site, s.Operator, p.msg.Enum("mode", s.Mode))
	case journal.TypeRunResume:
		p.line(ev.Time, "log.resumed", ev.RunResume.Operator)
	case journal.TypeStepStart:
		s := ev.StepStart
		name := s.Name.In(p.lang)
		if name == "" {
			name = journal.Text{EN: s.Description, ZhTW: s.DescriptionZhTW}.In(p.lang)
		}
		p.line(ev.Time, "plain.start", ev.Step, s.Kind, name)
	case journal.TypeStepRetry:
		p.line(ev.Time, "plain.retry", ev.Step, ev.StepRetry.Attempt, oneLine(ev.StepRetry.ErrorIn(p.lang)), ev.StepRetry.Delay)
	case journal.TypeStepFinish:
		f := ev.StepFinish
		switch f.Status {
		case journal.StatusOK:
			p.line(ev.Time, "plain.ok", ev.Step, f.Duration.D().Round(time.Millisecond))
		case journal.StatusSkipped, journal.StatusManual:
			p.line(ev.Time, "plain.not_run", ev.Step, p.msg.Enum("status", f.Status), f.ReasonIn(p.lang))
		default:
			p.line(ev.Time, "plain.failed", ev.Step, p.msg.Enum("status", f.Status), f.Duration.D().Round(time.Millisecond), f.ErrorIn(p.lang))
		}
	case journal.TypeNote:
		p.line(ev.Time, "plain.note", p.msg.Enum("level", ev.Note.Level), ev.Note.TextIn(p.lang))
	case journal.TypeDecision:
		d := ev.Decision
		p.line(ev.Time, "plain.decision", d.Who, ev.Step, p.msg.Enum("action", d.Action), journal.Text{EN: d.Reason, ZhTW: d.ReasonZhTW}.In(p.lang))
	case journal.TypeTrust:
		t := ev.Trust
		p.line(ev.Time, "plain.trust", p.msg.Word("trust_kind", t.Kind), t.Endpoint, t.Fingerprint, p.msg.Word("trust_source", t.Source))
	case journal.TypeMonitor:
		m := ev.Monitor
		p.line(ev.Time, "plain.monitor", m.Name, p.msg.Enum("monitor", m.State), journal.Text{EN: m.Detail, ZhTW: m.DetailZhTW}.In(p.lang))
	case journal.TypeRunEnd:
		p.line(ev.Time, "plain.run_end", p.msg.Enum("result", ev.RunEnd.Result), ev.RunEnd.Duration.D().Round(time.Millisecond))
	}
}

func (p *plainObserver) Progress(step, text string) {
	p.line(time.Now(), "plain.progress", step, text)
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

var _ site.Prompter = terminalPrompter{}

// resumableError is a run that stopped and can be resumed; its hint names
// the run directory.
type resumableError struct {
	err    error
	runDir string
}

func (r *resumableError) Error() string { return r.err.Error() }
func (r *resumableError) Unwrap() error { return r.err }
