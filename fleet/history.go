package fleet

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// HistoryReport is the drills found under a folder: every run (of every
// site, fleet or single run) and a line per site, runbook and year.
type HistoryReport struct {
	Runs  []reports.HistoryEntry `json:"runs"`
	Years []YearRow              `json:"years"`
}

// YearRow sums one site's runs of one runbook in one calendar year (in
// the run's own time zone is not known here: UTC).
type YearRow struct {
	Site    string `json:"site"`
	Runbook string `json:"runbook"`
	Year    int    `json:"year"`
	Runs    int    `json:"runs"`
	Passed  int    `json:"passed"`
	// RTOMissed counts the runs whose objective was missed or that never
	// recovered.
	RTOMissed int `json:"rto_missed"`
	// Fastest, Median and Slowest are the measured recoveries.
	Fastest  *journal.Duration `json:"fastest,omitempty"`
	Median   *journal.Duration `json:"median,omitempty"`
	Slowest  *journal.Duration `json:"slowest,omitempty"`
	Downtime []ServiceWorst    `json:"downtime"`
}

// ServiceWorst is a service's longest downtime in a year's runs.
type ServiceWorst struct {
	Name  string           `json:"name"`
	Worst journal.Duration `json:"worst"`
}

// maxDepth bounds how deep History looks: FLEETS/FLEET/SITE/RUN is 3.
const maxDepth = 4

// History finds every run directory under dir, at most a few levels down
// (a runs folder, a fleet directory, a folder of fleets), and lists their
// measurements through reports.History, each journal's chain verified;
// runbook, when set, keeps only its runs.
func History(dir, runbook string) (*HistoryReport, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	var folders []string
	seen := map[string]bool{}
	root := filepath.Clean(dir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // an unreadable corner does not hide the rest
		}
		if !d.IsDir() {
			return nil
		}
		if depth(root, path) > maxDepth {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, journal.FileName)); err == nil {
			if parent := filepath.Dir(path); !seen[parent] {
				seen[parent] = true
				folders = append(folders, parent)
			}
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h := &HistoryReport{Runs: []reports.HistoryEntry{}, Years: []YearRow{}}
	for _, f := range folders {
		runs, err := reports.History(f, runbook)
		if err != nil {
			return nil, err
		}
		h.Runs = append(h.Runs, runs...)
	}
	sort.SliceStable(h.Runs, func(i, j int) bool {
		a, b := h.Runs[i], h.Runs[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.RunDir < b.RunDir
	})
	h.years()
	return h, nil
}

func depth(root, path string) int {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return 0
	}
	return strings.Count(rel, string(filepath.Separator)) + 1
}

func (h *HistoryReport) years() {
	type key struct {
		site, runbook string
		year          int
	}
	rows := map[key]*YearRow{}
	measured := map[key][]SiteFigure{}
	var order []key
	for _, e := range h.Runs {
		if e.Problem != "" {
			continue
		}
		k := key{e.Site, e.Runbook, yearOf(e)}
		row := rows[k]
		if row == nil {
			row = &YearRow{Site: e.Site, Runbook: e.Runbook, Year: k.year, Downtime: []ServiceWorst{}}
			rows[k] = row
			order = append(order, k)
		}
		row.Runs++
		if e.Result == "passed" && e.Verified {
			row.Passed++
		}
		if e.RTO > 0 && (e.RTOMeasured == nil || (e.RTOMet != nil && !*e.RTOMet)) {
			row.RTOMissed++
		}
		if e.RTOMeasured != nil {
			measured[k] = append(measured[k], SiteFigure{Site: e.Site, Duration: *e.RTOMeasured})
		}
		for _, d := range e.Downtime {
			found := false
			for i := range row.Downtime {
				if row.Downtime[i].Name == d.Name {
					found = true
					row.Downtime[i].Worst = max(row.Downtime[i].Worst, d.Total)
				}
			}
			if !found {
				row.Downtime = append(row.Downtime, ServiceWorst{Name: d.Name, Worst: d.Total})
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if a.site != b.site {
			return a.site < b.site
		}
		if a.runbook != b.runbook {
			return a.runbook < b.runbook
		}
		return a.year < b.year
	})
	for _, k := range order {
		row := rows[k]
		if m := measured[k]; len(m) > 0 {
			sort.SliceStable(m, func(i, j int) bool { return m[i].Duration < m[j].Duration })
			fast, slow, med := m[0].Duration, m[len(m)-1].Duration, median(m)
			row.Fastest, row.Slowest, row.Median = &fast, &slow, &med
		}
		h.Years = append(h.Years, *row)
	}
}

// RenderHistoryJSON writes h as JSON.
func RenderHistoryJSON(w io.Writer, h *HistoryReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(h); err != nil {
		return fmt.Errorf("fleet history: %w", err)
	}
	return nil
}

// yearOf is the year e started in, in its runbook's zone (the zone its
// report and the runs listings show) when it names one, else in UTC: a
// drill on 31 December evening in Taipei counts in the year Taipei saw.
func yearOf(e reports.HistoryEntry) int {
	if e.TimeZone != "" {
		if loc, err := time.LoadLocation(e.TimeZone); err == nil {
			return e.Start.In(loc).Year()
		}
	}
	return e.Start.UTC().Year()
}
