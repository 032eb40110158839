package reports

import (
	"io"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// writeLargeJournal journals a run of n steps, each with a start, a facts
// evidence and a finish, and a monitor outage in the middle.
func writeLargeJournal(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	writeLargeJournalIn(tb, dir, "big", drillStart, n)
	return dir
}

// writeLargeJournalIn is writeLargeJournal into dir, for a runbook and start.
func writeLargeJournalIn(tb testing.TB, dir, runbook string, drillStart time.Time, n int) {
	tb.Helper()
	j := newJournal(tb, dir)
	plan := make([]journal.PlannedStep, n)
	for i := range plan {
		plan[i] = journal.PlannedStep{ID: "step" + strconv.Itoa(i), Name: text("Step "+strconv.Itoa(i), "步驟 "+strconv.Itoa(i)),
			Kind: "ssh.exec", Block: "steps", Expect: dur("1s"), Disruptive: i == n/2, Recovery: i == n/2+10}
	}
	j.add(drillStart, "", journal.Event{RunStart: &journal.RunStart{RunID: filepath.Base(dir), Runbook: runbook, RTO: dur("5m"), Steps: plan}})
	j.add(drillStart, "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "up", Since: drillStart, Resolution: dur("1s")}})
	t := drillStart
	for i := 0; i < n; i++ {
		id := plan[i].ID
		d := time.Duration(500+i%1000) * time.Millisecond
		j.step(id, "ssh.exec", "host"+strconv.Itoa(i%30), t, t.Add(d), 1, journal.StatusOK, journal.StepFinish{},
			journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceFacts, Title: "exit",
				Facts: []journal.Fact{{Key: "exit_code", Value: "0"}, {Key: "bytes", Value: strconv.Itoa(i * 17)}}}})
		if i == n/2 {
			j.add(t, "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "down", Since: t, Resolution: dur("1s")}})
		}
		if i == n/2+5 {
			j.add(t, "", journal.Event{Monitor: &journal.Monitor{Name: "web", State: "up", Since: t, Resolution: dur("1s")}})
		}
		t = t.Add(d)
	}
	j.add(t, "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
	j.close()
}

// BenchmarkRenderHTML10kSteps renders a 10,000-step report to HTML.
func BenchmarkRenderHTML10kSteps(b *testing.B) {
	r := buildRun(b, writeLargeJournal(b, 10000))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := Render(io.Discard, r, FormatHTML, LangEN); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBuildRenderHTML10kSteps is the whole `drbook report` path:
// read the journal, build the model (which verifies the hash chain and any
// signature, journal.VerifyRun), render HTML.
func BenchmarkReadBuildRenderHTML10kSteps(b *testing.B) {
	dir := writeLargeJournal(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		log, err := journal.ReadFile(filepath.Join(dir, journal.FileName))
		if err != nil {
			b.Fatal(err)
		}
		r, err := Build(log, dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := Render(io.Discard, r, FormatHTML, LangEN); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLargeRunTimelineIsPacked keeps a 10,000-step timeline a picture, not
// ten thousand rows.
func TestLargeRunTimelineIsPacked(t *testing.T) {
	r := buildRun(t, writeLargeJournal(t, 500))
	l, _ := newLocalizer(r, LangEN)
	tl := buildTimeline(r, l)
	if !tl.Packed || tl.Lanes != 1 || len(tl.Rows) != 2 {
		t.Fatalf("packed=%v lanes=%d rows=%d", tl.Packed, tl.Lanes, len(tl.Rows))
	}
	if rec := r.Summary.Recovery; rec == nil || rec.Measured == nil {
		t.Fatalf("recovery not measured on the large run: %+v", rec)
	}
}
