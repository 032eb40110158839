package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// drillRun runs one shipped runbook against the embedded lab through the
// real command line (runMain) and returns its journal, failing the test
// unless drbook exits 0 and the journal's hash chain verifies.
func drillRun(t *testing.T, runbook string, extra ...string) *journal.Log {
	t.Helper()
	runs := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runMain(append([]string{"run", "--lab", runbook, "--yes", "--runs-dir", runs}, extra...), strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("drbook run --lab %s exited %d\nstdout:\n%s\nstderr:\n%s", runbook, code, stdout.String(), stderr.String())
	}
	paths, err := filepath.Glob(filepath.Join(runs, "*", "journal.jsonl"))
	if err != nil || len(paths) != 1 {
		t.Fatalf("want one journal under %s, found %v (%v)", runs, paths, err)
	}
	f, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, torn, err := journal.Verify(bytes.NewReader(f)); err != nil || torn != 0 {
		t.Fatalf("journal %s: chain %v, torn %d bytes", paths[0], err, torn)
	}
	log, err := journal.Read(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// drillSteps indexes a journal's step starts and finishes by step id.
type drillSteps struct {
	start  map[string]*journal.StepStart
	finish map[string]*journal.StepFinish
	ev     map[string][]*journal.Evidence
}

func indexSteps(t *testing.T, log *journal.Log) drillSteps {
	t.Helper()
	s := drillSteps{start: map[string]*journal.StepStart{}, finish: map[string]*journal.StepFinish{}, ev: map[string][]*journal.Evidence{}}
	for _, e := range log.Events {
		switch {
		case e.StepStart != nil:
			s.start[e.Step] = e.StepStart
		case e.StepFinish != nil:
			s.finish[e.Step] = e.StepFinish
		case e.Evidence != nil:
			s.ev[e.Step] = append(s.ev[e.Step], e.Evidence)
		}
	}
	return s
}

// result decodes a finished step's result, failing unless the step is ok.
func (s drillSteps) result(t *testing.T, id string, into any) {
	t.Helper()
	f := s.finish[id]
	if f == nil {
		t.Fatalf("step %s never finished", id)
	}
	if f.Status != journal.StatusOK {
		t.Fatalf("step %s: status %s: %s", id, f.Status, f.Error)
	}
	if err := json.Unmarshal(f.Result, into); err != nil {
		t.Fatalf("step %s: result %s: %v", id, f.Result, err)
	}
}

// diffOf is the unified diff a step recorded.
func (s drillSteps) diffOf(t *testing.T, id string) string {
	t.Helper()
	for _, e := range s.ev[id] {
		if e.Diff != nil {
			return e.Diff.Unified
		}
	}
	t.Fatalf("step %s recorded no diff", id)
	return ""
}

// TestDrill2APRestoreAgainstLab runs runbooks/sanchong/ap-restore.yaml end
// to end against the lab and checks that every step did its real work:
// the archive that left the AP server is the one that reached the standby
// (same SHA-256 at both ends, same entry count restored), the httpd.conf
// diff moves Listen and ServerName to the standby, httpd restarts on the
// standby's address and /moiland/ answers 200 with the restored page.
func TestDrill2APRestoreAgainstLab(t *testing.T) {
	t.Parallel()
	log := drillRun(t, "../../runbooks/sanchong/ap-restore.yaml")
	s := indexSteps(t, log)

	var backup struct {
		Archive string   `json:"archive"`
		Size    int64    `json:"size"`
		SHA256  string   `json:"sha256"`
		Files   int      `json:"files"`
		Pruned  []string `json:"pruned"`
	}
	s.result(t, "backup", &backup)
	// retention_days: 7 deletes what bkap.sh's own retention would: of the
	// nightly job's nine archives seeded on the AP server, only the oldest
	// is more than 8 days old (lab/guest.LastNightlyRun).
	if len(backup.Pruned) != 1 || !regexp.MustCompile(`^/APBACKUP/apfg02bk\.tar\.\d{4}\.tgz$`).MatchString(backup.Pruned[0]) {
		t.Errorf("backup pruned %v, want the nightly job's oldest archive only", backup.Pruned)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(backup.SHA256) || backup.Size < 1024 || backup.Files < 100 ||
		!regexp.MustCompile(`^/APBACKUP/ap02bk\.tar\.\d{4}\.tgz$`).MatchString(backup.Archive) {
		t.Errorf("backup result %+v: want a sha256, a real size, bkap.sh's ~140 entries and /APBACKUP/ap02bk.tar.MMDD.tgz", backup)
	}

	var transfer struct {
		Path     string `json:"path"`
		Bytes    int64  `json:"bytes"`
		SHA256   string `json:"sha256"`
		Verified bool   `json:"verified"`
	}
	s.result(t, "transfer", &transfer)
	if transfer.SHA256 != backup.SHA256 || transfer.Bytes != backup.Size || !transfer.Verified || transfer.Path != "/root/apfg02bk.tgz" {
		t.Errorf("transfer %+v does not carry the backup (sha256 %s, %d bytes) verified on both ends into /root/apfg02bk.tgz", transfer, backup.SHA256, backup.Size)
	}

	var restore struct {
		Files int `json:"files"`
	}
	s.result(t, "restore", &restore)
	if restore.Files != backup.Files {
		t.Errorf("restore extracted %d entries, the backup holds %d", restore.Files, backup.Files)
	}

	var mkdir struct {
		Created []string `json:"created"`
	}
	s.result(t, "mount_points", &mkdir)
	if strings.Join(mkdir.Created, " ") != "/mnt/G08 /mnt/report" {
		t.Errorf("mount points created: %v", mkdir.Created)
	}

	// The addresses come from the step as the engine resolved it.
	var httpdEdit struct {
		Edits []struct{ Replace, With string }
	}
	if err := json.Unmarshal(mustJSON(t, s.start["httpd_conf"].Params), &httpdEdit); err != nil || len(httpdEdit.Edits) == 0 {
		t.Fatalf("httpd_conf params: %v", err)
	}
	src, dst := httpdEdit.Edits[0].Replace, httpdEdit.Edits[0].With
	if !regexp.MustCompile(`^127\.\d+\.0\.65$`).MatchString(src) || !regexp.MustCompile(`^127\.\d+\.0\.66$`).MatchString(dst) {
		t.Fatalf("httpd_conf replaces %q with %q: want the lab's (65)apfg(02) and (66)apfg(03) addresses", src, dst)
	}
	diff := s.diffOf(t, "httpd_conf")
	for _, line := range []string{"-Listen " + src + ":8080", "+Listen " + dst + ":8080", "-ServerName apfg02.land.local", "+ServerName apfg03.land.local"} {
		if !containsLine(diff, line) {
			t.Errorf("httpd.conf diff lacks %q:\n%s", line, diff)
		}
	}
	hosts := s.diffOf(t, "hosts")
	if !containsLine(hosts, "+"+dst+"\tapfg03.land.local apfg03") || !containsLine(hosts, "-"+src+"\tapfg02.land.local apfg02") {
		t.Errorf("/etc/hosts diff does not move the name to the standby:\n%s", hosts)
	}

	var svc struct {
		Manager string `json:"manager"`
		Active  bool   `json:"active"`
		Output  string `json:"output"`
	}
	s.result(t, "httpd_restart", &svc)
	if svc.Manager != "service" || !svc.Active || !strings.Contains(svc.Output, "Starting httpd: [  OK  ]") {
		t.Errorf("httpd restart on the standby: %+v", svc)
	}

	var check struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	s.result(t, "service_check", &check)
	var checkParams struct{ URL string }
	if err := json.Unmarshal(mustJSON(t, s.start["service_check"].Params), &checkParams); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(checkParams.URL)
	if err != nil || u.Hostname() != dst || u.Path != "/moiland/" {
		t.Errorf("service check URL %q: want the standby %s's /moiland/", checkParams.URL, dst)
	}
	if check.Status != 200 || !strings.Contains(check.Body, "Land Registration WEB AP") {
		t.Errorf("service check: status %d, body %q", check.Status, check.Body)
	}

	for _, id := range []string{"backup_ok", "fail_source", "network", "source_back"} {
		if f := s.finish[id]; f == nil || f.Status != journal.StatusOK {
			t.Errorf("step %s: %+v", id, f)
		}
	}
}

// TestDrill1HAHostFailureAgainstLab runs runbooks/sanchong/ha-host-failure.yaml
// against the lab and checks that the four VMs of esx-68 (DOMAIN.md's .97,
// .72, .65 and .60) were restarted on the surviving hosts, each with its
// own measured timings.
func TestDrill1HAHostFailureAgainstLab(t *testing.T) {
	t.Parallel()
	// At the default ×30, HA's 15 s heartbeat timeout is 0.5 s real: on a
	// busy machine the ha step's lookups could take longer, and HA had
	// restarted every VM before the step looked, leaving no timings of
	// its own to check. At ×10 the window is 1.5 s.
	log := drillRun(t, "../../runbooks/sanchong/ha-host-failure.yaml", "--lab-speed", "10")
	s := indexSteps(t, log)
	var ha struct {
		FailedHost string `json:"failed_host"`
		Restarted  int    `json:"restarted"`
		All        bool   `json:"all_restarted"`
		VMs        []struct {
			VM        string           `json:"vm"`
			OldHost   string           `json:"old_host"`
			NewHost   string           `json:"new_host"`
			SeenOff   time.Time        `json:"seen_off_at"`
			PoweredOn time.Time        `json:"powered_on_at"`
			Outage    journal.Duration `json:"outage"`
			Restarted bool             `json:"restarted"`
		} `json:"vms"`
	}
	s.result(t, "ha", &ha)
	if ha.FailedHost != "esx-68" || ha.Restarted != 4 || !ha.All || len(ha.VMs) != 4 {
		t.Fatalf("HA result: failed host %q, %d restarted (all %v), %d VMs; want esx-68 and its 4 VMs", ha.FailedHost, ha.Restarted, ha.All, len(ha.VMs))
	}
	var suffixes []string
	for _, vm := range ha.VMs {
		suffixes = append(suffixes, strings.TrimPrefix(strings.SplitN(vm.VM, ")", 2)[0], "("))
		if vm.OldHost != "esx-68" || vm.NewHost == "" || vm.NewHost == "esx-68" || !vm.Restarted {
			t.Errorf("%s: %s → %s (restarted %v): want moved off esx-68", vm.VM, vm.OldHost, vm.NewHost, vm.Restarted)
		}
		// The outage is measured on the monotonic clock, the instants on the
		// wall clock: they agree to well within a millisecond.
		if vm.SeenOff.IsZero() || !vm.PoweredOn.After(vm.SeenOff) || vm.Outage <= 0 || (vm.PoweredOn.Sub(vm.SeenOff)-vm.Outage.D()).Abs() > time.Millisecond {
			t.Errorf("%s: seen off %v, powered on %v, outage %v: want its own measured timings", vm.VM, vm.SeenOff, vm.PoweredOn, vm.Outage)
		}
	}
	sort.Strings(suffixes)
	if strings.Join(suffixes, ",") != "60,65,72,97" {
		t.Errorf("restarted VMs have IP suffixes %v, want .60 .65 .72 .97", suffixes)
	}
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
