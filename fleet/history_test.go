package fleet

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHistoryAcrossSitesAndYears: a folder holding a fleet and a copy of
// one site's run dated a year earlier lists every run, and sums them per
// site, runbook and year with their measured recoveries.
func TestHistoryAcrossSitesAndYears(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "fleets", "lab3"), os.DirFS(filepath.Join("testdata", "lab3"))); err != nil {
		t.Fatal(err)
	}
	// Another folder, not a fleet: the same journal is a run of 2026 at
	// sanchong-lab again (History reads each run's own journal).
	src := filepath.Join("testdata", "lab3", "sanchong-lab", "20261202T122441Z-ha-host-failure")
	if err := os.CopyFS(filepath.Join(dir, "runs", "again"), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	h, err := History(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Runs) != 4 {
		t.Fatalf("%d runs, want 4: %+v", len(h.Runs), h.Runs)
	}
	want := map[string][3]int{"sanchong-lab": {2, 2, 0}, "banqiao-lab": {1, 1, 0}, "tamsui-lab": {1, 0, 1}}
	if len(h.Years) != 3 {
		t.Fatalf("%d year rows, want 3: %+v", len(h.Years), h.Years)
	}
	for _, y := range h.Years {
		w := want[y.Site]
		if y.Year != 2026 || y.Runbook != "ha-host-failure" || y.Runs != w[0] || y.Passed != w[1] || y.RTOMissed != w[2] {
			t.Errorf("%s: %+v, want runs/passed/missed %v", y.Site, y, w)
		}
		if (y.Fastest == nil) != (y.Site == "tamsui-lab") {
			t.Errorf("%s: fastest %v", y.Site, y.Fastest)
		}
	}
	if y := h.Years[1]; y.Site != "sanchong-lab" || y.Fastest.D() != y.Slowest.D() || y.Fastest.D() < 3*time.Second {
		t.Errorf("sanchong-lab's two runs of the same journal: %+v", y)
	}
	only, err := History(dir, "another")
	if err != nil || len(only.Runs) != 0 {
		t.Errorf("--runbook another: %v, %+v", err, only)
	}
}
