package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/lab/guest"
)

const backupFreshness = "../../runbooks/sanchong/backup-freshness.yaml"

// backupCheckResult is the part of ssh.backup_check's result the tests read.
type backupCheckResult struct {
	Count    int    `json:"count"`
	Hostname string `json:"hostname"`
	Schedule string `json:"schedule"`
	Archives []struct {
		Path     string   `json:"path"`
		Verified bool     `json:"verified"`
		Entries  int      `json:"entries"`
		Missing  []string `json:"missing"`
	} `json:"archives"`
}

// TestBackupFreshnessAgainstLab validates, plans and runs
// runbooks/sanchong/backup-freshness.yaml against the lab: the AP server's
// nine seeded nightly archives are all read through and hold all of
// bkap.sh's paths, the crontab line is found, and nothing is changed.
func TestBackupFreshnessAgainstLab(t *testing.T) {
	t.Parallel()
	for _, cmd := range [][]string{{"validate", "--lab", backupFreshness}, {"plan", "--lab", backupFreshness}} {
		var stdout, stderr bytes.Buffer
		if code := runMain(cmd, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Fatalf("drbook %s exited %d\n%s%s", strings.Join(cmd, " "), code, stdout.String(), stderr.String())
		}
		if cmd[0] == "plan" && (!strings.Contains(stdout.String(), "nothing will be changed") || strings.Contains(stdout.String(), "!  1.")) {
			t.Errorf("plan does not show a read-only drill:\n%s", stdout.String())
		}
	}
	log := drillRun(t, backupFreshness)
	s := indexSteps(t, log)
	var res backupCheckResult
	s.result(t, "fresh[0]", &res)
	if res.Count != guest.BackupNights || len(res.Archives) != guest.BackupNights || res.Hostname != "apfg02" || !strings.Contains(res.Schedule, "/root/bkap/bkap.sh NOFTPMODE") {
		t.Fatalf("result %+v: want %d archives of apfg02 and the crontab line", res, guest.BackupNights)
	}
	for _, a := range res.Archives {
		if !a.Verified || len(a.Missing) != 0 || a.Entries < 100 || !strings.HasPrefix(a.Path, "/APBACKUP/apfg02bk.tar.") {
			t.Errorf("archive %+v: want it read through with bkap.sh's ~140 entries and nothing missing", a)
		}
	}
	if f := s.finish["fresh"]; f == nil || f.Status != journal.StatusOK {
		t.Errorf("the for_each step: %+v", f)
	}
}

// TestBackupFreshnessFailsWhenTheJobStopped runs the drill against a lab
// whose AP server's backup job stopped three days ago: it must fail, and
// say how old the newest archive is and what to check.
func TestBackupFreshnessFailsWhenTheJobStopped(t *testing.T) {
	t.Parallel()
	log, _ := labRun(t, backupFreshness, exitFailed, "--lab-stale-backups", "72h")
	s := indexSteps(t, log)
	f := s.finish["fresh[0]"]
	if f == nil || f.Status != journal.StatusFailed {
		t.Fatalf("fresh[0] finished %+v, want failed", f)
	}
	if !strings.Contains(f.Error, "the newest backup /APBACKUP/apfg02bk.tar.") || !strings.Contains(f.Error, "more than the allowed 26h0m0s; the backup job may have stopped (check its crontab and log)") {
		t.Errorf("error %q: want the newest archive named, its age and what to check", f.Error)
	}
	var res backupCheckResult
	if err := json.Unmarshal(f.Result, &res); err != nil || res.Count != guest.BackupNights {
		t.Errorf("a failed check still returns what it found: %s (%v)", f.Result, err)
	}
}
