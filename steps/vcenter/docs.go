package vcenter

import (
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// This file documents the vCenter kinds for people (steps.Documented):
// `drbook explain`, docs/kinds/vcenter.md and the schema's descriptions.

var (
	_ steps.Documented = (*inventory)(nil)
	_ steps.Documented = (*clusterCheck)(nil)
	_ steps.Documented = (*hostStop)(nil)
	_ steps.Documented = (*hostStateChange)(nil)
	_ steps.Documented = (*hostWaitConnected)(nil)
	_ steps.Documented = (*vmPower)(nil)
	_ steps.Documented = (*vmWait)(nil)
	_ steps.Documented = (*vmSnapshot)(nil)
	_ steps.Documented = (*events)(nil)
	_ steps.Documented = (*haVerifyRestart)(nil)
)

// prefixed returns docs with every path put below prefix.
func prefixed[T any](prefix string, docs map[string]T) map[string]T {
	out := make(map[string]T, len(docs))
	for k, v := range docs {
		out[prefix+"."+k] = v
	}
	return out
}

// merged returns the union of maps.
func merged[T any](maps ...map[string]T) map[string]T {
	out := map[string]T{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var hostParam = steps.Required("The ESXi host: its name in the site file's hosts, or its name in vCenter.",
	"ESXi 主機：site 檔 hosts 中之名稱，或其於 vCenter 之名稱。")

var vmParam = steps.Required("The VM: a guest's name in the site file (its vm: is used), or the VM's name in vCenter, e.g. (65)apfg(02).",
	"虛擬機器：site 檔中之 guest 名稱（使用其 vm:），或其於 vCenter 之名稱，例如 (65)apfg(02)。")

var connectPreflight = steps.Text("Logs in to vCenter, trusting only a CA-signed, pinned or --accept-new certificate.",
	"登入 vCenter；僅信任 CA 簽發、已釘選或以 --accept-new 接受之憑證。")

var hostExistsPreflight = steps.Text("Finds the host in vCenter's inventory.", "確認主機存在於 vCenter 清冊中。")

var vmExistsPreflight = steps.Text("Finds the VM in vCenter's inventory.", "確認虛擬機器存在於 vCenter 清冊中。")

var hostStateDocs = map[string]journal.Text{
	"name":             steps.Text("The host's name in vCenter.", "主機於 vCenter 之名稱。"),
	"cluster":          steps.Text("The cluster it belongs to.", "所屬叢集。"),
	"connection_state": steps.Text("connected, disconnected or notResponding.", "連線狀態：connected、disconnected 或 notResponding。"),
	"power_state":      steps.Text("poweredOn, poweredOff, standBy or unknown.", "電源狀態：poweredOn、poweredOff、standBy 或 unknown。"),
	"in_maintenance":   steps.Text("Whether the host is in maintenance mode.", "是否處於維護模式。"),
	"running_vms":      steps.Text("How many powered-on VMs it runs.", "執行中之虛擬機器數量。"),
}

var eventDocs = map[string]journal.Text{
	"time":    steps.Text("When vCenter recorded the event.", "vCenter 記錄事件之時間。"),
	"type":    steps.Text("The event's type, e.g. VmPoweredOnEvent.", "事件類型，例如 VmPoweredOnEvent。"),
	"message": steps.Text("vCenter's message for the event.", "vCenter 之事件訊息。"),
	"host":    steps.Text("The host the event is about, if any.", "事件相關之主機（若有）。"),
	"vm":      steps.Text("The VM the event is about, if any.", "事件相關之虛擬機器（若有）。"),
	"user":    steps.Text("Who caused the event, if vCenter says.", "觸發事件之使用者（若 vCenter 有記錄）。"),
	"key":     steps.Text("The event's key in vCenter, increasing with time.", "事件於 vCenter 之序號，隨時間遞增。"),
}

var vmFactsDocs = map[string]journal.Text{
	"name":             steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
	"power_state":      steps.Text("poweredOn, poweredOff or suspended.", "電源狀態：poweredOn、poweredOff 或 suspended。"),
	"host":             steps.Text("The host it runs on.", "所在主機。"),
	"connection_state": steps.Text("connected, disconnected, orphaned, inaccessible or invalid.", "連線狀態：connected、disconnected、orphaned、inaccessible 或 invalid。"),
	"tools_running":    steps.Text("Whether VMware Tools run in the guest.", "客體作業系統中 VMware Tools 是否執行中。"),
	"tools_status":     steps.Text("VMware Tools' status as vCenter reports it, e.g. toolsOk.", "vCenter 回報之 VMware Tools 狀態，例如 toolsOk。"),
	"ip":               steps.Text("The guest's primary IP address, as VMware Tools report it.", "VMware Tools 回報之客體主要 IP 位址。"),
	"hostname":         steps.Text("The guest's host name, as VMware Tools report it.", "VMware Tools 回報之客體主機名稱。"),
	"guest_state":      steps.Text("The guest OS state: running, notRunning, shuttingDown …", "客體作業系統狀態：running、notRunning、shuttingDown 等。"),
	"heartbeat":        steps.Text("VMware Tools' heartbeat: green, yellow, red or gray.", "VMware Tools 心跳狀態：green、yellow、red 或 gray。"),
}

var hostStateResultDocs = map[string]journal.Text{
	"host":             steps.Text("The host's name in vCenter.", "主機於 vCenter 之名稱。"),
	"connection_state": steps.Text("Its connection state after the task.", "工作完成後之連線狀態。"),
	"power_state":      steps.Text("Its power state after the task.", "工作完成後之電源狀態。"),
	"in_maintenance":   steps.Text("Whether it is in maintenance mode after the task.", "工作完成後是否處於維護模式。"),
	"requested_at":     steps.Text("When the task was sent.", "送出工作之時間。"),
	"completed_at":     steps.Text("When the host was seen in its new state.", "確認主機進入新狀態之時間。"),
}

func (inventory) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "自 vCenter 記錄主機、虛擬機器、電源狀態、配置位置與客體 IP",
		Params: map[string]steps.FieldDoc{
			"record":          steps.Param("What is recorded, e.g. placement; it titles the evidence in the report.", "記錄之名稱，例如 placement；作為報告中佐證資料之標題。"),
			"vms":             steps.Param("Keep only VMs whose names match one of these shell patterns, e.g. \"(65)*\".", "僅保留名稱符合任一 shell 樣式之虛擬機器，例如 \"(65)*\"。"),
			"powered_on_only": steps.Param("Leave powered-off VMs out.", "排除已關機之虛擬機器。"),
		},
		Result: merged(map[string]journal.Text{
			"taken":             steps.Text("When the inventory was read.", "讀取清冊之時間。"),
			"hosts":             steps.Text("Every host.", "所有主機。"),
			"vms":               steps.Text("Every VM kept.", "保留之所有虛擬機器。"),
			"placement":         steps.Text("Each host's powered-on VMs, sorted: placement[\"esx-68\"].", "各主機上執行中之虛擬機器（已排序）：placement[\"esx-68\"]。"),
			"vms.name":          steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"vms.host":          steps.Text("The host it runs on.", "所在主機。"),
			"vms.power_state":   steps.Text("poweredOn, poweredOff or suspended.", "電源狀態：poweredOn、poweredOff 或 suspended。"),
			"vms.ip":            steps.Text("The guest's primary IP address.", "客體主要 IP 位址。"),
			"vms.ips":           steps.Text("Every IP address VMware Tools report.", "VMware Tools 回報之所有 IP 位址。"),
			"vms.tools_running": steps.Text("Whether VMware Tools run.", "VMware Tools 是否執行中。"),
			"vms.guest_os":      steps.Text("The guest OS vCenter reports.", "vCenter 回報之客體作業系統。"),
		}, prefixed("hosts", hostStateDocs)),
		Preflight: []journal.Text{connectPreflight},
		Example: `- id: placement_before
  name: {en: "Record where the VMs run", zh-TW: "記錄各 VM 所在主機"}
  vcenter.inventory: {record: placement, powered_on_only: true}`,
	}
}

func (clusterCheck) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "確認叢集已備妥演練：HA、允入控制、主機連線狀態",
		Params: map[string]steps.FieldDoc{
			"cluster":           steps.Param("The cluster's name; the only cluster when empty.", "叢集名稱；未指定時為唯一之叢集。"),
			"ha":                steps.Param("Require vSphere HA enabled, with host monitoring on.", "要求已啟用 vSphere HA 且開啟主機監控。"),
			"admission_control": steps.Param("When set, require admission control on (true) or off (false).", "若指定，要求允入控制為開啟（true）或關閉（false）。"),
			"hosts_connected":   steps.Param("Require every host connected, powered on and out of maintenance mode: a host that is not cannot take restarted VMs.", "要求每台主機皆已連線、開機且不在維護模式：否則無法承接重新啟動之虛擬機器。"),
			"min_hosts":         steps.Param("The fewest hosts the cluster must have.", "叢集至少應有之主機數。"),
		},
		Result: merged(map[string]journal.Text{
			"cluster":                   steps.Text("The cluster checked.", "檢查之叢集。"),
			"ha_enabled":                steps.Text("Whether vSphere HA is enabled.", "是否已啟用 vSphere HA。"),
			"host_monitoring":           steps.Text("HA host monitoring: enabled or disabled.", "HA 主機監控：enabled 或 disabled。"),
			"admission_control_enabled": steps.Text("Whether HA admission control is on.", "HA 允入控制是否開啟。"),
			"hosts":                     steps.Text("The cluster's hosts.", "叢集之主機。"),
			"problems":                  steps.Text("Every requirement not met, in words.", "未符合之各項要求說明。"),
		}, prefixed("hosts", hostStateDocs)),
		Preflight: []journal.Text{connectPreflight, steps.Text("Runs the whole check (it only reads), so plan fails on a cluster that is not ready.", "執行完整檢查（僅讀取），叢集未備妥時 plan 即失敗。")},
		Example: `- id: cluster_ready
  name: {en: "The cluster can take a host failure", zh-TW: "叢集可承受一台主機故障"}
  vcenter.cluster.check: {ha: true, hosts_connected: true, min_hosts: 3}`,
	}
}

