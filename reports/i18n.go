package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
)

// Languages a report can be rendered in.
const (
	LangEN   = "en"
	LangZhTW = "zh-TW"
)

// catalog holds every fixed text of every format: {English, Traditional
// Chinese as written in Taiwan government documents}.
var catalog = map[string][2]string{
	"drill_report":        {"Drill report", "演練報告"},
	"colon":               {": ", "："},
	"cover":               {"Cover", "封面"},
	"site":                {"Site", "場域"},
	"runbook":             {"Runbook", "演練手冊"},
	"version":             {"Version", "版本"},
	"runbook_sha":         {"Runbook SHA-256", "演練手冊 SHA-256"},
	"site_sha":            {"Site file SHA-256", "場域檔 SHA-256"},
	"run_id":              {"Run ID", "執行編號"},
	"mode":                {"Mode", "模式"},
	"operator":            {"Operator", "操作人員"},
	"machine":             {"Machine", "執行主機"},
	"drbook_version":      {"drbook version", "drbook 版本"},
	"start":               {"Start", "開始時間"},
	"end":                 {"End", "結束時間"},
	"result":              {"Result", "結果"},
	"error":               {"Error", "錯誤"},
	"time_zone":           {"Times are in", "時間以此時區表示"},
	"parameters":          {"Parameters", "參數"},
	"summary":             {"Summary", "摘要"},
	"rto":                 {"Recovery time objective (RTO)", "復原時間目標（RTO）"},
	"rto_short":           {"RTO", "RTO"},
	"rto_measured":        {"Measured recovery time", "實測復原時間"},
	"rto_none":            {"not stated", "未訂定"},
	"rto_met":             {"met", "達成"},
	"rto_missed":          {"exceeded", "未達成"},
	"rto_na":              {"not applicable: no step is marked disruptive", "不適用：無標示為破壞性之步驟"},
	"not_recovered":       {"not recovered by the end of the run", "至演練結束時尚未復原"},
	"none_declared":       {"no monitor or recovery step declared to measure it", "未設定可供量測之監控或復原步驟"},
	"recovery_from":       {"from the start of step", "起點：步驟開始"},
	"recovery_until":      {"until", "終點"},
	"resolution":          {"probe resolution", "偵測精度"},
	"resolution_h":        {"Probe resolution", "偵測精度"},
	"step_word":           {"step", "步驟"},
	"service_word":        {"service", "服務"},
	"downtime":            {"Downtime per monitored service", "各監控服務停機時間"},
	"service":             {"Service", "服務"},
	"outages":             {"Outages", "停機次數"},
	"total_downtime":      {"Total downtime", "停機時間合計"},
	"availability":        {"Availability", "可用率"},
	"availability_of":     {"%[1]s over %[2]s observed (%[3]s → %[4]s)", "%[1]s（監控 %[2]s：%[3]s → %[4]s）"},
	"availability_na":     {"– (only %[1]s observed; stated from %[2]s)", "–（僅監控 %[1]s；滿 %[2]s 始列）"},
	"observed":            {"Observed", "監控時長"},
	"down_at_end":         {"still down at the end of the run", "演練結束時仍停機"},
	"no_monitors":         {"No service was monitored during this run.", "本次演練未設定服務監控。"},
	"outage_windows":      {"Outage windows", "停機時段"},
	"unknown_windows":     {"Probe could not tell (not downtime)", "偵測無法判定（不計入停機）"},
	"unknown_at_end":      {"still unknown at the end of the run", "演練結束時仍無法判定"},
	"from":                {"From", "起"},
	"to":                  {"To", "迄"},
	"duration":            {"Duration", "時間長度"},
	"detail":              {"Detail", "說明"},
	"time_split":          {"Time", "時間統計"},
	"wall_clock":          {"Wall-clock time", "總經過時間"},
	"step_time":           {"Time in steps", "步驟執行時間合計"},
	"human_wait":          {"Human wait time (confirmations, manual steps)", "人工等待時間（確認、手動步驟）"},
	"automated":           {"Automated time", "自動執行時間"},
	"gaps":                {"Between steps and sessions", "步驟間及執行階段間"},
	"time_identity":       {"Wall-clock time = automated + human wait + between steps and sessions.", "總經過時間 = 自動執行 + 人工等待 + 步驟間及執行階段間。"},
	"step_counts":         {"Steps", "步驟統計"},
	"deviations":          {"Deviations", "異常及偏離事項"},
	"no_deviations":       {"None: every step ran as planned.", "無：各步驟均依計畫執行。"},
	"timeline":            {"Timeline", "時間軸"},
	"timeline_packed":     {"%d steps drawn in %d lanes; see the step table for each one.", "共 %d 個步驟，繪於 %d 列；各步驟請見步驟表。"},
	"disruption":          {"disruption", "破壞性操作開始"},
	"recovered":           {"recovered", "復原完成"},
	"steps":               {"Steps", "步驟"},
	"id":                  {"ID", "代號"},
	"name":                {"Name", "名稱"},
	"kind":                {"Kind", "類型"},
	"target":              {"Target", "對象"},
	"planned":             {"Planned", "預計"},
	"attempts":            {"Attempts", "嘗試次數"},
	"status":              {"Status", "狀態"},
	"confirmed_by":        {"Confirmed by", "確認人員"},
	"block":               {"Block", "區段"},
	"evidence":            {"Evidence", "佐證資料"},
	"run_evidence":        {"Run-wide records", "整體紀錄"},
	"retries":             {"Retries", "重試紀錄"},
	"attempt":             {"Attempt", "第幾次"},
	"delay":               {"Delay", "延遲"},
	"notes":               {"Notes", "備註"},
	"decisions":           {"Decisions", "決策紀錄"},
	"who":                 {"Who", "人員"},
	"action":              {"Action", "動作"},
	"reason":              {"Reason", "原因"},
	"inputs":              {"Inputs", "輸入值"},
	"time":                {"Time", "時間"},
	"step_result":         {"Step result", "步驟結果"},
	"artifacts":           {"Artifacts", "附件檔案"},
	"artifact":            {"Artifact", "附件"},
	"size":                {"Size", "大小"},
	"command":             {"Command", "指令"},
	"exit_code":           {"exit code", "結束代碼"},
	"stdout":              {"Output", "標準輸出"},
	"stderr":              {"Error output", "錯誤輸出"},
	"truncated":           {"trimmed for print; full text in the artifact", "列印時已截短，完整內容見附件"},
	"full_text":           {"full text", "完整內容"},
	"file":                {"File", "檔案"},
	"key":                 {"Item", "項目"},
	"value":               {"Value", "內容"},
	"source":              {"Source", "來源"},
	"trust":               {"Host keys and certificates relied on", "所信任之主機金鑰與憑證"},
	"endpoint":            {"Endpoint", "端點"},
	"fingerprint":         {"Fingerprint", "指紋"},
	"no_trust":            {"No SSH host key or TLS certificate was used.", "未使用 SSH 主機金鑰或 TLS 憑證。"},
	"sessions":            {"Sessions", "執行階段"},
	"resumed":             {"resumed", "續行"},
	"runbook_changed":     {"runbook changed, allowed by the operator", "演練手冊已變更，經操作人員同意"},
	"history":             {"Earlier runs of this runbook", "本演練手冊歷次執行比較"},
	"not_verified":        {"chain not verified", "雜湊鏈未通過驗證"},
	"history_how":         {"Runs of this runbook that started before this one, each read from its own journal and its hash chain verified; runs of other runbooks are not read beyond their first line.", "本演練手冊於本次之前開始之執行，各依其紀錄檔產製並驗證雜湊鏈；其他演練手冊之執行僅讀取第一行。"},
	"not_verified_banner": {"NOT VERIFIED: this journal does not verify (%[1]s). Nothing in this report can be relied on; the final hash below is that of the journal as found, not of the run as recorded.", "未通過驗證：本紀錄檔未通過驗證（%[1]s）。本報告內容均不可採信；下列最終雜湊值為現存紀錄檔之值，並非原始執行紀錄之值。"},
	"verdict_rto":         {"The run ended as recorded (%[1]s), but the drill failed: %[2]s", "執行紀錄之結果為「%[1]s」，惟演練未通過：%[2]s"},
	"final_hash_as_found": {"Journal final hash as found (NOT VERIFIED)", "現存紀錄檔最終雜湊值（未通過驗證）"},
	"results_in_json":     {"Each step's typed result is in the JSON report (report.json, or drbook report --format json).", "各步驟之結構化結果請見 JSON 報告（report.json，或 drbook report --format json）。"},
	"footer_run":          {"Run", "執行編號"},
	"footer_hash":         {"final hash", "最終雜湊值"},
	"footer_page_before":  {"page ", "第 "},
	"footer_page_middle":  {" of ", " 頁，共 "},
	"footer_page_after":   {" ", " 頁"},
	"sign_off":            {"Sign-off", "簽核"},
	"prepared_by":         {"Prepared by", "製表人"},
	"reviewed_by":         {"Reviewed by", "覆核人"},
	"auditor":             {"Auditor", "稽核人員"},
	"date":                {"Date", "日期"},
	"signature":           {"Signature", "簽章"},
	"integrity":           {"Integrity", "完整性驗證"},
	"final_hash":          {"Journal final hash (SHA-256)", "紀錄檔最終雜湊值（SHA-256）"},
	"lines":               {"Journal lines", "紀錄檔行數"},
	"chain":               {"Hash chain", "雜湊鏈"},
	"chain_ok":            {"verified", "驗證通過"},
	"chain_unchecked":     {"not checked (report built without the run directory)", "未驗證（產製報告時未提供執行目錄）"},
	"chain_broken":        {"BROKEN", "驗證失敗"},
	"sig_none":            {"not signed", "未簽章"},
	"sig_valid":           {"valid ed25519 signature over the final hash, key", "ed25519 簽章有效，涵蓋最終雜湊值，金鑰"},
	"sig_invalid":         {"INVALID", "無效"},
	"sig_check":           {"Check the key with “drbook verify --key KEY RUN_DIR”.", "請以「drbook verify --key 金鑰 執行目錄」核對金鑰。"},
	"torn":                {"torn last line ignored (bytes)", "已忽略不完整之最後一行（位元組）"},
	"integrity_how":       {"Regenerate and verify this report from the run directory with “drbook verify RUN_DIR”; the final hash above pins every line of the journal, including the last.", "可以「drbook verify 執行目錄」重新驗證；上列最終雜湊值涵蓋紀錄檔每一行（含最後一行）。"},
	"generated_from":      {"Generated from the run journal alone by drbook.", "本報告僅依執行紀錄檔由 drbook 產製。"},
	"yes":                 {"yes", "是"},
	"no":                  {"no", "否"},
	"none":                {"none", "無"},
	"disruptive":          {"disruptive", "破壞性"},
	"recovery_step":       {"recovery", "復原"},

	// A lab run's times are real elapsed time on a simulator that ran
	// %[1]s times faster than real time; these keep an auditor from
	// reading them as a real site's figures.
	"lab_banner": {"Lab run at ×%[1]s: the simulated site ran %[1]s times faster than real time. Every time and duration in this report is real elapsed time; a recovery time or downtime multiplied by %[1]s is its simulated equivalent. No figure in this report was measured on a real site.",
		"模擬環境演練（×%[1]s）：模擬場域以實際時間之 %[1]s 倍速執行。本報告所列時間均為實際經過時間；復原時間或停機時間乘以 %[1]s 即為模擬時間。本報告之數據均非於實際場域量測。"},
	"lab_banner_unknown": {"Lab run: this run used drbook's simulated site, and its speed was not recorded. Times and durations are real elapsed time on the simulator. No figure in this report was measured on a real site.",
		"模擬環境演練：本次演練使用 drbook 模擬場域，未記錄其倍速。所列時間均為模擬器上之實際經過時間。本報告之數據均非於實際場域量測。"},
	"lab_banner_real": {"Lab run at ×1: the simulated site ran in real time, so its durations are the simulated site's own. No figure in this report was measured on a real site.",
		"模擬環境演練（×1）：模擬場域以實際時間執行，所列時間即為模擬時間。本報告之數據均非於實際場域量測。"},
	"lab_equiv":       {"lab run at ×%[1]s: %[2]s × %[1]s = %[3]s simulated", "模擬環境 ×%[1]s 倍速：%[2]s × %[1]s = 模擬時間 %[3]s"},
	"lab_equiv_short": {"×%[1]s = %[2]s simulated", "×%[1]s = 模擬 %[2]s"},

	"status.ok":           {"ok", "成功"},
	"status.failed":       {"failed", "失敗"},
	"status.skipped":      {"skipped", "略過"},
	"status.interrupted":  {"interrupted", "執行中斷"},
	"status.cancelled":    {"cancelled", "已取消"},
	"status.done-by-hand": {"done by hand", "人工完成"},
	"status.not-run":      {"not run", "未執行"},

	"result.passed":       {"PASSED", "通過"},
	"result.failed":       {"FAILED", "未通過"},
	"result.aborted":      {"ABORTED", "中止"},
	"result.interrupted":  {"INTERRUPTED", "執行中斷"},
	"result.paused":       {"PAUSED", "暫停"},
	"result.incomplete":   {"INCOMPLETE (no end recorded)", "未完成（無結束紀錄）"},
	"result.not-verified": {"NOT VERIFIED", "未通過驗證"},

	// Decisions as journaled (journal.Decision.Action); English shows
	// the journaled value itself.
	"action.run":               {"run", "執行"},
	"action.skip":              {"skip", "略過"},
	"action.done-by-hand":      {"done-by-hand", "人工完成"},
	"action.not-done":          {"not-done", "未完成"},
	"action.abort":             {"abort", "中止"},
	"action.retry":             {"retry", "重試"},
	"action.fail":              {"fail", "判定失敗"},
	"action.pause":             {"pause", "暫停"},
	"action.go-on":             {"go-on", "取消暫停"},
	"action.cancel-step":       {"cancel-step", "停止步驟"},
	"action.interrupt":         {"interrupt", "執行中斷"},
	"action.accept-new":        {"accept-new", "接受新金鑰"},
	"action.rerun-interrupted": {"rerun-interrupted", "重新執行中斷之步驟"},

	"recorded.passed":      {"passed", "通過"},
	"recorded.failed":      {"failed", "未通過"},
	"recorded.aborted":     {"aborted", "中止"},
	"recorded.interrupted": {"interrupted", "執行中斷"},
	"recorded.paused":      {"paused", "暫停"},

	"trust_kind.ssh-host-key":    {"ssh-host-key", "SSH 主機金鑰"},
	"trust_kind.ssh-algorithms":  {"ssh-algorithms", "SSH 演算法"},
	"trust_kind.tls-certificate": {"tls-certificate", "TLS 憑證"},
	"trust_source.pinned":        {"pinned", "場域檔釘選"},
	"trust_source.known_hosts":   {"known_hosts", "known_hosts 檔"},
	"trust_source.ca":            {"ca", "憑證機構（CA）"},
	"trust_source.accepted-new":  {"accepted-new", "本次接受之新金鑰"},

	"mode.lab":      {"lab", "模擬環境"},
	"mode.drill":    {"drill", "演練"},
	"mode.recovery": {"recovery", "實際復原"},

	"dev.over-expect":        {"Step %[1]s took %[2]s, planned %[3]s.", "步驟 %[1]s 耗時 %[2]s，超過預計 %[3]s。"},
	"dev.skipped":            {"Step %[1]s was skipped. %[4]s", "步驟 %[1]s 已略過。%[4]s"},
	"dev.done-by-hand":       {"Step %[1]s was done by hand. %[4]s", "步驟 %[1]s 以人工方式完成。%[4]s"},
	"dev.failed":             {"Step %[1]s failed: %[4]s", "步驟 %[1]s 失敗：%[4]s"},
	"dev.continued-on-error": {"Step %[1]s failed and the run continued: %[4]s", "步驟 %[1]s 失敗，依設定繼續執行：%[4]s"},
	"dev.interrupted":        {"Step %[1]s was interrupted. %[4]s", "步驟 %[1]s 執行中斷。%[4]s"},
	"dev.paused":             {"The run was paused at %[5]s by %[6]s%[7]s. %[4]s", "演練於 %[5]s 由 %[6]s 暫停%[7]s。%[4]s"},
	"dev.paused_at_step":     {" (at step %[1]s)", "（步驟 %[1]s）"},
	"dev.resumed":            {"The run was resumed at %[5]s by %[6]s.", "演練於 %[5]s 由 %[6]s 續行。"},
	"dev.cancelled":          {"Step %[1]s was cancelled. %[4]s", "步驟 %[1]s 已取消。%[4]s"},
	"dev.not-run":            {"Step %[1]s did not run.", "步驟 %[1]s 未執行。"},
	"dev.retried":            {"Step %[1]s needed %[4]s attempts.", "步驟 %[1]s 共嘗試 %[4]s 次。"},
	"dev.rto-exceeded":       {"Recovery took %[2]s, over the objective of %[3]s.", "實測復原時間 %[2]s，超過復原時間目標 %[3]s。"},
	"dev.not-recovered":      {"Recovery was not reached: %[4]s.", "未完成復原：%[4]s。"},
	"dev.accepted-new-key":   {"A new key was accepted by the operator (step %[1]s): %[4]s", "操作人員接受新金鑰（步驟 %[1]s）：%[4]s"},
	"dev.runbook-changed":    {"The runbook changed between sessions (now SHA-256 %[4]s); the operator allowed it.", "演練手冊於續行時已變更（現 SHA-256 %[4]s），經操作人員同意。"},
	"dev.torn-journal":       {"The journal's last line was torn (%[4]s bytes ignored): the run stopped while writing it.", "紀錄檔最後一行不完整（忽略 %[4]s 位元組）：寫入時程式中止。"},
	"dev.integrity":          {"Integrity problem: %[4]s", "完整性問題：%[4]s"},
}

