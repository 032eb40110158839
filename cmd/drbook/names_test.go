package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// TestHADrillNamesTheHostChosenByVar: with --var failed_host=esx-70 the
// HA drill's title and step names say esx-70, not the default host, in
// the journal (both languages), in the md report in en and zh-TW, and in
// plan.
func TestHADrillNamesTheHostChosenByVar(t *testing.T) {
	t.Parallel()
	const runbook = "../../runbooks/sanchong/ha-host-failure.yaml"
	runs := t.TempDir()
	drbook := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("drbook %s exited %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
	plan := drbook("plan", "--lab", runbook, "--var", "failed_host=esx-70")
	if !strings.Contains(plan, "Shut down host esx-70 (simulated sudden failure)") || !strings.Contains(plan, "sudden failure of host esx-70") || strings.Contains(plan, "${{") {
		t.Errorf("plan does not show the rendered name:\n%s", plan)
	}
	drbook("run", "--lab", runbook, "--var", "failed_host=esx-70", "--yes", "--runs-dir", runs)
	dirs, err := filepath.Glob(filepath.Join(runs, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("want one run under %s, found %v (%v)", runs, dirs, err)
	}
	f, err := os.ReadFile(filepath.Join(dirs[0], "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	log, err := journal.Read(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]journal.Text{
		"shut":      {EN: "Shut down host esx-70 (simulated sudden failure)", ZhTW: "將主機 esx-70 關機（模擬主機突發異常，圖 35）"},
		"power_on":  {EN: "Power host esx-70 back on at its BMC (IMM)", ZhTW: "透過主機 esx-70 之管理介面（IMM）開機"},
		"host_back": {EN: "Wait until host esx-70 is connected again", ZhTW: "等待主機 esx-70 重新連線"},
	}
	seen := map[string]bool{}
	for _, e := range log.Events {
		if e.StepStart == nil {
			continue
		}
		if w, ok := want[e.Step]; ok {
			seen[e.Step] = true
			if e.StepStart.Name != w {
				t.Errorf("journal: step %s starts as %+v, want %+v", e.Step, e.StepStart.Name, w)
			}
		}
	}
	if len(seen) != len(want) {
		t.Errorf("journal started steps %v of %d named ones", seen, len(want))
	}
	for _, lang := range []string{"en", "zh-TW"} {
		md := drbook("--lang", lang, "report", "--format", "md", dirs[0])
		for id, w := range want {
			if name := w.In(lang); !strings.Contains(md, markdownText("| "+id+" | "+name)) {
				t.Errorf("%s report: no row %q with %q:\n%s", lang, id, name, md)
			}
		}
		title := map[string]string{"en": "# Drill report: HA drill: sudden failure of host esx-70\n", "zh-TW": "# 演練報告：HA 演練：主機 esx-70 無預警停機\n"}[lang]
		if !strings.HasPrefix(md, markdownText(title)) {
			t.Errorf("%s report does not start with %q:\n%s", lang, title, md)
		}
		if strings.Contains(md, "host .68") || strings.Contains(md, "主機 .68") || strings.Contains(md, "${{") {
			t.Errorf("%s report still names the default host or raw text:\n%s", lang, md)
		}
	}
}

// markdownText escapes what the md report escapes in these names.
func markdownText(s string) string {
	return strings.NewReplacer("_", `\_`).Replace(s)
}