func (op *hostStop) Doc() steps.KindDoc {
	d := steps.KindDoc{
		Params: map[string]steps.FieldDoc{
			"host":  hostParam,
			"force": steps.Param("Act even with VMs running and outside maintenance mode, as a sudden failure does; without it vCenter refuses such a host.", "即使主機上仍有執行中之虛擬機器且未進入維護模式亦執行，模擬突發故障；未設定時 vCenter 會拒絕。"),
		},
		Result: map[string]journal.Text{
			"host":         steps.Text("The host's name in vCenter.", "主機於 vCenter 之名稱。"),
			"force":        steps.Text("Whether force was used.", "是否使用 force。"),
			"vms":          steps.Text("The VMs running on the host just before the call: what HA must restart; pass it to vcenter.ha.verify_restart's vms.", "呼叫前主機上執行中之虛擬機器，即 HA 應重新啟動者；可傳給 vcenter.ha.verify_restart 之 vms。"),
			"requested_at": steps.Text("When the task was sent.", "送出工作之時間。"),
			"completed_at": steps.Text("When vCenter reported the task done.", "vCenter 回報工作完成之時間。"),
			"already_down": steps.Text("The host was already down, so nothing was sent.", "主機原已停機，因此未送出任何指令。"),
		},
		Preflight: []journal.Text{connectPreflight, hostExistsPreflight,
			steps.Text("Checks the host is connected, and in maintenance mode unless force is set.", "確認主機已連線，且除非設定 force，須處於維護模式。")},
	}
	if op == hostShutdown {
		d.SummaryZhTW = "經由 vCenter 將 ESXi 主機關機，並記錄其上執行中之虛擬機器"
		d.Example = `- id: shut
  name: {en: "Shut down host .68", zh-TW: "將主機 .68 關機"}
  confirm: true
  disruptive: true
  vcenter.host.shutdown: {host: esx-68, force: true}`
	} else {
		d.SummaryZhTW = "經由 vCenter 將 ESXi 主機重新開機，並記錄其上執行中之虛擬機器"
		d.Example = `- id: reboot
  name: {en: "Reboot host .69", zh-TW: "將主機 .69 重新開機"}
  confirm: true
  vcenter.host.reboot: {host: esx-69}`
	}
	return d
}