// localizer renders fixed text, durations and times in one language and
// time zone.
type localizer struct {
	lang  string
	idx   int
	loc   *time.Location
	start time.Time
	// lab and labSpeed describe the report's run: a lab run, and how many
	// times faster than real time its simulated site ran (0: not recorded).
	lab      bool
	labSpeed float64
	// multiDay is set when the run crosses midnight, so table times carry
	// the date.
	multiDay bool
	// integrity is the report's, to word a broken chain.
	integrity *Integrity
}

func newLocalizer(r *Report, lang string) (*localizer, error) {
	l := &localizer{lang: lang, loc: r.loc, start: r.Cover.Start, lab: r.Cover.Mode == ModeLab, labSpeed: r.Cover.LabSpeed, integrity: &r.Integrity}
	switch lang {
	case LangEN:
	case LangZhTW:
		l.idx = 1
	default:
		return nil, fmt.Errorf("report: unknown language %q; use en or zh-TW", lang)
	}
	if l.loc == nil {
		l.loc = time.UTC
	}
	end := r.Cover.Start
	if r.Cover.End != nil {
		end = *r.Cover.End
	}
	l.multiDay = r.Cover.Start.In(l.loc).YearDay() != end.In(l.loc).YearDay() || end.Sub(r.Cover.Start) > 24*time.Hour
	return l, nil
}

