package reports

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

func buildRun(t testing.TB, dir string) *Report {
	t.Helper()
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildMeasuresTheDrill(t *testing.T) {
	dir := writeDrillJournal(t)
	r := buildRun(t, dir)

	rec := r.Summary.Recovery
	if rec == nil || rec.Measured == nil {
		t.Fatalf("recovery not measured: %+v", rec)
	}
	// From the start of "shut" (2m30s) until services_back is done
	// (3m50.2s): every monitor was up again before that.
	if got, want := rec.Measured.D(), 80200*time.Millisecond; got != want {
		t.Errorf("recovery time %v, want %v", got, want)
	}
	if rec.FromStep != "shut" || rec.Until != "step:services_back" || rec.Met == nil || !*rec.Met {
		t.Errorf("recovery %+v", rec)
	}
	if rec.Resolution.D() != time.Second {
		t.Errorf("resolution %v, want the coarsest probe interval 1s", rec.Resolution)
	}

	want := map[string]time.Duration{"ap-web": 58400 * time.Millisecond, "db-tcp": 38 * time.Second}
	for _, m := range r.Monitors {
		if len(m.Windows) != 1 || m.Total.D() != want[m.Name] {
			t.Errorf("monitor %s: %d windows, total %v; want 1 window of %v", m.Name, len(m.Windows), m.Total, want[m.Name])
		}
	}
	if len(r.Monitors) != 2 {
		t.Fatalf("%d monitors", len(r.Monitors))
	}

	if r.Summary.HumanWait.D() != 4*time.Minute+45*time.Second {
		t.Errorf("human wait %v", r.Summary.HumanWait)
	}
	if sum := r.Summary; sum.Automated+sum.HumanWait+sum.Gaps != sum.WallClock || sum.Automated < 0 || sum.Gaps < 0 {
		t.Errorf("wall clock %v is not automated %v + human %v + gaps %v", sum.WallClock, sum.Automated, sum.HumanWait, sum.Gaps)
	}

	var ids []string
	for _, s := range r.Steps {
		ids = append(ids, s.ID+"="+s.Status)
	}
	if got := strings.Join(ids, " "); got != "placement_before=ok shut=ok ha=ok services_back=ok fix[0]=ok fix[1]=ok archive=ok tell_users=done-by-hand gis_check=skipped rollback=not-run power_on=ok" {
		t.Errorf("steps in order: %s", got)
	}

	var devs []string
	for _, d := range r.Summary.Deviations {
		devs = append(devs, d.Kind+":"+d.Step)
	}
	if got := strings.Join(devs, " "); got != "accepted-new-key:archive over-expect:ha retried:services_back over-expect:archive done-by-hand:tell_users skipped:gis_check" {
		t.Errorf("deviations: %s", got)
	}

	ha := r.Steps[2]
	if !ha.OverExpect || len(ha.Evidence) != 3 {
		t.Errorf("ha step: over=%v evidence=%d", ha.OverExpect, len(ha.Evidence))
	}
	arch := r.Steps[6]
	if a := arch.Evidence[0].StdoutArtifact; a == nil || a.SHA256 != "3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8551" {
		t.Errorf("transcript artifact not resolved: %+v", a)
	}
	if r.Steps[7].ConfirmedBy[0] != "chen.wl" || r.Steps[1].ConfirmedBy[0] != "chen.wl" {
		t.Error("who confirmed is missing")
	}
	if len(r.Trust) != 4 {
		t.Errorf("%d trust entries", len(r.Trust))
	}

	// The report's final hash is the writer's: it pins the journal's end.
	res, err := journal.VerifyRun(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Integrity.ChainVerified || r.Integrity.FinalHash != res.Head || r.Integrity.Lines != res.Lines {
		t.Errorf("integrity %+v, journal head %s", r.Integrity, res.Head)
	}
}

func TestRecoveryNotReachedAndRTOExceeded(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir)
	j.add(at("0s"), "", journal.Event{RunStart: &journal.RunStart{RunID: "r", Runbook: "rb", RTO: dur("30s"),
		Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}, {ID: "mend", Kind: "k", Recovery: true}}}})
	j.add(at("1s"), "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "up", Since: at("1s"), Resolution: dur("1s")}})
	j.step("cut", "k", "", at("10s"), at("11s"), 1, journal.StatusOK, journal.StepFinish{})
	j.add(at("12s"), "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "down", Since: at("12s"), Resolution: dur("1s")}})
	j.step("mend", "k", "", at("13s"), at("50s"), 1, journal.StatusOK, journal.StepFinish{})
	j.add(at("55s"), "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "up", Since: at("55s"), Resolution: dur("1s")}})
	j.add(at("56s"), "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
	j.close()
	r := buildRun(t, dir)
	rec := r.Summary.Recovery
	if rec.Measured == nil || rec.Measured.D() != 45*time.Second || *rec.Met || rec.Until != "monitor:web" {
		t.Fatalf("recovery %+v", rec)
	}
	if r.Summary.Deviations[len(r.Summary.Deviations)-1].Kind != DevRTOExceeded {
		t.Errorf("deviations %+v", r.Summary.Deviations)
	}

	// The same run cut off while the service is down and the recovery
	// step is running: not recovered, the step interrupted.
	dir2 := t.TempDir()
	j = newJournal(t, dir2)
	j.add(at("0s"), "", journal.Event{RunStart: &journal.RunStart{RunID: "r", Runbook: "rb", RTO: dur("30s"),
		Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}, {ID: "mend", Kind: "k", Recovery: true}}}})
	j.step("cut", "k", "", at("10s"), at("11s"), 1, journal.StatusOK, journal.StepFinish{})
	j.add(at("12s"), "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "down", Since: at("12s"), Resolution: dur("1s")}})
	j.add(at("13s"), "mend", journal.Event{StepStart: &journal.StepStart{Kind: "k", Attempt: 1}})
	j.add(at("20s"), "", journal.Event{Note: &journal.Note{Level: "warn", Text: "power cut"}})
	j.close()
	r = buildRun(t, dir2)
	if r.Cover.Result != ResultIncomplete || r.Steps[1].Status != journal.StatusInterrupted || r.Steps[1].Duration.D() != 7*time.Second {
		t.Errorf("result %s, mend %s %v", r.Cover.Result, r.Steps[1].Status, r.Steps[1].Duration)
	}
	if rec := r.Summary.Recovery; rec.Measured != nil || strings.Join(rec.Pending, " ") != "monitor:web step:mend" {
		t.Errorf("recovery %+v", rec)
	}
	if !r.Monitors[0].DownAtEnd || r.Monitors[0].Total.D() != 8*time.Second {
		t.Errorf("open outage %+v", r.Monitors[0])
	}
}

func TestBuildDoesNotAlterTheLog(t *testing.T) {
	dir := t.TempDir()
	j := newJournal(t, dir)
	j.add(at("0s"), "", journal.Event{RunStart: &journal.RunStart{RunID: "r", Runbook: "rb", Params: map[string]any{"x": "a\x1bb"}}})
	j.step("s", "k", "", at("1s"), at("2s"), 1, journal.StatusOK, journal.StepFinish{},
		journal.Event{Evidence: &journal.Evidence{Kind: "table", Title: "t", Table: &journal.Table{Columns: []string{"c"}, Rows: [][]string{{"bell\a"}}}}})
	j.close()
	log, err := journal.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(log, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Steps[0].Evidence[0].Table.Rows[0][0]; got != "bell␇" {
		t.Errorf("report cell %q", got)
	}
	if got := r.Cover.Params["x"]; got != "a␛b" {
		t.Errorf("report param %q", got)
	}
	if log.Events[1].Type != journal.TypeStepStart || log.Events[2].Evidence.Table.Rows[0][0] != "bell\a" || log.Events[0].RunStart.Params["x"] != "a\x1bb" {
		t.Error("Build changed the journal it was given")
	}
	if r.Integrity.ChainChecked {
		t.Error("no run directory, yet the chain is reported as checked")
	}
}

func TestBuildRejectsNonJournal(t *testing.T) {
	if _, err := Build(&journal.Log{}, ""); err == nil {
		t.Error("empty journal accepted")
	}
	if _, err := Build(&journal.Log{Events: []journal.Event{{Type: journal.TypeNote}}}, ""); err == nil || !strings.Contains(err.Error(), "run.start") {
		t.Errorf("journal without run.start: %v", err)
	}
}
