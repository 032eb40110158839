package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// TestFailedStepsSpeakZhTW runs a drill against the lab in zh-TW whose
// steps fail by drbook's own words around foreign ones: a VM vCenter does
// not have (the vcenter kind's "not found" with its suggestion) and a
// check.tcp against a closed port (the network's "connection refused").
// The plain run lines and the md and HTML reports must give both errors
// in Chinese, the network's words kept as the network said them, with no
// other English word; the journal keeps both languages.
func TestFailedStepsSpeakZhTW(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	rb := filepath.Join(dir, "failing.yaml")
	src := fmt.Sprintf(`name: failing-drill
title: {en: "A drill whose steps fail", zh-TW: "步驟失敗之演練"}
steps:
  - id: vm_on
    name: {en: "Power on a VM the site lacks", zh-TW: "將場域沒有之 VM 開機"}
    vcenter.vm.power: {vm: vm-apfg03, action: "on"}
    continue_on_error: true
  - id: web
    name: {en: "The web port answers", zh-TW: "網站連接埠有回應"}
    check.tcp: {address: %q, timeout: 2s}
`, closed)
	if err := os.WriteFile(rb, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	var runOut, runErr bytes.Buffer
	code := runMain([]string{"run", "--lab", rb, "--yes", "--no-preflight", "--lang", "zh-TW", "--runs-dir", runs}, strings.NewReader(""), &runOut, &runErr)
	if code == 0 {
		t.Fatalf("the failing drill passed\n%s", runOut.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(runs, "*"))
	if len(dirs) != 1 {
		t.Fatalf("want one run directory, got %v\n%s\n%s", dirs, runOut.String(), runErr.String())
	}
	raw, err := os.ReadFile(filepath.Join(dirs[0], journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	log, err := journal.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}

	refused := "dial tcp " + closed + ": connect: connection refused"
	wantZh := []string{
		"check.tcp " + closed + "：" + refused,
		`中找不到VM "vm-apfg03"`,
	}
	finishes := map[string]*journal.StepFinish{}
	var end *journal.RunEnd
	for _, ev := range log.Events {
		if ev.StepFinish != nil {
			finishes[ev.Step] = ev.StepFinish
		}
		if ev.RunEnd != nil {
			end = ev.RunEnd
		}
	}
	for step, want := range map[string]string{"web": wantZh[0], "vm_on": wantZh[1]} {
		f := finishes[step]
		if f == nil || f.Status != journal.StatusFailed {
			t.Fatalf("step %s did not fail: %+v\n%s", step, f, runOut.String())
		}
		if !strings.Contains(f.ErrorZhTW, want) || strings.ContainsRune(f.Error, '：') {
			t.Errorf("step %s journaled error %q / error_zh_tw %q, want the English and %q", step, f.Error, f.ErrorZhTW, want)
		}
	}
	if end == nil || !strings.Contains(end.ErrorZhTW, "步驟 web："+wantZh[0]) || !strings.Contains(end.Error, "step web: check.tcp") {
		t.Errorf("run.end error %+v, want both languages", end)
	}

	render := func(args ...string) string {
		var out, errb bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("drbook %v exited %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	outputs := map[string]string{
		"run (plain lines)": runOut.String(),
		"report md":         render("report", "--lang", "zh-TW", "--format", "md", dirs[0]),
		"report html":       htmlText(render("report", "--lang", "zh-TW", "--format", "html", dirs[0])),
	}
	ids := []string{"vm_on", "web", "vm-apfg03", "on", log.Events[0].RunStart.Machine, log.Events[0].RunStart.Operator}
	for name, text := range outputs {
		for _, want := range wantZh {
			if !strings.Contains(strings.ReplaceAll(text, `\`, ""), want) && !strings.Contains(strings.ReplaceAll(text, "&#34;", `"`), want) {
				t.Errorf("%s does not show the Chinese error %q:\n%s", name, want, text)
			}
		}
		text = strings.ReplaceAll(text, "演練報告 · Drill report", "")
		if bad := untranslated(text, append(quotedText(log), refused), ids); len(bad) > 0 {
			t.Errorf("%s in zh-TW shows English: %q\n%s", name, bad, text)
		}
	}
}
