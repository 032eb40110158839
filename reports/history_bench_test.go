package reports

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// historyRunsFolder is a runs folder holding a 1-step run of runbook
// "small" (its last entry, started last) next to large runs of runbook
// "big", started earlier, and earlier small runs.
func historyRunsFolder(tb testing.TB, large, steps, small int, indexed bool) (runs, last string) {
	tb.Helper()
	runs = tb.TempDir()
	index := func(dir string) {
		if indexed {
			if err := WriteIndex(dir, buildRun(tb, dir)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for i := 0; i < large; i++ {
		dir := filepath.Join(runs, "big-"+strconv.Itoa(i))
		os.Mkdir(dir, 0o755)
		writeLargeJournalIn(tb, dir, "big", drillStart.Add(time.Duration(i)*time.Hour), steps)
		index(dir)
	}
	for i := 0; i <= small; i++ {
		last = filepath.Join(runs, "small-"+strconv.Itoa(i))
		os.Mkdir(last, 0o755)
		writeLargeJournalIn(tb, last, "small", drillStart.AddDate(0, 0, 1+i), 1)
		index(last)
	}
	return runs, last
}

// historyReadingEverything is how the history was found before: every run
// in the folder read, verified and built, then filtered by runbook. It is
// the peer the benchmark compares with.
func historyReadingEverything(runsDir, runbook string) []HistoryEntry {
	dirs, _ := os.ReadDir(runsDir)
	var out []HistoryEntry
	for _, d := range dirs {
		e := historyEntry(filepath.Join(runsDir, d.Name()))
		if e.Runbook == runbook {
			out = append(out, e)
		}
	}
	return out
}

// BenchmarkHistoryOfSmallRun finds the history of a 1-step run next to 10
// runs of 2,000 steps of another runbook: "index" chooses the runs by the
// index file each run directory holds, "first-line" (runs without one) by
// each journal's first line, and "read-all" (the old way) reads, verifies
// and builds every run before filtering. Compare them in one run:
//
//	go test ./reports -run '^$' -bench HistoryOfSmallRun -benchtime 20x
func BenchmarkHistoryOfSmallRun(b *testing.B) {
	for _, indexed := range []bool{true, false} {
		runs, last := historyRunsFolder(b, 10, 2000, 1, indexed)
		r := buildRun(b, last)
		name := "first-line"
		if indexed {
			name = "index"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				h, err := r.HistoryOf(last)
				if err != nil || len(h) != 1 {
					b.Fatalf("%v %d", err, len(h))
				}
			}
		})
		if !indexed {
			b.Run("read-all", func(b *testing.B) {
				for b.Loop() {
					if h := historyReadingEverything(runs, "small"); len(h) != 2 {
						b.Fatalf("%d", len(h))
					}
				}
			})
		}
	}
}

// TestHistoryReadsOnlyMatchingRuns: the history of a small run does not
// depend on the large runs of another runbook beside it. A large run whose
// body is not valid JSON beyond its first line would make any reader of the
// whole journal fail; the history neither reads nor reports it, while
// History of that runbook does report it.
func TestHistoryReadsOnlyMatchingRuns(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		runs, last := historyRunsFolder(t, 2, 50, 1, indexed)
		path := filepath.Join(runs, "big-0", "journal.jsonl")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, append(data, []byte("{broken\n")...), 0o600)
		r := buildRun(t, last)
		h, err := r.HistoryOf(last)
		if err != nil || len(h) != 1 || h[0].Runbook != "small" || h[0].Problem != "" || !h[0].Verified {
			t.Fatalf("indexed %v: history of the small run: %v %+v", indexed, err, h)
		}
		big, err := History(runs, "big")
		if err != nil || len(big) != 2 {
			t.Fatalf("history of big: %v %+v", err, big)
		}
		if big[0].Problem == "" && big[1].Problem == "" {
			t.Errorf("the broken big run is not reported: %+v", big)
		}
	}
	// An index that lies cannot put a run into the wrong history: the
	// chosen run's own journal decides.
	runs, last := historyRunsFolder(t, 1, 5, 1, true)
	os.WriteFile(filepath.Join(runs, "big-0", IndexFileName), []byte(`{"schema":"drbook.run-index/v1","runbook":"small","start":"2000-01-01T00:00:00Z"}`+"\n"), 0o644)
	h, err := buildRun(t, last).HistoryOf(last)
	if err != nil || len(h) != 1 || h[0].Runbook != "small" {
		t.Errorf("a lying index put a run in the history: %+v", h)
	}
}
