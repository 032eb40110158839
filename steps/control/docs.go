package control

import (
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// This file documents the control kinds for people (steps.Documented):
// `drbook explain`, docs/kinds/control.md and the schema's descriptions.

var (
	_ steps.Documented = waitKind{}
	_ steps.Documented = assertKind{}
	_ steps.Documented = logKind{}
	_ steps.Documented = execLocal{}
	_ steps.Documented = manualKind{}
)

func (waitKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "暫停一段固定時間",
		Shorthand:   "for",
		Params: map[string]steps.FieldDoc{
			"for": steps.Required("How long to wait, e.g. 30s or 2m.", "等待多久，例如 30s 或 2m。"),
		},
		Result: map[string]journal.Text{
			"waited": steps.Text("How long the step really waited.", "實際等待的時間。"),
		},
		Example: `- id: settle
  name: {en: "Let the services settle", zh-TW: "等待服務穩定"}
  wait: 30s`,
	}
}

func (assertKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "確認一個關於本次執行的條件成立，否則此步驟失敗",
		Shorthand:   "that",
		Params: map[string]steps.FieldDoc{
			"that": steps.Param("A condition (an expr expression, without ${{ }}) over params, site and earlier steps' results, e.g. steps.ha.result.restarted == 4.",
				"條件式（expr 運算式，不需 ${{ }}），可引用 params、site 及先前步驟之結果，例如 steps.ha.result.restarted == 4。"),
			"message": steps.Param("The error the step fails with when the condition does not hold.", "條件不成立時，步驟失敗所顯示之訊息。"),
		},
		Result: map[string]journal.Text{
			"holds": steps.Text("Whether the condition held.", "條件是否成立。"),
		},
		Example: `- id: ha
  vcenter.ha.verify_restart: {failed_host: esx-68, within: 5m}
- id: all_back
  name: {en: "All four VMs were restarted", zh-TW: "四台 VM 皆已重新啟動"}
  assert:
    that: steps.ha.result.restarted == 4
    message: {en: "HA did not restart every VM", zh-TW: "HA 未重新啟動全部 VM"}`,
	}
}

func (logKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "於日誌中記錄一則註記",
		Shorthand:   "message",
		Params: map[string]steps.FieldDoc{
			"message": steps.Required("The note, as text or {en: …, zh-TW: …}.", "註記內容，可為單一文字或 {en: …, zh-TW: …}。"),
			"level":   steps.Param("How the note is marked in the journal and report.", "註記於日誌與報告中之等級。").Values("info", "warn"),
		},
		Result: map[string]journal.Text{
			"text": steps.Text("The note as recorded, in the run's language.", "以本次執行之語言所記錄之註記。"),
		},
		Example: `- id: start_note
  log:
    message: {en: "Drill starts; the help desk has been told", zh-TW: "演練開始，已通知服務台"}
    level: warn`,
	}
}

func (execLocal) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "於操作人員之電腦上執行指令（例如 ipmitool）",
		OneOf:       [][]string{{"command", "shell"}},
		Params: map[string]steps.FieldDoc{
			"command":    steps.Param("The program and its arguments, as a list; no shell is involved.", "程式及其參數之清單，不經過 shell。"),
			"shell":      steps.Param("A script for /bin/sh, instead of command; interpolated values are shell-quoted.", "交由 /bin/sh 執行之腳本（與 command 擇一）；插入之值會自動加上 shell 引號。"),
			"dir":        steps.Param("The working directory; the current one when empty.", "工作目錄；未指定時為目前目錄。"),
			"exit_codes": steps.Param("The exit codes that count as success.", "視為成功之結束代碼。"),
			"max_output": steps.Param("How many bytes of stdout and of stderr the result keeps; the rest is stored as an artifact.",
				"結果保留之 stdout 與 stderr 位元組數；其餘另存為附件。"),
			"timeout": steps.Param("Stops the command after this long; no limit when unset (the step's own timeout: still applies). A stopped command (timeout, Ctrl-C twice, abort) is ended with everything it started: SIGTERM to its process group, SIGKILL 5 s later.",
				"超過此時間即停止指令；未指定則不限（步驟本身之 timeout 仍然有效）。停止指令時（逾時、按兩次 Ctrl-C 或中止）連同其所啟動之程序一併結束：先對其程序群組送出 SIGTERM，5 秒後送出 SIGKILL。"),
		},
		Result: map[string]journal.Text{
			"exit_code": steps.Text("The command's exit code.", "指令之結束代碼。"),
			"stdout":    steps.Text("What the command printed, up to max_output bytes.", "指令之標準輸出，最多 max_output 位元組。"),
			"stderr":    steps.Text("Its error output, up to max_output bytes.", "指令之錯誤輸出，最多 max_output 位元組。"),
		},
		Example: `- id: bmc_status
  name: {en: "Ask host .68's BMC for its power state", zh-TW: "查詢主機 .68 之 BMC 電源狀態"}
  exec.local:
    command: [echo, "Chassis Power is on"]
    timeout: 30s`,
	}
}

func (manualKind) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "由人員手動完成之步驟，附說明並記錄其輸入",
		Params: map[string]steps.FieldDoc{
			"en":        steps.Param("The instructions in English (give en, zh-TW or both).", "英文操作說明（en 與 zh-TW 至少擇一）。"),
			"zh-TW":     steps.Param("The instructions in Traditional Chinese.", "中文操作說明。"),
			"checklist": steps.Param("Items the person ticks off, each text or {en: …, zh-TW: …}.", "人員逐項確認之檢查清單，每項為文字或 {en: …, zh-TW: …}。"),
			"inputs":    steps.Param("Values the person enters; they are journaled and become the result's inputs.", "人員需輸入之值；會記錄於日誌並成為結果之 inputs。"),
			"inputs.name": steps.Required("The input's name, unique in the step: steps.<id>.result.inputs.<name>.",
				"輸入項名稱，於步驟內不可重複：steps.<id>.result.inputs.<name>。"),
			"inputs.label":    steps.Param("What the prompt asks.", "提示所顯示之問題。"),
			"inputs.type":     steps.Param("The value's type; string when unset.", "值之型別；未指定時為 string。").Values("string", "int", "duration", "bool"),
			"inputs.required": steps.Param("The person must enter a value.", "人員必須輸入此值。"),
		},
		Result: map[string]journal.Text{
			"who":    steps.Text("Who confirmed the step as done.", "確認完成此步驟之人員。"),
			"inputs": steps.Text("The values entered, by input name.", "依輸入項名稱所記錄之輸入值。"),
		},
		Example: `- id: power_on_68
  name: {en: "Power host .68 back on", zh-TW: "將主機 .68 重新開機"}
  manual:
    en: "Press the power button of host .68 (IBM x3650 M3, rack A2) and wait for the ESXi console."
    zh-TW: "按下主機 .68（IBM x3650 M3，A2 機櫃）之電源鍵，等待 ESXi 主控台出現。"
    checklist:
      - {en: "Power LED is green", zh-TW: "電源燈號為綠色"}
    inputs:
      - {name: ticket, label: {en: "Change ticket", zh-TW: "變更單號"}, required: true}`,
	}
}
