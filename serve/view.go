package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// The views below are what the pages show, worded in one language. The
// same values fill the HTML templates and the JSON the live updates send,
// and the page's script only ever puts them into the page as text.

// runRow is one run in the list.
type runRow struct {
	Key      string `json:"key"`
	URL      string `json:"url"`
	Fleet    string `json:"fleet,omitempty"`
	Runbook  string `json:"runbook"`
	Title    string `json:"title"`
	Site     string `json:"site"`
	Where    string `json:"where"`
	State    string `json:"state"`
	Running  bool   `json:"running"`
	Start    string `json:"start"`
	Duration string `json:"duration"`
	Verdict  string `json:"verdict"`
	// VerdictCode is the verdict as a fixed word (passed, failed,
	// not-verified, …) for styling.
	VerdictCode string `json:"verdict_code"`
	NotVerified bool   `json:"not_verified"`
	Problem     string `json:"problem,omitempty"`

	start time.Time
}

// runGroup is the runs of one site (with --fleet), or all of them.
type runGroup struct {
	Name string   `json:"name"`
	Runs []runRow `json:"runs"`
}

// listView is the list page.
type listView struct {
	W      words      `json:"-"`
	Lang   string     `json:"lang"`
	Title  string     `json:"title"`
	Fleet  bool       `json:"fleet"`
	Groups []runGroup `json:"groups"`
	Empty  bool       `json:"empty"`
}

// runURL is the run page's address, keeping an explicit language.
func runURL(prefix, key, lang string, explicit bool) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	u := prefix + strings.Join(parts, "/")
	if explicit {
		u += "?lang=" + url.QueryEscape(lang)
	}
	return u
}

// where says whether a run ran in the lab (and how fast) or on a real
// site (and in which mode).
func (w words) where(r *reports.Report) string {
	if r.Cover.Mode == reports.ModeLab {
		if r.Cover.LabSpeed > 0 {
			return w.Tf("where.lab_speed", strconv.FormatFloat(r.Cover.LabSpeed, 'g', -1, 64))
		}
		return w.T("where.lab")
	}
	return w.Tf("where.real", w.Enum("mode", r.Cover.Mode))
}

func (w words) site(r *reports.Report) string {
	if r.Cover.Site == "" || r.Cover.Site == "none" { // the engine records "none" for a run without a site
		return w.T("site.none")
	}
	return r.Cover.Site
}

// running says whether the journal has no end: the run is going on, or
// stopped without writing one (a crash). The journal alone cannot tell
// which; the page shows when its last line was written.
func running(r *reports.Report) bool { return r.Cover.RecordedResult == reports.ResultIncomplete }

func (w words) state(r *reports.Report) string {
	if running(r) {
		return w.T("state.running")
	}
	return w.Tf("state.ended", w.Enum("recorded", r.Cover.RecordedResult))
}

// verdict is the report's verdict; a journal that does not verify says
// NOT VERIFIED whether or not it has ended.
func (w words) verdict(r *reports.Report) (text, code string) {
	v := r.Summary.Verdict
	switch {
	case v == reports.VerdictNotVerified:
		return reports.ResultText(v, w.lang), v
	case running(r):
		return w.T("verdict.pending"), "pending"
	}
	return reports.ResultText(v, w.lang), v
}

func (w words) stamp(r *reports.Report, t time.Time) string {
	return t.In(r.Location()).Format("2006-01-02 15:04:05 -07:00")
}

func (w words) clock(r *reports.Report, t *time.Time) string {
	if t == nil {
		return "–"
	}
	return t.In(r.Location()).Format("15:04:05.0")
}

func (w words) dur(d journal.Duration) string { return reports.Duration(d, w.lang) }

func (w words) title(r *reports.Report) string {
	if t := r.Cover.Title.In(w.lang); t != "" {
		return t
	}
	return r.Cover.Runbook
}