func (k *hostStateChange) Doc() steps.KindDoc {
	d := steps.KindDoc{
		Params:    map[string]steps.FieldDoc{"host": hostParam},
		Result:    hostStateResultDocs,
		Preflight: []journal.Text{connectPreflight, hostExistsPreflight},
	}
	switch k {
	case hostPowerOn:
		d.SummaryZhTW = "經由 vCenter 將待機中之 ESXi 主機開機（PowerUpHostFromStandBy；需設定 IPMI/iLO 或 WOL）"
		d.Params["timeout"] = steps.Param("How long vCenter may take to bring the host up.", "vCenter 開啟主機之時限。")
		d.Example = `- id: host_back
  name: {en: "Power host .68 on", zh-TW: "將主機 .68 開機"}
  vcenter.host.power_on: {host: esx-68, timeout: 15m}`
	case hostEnterMaintenance:
		d.SummaryZhTW = "將 ESXi 主機切換為維護模式，並移出其虛擬機器"
		d.Params["evacuate"] = steps.Param("Also move powered-off VMs off the host (vCenter's evacuatePoweredOffVms).", "一併移出已關機之虛擬機器（vCenter 之 evacuatePoweredOffVms）。")
		d.Params["timeout"] = steps.Param("How long vCenter may take to empty the host.", "vCenter 完成移出之時限。")
		d.Preflight = append(d.Preflight, steps.Text("Checks the host is connected.", "確認主機已連線。"),
			steps.Text("When the host runs VMs, checks its cluster's DRS is on and fully automated, so that vCenter moves them by vMotion; otherwise fails and names them (move them first with vcenter.vm.migrate).", "若主機上有執行中之虛擬機器，確認其叢集 DRS 已啟用且為全自動，使 vCenter 以 vMotion 移出；否則失敗並列出這些 VM（請先以 vcenter.vm.migrate 移出）。"))
		d.Example = `- id: maintenance
  name: {en: "Put host .69 into maintenance mode", zh-TW: "將主機 .69 切換為維護模式"}
  vcenter.host.enter_maintenance: {host: esx-69, timeout: 30m}`
	case hostExitMaintenance:
		d.SummaryZhTW = "將 ESXi 主機結束維護模式"
		d.Params["evacuate"] = steps.Param("Applies only to vcenter.host.enter_maintenance; must stay false here.", "僅適用於 vcenter.host.enter_maintenance；此處須為 false。")
		d.Params["timeout"] = steps.Param("How long vCenter may take.", "vCenter 完成之時限。")
		d.Example = `- id: back_in_service
  name: {en: "Take host .69 out of maintenance mode", zh-TW: "將主機 .69 結束維護模式"}
  vcenter.host.exit_maintenance: {host: esx-69}`
	case hostDisconnect:
		d.SummaryZhTW = "將 ESXi 主機自 vCenter 中斷連線"
		d.Example = `- id: disconnect
  name: {en: "Disconnect host .70 from vCenter", zh-TW: "將主機 .70 自 vCenter 中斷連線"}
  vcenter.host.disconnect: {host: esx-70}`
	case hostReconnect:
		d.SummaryZhTW = "將 ESXi 主機重新連線至 vCenter"
		d.Example = `- id: reconnect
  name: {en: "Reconnect host .70", zh-TW: "將主機 .70 重新連線"}
  vcenter.host.reconnect: {host: esx-70}`
	}
	return d
}

