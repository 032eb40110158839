package ssh_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/steptest"
)

// bkapContains is part of bkap.sh's path list, as a drill names it.
const bkapContains = "[/root/, /home/oracle, /etc/httpd/, /etc/hosts, /etc/shadow]"

// bkapMembers are the tar members GNU tar -czf writes for bkapContains.
var bkapMembers = []string{"root/", "root/.bashrc", "home/oracle/", "home/oracle/.bash_profile", "etc/httpd/", "etc/httpd/conf/httpd.conf", "etc/hosts", "etc/shadow"}

// tgz is a gzip'd tar holding a small file under each name (a directory
// for names ending in "/"), written by Go so that names no tar would
// write are possible.
func tgz(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		h := &tar.Header{Name: n, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(n)), Format: tar.FormatPAX}
		if strings.HasSuffix(n, "/") {
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(n))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// putArchive writes data at p with modification time now-age.
func putArchive(t *testing.T, p string, data []byte, age time.Duration) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

// backupCheckCases runs ssh.backup_check on guest ap01, whose /APBACKUP is
// dir on this machine and is named inDir in the guest, through every
// failure the drill must tell apart: each must fail with its own message,
// and a good set must pass. Shared by the in-process server and OpenSSH.
func backupCheckCases(t *testing.T, dir, inDir string, run func(params string) (any, error)) {
	t.Helper()
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	good := tgz(t, bkapMembers...)
	reset := func() {
		os.RemoveAll(dir)
		os.MkdirAll(dir, 0o755)
	}
	base := fmt.Sprintf("host: ap01, dir: %q, pattern: '{hostname}bk.tar.*.tgz', contains: %s", inDir, bkapContains)
	check := func(name, extra, wantErr string) *ssh.BackupCheckResult {
		t.Helper()
		res, err := run("{" + base + extra + "}")
		r, _ := res.(*ssh.BackupCheckResult)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%s: %v, want it to pass", name, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%s: error %v, want one containing %q", name, err, wantErr)
		}
		return r
	}

	// A week of nightly archives, the newest 5 hours old, and another
	// server's archive that {hostname} must not match.
	reset()
	for night := 0; night < 8; night++ {
		putArchive(t, filepath.Join(dir, fmt.Sprintf("%sbk.tar.%02d%02d.tgz", short, 11, 20+night)), good, 5*time.Hour+time.Duration(7-night)*24*time.Hour)
	}
	putArchive(t, filepath.Join(dir, "otherbk.tar.1127.tgz"), []byte("not even gzip"), time.Hour)
	r := check("a week of good archives", ", min_count: 7, verify: all", "")
	if r == nil || r.Count != 8 || r.Hostname != short || r.Archive != inDir+"/"+short+"bk.tar.1127.tgz" || len(r.Archives) != 8 {
		t.Fatalf("good archives: result %+v, want 8 archives of %s, the newest %sbk.tar.1127.tgz", r, short, short)
	}
	for _, a := range r.Archives {
		if !a.Verified || a.Entries != len(bkapMembers) || len(a.Missing) != 0 {
			t.Errorf("archive %s: verified %v, %d entries, missing %v; want all %d read and nothing missing", a.Path, a.Verified, a.Entries, a.Missing, len(bkapMembers))
		}
	}
	if r.AgeSeconds < 4*3600 || r.AgeSeconds > 6*3600 {
		t.Errorf("newest age %.0f s, want about 5 h", r.AgeSeconds)
	}
	check("too few nights", ", min_count: 9", "only 8 archive(s) matching "+short+"bk.tar.*.tgz in "+inDir+", want at least 9")

	// Stale: the job stopped three days ago.
	reset()
	putArchive(t, filepath.Join(dir, short+"bk.tar.1124.tgz"), good, 72*time.Hour)
	check("stale", "", "bk.tar.1124.tgz is 72h0m0s old, more than the allowed 26h0m0s; the backup job may have stopped")
	check("stale but allowed", ", max_age: 80h", "")

	// Empty: tar never wrote it.
	reset()
	putArchive(t, filepath.Join(dir, short+"bk.tar.1127.tgz"), nil, time.Hour)
	check("empty", "", "bk.tar.1127.tgz is empty (0 bytes)")

	// Missing: nothing matches, or the directory is not there.
	reset()
	putArchive(t, filepath.Join(dir, "otherbk.tar.1127.tgz"), good, time.Hour)
	check("missing", "", "no backup archive matching "+short+"bk.tar.*.tgz in "+inDir+"; the backup job has not run here")
	os.RemoveAll(dir)
	check("no directory", "", "cannot list "+inDir)

	// Cut short (the disk filled up) and not gzip at all.
	reset()
	putArchive(t, filepath.Join(dir, short+"bk.tar.1127.tgz"), good[:len(good)/2], time.Hour)
	check("truncated", "", "is damaged")
	putArchive(t, filepath.Join(dir, short+"bk.tar.1127.tgz"), []byte("<html>Disk quota exceeded</html>"), time.Hour)
	check("not gzip", "", "is not a gzip file")

	// Hostile member names: a name holding a newline that a tar -t
	// listing would print as a second line "etc/shadow", names that only
	// start like a wanted path, and an absolute name (which tar restores
	// below -C, so it counts).
	reset()
	hostile := []string{"root/", "home/oracle/x", "etc/httpd/", "/etc/hosts", "x\netc/shadow", "etc/shadowX", "etc/shadow.bak/", "\x1b[2Jetc/shadow"}
	putArchive(t, filepath.Join(dir, short+"bk.tar.1127.tgz"), tgz(t, hostile...), time.Hour)
	r = check("hostile names", "", "bk.tar.1127.tgz lacks /etc/shadow: the backup's path list or the server changed")
	if r != nil && len(r.Archives) == 1 && (r.Archives[0].Entries != len(hostile) || strings.Join(r.Archives[0].Missing, " ") != "/etc/shadow") {
		t.Errorf("hostile names: %+v, want %d entries and only /etc/shadow missing", r.Archives[0], len(hostile))
	}
	putArchive(t, filepath.Join(dir, short+"bk.tar.1127.tgz"), tgz(t, append([]string{"../../etc/cron.d/evil", "etc/../../x"}, bkapMembers...)...), time.Hour)
	check("escaping names", "", `holds 2 member(s) whose names leave the restore directory ("../../etc/cron.d/evil", "etc/../../x")`)

	// A file name with a newline is quoted wherever it is shown.
	reset()
	putArchive(t, filepath.Join(dir, short+"bk.tar.11\n27.tgz"), nil, time.Hour)
	check("newline in a file name", "", `"`+inDir+"/"+short+`bk.tar.11\n27.tgz" is empty`)
}