// row words one run for the list.
func (w words) row(ref runRef, snap *snapshot, u string) runRow {
	row := runRow{Key: ref.Key, URL: u, Fleet: ref.Fleet}
	if errors.Is(snap.err, errStarting) {
		row.State, row.Running = w.T("state.starting"), true
		row.Runbook, row.Site, row.Where, row.Start, row.Duration, row.Verdict, row.VerdictCode = "…", "…", "…", "…", "…", w.T("verdict.pending"), "pending"
		return row
	}
	if snap.err != nil || snap.report == nil {
		row.Problem = reports.Printable(oneLine(errText(snap.err)))
		row.State = w.Tf("state.unreadable", row.Problem)
		row.Runbook, row.Site, row.Where, row.Start, row.Duration, row.Verdict, row.VerdictCode = "?", "?", "?", "?", "?", "?", "unreadable"
		return row
	}
	r := snap.report
	row.Runbook, row.Title, row.Site, row.Where = r.Cover.Runbook, w.title(r), w.site(r), w.where(r)
	row.State, row.Running = w.state(r), running(r)
	row.Start, row.start = w.stamp(r, r.Cover.Start), r.Cover.Start
	row.Duration = w.dur(r.Summary.WallClock)
	row.Verdict, row.VerdictCode = w.verdict(r)
	row.NotVerified = row.VerdictCode == reports.VerdictNotVerified
	return row
}

func errText(err error) string {
	if err == nil {
		return "no report"
	}
	return err.Error()
}

// oneLine keeps text from a journal on its line, and short.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		cut := 400
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// list builds the list page's groups: one, or one per site with --fleet,
// each newest first.
func (s *Server) list(w words, lang string, explicit bool) listView {
	v := listView{W: w, Lang: lang, Fleet: s.cfg.Fleet, Title: w.Tf("page.runs", s.cfg.RunsDir)}
	groups := map[string]*runGroup{}
	var order []string
	refs := s.discover()
	s.cache.keep(refs)
	for _, ref := range refs {
		snap := s.cache.get(ref.Dir)
		row := w.row(ref, snap, runURL("/run/", ref.Key, lang, explicit))
		name := ""
		if s.cfg.Fleet {
			name = row.Site
		}
		g, ok := groups[name]
		if !ok {
			g = &runGroup{Name: name}
			groups[name] = g
			order = append(order, name)
		}
		g.Runs = append(g.Runs, row)
	}
	sort.Strings(order)
	for _, name := range order {
		g := groups[name]
		sort.SliceStable(g.Runs, func(i, j int) bool {
			if !g.Runs[i].start.Equal(g.Runs[j].start) {
				return g.Runs[i].start.After(g.Runs[j].start)
			}
			return g.Runs[i].Key < g.Runs[j].Key
		})
		if s.cfg.Fleet {
			g.Name = w.Tf("group.site", name)
		}
		v.Groups = append(v.Groups, *g)
	}
	v.Empty = len(v.Groups) == 0
	return v
}

// stepView is one step of the run page.
type stepView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Block     string `json:"block"`
	State     string `json:"state"`
	StateText string `json:"state_text"`
	Start     string `json:"start"`
	End       string `json:"end"`
	Duration  string `json:"duration"`
	Planned   string `json:"planned"`
	Attempts  string `json:"attempts"`
	Error     string `json:"error,omitempty"`
}

// monitorView is one monitor now.
type monitorView struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	StateText string `json:"state_text"`
	Since     string `json:"since"`
	Outages   string `json:"outages"`
	Downtime  string `json:"downtime"`
}

