package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// catalog holds the fleet report's fixed texts: {English, Traditional
// Chinese}, in the terms of the site reports' catalog (reports/i18n.go).
var catalog = map[string][2]string{
	"title":            {"Fleet drill report: %s", "多場域演練報告：%s"},
	"cover.fleet":      {"Fleet", "演練批次"},
	"cover.runbook":    {"Runbook", "演練手冊"},
	"cover.operator":   {"Operator", "操作人員"},
	"cover.machine":    {"Machine", "執行主機"},
	"cover.drbook":     {"drbook version", "drbook 版本"},
	"cover.mode":       {"Mode", "模式"},
	"cover.sites":      {"Sites", "場域"},
	"cover.sites_val":  {"%d, %d at a time%s", "%d 處，同時執行 %d 處%s"},
	"cover.fail_fast":  {"; --fail-fast (a failed site aborts the others)", "；--fail-fast（任一場域失敗即中止其他場域）"},
	"cover.vars":       {"Parameters", "參數"},
	"cover.unattended": {"Confirmations", "確認方式"},
	"cover.yes":        {"unattended (--yes): granted and recorded as such", "無人值守（--yes）：自動同意並記錄"},
	"cover.guided":     {"asked of the operator, site by site", "逐一場域詢問操作人員"},
	"cover.started":    {"Started", "開始時間"},
	"cover.ended":      {"Ended", "結束時間"},
	"cover.not_ended":  {"not recorded (still running, or the machine stopped)", "未記錄（仍在執行或程式中止）"},
	"cover.field":      {"Field", "項目"},
	"cover.value":      {"Value", "內容"},
	"lab_banner":       {"Lab fleet at ×%s: every site is drbook's simulated site running %s times faster than real time; figures are real time, with the simulated equivalent.", "模擬環境演練（×%s）：各場域皆為 drbook 內建模擬環境，時間加速 %s 倍；數據為實際經過時間，並附模擬時間換算。"},
	"mode.lab":         {"lab (simulated sites, ×%s)", "模擬環境（×%s）"},
	"mode.drill":       {"drill", "演練"},
	"mode.recovery":    {"recovery", "實際復原"},

	"summary":             {"Summary", "摘要"},
	"summary.verdict":     {"Verdict: %s: %d of %d sites passed.", "結果：%s（%d／%d 處場域通過）。"},
	"summary.rto":         {"RTO objective: met at %d, missed at %d, not recovered at %d site(s).", "復原時間目標（RTO）：%d 處達成、%d 處未達成、%d 處未復原。"},
	"summary.recovery":    {"Measured recovery: fastest %s (%s), median %s, slowest %s (%s).", "實測復原時間：最快 %s（%s），中位數 %s，最慢 %s（%s）。"},
	"summary.no_recovery": {"Measured recovery: no site recovered.", "實測復原時間：無場域完成復原。"},
	"summary.counts":      {"Sites by verdict: %s.", "各結果場域數：%s。"},
	"downtime":            {"Downtime per service across the sites", "各服務跨場域停機時間"},
	"downtime.service":    {"Service", "服務"},
	"downtime.sites":      {"Sites monitored", "監控場域數"},
	"downtime.down":       {"Down at", "曾停機場域數"},
	"downtime.total":      {"Total", "合計"},
	"downtime.worst":      {"Worst", "最長"},
	"downtime.at_end":     {"Still down at the end", "結束時仍停機"},
	"downtime.none":       {"No service was monitored.", "未監控任何服務。"},
	"sites":               {"Sites", "各場域結果"},
	"col.site":            {"Site", "場域"},
	"col.verdict":         {"Verdict", "結果"},
	"col.rto":             {"RTO objective", "RTO 目標"},
	"col.measured":        {"Measured recovery", "實測復原時間"},
	"col.met":             {"Objective", "目標達成"},
	"col.duration":        {"Run time", "執行時間"},
	"col.chain":           {"Journal", "紀錄檔"},
	"col.downtime":        {"Downtime", "停機時間"},
	"met.yes":             {"met", "達成"},
	"met.no":              {"MISSED", "未達成"},
	"met.not_recovered":   {"not recovered", "未復原"},
	"met.none":            {"no objective", "未訂定目標"},
	"chain.ok":            {"verified", "驗證通過"},
	"chain.broken":        {"NOT VERIFIED", "未通過驗證"},
	"chain.none":          {"no journal", "無紀錄檔"},
	"site.heading":        {"Site %s", "場域 %s"},
	"site.verdict":        {"Verdict", "結果"},
	"site.why":            {"Why", "原因"},
	"site.rto":            {"RTO", "復原時間目標"},
	"site.downtime":       {"Downtime per service", "各服務停機時間"},
	"site.deviations":     {"Deviations", "與計畫之差異"},
	"site.no_deviations":  {"none", "無"},
	"site.run_dir":        {"Run directory", "執行目錄"},
	"site.final_hash":     {"Journal's final hash", "紀錄檔最終雜湊值"},
	"site.report":         {"The site's own report: `drbook report %s`; its journal: `drbook verify %s`.", "該場域之報告：`drbook report %s`；驗證紀錄檔：`drbook verify %s`。"},
	"outages":             {"%s in %d outage(s)", "%s（%d 次中斷）"},
	"still_down":          {"; still down at the end", "；結束時仍停機"},
	"rto.met":             {"met: %s of %s", "達成：%s／目標 %s"},
	"rto.missed":          {"MISSED: %s of %s", "未達成：%s／目標 %s"},
	"rto.not_recovered":   {"not recovered (objective %s)", "未復原（目標 %s）"},
	"rto.no_objective":    {"%s, no objective", "%s，未訂定目標"},
	"rto.none":            {"–", "–"},
	"lab_equiv":           {"%s (×%s = %s simulated)", "%s（×%s = 模擬 %s）"},
	"at":                  {"%s (%s)", "%s（%s）"},
	"list.sep":            {", ", "、"},
	"fact":                {"- **%s**: %s", "- **%s**：%s"},
	"fact.list":           {"- **%s**:", "- **%s**："},
	"down.sep":            {"; ", "；"},

	"verdict.passed":           {"passed", "通過"},
	"verdict.failed":           {"FAILED", "未通過"},
	"verdict.aborted":          {"aborted", "中止"},
	"verdict.interrupted":      {"interrupted", "執行中斷"},
	"verdict.paused":           {"paused", "暫停"},
	"verdict.incomplete":       {"incomplete", "未完成"},
	"verdict.not-verified":     {"NOT VERIFIED", "未通過驗證"},
	"verdict.preflight-failed": {"preflight failed (nothing ran)", "事前檢查未通過（未執行）"},
	"verdict.not-started":      {"not started", "未開始"},
	"verdict.error":            {"could not run", "無法執行"},
}

