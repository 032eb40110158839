package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestJournaledSitePath: an absolute path is used as it is; a relative one
// (journals written before paths were absolute) is found next to the runs
// folder, where drbook ran, before the current directory.
func TestJournaledSitePath(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(filepath.Join(dir, "sites"), 0o755); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(dir, "sites", "office.site.yaml")
	if err := os.WriteFile(site, []byte("name: office\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := journaledSitePath(site, runs); got != site {
		t.Errorf("absolute: got %q", got)
	}
	if got := journaledSitePath("sites/office.site.yaml", runs); got != site {
		t.Errorf("relative: got %q, want %q", got, site)
	}
	if got := journaledSitePath("sites/none.yaml", runs); got != "sites/none.yaml" {
		t.Errorf("missing: got %q, want it unchanged", got)
	}
}
