package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/drbook/drbook/journal"
)

// HistoryEntry is one earlier run's measurements, for comparing drills of
// the same runbook over the years.
type HistoryEntry struct {
	RunID          string `json:"run_id"`
	RunDir         string `json:"run_dir"`
	Runbook        string `json:"runbook"`
	RunbookVersion string `json:"runbook_version,omitempty"`
	RunbookSHA256  string `json:"runbook_sha256,omitempty"`
	Site           string `json:"site,omitempty"`
	Mode           string `json:"mode,omitempty"`
	// LabSpeed is the run's Cover.LabSpeed: its durations times LabSpeed
	// are the simulated site's time.
	LabSpeed    float64           `json:"lab_speed,omitempty"`
	Start       time.Time         `json:"start"`
	Result      string            `json:"result"`
	RTO         journal.Duration  `json:"rto,omitempty"`
	RTOMeasured *journal.Duration `json:"rto_measured,omitempty"`
	RTOMet      *bool             `json:"rto_met,omitempty"`
	Downtime    []ServiceTotal    `json:"downtime"`
	// Verified is false when the journal's hash chain does not verify; the
	// numbers are then shown but not to be relied on.
	Verified bool `json:"verified"`
	// Problem says why a run could not be read (the other fields are then
	// mostly empty).
	Problem string `json:"problem,omitempty"`
}

// ServiceTotal is one monitored service's downtime in a run.
type ServiceTotal struct {
	Name       string           `json:"name"`
	Total      journal.Duration `json:"total"`
	Outages    int              `json:"outages"`
	Resolution journal.Duration `json:"resolution"`
	DownAtEnd  bool             `json:"down_at_end,omitempty"`
}

// History lists the runs under runsDir (each a directory holding a
// journal) of the named runbook, oldest first; runbook "" lists every run.
// A run whose journal cannot be read is listed with its Problem rather than
// hiding the rest.
func History(runsDir, runbook string) ([]HistoryEntry, error) {
	return history(runsDir, runbook, "", nil)
}

// HistoryOf lists, like History, the runs of r's runbook in the folder
// that holds runDir, r's own run directory; r serves as its own entry
// rather than being read and built a second time. runDir may end in a
// slash, as shell completion writes it.
func (r *Report) HistoryOf(runDir string) ([]HistoryEntry, error) {
	runDir = filepath.Clean(runDir)
	return history(filepath.Dir(runDir), r.Cover.Runbook, runDir, r)
}

// history is History; built, when set, is the report of the run in
// builtDir.
func history(runsDir, runbook, builtDir string, built *Report) ([]HistoryEntry, error) {
	dirs, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, fmt.Errorf("history: %w; give the folder that holds the run directories", err)
	}
	var out []HistoryEntry
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		runDir := filepath.Join(runsDir, d.Name())
		if _, err := os.Stat(filepath.Join(runDir, journal.FileName)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		var e HistoryEntry
		if built != nil && runDir == builtDir {
			e = built.historyEntry(runDir)
		} else {
			e = historyEntry(runDir)
		}
		if runbook != "" && e.Runbook != runbook && e.Problem == "" {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].RunDir < out[j].RunDir
	})
	return out, nil
}

func historyEntry(runDir string) HistoryEntry {
	e := HistoryEntry{RunDir: runDir}
	r, err := ReadRun(runDir)
	if err != nil {
		e.Problem = err.Error()
		return e
	}
	return r.historyEntry(runDir)
}

func (r *Report) historyEntry(runDir string) HistoryEntry {
	e := HistoryEntry{
		RunID: r.Cover.RunID, RunDir: runDir, Runbook: r.Cover.Runbook, RunbookVersion: r.Cover.RunbookVersion,
		RunbookSHA256: r.Cover.RunbookSHA256, Site: r.Cover.Site, Mode: r.Cover.Mode, LabSpeed: r.Cover.LabSpeed, Start: r.Cover.Start,
		Result: r.Cover.Result, RTO: r.Summary.RTO, Verified: r.Integrity.ChainVerified,
		Downtime: []ServiceTotal{},
	}
	if rec := r.Summary.Recovery; rec != nil {
		e.RTOMeasured, e.RTOMet = rec.Measured, rec.Met
	}
	for _, m := range r.Monitors {
		e.Downtime = append(e.Downtime, ServiceTotal{Name: m.Name, Total: m.Total, Outages: len(m.Windows), Resolution: m.Resolution, DownAtEnd: m.DownAtEnd})
	}
	return e
}
