package serve

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// runRef is one run directory found under the runs folder. Key is its
// path relative to the folder with forward slashes ("RUN", or "FLEET/RUN"
// in a folder of fleets): the only name a URL can give, looked up among
// the runs found, never joined onto a path.
type runRef struct {
	Key   string
	Dir   string
	Fleet string
}

// isRunDir says whether dir is a run directory: a real directory (not a
// symbolic link, which could point anywhere) holding a regular journal
// file (not a link either).
func isRunDir(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, journal.FileName))
	return err == nil && fi.Mode().IsRegular()
}

// realDirs lists the directories in dir, leaving out symbolic links:
// following one would leave the runs folder.
func realDirs(dir string) []fs.DirEntry {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []fs.DirEntry
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 && e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e)
		}
	}
	return out
}

// fleetManifest is the file that makes a directory a fleet directory
// (drbook fleet run writes it: FLEET_DIR/fleet.json beside one runs
// folder per site, FLEET_DIR/SITE/RUN_ID/journal.jsonl). Only its
// presence is used, to name the fleet a run belongs to; what the page
// shows comes from each run's journal.
const fleetManifest = "fleet.json"

// maxFleetDepth is how deep --fleet looks for run directories: a folder
// of fleets / a fleet / a site's runs folder / a run.
const maxFleetDepth = 3

// discover lists the runs under the server's folder. Without --fleet
// those are its run directories; with --fleet the folder is a fleet
// directory (one runs folder per site), a folder of them, or a folder of
// runs folders, and run directories are looked for up to three levels
// down.
func (s *Server) discover() []runRef {
	var out []runRef
	depth := 1
	if s.cfg.Fleet {
		depth = maxFleetDepth
	}
	rootIsFleet := isFleetDir(s.root)
	var walk func(dir, key string, level int, fleet string)
	walk = func(dir, key string, level int, fleet string) {
		for _, e := range realDirs(dir) {
			sub, k := filepath.Join(dir, e.Name()), path.Join(key, e.Name())
			if isRunDir(sub) {
				out = append(out, runRef{Key: k, Dir: sub, Fleet: fleet})
				continue
			}
			if level >= depth {
				continue
			}
			f := fleet
			if isFleetDir(sub) || (level == 1 && !rootIsFleet) {
				f = e.Name()
			}
			walk(sub, k, level+1, f)
		}
	}
	walk(s.root, "", 1, filepath.Base(s.root))
	return out
}

func isFleetDir(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, fleetManifest))
	return err == nil && fi.Mode().IsRegular()
}

// validKey refuses, before any lookup, a key that is not one to three
// plain names: "..", ".", empty parts, backslashes, NUL.
func validKey(key string) bool {
	if key == "" || strings.ContainsAny(key, "\\\x00") || path.Clean(key) != key || strings.HasPrefix(key, "/") {
		return false
	}
	parts := strings.Split(key, "/")
	if len(parts) > maxFleetDepth {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

// resolve finds the run a URL names. Only a run discover lists can be
// named: there is no path from a URL to a file outside the runs folder.
func (s *Server) resolve(key string) (runRef, bool) {
	if !validKey(key) {
		return runRef{}, false
	}
	for _, r := range s.discover() {
		if r.Key == key {
			return r, true
		}
	}
	return runRef{}, false
}

// keep forgets the reports of runs no longer in the folder.
func (c *snapshots) keep(refs []runRef) {
	live := make(map[string]bool, len(refs))
	for _, r := range refs {
		live[r.Dir] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for dir := range c.runs {
		if !live[dir] {
			delete(c.runs, dir)
		}
	}
}

// snapshot is a run's report as built from its journal at one size.
type snapshot struct {
	size   int64
	mod    time.Time
	report *reports.Report
	err    error
}

// snapshots keeps each run's last report, so that every viewer of a run
// shares one build per change of its journal.
type snapshots struct {
	mu   sync.Mutex
	runs map[string]*snapshot
}

// get returns the report of the journal in dir as it is now. The journal
// is read twice by reports.ReadRun (once for the events, once to verify
// the chain); a line appended in between would make the two disagree and
// the report say NOT VERIFIED for a run nobody touched, so the build is
// kept only when the journal's size did not change across it.
func (c *snapshots) get(dir string) *snapshot {
	fi, err := os.Stat(filepath.Join(dir, journal.FileName))
	if err != nil {
		return &snapshot{err: err}
	}
	c.mu.Lock()
	if c.runs == nil {
		c.runs = map[string]*snapshot{}
	}
	if s, ok := c.runs[dir]; ok && s.size == fi.Size() && s.mod.Equal(fi.ModTime()) {
		c.mu.Unlock()
		return s
	}
	c.mu.Unlock()
	var snap *snapshot
	for attempt := 0; ; attempt++ {
		r, err := reports.ReadRun(dir)
		after, serr := os.Stat(filepath.Join(dir, journal.FileName))
		if serr != nil {
			return &snapshot{err: serr}
		}
		if err != nil && !hasWholeLine(filepath.Join(dir, journal.FileName)) {
			// Created, its first line not written yet: a run starting.
			err = errStarting
		}
		snap = &snapshot{size: fi.Size(), mod: fi.ModTime(), report: r, err: err}
		if after.Size() == fi.Size() && after.ModTime().Equal(fi.ModTime()) {
			break
		}
		// The journal grew while it was read: build again from its new
		// size. A writer faster than a build (it is not: the engine
		// writes a line per happening) would be shown as of the last
		// try, marked so the page does not claim it verified.
		fi = after
		if attempt == 4 {
			snap.size = -1
			return snap
		}
	}
	c.mu.Lock()
	c.runs[dir] = snap
	c.mu.Unlock()
	return snap
}

// errStarting is a journal that holds no whole line yet: drbook creates
// it, then writes run.start.
var errStarting = errors.New("starting: the journal has no whole line yet")

func hasWholeLine(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 64<<10)
	for {
		n, err := f.Read(b)
		if bytes.IndexByte(b[:n], '\n') >= 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}
