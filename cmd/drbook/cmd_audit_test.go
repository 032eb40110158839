package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAuditCatalog: every text of verify, runs and history exists in both
// languages with the same format verbs, and every key the code asks for
// is in the catalog.
func TestAuditCatalog(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-z]`)
	for key, e := range auditCatalog {
		if e[0] == "" || e[1] == "" {
			t.Errorf("%s lacks a language: %q", key, e)
		}
		if a, b := verbs.FindAllString(e[0], -1), verbs.FindAllString(e[1], -1); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%s: format verbs differ: %v vs %v", key, a, b)
		}
	}
	src, err := os.ReadFile("cmd_audit.go")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`\.Say\("([a-z_.-]+)"[,)]`).FindAllSubmatch(src, -1)
	if len(uses) < 20 {
		t.Fatalf("found only %d uses of the catalog", len(uses))
	}
	for _, u := range uses {
		if _, ok := auditCatalog[string(u[1])]; !ok {
			t.Errorf("cmd_audit.go asks for %q, which the catalog lacks", u[1])
		}
	}
}

// TestVerifyNamesTheEditedLine: verify of a journal with one edited line
// names that line, says NOT VERIFIED (never that the run failed) and
// exits 1; a journal whose run.end was cut off is INCOMPLETE, exit 1; an
// intact one says how it ended, exit 0. The report of the edited journal
// says NOT VERIFIED on its cover and nowhere PASSED.
func TestVerifyNamesTheEditedLine(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "ok.yaml", "name: ok\nsteps:\n  - id: a\n    log: first\n  - id: b\n    log: second\n")
	if _, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", "runs", "ok.yaml"); code != exitOK {
		t.Fatalf("run exited %d: %s", code, stderr)
	}
	runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
	out, _, code := runDrbook(t, dir, "verify", runDir)
	if code != exitOK || !strings.Contains(out, "hash chain intact") || !strings.Contains(out, "run: ended, recorded result passed") {
		t.Fatalf("intact journal: exit %d\n%s", code, out)
	}
	path := filepath.Join(runDir, "journal.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	edited := -1
	for i, l := range lines {
		if strings.Contains(l, `"text":"second"`) {
			edited = i
			lines[i] = strings.Replace(l, `"text":"second"`, `"text":"SECOND"`, 1)
			break
		}
	}
	if edited < 0 || edited == len(lines)-2 {
		t.Fatalf("no middle line to edit in:\n%s", data)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"en":    {"drbook: error: NOT VERIFIED: ", "journal line " + strconv.Itoa(edited+1) + ": hash chain broken: line " + strconv.Itoa(edited+1) + " was edited", "drbook: hint: the journal was changed"},
		"zh-TW": {"drbook: error: 未通過驗證：", "紀錄檔第 " + strconv.Itoa(edited+1) + " 行遭編輯", "drbook: hint: 紀錄檔於寫入後遭變更"},
	} {
		_, stderr, code := runDrbook(t, dir, "--lang", lang, "verify", runDir)
		if code != exitFailed {
			t.Errorf("%s: edited journal: exit %d", lang, code)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: verify says\n%s\nwant %q", lang, stderr, w)
			}
		}
		if strings.Contains(stderr, "the run failed") {
			t.Errorf("%s: verify says the run failed:\n%s", lang, stderr)
		}
	}
	for _, lang := range []string{"en", "zh-TW"} {
		for _, format := range []string{"md", "html", "json", "junit"} {
			out, _, code := runDrbook(t, dir, "--lang", lang, "report", "--format", format, runDir)
			if code != exitOK {
				t.Fatalf("report exited %d", code)
			}
			if strings.Contains(out, "PASSED") || strings.Contains(out, "通過</") || strings.Contains(out, "結果：通過") || strings.Contains(out, `"passed": true`) {
				t.Errorf("%s %s report of an edited journal says passed", lang, format)
			}
			named := map[string]string{"en": "line " + strconv.Itoa(edited+1) + " was edited", "zh-TW": "紀錄檔第 " + strconv.Itoa(edited+1) + " 行遭編輯"}[lang]
			if format == "md" && !strings.Contains(out, named) {
				t.Errorf("%s md cover does not name the edited line", lang)
			}
		}
	}

	// Cut the run.end off an intact copy.
	if err := os.WriteFile(path, data[:strings.LastIndex(strings.TrimSuffix(string(data), "\n"), "\n")+1], 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runDrbook(t, dir, "verify", runDir)
	if code != exitFailed || !strings.Contains(stderr, "INCOMPLETE") || !strings.Contains(stderr, "not run.end") {
		t.Errorf("journal without run.end: exit %d\n%s", code, stderr)
	}
}

// TestCompletion: the shell asks drbook (cobra's __complete) and gets run
// directories, the planned step ids of a run, formats and languages.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "ok.yaml", "name: ok\nsteps:\n  - id: first\n    log: a\n  - id: second\n    log: b\n")
	if _, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", "runs", "ok.yaml"); code != exitOK {
		t.Fatalf("run exited %d: %s", code, stderr)
	}
	run := "runs/" + filepath.Base(onlyRunDir(t, filepath.Join(dir, "runs")))
	complete := func(args ...string) []string {
		out, stderr, code := runDrbook(t, dir, append([]string{"__complete"}, args...)...)
		if code != exitOK {
			t.Fatalf("__complete %v exited %d: %s", args, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[:len(lines)-1] // the last line is cobra's directive
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", ""}, []string{run + "/"}},
		{[]string{"verify", "runs/"}, []string{run + "/"}},
		{[]string{"resume", run, "--from", ""}, []string{"first", "second"}},
		{[]string{"resume", run, "--only", "first,s"}, []string{"first,second"}},
		{[]string{"report", "--format", ""}, []string{"html", "md", "json", "junit"}},
		{[]string{"runs", "--lang", "zh"}, []string{"zh-TW"}},
		{[]string{"history", "--runbook", ""}, []string{"ok"}},
	} {
		got := complete(tc.args...)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q: got %q, want %q among them", tc.args, got, w)
			}
		}
	}
}

// TestRunsAndHistorySpeakBothLanguages: runs and history show the start
// in a zone the header names, a human duration, whether the run was real or in the lab
// and whether the RTO was met, in English and Traditional Chinese, and
// never a raw Go value.
func TestRunsAndHistorySpeakBothLanguages(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "ok.yaml", "name: ok\nrto: 5m\nsteps:\n  - id: cut\n    disruptive: true\n    log: a\n  - id: back\n    recovery: true\n    log: b\n")
	if _, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", "runs", "ok.yaml"); code != exitOK {
		t.Fatalf("run exited %d: %s", code, stderr)
	}
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d`)
	for _, tc := range []struct {
		lang string
		args []string
		want []string
	}{
		{"en", []string{"runs"}, []string{"STARTED (", "DURATION", "no site (real)", "passed", "met: ", " of 5 min", "verified"}},
		{"zh-TW", []string{"runs"}, []string{"開始時間（", "經過時間", "無場域（實際執行）", "通過", "達成：", "／目標 5 分鐘", "驗證通過"}},
		{"en", []string{"history", "--runbook", "ok"}, []string{"STARTED (", "RUNBOOK", "passed", "met: ", "none monitored", "verified"}},
		{"zh-TW", []string{"history", "--runbook", "ok"}, []string{"開始時間（", "實測復原", "未監控", "驗證通過"}},
	} {
		out, stderr, code := runDrbook(t, dir, append([]string{"--lang", tc.lang}, append(tc.args, "--runs-dir", "runs")...)...)
		if code != exitOK {
			t.Fatalf("%s %v exited %d: %s", tc.lang, tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s %v lacks %q:\n%s", tc.lang, tc.args, w, out)
			}
		}
		if !stamp.MatchString(out) {
			t.Errorf("%s %v: no date with its zone:\n%s", tc.lang, tc.args, out)
		}
		if strings.Contains(out, "[]") || strings.Contains(out, "m0s") || regexp.MustCompile(`\d\.\d{4,}s`).MatchString(out) {
			t.Errorf("%s %v shows a raw Go value:\n%s", tc.lang, tc.args, out)
		}
	}
}
