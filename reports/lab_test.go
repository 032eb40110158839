package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// htmlTags matches an HTML tag, to read rendered HTML as text.
var htmlTags = regexp.MustCompile(`<[^>]*>`)

// render renders r or fails the test.
func render(t *testing.T, r *Report, format, lang string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, r, format, lang); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// A lab run's report says on its cover, in both languages, that it is a lab
// run at ×30, and puts the simulated equivalent beside the measured
// recovery time and every downtime. The fixture's recovery is 1m20.2s real
// (shut starts at 2m30s, services_back ends at 3m50.2s) and ap-web was down
// 58.4s, db-tcp 38s: at ×30 that is 40m6s, 29m12s and 19m of the site's time.
func TestLabRunShowsSimulatedTimes(t *testing.T) {
	r := buildRun(t, writeLabDrillJournal(t))
	if r.Cover.Mode != ModeLab || r.Cover.LabSpeed != 30 {
		t.Fatalf("cover: mode %q, lab speed %v", r.Cover.Mode, r.Cover.LabSpeed)
	}
	if got := *r.Summary.Recovery.Measured; got != dur("1m20.2s") {
		t.Fatalf("measured recovery %v: the fixture changed, fix the figures below", got.D())
	}

	want := map[string][]string{
		LangEN: {
			"Lab run at ×30: the simulated site ran 30 times faster than real time.",
			"lab ×30",
			"1 min 20.2 s × 30 = 40 min 6.0 s simulated",
			"58.4 s; ×30 = 29 min 12.0 s simulated",
			"38.0 s; ×30 = 19 min simulated",
		},
		LangZhTW: {
			"模擬環境演練（×30）：模擬場域以實際時間之 30 倍速執行。",
			"模擬環境 ×30",
			"1 分 20.2 秒 × 30 = 模擬時間 40 分 6.0 秒",
			"58.4 秒; ×30 = 模擬 29 分 12.0 秒",
			"38.0 秒; ×30 = 模擬 19 分鐘",
		},
	}
	for lang, texts := range want {
		for _, format := range []string{FormatHTML, FormatMD} {
			out := render(t, r, format, lang)
			if format == FormatHTML {
				out = htmlTags.ReplaceAllString(out, "")
			}
			for _, s := range texts {
				if !strings.Contains(out, s) {
					t.Errorf("%s %s lacks %q", lang, format, s)
				}
			}
		}
		junit := render(t, r, FormatJUnit, lang)
		for _, s := range []string{`name="lab_speed" value="30"`, `name="rto_measured_simulated"`, texts[2]} {
			if !strings.Contains(junit, s) {
				t.Errorf("%s junit lacks %q", lang, s)
			}
		}
	}

	var doc struct {
		Cover map[string]any `json:"cover"`
	}
	if err := json.Unmarshal([]byte(render(t, r, FormatJSON, LangEN)), &doc); err != nil {
		t.Fatal(err)
	}
	if speed, ok := doc.Cover["lab_speed"].(float64); !ok || speed != 30 {
		t.Errorf("JSON cover.lab_speed = %#v, want the number 30", doc.Cover["lab_speed"])
	}

	// An RTO missed in the lab shows the simulated time too.
	l, err := newLocalizer(r, LangEN)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Deviation(Deviation{Kind: DevRTOExceeded, Actual: dur("12s"), Planned: dur("10s")}); !strings.Contains(got, "12.0 s × 30 = 6 min simulated") {
		t.Errorf("rto-exceeded in the lab: %q", got)
	}
}

// A run on a real site carries no lab wording and no lab_speed, even with a
// stray lab_speed label.
func TestDrillRunHasNoLabWording(t *testing.T) {
	r := buildRun(t, writeDrillJournalAs(t, func(rs *journal.RunStart) { rs.Labels["lab_speed"] = "30" }))
	if r.Cover.LabSpeed != 0 {
		t.Fatalf("drill run got lab speed %v", r.Cover.LabSpeed)
	}
	for _, lang := range []string{LangEN, LangZhTW} {
		for _, format := range Formats {
			out := render(t, r, format, lang)
			for _, s := range []string{"simulated", "模擬", "×30", `"lab_speed": 30`, `name="lab_speed"`} {
				if strings.Contains(out, s) {
					t.Errorf("%s %s of a drill run contains %q", lang, format, s)
				}
			}
		}
	}
}