func (l lang) T(key string) string {
	if e, ok := catalog[key]; ok {
		return e[l.idx]
	}
	return key
}

func (l lang) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

type lang struct {
	name string
	idx  int
	loc  *time.Location
}

func newLang(name string, loc *time.Location) (lang, error) {
	switch name {
	case reports.LangEN:
		return lang{name: name, loc: loc}, nil
	case reports.LangZhTW:
		return lang{name: name, idx: 1, loc: loc}, nil
	}
	return lang{}, fmt.Errorf("fleet report: unknown language %q; use en or zh-TW", name)
}

func (l lang) dur(d journal.Duration) string { return reports.Duration(d, l.name) }

func (l lang) verdict(v string) string {
	if _, ok := catalog["verdict."+v]; ok {
		return l.T("verdict." + v)
	}
	return v
}

func (l lang) stamp(t time.Time) string { return t.In(l.loc).Format("2006-01-02 15:04:05 -07:00") }

// labDur is a duration of a site, with its simulated equivalent for a lab
// run of known speed.
func (l lang) labDur(s *SiteReport, d journal.Duration) string {
	if s.Mode != reports.ModeLab || s.LabSpeed <= 0 {
		return l.dur(d)
	}
	sim := journal.Duration(float64(d.D().Round(100*time.Millisecond)) * s.LabSpeed)
	return l.Tf("lab_equiv", l.dur(d), strconv.FormatFloat(s.LabSpeed, 'g', -1, 64), l.dur(sim))
}

