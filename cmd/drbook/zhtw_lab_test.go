package main

import (
	"bytes"
	"github.com/drbook/drbook/internal/zhtext"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// zhAllowed are the ASCII words a zh-TW reader of the HA drill sees on
// purpose: product and protocol names, vSphere's own state values, units,
// the lab's names and the command names an operator types. Anything else
// of two or more letters is drbook's English that was not translated.
var zhAllowed = map[string]bool{
	// Names of products, protocols and things.
	"vCenter": true, "vSphere": true, "VMware": true, "Tools": true, "HA": true, "VM": true, "VMs": true,
	"RTO": true, "IMM": true, "BMC": true, "Redfish": true, "ComputerSystem": true, "Reset": true,
	"SHA": true, "IP": true, "API": true, "UUID": true, "UTC": true, "TLS": true, "SSH": true, "HTTP": true,
	"GET": true, "JSON": true, "drbook": true, "govc": true, "known_hosts": true, "ESXi": true,
	// vSphere's and Redfish's values, shown as vCenter says them.
	"poweredOn": true, "poweredOff": true, "connected": true, "notResponding": true, "disconnected": true,
	"unknown": true, "enabled": true, "disabled": true, "true": true, "false": true, "On": true, "Off": true,
	"VirtualCenter": true, "ShutdownHost_Task": true, "force": true, "guestToolsRunning": true, "guestToolsNotRunning": true,
	"VirtualMachine": true, "HostSystem": true,
	// Units and zones.
	"ms": true, "MiB": true, "Asia": true, "Taipei": true,
	// The lab's and the runbook's own names.
	"sanchong": true, "lab": true, "root": true, "placement": true, "Sanchong": true, "mailserver": true,
	"apfg": true, "NTPCWEBFG": true, "ad": true, "dellserver": true, "sc": true, "gov": true, "tw": true,
	"ask": true, "Zabbix": true, "PRT": true, "APFG": true, "test": true, "fileserver": true, "ibm": true,
	"gis": true, "data": true, "web": true, "VCenter": true, "hpserver": true, "MOI": true, "CentOS": true,
	"ftp": true, "backup": true, "fg": true, "km": true, "moiland": true, "AP": true,
	// The runbook's YAML keys, named where a heading says which block or
	// setting it is (收尾步驟（finally）).
	"steps": true, "finally": true, "on_failure": true, "when": true, "for_each": true,
	// Commands and flags the reader types.
	"verify": true, "resume": true, "report": true, "format": true, "json": true, "yes": true, "dev": true,
}

// quotedText is what the HA drill's journal quotes from elsewhere: a
// probe's error, vCenter's event messages and product name, the trusted
// fingerprints. A zh-TW report shows them as they were said.
func quotedText(log *journal.Log) []string {
	var q []string
	for _, e := range log.Events {
		switch {
		case e.Monitor != nil && e.Monitor.DetailZhTW == "":
			q = append(q, e.Monitor.Detail)
		case e.Monitor != nil:
			// drbook's words around a probe's own error: the foreign
			// part is what the Chinese kept of the English.
			q = append(q, keptFrom(e.Monitor.Detail, e.Monitor.DetailZhTW)...)
		case e.Evidence != nil:
			for _, m := range e.Evidence.Timeline {
				if m.LabelZhTW == "" {
					q = append(q, m.Label, m.Source)
				}
			}
			for _, f := range e.Evidence.Facts {
				if f.Key == "product" {
					q = append(q, f.Value)
				}
			}
		case e.Trust != nil:
			q = append(q, e.Trust.Fingerprint)
		}
	}
	// Longest first, so a message is removed before a part of it.
	sort.Slice(q, func(i, j int) bool { return len(q[i]) > len(q[j]) })
	return q
}

// nonASCII splits a Chinese text into what it says in ASCII.
var nonASCII = regexp.MustCompile(`[^\x20-\x7e]+`)

// keptFrom returns the ASCII runs of zh that are also in en: in an error
// drbook worded in both languages, what came from elsewhere (a network
// error, vCenter's words) and the names and values it quotes.
func keptFrom(en, zh string) []string {
	var kept []string
	for _, run := range nonASCII.Split(zh, -1) {
		// Short runs are values (poweredOn) the allow-list knows; taken
		// out first, they would break the longer quotes that hold them.
		if run = strings.TrimSpace(run); len(run) >= 16 && strings.Contains(en, run) {
			// As quoted (%q) and as markdown shows it, unescaped.
			kept = append(kept, run, strings.ReplaceAll(run, `\`, ""))
		}
	}
	return kept
}

// untranslated returns the English words of text that are neither
// allowed (zhAllowed, ids), nor part of a technical token, nor inside what
// the run quoted from elsewhere (internal/zhtext).
func untranslated(text string, quoted, ids []string) []string {
	idSet := map[string]bool{}
	for _, id := range ids {
		idSet[id] = true
	}
	return zhtext.Untranslated(text, quoted, func(w string) bool { return zhAllowed[w] || idSet[w] })
}

// TestHADrillInZhTWHasNoUntranslatedEnglish runs the reference HA drill
// against the lab in zh-TW, then renders its plan, its plain run lines and
// its md and HTML reports, and fails on any English word outside the
// allow-list: ids, kinds, paths, hosts, commands and units pass; drbook's
// own words must be Traditional Chinese. What the run quotes from
// elsewhere (vCenter's event messages, a probe's error) is left out.
func TestHADrillInZhTWHasNoUntranslatedEnglish(t *testing.T) {
	t.Parallel()
	const rb = "../../runbooks/sanchong/ha-host-failure.yaml"
	runs := t.TempDir()
	var runOut, runErr bytes.Buffer
	if code := runMain([]string{"run", "--lab", rb, "--yes", "--lang", "zh-TW", "--lab-speed", "10", "--runs-dir", runs}, strings.NewReader(""), &runOut, &runErr); code != 0 {
		t.Fatalf("run exited %d\n%s\n%s", code, runOut.String(), runErr.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(runs, "*"))
	if len(dirs) != 1 {
		t.Fatalf("want one run directory, got %v", dirs)
	}
	raw, err := os.ReadFile(filepath.Join(dirs[0], "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := journal.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	rs := log.Events[0].RunStart
	ids := []string{rs.Machine, rs.Operator}
	for _, s := range rs.Steps {
		ids = append(ids, s.ID, s.Kind)
	}
	for p := range rs.Params {
		ids = append(ids, p)
	}
	for _, m := range []string{"ap-web", "vm-apfg02"} {
		ids = append(ids, m)
	}
	quoted := quotedText(log)

	render := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("drbook %v exited %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	outputs := map[string]string{
		"run (plain lines)": runOut.String(),
		"plan":              render("plan", "--lab", rb, "--lang", "zh-TW"),
		"report md":         render("report", "--lang", "zh-TW", "--format", "md", dirs[0]),
		"report html":       htmlText(render("report", "--lang", "zh-TW", "--format", "html", dirs[0])),
	}
	for name, text := range outputs {
		if !strings.Contains(text, "esx-68") {
			t.Fatalf("%s does not name the failed host; nothing was checked:\n%s", name, text)
		}
		// The plan's commands are what runs on the site, as it runs,
		// and its conditions are expressions as the runbook has them.
		if name == "plan" {
			text = regexp.MustCompile(`(?m)^\s*(指令|執行條件（when）)：.*$`).ReplaceAllString(text, "")
		}
		// The HTML cover names the report in English too, on purpose.
		text = strings.ReplaceAll(text, "演練報告 · Drill report", "")
		if bad := untranslated(text, quoted, ids); len(bad) > 0 {
			var where []string
			for _, w := range bad {
				if i := regexp.MustCompile(`\b` + w + `\b`).FindStringIndex(text); i != nil {
					where = append(where, strings.TrimSpace(text[max(0, i[0]-80):min(len(text), i[1]+40)]))
				}
			}
			t.Errorf("%s in zh-TW shows English: %q, e.g.:\n%s", name, bad, strings.Join(where, "\n"))
		}
	}
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

// TestUntranslatedFindsEnglish keeps the checker honest: it finds
// drbook's English and lets the allowed tokens through.
func TestUntranslatedFindsEnglish(t *testing.T) {
	got := untranslated("步驟 shut：wait up to 5m for host esx-68 · /etc/hosts · vcenter.host.shutdown · VMware Tools", nil, []string{"shut"})
	want := []string{"wait", "up", "to", "for", "host"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("untranslated = %q, want %q", got, want)
	}
}