// T returns the fixed text for key; a missing key shows itself rather than
// an empty cell, and the catalog test keeps that from shipping.
func (l *localizer) T(key string) string {
	if e, ok := catalog[key]; ok {
		return e[l.idx]
	}
	return key
}

// Tf is T used as a format.
func (l *localizer) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

// statusOrder is the order statuses are counted in, best first.
var statusOrder = []string{"ok", "done-by-hand", "failed", "interrupted", "cancelled", "skipped", StatusNotRun}

// Counts lists step counts as "status n" in statusOrder, then any other
// status alphabetically.
func (l *localizer) Counts(counts map[string]int) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range append(append([]string(nil), statusOrder...), mapKeys(counts)...) {
		if n, ok := counts[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, l.Enum("status", k)+" "+strconv.Itoa(n))
		}
	}
	return out
}

// Enum localizes a value from a fixed set (status, result, mode), showing
// an unknown value as it is.
func (l *localizer) Enum(prefix, v string) string {
	if e, ok := catalog[prefix+"."+v]; ok {
		return e[l.idx]
	}
	return v
}

// Text picks a bilingual text's language.
func (l *localizer) Text(t journal.Text) string { return t.In(l.lang) }

// Dur formats a duration for people, to a tenth of a second: 58.4 s,
// 6 min 7.6 s, 5 min, 1 h 5 min (in zh-TW 58.4 秒, 6 分 7.6 秒, 5 分鐘,
// 1 小時 5 分鐘). A whole number of minutes or hours drops the zero seconds.
func (l *localizer) Dur(d journal.Duration) string {
	v := d.D()
	neg := v < 0
	if neg {
		v = -v
	}
	if v > 0 && v < 50*time.Millisecond {
		// A fast step is not "0.0 s": milliseconds say how fast.
		ms := strconv.FormatInt(int64((v+500*time.Microsecond)/time.Millisecond), 10) + " ms"
		if v < 500*time.Microsecond {
			ms = "< 1 ms"
		}
		if neg {
			ms = "-" + ms
		}
		return ms
	}
	tenths := int64((v + 50*time.Millisecond) / (100 * time.Millisecond))
	h, m, st := tenths/36000, tenths/600%60, tenths%600
	sec := strconv.FormatFloat(float64(st)/10, 'f', 1, 64)
	var parts []string
	if l.idx == 1 {
		if h > 0 {
			parts = append(parts, strconv.FormatInt(h, 10)+" 小時")
		}
		if m > 0 {
			unit := " 分鐘"
			if st != 0 {
				unit = " 分"
			}
			parts = append(parts, strconv.FormatInt(m, 10)+unit)
		}
		if st != 0 || (h == 0 && m == 0) {
			parts = append(parts, sec+" 秒")
		}
	} else {
		if h > 0 {
			parts = append(parts, strconv.FormatInt(h, 10)+" h")
		}
		if m > 0 {
			parts = append(parts, strconv.FormatInt(m, 10)+" min")
		}
		if st != 0 || (h == 0 && m == 0) {
			parts = append(parts, sec+" s")
		}
	}
	out := strings.Join(parts, " ")
	if neg {
		out = "-" + out
	}
	return out
}

