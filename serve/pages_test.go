package serve

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// TestCatalogComplete: every text of the web view exists in both
// languages, and every reports term the templates and views ask for
// exists in the reports' catalog (a missing key would show as itself).
func TestCatalogComplete(t *testing.T) {
	for k, v := range catalog {
		if v[0] == "" || v[1] == "" {
			t.Errorf("%s lacks a language: %q", k, v)
		}
		if strings.Count(v[0], "%") != strings.Count(v[1], "%") {
			t.Errorf("%s: the languages take different arguments: %q / %q", k, v[0], v[1])
		}
	}
	used := regexp.MustCompile(`(?:\.T|\.Tf|w\.T|w\.Tf|W\.T) "([a-z_.]+)"|w\.Tf?\("([a-z_.]+)"`)
	files := []string{"view.go", "serve.go", "stream.go"}
	tmpls, _ := filepath.Glob("templates/*.tmpl")
	for _, f := range append(files, tmpls...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2]
			if _, ok := catalog[key]; !ok && !reports.HasTerm(key) {
				t.Errorf("%s uses %q, which no catalog has", f, key)
			}
		}
	}
}

// TestLanguages: ?lang= wins, then Accept-Language by its q-values; any
// Chinese is zh-TW; the page says its language.
func TestLanguages(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "run1", journalLines(t, runStart("one", "office-1", "drill", "a"), stepStart("a"), stepFinish("a", "ok"), runEnd("passed")))
	_, ts := newTestServer(t, Config{RunsDir: runs})
	for _, tc := range []struct {
		query, accept, want string
	}{
		{"", "", "en"},
		{"", "zh-TW,zh;q=0.9,en;q=0.8", "zh-TW"},
		{"", "zh-CN", "zh-TW"},
		{"", "en-US,zh-TW;q=0.5", "en"},
		{"", "fr;q=1, zh-Hant;q=0.7, en;q=0.3", "zh-TW"},
		{"?lang=en", "zh-TW", "en"},
		{"?lang=zh-TW", "en", "zh-TW"},
		{"?lang=zh-tw", "", "zh-TW"},
	} {
		resp, body := get(t, ts.URL+"/run/run1"+tc.query, "Accept-Language", tc.accept)
		got := resp.Header.Get("Content-Language")
		if got != tc.want || !strings.Contains(body, `<html lang="`+tc.want+`">`) {
			t.Errorf("%q with Accept-Language %q: %s, want %s", tc.query, tc.accept, got, tc.want)
		}
		words := map[string][]string{"en": {"Steps", "ended: passed", "PASSED", "RTO clock"}, "zh-TW": {"步驟", "已結束：通過", "通過", "RTO 計時"}}
		for _, w := range words[tc.want] {
			if !strings.Contains(body, w) {
				t.Errorf("%q %q: the %s page lacks %q", tc.query, tc.accept, tc.want, w)
			}
		}
	}
	// An explicit choice is kept in the links.
	_, body := get(t, ts.URL+"/?lang=zh-TW")
	if !strings.Contains(body, `href="/run/run1?lang=zh-TW"`) || !strings.Contains(body, `data-stream="/live?lang=zh-TW"`) {
		t.Errorf("the zh-TW list does not keep its language in its links")
	}
}

