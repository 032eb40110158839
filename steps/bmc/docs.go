package bmc

import (
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// This file documents the BMC kinds for people (steps.Documented):
// `drbook explain`, docs/kinds/bmc.md and the schema's descriptions.

var _ steps.Documented = powerOn{}

func (powerOn) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "經由主機之 BMC（IMM、iLO、iDRAC）以 Redfish 將主機開機，用於 vCenter 無法開機之主機",
		Params: map[string]steps.FieldDoc{
			"host": steps.Required("The host: a key of the site file's hosts, whose bmc: is the Redfish system to power on.",
				"主機：site 檔 hosts 中之鍵名，其 bmc: 為要開機之 Redfish 系統。"),
			"timeout": steps.Param("How long the BMC may take to answer and to report the power on.", "BMC 回應及回報開機完成之時限。"),
		},
		Result: map[string]journal.Text{
			"host":         steps.Text("The host, as the step named it.", "步驟所指定之主機。"),
			"bmc":          steps.Text("The Redfish system URL used.", "使用之 Redfish 系統網址。"),
			"power_before": steps.Text("The BMC's PowerState before the step (On, Off).", "步驟前 BMC 回報之 PowerState（On、Off）。"),
			"power_after":  steps.Text("The BMC's PowerState afterwards.", "步驟後 BMC 回報之 PowerState。"),
			"requested_at": steps.Text("When the power-on was asked for.", "要求開機之時間。"),
			"already_on":   steps.Text("The chassis was already on, so nothing was sent.", "機箱原已開機，因此未送出任何指令。"),
		},
		Preflight: []journal.Text{steps.Text("Reads the power state from the BMC: it answers, its certificate verifies and the credentials work.",
			"自 BMC 讀取電源狀態：確認其有回應、憑證驗證通過且帳密可用。")},
		Example: `- id: host_back
  name: {en: "Power host .68 back on through its IMM", zh-TW: "經由 IMM 將主機 .68 開機"}
  bmc.power_on: {host: esx-68, timeout: 5m}`,
	}
}