// DurOpt formats a duration, or a dash for none.
func (l *localizer) DurOpt(d journal.Duration) string {
	if d == 0 {
		return "–"
	}
	return l.Dur(d)
}

// Stamp is a full date and time with its UTC offset, for the cover.
func (l *localizer) Stamp(t time.Time) string {
	return t.In(l.loc).Format("2006-01-02 15:04:05.0 -07:00")
}

// StampP is Stamp of an optional time.
func (l *localizer) StampP(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return l.Stamp(*t)
}

// Clock is a time of day for tables (with the date when the run crosses
// midnight).
func (l *localizer) Clock(t time.Time) string {
	if l.multiDay {
		return t.In(l.loc).Format("01-02 15:04:05.0")
	}
	return t.In(l.loc).Format("15:04:05.0")
}

// ClockP is Clock of an optional time.
func (l *localizer) ClockP(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return l.Clock(*t)
}

// Deviation words one deviation.
func (l *localizer) Deviation(d Deviation) string {
	key := "dev." + d.Kind
	if _, ok := catalog[key]; !ok {
		return d.Kind + ": " + d.Step + " " + d.Detail
	}
	detail := d.Detail
	if d.Kind == DevIntegrity && l.integrity != nil && d.Detail == l.integrity.ChainError {
		detail = ChainProblem(l.integrity.ChainLine, l.integrity.ChainKind, d.Detail, l.lang)
	}
	if d.Kind == DevNotRecovered {
		var parts []string
		for _, p := range d.Pending {
			parts = append(parts, l.RecoveryUntil(p))
		}
		detail = strings.Join(parts, ", ")
	}
	at, atStep := "", ""
	if d.At != nil {
		at = l.Stamp(*d.At)
	}
	if d.Step != "" {
		atStep = l.Tf("dev.paused_at_step", d.Step)
	}
	text := strings.TrimSpace(l.Tf(key, d.Step, l.Dur(d.Actual), l.Dur(d.Planned), detail, at, d.Who, atStep))
	if e := l.LabEquiv(d.Actual); e != "" && d.Kind == DevRTOExceeded {
		text += " (" + e + ")"
	}
	return text
}

