package guest

import (
	"strings"
	"testing"
	"time"
)

// TestSeededBackupsArePrunedByRetention checks the AP server's seeded
// /APBACKUP: the nightly job's last two archives are real gzip'd tars of
// bkap.sh's paths with their logs, old enough that bkap.sh's own retention
// (find -mtime +7 -exec rm) deletes them and leaves only today's archive.
func TestSeededBackupsArePrunedByRetention(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8087))
	c := g.dial(t, "root")
	old := "/APBACKUP/apfg02bk.tar.0917.tgz\n/APBACKUP/apfg02bk.tar.0918.tgz\n"
	if out := must(t, c, "find /APBACKUP -name '*.tgz' -mtime +7 | sort"); out != old {
		t.Fatalf("seeded archives older than 7 days: %q, want %q", out, old)
	}
	listing := must(t, c, "tar -tzf /APBACKUP/apfg02bk.tar.0918.tgz")
	for _, want := range []string{"etc/httpd/conf/httpd.conf", "opt/moiland/web/index.html", "etc/shadow", "var/spool/cron/root"} {
		if !strings.Contains(listing, want+"\n") {
			t.Errorf("seeded archive lacks %s", want)
		}
	}
	if out := must(t, c, "ls -l /APBACKUP/apfg02bk.tar.0918.tgz /APBACKUP/LOG/bkaplog.apfg02.0918"); strings.Count(out, "-rw-r--r-- 1 root") != 2 || strings.Count(out, "2014") != 2 {
		t.Errorf("seeded archive and log: %q", out)
	}
	if log := must(t, c, "cat /APBACKUP/LOG/bkaplog.apfg02.0917"); !strings.Contains(log, "=== Begin backup apfg02 20140917 01:30:00 ===\nroot/\n") {
		t.Errorf("seeded log: %q", log)
	}
	must(t, c, "chmod +x /root/bkap/bkap.sh && /root/bkap/bkap.sh NOFTPMODE")
	today := "/APBACKUP/apfg02bk.tar." + time.Now().Format("0102") + ".tgz\n"
	if out := must(t, c, "ls /APBACKUP/*.tgz"); out != today {
		t.Errorf("after bkap.sh: %q, want only %q", out, today)
	}
}
