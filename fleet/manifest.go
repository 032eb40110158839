// Package fleet is drbook's view of one drill run at many sites from one
// seat: the fleet manifest (which sites, which runs, who, when, with what
// tool), the fleet report built from each site's own journal, and the
// history of drills across sites and years.
//
// A fleet directory holds fleet.json and, for each site, a runs folder of
// its own (FLEET_DIR/SITE/RUN_ID/journal.jsonl, the same run directories
// `drbook run` makes), so `drbook verify`, `drbook report` and `drbook
// resume` work on each site's run unchanged. The manifest only says which
// runs belong to the fleet: every figure a fleet report shows is read from
// the site's journal, its hash chain verified, through package reports.
package fleet

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ManifestName is the manifest's file name in a fleet directory.
const ManifestName = "fleet.json"

// ManifestSchema names the manifest's JSON format.
const ManifestSchema = "drbook.fleet/v1"

// Site states a manifest records. A site whose run ended has its run's
// outcome (passed, failed, aborted, interrupted, paused) instead.
const (
	StatePending         = "pending"
	StateRunning         = "running"
	StatePreflightFailed = "preflight-failed"
	StateNotStarted      = "not-started"
	StateError           = "error"
)

// Manifest is the content of fleet.json.
type Manifest struct {
	Schema  string `json:"schema"`
	FleetID string `json:"fleet_id"`
	// Runbook is the runbook's name, RunbookPath the file given and
	// RunbookSHA256 its content's hash as each site's journal records it.
	Runbook       string `json:"runbook"`
	RunbookPath   string `json:"runbook_path"`
	RunbookSHA256 string `json:"runbook_sha256,omitempty"`
	// Operator, Machine and DrbookVersion say who ran the fleet, from
	// where, with which drbook.
	Operator      string `json:"operator"`
	Machine       string `json:"machine"`
	DrbookVersion string `json:"drbook_version"`
	// Mode is lab, drill or recovery, as in each run.start.
	Mode string `json:"mode"`
	// LabSpeed is the lab sites' time scale (lab mode only).
	LabSpeed    float64           `json:"lab_speed,omitempty"`
	Concurrency int               `json:"concurrency"`
	FailFast    bool              `json:"fail_fast,omitempty"`
	Unattended  bool              `json:"unattended"`
	Vars        map[string]string `json:"vars,omitempty"`
	Started     time.Time         `json:"started"`
	Ended       *time.Time        `json:"ended,omitempty"`
	// Result is the fleet's result when it ended: passed when every site
	// passed, failed otherwise, interrupted after Ctrl-C. The fleet
	// report recomputes it from the journals.
	Result string `json:"result,omitempty"`
	Sites  []Site `json:"sites"`
}

// Site is one site of a fleet as the manifest records it.
type Site struct {
	Name string `json:"name"`
	// SiteFile is the site file (empty for a lab site); LabBlock is the
	// lab site's loopback block 127.X.0.0/16.
	SiteFile string `json:"site_file,omitempty"`
	Lab      bool   `json:"lab,omitempty"`
	LabBlock int    `json:"lab_block,omitempty"`
	// RunDir is the site's run directory relative to the fleet directory
	// (empty when no run started).
	RunDir  string     `json:"run_dir,omitempty"`
	RunID   string     `json:"run_id,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	Ended   *time.Time `json:"ended,omitempty"`
	// State is one of the State constants or the run's outcome.
	State string `json:"state"`
	// Verdict is the site report's verdict when the run ended (a passed
	// run that missed its RTO is failed).
	Verdict string `json:"verdict,omitempty"`
	// Error says why the site did not pass, for people.
	Error string `json:"error,omitempty"`
	// FinalHash is the journal's final hash when the run ended.
	FinalHash string `json:"final_hash,omitempty"`
}

// Recorder keeps a fleet's manifest on disk while the fleet runs: every
// change is written at once (temporary file, fsync, rename), so a crash
// leaves the last state. Its methods are safe for concurrent use.
type Recorder struct {
	dir string
	mu  sync.Mutex
	m   Manifest
	err error
}

// NewRecorder writes m as dir's manifest and returns its recorder.
func NewRecorder(dir string, m Manifest) (*Recorder, error) {
	m.Schema = ManifestSchema
	r := &Recorder{dir: dir, m: m}
	return r, r.writeLocked()
}

// Update changes the named site's entry with f and writes the manifest.
func (r *Recorder) Update(site string, f func(s *Site)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.m.Sites {
		if r.m.Sites[i].Name == site {
			f(&r.m.Sites[i])
		}
	}
	r.writeLocked()
}

// Finish records the fleet's end and result.
func (r *Recorder) Finish(end time.Time, result string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m.Ended, r.m.Result = &end, result
	r.writeLocked()
	return r.err
}

// Manifest returns a copy of the manifest as it is now.
func (r *Recorder) Manifest() Manifest {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.m
	m.Sites = append([]Site(nil), r.m.Sites...)
	return m
}

// Err is the first failure to write the manifest, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *Recorder) writeLocked() error {
	b, err := json.MarshalIndent(r.m, "", "  ")
	if err == nil {
		err = writeFileAtomic(filepath.Join(r.dir, ManifestName), append(b, '\n'))
	}
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("cannot write the fleet manifest: %w", err)
	}
	return err
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, fmt.Errorf("%w; give a fleet directory (`drbook fleet run` prints it; it holds %s)", err, ManifestName)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("%s: schema %q, want %q (written by another drbook version?)", filepath.Join(dir, ManifestName), m.Schema, ManifestSchema)
	}
	return &m, nil
}
