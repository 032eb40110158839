package reports

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drbook/drbook/internal/zhtext"
	"github.com/drbook/drbook/journal"
)

// zhReportAllowed are the ASCII words a zh-TW reader of the golden runs'
// reports sees on purpose: names of products, protocols and units,
// vSphere's and Redfish's own values, the lab's and the runbooks' names,
// the YAML keys a heading names, and the commands a reader types.
var zhReportAllowed = map[string]bool{
	// Products, protocols, standards, units and zones.
	"vCenter": true, "vSphere": true, "VMware": true, "Tools": true, "HA": true, "VM": true, "VMs": true,
	"RTO": true, "IMM": true, "BMC": true, "Redfish": true, "SHA": true, "IP": true, "API": true, "UUID": true,
	"UTC": true, "TLS": true, "SSH": true, "HTTP": true, "GET": true, "JSON": true, "JUnit": true, "PDF": true,
	"ESXi": true, "drbook": true, "dev": true, "localhost": true, "ms": true, "MiB": true, "Asia": true, "Taipei": true,
	// vSphere's and Redfish's values, as vCenter says them.
	"poweredOn": true, "poweredOff": true, "connected": true, "notResponding": true, "disconnected": true,
	"enabled": true, "disabled": true, "true": true, "false": true, "On": true, "Off": true,
	"ComputerSystem": true, "Reset": true, "VirtualCenter": true, "ShutdownHost_Task": true, "force": true,
	"guestToolsRunning": true, "unknown": true,
	// The lab's and the runbooks' names (hosts, guests, services, params).
	"sanchong": true, "Sanchong": true, "lab": true, "placement": true, "mailserver": true, "apfg": true,
	"NTPCWEBFG": true, "ad": true, "dellserver": true, "sc": true, "gov": true, "tw": true, "APFG": true,
	"fileserver": true, "ibm": true, "gis": true, "data": true, "web": true, "hpserver": true, "MOI": true,
	"CentOS": true, "ftp": true, "backup": true, "fg": true, "km": true, "moiland": true, "AP": true,
	"test": true, "root": true, "Zabbix": true, "PRT": true, "ask": true, "VCenter": true,
	// The YAML keys a heading names (收尾步驟（finally）), and commands.
	"steps": true, "finally": true, "on_failure": true, "when": true, "for_each": true,
	"verify": true, "resume": true, "report": true, "format": true, "json": true,
}

// TestGoldenRunsInZhTWHaveNoUntranslatedEnglish renders each golden run
// (journals the real engine wrote) in zh-TW as markdown and as HTML, and
// fails on an English word that is not allowed, not a technical token
// (an id, a kind, a path, a hash) and not quoted from elsewhere (what the
// run's guests, vCenter and monitors said). The runs' own names (the
// runbook, its steps, kinds, params, monitors, operator and machine) are
// allowed for that run.
func TestGoldenRunsInZhTWHaveNoUntranslatedEnglish(t *testing.T) {
	for _, name := range goldenRuns {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "runs", name)
			log, err := journal.ReadFile(filepath.Join(dir, journal.FileName))
			if err != nil {
				t.Fatal(err)
			}
			names := runNames(log)
			allowed := func(w string) bool { return zhReportAllowed[w] || names[w] }
			quoted := zhtext.Quoted(log)
			r := buildRun(t, dir)
			for format, text := range map[string]string{
				"md":   render(t, r, FormatMD, LangZhTW),
				"html": htmlText(render(t, r, FormatHTML, LangZhTW)),
			} {
				if !strings.Contains(text, "步驟") {
					t.Fatalf("the %s report is not in zh-TW; nothing was checked", format)
				}
				// The HTML cover names the report in English too, on purpose.
				text = strings.ReplaceAll(text, "演練報告 · Drill report", "")
				if bad := zhtext.Untranslated(text, quoted, allowed); len(bad) > 0 {
					t.Errorf("the %s report of %s in zh-TW shows English: %q, e.g.:\n%s", format, name, bad, zhtext.Where(text, bad))
				}
			}
		})
	}
}

// runNames are the names a run gives its own things: they are shown as
// they are in every language.
func runNames(log *journal.Log) map[string]bool {
	names := map[string]bool{}
	add := func(s string) {
		for _, w := range regexp.MustCompile(`[A-Za-z][A-Za-z_]*[A-Za-z]`).FindAllString(s, -1) {
			names[w] = true
		}
	}
	for _, e := range log.Events {
		if rs := e.RunStart; rs != nil {
			add(rs.Runbook)
			add(rs.Site)
			add(rs.Machine)
			add(rs.Operator)
			for _, s := range rs.Steps {
				add(s.ID)
				add(s.Kind)
			}
			for p := range rs.Params {
				add(p)
			}
		}
		if e.Monitor != nil {
			add(e.Monitor.Name)
		}
		if e.Decision != nil {
			add(e.Decision.Who)
		}
	}
	return names
}

var (
	htmlStyle = regexp.MustCompile(`(?s)<style.*?</style>|<script.*?</script>|<svg.*?</svg>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
)

// htmlText is the text a reader of an HTML report sees.
func htmlText(h string) string {
	h = strings.ReplaceAll(h, "<wbr>", "")
	return htmlTag.ReplaceAllString(htmlStyle.ReplaceAllString(h, " "), " ")
}