// LabBanner is the cover's warning that the run was a lab run, or "" for a
// run on a real site.
func (l *localizer) LabBanner() string {
	switch {
	case !l.lab:
		return ""
	case l.labSpeed == 0:
		return l.T("lab_banner_unknown")
	case l.labSpeed == 1:
		return l.T("lab_banner_real")
	}
	return l.Tf("lab_banner", labFactor(l.labSpeed))
}

// Mode is the run's mode for the cover, with a lab run's speed: "lab ×30".
func (l *localizer) Mode(r *Report) string {
	m := l.Enum("mode", r.Cover.Mode)
	if l.lab && l.labSpeed > 0 {
		m += " ×" + labFactor(l.labSpeed)
	}
	return m
}

// LabEquiv words a recovery time of a lab run with its simulated
// equivalent ("lab run at ×30: 1.8s × 30 = 54.0s simulated"); "" unless the
// run is a lab run of known speed.
func (l *localizer) LabEquiv(d journal.Duration) string {
	if !l.lab || l.labSpeed == 0 {
		return ""
	}
	f := labFactor(l.labSpeed)
	return l.Tf("lab_equiv", f, l.Dur(d), l.Dur(simulated(d, l.labSpeed)))
}

// LabShort is LabEquiv for a table cell: "×30 = 54.0s simulated".
func (l *localizer) LabShort(d journal.Duration) string {
	if !l.lab {
		return ""
	}
	return l.labShortAt(d, l.labSpeed)
}

