package main

// cliCatalog holds the command line's own lines outside a run's screen
// (warnings, what new, report --sign, resume and lab print): {English,
// Traditional Chinese}. They join operatorCatalog at start-up, so
// messages.T words them and TestOperatorCatalog checks them.
var cliCatalog = map[string][2]string{
	// The prefix stays as it is in every language, like error.line.
	"warn.line":         {"drbook: warning: %s", "drbook: warning: %s"},
	"warn.fleet_report": {"the fleet report could not be written (%v); regenerate it with `drbook fleet report %s`", "無法寫入演練批次報告（%v）；請以 `drbook fleet report %s` 重新產生"},
	"warn.not_signed":   {"the journal was not signed: %v", "紀錄檔未簽章：%v"},
	"warn.reports":      {"the reports could not be written (%v); regenerate them with `drbook report %s`", "無法寫入報告（%v）；請以 `drbook report %s` 重新產生"},

	"new.wrote":       {"wrote %s\nnext: drbook validate --lab %s, then drbook plan --lab %s", "已寫入 %s\n下一步：drbook validate --lab %s，再執行 drbook plan --lab %s"},
	"report.signed":   {"signed %d journal lines (final hash %s) with key %s", "已簽署紀錄檔 %d 行（最終雜湊值 %s），金鑰 %s"},
	"resume.finished": {"the run already finished (%s); nothing to do (--from STEP or --only STEP runs steps again)", "演練已結束（%s）；無須執行任何步驟（以 --from STEP 或 --only STEP 可重新執行步驟）"},

	"lab.running": {`drbook lab is running (time x%g); Ctrl-C stops it.

vCenter     %s
user        %s
password    %s (also in %s)
thumbprint  %s (SHA-256)
            %s (SHA-1)

for govc:
  export GOVC_URL=%s GOVC_USERNAME='%s' GOVC_PASSWORD='%s'
  export GOVC_TLS_KNOWN_HOSTS=%s
  echo "%s %s" > $GOVC_TLS_KNOWN_HOSTS

guests (SSH key %s):
`, `drbook 模擬環境執行中（時間 x%g）；按 Ctrl-C 停止。

vCenter     %s
帳號        %s
密碼        %s（亦存於 %s）
憑證指紋    %s（SHA-256）
            %s（SHA-1）

供 govc 使用：
  export GOVC_URL=%s GOVC_USERNAME='%s' GOVC_PASSWORD='%s'
  export GOVC_TLS_KNOWN_HOSTS=%s
  echo "%s %s" > $GOVC_TLS_KNOWN_HOSTS

客體（SSH 金鑰 %s）：
`},
	"lab.bmcs":      {"\nhosts' BMCs (Redfish; vCenter cannot power on a host that was shut down):\n", "\n主機之管理介面（Redfish；已關機之主機無法由 vCenter 開機）：\n"},
	"lab.site_file": {"\nsite file: %s\n  drbook run --site %s runbooks/sanchong/ha-host-failure.yaml\n", "\n場域檔：%s\n  drbook run --site %s runbooks/sanchong/ha-host-failure.yaml\n"},
	"lab.stopped":   {"\nlab stopped", "\n模擬環境已停止"},
}

func init() {
	for k, v := range cliCatalog {
		if _, dup := operatorCatalog[k]; dup {
			panic("cliCatalog: duplicate key " + k)
		}
		operatorCatalog[k] = v
	}
}
