package runbooks

import (
	"reflect"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// SiteFields returns the fields of a site file, read from site.Site by
// reflection, with their documentation: for the site schema and the
// reference page docs/site.md.
func SiteFields() []steps.Field {
	return steps.StructFields(reflect.TypeOf(site.Site{}), "yaml", siteDocs)
}

// SiteDocPaths returns the paths siteDocs describes that are not fields of
// site.Site: documentation left behind by a renamed field.
func SiteDocPaths() []string {
	have := map[string]bool{}
	steps.WalkFields(SiteFields(), func(f steps.Field) { have[f.Path] = true })
	var stale []string
	for p := range siteDocs {
		if !have[p] {
			stale = append(stale, p)
		}
	}
	return stale
}

// siteDocs describes each field of a site file (site.Site, by its yaml
// names) for the site schema; the fields themselves come from site.Site by
// reflection, and TestSiteSchemaDescribesEveryField fails on one left out.
var siteDocs = map[string]steps.FieldDoc{
	"name": steps.Required("The site's name in reports, e.g. sanchong.", "site 於報告中之名稱，例如 sanchong。"),
	"lab":  steps.Param("Set by drbook for its embedded lab; leave it out.", "由 drbook 內建實驗環境設定；請勿填寫。"),

	"vcenter":             steps.Param("The vCenter (or ESXi) endpoint.", "vCenter（或 ESXi）連線端點。"),
	"vcenter.url":         steps.Required("The SOAP endpoint, https:// only, e.g. https://vc.example/sdk.", "SOAP 端點，僅限 https://，例如 https://vc.example/sdk。"),
	"vcenter.user":        steps.Required("The user drbook logs in as.", "drbook 登入之使用者。"),
	"vcenter.password":    steps.Param("A secret reference: env:NAME, file:PATH or prompt; never the password itself.", "機密參照：env:NAME、file:PATH 或 prompt；不可填寫密碼本身。"),
	"vcenter.thumbprints": steps.Param("Pinned server certificate fingerprints, SHA-256 (or legacy SHA-1), hex with or without colons.", "釘選之伺服器憑證指紋，SHA-256（或舊式 SHA-1），十六進位，可含冒號。"),
	"vcenter.ca_file":     steps.Param("A PEM bundle of certificate authorities to trust.", "要信任之憑證機構 PEM 檔。"),
	"vcenter.datacenter":  steps.Param("Narrows inventory lookups; empty means the only datacenter.", "限定清冊查詢之資料中心；未指定時為唯一之資料中心。"),

	"hosts":         steps.Param("The ESXi hosts, by the name runbooks use.", "ESXi 主機，以演練手冊使用之名稱為鍵。"),
	"hosts.name":    steps.Param("The host's name in vCenter's inventory; the key when empty.", "主機於 vCenter 清冊之名稱；未指定時同鍵名。"),
	"hosts.address": steps.Param("The management address, for reports and reachability checks.", "管理位址，用於報告與連線檢查。"),
	"hosts.bmc": steps.Param("The host's out-of-band controller (IMM, iLO, iDRAC) as the URL of its Redfish ComputerSystem, e.g. https://imm-68.example/redfish/v1/Systems/1: what bmc.power_on uses to power on a host that was shut down or failed.",
		"主機之頻外管理控制器（IMM、iLO、iDRAC），以其 Redfish ComputerSystem 網址表示，例如 https://imm-68.example/redfish/v1/Systems/1：bmc.power_on 據以將已關機或故障之主機開機。"),
	"hosts.bmc_user":     steps.Param("The user that logs in to the BMC (HTTP basic auth).", "登入 BMC 之使用者（HTTP 基本驗證）。"),
	"hosts.bmc_password": steps.Param("A secret reference for the BMC login: env:NAME, file:PATH or prompt.", "BMC 登入密碼之機密參照：env:NAME、file:PATH 或 prompt。"),

	"guests":                steps.Param("The machines reached over SSH, by the name runbooks use.", "以 SSH 連線之機器，以演練手冊使用之名稱為鍵。"),
	"guests.vm":             steps.Param("The guest's VM name in vCenter, e.g. (65)apfg(02).", "客體於 vCenter 之虛擬機器名稱，例如 (65)apfg(02)。"),
	"guests.address":        steps.Required("The address drbook connects to.", "drbook 連線之位址。"),
	"guests.port":           steps.Param("The SSH port; 22 when empty.", "SSH 連接埠；未指定時為 22。"),
	"guests.user":           steps.Param("The login user; root when empty.", "登入使用者；未指定時為 root。"),
	"guests.key_file":       steps.Param("A private key file.", "私密金鑰檔。"),
	"guests.key_passphrase": steps.Param("A secret reference that unlocks key_file.", "解鎖 key_file 之機密參照。"),
	"guests.password":       steps.Param("A secret reference for password and keyboard-interactive logins.", "密碼與鍵盤互動式登入之機密參照。"),
	"guests.agent":          steps.Param("Allow keys from ssh-agent (SSH_AUTH_SOCK).", "允許使用 ssh-agent（SSH_AUTH_SOCK）之金鑰。"),
	"guests.host_keys":      steps.Param("Pinned host keys, each an authorized_keys style line (ssh-ed25519 AAAA…) or a SHA256:… fingerprint.", "釘選之主機金鑰，每項為 authorized_keys 格式（ssh-ed25519 AAAA…）或 SHA256:… 指紋。"),
	"guests.legacy":         steps.Param("Allow the algorithms of RHEL 5's OpenSSH 4.3 for this guest.", "允許此客體使用 RHEL 5 之 OpenSSH 4.3 舊式演算法。"),
	"guests.become":         steps.Param("sudo to run commands through sudo.", "設為 sudo 以透過 sudo 執行指令。").Values("sudo"),
	"guests.jump":           steps.Param("Another guest to connect through (ProxyJump).", "經由另一台客體連線（ProxyJump）。"),
	"guests.max_sessions":   steps.Param("The most concurrent sessions on the one connection.", "單一連線上同時之工作階段上限。"),

	"services":         steps.Param("Endpoints that checks and monitors probe: ${{ site.services.<name>.url }}.", "檢查與監控探測之端點：${{ site.services.<name>.url }}。"),
	"services.url":     steps.Param("An HTTP(S) URL.", "HTTP(S) 網址。"),
	"services.address": steps.Param("A host:port.", "host:port。"),
}
