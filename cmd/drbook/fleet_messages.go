package main

// fleetCatalog holds the texts of `drbook fleet` (run, report, history):
// {English, Traditional Chinese}, in the terms of the operator's catalog.
// They join operatorCatalog at start-up, so messages.T words them and
// TestOperatorCatalog checks them like every other text.
var fleetCatalog = map[string][2]string{
	"fleet.start":            {"fleet %s: runbook %s at %d site(s), %d at a time, in %s", "演練批次 %s：演練手冊 %s，共 %d 處場域，同時執行 %d 處，目錄 %s"},
	"fleet.not_started":      {"not started: %s", "未開始：%s"},
	"fleet.site_error":       {"%s: %s", "%s：%s"},
	"fleet.no_report":        {"the site's reports could not be written (%v); regenerate them with `drbook report %s`", "無法產生該場域之報告（%v）；請以 `drbook report %s` 重新產生"},
	"fleet.site_done":        {"ended: %s · %s", "結束：%s · %s"},
	"fleet.view_waiting":     {"waiting for your answer below", "等待您於下方回答"},
	"fleet.view_rto_idle":    {"RTO –/%s", "RTO –／%s"},
	"fleet.view_rto_running": {"RTO %s/%s", "RTO %s／%s"},
	"fleet.view_rto_done":    {"recovered %s/%s", "已復原 %s／%s"},
	"fleet.summary_head":     {"SITE\tRESULT\tRTO\tRUN", "場域\t結果\tRTO\t執行目錄"},
	"fleet.result":           {"fleet: %s: %d of %d sites passed", "演練批次：%s（%d／%d 處場域通過）"},
	"fleet.dir":              {"fleet directory: %s", "演練批次目錄：%s"},
	"fleet.report":           {"report: %s", "報告：%s"},
	"fleet.failed_hint":      {"see the fleet report (`drbook fleet report %s`) and each failed site's run directory", "請見演練批次報告（`drbook fleet report %s`）及各未通過場域之執行目錄"},
	"fleet.resume_hint":      {"continue each interrupted site with `drbook resume DIR` (its run directory, listed above)", "請以 `drbook resume 目錄`（上列之執行目錄）逐一續行中斷之場域"},
	"fleet.history_head":     {"SITE\tRUNBOOK\tYEAR\tPASSED\tRTO MISSED\tRECOVERY (FASTEST/MEDIAN/SLOWEST)\tWORST DOWNTIME", "場域\t演練手冊\t年度\t通過\tRTO 未達成\t復原時間（最快／中位數／最慢）\t最長停機時間"},
	"fleet.history_rto":      {"%s / %s / %s", "%s／%s／%s"},
	"fleet.history_down":     {"%s %s", "%s %s"},

	"fleet_state.pending":          {"pending", "等待中"},
	"fleet_state.preflight":        {"preflight", "事前檢查中"},
	"fleet_state.running":          {"running", "執行中"},
	"fleet_state.passed":           {"passed", "通過"},
	"fleet_state.failed":           {"failed", "未通過"},
	"fleet_state.aborted":          {"aborted", "中止"},
	"fleet_state.interrupted":      {"interrupted", "執行中斷"},
	"fleet_state.paused":           {"paused", "暫停"},
	"fleet_state.not-verified":     {"NOT VERIFIED", "未通過驗證"},
	"fleet_state.preflight-failed": {"preflight failed", "事前檢查未通過"},
	"fleet_state.not-started":      {"not started", "未開始"},
	"fleet_state.error":            {"could not run", "無法執行"},
}

func init() {
	for k, v := range fleetCatalog {
		if _, dup := operatorCatalog[k]; dup {
			panic("fleetCatalog: duplicate key " + k)
		}
		operatorCatalog[k] = v
	}
}