// evidenceView is one piece of evidence as text.
type evidenceView struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// runView is the run page: everything its live updates replace.
type runView struct {
	W           words  `json:"-"`
	Key         string `json:"key"`
	Lang        string `json:"lang"`
	Title       string `json:"title"`
	Runbook     string `json:"runbook"`
	RunID       string `json:"run_id"`
	Site        string `json:"site"`
	Where       string `json:"where"`
	Operator    string `json:"operator"`
	Start       string `json:"start"`
	Duration    string `json:"duration"`
	LastLine    string `json:"last_line"`
	State       string `json:"state"`
	Running     bool   `json:"running"`
	Verdict     string `json:"verdict"`
	VerdictCode string `json:"verdict_code"`
	NotVerified bool   `json:"not_verified"`
	// NotVerifiedText names what does not verify, in the report's words.
	NotVerifiedText string `json:"not_verified_text,omitempty"`
	VerdictWhy      string `json:"verdict_why,omitempty"`
	RTO             string `json:"rto"`
	// RTOSince is when the RTO clock started (RFC 3339), set while it
	// runs, so the page can tick it between updates.
	RTOSince string         `json:"rto_since,omitempty"`
	Lines    int            `json:"lines"`
	Steps    []stepView     `json:"steps"`
	Monitors []monitorView  `json:"monitors"`
	Evidence []evidenceView `json:"evidence"`
	Problem  string         `json:"problem,omitempty"`

	// For the template only.
	ReportURL  string     `json:"-"`
	Journal    []lineView `json:"-"`
	OlderLines int        `json:"-"`
}

// runPage words a run's report for its page.
func (w words) runPage(ref runRef, snap *snapshot) runView {
	v := runView{W: w, Key: ref.Key, Lang: w.lang, Steps: []stepView{}, Monitors: []monitorView{}, Evidence: []evidenceView{}}
	if errors.Is(snap.err, errStarting) {
		v.Title, v.State, v.Running, v.VerdictCode, v.Verdict = ref.Key, w.T("state.starting"), true, "pending", w.T("verdict.pending")
		return v
	}
	if snap.err != nil || snap.report == nil {
		v.Problem = w.Tf("error.unreadable", reports.Printable(oneLine(errText(snap.err))))
		v.Title, v.VerdictCode = ref.Key, "unreadable"
		return v
	}
	r := snap.report
	v.Title, v.Runbook, v.RunID, v.Site, v.Where, v.Operator = w.title(r), r.Cover.Runbook, r.Cover.RunID, w.site(r), w.where(r), r.Cover.Operator
	v.Start, v.Duration = w.stamp(r, r.Cover.Start), w.dur(r.Summary.WallClock)
	v.LastLine = w.stamp(r, r.Cover.Start.Add(r.Summary.WallClock.D()))
	v.State, v.Running = w.state(r), running(r)
	v.Verdict, v.VerdictCode = w.verdict(r)
	v.NotVerified = v.VerdictCode == reports.VerdictNotVerified
	if v.NotVerified || !v.Running {
		v.NotVerifiedText = ""
		if t := reports.VerdictExplanation(r, w.lang); t != "" {
			if v.NotVerified {
				v.NotVerifiedText = t
			} else {
				v.VerdictWhy = t
			}
		}
	}
	v.Lines = r.Integrity.Lines
	v.RTO, v.RTOSince = w.rto(r)
	for i := range r.Steps {
		s := &r.Steps[i]
		sv := stepView{ID: s.ID, Name: s.Name.In(w.lang), Kind: s.Kind, Block: s.Block, State: s.Status,
			Start: w.clock(r, s.Start), End: w.clock(r, s.End), Planned: "–", Attempts: strconv.Itoa(s.Attempts), Error: oneLine(s.Error)}
		if sv.Name == "" {
			sv.Name = s.ID
		}
		if s.Status == journal.StatusInterrupted && s.End == nil && s.Start != nil && v.Running {
			// Started, not finished, and the run has no end: as far as
			// the journal says, it is running now.
			sv.State = "running"
		}
		if sv.State == "running" {
			sv.StateText = w.T("step.running")
		} else {
			sv.StateText = w.Enum("status", sv.State)
		}
		sv.Duration = "–"
		if s.Start != nil {
			sv.Duration = w.dur(s.Duration)
		}
		if s.Expect > 0 {
			sv.Planned = w.dur(s.Expect)
		}
		v.Steps = append(v.Steps, sv)
		for _, e := range s.Evidence {
			v.Evidence = append(v.Evidence, evidenceView{Heading: w.Tf("evidence.step", s.ID, e.Title), Text: evidenceText(e)})
		}
	}
	for _, e := range r.Evidence {
		v.Evidence = append(v.Evidence, evidenceView{Heading: w.Tf("evidence.step", w.T("run_evidence"), e.Title), Text: evidenceText(e)})
	}
	for _, m := range r.Monitors {
		mv := monitorView{Name: m.Name, State: reports.StateUp, Outages: strconv.Itoa(len(m.Windows)), Downtime: w.dur(m.Total)}
		var since *time.Time
		switch {
		case m.DownAtEnd && len(m.Windows) > 0:
			mv.State, since = reports.StateDown, &m.Windows[len(m.Windows)-1].Start
		case m.UnknownAtEnd && len(m.Unknown) > 0:
			mv.State, since = reports.StateUnknown, &m.Unknown[len(m.Unknown)-1].Start
		case len(m.Windows) > 0 && m.Windows[len(m.Windows)-1].End != nil:
			since = m.Windows[len(m.Windows)-1].End
		default:
			t := m.ObservedFrom
			since = &t
		}
		mv.StateText = w.Enum("monitor", mv.State)
		mv.Since = w.Tf("monitor.since", w.clock(r, since))
		v.Monitors = append(v.Monitors, mv)
	}
	return v
}

