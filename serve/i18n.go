package serve

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/drbook/drbook/reports"
)

// catalog holds the web view's own fixed texts: {English, Traditional
// Chinese}. Everything the signed report also says (headings, statuses,
// results, modes) comes from the reports' catalog through reports.Term, so
// the web view and the report name things alike; the terms here follow it
// (演練手冊, 場域, 模擬環境, 紀錄檔 …).
var catalog = map[string][2]string{
	"page.runs":         {"drbook: runs in %s", "drbook：%s 之執行紀錄"},
	"page.run":          {"drbook: %s", "drbook：%s"},
	"nav.runs":          {"All runs", "全部執行紀錄"},
	"nav.lang":          {"中文", "English"},
	"read_only":         {"Read-only view of the journals; nothing here changes a run.", "紀錄檔唯讀檢視；本頁不會變更任何執行。"},
	"live.on":           {"live", "即時更新中"},
	"live.off":          {"not live: reload the page", "未連線：請重新整理頁面"},
	"col.where":         {"Lab or real", "模擬或實際"},
	"col.state":         {"State", "狀態"},
	"col.verdict":       {"Verdict", "判定"},
	"col.fleet":         {"Fleet", "批次"},
	"col.last_line":     {"Last journal line", "紀錄檔最後一行"},
	"where.lab":         {"lab", "模擬環境"},
	"where.lab_speed":   {"lab ×%s", "模擬環境 ×%s"},
	"where.real":        {"real (%s)", "實際（%s）"},
	"site.none":         {"no site", "無場域"},
	"state.running":     {"in progress, or stopped without an end", "進行中，或已停止而無結束紀錄"},
	"state.ended":       {"ended: %s", "已結束：%s"},
	"state.starting":    {"starting (no line written yet)", "啟動中（尚未寫入任何一行）"},
	"state.unreadable":  {"unreadable: %s", "無法讀取：%s"},
	"verdict.pending":   {"– (no end yet)", "–（尚未結束）"},
	"step.running":      {"running", "執行中"},
	"no_runs":           {"No run directory here yet. Runs appear as they start.", "目前尚無執行目錄；開始執行後即會出現。"},
	"group.site":        {"Site %s", "場域 %s"},
	"rto.clock":         {"RTO clock", "RTO 計時"},
	"rto.idle":          {"not started (it starts with the first disruptive step)", "尚未開始（自第一個破壞性步驟起算）"},
	"rto.running":       {"%s since %s (step %s)", "%s（自 %s 起，步驟 %s）"},
	"rto.recovered":     {"recovered in %s (from step %s at %s)", "已於 %s 內復原（自步驟 %s 於 %s 起）"},
	"rto.not_recovered": {"not recovered by the end of the run (from step %s at %s)", "至演練結束時尚未復原（自步驟 %s 於 %s 起）"},
	"rto.objective":     {"objective %s", "目標 %s"},
	"rto.no_objective":  {"no objective", "未訂定目標"},
	"monitors":          {"Monitors", "監控"},
	"monitor.state":     {"Now", "目前狀態"},
	"monitor.up":        {"up", "正常"},
	"monitor.down":      {"down", "停機"},
	"monitor.unknown":   {"unknown", "未知（無回應）"},
	"monitor.since":     {"since %s", "自 %s 起"},
	"journal":           {"Journal", "紀錄檔"},
	"journal.count":     {"%d lines", "共 %d 行"},
	"journal.older":     {"%d earlier lines are not shown here; they are in the report below.", "較早之 %d 行未列於此，內容見下方報告。"},
	"journal.bad_line":  {"line %d is not a journal event: %s", "第 %d 行不是紀錄事件：%s"},
	"report":            {"Report", "報告"},
	"report.open":       {"Open the report on its own page", "以獨立頁面開啟報告"},
	"evidence.none":     {"No evidence recorded yet.", "尚無佐證資料。"},
	"evidence.step":     {"%s: %s", "%s：%s"},
	"line.run_start":    {"run %s started by %s", "%s 開始執行，操作人員 %s"},
	"line.run_resume":   {"resumed by %s", "%s 續行演練"},
	"line.run_end":      {"run ended: %s", "演練結束：%s"},
	"line.step_start":   {"%s started (%s)", "%s 開始（%s）"},
	"line.step_attempt": {"%s started (%s, attempt %d)", "%s 開始（%s，第 %d 次嘗試）"},
	"line.step_retry":   {"%s attempt %d failed: %s", "%s 第 %d 次嘗試失敗：%s"},
	"line.step_finish":  {"%s %s after %s", "%s %s，耗時 %s"},
	"line.step_error":   {"%s %s after %s: %s", "%s %s，耗時 %s：%s"},
	"line.evidence":     {"%s: evidence (%s) %s", "%s：佐證資料（%s）%s"},
	"line.run_evidence": {"evidence (%s) %s", "佐證資料（%s）%s"},
	"line.note":         {"%s: %s", "%s：%s"},
	"line.decision":     {"decision by %s: %s %s", "決策：%s：%s %s"},
	"line.trust":        {"trusting %s %s (%s)", "信任 %s %s（%s）"},
	"line.monitor":      {"monitor %s is %s %s", "監控 %s：%s %s"},
	"line.artifact":     {"artifact %s (%s bytes)", "附件 %s（%s 位元組）"},
	"error.not_found":   {"There is no such run in %s.", "%s 中無此執行紀錄。"},
	"error.unreadable":  {"This run cannot be read: %s", "無法讀取本執行紀錄：%s"},
	"error.token":       {"A token is required: open the address with ?token=… as given to you, or send Authorization: Bearer ….", "需要存取權杖：請以所提供之 ?token=… 開啟網址，或送出 Authorization: Bearer …。"},
	"error.read_only":   {"This view is read-only: only GET and HEAD are served.", "本檢視為唯讀：僅提供 GET 與 HEAD。"},
	"error.host":        {"Refused: the Host header %q is not a loopback name. Open the view at http://127.0.0.1:PORT/ or give the server a token.", "已拒絕：Host 標頭 %q 不是本機位址。請以 http://127.0.0.1:PORT/ 開啟，或為伺服器設定存取權杖。"},
}

