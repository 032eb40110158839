package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// auditCatalog holds the fixed texts of the commands an auditor uses on
// finished runs (verify, runs, history): {English, Traditional Chinese}.
// The terms follow the reports' catalog (reports/i18n.go).
var auditCatalog = map[string][2]string{
	"verify.lines":          {"journal: %d lines, hash chain intact", "紀錄檔：共 %d 行，雜湊鏈完整"},
	"verify.final":          {"final hash: %s", "最終雜湊值：%s"},
	"verify.torn":           {"note: %d bytes of a torn last line (a crash while writing) were ignored", "注意：已忽略不完整之最後一行 %d 位元組（寫入時程式中止）"},
	"verify.ended":          {"run: ended, recorded result %s", "執行：已結束，紀錄之結果為「%s」"},
	"verify.sig_none":       {"signature: none (sign with `drbook report --sign KEY`)", "簽章：無（可用 `drbook report --sign 金鑰` 簽章）"},
	"verify.sig_trusted":    {"signature: valid, by the key you gave (%s)", "簽章：有效，為您提供之金鑰所簽（%s）"},
	"verify.sig_carried":    {"signature: valid for the key it carries (%s); pass --key to check it is the right key", "簽章：以其所附金鑰驗證有效（%s）；請以 --key 核對是否為正確金鑰"},
	"verify.tampered":       {"NOT VERIFIED: %v", "未通過驗證：%v"},
	"verify.tampered_how":   {"the journal was changed after it was written (or is damaged); no report of this run can be relied on. Compare with a copy kept elsewhere, or with its signed final hash", "紀錄檔於寫入後遭變更（或已損毀）；本次執行之報告均不可採信。請與另存之副本或已簽章之最終雜湊值比對"},
	"verify.incomplete":     {"INCOMPLETE: the journal's last line (%d) is a %s event, not run.end: the run is still going, stopped without ending (a crash), or its end was cut off", "未完成：紀錄檔最後一行（第 %d 行）為 %s 事件，而非 run.end：執行仍在進行、未正常結束（程式中止），或結尾遭刪除"},
	"verify.incomplete_how": {"if the run is still going, verify it when it has ended; only a signature (`drbook report --sign KEY`) proves that no line was cut off the end", "若執行仍在進行，請於結束後再驗證；唯有簽章（`drbook report --sign 金鑰`）能證明結尾未遭刪除"},

	"drill.failed_how": {"every step passed, the drill did not: see the report's summary (report.html)", "各步驟均成功，惟演練未通過：請見報告摘要（report.html）"},

	"runs.head":          {"RUN\tRUNBOOK\t%s\tDURATION\tSITE\tSTATE\tRTO\tCHAIN\tOPERATOR", "執行目錄\t演練手冊\t%s\t經過時間\t場域\t狀態\tRTO\t雜湊鏈\t操作人員"},
	"history.head":       {"%s\tRUNBOOK\tSITE\tRESULT\tRTO\tMEASURED\tDOWNTIME\tCHAIN\tRUN", "%s\t演練手冊\t場域\t結果\tRTO\t實測復原\t停機時間\t雜湊鏈\t執行目錄"},
	"listing.started":    {"STARTED", "開始時間"},
	"list.sep":           {", ", "、"},
	"listing.started_in": {"STARTED (%s)", "開始時間（%s）"},
	"runs.unreadable":    {"unreadable: %s", "無法讀取：%s"},
	"runs.interrupted":   {"%s; interrupted steps: %s", "%s；執行中斷之步驟：%s"},
	"runs.no_end":        {"interrupted: no end recorded (crashed or still running)", "執行中斷：無結束紀錄（程式中止或仍在執行）"},
	"site.lab":           {"lab", "模擬環境"},
	"site.lab_speed":     {"lab ×%s", "模擬環境 ×%s"},
	"site.real":          {"%s (real)", "%s（實際場域）"},
	"site.none":          {"no site (real)", "無場域（實際執行）"},
	"state.passed":       {"passed", "通過"},
	"state.failed":       {"failed", "未通過"},
	"state.aborted":      {"aborted", "中止"},
	"state.interrupted":  {"interrupted", "執行中斷"},
	"state.paused":       {"paused", "暫停"},
	"state.not-verified": {"NOT VERIFIED", "未通過驗證"},
	"rto.met":            {"met: %s of %s", "達成：%s／目標 %s"},
	"rto.missed":         {"MISSED: %s of %s", "未達成：%s／目標 %s"},
	"rto.not_recovered":  {"not recovered (objective %s)", "未復原（目標 %s）"},
	"rto.none":           {"–", "–"},
	"rto.no_objective":   {"%s, no objective", "%s，未訂定目標"},
	"chain.ok":           {"verified", "驗證通過"},
	"chain.broken":       {"NOT VERIFIED", "未通過驗證"},
	"downtime.none":      {"none monitored", "未監控"},
	"downtime.lab_equiv": {" (×%s = %s simulated)", "（×%s = 模擬 %s）"},
}