func (hostWaitConnected) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "等待 vCenter 確認 ESXi 主機已連線且開機",
		Params: map[string]steps.FieldDoc{
			"host":   hostParam,
			"within": steps.Param("How long to wait before failing.", "等待之時限，逾時即失敗。"),
		},
		Result: map[string]journal.Text{
			"host":         steps.Text("The host's name in vCenter.", "主機於 vCenter 之名稱。"),
			"connected_at": steps.Text("When vCenter reported it connected and powered on.", "vCenter 回報主機已連線且開機之時間。"),
			"waited":       steps.Text("How long the step waited.", "等待之時間。"),
		},
		Preflight: []journal.Text{connectPreflight, hostExistsPreflight},
		Example: `- id: host_connected
  name: {en: "Wait for host .68 to rejoin", zh-TW: "等待主機 .68 重新連線"}
  vcenter.host.wait_connected: {host: esx-68, within: 15m}`,
	}
}

func (vmPower) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "將虛擬機器開機、關機、重設，或將其客體作業系統正常關機（逾時則斷電）",
		Params: map[string]steps.FieldDoc{
			"vm":       vmParam,
			"action":   steps.Required("What to do; shutdown_guest asks VMware Tools for a clean shutdown.", "要執行之動作；shutdown_guest 透過 VMware Tools 正常關機。").Values("on", "off", "reset", "shutdown_guest"),
			"timeout":  steps.Param("How long a guest shutdown, and the wait for the new power state, may take.", "客體關機及等待新電源狀態之時限。"),
			"fallback": steps.Param("When a guest shutdown does not finish in time (or Tools are not running): off powers the VM off, none fails the step.", "客體關機逾時（或 Tools 未執行）時：off 直接斷電，none 使步驟失敗。").Values("off", "none"),
		},
		Result: map[string]journal.Text{
			"vm":           steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"action":       steps.Text("The action asked for.", "要求之動作。"),
			"power_state":  steps.Text("The power state afterwards.", "完成後之電源狀態。"),
			"already":      steps.Text("The VM was already in that state, so nothing was sent.", "虛擬機器原已處於該狀態，因此未送出任何指令。"),
			"fell_back":    steps.Text("The guest shutdown timed out and the VM was powered off.", "客體關機逾時，已改為斷電。"),
			"requested_at": steps.Text("When the request was sent.", "送出要求之時間。"),
			"took":         steps.Text("How long until the new state was seen.", "至確認新狀態所花之時間。"),
		},
		Preflight: []journal.Text{connectPreflight, vmExistsPreflight},
		Example: `- id: standby_on
  name: {en: "Power the standby VM on", zh-TW: "將備援 VM 開機"}
  vcenter.vm.power: {vm: ap03, action: "on"}`,
	}
}

