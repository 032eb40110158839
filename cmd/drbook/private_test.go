package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestRunDirectoryIsPrivate: the run directory, its journal, signature,
// reports, artifacts and the lab's saved state hold what guests printed
// and what the operator entered; they were created 0755/0644, readable by
// every user of the machine. A report rendered later with -o, also over
// an existing world-readable file, is private too. The umask is set
// permissive (002) so that only drbook's own modes protect the files.
func TestRunDirectoryIsPrivate(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "sign.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	writeRunbook(t, dir, "small.yaml", `name: small
steps:
  - id: big
    exec.local: {shell: "head -c 500 /dev/zero | tr '\\0' x", max_output: 100}
`)
	runs := filepath.Join(dir, "runs")
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"run", "--lab", "--yes", "--runs-dir", runs, "--sign", keyFile, filepath.Join(dir, "small.yaml")}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("run exited %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	runDirs, _ := filepath.Glob(filepath.Join(runs, "*"))
	if len(runDirs) != 1 {
		t.Fatalf("run directories %v", runDirs)
	}
	runDir := runDirs[0]
	existing := filepath.Join(dir, "existing.html")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--format", "md", "-o", filepath.Join(runDir, "report.md")}, {"--format", "html", "-o", existing}} {
		stdout.Reset()
		stderr.Reset()
		if code := runMain(append([]string{"report", runDir}, args...), strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("report %v exited %d: %s", args, code, stderr.String())
		}
	}
	want := []string{"journal.jsonl", "journal.sig", "report.html", "report.json", "report.md", "runbook.yaml", "lab-state.json", "artifacts", "lab"}
	seen := map[string]bool{}
	check := func(path string, mode fs.FileMode) {
		bad := mode.Perm() & 0o037 // at most 0640
		if mode.IsDir() {
			bad = mode.Perm() & 0o027 // at most 0750
		}
		if bad != 0 {
			t.Errorf("%s is %v: readable or writable by others", path, mode.Perm())
		}
	}
	check(runDir, mustStat(t, runDir).Mode())
	check(existing, mustStat(t, existing).Mode())
	filepath.WalkDir(runDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == runDir {
			return err
		}
		rel, _ := filepath.Rel(runDir, path)
		seen[strings.Split(rel, string(filepath.Separator))[0]] = true
		info, err := d.Info()
		if err != nil {
			return err
		}
		check(path, info.Mode())
		if rel == "lab" {
			return filepath.SkipDir // the simulated guests' own files, inside a private directory
		}
		return nil
	})
	for _, w := range want {
		if !seen[w] {
			t.Errorf("the run directory has no %s (the test checks it)", w)
		}
	}
	if arts, _ := filepath.Glob(filepath.Join(runDir, "artifacts", "*")); len(arts) == 0 {
		t.Errorf("no artifact was written (the test checks their modes)")
	}
}

func mustStat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