// auditMessages words the audit commands in one language.
type auditMessages struct {
	idx  int
	lang string
}

func auditMessagesFor(lang string) auditMessages {
	if lang == "zh-TW" {
		return auditMessages{idx: 1, lang: lang}
	}
	return auditMessages{lang: "en"}
}

// Say is the catalog's text for key, used as a format; a missing key
// shows itself, and TestAuditCatalog keeps that from shipping.
func (m auditMessages) Say(key string, args ...any) string {
	e, ok := auditCatalog[key]
	if !ok {
		return key
	}
	return fmt.Sprintf(e[m.idx], args...)
}

func (m auditMessages) dur(d journal.Duration) string { return reports.Duration(d, m.lang) }

// needRunDir is a usage error when dir holds no journal: the person named
// the wrong folder, and nothing was read.
func needRunDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, journal.FileName)); errors.Is(err, fs.ErrNotExist) {
		return usage(text("give the directory `drbook run` printed", "請指定 `drbook run` 所列出之目錄"),
			i18n.Errorf("%s is not a run directory (it has no %s)", "%s 不是執行目錄（其中無 %s）", dir, journal.FileName))
	}
	return nil
}

// hintedError is an error with what to do about it; main prints the hint.
type hintedError struct {
	err  error
	hint journal.Text
}

func (h *hintedError) Error() string { return h.err.Error() }
func (h *hintedError) Unwrap() error { return h.err }

func newVerifyCommand(g *globalOptions) *cobra.Command {
	var pub string
	cmd := &cobra.Command{
		Use:               "verify RUN_DIR",
		Short:             "Check a run's journal: hash chain, end of run, and the signature when there is one",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRunDirs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var key []byte
			if pub != "" {
				k, err := journal.LoadPublicKey(pub)
				if err != nil {
					return usage(text("give the signer's public key (.pub)", "請提供簽署者之公開金鑰（.pub）"), err)
				}
				key = k
			}
			return runVerify(g, args[0], key)
		},
	}
	cmd.Flags().StringVar(&pub, "key", "", "the signer's ed25519 public key, to check the signature against")
	return cmd
}

// runVerify checks a run directory's journal. A journal that does not
// verify, and one that verifies but has no run.end at its end, exit 1: the
// first is not evidence, the second not a whole run.
func runVerify(g *globalOptions, runDir string, key []byte) error {
	m := auditMessagesFor(g.Lang)
	if err := needRunDir(runDir); err != nil {
		return err
	}
	v, err := journal.VerifyRun(runDir, key)
	if err != nil {
		var ce *journal.ChainError
		var se *journal.SignatureError
		if errors.As(err, &ce) {
			problem := reports.ChainProblem(ce.Line, ce.Kind, err.Error(), g.Lang)
			if g.Lang == reports.LangZhTW {
				problem = filepath.Join(runDir, journal.FileName) + "：" + problem
			}
			return &hintedError{err: errors.New(m.Say("verify.tampered", problem)), hint: journal.Text{EN: m.Say("verify.tampered_how")}}
		}
		if errors.As(err, &se) {
			return &hintedError{err: errors.New(m.Say("verify.tampered", err)), hint: journal.Text{EN: m.Say("verify.tampered_how")}}
		}
		return err
	}
	fmt.Fprintln(g.stdout, m.Say("verify.lines", v.Lines))
	fmt.Fprintln(g.stdout, m.Say("verify.final", v.Head))
	if v.TornBytes > 0 {
		fmt.Fprintln(g.stdout, m.Say("verify.torn", v.TornBytes))
	}
	switch {
	case v.Signature == nil:
		fmt.Fprintln(g.stdout, m.Say("verify.sig_none"))
	case v.KeyTrusted:
		fmt.Fprintln(g.stdout, m.Say("verify.sig_trusted", v.Signature.Fingerprint))
	default:
		fmt.Fprintln(g.stdout, m.Say("verify.sig_carried", v.Signature.Fingerprint))
	}
	log, err := journal.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return err
	}
	last := log.Events[len(log.Events)-1]
	if last.Type != journal.TypeRunEnd || last.RunEnd == nil {
		return &hintedError{err: errors.New(m.Say("verify.incomplete", len(log.Events), cell(last.Type))), hint: journal.Text{EN: m.Say("verify.incomplete_how")}}
	}
	fmt.Fprintln(g.stdout, m.Say("verify.ended", m.state(last.RunEnd.Result)))
	return nil
}

