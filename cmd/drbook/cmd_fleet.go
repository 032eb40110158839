package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/fleet"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// fleetRunOptions are the flags of `drbook fleet run`.
type fleetRunOptions struct {
	Sites          []string
	LabSites       int
	Concurrency    int
	Yes            bool
	FailFast       bool
	Vars           []string
	FleetDir       string
	LabSpeed       float64
	AcceptNew      bool
	KnownHosts     string
	LabFailRestart []string
}

// AddFlags registers the flags.
func (o *fleetRunOptions) AddFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.Sites, "site", nil, "a site file to run at (repeatable: one run per site)")
	f.IntVar(&o.LabSites, "lab-sites", 0, "run at N embedded lab sites, each on its own loopback block (instead of --site)")
	f.IntVar(&o.Concurrency, "concurrency", 0, "how many sites run at once (default: all)")
	f.BoolVarP(&o.Yes, "yes", "y", false, "unattended: grant confirmations at every site (recorded as such); manual steps fail")
	f.BoolVar(&o.FailFast, "fail-fast", false, "when a site fails, abort the running sites (their finally steps run) and start no more")
	f.StringArrayVar(&o.Vars, "var", nil, "set a runbook parameter at every site: --var name=value (repeatable)")
	f.StringVar(&o.FleetDir, "fleet-dir", "", "the fleet directory to create (default fleets/TIME-RUNBOOK); each site's runs go in DIR/SITE/")
	f.Float64Var(&o.LabSpeed, "lab-speed", 30, "with --lab-sites: how many times faster than real time the labs run")
	f.BoolVar(&o.AcceptNew, "accept-new", false, "pin unknown SSH host keys and TLS certificates for these runs (recorded in each journal)")
	f.StringVar(&o.KnownHosts, "known-hosts", defaultKnownHosts(), "known_hosts file for SSH host keys")
	f.StringArrayVar(&o.LabFailRestart, "lab-fail-restart", nil, "with --lab-sites, to rehearse a failing site: SITE=VM makes vSphere HA's restart of VM fail at that lab site (repeatable)")
}

func newFleetCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Run one runbook at many sites from one seat, and report on the fleet",
	}
	cmd.AddCommand(newFleetRunCommand(g), newFleetReportCommand(g), newFleetHistoryCommand(g))
	return cmd
}

