package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/reports"
)

// TestRunsAndHistoryShowTheRunbooksZone: runs and history show a run's
// start in its runbook's zone (timezone: Asia/Taipei, the zone its report
// uses) and name it in the header, and a run without one in the machine's
// zone ($TZ here); when the rows' zones differ, each time names its own.
// In both languages.
func TestRunsAndHistoryShowTheRunbooksZone(t *testing.T) {
	t.Setenv("TZ", "America/New_York")
	dir := t.TempDir()
	writeRunbook(t, dir, "tpe.yaml", "name: tpe\nlabels: {timezone: Asia/Taipei}\nsteps:\n  - id: first\n    log: a\n")
	writeRunbook(t, dir, "plain.yaml", "name: plain\nsteps:\n  - id: first\n    log: a\n")
	start := func(runsDir string) []time.Time {
		var out []time.Time
		matches, _ := filepath.Glob(filepath.Join(dir, runsDir, "*"))
		for _, m := range matches {
			r, err := reports.ReadRun(m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.Cover.Start)
		}
		return out
	}
	run := func(runsDir, file string) time.Time {
		before := start(runsDir)
		if _, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", runsDir, file); code != exitOK {
			t.Fatalf("run %s exited %d: %s", file, code, stderr)
		}
		after := start(runsDir)
		if len(after) != len(before)+1 {
			t.Fatalf("%d runs in %s after running %s", len(after), runsDir, file)
		}
		for _, s := range after {
			if !containsTime(before, s) {
				return s
			}
		}
		t.Fatal("no new run")
		return time.Time{}
	}
	tpe, _ := time.LoadLocation("Asia/Taipei")
	ny, _ := time.LoadLocation("America/New_York")
	alone := run("alone", "tpe.yaml")
	mixedTPE := run("mixed", "tpe.yaml")
	mixedPlain := run("mixed", "plain.yaml")
	for _, tc := range []struct {
		lang, runsDir string
		want, not     []string
	}{
		{"en", "alone", []string{"STARTED (Asia/Taipei)", alone.In(tpe).Format("2006-01-02 15:04") + "  "}, []string{"Asia/Taipei  "}},
		{"zh-TW", "alone", []string{"開始時間（Asia/Taipei）", alone.In(tpe).Format("2006-01-02 15:04") + "  "}, []string{"Asia/Taipei  "}},
		{"en", "mixed", []string{"STARTED ", mixedTPE.In(tpe).Format("2006-01-02 15:04") + " Asia/Taipei", mixedPlain.In(ny).Format("2006-01-02 15:04") + " America/New_York"}, []string{"STARTED ("}},
		{"zh-TW", "mixed", []string{"開始時間 ", mixedTPE.In(tpe).Format("2006-01-02 15:04") + " Asia/Taipei", mixedPlain.In(ny).Format("2006-01-02 15:04") + " America/New_York"}, []string{"開始時間（"}},
	} {
		for _, cmd := range []string{"runs", "history"} {
			out, stderr, code := runDrbook(t, dir, "--lang", tc.lang, cmd, "--runs-dir", tc.runsDir)
			if code != exitOK {
				t.Fatalf("%s %s exited %d: %s", tc.lang, cmd, code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s %s --runs-dir %s lacks %q:\n%s", tc.lang, cmd, tc.runsDir, w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("%s %s --runs-dir %s has %q:\n%s", tc.lang, cmd, tc.runsDir, w, out)
				}
			}
		}
	}
}

func containsTime(ts []time.Time, t time.Time) bool {
	for _, s := range ts {
		if s.Equal(t) {
			return true
		}
	}
	return false
}