func (vmWait) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "等待虛擬機器之屬性符合條件，例如 tools_running && ip != \"\"",
		Params: map[string]steps.FieldDoc{
			"vm": vmParam,
			"condition": steps.Param("An expr condition over the VM's facts: name, power_state, host, connection_state, tools_running, tools_status, ip, hostname, guest_state, heartbeat.",
				"以虛擬機器屬性撰寫之 expr 條件：name、power_state、host、connection_state、tools_running、tools_status、ip、hostname、guest_state、heartbeat。"),
			"within": steps.Param("How long to wait before failing.", "等待之時限，逾時即失敗。"),
		},
		Result: merged(map[string]journal.Text{
			"vm":     steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"met_at": steps.Text("When the condition held.", "條件成立之時間。"),
			"waited": steps.Text("How long the step waited.", "等待之時間。"),
			"facts":  steps.Text("The VM's facts when the condition held.", "條件成立時之虛擬機器屬性。"),
		}, prefixed("facts", vmFactsDocs)),
		Preflight: []journal.Text{connectPreflight, vmExistsPreflight},
		Example: `- id: standby_up
  name: {en: "Wait for the standby's guest to come up", zh-TW: "等待備援 VM 之客體作業系統啟動"}
  vcenter.vm.wait: {vm: ap03, condition: 'tools_running && ip != ""', within: 10m}`,
	}
}

func (vmSnapshot) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "建立、還原或刪除虛擬機器快照",
		Params: map[string]steps.FieldDoc{
			"vm":                vmParam,
			"action":            steps.Required("What to do with the snapshot.", "對快照之動作。").Values("create", "revert", "remove"),
			"name":              steps.Required("The snapshot's name.", "快照名稱。"),
			"description":       steps.Param("A new snapshot's description (create only).", "新快照之說明（僅限 create）。"),
			"memory":            steps.Param("Include the VM's memory in a new snapshot (create only).", "新快照包含記憶體（僅限 create）。"),
			"quiesce":           steps.Param("Ask VMware Tools to quiesce the file systems first (create only).", "先要求 VMware Tools 靜止檔案系統（僅限 create）。"),
			"remove_children":   steps.Param("Remove the snapshot's children too (remove).", "一併刪除子快照（remove）。"),
			"suppress_power_on": steps.Param("Keep a reverted VM off even if the snapshot was taken while it ran (revert).", "還原後維持關機，即使快照建立時為開機狀態（revert）。"),
		},
		Result: map[string]journal.Text{
			"vm":          steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"action":      steps.Text("The action done.", "執行之動作。"),
			"snapshot":    steps.Text("The snapshot's name.", "快照名稱。"),
			"snapshot_id": steps.Text("The snapshot's managed object id in vCenter.", "快照於 vCenter 之受管物件識別碼。"),
			"power_state": steps.Text("The VM's power state afterwards.", "完成後之電源狀態。"),
		},
		Preflight: []journal.Text{connectPreflight, vmExistsPreflight,
			steps.Text("For revert and remove, finds the snapshot by name.", "revert 與 remove 時確認快照存在。")},
		Example: `- id: before_edit
  name: {en: "Snapshot the standby before the restore", zh-TW: "還原前為備援 VM 建立快照"}
  vcenter.vm.snapshot: {vm: ap03, action: create, name: before-restore, memory: false}`,
	}
}

func (events) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "收集本次執行期間之 vCenter 事件，作為時間軸",
		Params: map[string]steps.FieldDoc{
			"since": steps.Param("Collect the events of this long before now instead of since the run began.", "改為收集距今此時間內之事件，而非自執行開始起。"),
			"types": steps.Param("Keep only events whose type contains one of these strings, e.g. [Das, VmPoweredOn].", "僅保留類型包含任一字串之事件，例如 [Das, VmPoweredOn]。"),
			"ha":    steps.Param("Keep only vSphere HA events.", "僅保留 vSphere HA 事件。"),
			"max":   steps.Param("The most events read, 1 to 10000.", "最多讀取之事件數，1 至 10000。"),
		},
		Result: merged(map[string]journal.Text{
			"since":     steps.Text("The window's start.", "時間範圍之起點。"),
			"events":    steps.Text("The events, oldest first.", "事件清單，由舊至新。"),
			"count":     steps.Text("How many events were kept.", "保留之事件數。"),
			"truncated": steps.Text("max was reached, so older events may be missing.", "已達 max 上限，較舊之事件可能遺漏。"),
		}, prefixed("events", eventDocs)),
		Preflight: []journal.Text{connectPreflight},
		Example: `- id: ha_events
  name: {en: "Collect HA's events for the report", zh-TW: "收集 HA 事件供報告使用"}
  vcenter.events: {ha: true}`,
	}
}

