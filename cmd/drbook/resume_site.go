package main

import (
	"os"
	"path/filepath"
)

// journaledSitePath is the site file a run used, as resume must read it.
// Runs journal an absolute path. Older runs journaled the path as given,
// relative to the directory drbook ran in: that is the usual parent of the
// runs folder, so it is tried there first, then in the current directory.
func journaledSitePath(p, runsDir string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if abs, err := filepath.Abs(runsDir); err == nil {
		if cand := filepath.Join(filepath.Dir(abs), p); fileExists(cand) {
			return cand
		}
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