// words words the web view in one language.
type words struct {
	lang string
	idx  int
}

func wordsFor(lang string) words {
	if lang == reports.LangZhTW {
		return words{lang: lang, idx: 1}
	}
	return words{lang: reports.LangEN}
}

// T is the web view's text for key, else the reports' (a missing key
// shows itself, and TestCatalogComplete keeps that from shipping).
func (w words) T(key string) string {
	if e, ok := catalog[key]; ok {
		return e[w.idx]
	}
	return reports.Term(key, w.lang)
}

// Tf is T used as a format.
func (w words) Tf(key string, args ...any) string { return fmt.Sprintf(w.T(key), args...) }

// Enum words a journaled value from a fixed set the way the report does,
// showing a value the catalog lacks as it is.
func (w words) Enum(prefix, v string) string {
	if _, ok := catalog[prefix+"."+v]; ok {
		return w.T(prefix + "." + v)
	}
	if reports.HasTerm(prefix + "." + v) {
		return reports.Term(prefix+"."+v, w.lang)
	}
	return v
}

// negotiate picks the page's language: ?lang= first, then the browser's
// Accept-Language by its q-values, then def. Any Chinese tag gets zh-TW,
// the only Chinese drbook speaks.
func negotiate(r *http.Request, def string) (lang string, explicit bool) {
	switch strings.ToLower(r.URL.Query().Get("lang")) {
	case "en":
		return reports.LangEN, true
	case "zh-tw":
		return reports.LangZhTW, true
	}
	type choice struct {
		tag string
		q   float64
	}
	var choices []choice
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if tag != "" && q > 0 {
			choices = append(choices, choice{strings.ToLower(tag), q})
		}
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	for _, c := range choices {
		switch {
		case c.tag == "zh" || strings.HasPrefix(c.tag, "zh-"):
			return reports.LangZhTW, false
		case c.tag == "en" || strings.HasPrefix(c.tag, "en-"):
			return reports.LangEN, false
		case c.tag == "*":
			return def, false
		}
	}
	return def, false
}