func TestBackupCheckInProcess(t *testing.T) {
	l := newLab(t)
	k := kind(t, "ssh.backup_check")
	dir := l.ap1.Dir + "/APBACKUP"
	backupCheckCases(t, dir, dir, func(params string) (any, error) { return execute(t, l.rt, k, params) })
}

// TestBackupCheckOpenSSH runs the same cases against OpenSSH sshd in a
// busybox chroot, where the guest's paths differ from this machine's and
// its hostname and date are busybox's.
func TestBackupCheckOpenSSH(t *testing.T) {
	rig := sshdrig.New(t)
	g := rig.Start("ap01", sshdrig.Options{Host: 65, Legacy: true})
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": g.Site()})
	k := kind(t, "ssh.backup_check")
	backupCheckCases(t, g.Path("/APBACKUP"), "/APBACKUP", func(params string) (any, error) { return execute(t, rt, k, params) })

	// cron: the job must be scheduled, not merely mentioned in a comment.
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	os.RemoveAll(g.Path("/APBACKUP"))
	putArchive(t, g.Path("/APBACKUP/"+short+"bk.tar.1127.tgz"), tgz(t, bkapMembers...), time.Hour)
	params := "{host: ap01, dir: /APBACKUP, pattern: '{hostname}bk.tar.*.tgz', cron: bkap.sh}"
	if _, err := execute(t, rt, k, params); err == nil || !strings.Contains(err.Error(), "no cron job runs bkap.sh (searched /var/spool/cron/root, /var/spool/cron/crontabs/root, /etc/crontab, /etc/cron.d/*): the backups stop coming") {
		t.Errorf("no crontab: %v, want the files searched named", err)
	}
	g.WriteFile("/var/spool/cron/root", "# 30 1 * * * /root/bkap/bkap.sh NOFTPMODE\n", 0o600)
	g.WriteFile("/etc/cron.d/sysstat", "*/10 * * * * root /usr/lib64/sa/sa1 1 1\n", 0o644)
	if _, err := execute(t, rt, k, params); err == nil || !strings.Contains(err.Error(), "/etc/cron.d/sysstat): the backups stop coming") {
		t.Errorf("job commented out: %v, want it not counted", err)
	}
	g.WriteFile("/var/spool/cron/root", "# nightly\n30 1 * * * /root/bkap/bkap.sh NOFTPMODE > /dev/null 2>&1\n", 0o600)
	res, err := execute(t, rt, k, params)
	if r, _ := res.(*ssh.BackupCheckResult); err != nil || r.Schedule != "30 1 * * * /root/bkap/bkap.sh NOFTPMODE > /dev/null 2>&1" || r.ScheduleFile != "/var/spool/cron/root" {
		t.Errorf("job scheduled: %v, result %+v", err, res)
	}
}

func TestBackupCheckValidate(t *testing.T) {
	k := kind(t, "ssh.backup_check")
	for src, want := range map[string]string{
		"{host: ap01, contains: [etc/hosts]}":        "contains[0]",
		"{host: ap01, contains: [/]}":                "contains[0]",
		"{host: ap01, min_count: 0}":                 "min_count",
		"{host: ap01, verify: some}":                 "verify",
		"{host: ap01, verify: none, contains: [/x]}": "verify",
		"{host: ap01, pattern: 'a/*.tgz'}":           "pattern",
	} {
		_, errs := steptest.DecodeErrors(k, src)
		found := false
		for _, e := range errs {
			found = found || e.Field == want
		}
		if !found {
			t.Errorf("%s: errors %v, want one on %s", src, errs, want)
		}
	}
}
