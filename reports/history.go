package reports

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	LabSpeed float64   `json:"lab_speed,omitempty"`
	Start    time.Time `json:"start"`
	// TimeZone is the zone the run's report shows its times in (its
	// runbook's timezone label), or "" when it has none and the report
	// uses UTC.
	TimeZone    string            `json:"time_zone,omitempty"`
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
//
// Only the first line (run.start) of each journal is read to choose the
// runs, so the cost grows with the matching runs, not with the folder: a
// matching run is then read in full, its hash chain verified and its report
// built, and its entry says whether it verified. A run of another runbook is
// not verified; an edited run.start could move a run out of (never into
// unverified) history.
func History(runsDir, runbook string) ([]HistoryEntry, error) {
	return history(runsDir, runbook, nil)
}

// HistoryOf lists the runs of r's runbook that started before r, in the
// folder that holds runDir, r's own run directory: the history a report
// shows, which depends only on what preceded the run, so re-rendering an
// old run's report gives the same table. runDir may end in a slash, as
// shell completion writes it.
func (r *Report) HistoryOf(runDir string) ([]HistoryEntry, error) {
	runDir = filepath.Clean(runDir)
	return history(filepath.Dir(runDir), r.Cover.Runbook, func(dir string, start time.Time) bool {
		return dir != runDir && start.Before(r.Cover.Start)
	})
}

// history is History; keep, when set, further chooses the runs by their
// directory and start time.
func history(runsDir, runbook string, keep func(dir string, start time.Time) bool) ([]HistoryEntry, error) {
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
		name, at, err := runOf(runDir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			if keep == nil {
				out = append(out, HistoryEntry{RunDir: runDir, Problem: err.Error()})
			}
			continue
		case runbook != "" && name != runbook:
			continue
		case keep != nil && !keep(runDir, at):
			continue
		}
		e := historyEntry(runDir)
		if e.Problem == "" && ((runbook != "" && e.Runbook != runbook) || (keep != nil && !keep(runDir, e.Start))) {
			// A stale or edited index chose this run: its journal, just
			// read, says what it is.
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

// IndexFileName is the small file a finished run's directory holds
// (written with its reports) so that choosing runs by runbook reads a few
// bytes per run, not its journal.
const IndexFileName = "run-index.json"

// runIndex is the content of IndexFileName. It only chooses which runs a
// history reads: it is not trusted for anything else, and every chosen run
// is read from its own journal, chain verified.
type runIndex struct {
	Schema  string    `json:"schema"`
	RunID   string    `json:"run_id"`
	Runbook string    `json:"runbook"`
	Start   time.Time `json:"start"`
}

const indexSchema = "drbook.run-index/v1"

// WriteIndex writes runDir's IndexFileName for the report r built from it.
func WriteIndex(runDir string, r *Report) error {
	b, err := json.Marshal(runIndex{Schema: indexSchema, RunID: r.Cover.RunID, Runbook: r.Cover.Runbook, Start: r.Cover.Start})
	if err != nil {
		return err
	}
	// Private like the rest of the run directory.
	return os.WriteFile(filepath.Join(runDir, IndexFileName), append(b, '\n'), 0o600)
}

// runOf says which runbook the run in runDir is of and when it began: from
// its index file when there is a readable one, else from the first line of
// its journal.
func runOf(runDir string) (string, time.Time, error) {
	if _, err := os.Stat(filepath.Join(runDir, journal.FileName)); err != nil {
		return "", time.Time{}, err
	}
	if b, err := os.ReadFile(filepath.Join(runDir, IndexFileName)); err == nil {
		var ix runIndex
		if json.Unmarshal(b, &ix) == nil && ix.Schema == indexSchema && ix.Runbook != "" {
			return ix.Runbook, ix.Start, nil
		}
	}
	line, err := journalFirstLine(runDir)
	if err != nil {
		return "", time.Time{}, err
	}
	// Only the two fields: the planned steps of a large run are skipped,
	// not decoded.
	var ev struct {
		Type     string    `json:"type"`
		Time     time.Time `json:"time"`
		RunStart *struct {
			Runbook string `json:"runbook"`
		} `json:"run_start"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return "", time.Time{}, fmt.Errorf("%s: journal line 1: %w", runDir, err)
	}
	if ev.Type != journal.TypeRunStart || ev.RunStart == nil {
		return "", time.Time{}, fmt.Errorf("%s: the journal does not begin with run.start", runDir)
	}
	return ev.RunStart.Runbook, ev.Time, nil
}

// journalFirstLine reads the first line of runDir's journal.
func journalFirstLine(runDir string) ([]byte, error) {
	f, err := os.Open(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadBytes('\n')
	switch {
	case err == nil || (errors.Is(err, io.EOF) && len(line) > 0):
		return line, nil
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s: the journal is empty", runDir)
	}
	return nil, fmt.Errorf("%s: %w", runDir, err)
}

// ReadRunStart reads only the first line of a run directory's journal,
// its run.start, and the time it was written: enough to tell which
// runbook a run is of and when it began without reading the rest. It
// verifies nothing. An error wrapping os.ErrNotExist means there is no
// journal.
func ReadRunStart(runDir string) (*journal.RunStart, time.Time, error) {
	line, err := journalFirstLine(runDir)
	if err != nil {
		return nil, time.Time{}, err
	}
	var ev journal.Event
	if err := json.Unmarshal(line, &ev); err != nil {
		return nil, time.Time{}, fmt.Errorf("%s: journal line 1: %w", runDir, err)
	}
	if ev.Type != journal.TypeRunStart || ev.RunStart == nil {
		return nil, time.Time{}, fmt.Errorf("%s: the journal does not begin with run.start", runDir)
	}
	return ev.RunStart, ev.Time, nil
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
		RunbookSHA256: r.Cover.RunbookSHA256, Site: r.Cover.Site, Mode: r.Cover.Mode, LabSpeed: r.Cover.LabSpeed, Start: r.Cover.Start, TimeZone: r.LabelledZone(),
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