func (haVerifyRestart) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "確認 vSphere HA 已將故障主機之虛擬機器於其他主機重新啟動，並逐台計時",
		Params: map[string]steps.FieldDoc{
			"failed_host": steps.Required("The host that went down.", "故障之主機。"),
			"vms": steps.Param("The VMs that ran on it when it went down, as the step that shut it down recorded them: vms: \"${{ steps.shut.result.vms }}\". When empty the step fails unless allow_empty.",
				"主機停機時其上執行之虛擬機器，即關機步驟所記錄者：vms: \"${{ steps.shut.result.vms }}\"。若為空，除非設定 allow_empty，步驟即失敗。"),
			"within":      steps.Param("How long HA has to restart every VM, from the step's start.", "HA 重新啟動所有虛擬機器之時限，自步驟開始起算。"),
			"tools":       steps.Param("Also wait, within the same limit, for VMware Tools to run in each restarted guest.", "於同一時限內，一併等待各重新啟動之客體 VMware Tools 執行。"),
			"allow_empty": steps.Param("Let an empty vms list pass; by default it fails, because an empty list is far more often a wrong reference than an idle host.", "允許 vms 為空；預設為失敗，因為空清單多半是引用錯誤而非主機閒置。"),
		},
		Result: merged(map[string]journal.Text{
			"failed_host":   steps.Text("The failed host's name in vCenter.", "故障主機於 vCenter 之名稱。"),
			"vms":           steps.Text("What the step saw of each VM.", "每台虛擬機器之觀察結果。"),
			"restarted":     steps.Text("How many VMs were restarted on another host.", "於其他主機重新啟動之虛擬機器數。"),
			"all_restarted": steps.Text("Whether every VM was restarted.", "是否全部重新啟動。"),
			"last_on_at":    steps.Text("When the last VM was seen powered on again.", "最後一台虛擬機器重新開機之時間。"),
			"events":        steps.Text("vCenter's HA and power-on events for these VMs in the window.", "此期間內與這些虛擬機器相關之 HA 與開機事件。"),

			"vms.vm":              steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"vms.old_host":        steps.Text("The host it ran on before.", "原所在主機。"),
			"vms.new_host":        steps.Text("The host HA restarted it on.", "HA 重新啟動後之所在主機。"),
			"vms.seen_off_at":     steps.Text("When vCenter first reported it not running (zero if it never did while the step watched).", "vCenter 首次回報其未執行之時間（觀察期間未發生則為零值）。"),
			"vms.powered_on_at":   steps.Text("When drbook received vCenter's update showing it powered on on another host.", "drbook 收到 vCenter 回報其於其他主機開機之時間。"),
			"vms.tools_at":        steps.Text("When VMware Tools were first seen running after that.", "其後首次觀察到 VMware Tools 執行之時間。"),
			"vms.outage":          steps.Text("powered_on_at − seen_off_at, when both are known.", "powered_on_at − seen_off_at（兩者皆已知時）。"),
			"vms.already_running": steps.Text("It already ran elsewhere when the step began, so powered_on_at is an upper bound.", "步驟開始時已於他處執行，因此 powered_on_at 為上限值。"),
			"vms.restarted":       steps.Text("Whether it counts as restarted.", "是否視為已重新啟動。"),
			"vms.problem":         steps.Text("Why it does not count as restarted.", "未視為重新啟動之原因。"),
		}, prefixed("events", eventDocs)),
		Preflight: []journal.Text{connectPreflight, steps.Text("Finds the failed host and every VM listed in vCenter's inventory.", "確認故障主機與所列之每台虛擬機器皆存在於 vCenter 清冊中。")},
		Example: `- id: shut
  confirm: true
  vcenter.host.shutdown: {host: esx-68, force: true}
- id: ha
  name: {en: "HA restarts .68's VMs elsewhere", zh-TW: "HA 於其他主機重新啟動 .68 之 VM"}
  vcenter.ha.verify_restart:
    failed_host: esx-68
    vms: "${{ steps.shut.result.vms }}"
    within: 5m
  expect: 1m`,
	}
}