// rto words the recovery-time clock, and when it started if it is
// running.
func (w words) rto(r *reports.Report) (text, since string) {
	obj := w.T("rto.no_objective")
	if r.Summary.RTO > 0 {
		obj = w.Tf("rto.objective", w.dur(r.Summary.RTO))
	}
	rec := r.Summary.Recovery
	switch {
	case rec == nil:
		return w.T("rto.idle") + " · " + obj, ""
	case rec.Measured != nil:
		met := ""
		if rec.Met != nil {
			met = " · " + w.T("rto_missed")
			if *rec.Met {
				met = " · " + w.T("rto_met")
			}
		}
		return w.Tf("rto.recovered", w.dur(*rec.Measured), rec.FromStep, w.clock(r, &rec.From)) + " · " + obj + met, ""
	case running(r):
		elapsed := journal.Duration(r.Cover.Start.Add(r.Summary.WallClock.D()).Sub(rec.From))
		return w.Tf("rto.running", w.dur(elapsed), w.clock(r, &rec.From), rec.FromStep) + " · " + obj, rec.From.UTC().Format(time.RFC3339Nano)
	}
	return w.Tf("rto.not_recovered", rec.FromStep, w.clock(r, &rec.From)) + " · " + obj, ""
}

// evidenceText is a piece of evidence as plain text, trimmed as the
// report trims it; the report below the page shows it laid out.
func evidenceText(e reports.EvidenceItem) string {
	var b strings.Builder
	switch {
	case e.Transcript != nil:
		t := e.Transcript
		if t.Target != "" {
			fmt.Fprintf(&b, "[%s] ", t.Target)
		}
		fmt.Fprintf(&b, "$ %s\n", t.Command)
		if t.Stdout != "" {
			b.WriteString(strings.TrimRight(t.Stdout, "\n") + "\n")
		}
		if t.Stderr != "" {
			b.WriteString(strings.TrimRight(t.Stderr, "\n") + "\n")
		}
		fmt.Fprintf(&b, "(exit %d)", t.ExitCode)
	case e.Table != nil:
		b.WriteString(strings.Join(e.Table.Columns, " | ") + "\n")
		for _, row := range e.Table.Rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
	case e.Diff != nil:
		b.WriteString(e.Diff.Unified)
	case len(e.Facts) > 0:
		for _, f := range e.Facts {
			fmt.Fprintf(&b, "%s: %s\n", f.Key, f.Value)
		}
	case len(e.Timeline) > 0:
		for _, m := range e.Timeline {
			fmt.Fprintf(&b, "%s %s %s\n", m.At.UTC().Format("15:04:05.000Z"), m.Label, m.Source)
		}
	}
	s := strings.TrimRight(b.String(), "\n")
	if len(s) > 4000 {
		cut := 4000
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "\n…"
	}
	return s
}