// TestNotVerified: a journal whose chain is broken is NOT VERIFIED in the
// list and on its page, whatever it says it did; so is a running one.
func TestNotVerified(t *testing.T) {
	runs := t.TempDir()
	tampered, err := os.ReadFile(filepath.Join("..", "reports", "testdata", "runs", "tampered", journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	writeRun(t, runs, "tampered", [][]byte{tampered})
	// A run still going whose second line was edited.
	lines := journalLines(t, runStart("live", "office-1", "drill", "a", "b"), stepStart("a"), stepFinish("a", "ok"), stepStart("b"))
	lines[1] = []byte(strings.Replace(string(lines[1]), `"attempt":1`, `"attempt":2`, 1))
	writeRun(t, runs, "edited-live", lines)
	_, ts := newTestServer(t, Config{RunsDir: runs})
	_, list := get(t, ts.URL+"/")
	for _, key := range []string{"tampered", "edited-live"} {
		row := regexp.MustCompile(`(?s)<tr data-key="` + key + `"[^>]*>.*?</tr>`).FindString(list)
		if !strings.Contains(row, `data-verdict="not-verified"`) || !strings.Contains(row, "NOT VERIFIED") || strings.Contains(row, "PASSED") {
			t.Errorf("the list's row for %s does not say NOT VERIFIED:\n%s", key, row)
		}
		_, page := get(t, ts.URL+"/run/"+key)
		if !strings.Contains(page, `<div id="not-verified" class="banner not-verified">NOT VERIFIED: this journal does not verify`) {
			t.Errorf("the page of %s shows no NOT VERIFIED banner", key)
		}
		_, zh := get(t, ts.URL+"/run/"+key+"?lang=zh-TW")
		if !strings.Contains(zh, "未通過驗證") {
			t.Errorf("the zh-TW page of %s does not say 未通過驗證", key)
		}
	}
}

// TestFleetGroupsBySite: with --fleet, a folder of fleet directories as
// drbook fleet run makes them (FLEET/fleet.json, FLEET/SITE/RUN_ID/) is
// listed by the site each run's journal names, each group newest first,
// with the fleet each run belongs to; one fleet directory given directly
// is listed the same way; without --fleet the folder has no runs of its
// own.
func TestFleetGroupsBySite(t *testing.T) {
	root := t.TempDir()
	mk := func(fleet, site string, year int) {
		start := runStart("ha-host-failure", site, "lab")
		start.Time = time.Date(year, 12, 2, 2, 0, 0, 0, time.UTC)
		end := runEnd("passed")
		end.Time = start.Time.Add(time.Minute)
		writeRun(t, filepath.Join(root, fleet, site), start.Time.Format("20060102T150405Z")+"-ha-host-failure", journalLines(t, start, end))
		os.WriteFile(filepath.Join(root, fleet, fleetManifest), []byte(`{"schema":"drbook.fleet/v1"}`), 0o600)
	}
	mk("2026-drill", "sanchong", 2026)
	mk("2026-drill", "banqiao", 2026)
	mk("2027-drill", "sanchong", 2027)

	_, ts := newTestServer(t, Config{RunsDir: root, Fleet: true})
	_, list := get(t, ts.URL+"/")
	b := strings.Index(list, "<h2>Site banqiao</h2>")
	s := strings.Index(list, "<h2>Site sanchong</h2>")
	if b < 0 || s < 0 || b > s {
		t.Fatalf("the fleet list is not grouped by site (banqiao, then sanchong):\n%s", list)
	}
	if n := strings.Count(list[s:], `<tr data-key="`); n != 2 {
		t.Errorf("sanchong lists %d runs, want 2 (one per fleet)", n)
	}
	newer, older := "2027-drill/sanchong/20271202T020000Z-ha-host-failure", "2026-drill/sanchong/20261202T020000Z-ha-host-failure"
	if i, j := strings.Index(list[s:], newer), strings.Index(list[s:], older); i < 0 || j < 0 || i > j {
		t.Error("sanchong's runs are not newest first")
	}
	for _, key := range []string{newer, older, "2026-drill/banqiao/20261202T020000Z-ha-host-failure"} {
		if !strings.Contains(list, `href="/run/`+key+`"`) {
			t.Errorf("the list lacks %s", key)
		}
		if resp, _ := get(t, ts.URL+"/run/"+key); resp.StatusCode != 200 {
			t.Errorf("GET /run/%s: %d", key, resp.StatusCode)
		}
	}
	if !strings.Contains(list, "<th>Fleet</th>") || !strings.Contains(list, "<td>2027-drill</td>") {
		t.Error("the fleet list does not say which fleet each run is in")
	}

	_, one := newTestServer(t, Config{RunsDir: filepath.Join(root, "2026-drill"), Fleet: true})
	_, body := get(t, one.URL+"/")
	if !strings.Contains(body, "<h2>Site banqiao</h2>") || !strings.Contains(body, `href="/run/sanchong/20261202T020000Z-ha-host-failure"`) || strings.Count(body, "<td>2026-drill</td>") != 2 {
		t.Errorf("one fleet directory is not listed by site:\n%s", body)
	}

	_, plain := newTestServer(t, Config{RunsDir: root})
	if _, body := get(t, plain.URL+"/"); !strings.Contains(body, `<p id="no-runs">`) {
		t.Error("without --fleet a folder of fleets shows runs")
	}
}

// TestRTOClock: the clock is idle before the first disruptive step, runs
// from its start (and the page gets that instant to tick from) while the
// run goes on, and states the measured recovery once every recovery step
// is done.
func TestRTOClock(t *testing.T) {
	start := runStart("ha", "office-1", "drill", "shut", "ha")
	start.RunStart.Steps[0].Disruptive = true
	start.RunStart.Steps[1].Recovery = true
	events := []journal.Event{start, stepStart("shut"), stepFinish("shut", "ok"), stepStart("ha"), stepFinish("ha", "ok"), runEnd("passed")}
	lines := journalLines(t, events...)
	runs := t.TempDir()
	dir := writeRun(t, runs, "run1", lines[:1])
	s, err := New(Config{RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	view := func() runView {
		return wordsFor("en").runPage(runRef{Key: "run1", Dir: dir}, s.cache.get(dir))
	}
	if v := view(); !strings.HasPrefix(v.RTO, "not started") || v.RTOSince != "" || !strings.Contains(v.RTO, "objective 5 min") {
		t.Errorf("before the disruptive step: %q since %q", v.RTO, v.RTOSince)
	}
	appendTo(t, dir, bytes.Join(lines[1:4], nil))
	v := view()
	if !strings.Contains(v.RTO, "since 02:00:01.0 (step shut)") || v.RTOSince != "2026-12-02T02:00:01Z" {
		t.Errorf("while recovering: %q since %q", v.RTO, v.RTOSince)
	}
	appendTo(t, dir, bytes.Join(lines[4:], nil))
	if v := view(); !strings.HasPrefix(v.RTO, "recovered in 3.0 s (from step shut at 02:00:01.0)") || !strings.HasSuffix(v.RTO, "· met") || v.RTOSince != "" {
		t.Errorf("after recovery: %q since %q", v.RTO, v.RTOSince)
	}
}

// TestLabDrillPage: the page of a real lab HA drill (the reports' golden
// run) shows its monitors, the RTO met, the lab speed, and the report.
func TestLabDrillPage(t *testing.T) {
	j, err := os.ReadFile(filepath.Join("..", "reports", "testdata", "runs", "guided", journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	writeRun(t, runs, "guided", [][]byte{j})
	_, ts := newTestServer(t, Config{RunsDir: runs})
	_, page := get(t, ts.URL+"/run/guided")
	for _, want := range []string{`<dd id="where">lab ×30</dd>`, `<tr data-monitor="ap-web" data-state="up"`, "· objective 5 min · met",
		`<tr data-step="ha" data-state="ok"`, `src="/report/guided?lang=en"`, "ha: HA restart of the VMs of esx-68"} {
		if !strings.Contains(page, want) {
			t.Errorf("the lab drill's page lacks %q", want)
		}
	}
	resp, report := get(t, ts.URL+"/report/guided?lang=zh-TW")
	if resp.StatusCode != 200 || !strings.Contains(report, "演練報告") || !strings.Contains(report, "HA 演練：主機 esx-68 無預警停機") {
		t.Errorf("the zh-TW report: %d", resp.StatusCode)
	}
}