func newFleetRunCommand(g *globalOptions) *cobra.Command {
	opts := &fleetRunOptions{}
	cmd := &cobra.Command{
		Use:   "run RUNBOOK (--site S1 --site S2 … | --lab-sites N)",
		Short: "Run a runbook at every site, each with its own run directory and journal under one fleet directory",
		Long: `Run a runbook at every site, each with its own run directory and journal under
one fleet directory (DIR/fleet.json says which sites, which runs, when, by
whom). One site's failure does not stop the others unless --fail-fast.

Exit codes: 0 every site passed · 1 a site failed, was aborted or did not
start (its preflight failed) · 2 invalid usage or runbook (nothing ran) ·
130 interrupted (each site's run: drbook resume DIR/SITE/RUN).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFleetRun(cmd.Context(), g, opts, args[0])
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// parseFailRestart reads --lab-fail-restart SITE=VM into VMs by site.
func (o *fleetRunOptions) parseFailRestart(names []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, v := range o.LabFailRestart {
		s, vm, ok := strings.Cut(v, "=")
		if !ok || s == "" || vm == "" {
			return nil, usage(text("write --lab-fail-restart SITE=VM, e.g. tamsui-lab=(65)apfg(02)", "請寫成 --lab-fail-restart SITE=VM，如 tamsui-lab=(65)apfg(02)"), i18n.Errorf("--lab-fail-restart %q has no '='", "--lab-fail-restart %q 缺少「=」", v))
		}
		found := false
		for _, n := range names {
			found = found || n == s
		}
		if !found {
			return nil, usage(text("name one of the lab sites: "+strings.Join(names, ", "), "請指定下列模擬場域之一："+strings.Join(names, "、")), i18n.Errorf("--lab-fail-restart: no lab site %q", "--lab-fail-restart：無模擬場域 %q", s))
		}
		out[s] = append(out[s], vm)
	}
	return out, nil
}

// runFleetRun runs the runbook at every site; see newFleetRunCommand.
func runFleetRun(ctx context.Context, g *globalOptions, opts *fleetRunOptions, file string) error {
	switch {
	case len(opts.Sites) > 0 && opts.LabSites > 0:
		return usage(text("give site files with --site, or --lab-sites N, not both", "請以 --site 指定場域檔，或指定 --lab-sites N，兩者擇一"), i18n.New("--site and --lab-sites contradict each other", "--site 與 --lab-sites 互相衝突"))
	case len(opts.Sites) == 0 && opts.LabSites <= 0:
		return usage(text("give a site file per site with --site S (repeatable), or --lab-sites N", "請以 --site S（可重複指定）逐一指定各場域之場域檔，或指定 --lab-sites N"), i18n.New("no sites to run at", "未指定要執行之場域"))
	case opts.LabSites > maxLabSites:
		return usage(text(fmt.Sprintf("run at most %d lab sites from one process", maxLabSites), fmt.Sprintf("單一程序最多執行 %d 處模擬場域", maxLabSites)), i18n.Errorf("--lab-sites %d: there are not enough loopback blocks", "--lab-sites %d：本機迴路位址區段不足", opts.LabSites))
	case opts.Concurrency < 0:
		return usage(text("give --concurrency 1 or more", "--concurrency 須為 1 以上"), i18n.Errorf("--concurrency %d", "--concurrency %d", opts.Concurrency))
	case len(opts.LabFailRestart) > 0 && opts.LabSites == 0:
		return usage(text("--lab-fail-restart rehearses a failure at a lab site; use it with --lab-sites", "--lab-fail-restart 用以於模擬場域演練失敗，請搭配 --lab-sites 使用"), i18n.New("--lab-fail-restart without --lab-sites", "指定 --lab-fail-restart 但未指定 --lab-sites"))
	}
	if !opts.Yes && !isTerminal(g.stdin) {
		return usage(text("pass --yes to run unattended (confirmations are then granted and recorded as such)", "如需無人值守執行請加 --yes（各項確認將自動同意並如實記錄）"), i18n.New("standard input is not a terminal, so nobody can confirm steps", "標準輸入不是終端機，無人能確認步驟"))
	}
	vars, err := (&siteOptions{Vars: opts.Vars}).vars()
	if err != nil {
		return err
	}
	// Every site's runbook loads before anything starts: a typo, or a
	// site file the runbook does not fit, stops the fleet with nothing run.
	var jobs []*fleetJob
	var rb *runbooks.Runbook
	if opts.LabSites > 0 {
		if rb, err = runbooks.Load(file, runbooks.Options{Registry: all.Registry(), Vars: vars, Site: labSiteShape()}); err != nil {
			return err
		}
		names := labSiteNames(opts.LabSites)
		fails, err := opts.parseFailRestart(names)
		if err != nil {
			return err
		}
		for _, n := range names {
			jobs = append(jobs, &fleetJob{name: n, failRestart: fails[n]})
		}
	} else {
		seen := map[string]int{}
		for _, sf := range opts.Sites {
			so := &siteOptions{Site: sf, Vars: opts.Vars}
			srb, closeFn, err := so.loadRunbook(ctx, file, vars)
			if err != nil {
				return err
			}
			closeFn()
			name := "site"
			if srb.Site != nil && srb.Site.Name != "" {
				name = srb.Site.Name
			}
			if seen[name]++; seen[name] > 1 {
				name = fmt.Sprintf("%s-%d", name, seen[name])
			}
			jobs = append(jobs, &fleetJob{name: fleetDirName(name), siteFile: sf, rb: srb})
			if rb == nil {
				rb = srb
			}
		}
	}
	if opts.Concurrency == 0 || opts.Concurrency > len(jobs) {
		opts.Concurrency = len(jobs)
	}
	now := time.Now()
	id := engine.RunDirName(now, rb.Name)
	dir := opts.FleetDir
	if dir == "" {
		dir = filepath.Join("fleets", id)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return usage(text("choose a new directory with --fleet-dir (or leave it out for fleets/TIME-RUNBOOK)", "請以 --fleet-dir 指定新目錄（或不指定，使用 fleets/TIME-RUNBOOK）"), i18n.Errorf("%s is not empty", "%s 不是空目錄", dir))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return usage(text("choose another with --fleet-dir", "請以 --fleet-dir 指定其他目錄"), i18n.Errorf("cannot create the fleet directory: %v", "無法建立演練批次目錄：%v", err))
	}
	abs, _ := filepath.Abs(file)
	m := fleet.Manifest{FleetID: id, Runbook: rb.Name, RunbookPath: abs, RunbookSHA256: rb.SHA256, Operator: g.Operator, Machine: machineName(),
		DrbookVersion: version, Mode: "drill", Concurrency: opts.Concurrency, FailFast: opts.FailFast, Unattended: opts.Yes, Started: now.UTC()}
	if len(vars) > 0 {
		m.Vars = vars
	}
	var names []string
	for _, j := range jobs {
		s := fleet.Site{Name: j.name, State: fleet.StatePending, Lab: j.siteFile == ""}
		if j.siteFile != "" {
			s.SiteFile, _ = filepath.Abs(j.siteFile)
		}
		m.Sites = append(m.Sites, s)
		names = append(names, j.name)
	}
	if opts.LabSites > 0 {
		m.Mode, m.LabSpeed = "lab", opts.LabSpeed
	}
	rec, err := fleet.NewRecorder(dir, m)
	if err != nil {
		return err
	}
	f := &fleetRun{g: g, opts: opts, file: file, dir: dir, id: id, rec: rec, vars: vars, msg: messagesFor(g.Lang),
		out: &lockedWriter{w: g.stdout}, steering: map[string]*engine.Steering{}}
	if out, ok := g.stdout.(*os.File); ok && isTerminal(out) {
		f.view = newFleetView(out, g.Lang, names)
	}
	if !opts.Yes {
		f.prompts = &fleetPrompts{g: g, in: newLineReader(g.stdin), view: f.view}
	}
	fmt.Fprintln(f.out, f.msg.Tf("fleet.start", id, rb.Name, len(jobs), opts.Concurrency, dir))
	if f.view != nil {
		f.view.start()
	}
	f.runAll(ctx, jobs)
	if f.view != nil {
		f.view.close()
	}
	final := rec.Manifest()
	result := fleetResult(ctx, final.Sites)
	if err := rec.Finish(time.Now().UTC(), result); err != nil {
		fmt.Fprintln(g.stderr, f.msg.Tf("warn.line", i18n.In(err, g.Lang)))
	}
	final = rec.Manifest()
	fr, rerr := writeFleetReports(dir, g.Lang)
	if rerr != nil {
		fmt.Fprintln(g.stderr, f.msg.Tf("warn.line", f.msg.Tf("warn.fleet_report", rerr, dir)))
	}
	printFleetSummary(f, fr, final)
	switch {
	case ctx.Err() != nil:
		return &hintedError{err: i18n.Errorf("%w: the fleet was interrupted", "%w：演練批次執行中斷", engine.ErrInterrupted), hint: journal.Text{EN: f.msg.T("fleet.resume_hint")}}
	case result != "passed":
		return &hintedError{err: errFleetFailed, hint: journal.Text{EN: f.msg.Tf("fleet.failed_hint", dir)}}
	}
	return nil
}

// fleetDirName makes a site name safe as a directory name.
func fleetDirName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r < ' ' {
			return '_'
		}
		return r
	}, strings.TrimLeft(name, "."))
}

// printFleetSummary prints one line per site and the fleet's result.
func printFleetSummary(f *fleetRun, fr *fleet.Report, m fleet.Manifest) {
	w := newTable(f.out)
	fmt.Fprintln(w)
	fmt.Fprintln(w, f.msg.T("fleet.summary_head"))
	for _, s := range m.Sites {
		result, rto := f.msg.Enum("fleet_state", s.State), "–"
		if s.Verdict != "" {
			result = f.msg.Enum("result", s.Verdict)
		}
		if fr != nil {
			if sr := fr.Site(s.Name); sr != nil {
				rto = fleet.RTOText(sr, f.g.Lang)
			}
		}
		where := s.RunDir
		if where != "" {
			where = filepath.Join(f.dir, where)
		} else {
			where = screenText(oneLine(s.Error))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", cell(s.Name), result, rto, where)
	}
	w.Flush()
	passed := 0
	for _, s := range m.Sites {
		if s.Verdict == "passed" {
			passed++
		}
	}
	fmt.Fprintln(f.out, f.msg.Tf("fleet.result", f.msg.Enum("result", fleetResultOf(m)), passed, len(m.Sites)))
	fmt.Fprintln(f.out, f.msg.Tf("fleet.dir", f.dir))
	fmt.Fprintln(f.out, f.msg.Tf("fleet.report", filepath.Join(f.dir, fleetReportHTML)))
}

func fleetResultOf(m fleet.Manifest) string {
	if m.Result != "" {
		return m.Result
	}
	return "incomplete"
}

// The fleet reports written into the fleet directory when it ends.
const (
	fleetReportHTML = "fleet-report.html"
	fleetReportJSON = "fleet-report.json"
)

// writeFleetReports builds the fleet report from the sites' journals and
// writes its HTML and JSON into the fleet directory.
func writeFleetReports(dir, lang string) (*fleet.Report, error) {
	r, err := fleet.Build(dir)
	if err != nil {
		return nil, err
	}
	for file, format := range map[string]string{fleetReportHTML: reports.FormatHTML, fleetReportJSON: reports.FormatJSON} {
		if err := writePrivate(dir, file, func(w io.Writer) error { return fleet.Render(w, r, format, lang) }); err != nil {
			return r, err
		}
	}
	return r, nil
}

func newFleetReportCommand(g *globalOptions) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report FLEET_DIR",
		Short: "The fleet's report: per site RTO objective vs measured, downtime per service, deviations, verdict, and the fleet's summary",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case reports.FormatHTML, reports.FormatMD, reports.FormatJSON:
			default:
				return usage(text("use --format html, md or json", "請使用 --format html、md 或 json"), i18n.Errorf("unknown format %q", "不支援之格式 %q", format))
			}
			r, err := fleet.Build(args[0])
			if err != nil {
				return usage(text("give the directory `drbook fleet run` printed", "請指定 `drbook fleet run` 所列出之目錄"), err)
			}
			w := g.stdout
			if out != "" {
				f, err := createPrivate(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return fleet.Render(w, r, format, g.Lang)
		},
	}
	cmd.Flags().StringVar(&format, "format", reports.FormatMD, "html, md or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the report to this file instead of standard output")
	cmd.RegisterFlagCompletionFunc("format", completeFixed(reports.FormatHTML, reports.FormatMD, reports.FormatJSON))
	return cmd
}

func newFleetHistoryCommand(g *globalOptions) *cobra.Command {
	var format, runbook string
	cmd := &cobra.Command{
		Use:   "history RUNS_OR_FLEETS_DIR",
		Short: "Drills across sites and years: every run found under the folder (fleets, runs folders), per site and year",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := fleet.History(args[0], runbook)
			if err != nil {
				return usage(text("give a folder that holds fleet directories or run directories", "請指定存放演練批次目錄或執行目錄之資料夾"), err)
			}
			switch format {
			case "text":
				return printFleetHistory(g, h)
			case reports.FormatJSON:
				return fleet.RenderHistoryJSON(g.stdout, h)
			}
			return usage(text("use --format text or json", "請使用 --format text 或 json"), i18n.Errorf("unknown format %q", "不支援之格式 %q", format))
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().StringVar(&runbook, "runbook", "", "only runs of this runbook")
	return cmd
}

// printFleetHistory prints one line per site, runbook and year, then every
// run.
func printFleetHistory(g *globalOptions, h *fleet.HistoryReport) error {
	m := messagesFor(g.Lang)
	am := auditMessagesFor(g.Lang)
	tw := newTable(g.stdout)
	fmt.Fprintln(tw, m.T("fleet.history_head"))
	for _, y := range h.Years {
		rto := "–"
		if y.Fastest != nil {
			rto = m.Tf("fleet.history_rto", am.dur(*y.Fastest), am.dur(*y.Median), am.dur(*y.Slowest))
		}
		down := []string{}
		for _, d := range y.Downtime {
			down = append(down, m.Tf("fleet.history_down", cell(d.Name), am.dur(d.Worst)))
		}
		if len(down) == 0 {
			down = []string{am.Say("downtime.none")}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d/%d\t%d\t%s\t%s\n", cell(y.Site), cell(y.Runbook), y.Year, y.Passed, y.Runs, y.RTOMissed, rto, strings.Join(down, am.Say("list.sep")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout)
	return printHistory(g.stdout, am, h.Runs)
}