// labShortAt is LabShort for a run of the given speed (history rows are
// other runs); "" for speed 0.
func (l *localizer) labShortAt(d journal.Duration, speed float64) string {
	if speed == 0 {
		return ""
	}
	return l.Tf("lab_equiv_short", labFactor(speed), l.Dur(simulated(d, speed)))
}

// HistoryLab is LabShort for an earlier run listed in the history: it
// marks a lab run's figures (with their simulated equivalent when its speed
// is known) and is "" for a run on a real site.
func (l *localizer) HistoryLab(h HistoryEntry, d journal.Duration) string {
	switch {
	case h.Mode != ModeLab:
		return ""
	case h.LabSpeed == 0:
		return l.Enum("mode", ModeLab)
	}
	return l.labShortAt(d, h.LabSpeed)
}

// labFactor prints a lab speed as the operator gave it: 30, 2.5.
func labFactor(speed float64) string { return strconv.FormatFloat(speed, 'g', -1, 64) }

// simulated is how long d of real time lasted on the clock of a simulated
// site running speed times faster. d is first rounded to the tenth of a
// second Dur shows, so the printed sum adds up ("1.8s × 30 = 54.0s", not
// 54.1s from an unseen 1.803s); the error this leaves is far below the
// probe resolution times the speed.
func simulated(d journal.Duration, speed float64) journal.Duration {
	v := float64(d.D().Round(100*time.Millisecond)) * speed
	switch {
	case v >= math.MaxInt64:
		return journal.Duration(math.MaxInt64)
	case v <= math.MinInt64:
		return journal.Duration(math.MinInt64)
	}
	return journal.Duration(v)
}