func newHistoryCommand(g *globalOptions) *cobra.Command {
	var runbook, runsDir string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Compare the measurements of earlier runs (e.g. downtime year over year)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := os.ReadDir(runsDir); err != nil {
				return usage(text("choose the folder with --runs-dir", "請以 --runs-dir 指定資料夾"), i18n.Errorf("cannot list %s: %v", "無法列出 %s：%v", runsDir, err))
			}
			h, err := reports.History(runsDir, runbook)
			if err != nil {
				return err
			}
			return printHistory(g.stdout, auditMessagesFor(g.Lang), h)
		},
	}
	cmd.Flags().StringVar(&runbook, "runbook", "", "only runs of this runbook")
	cmd.Flags().StringVar(&runsDir, "runs-dir", "runs", "where the runs are")
	cmd.RegisterFlagCompletionFunc("runbook", completeRunbookNames)
	cmd.RegisterFlagCompletionFunc("runs-dir", completeDirs)
	return cmd
}

func printHistory(w io.Writer, m auditMessages, h []reports.HistoryEntry) error {
	var zones []listingZone
	for _, e := range h {
		if e.Problem == "" {
			zones = append(zones, runZone(e.TimeZone))
		}
	}
	shared := sharedZone(zones)
	tw := newTable(w)
	fmt.Fprintln(tw, m.Say("history.head", m.startedHead(shared)))
	for _, e := range h {
		if e.Problem != "" {
			fmt.Fprintf(tw, "?\t?\t?\t%s\t\t\t\t\t%s\n", m.Say("runs.unreadable", cell(e.Problem)), cell(e.RunDir))
			continue
		}
		measured := "–"
		if e.RTOMeasured != nil {
			measured = m.dur(*e.RTOMeasured) + m.labEquiv(e.Mode, e.LabSpeed, *e.RTOMeasured)
		}
		var down []string
		for _, d := range e.Downtime {
			down = append(down, cell(d.Name)+" "+m.dur(d.Total)+m.labEquiv(e.Mode, e.LabSpeed, d.Total))
		}
		if len(down) == 0 {
			down = []string{m.Say("downtime.none")}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.stampIn(e.Start, runZone(e.TimeZone), shared), cell(e.Runbook), m.site(e.Site, e.Mode, e.LabSpeed),
			m.state(e.Result), m.rto(e.RTO, e.RTOMeasured, e.RTOMet), measured, strings.Join(down, m.Say("list.sep")), m.chain(e.Verified), cell(e.RunDir))
	}
	return tw.Flush()
}

// site says where a run ran: the lab (with its speed) or a real site.
func (m auditMessages) site(name, mode string, speed float64) string {
	switch {
	case mode == reports.ModeLab && speed > 0:
		return m.Say("site.lab_speed", strconv.FormatFloat(speed, 'g', -1, 64))
	case mode == reports.ModeLab:
		return m.Say("site.lab")
	}
	if name == "" || name == "none" { // the engine records "none" for a run without a site
		return m.Say("site.none")
	}
	return m.Say("site.real", cell(name))
}

// state words a verdict for a listing, lower case like the journal's
// values; an unknown one shows as it is.
func (m auditMessages) state(v string) string {
	if v == reports.ResultIncomplete {
		return m.Say("runs.no_end")
	}
	if _, ok := auditCatalog["state."+v]; ok {
		return m.Say("state." + v)
	}
	return v
}

// labEquiv is a lab figure's simulated equivalent, or "".
func (m auditMessages) labEquiv(mode string, speed float64, d journal.Duration) string {
	if mode != reports.ModeLab || speed <= 0 {
		return ""
	}
	sim := journal.Duration(float64(d.D().Round(100*time.Millisecond)) * speed)
	return m.Say("downtime.lab_equiv", strconv.FormatFloat(speed, 'g', -1, 64), m.dur(sim))
}