func (vmClone) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "將虛擬機器（目前狀態或快照）複製至另一資料存放區與主機，可接至隔離之連接埠群組並開機",
		Params: map[string]steps.FieldDoc{
			"vm":        vmParam,
			"name":      steps.Param("The replica's name in vCenter; empty means the VM's name followed by -replica. A VM of that name that this run's journal records as its own is reused; any other is refused.", "複本於 vCenter 之名稱；未填則為原 VM 名稱加 -replica。若同名 VM 經本次執行之日誌記錄為本次所建則沿用，否則拒絕。"),
			"datastore": steps.Required("The datastore that receives the replica's files (other storage than the VM's, for a replica test).", "存放複本檔案之資料存放區（複本測試應與原 VM 不同）。"),
			"host":      steps.Param("The host that runs the replica: a host of the site file or its vCenter name; empty keeps the VM's host.", "執行複本之主機：site 檔之主機或其 vCenter 名稱；未填則沿用原 VM 之主機。"),
			"snapshot":  steps.Param("Clone from the VM's snapshot of this name instead of its current state.", "自原 VM 之此名稱快照複製，而非目前狀態。"),
			"network":   steps.Param("Put every NIC of the replica on this port group, e.g. an isolated one, so that the replica (same IP, same host name) cannot clash with the VM in production.", "將複本所有網路卡接至此連接埠群組（例如隔離網段），使複本（相同 IP 與主機名稱）不致與正式環境之 VM 衝突。"),
			"power_on":  steps.Param("Power the replica on once it is made.", "複製完成後將複本開機。"),
			"timeout":   steps.Param("How long the clone task may take (it copies every disk).", "複製工作之時限（需複製所有磁碟）。"),
		},
		Result: map[string]journal.Text{
			"name":          steps.Text("The replica's name in vCenter.", "複本於 vCenter 之名稱。"),
			"moref":         steps.Text("The replica's managed object reference, e.g. vm-123.", "複本之受管物件參照，例如 vm-123。"),
			"instance_uuid": steps.Text("The replica's instance UUID, which drbook chose and journaled before the clone began: how vcenter.vm.destroy knows the replica is this run's.", "複本之 instance UUID，由 drbook 於複製前選定並記入日誌；vcenter.vm.destroy 據此確認複本為本次執行所建。"),
			"source":        steps.Text("The VM that was copied.", "被複製之 VM。"),
			"datastore":     steps.Text("The datastore the replica is on.", "複本所在之資料存放區。"),
			"host":          steps.Text("The host the replica is on.", "複本所在之主機。"),
			"networks":      steps.Text("The port groups of the replica's NICs.", "複本各網路卡之連接埠群組。"),
			"snapshot":      steps.Text("The snapshot cloned from; empty for the current state.", "複製來源之快照；空白表示目前狀態。"),
			"disk_bytes":    steps.Text("The size of the replica's disks, in bytes.", "複本磁碟大小（位元組）。"),
			"powered_on":    steps.Text("Whether the replica is powered on after the step.", "步驟完成後複本是否已開機。"),
			"reused":        steps.Text("The replica already existed and this run had made it (a resumed run), so no clone was started.", "複本已存在且為本次執行所建（續跑），因此未再複製。"),
			"requested_at":  steps.Text("When the clone was asked for.", "要求複製之時間。"),
			"cloned_at":     steps.Text("When vCenter finished the clone.", "vCenter 完成複製之時間。"),
			"clone_took":    steps.Text("How long the clone took.", "複製所花時間。"),
		},
		Preflight: []journal.Text{connectPreflight, vmExistsPreflight,
			steps.Text("Finds the datastore, the host, the snapshot and the port group; checks the host is connected and not in maintenance mode, mounts the datastore and has the port group, and the datastore has room for the VM's disks.", "確認資料存放區、主機、快照與連接埠群組存在；主機已連線且非維護模式、已掛載該資料存放區並具該連接埠群組，且資料存放區有足夠空間容納 VM 之磁碟。"),
			steps.Text("Checks no VM of the replica's name exists yet.", "確認尚無與複本同名之 VM。")},
		Example: `- id: replica
  name: {en: "Replicate the AP server to other storage, isolated", zh-TW: "將 AP 伺服器複製至其他儲存區（隔離網段）"}
  vcenter.vm.clone: {vm: ap02, datastore: storage2, host: esx-69, network: Drill-Isolated, power_on: true}`,
	}
}