// RTOText words a site's RTO objective against its measured recovery in
// lang (en or zh-TW), as `drbook history` does.
func RTOText(s *SiteReport, name string) string {
	l, err := newLang(name, time.UTC)
	if err != nil {
		l, _ = newLang(reports.LangEN, time.UTC)
	}
	return l.rto(s)
}

func (l lang) rto(s *SiteReport) string {
	switch {
	case s.report == nil:
		return l.T("rto.none")
	case s.RTO == 0 && s.Measured != nil:
		return l.Tf("rto.no_objective", l.labDur(s, *s.Measured))
	case s.RTO == 0:
		return l.T("rto.none")
	case s.Measured == nil:
		return l.Tf("rto.not_recovered", l.dur(s.RTO))
	case s.Met != nil && *s.Met:
		return l.Tf("rto.met", l.labDur(s, *s.Measured), l.dur(s.RTO))
	}
	return l.Tf("rto.missed", l.labDur(s, *s.Measured), l.dur(s.RTO))
}

func (l lang) met(s *SiteReport) string {
	switch {
	case s.report == nil:
		return "–"
	case s.RTO == 0:
		return l.T("met.none")
	case s.Measured == nil:
		return l.T("met.not_recovered")
	case s.Met != nil && *s.Met:
		return l.T("met.yes")
	}
	return l.T("met.no")
}

func (l lang) chain(s *SiteReport) string {
	switch {
	case s.report == nil:
		return l.T("chain.none")
	case s.ChainVerified:
		return l.T("chain.ok")
	}
	return l.T("chain.broken")
}

func (l lang) downtime(s *SiteReport) []string {
	var out []string
	for _, d := range s.Downtime {
		t := d.Name + " " + l.Tf("outages", l.labDur(s, d.Total), d.Outages)
		if d.DownAtEnd {
			t += l.T("still_down")
		}
		out = append(out, t)
	}
	return out
}

func (l lang) mode(c Cover) string {
	if c.Mode == reports.ModeLab {
		return l.Tf("mode.lab", strconv.FormatFloat(c.LabSpeed, 'g', -1, 64))
	}
	return l.T("mode." + c.Mode)
}

// coverRows are the cover's field/value pairs.
func (l lang) coverRows(r *Report) [][2]string {
	c := r.Cover
	runbook := c.Runbook
	if c.RunbookSHA256 != "" {
		runbook += " (SHA-256 " + c.RunbookSHA256 + ")"
	}
	ff := ""
	if c.FailFast {
		ff = l.T("cover.fail_fast")
	}
	ended := l.T("cover.not_ended")
	if c.Ended != nil {
		ended = l.stamp(*c.Ended)
	}
	conf := l.T("cover.guided")
	if c.Unattended {
		conf = l.T("cover.yes")
	}
	rows := [][2]string{
		{l.T("cover.fleet"), c.FleetID},
		{l.T("cover.runbook"), runbook},
		{l.T("cover.operator"), c.Operator},
		{l.T("cover.machine"), c.Machine},
		{l.T("cover.drbook"), c.DrbookVersion},
		{l.T("cover.mode"), l.mode(c)},
		{l.T("cover.sites"), l.Tf("cover.sites_val", len(r.Sites), c.Concurrency, ff)},
		{l.T("cover.unattended"), conf},
	}
	if len(c.Vars) > 0 {
		var kv []string
		for _, k := range sortedKeys(c.Vars) {
			kv = append(kv, k+"="+c.Vars[k])
		}
		rows = append(rows, [2]string{l.T("cover.vars"), strings.Join(kv, ", ")})
	}
	return append(rows, [2]string{l.T("cover.started"), l.stamp(c.Started)}, [2]string{l.T("cover.ended"), ended})
}