// A lab run whose speed is missing or unusable still says it is a lab run,
// without inventing a simulated figure; a fractional speed is kept as given.
func TestLabSpeedLabel(t *testing.T) {
	for _, tc := range []struct {
		label  string
		speed  float64
		banner string
		equiv  string
	}{
		{"", 0, "its speed was not recorded", ""},
		{"fast", 0, "its speed was not recorded", ""},
		{"-3", 0, "its speed was not recorded", ""},
		{"0", 0, "its speed was not recorded", ""},
		{"NaN", 0, "its speed was not recorded", ""},
		{"+Inf", 0, "its speed was not recorded", ""},
		{"1", 1, "the simulated site ran in real time", "1 min 20.2 s × 1 = 1 min 20.2 s simulated"},
		{"2.5", 2.5, "ran 2.5 times faster", "1 min 20.2 s × 2.5 = 3 min 20.5 s simulated"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			r := buildRun(t, writeDrillJournalAs(t, func(rs *journal.RunStart) {
				rs.Mode = ModeLab
				if tc.label != "" {
					rs.Labels["lab_speed"] = tc.label
				}
			}))
			if r.Cover.LabSpeed != tc.speed {
				t.Errorf("lab speed %v, want %v", r.Cover.LabSpeed, tc.speed)
			}
			md := render(t, r, FormatMD, LangEN)
			if !strings.Contains(md, tc.banner) {
				t.Errorf("banner %q missing", tc.banner)
			}
			if tc.equiv == "" && strings.Contains(md, "×") {
				t.Errorf("a simulated figure without a known speed:\n%s", md)
			}
			if tc.equiv != "" && !strings.Contains(md, tc.equiv) {
				t.Errorf("%q missing", tc.equiv)
			}
		})
	}
}

// Earlier runs listed in a report keep their own lab speed.
func TestHistoryMarksLabRuns(t *testing.T) {
	runs := t.TempDir()
	for _, name := range []string{"lab-run", "lab-unknown", "drill-run"} {
		dir := filepath.Join(runs, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		j := newJournal(t, dir)
		rs := &journal.RunStart{RunID: name, Runbook: "ha", Mode: "drill", Labels: map[string]string{},
			Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}, {ID: "back", Kind: "k", Recovery: true}}}
		if strings.HasPrefix(name, "lab") {
			rs.Mode = ModeLab
		}
		if name == "lab-run" {
			rs.Labels["lab_speed"] = "30"
		}
		j.add(drillStart, "", journal.Event{RunStart: rs})
		j.step("cut", "k", "", drillStart, drillStart.Add(time.Second), 1, journal.StatusOK, journal.StepFinish{})
		j.step("back", "k", "", drillStart.Add(time.Second), drillStart.Add(2*time.Second), 1, journal.StatusOK, journal.StepFinish{})
		j.add(drillStart.Add(3*time.Second), "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
		j.close()
	}
	h, err := History(runs, "ha")
	if err != nil {
		t.Fatal(err)
	}
	r := buildRun(t, filepath.Join(runs, "drill-run"))
	r.History = h
	md := render(t, r, FormatMD, LangEN)
	if !strings.Contains(md, "| 2.0 s (×30 = 1 min simulated) |") || !strings.Contains(md, "| 2.0 s (lab) |") || !strings.Contains(md, "| 2.0 s |") {
		t.Errorf("history rows do not mark the lab runs:\n%s", md)
	}
	html := render(t, r, FormatHTML, LangZhTW)
	if !strings.Contains(html, "×30 = 模擬 1 分鐘") {
		t.Errorf("zh-TW history lacks the lab run's simulated time")
	}
}

// The simulated figure is the shown real figure times the speed, so the
// printed multiplication adds up.
func TestSimulatedAddsUpAsPrinted(t *testing.T) {
	for _, tc := range []struct {
		real  time.Duration
		speed float64
		want  time.Duration
	}{
		{1803 * time.Millisecond, 30, 54 * time.Second},
		{1849 * time.Millisecond, 30, 54 * time.Second},
		{1850 * time.Millisecond, 30, 57 * time.Second},
		{80200 * time.Millisecond, 2.5, 200500 * time.Millisecond},
		{time.Minute, 1, time.Minute},
	} {
		if got := simulated(journal.Duration(tc.real), tc.speed).D(); got != tc.want {
			t.Errorf("simulated(%v, ×%v) = %v, want %v", tc.real, tc.speed, got, tc.want)
		}
	}
}

// A run started in drill mode becomes a lab run when its vCenter step
// journals the drbook lab's own marker, with the lab's speed; the endpoint
// evidence of a real vCenter (or of plain vcsim) changes nothing.
func TestLabEndpointMakesTheRunLab(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	build := func(facts ...journal.Fact) *Report {
		b := newBuilder(&journal.RunStart{Runbook: "rb", Mode: "drill"}, at)
		b.add(&journal.Event{Time: at, Type: journal.TypeEvidence, Step: "inv",
			Evidence: &journal.Evidence{Kind: journal.EvidenceFacts, Title: "vCenter endpoint", Facts: facts}})
		return b.r
	}
	real := build(journal.Fact{Key: "product", Value: "VMware vCenter Server 6.5.0 build-5973321"})
	if real.Cover.Mode != "drill" || real.Cover.LabSpeed != 0 {
		t.Fatalf("a real vCenter's endpoint made the run mode %q ×%v", real.Cover.Mode, real.Cover.LabSpeed)
	}
	lab := build(journal.Fact{Key: "lab", Value: "drbook lab"}, journal.Fact{Key: "lab speed", Value: "12.5"})
	if lab.Cover.Mode != ModeLab || lab.Cover.LabSpeed != 12.5 {
		t.Fatalf("the lab's endpoint made the run mode %q ×%v, want lab ×12.5", lab.Cover.Mode, lab.Cover.LabSpeed)
	}
	if md := render(t, lab, FormatMD, LangEN); !strings.Contains(md, "Lab run at ×12.5") {
		t.Errorf("no lab banner:\n%s", md)
	}
}