// rto says whether the objective was met.
func (m auditMessages) rto(objective journal.Duration, measured *journal.Duration, met *bool) string {
	switch {
	case objective == 0 && measured != nil:
		return m.Say("rto.no_objective", m.dur(*measured))
	case objective == 0:
		return m.Say("rto.none")
	case measured == nil:
		return m.Say("rto.not_recovered", m.dur(objective))
	case met != nil && *met:
		return m.Say("rto.met", m.dur(*measured), m.dur(objective))
	}
	return m.Say("rto.missed", m.dur(*measured), m.dur(objective))
}

func (m auditMessages) chain(ok bool) string {
	if ok {
		return m.Say("chain.ok")
	}
	return m.Say("chain.broken")
}

func newRunsCommand(g *globalOptions) *cobra.Command {
	var runsDir string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs with their state (passed, failed, interrupted, paused), duration, site and RTO",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRuns(g, runsDir)
		},
	}
	cmd.Flags().StringVar(&runsDir, "runs-dir", "runs", "where the runs are")
	cmd.RegisterFlagCompletionFunc("runs-dir", completeDirs)
	return cmd
}

// runRuns lists every run directory with what its journal says, each
// journal read in full and its chain verified.
func runRuns(g *globalOptions, runsDir string) error {
	m := auditMessagesFor(g.Lang)
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return usage(text("choose the folder with --runs-dir", "請以 --runs-dir 指定資料夾"), i18n.Errorf("cannot list %s: %v", "無法列出 %s：%v", runsDir, err))
	}
	// Rows first, printed once the header knows whether they share a zone.
	type row struct {
		before, after string // the row's cells before and after its start time
		start         time.Time
		zone          *listingZone // nil: a row without a start time
	}
	var rows []row
	var zones []listingZone
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(runsDir, e.Name())
		r, err := reports.ReadRun(dir)
		if err != nil {
			// Listed, not hidden: a folder in the runs folder that is
			// not a readable run is worth a look.
			rows = append(rows, row{before: fmt.Sprintf("%s\t?\t?\t?\t?\t%s\t\t\t\n", cell(dir), m.Say("runs.unreadable", cell(err.Error())))})
			continue
		}
		// Names as the journal has them, shown by cell() like every
		// other listing (the report's own cleaning words them otherwise).
		runbook, operator := r.Cover.Runbook, r.Cover.Operator
		if rs, _, err := reports.ReadRunStart(dir); err == nil {
			runbook, operator = rs.Runbook, rs.Operator
		}
		state := m.state(r.Cover.Result)
		var interrupted []string
		for _, s := range r.Steps {
			if s.Status == journal.StatusInterrupted {
				interrupted = append(interrupted, cell(s.ID))
			}
		}
		if len(interrupted) > 0 {
			state = m.Say("runs.interrupted", state, strings.Join(interrupted, m.Say("list.sep")))
		}
		var measured *journal.Duration
		var met *bool
		if rec := r.Summary.Recovery; rec != nil {
			measured, met = rec.Measured, rec.Met
		}
		z := runZone(r.LabelledZone())
		zones = append(zones, z)
		rows = append(rows, row{start: r.Cover.Start, zone: &z, before: cell(dir) + "\t" + cell(runbook) + "\t", after: "\t" + strings.Join([]string{m.dur(r.Summary.WallClock),
			m.site(r.Cover.Site, r.Cover.Mode, r.Cover.LabSpeed), state, m.rto(r.Summary.RTO, measured, met), m.chain(!r.Integrity.ChainChecked || r.Integrity.ChainVerified), cell(operator)}, "\t") + "\n"})
	}
	shared := sharedZone(zones)
	tw := newTable(g.stdout)
	fmt.Fprintln(tw, m.Say("runs.head", m.startedHead(shared)))
	for _, r := range rows {
		if r.zone == nil {
			fmt.Fprint(tw, r.before)
			continue
		}
		fmt.Fprint(tw, r.before, m.stampIn(r.start, *r.zone, shared), r.after)
	}
	return tw.Flush()
}

// drillFailed is the error of a run whose steps all passed but whose
// report's verdict is not passed (its recovery-time objective was missed or
// recovery was never reached): exit 1, like a failed step, with the
// report's own words.
func drillFailed(r *reports.Report, lang string) error {
	m := auditMessagesFor(lang)
	return &hintedError{err: errors.New(reports.VerdictExplanation(r, lang)), hint: journal.Text{EN: m.Say("drill.failed_how")}}
}