// summaryLines are the summary's sentences.
func (l lang) summaryLines(r *Report) []string {
	s := r.Summary
	out := []string{l.Tf("summary.verdict", l.verdict(s.Verdict), s.Passed, s.Sites)}
	out = append(out, l.Tf("summary.rto", s.RTOMet, s.RTOMissed, s.NotRecovered))
	if s.Fastest != nil {
		fast, slow := r.Site(s.Fastest.Site), r.Site(s.Slowest.Site)
		out = append(out, l.Tf("summary.recovery", l.labDur(fast, s.Fastest.Duration), s.Fastest.Site, l.labDur(fast, *s.Median), l.labDur(slow, s.Slowest.Duration), s.Slowest.Site))
	} else {
		out = append(out, l.T("summary.no_recovery"))
	}
	var counts []string
	for _, v := range verdictOrder(s.Counts) {
		counts = append(counts, fmt.Sprintf("%s %d", l.verdict(v), s.Counts[v]))
	}
	return append(out, l.Tf("summary.counts", strings.Join(counts, l.T("list.sep"))))
}

// verdictOrder lists verdicts best first, then any other alphabetically.
func verdictOrder(counts map[string]int) []string {
	order := []string{"passed", "failed", "aborted", reports.VerdictNotVerified, StatePreflightFailed, StateError, StateNotStarted, "interrupted", "paused", reports.ResultIncomplete}
	var out []string
	seen := map[string]bool{}
	for _, v := range append(order, sortedKeys(counts)...) {
		if counts[v] > 0 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// serviceRows are the downtime table's rows.
func (l lang) serviceRows(r *Report) [][]string {
	var rows [][]string
	for _, d := range r.Summary.Downtime {
		worst := r.Site(d.Worst.Site)
		atEnd := "–"
		if len(d.DownAtEnd) > 0 {
			atEnd = strings.Join(d.DownAtEnd, ", ")
		}
		total := l.dur(d.Total)
		if worst != nil {
			total = l.labDur(worst, d.Total)
		}
		w := "–"
		if worst != nil {
			w = l.Tf("at", l.labDur(worst, d.Worst.Duration), d.Worst.Site)
		}
		rows = append(rows, []string{d.Name, strconv.Itoa(d.Sites), strconv.Itoa(d.Down), total, w, atEnd})
	}
	return rows
}

// siteRows are the sites table's rows.
func (l lang) siteRows(r *Report) [][]string {
	var rows [][]string
	for i := range r.Sites {
		s := &r.Sites[i]
		measured, rto, dur := "–", "–", "–"
		if s.Measured != nil {
			measured = l.labDur(s, *s.Measured)
		}
		if s.RTO > 0 {
			rto = l.dur(s.RTO)
		}
		if s.report != nil {
			dur = l.labDur(s, s.Duration)
		}
		rows = append(rows, []string{s.Name, l.verdict(s.Verdict), rto, measured, l.met(s), dur, l.chain(s)})
	}
	return rows
}

// Render writes r in format (html, md or json) and language (en, zh-TW).
func Render(w io.Writer, r *Report, format, langName string) error {
	l, err := newLang(langName, r.loc)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	switch format {
	case reports.FormatMD:
		renderMarkdown(bw, r, l)
	case reports.FormatHTML:
		err = htmlPage.Execute(bw, &htmlView{R: r, L: l})
	case reports.FormatJSON:
		err = renderJSON(bw, r, l)
	default:
		return fmt.Errorf("fleet report: unknown format %q; use html, md or json", format)
	}
	if err != nil {
		return fmt.Errorf("fleet report: render %s: %w", format, err)
	}
	return bw.Flush()
}

// jsonReport is the JSON shape: the model, with each site's deviations
// also worded in the report's language.
type jsonReport struct {
	*Report
	Lang  string     `json:"lang"`
	Sites []jsonSite `json:"sites"`
}

type jsonSite struct {
	SiteReport
	DeviationTexts []string `json:"deviation_texts"`
}

func renderJSON(w io.Writer, r *Report, l lang) error {
	out := jsonReport{Report: r, Lang: l.name}
	for i := range r.Sites {
		out.Sites = append(out.Sites, jsonSite{SiteReport: r.Sites[i], DeviationTexts: r.Sites[i].DeviationTexts(l.name)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// md escapes text for a Markdown table cell or line.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "\n", " ", "\r", " ")

func md(s string) string { return mdEscaper.Replace(s) }

func mdTable(w io.Writer, head []string, rows [][]string) {
	esc := func(cells []string) string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = md(c)
		}
		return "| " + strings.Join(out, " | ") + " |"
	}
	fmt.Fprintln(w, esc(head))
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintln(w, "| "+strings.Join(sep, " | ")+" |")
	for _, r := range rows {
		fmt.Fprintln(w, esc(r))
	}
	fmt.Fprintln(w)
}

func (l lang) title(r *Report) string {
	t := r.Cover.Runbook
	if x := r.Cover.Title.In(l.name); x != "" {
		t += " — " + x
	}
	return l.Tf("title", t)
}

func (l lang) labBanner(r *Report) string {
	if r.Cover.Mode != reports.ModeLab {
		return ""
	}
	f := strconv.FormatFloat(r.Cover.LabSpeed, 'g', -1, 64)
	return l.Tf("lab_banner", f, f)
}

func renderMarkdown(w io.Writer, r *Report, l lang) {
	fmt.Fprintf(w, "# %s\n\n", md(l.title(r)))
	if b := l.labBanner(r); b != "" {
		fmt.Fprintf(w, "> %s\n\n", md(b))
	}
	var cover [][]string
	for _, row := range l.coverRows(r) {
		cover = append(cover, []string{row[0], row[1]})
	}
	mdTable(w, []string{l.T("cover.field"), l.T("cover.value")}, cover)
	fmt.Fprintf(w, "## %s\n\n", l.T("summary"))
	for i, s := range l.summaryLines(r) {
		if i == 0 {
			fmt.Fprintf(w, "**%s**\n\n", md(s))
			continue
		}
		fmt.Fprintf(w, "- %s\n", md(s))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "### %s\n\n", l.T("downtime"))
	if rows := l.serviceRows(r); len(rows) > 0 {
		mdTable(w, []string{l.T("downtime.service"), l.T("downtime.sites"), l.T("downtime.down"), l.T("downtime.total"), l.T("downtime.worst"), l.T("downtime.at_end")}, rows)
	} else {
		fmt.Fprintf(w, "%s\n\n", l.T("downtime.none"))
	}
	fmt.Fprintf(w, "## %s\n\n", l.T("sites"))
	mdTable(w, []string{l.T("col.site"), l.T("col.verdict"), l.T("col.rto"), l.T("col.measured"), l.T("col.met"), l.T("col.duration"), l.T("col.chain")}, l.siteRows(r))
	for i := range r.Sites {
		s := &r.Sites[i]
		fmt.Fprintf(w, "### %s\n\n", md(l.Tf("site.heading", s.Name)))
		for _, f := range l.siteFacts(s) {
			fmt.Fprintln(w, l.Tf("fact", md(f[0]), md(f[1])))
		}
		devs := s.DeviationTexts(l.name)
		if len(devs) == 0 {
			fmt.Fprintln(w, l.Tf("fact", md(l.T("site.deviations")), l.T("site.no_deviations")))
		} else {
			fmt.Fprintln(w, l.Tf("fact.list", md(l.T("site.deviations"))))
			for _, d := range devs {
				fmt.Fprintf(w, "  - %s\n", md(d))
			}
		}
		if s.RunDir != "" {
			fmt.Fprintf(w, "\n%s\n", l.Tf("site.report", mdCode(s.RunDir), mdCode(s.RunDir)))
		}
		fmt.Fprintln(w)
	}
}

// mdCode is text for inside `…` (a backtick cannot appear in it).
func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

// siteFacts are a site's details as label/value pairs.
func (l lang) siteFacts(s *SiteReport) [][2]string {
	facts := [][2]string{{l.T("site.verdict"), l.verdict(s.Verdict)}}
	if s.Problem != "" {
		facts = append(facts, [2]string{l.T("site.why"), s.Problem})
	}
	if s.report != nil {
		facts = append(facts, [2]string{l.T("site.rto"), l.rto(s)})
		down := l.downtime(s)
		if len(down) == 0 {
			down = []string{l.T("downtime.none")}
		}
		facts = append(facts, [2]string{l.T("site.downtime"), strings.Join(down, l.T("down.sep"))})
		facts = append(facts, [2]string{l.T("col.chain"), l.chain(s)})
	}
	if s.RunDir != "" {
		facts = append(facts, [2]string{l.T("site.run_dir"), s.RunDir})
	}
	if s.FinalHash != "" {
		facts = append(facts, [2]string{l.T("site.final_hash"), s.FinalHash})
	}
	return facts
}

// htmlView is what the HTML template reads.
type htmlView struct {
	R *Report
	L lang
}

func (v *htmlView) Title() string        { return v.L.title(v.R) }
func (v *htmlView) Banner() string       { return v.L.labBanner(v.R) }
func (v *htmlView) Cover() [][2]string   { return v.L.coverRows(v.R) }
func (v *htmlView) Summary() []string    { return v.L.summaryLines(v.R) }
func (v *htmlView) Passed() bool         { return v.R.Summary.Verdict == "passed" }
func (v *htmlView) Services() [][]string { return v.L.serviceRows(v.R) }
func (v *htmlView) SiteRows() [][]string { return v.L.siteRows(v.R) }
func (v *htmlView) T(key string) string  { return v.L.T(key) }
func (v *htmlView) Lang() string         { return v.L.name }
func (v *htmlView) Sites() []htmlSite {
	var out []htmlSite
	for i := range v.R.Sites {
		s := &v.R.Sites[i]
		out = append(out, htmlSite{Heading: v.L.Tf("site.heading", s.Name), Passed: s.Verdict == "passed", Facts: v.L.siteFacts(s), Deviations: s.DeviationTexts(v.L.name)})
	}
	return out
}

type htmlSite struct {
	Heading    string
	Passed     bool
	Facts      [][2]string
	Deviations []string
}

var htmlPage = template.Must(template.New("fleet").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,"Noto Sans CJK TC","Noto Sans TC",sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #bbb;padding:0.3em 0.6em;text-align:left;vertical-align:top}
th{background:#eee}
.verdict{font-size:1.3em;font-weight:bold;padding:0.4em 0.6em;border-radius:4px}
.pass{background:#e3f4e3;color:#175417}
.fail{background:#fbe3e3;color:#8a1414}
.banner{background:#fff6d5;border:1px solid #e0c060;padding:0.5em}
section.site{border-left:4px solid #bbb;padding-left:1em;margin-bottom:1.5em}
section.site.pass{border-color:#3a3;background:none;color:inherit}
section.site.fail{border-color:#c33;background:none;color:inherit}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Banner}}<p class="banner">{{.}}</p>{{end}}
<table>
<tr><th>{{.T "cover.field"}}</th><th>{{.T "cover.value"}}</th></tr>
{{range .Cover}}<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{end}}</table>
<h2>{{.T "summary"}}</h2>
{{range $i, $s := .Summary}}{{if eq $i 0}}<p class="verdict {{if $.Passed}}pass{{else}}fail{{end}}">{{$s}}</p>
<ul>{{else}}<li>{{$s}}</li>
{{end}}{{end}}</ul>
<h3>{{.T "downtime"}}</h3>
{{with .Services}}<table>
<tr><th>{{$.T "downtime.service"}}</th><th>{{$.T "downtime.sites"}}</th><th>{{$.T "downtime.down"}}</th><th>{{$.T "downtime.total"}}</th><th>{{$.T "downtime.worst"}}</th><th>{{$.T "downtime.at_end"}}</th></tr>
{{range .}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>{{else}}<p>{{.T "downtime.none"}}</p>{{end}}
<h2>{{.T "sites"}}</h2>
<table>
<tr><th>{{.T "col.site"}}</th><th>{{.T "col.verdict"}}</th><th>{{.T "col.rto"}}</th><th>{{.T "col.measured"}}</th><th>{{.T "col.met"}}</th><th>{{.T "col.duration"}}</th><th>{{.T "col.chain"}}</th></tr>
{{range .SiteRows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{range .Sites}}<section class="site {{if .Passed}}pass{{else}}fail{{end}}">
<h3>{{.Heading}}</h3>
<table>
{{range .Facts}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}<tr><th>{{$.T "site.deviations"}}</th><td>{{with .Deviations}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{else}}{{$.T "site.no_deviations"}}{{end}}</td></tr>
</table>
</section>
{{end}}</body>
</html>
`))