// Percent formats an availability.
func (l *localizer) Percent(p float64) string {
	return strconv.FormatFloat(p, 'f', 3, 64) + "%"
}

// Availability states a monitor's availability with the window it was
// observed over, or why it is not stated.
func (l *localizer) Availability(m ServiceDowntime) string {
	if m.Availability == nil {
		return l.Tf("availability_na", l.Dur(m.Observed), l.Dur(MinAvailabilityWindow))
	}
	end := m.ObservedFrom.Add(m.Observed.D())
	return l.Tf("availability_of", l.Percent(*m.Availability), l.Dur(m.Observed), l.Clock(m.ObservedFrom), l.Clock(end))
}

// Title is the report's title: the runbook's title in the language, or its
// name.
func (l *localizer) Title(r *Report) string {
	if t := l.Text(r.Cover.Title); t != "" {
		return t
	}
	return r.Cover.Runbook
}

// StepName is a step's name in the language, or its id.
func (l *localizer) StepName(s *Step) string {
	if t := l.Text(s.Name); t != "" {
		return t
	}
	return s.ID
}

// Bytes formats a size in bytes.
func (l *localizer) Bytes(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// Lang returns the language tag for documents (HTML lang attribute).
func (l *localizer) Lang() string {
	if l.idx == 1 {
		return "zh-Hant-TW"
	}
	return "en"
}

// RecoveryUntil words what recovered last ("monitor:ap-web", "step:ha").
func (l *localizer) RecoveryUntil(s string) string {
	kind, name, _ := strings.Cut(s, ":")
	switch kind {
	case "monitor":
		return l.T("service_word") + " " + name
	case "step":
		return l.T("step_word") + " " + name
	case "none-declared":
		return l.T("none_declared")
	}
	return s
}

// goDuration matches a value a step kind printed with Go's
// time.Duration.String ("5m0s", "1.833380398s", "200ms"): always with a unit.
var goDuration = regexp.MustCompile(`^(?:\d+h)?(?:\d+m)?(?:\d+(?:\.\d+)?(?:s|ms|µs|us|ns))?$`)

// goDurationInText matches a duration Go printed inside a sentence where
// a person would not write it so: several units ("5m0s", "1h0m0s",
// "1m30.5s") or nanosecond digits ("1.833380398s").
var goDurationInText = regexp.MustCompile(`\b(?:(?:\d+h)?\d+m\d+(?:\.\d+)?s|\d+\.\d{3,}s)\b`)

// timestamp matches an RFC 3339 time a step kind printed ("2026-12-02T05:49:02Z").
var timestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)`)

// Cell words a value a step kind wrote into its evidence (a table cell, a
// fact, a title, a parameter, a description) the way the rest of the
// report speaks: a whole value that is a Go duration, and one inside a
// sentence in Go's several-unit form, becomes a human one, and every
// RFC 3339 time in it is shown in the report's time zone, so a table of
// UTC times never sits under a timeline in Asia/Taipei. Anything else is
// left exactly as journaled.
func (l *localizer) Cell(s string) string {
	if len(s) < 2 {
		return s
	}
	if c := s[len(s)-1]; c == 's' && s[0] >= '0' && s[0] <= '9' && goDuration.MatchString(s) {
		if d, err := time.ParseDuration(s); err == nil {
			return l.Dur(journal.Duration(d))
		}
	}
	if strings.Contains(s, "s") {
		s = goDurationInText.ReplaceAllStringFunc(s, func(ds string) string {
			d, err := time.ParseDuration(ds)
			if err != nil {
				return ds
			}
			return l.Dur(journal.Duration(d))
		})
	}
	if len(s) < 20 || !strings.Contains(s, "T") {
		return s
	}
	return timestamp.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return ts
		}
		return l.Stamp(t)
	})
}

// Param words a runbook parameter's value for the cover: strings through
// Cell, anything else as JSON.
func (l *localizer) Param(v any) string {
	if s, ok := v.(string); ok {
		return l.Cell(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Duration words d for people in lang (en or zh-TW) as every report
// does: "6 min 7.6 s", "5 分鐘". The command line uses it so that `drbook
// runs` and `drbook history` speak like the reports.
func Duration(d journal.Duration, lang string) string {
	l := &localizer{lang: lang}
	if lang == LangZhTW {
		l.idx = 1
	}
	return l.Dur(d)
}

