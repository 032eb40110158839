package reports

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// monitorRun journals one monitor's state changes (offsets from drillStart)
// around a disruptive step and a recovery step, and builds the report.
func monitorRun(t *testing.T, runFor time.Duration, states ...string) *Report {
	t.Helper()
	dir := t.TempDir()
	j := newJournal(t, dir)
	j.add(drillStart, "", journal.Event{RunStart: &journal.RunStart{RunID: "m", Runbook: "m", RTO: dur("5m"),
		Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}, {ID: "back", Kind: "k", Recovery: true}}}})
	j.step("cut", "k", "", drillStart.Add(time.Second), drillStart.Add(2*time.Second), 1, journal.StatusOK, journal.StepFinish{})
	for _, s := range states {
		state, off, _ := strings.Cut(s, "@")
		off, baseline := strings.CutSuffix(off, "!") // "!": journaled as a baseline state
		at := drillStart.Add(dur(off).D())
		j.add(at, "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: state, Since: at, Resolution: dur("1s"), Detail: state + " detail", Baseline: baseline}})
	}
	j.step("back", "k", "", drillStart.Add(3*time.Second), drillStart.Add(4*time.Second), 1, journal.StatusOK, journal.StepFinish{})
	j.add(drillStart.Add(runFor), "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
	j.close()
	return buildRun(t, dir)
}

// A probe that could not answer ("unknown", its own transport failing) is
// neither up nor downtime: outside an outage it is listed apart and left
// out of the availability; during one it changes nothing, the outage
// lasting until the service is seen up. A baseline "down" (before the
// first disruptive step) is no outage of the drill. Without unknown events
// nothing changes.
func TestUnknownMonitorStateIsNotDowntime(t *testing.T) {
	r := monitorRun(t, 10*time.Minute, "up@0s", "unknown@10s", "up@20s")
	m := r.Monitors[0]
	if m.Total != 0 || len(m.Windows) != 0 || len(m.Unknown) != 1 || m.UnknownTotal != dur("10s") {
		t.Errorf("up → unknown → up: %+v", m)
	}
	if m.Availability == nil || *m.Availability != 100 {
		t.Errorf("availability %v, want 100%% of the known time", m.Availability)
	}

	r = monitorRun(t, 10*time.Minute, "up@0s", "down@2s", "unknown@30s", "up@50s")
	m = r.Monitors[0]
	if m.Total != dur("48s") || len(m.Unknown) != 0 {
		t.Errorf("down → unknown → up: the outage lasts until seen up: total %v, unknown %+v", m.Total, m.Unknown)
	}
	rec := r.Summary.Recovery
	if rec.To == nil || !rec.To.Equal(drillStart.Add(50*time.Second)) {
		t.Errorf("recovery to %v, want when the service was seen up (50s)", rec.To)
	}
	md := render(t, monitorRun(t, 10*time.Minute, "up@0s", "unknown@10s", "up@20s"), FormatMD, LangEN)
	if !strings.Contains(md, "Probe could not tell (not downtime)") {
		t.Errorf("unknown window not shown:\n%s", md)
	}

	r = monitorRun(t, 10*time.Minute, "up@0s", "down@2s", "unknown@30s")
	if rec := r.Summary.Recovery; rec.Measured != nil || r.Summary.Verdict != journal.StatusFailed {
		t.Errorf("still unknown after an outage: recovery %+v, verdict %s", rec, r.Summary.Verdict)
	}

	r = monitorRun(t, 10*time.Minute, "up@0s", "down@2s", "up@30s")
	if m := r.Monitors[0]; m.Total != dur("28s") || len(m.Unknown) != 0 || m.UnknownTotal != 0 {
		t.Errorf("no unknown events: %+v", m)
	}

	r = monitorRun(t, 10*time.Minute, "down@0s!", "up@1s", "down@2s", "up@30s")
	if m := r.Monitors[0]; m.Total != dur("28s") || len(m.Windows) != 1 {
		t.Errorf("a baseline down counted as an outage: %+v", m)
	}
}

// Availability is stated only over at least a minute, with its window.
func TestAvailabilityOnlyOverAStatedWindow(t *testing.T) {
	short := monitorRun(t, 5*time.Second, "up@0s", "down@2s", "up@3s")
	if a := short.Monitors[0].Availability; a != nil {
		t.Errorf("availability %v over 5 s", *a)
	}
	for _, s := range []string{"– (only 5.0 s observed; stated from 1 min)"} {
		if !strings.Contains(render(t, short, FormatMD, LangEN), s) {
			t.Errorf("short run lacks %q", s)
		}
	}
	long := monitorRun(t, 10*time.Minute, "up@0s", "down@2s", "up@32s")
	if a := long.Monitors[0].Availability; a == nil || *a != 95 {
		t.Errorf("availability %v over 10 min with 30 s down, want 95", a)
	}
	if s := "95.000% over 10 min observed (02:00:00.0 → 02:10:00.0)"; !strings.Contains(render(t, long, FormatMD, LangEN), s) {
		t.Errorf("long run lacks %q", s)
	}
}

// Durations read as people write them, in both languages.
func TestHumanDurations(t *testing.T) {
	for _, tc := range []struct{ d, en, zh string }{
		{"5m", "5 min", "5 分鐘"},
		{"6m7.6s", "6 min 7.6 s", "6 分 7.6 秒"},
		{"1.833380398s", "1.8 s", "1.8 秒"},
		{"58.4s", "58.4 s", "58.4 秒"},
		{"0s", "0.0 s", "0.0 秒"},
		{"12ms", "12 ms", "12 ms"},
		{"300µs", "< 1 ms", "< 1 ms"},
		{"1h5m", "1 h 5 min", "1 小時 5 分鐘"},
		{"2h0m3s", "2 h 3.0 s", "2 小時 3.0 秒"},
	} {
		if got := Duration(dur(tc.d), LangEN); got != tc.en {
			t.Errorf("en %s = %q, want %q", tc.d, got, tc.en)
		}
		if got := Duration(dur(tc.d), LangZhTW); got != tc.zh {
			t.Errorf("zh-TW %s = %q, want %q", tc.d, got, tc.zh)
		}
	}
}

// Values a step kind wrote are shown in the report's zone and with human
// durations; other text stays as journaled.
func TestEvidenceValuesSpeakLikeTheReport(t *testing.T) {
	r := &Report{loc: mustZone(t, "Asia/Taipei")}
	l, err := newLocalizer(r, LangEN)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"5m0s":                                  "5 min",
		"1.833380398s":                          "1.8 s",
		"placement at 2026-12-02T05:49:02Z":     "placement at 2026-12-02 13:49:02.0 +08:00",
		"wait up to 5m0s for HA":                "wait up to 5 min for HA",
		"took 1.833380398s":                     "took 1.8 s",
		"4":                                     "4",
		"esx-68":                                "esx-68",
		"200ms":                                 "0.2 s",
		"wait 30s":                              "wait 30s",
		"sha256s":                               "sha256s",
		"2026-12-02T05:49:02.5+00:00 and later": "2026-12-02 13:49:02.5 +08:00 and later",
		// vcenter.ha.verify_restart's seen-off / powered-on cells.
		"2026-12-02T07:37:14.483Z": "2026-12-02 15:37:14.4 +08:00",
	} {
		if got := l.Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Timeline ticks of a short run carry tenths so no two read the same, and
// the recovery label of a run that recovers at its very end is anchored
// to stay inside the picture.
func TestTimelineTicksAndLabels(t *testing.T) {
	end, to := drillStart.Add(2*time.Second), drillStart.Add(1990*time.Millisecond)
	measured := dur("1.9s")
	r := &Report{Cover: Cover{Start: drillStart, End: &end}, loc: time.UTC,
		Steps:   []Step{{ID: "cut", Status: journal.StatusOK, Start: tp(drillStart.Add(90 * time.Millisecond)), End: &to}},
		Summary: Summary{Recovery: &Recovery{From: drillStart.Add(90 * time.Millisecond), To: &to, Measured: &measured}}}
	l, _ := newLocalizer(r, LangEN)
	tl := buildTimeline(r, l)
	seen := map[string]bool{}
	for _, tk := range tl.Ticks {
		if seen[tk.Label] {
			t.Errorf("two ticks read %q: %+v", tk.Label, tl.Ticks)
		}
		seen[tk.Label] = true
	}
	if len(tl.Ticks) < 3 {
		t.Errorf("only %d ticks", len(tl.Ticks))
	}
	for _, m := range tl.Marks {
		x, _ := strconv.ParseFloat(m.X, 64)
		w := labelWidth(m.Label)
		if (m.Anchor == "start" && x+w > tlWidth) || (m.Anchor == "end" && x-w < 0) {
			t.Errorf("mark %q at x=%v anchored %s runs out of the picture", m.Label, x, m.Anchor)
		}
		if y, _ := strconv.ParseFloat(m.LabelY, 64); y < 10 {
			t.Errorf("mark %q at y=%v is cut at the top", m.Label, y)
		}
	}
}

// zh-TW keeps outage (停機) and interruption (執行中斷) apart, and a
// disruptive step (破壞性) is neither.
func TestZhTWOutageAndInterruptionDiffer(t *testing.T) {
	for _, k := range []string{"outages", "outage_windows", "down_at_end", "total_downtime"} {
		if zh := catalog[k][1]; !strings.Contains(zh, "停機") || strings.Contains(zh, "中斷") {
			t.Errorf("%s = %q: an outage is 停機", k, zh)
		}
	}
	for _, k := range []string{"status.interrupted", "result.interrupted", "action.interrupt"} {
		if zh := catalog[k][1]; zh != "執行中斷" {
			t.Errorf("%s = %q: an interruption is 執行中斷", k, zh)
		}
	}
	if zh := catalog["disruptive"][1]; strings.Contains(zh, "中斷") || strings.Contains(zh, "停機") {
		t.Errorf("disruptive = %q", zh)
	}
}

// One verdict: a journal that does not verify beats everything, a recorded
// failure stays one, a passed run fails on a missed or unmeasurable RTO.
func TestVerdict(t *testing.T) {
	yes, no := true, false
	d := dur("6m7.6s")
	for _, tc := range []struct {
		name   string
		r      Report
		want   string
		reason string
	}{
		{"passed", Report{Cover: Cover{RecordedResult: "passed"}}, "passed", ""},
		{"rto met", Report{Cover: Cover{RecordedResult: "passed"}, Summary: Summary{RTO: dur("5m"), Recovery: &Recovery{Measured: &d, Met: &yes}}}, "passed", ""},
		{"rto missed", Report{Cover: Cover{RecordedResult: "passed"}, Summary: Summary{RTO: dur("5m"), Recovery: &Recovery{Measured: &d, Met: &no}}}, "failed", ReasonRTOExceeded},
		{"not recovered", Report{Cover: Cover{RecordedResult: "passed"}, Summary: Summary{Recovery: &Recovery{Pending: []string{"monitor:web"}}}}, "failed", ReasonNotRecovered},
		{"nothing to measure, no objective", Report{Cover: Cover{RecordedResult: "passed"}, Summary: Summary{Recovery: &Recovery{Pending: []string{"none-declared"}}}}, "passed", ""},
		{"nothing to measure an objective by", Report{Cover: Cover{RecordedResult: "passed"}, Summary: Summary{RTO: dur("5m"), Recovery: &Recovery{Pending: []string{"none-declared"}}}}, "failed", ReasonNotRecovered},
		{"aborted", Report{Cover: Cover{RecordedResult: "aborted"}, Summary: Summary{RTO: dur("5m"), Recovery: &Recovery{Measured: &d, Met: &no}}}, "aborted", ""},
		{"no end", Report{Cover: Cover{RecordedResult: ResultIncomplete}}, ResultIncomplete, ""},
		{"chain broken", Report{Cover: Cover{RecordedResult: "passed"}, Integrity: Integrity{ChainChecked: true, ChainError: "line 5"}}, VerdictNotVerified, ReasonIntegrity},
		{"bad signature", Report{Cover: Cover{RecordedResult: "passed"}, Integrity: Integrity{ChainChecked: true, ChainVerified: true, Signature: &SignatureStatus{Problem: "x"}}}, VerdictNotVerified, ReasonIntegrity},
		{"unchecked", Report{Cover: Cover{RecordedResult: "passed"}}, "passed", ""},
	} {
		got, reasons := Verdict(&tc.r)
		if got != tc.want || strings.Join(reasons, ",") != tc.reason {
			t.Errorf("%s: verdict %s %v, want %s %s", tc.name, got, reasons, tc.want, tc.reason)
		}
	}
}

// A skipped disruptive step starts no recovery clock: nothing was
// disrupted, so the skipped recovery steps after it are no failure. One
// done by hand did disrupt, and starts it.
func TestSkippedDisruptionMeasuresNoRecovery(t *testing.T) {
	for status, wantClock := range map[string]bool{journal.StatusSkipped: false, journal.StatusManual: true} {
		dir := t.TempDir()
		j := newJournal(t, dir)
		j.add(drillStart, "", journal.Event{RunStart: &journal.RunStart{RunID: "s", Runbook: "s", RTO: dur("5m"),
			Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}, {ID: "back", Kind: "k", Recovery: true}}}})
		at := drillStart.Add(time.Second)
		j.add(at, "cut", journal.Event{StepFinish: &journal.StepFinish{Status: status, Started: at, Finished: at, Reason: "not tonight"}})
		j.add(at, "back", journal.Event{StepFinish: &journal.StepFinish{Status: journal.StatusSkipped, Started: at, Finished: at, Reason: "when: false"}})
		j.add(at, "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
		j.close()
		r := buildRun(t, dir)
		if got := r.Summary.Recovery != nil; got != wantClock {
			t.Errorf("%s disruptive step: recovery measured %v, want %v", status, got, wantClock)
		}
		if status == journal.StatusSkipped && r.Summary.Verdict != "passed" {
			t.Errorf("skipped disruption: verdict %s", r.Summary.Verdict)
		}
	}
}
