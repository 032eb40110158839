package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/drbook/drbook/reports"
)

// operatorCatalog holds every fixed text the operator reads during a run
// (the guided view, the prompts, the plain timestamped lines and the final
// summary): {English, Traditional Chinese as written in Taiwan government
// IT}. The Chinese terms follow the report's catalog (reports/i18n.go), so
// the screen and the signed report speak alike: 演練, 步驟, 略過, 中止…
//
// The single-letter answers stay the same in both languages (r/s/d/a/f,
// y/n, c/g): an operator's muscle memory and a script's keystrokes work
// whatever the language. Values written to the journal (decision actions,
// statuses, results) stay English there; the "status.", "action.",
// "result." … keys only word them for the screen.
var operatorCatalog = map[string][2]string{
	// The live view's header.
	"view.run_line":     {"run %s · operator %s · elapsed %s", "執行編號 %s · 操作人員 %s · 已經過 %s"},
	"view.where":        {"site %s · vCenter %s · mode %s", "場域 %s · vCenter %s · 模式 %s"},
	"view.lab":          {"the embedded lab (simulated)", "內建模擬環境"},
	"view.no_objective": {"no objective", "未訂定目標"},
	"view.objective":    {"objective %s", "目標 %s"},
	"view.rto_idle":     {"RTO clock: not started (starts with the first disruptive step) · %s", "復原時間目標（RTO）計時：尚未開始（自第一個破壞性步驟起算） · %s"},
	"view.rto_done":     {"RTO: recovered in %s · %s%s", "RTO：已於 %s 內復原 · %s%s"},
	"view.rto_met":      {" · met", " · 達成"},
	"view.rto_missed":   {" · MISSED", " · 未達成"},
	"view.rto_running":  {"RTO clock: %s since %s · %s%s", "RTO 計時：%s（自 %s 起） · %s%s"},
	"view.rto_over":     {" · OVER THE OBJECTIVE", " · 已超過目標"},

	// The step list, the monitors and the log.
	"view.attempt":        {" (attempt %d)", "（第 %d 次嘗試）"},
	"view.retrying":       {"attempt %d failed, retrying", "第 %d 次嘗試失敗，重試中"},
	"view.monitors":       {"monitors: ", "監控："},
	"view.monitor":        {"%s %s %s for %s", "%s %s %s 已持續 %s"},
	"view.output_of":      {"── output of %s", "── %s 之輸出"},
	"view.log":            {"── log", "── 紀錄"},
	"log.resumed":         {"resumed by %s", "%s 續行演練"},
	"log.retry":           {"↻ %s attempt %d failed: %s", "↻ %s 第 %d 次嘗試失敗：%s"},
	"log.finish":          {"%s %s %s: %s", "%s %s %s：%s"},
	"log.decision":        {"decision by %s%s: %s %s", "決策：%s%s：%s %s"},
	"log.decision_on":     {" on %s", "（步驟 %s）"},
	"log.note":            {"%s: %s", "%s：%s"},
	"log.run_end":         {"run ended: %s", "演練結束：%s"},
	"block.on_failure":    {"on_failure", "失敗處理（on_failure）"},
	"block.finally":       {"finally", "收尾步驟（finally）"},
	"view.block":          {"%s:", "%s："},
	"ctrlc.pausing":       {"⏸ pausing after the current step (Ctrl-C again aborts the run)", "⏸ 本步驟結束後暫停（再按 Ctrl-C 中止演練）"},
	"ctrlc.menu":          {"Ctrl-C: the run will pause once the current step is over.", "Ctrl-C：演練將於目前步驟結束後暫停。"},
	"ctrlc.choices":       {"   [c] stop the running step now and pause · [g] go on without pausing · Enter: keep the pause", "   [c] 立即停止執行中步驟並暫停 · [g] 取消暫停繼續執行 · Enter：維持暫停"},
	"ctrlc.aborting":      {"✘ aborting: stopping the running step; the finally steps (recovery) are offered next (Ctrl-C again exits at once)", "✘ 中止中：正在停止執行中步驟，接著詢問是否執行收尾步驟（復原）（再按 Ctrl-C 立即結束程式）"},
	"ctrlc.stopping":      {"⏸ stopping the running step; the run pauses", "⏸ 正在停止執行中步驟；演練將暫停"},
	"ctrlc.second":        {"drbook: second interrupt: exiting now; the journal holds everything recorded so far", "drbook：第二次中斷訊號，立即結束；紀錄檔已保存至此之所有紀錄"},
	"ctrlc.third":         {"drbook: third interrupt: exiting now; the journal holds everything recorded so far", "drbook：第三次中斷訊號，立即結束；紀錄檔已保存至此之所有紀錄"},
	"prompt.answer_first": {"   (the run pauses once this step is over; answer first)", "   （本步驟結束後演練將暫停；請先回答）"},

	// The prompts.
	"prompt.target":          {"   target:  %s", "   對象：%s"},
	"prompt.command":         {"   command: %s", "   指令：%s"},
	"prompt.changes_state":   {"   this step CHANGES STATE", "   本步驟將變更系統狀態"},
	"prompt.confirm":         {"   [r]un, [s]kip, [d]one by hand, [a]bort? ", "   [r]執行 [s]略過 [d]人工完成 [a]中止？"},
	"prompt.failed":          {"✘ %s failed: %v", "✘ %s 失敗：%v"},
	"prompt.failed_choice":   {"   [r]etry, [s]kip, [d]one by hand, [a]bort, or [f]ail (the runbook's on_failure)? ", "   [r]重試 [s]略過 [d]人工完成 [a]中止 [f]失敗（執行 on_failure）？"},
	"prompt.reason_again":    {"  a reason is required — ", "  必須填寫原因 — "},
	"prompt.reason_skip":     {"  reason for skipping (required): ", "  略過原因（必填）："},
	"prompt.reason_done":     {"  reason for marking it done by hand (required): ", "  人工完成之說明（必填）："},
	"prompt.reason_abort":    {"  reason for aborting (required): ", "  中止原因（必填）："},
	"prompt.dependents":      {"   these later steps use the outcome of %s: %s", "   以下後續步驟使用 %s 之結果：%s"},
	"prompt.skip_dependents": {"   skip them too? [y]es / [n]o: ", "   一併略過？[y]是 / [n]否："},
	"prompt.disruptive":      {"   this step is DISRUPTIVE: the RTO clock starts with it", "   本步驟為破壞性步驟：RTO 自此起算"},
	"prompt.goes_down":       {"   goes down: %s", "   將停機：%s"},
	"prompt.finally":         {"✘ the run was aborted. Its finally steps bring the site back: %s", "✘ 演練已中止。收尾步驟將恢復場域：%s"},
	"prompt.run_finally":     {"   run finally steps now? [Y/n]: ", "   立即執行收尾步驟？[Y]是 / [n]否："},
	"prompt.manual":          {"✋ %s — by hand:", "✋ %s — 手動作業："},
	"prompt.input":           {"   %s (%s): ", "   %s（%s）："},
	"prompt.manual_done":     {"   done? [y]es / [n]o: ", "   已完成？[y]是 / [n]否："},
	"prompt.checklist_item":  {"   [%d/%d] %s — done? [y]es / [n]o: ", "   [%d/%d] %s — 已完成？[y]是 / [n]否："},
	"prompt.yes_or_no":       {"   answer y (yes) or n (no) — ", "   請回答 y（是）或 n（否）— "},
	"prompt.input_required":  {"   %s (%s, required): ", "   %s（%s，必填）："},
	"input.required":         {"   this value is required — ", "   此欄位為必填 — "},
	"input.int":              {"int", "整數"},
	"input.bool":             {"bool", "true 或 false"},
	"input.duration":         {"duration", "時間長度，如 58s"},
	"input.string":           {"string", "文字"},
	"input.not_int":          {"%q is not a whole number", "「%s」不是整數"},
	"input.not_bool":         {"%q is not true or false", "「%s」不是 true 或 false"},
	"input.not_duration":     {"%q is not a duration such as 58s or 1m30s", "「%s」不是時間長度，請輸入如 58s 或 1m30s"},

	// The plain timestamped lines (output to a file or a pipe).
	"plain.run_start": {"run %s: %s (%s) against site %s, operator %s, mode %s", "執行編號 %s：%s（%s），場域 %s，操作人員 %s，模式 %s"},
	"plain.start":     {"▶ %s [%s] %s", "▶ %s [%s] %s"},
	"plain.retry":     {"↻ %s attempt %d failed: %s; retrying in %s", "↻ %s 第 %d 次嘗試失敗：%s；%s 後重試"},
	"plain.ok":        {"✔ %s ok in %s", "✔ %s 成功，耗時 %s"},
	"plain.not_run":   {"– %s %s: %s", "– %s %s：%s"},
	"plain.failed":    {"✘ %s %s after %s: %s", "✘ %s %s（耗時 %s）：%s"},
	"plain.note":      {"  %s: %s", "  %s：%s"},
	"plain.decision":  {"  decision by %s on %s: %s %s", "  決策：%s（步驟 %s）：%s %s"},
	"plain.trust":     {"  trusting %s %s (%s, %s)", "  信任 %s %s（%s，%s）"},
	"plain.monitor":   {"◆ monitor %s is %s %s", "◆ 監控 %s：%s %s"},
	"plain.run_end":   {"run ended: %s after %s", "演練結束：%s，共 %s"},
	"plain.progress":  {"  %s: %s", "  %s：%s"},
	"summary.result":  {"result: %s", "結果：%s"},
	"summary.run_dir": {"run directory: %s", "執行目錄：%s"},
	"summary.report":  {"report: %s", "報告：%s"},
	"summary.hash":    {"journal hash: %s", "紀錄檔雜湊值：%s"},

	// Errors and hints on exit, and drbook validate.
	// The prefixes stay as they are in every language: scripts and
	// people's searches find them.
	"error.line":        {"drbook: error: %s", "drbook: error: %s"},
	"hint.line":         {"drbook: hint: %s", "drbook: hint: %s"},
	"error.problems":    {"%d problem(s) found; nothing was run", "發現 %d 個問題；未執行任何步驟"},
	"hint.resume":       {"continue with: drbook resume %s", "續行指令：drbook resume %s"},
	"hint.help":         {"see `drbook --help` for the commands", "可用指令請見 `drbook --help`"},
	"validate.ok":       {"%s: ok (%d steps)", "%s：通過（共 %d 個步驟）"},
	"validate.problems": {"%d problem(s) found", "發現 %d 個問題"},
	"validate.hint":     {"fix the problems above, then validate again", "請修正上列問題後再執行 validate"},

	// drbook plan.
	"plan.title":            {"Plan for %s (%s) against site %s — nothing will be changed", "%s（%s）對場域 %s 之執行計畫（不變更任何設定）"},
	"plan.rto":              {"RTO objective: %s", "復原時間目標（RTO）：%s"},
	"plan.monitor":          {"%s (%s): preflight: %s", "%s（%s）：執行前檢查：%s"},
	"plan.monitor_failed":   {"%s (%s): preflight: FAILED: %s", "%s（%s）：執行前檢查：未通過：%s"},
	"plan.target":           {"target: %s", "對象：%s"},
	"plan.command":          {"command: %s", "指令：%s"},
	"plan.when":             {"when: %s", "執行條件（when）：%s"},
	"plan.for_each":         {"for each: %s", "逐項執行（for_each）：%s"},
	"plan.confirm":          {"asks the operator to confirm", "須操作人員確認"},
	"plan.skipped":          {"skipped: %s", "略過：%s"},
	"plan.preflight_ok":     {"preflight: ok", "執行前檢查：通過"},
	"plan.preflight_failed": {"preflight: FAILED: %s", "執行前檢查：未通過：%s"},
	"plan.note":             {"preflight note: %s", "執行前檢查附註：%s"},
	"plan.secrets_ok":       {"secrets: ok (%d read from the environment or files, %d asked for at the terminal when the run starts)", "機敏資料：通過（%d 項自環境變數或檔案讀取，%d 項於開始執行時於終端機詢問）"},
	"plan.secrets_failed":   {"secrets: FAILED: the run would stop before its first step:", "機敏資料：未通過：演練將於第一個步驟前停止："},
	"block.steps":           {"steps", "步驟（steps）"},

	// drbook preflight, and run when its preflight fails.
	"preflight.title":      {"Preflight of %s against site %s — read-only, nothing is changed", "%s 對場域 %s 之執行前檢查（唯讀，不變更任何設定）"},
	"preflight.col_step":   {"STEP", "步驟"},
	"preflight.col_kind":   {"KIND", "類型"},
	"preflight.col_result": {"RESULT", "結果"},
	"preflight.col_check":  {"CHECK", "檢查項目"},
	"preflight.fix":        {"fix: ", "處理方式："},
	"colon":                {": ", "："},
	"preflight.passed":     {"preflight passed: %d check(s)", "執行前檢查通過：共 %d 項"},
	"preflight.failed":     {"preflight FAILED: %d of %d check(s); nothing was run", "執行前檢查未通過：%d／%d 項；未執行任何步驟"},
	"preflight.trust":      {"trust: %s %s %s (%s)", "信任：%s %s %s（%s）"},
	"preflight.hint":       {"fix what the table names and try again, or run with --no-preflight if you are sure (journaled)", "請依上表處理後重試；確定無誤時可加 --no-preflight 執行（將記錄於紀錄檔）"},
	"preflight.running":    {"preflight: checking every step read-only before the first one…", "執行前檢查：於第一個步驟前以唯讀方式檢查所有步驟…"},
	"check.ok":             {"ok", "通過"},
	"check.failed":         {"FAILED", "未通過"},
	"check.skipped":        {"skipped", "略過"},
	"check.not-checked":    {"not checked", "未檢查"},

	// drbook init, and validate --site alone.
	"init.wrote":         {"wrote %s from vCenter %s, datacenter %s: %d host(s), %d guest(s) of %d VM(s)", "已寫入 %s（vCenter %s，資料中心 %s）：主機 %d 台、客體 %d 台（共 %d 台 VM）"},
	"init.pinned":        {"pinned vCenter's certificate %s (%s)", "已固定 vCenter 之憑證 %s（%s）"},
	"init.check_pin":     {"compare that SHA-256 with the certificate at the vCenter console before the first drill", "首次演練前，請與 vCenter 主控台所示之憑證 SHA-256 比對"},
	"init.placeholders":  {"%d guest(s) have placeholders marked CHECK (SSH user and key): fill them in", "%d 台客體含標示 CHECK 之預設值（SSH 帳號與金鑰），請填寫"},
	"init.next":          {"next: set the vCenter password (%s), then: drbook validate --site %s", "下一步：設定 vCenter 密碼（%s），再執行：drbook validate --site %s"},
	"trust.pinned":       {"pinned already", "已固定"},
	"trust.ca":           {"signed by a trusted CA", "由受信任之憑證機構簽發"},
	"trust.accepted_new": {"accepted with --accept-new", "以 --accept-new 接受"},
	"validate.site_ok":   {"%s: ok (site %s: %d host(s), %d guest(s), %d service(s))", "%s：通過（場域 %s：主機 %d 台、客體 %d 台、服務 %d 項）"},

	// What a run left down, said on exit.
	"down.title":         {"⚠ STILL DOWN after this run:", "⚠ 本次演練結束後仍未恢復："},
	"down.disrupted":     {"   ▼ %s", "   ▼ %s"},
	"down.pending":       {"   recovery not done (finally): %s", "   尚未執行之復原步驟（finally）：%s"},
	"down.monitor":       {"   ▼ monitor %s", "   ▼ 監控 %s"},
	"down.step":          {"%s (step %s, %s, %s)", "%s（步驟 %s，%s，%s）"},
	"down.by_hand":       {"by hand", "人工"},
	"down.monitor_state": {"%s: %s since %s", "%s：%s（自 %s 起）"},
	"down.continue":      {"   continue with: %s", "   續行指令：%s"},

	// drbook serve.
	"serve.listening": {"drbook serve: %s, read-only, at %s", "drbook serve：%s（唯讀），網址 %s"},
	"serve.token":     {"   a token is required: open %s?token=… with the token once (it becomes a cookie), or send Authorization: Bearer …", "   需要存取權杖：首次請以 %s?token=…（填入權杖）開啟，之後以 cookie 保存；或送出 Authorization: Bearer …"},
	"serve.loopback":  {"   loopback only, no token; Ctrl-C stops it", "   僅限本機，無存取權杖；按 Ctrl-C 停止"},
	"serve.stopped":   {"drbook serve: stopped", "drbook serve：已停止"},

	// Journaled values, worded for the screen.
	"status.ok":           {"ok", "成功"},
	"status.failed":       {"failed", "失敗"},
	"status.skipped":      {"skipped", "略過"},
	"status.interrupted":  {"interrupted", "執行中斷"},
	"status.cancelled":    {"cancelled", "已取消"},
	"status.done-by-hand": {"done-by-hand", "人工完成"},

	"result.passed":      {"passed", "通過"},
	"result.failed":      {"failed", "未通過"},
	"result.aborted":     {"aborted", "中止"},
	"result.interrupted": {"interrupted", "執行中斷"},
	"result.paused":      {"paused", "暫停"},

	"action.run":               {"run", "執行"},
	"action.skip":              {"skip", "略過"},
	"action.done-by-hand":      {"done-by-hand", "人工完成"},
	"action.abort":             {"abort", "中止"},
	"action.retry":             {"retry", "重試"},
	"action.fail":              {"fail", "判定失敗"},
	"action.pause":             {"pause", "暫停"},
	"action.go-on":             {"go-on", "取消暫停"},
	"action.cancel-step":       {"cancel-step", "停止步驟"},
	"action.interrupt":         {"interrupt", "執行中斷"},
	"action.accept-new":        {"accept-new", "接受新金鑰"},
	"action.rerun-interrupted": {"rerun-interrupted", "重新執行中斷之步驟"},
	"action.skip-dependents":   {"skip-dependents", "一併略過相依步驟"},
	"action.run-dependents":    {"run-dependents", "仍執行相依步驟"},
	"action.skip-finally":      {"skip-finally", "不執行收尾步驟"},

	"monitor.up":      {"up", "正常"},
	"monitor.down":    {"down", "停機"},
	"monitor.unknown": {"unknown", "未知（無回應）"},

	"level.info": {"info", "資訊"},
	"level.warn": {"warn", "警告"},

	"mode.lab":      {"lab", "模擬環境"},
	"mode.drill":    {"drill", "演練"},
	"mode.recovery": {"recovery", "實際復原"},
}