// Word words a journaled value of a fixed set in lang as the reports do:
// Word("status", "done-by-hand", "zh-TW") is 人工完成, Word("trust_source",
// "pinned", …) names where a key was trusted from. A value the catalog
// does not know is shown as it is.
func Word(prefix, v, lang string) string {
	if e, ok := catalog[prefix+"."+v]; ok {
		if lang == LangZhTW {
			return e[1]
		}
		return e[0]
	}
	return v
}

// ResultText words a verdict or recorded result ("passed", "not-verified")
// in lang as the reports' covers do.
func ResultText(result, lang string) string {
	l := &localizer{lang: lang}
	if lang == LangZhTW {
		l.idx = 1
	}
	return l.Enum("result", result)
}

// DeviationText words one of r's deviations in lang as r's own report
// does, in r's time zone: a fleet report lists each site's deviations in
// the same words as the site's report.
func (r *Report) DeviationText(d Deviation, lang string) string {
	l, err := newLocalizer(r, lang)
	if err != nil {
		l, _ = newLocalizer(r, LangEN)
	}
	return l.Deviation(d)
}

// Location is the time zone r shows its times in (the runbook's
// timezone label, else UTC).
func (r *Report) Location() *time.Location {
	if r.loc == nil {
		return time.UTC
	}
	return r.loc
}