// lineView is one journal line on the run page.
type lineView struct {
	N    int    `json:"n"`
	Time string `json:"time"`
	Type string `json:"type"`
	Step string `json:"step,omitempty"`
	Text string `json:"text"`
	Bad  bool   `json:"bad,omitempty"`
}

// line words one whole journal line (n counts from 1). Every value comes
// from the journal, which anyone who can write the run directory may have
// written: it is made printable and kept on one line.
func (w words) line(n int, raw []byte, loc *time.Location) lineView {
	var ev journal.Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return lineView{N: n, Type: "?", Bad: true, Text: w.Tf("journal.bad_line", n, reports.Printable(oneLine(err.Error())))}
	}
	lv := lineView{N: n, Time: ev.Time.In(loc).Format("15:04:05.0"), Type: reports.Printable(oneLine(ev.Type)), Step: reports.Printable(oneLine(ev.Step))}
	var text string
	switch {
	case ev.RunStart != nil:
		text = w.Tf("line.run_start", ev.RunStart.Runbook, ev.RunStart.Operator)
	case ev.RunResume != nil:
		text = w.Tf("line.run_resume", ev.RunResume.Operator)
	case ev.RunEnd != nil:
		text = w.Tf("line.run_end", w.Enum("recorded", ev.RunEnd.Result))
	case ev.StepStart != nil && ev.StepStart.Attempt > 1:
		text = w.Tf("line.step_attempt", ev.Step, ev.StepStart.Kind, ev.StepStart.Attempt)
	case ev.StepStart != nil:
		text = w.Tf("line.step_start", ev.Step, ev.StepStart.Kind)
	case ev.StepRetry != nil:
		text = w.Tf("line.step_retry", ev.Step, ev.StepRetry.Attempt, ev.StepRetry.Error)
	case ev.StepFinish != nil && ev.StepFinish.Error != "":
		text = w.Tf("line.step_error", ev.Step, w.Enum("status", ev.StepFinish.Status), w.dur(ev.StepFinish.Duration), ev.StepFinish.Error)
	case ev.StepFinish != nil:
		text = w.Tf("line.step_finish", ev.Step, w.Enum("status", ev.StepFinish.Status), w.dur(ev.StepFinish.Duration))
	case ev.Evidence != nil && ev.Step == "":
		text = w.Tf("line.run_evidence", ev.Evidence.Kind, ev.Evidence.Title)
	case ev.Evidence != nil:
		text = w.Tf("line.evidence", ev.Step, ev.Evidence.Kind, ev.Evidence.Title)
	case ev.Note != nil:
		text = w.Tf("line.note", ev.Note.Level, ev.Note.Text)
	case ev.Decision != nil:
		text = w.Tf("line.decision", ev.Decision.Who, w.Enum("action", ev.Decision.Action), ev.Decision.Reason)
	case ev.Trust != nil:
		text = w.Tf("line.trust", ev.Trust.Kind, ev.Trust.Endpoint, ev.Trust.Source)
	case ev.Monitor != nil:
		text = w.Tf("line.monitor", ev.Monitor.Name, w.Enum("monitor", ev.Monitor.State), ev.Monitor.Detail)
	case ev.Artifact != nil:
		text = w.Tf("line.artifact", ev.Artifact.Name, strconv.FormatInt(ev.Artifact.Size, 10))
	}
	lv.Text = reports.Printable(oneLine(text))
	return lv
}