func (vmDestroy) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "將本次執行所建之虛擬機器關機並刪除（其他 VM 除非明示，一律拒絕）",
		Params: map[string]steps.FieldDoc{
			"vm":                   vmParam,
			"created_elsewhere_ok": steps.Param("Destroy the VM even though this run's journal has no vcenter.vm.clone record of it (name and instance UUID). Without it such a VM is refused.", "即使本次執行之日誌無此 VM 之 vcenter.vm.clone 紀錄（名稱與 instance UUID）仍予刪除；未設定則拒絕。"),
			"template_ok":          steps.Param("Destroy the VM even if it is a template.", "即使為範本亦予刪除。"),
			"timeout":              steps.Param("How long the power-off and the destroy may take.", "關機與刪除之時限。"),
		},
		Result: map[string]journal.Text{
			"vm":                  steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"moref":               steps.Text("Its managed object reference.", "其受管物件參照。"),
			"instance_uuid":       steps.Text("Its instance UUID.", "其 instance UUID。"),
			"created_by_this_run": steps.Text("Whether this run's journal records creating it.", "本次執行之日誌是否記錄建立此 VM。"),
			"was_powered_on":      steps.Text("It was running and was powered off first.", "原為開機狀態，已先關機。"),
			"already_gone":        steps.Text("This run had created it and it no longer existed (a resumed run), so nothing was sent.", "本次執行所建之 VM 已不存在（續跑），因此未送出任何指令。"),
			"destroyed_at":        steps.Text("When vCenter finished the destroy.", "vCenter 完成刪除之時間。"),
			"took":                steps.Text("How long the power-off and destroy took.", "關機與刪除所花時間。"),
		},
		Preflight: []journal.Text{connectPreflight,
			steps.Text("When a VM of that name exists before the run (so this run cannot have made it), fails unless created_elsewhere_ok is set, and refuses a template unless template_ok is set.", "若該名稱之 VM 於執行前即已存在（故非本次所建），除非設定 created_elsewhere_ok 否則失敗；範本除非設定 template_ok 否則拒絕。")},
		Example: `- id: replica
  vcenter.vm.clone: {vm: ap02, datastore: storage2, network: Drill-Isolated}
- id: cleanup
  name: {en: "Destroy the replica", zh-TW: "刪除複本"}
  vcenter.vm.destroy: {vm: "${{ steps.replica.result.name }}"}`,
	}
}

func (vmMigrate) Doc() steps.KindDoc {
	return steps.KindDoc{
		SummaryZhTW: "以 vMotion 將虛擬機器移至另一主機、以 Storage vMotion 移至另一資料存放區，或兩者，並記錄其是否全程維持開機",
		Params: map[string]steps.FieldDoc{
			"vm":        vmParam,
			"host":      steps.Param("The host to move the VM to (vMotion): a host of the site file or its vCenter name. Give host, datastore or both.", "移往之主機（vMotion）：site 檔之主機或其 vCenter 名稱。host 與 datastore 至少擇一。"),
			"datastore": steps.Param("The datastore to move the VM's files to (storage vMotion).", "移往之資料存放區（Storage vMotion）。"),
			"priority":  steps.Param("vCenter's migration priority.", "vCenter 之遷移優先順序。").Values("default", "high", "low"),
			"timeout":   steps.Param("How long the migration may take.", "遷移之時限。"),
		},
		Result: map[string]journal.Text{
			"vm":                steps.Text("The VM's name in vCenter.", "虛擬機器於 vCenter 之名稱。"),
			"from_host":         steps.Text("The host it ran on before.", "遷移前之主機。"),
			"to_host":           steps.Text("The host it runs on after.", "遷移後之主機。"),
			"from_datastore":    steps.Text("Its datastore before.", "遷移前之資料存放區。"),
			"to_datastore":      steps.Text("Its datastore after.", "遷移後之資料存放區。"),
			"powered_on_before": steps.Text("Whether it was running when the migration began.", "遷移開始時是否開機。"),
			"stayed_powered_on": steps.Text("Whether vCenter showed it powered on throughout the migration (watched on the PropertyCollector): true is a vMotion without downtime.", "遷移期間 vCenter 是否始終顯示其為開機（透過 PropertyCollector 監看）；true 表示 vMotion 未中斷服務。"),
			"already":           steps.Text("It was already on the host and datastore, so nothing was sent.", "原已位於該主機與資料存放區，因此未送出任何指令。"),
			"requested_at":      steps.Text("When the migration was asked for.", "要求遷移之時間。"),
			"completed_at":      steps.Text("When vCenter finished it.", "vCenter 完成遷移之時間。"),
			"took":              steps.Text("How long it took.", "遷移所花時間。"),
		},
		Preflight: []journal.Text{connectPreflight, vmExistsPreflight,
			steps.Text("Finds the host and the datastore; checks the host is connected and not in maintenance mode, the VM's datastore is mounted on it, and a new datastore has room for the VM's disks.", "確認主機與資料存放區存在；主機已連線且非維護模式、VM 之資料存放區已掛載於該主機，且新資料存放區有足夠空間。")},
		Example: `- id: move_ap
  name: {en: "Move the AP server to esx-70 by vMotion", zh-TW: "以 vMotion 將 AP 伺服器移至 esx-70"}
  vcenter.vm.migrate: {vm: ap02, host: esx-70}`,
	}
}
