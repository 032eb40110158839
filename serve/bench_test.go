package serve

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/drbook/drbook/journal"
)

// BenchmarkListPage draws the list of 100 runs of the lab HA drill (the
// reports' golden run, 47 lines each): "cold" builds every report (a
// server's first view, or every journal changed), "warm" reuses them (no
// journal changed since the last view).
//
//	go test ./serve -run '^$' -bench ListPage -benchtime 20x
func BenchmarkListPage(b *testing.B) {
	j, err := os.ReadFile(filepath.Join("..", "reports", "testdata", "runs", "guided", journal.FileName))
	if err != nil {
		b.Fatal(err)
	}
	runs := b.TempDir()
	for i := range 100 {
		dir := filepath.Join(runs, fmt.Sprintf("run%03d", i))
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, journal.FileName), j, 0o600)
	}
	for _, warm := range []bool{false, true} {
		b.Run(map[bool]string{false: "cold", true: "warm"}[warm], func(b *testing.B) {
			s, err := New(Config{RunsDir: runs})
			if err != nil {
				b.Fatal(err)
			}
			if warm {
				s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://127.0.0.1/", nil))
			}
			for b.Loop() {
				if !warm {
					s.cache = snapshots{}
				}
				w := httptest.NewRecorder()
				s.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1/", nil))
				if w.Code != 200 {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
