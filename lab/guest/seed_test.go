package guest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSeededBackupsAreANightlyJobsWork checks the AP server's seeded
// /APBACKUP against what bkap.sh itself does: nine nightly archives of
// bkap.sh's paths named by their run's date, with logs and a crontab at
// the runs' time of day; the guest's own find -mtime +7 (bkap.sh's
// retention) selects exactly the oldest, and running bkap.sh deletes it and
// adds today's archive.
func TestSeededBackupsAreANightlyJobsWork(t *testing.T) {
	now := time.Now()
	last := LastNightlyRun(now)
	g := startTestGuest(t, Config{}, apSeed(8087))
	c := g.dial(t, "root")
	var names []string
	for k := BackupNights - 1; k >= 0; k-- {
		names = append(names, "/APBACKUP/apfg02bk.tar."+last.AddDate(0, 0, -k).Format("0102")+".tgz")
	}
	if out := must(t, c, "ls /APBACKUP/*.tgz"); out != strings.Join(sortedCopy(names), "\n")+"\n" {
		t.Fatalf("seeded archives:\n%s\nwant:\n%s", out, strings.Join(sortedCopy(names), "\n"))
	}
	if out := must(t, c, "find /APBACKUP -name '*.tgz' -mtime +7"); out != names[0]+"\n" {
		t.Errorf("archives bkap.sh's retention deletes now: %q, want only the oldest %s", out, names[0])
	}
	newest := names[len(names)-1]
	listing := must(t, c, "tar -tzf "+newest)
	for _, want := range []string{"etc/httpd/conf/httpd.conf", "opt/moiland/web/index.html", "etc/shadow", "var/spool/cron/root", "LandDeploy.ini"} {
		if !strings.Contains(listing, "\n"+want+"\n") {
			t.Errorf("seeded archive lacks %s", want)
		}
	}
	done := last.Add(tarTook)
	if out := must(t, c, "stat -c '%Y %a' "+newest); out != fmt.Sprintf("%d 644\n", done.Unix()) {
		t.Errorf("newest archive's mtime and mode: %q, want %d 644 (the last run plus the time tar took)", out, done.Unix())
	}
	if out := must(t, c, "cat /var/spool/cron/root"); out != fmt.Sprintf("%d %d * * * /root/bkap/bkap.sh NOFTPMODE > /dev/null 2>&1\n", last.Minute(), last.Hour()) {
		t.Errorf("crontab %q does not say the runs' time of day %s", out, last.Format("15:04"))
	}
	mmdd := last.Format("0102")
	log := must(t, c, "cat /APBACKUP/LOG/bkaplog.apfg02."+mmdd)
	deleted := "/APBACKUP/apfg02bk.tar." + last.AddDate(0, 0, -BackupNights).Format("0102") + ".tgz"
	if !strings.Contains(log, "=== Begin Backup Delete 7 DAYS BACKUP FILE ===\n"+deleted+"\n=== End") ||
		!strings.Contains(log, "=== Begin backup apfg02 "+last.Format("20060102 15:04:05")+" ===\nroot/\n") {
		t.Errorf("seeded log of the last run:\n%s", log)
	}
	must(t, c, "chmod +x /root/bkap/bkap.sh && /root/bkap/bkap.sh NOFTPMODE")
	today := "/APBACKUP/apfg02bk.tar." + time.Now().Format("0102") + ".tgz"
	out := must(t, c, "ls /APBACKUP/*.tgz")
	want := BackupNights // the oldest deleted, today's added
	if today == newest {
		want-- // the last run was earlier today: its archive is replaced
	}
	if strings.Contains(out, names[0]+"\n") || !strings.Contains(out, today+"\n") || strings.Count(out, "\n") != want {
		t.Errorf("after bkap.sh: %q, want the oldest gone and %s added", out, today)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
