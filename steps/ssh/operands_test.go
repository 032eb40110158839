package ssh_test

// Values that reach remote commands as operands rather than as shell text:
// quoting keeps them one word, but the program may still read a word as
// an option or an address. These tests run the real commands on an
// in-process guest (/bin/sh, GNU find and tar of this machine).

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/steptest"
)

// TestBackupDirIsNeverAFindExpression: a relative dir "-delete" was put
// first on find's command line, where find reads it as its -delete action
// and empties the login's home directory.
func TestBackupDirIsNeverAFindExpression(t *testing.T) {
	l := newLab(t)
	home := l.ap1.Dir
	writeFile(t, filepath.Join(home, "keep", "important.txt"), "keep me\n")
	writeFile(t, filepath.Join(home, "data", "app.conf"), "x=1\n")
	k := kind(t, "ssh.backup")
	res := mustExecute(t, l.rt, k, fmt.Sprintf("{host: ap01, paths: [%s], dir: -delete, retention_days: 1}", filepath.Join(home, "data"))).(*ssh.BackupResult)
	if _, err := os.Stat(filepath.Join(home, "keep", "important.txt")); err != nil {
		t.Fatalf("the backup deleted files in the home directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, res.Archive)); err != nil || !strings.HasPrefix(res.Archive, "-delete/") {
		t.Fatalf("archive %q not in ./-delete: %v", res.Archive, err)
	}
}

// TestBackupFactsComeFromDrbooksOwnLines: the names of pruned archives
// are printed before the archive's size and checksum; a file named with
// newlines and marker lines must not stand in for them. (The script's sed
// prefixes every line of find's output, so this held before; the test
// keeps it so.)
func TestBackupFactsComeFromDrbooksOwnLines(t *testing.T) {
	l := newLab(t)
	home := l.ap1.Dir
	writeFile(t, filepath.Join(home, "data", "app.conf"), "x=1\n")
	bk := filepath.Join(home, "bk")
	forged := filepath.Join(bk, "old\ndrbook-size: 1\ndrbook-sha256: "+strings.Repeat("0", 64)+"\ndrbook-files: 99\nx.tgz")
	writeFile(t, forged, "old")
	old := time.Now().Add(-30 * 24 * time.Hour)
	os.Chtimes(forged, old, old)
	res := mustExecute(t, l.rt, kind(t, "ssh.backup"), fmt.Sprintf("{host: ap01, paths: [%s], dir: %s, retention_days: 7}", filepath.Join(home, "data"), bk)).(*ssh.BackupResult)
	b, err := os.ReadFile(res.Archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(b)) || res.Files == 99 {
		t.Fatalf("backup facts %+v; the archive has %d bytes, sha256 %x", res, len(b), sum)
	}
}

// TestRestoreTarArchiveIsNeverRemote: GNU tar reads an archive name with a
// colon before any slash as host:file and runs rsh to reach it; a local
// archive "bk:1.tgz" must be read from the disk.
func TestRestoreTarArchiveIsNeverRemote(t *testing.T) {
	l := newLab(t)
	home := l.ap1.Dir
	writeFile(t, filepath.Join(home, "src", "restored.txt"), "back\n")
	if out, err := exec.Command("tar", "-czf", filepath.Join(home, "bk:1.tgz"), "-C", filepath.Join(home, "src"), "restored.txt").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	os.MkdirAll(filepath.Join(home, "out"), 0o755)
	mustExecute(t, l.rt, kind(t, "ssh.restore_tar"), "{host: ap01, archive: 'bk:1.tgz', dest: out}")
	if got := read(t, filepath.Join(home, "out", "restored.txt")); got != "back\n" {
		t.Fatalf("restored %q", got)
	}
}

// TestExecShellIsAProgram: ssh.exec's shell is put unquoted in front of
// -c; it may name a program, never add syntax or options.
func TestExecShellIsAProgram(t *testing.T) {
	k := kind(t, "ssh.exec")
	for _, bad := range []string{"sh>x", "sh<x", "-i", "sh(", "sh#", "~/sh", "sh*", "sh?"} {
		if _, errs := steptest.DecodeErrors(k, fmt.Sprintf("{host: a, script: id, shell: %q}", bad)); len(errs) == 0 {
			t.Errorf("shell %q accepted", bad)
		}
	}
	for _, good := range []string{"sh", "/bin/bash", "busybox", "/opt/ksh93/bin/ksh-2020"} {
		if _, errs := steptest.DecodeErrors(k, fmt.Sprintf("{host: a, script: id, shell: %q}", good)); len(errs) != 0 {
			t.Errorf("shell %q refused: %v", good, errs)
		}
	}
}

// TestServiceNameIsNotAnOption: systemctl and service read a leading "-"
// as an option (systemctl --host=… acts on another machine).
func TestServiceNameIsNotAnOption(t *testing.T) {
	k := kind(t, "ssh.service")
	for _, bad := range []string{"--host=evil", "-H", "--root=/tmp"} {
		if _, errs := steptest.DecodeErrors(k, fmt.Sprintf("{host: a, name: %q, action: restart}", bad)); len(errs) == 0 {
			t.Errorf("service name %q accepted", bad)
		}
	}
}