// messages words the operator's screen in one language.
type messages struct{ idx int }

// messagesFor picks the catalog's column for lang ("en" or "zh-TW"; the
// root command refuses any other).
func messagesFor(lang string) messages {
	if lang == "zh-TW" {
		return messages{idx: 1}
	}
	return messages{}
}

// T returns the fixed text for key; a missing key shows itself rather than
// nothing, and TestOperatorCatalog keeps that from shipping.
func (m messages) T(key string) string {
	if e, ok := operatorCatalog[key]; ok {
		return e[m.idx]
	}
	return key
}

// Lang is the language m words the screen in.
func (m messages) Lang() string {
	if m.idx == 1 {
		return "zh-TW"
	}
	return "en"
}

// Word words a journaled value as the reports do (trust kinds and
// sources): reports.Word.
func (m messages) Word(prefix, v string) string { return reports.Word(prefix, v, m.Lang()) }

// Tf is T used as a format.
func (m messages) Tf(key string, args ...any) string { return fmt.Sprintf(m.T(key), args...) }

// Enum words a journaled value from a fixed set (status, result, action…)
// for the screen, showing a value the catalog does not know as it is.
func (m messages) Enum(prefix, v string) string {
	if e, ok := operatorCatalog[prefix+"."+v]; ok {
		return e[m.idx]
	}
	return v
}

// screenWidth measures text as the terminal lays it out. East Asian
// ambiguous characters (·, ─, ▶, ▲) are taken as one column whatever the
// locale: Linux terminals, tmux and glibc's wcwidth draw them narrow in
// zh_TW.UTF-8 too, where go-runewidth's locale guess would count two and
// shift every column. RUNEWIDTH_EASTASIAN=1 is honoured for a terminal
// set to draw them wide (PuTTY's "CJK ambiguous characters as wide").
var screenWidth = &runewidth.Condition{EastAsianWidth: os.Getenv("RUNEWIDTH_EASTASIAN") == "1", StrictEmojiNeutral: true}

// padRight pads or cuts s to exactly width columns; a cut ends in "…".
func padRight(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if screenWidth.StringWidth(s) > width {
		s = screenWidth.Truncate(s, width, "…")
	}
	return s + strings.Repeat(" ", width-screenWidth.StringWidth(s))
}
