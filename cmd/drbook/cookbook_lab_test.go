package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// cookbookDir holds the short example runbooks, one per common task.
const cookbookDir = "../../runbooks/examples"

// cookbookTests names the test that runs each cookbook runbook against
// the lab; TestEveryCookbookRunbookIsTested fails on one without.
var cookbookTests = map[string]string{
	"hello.yaml":                "TestCookbookHello",
	"check-service.yaml":        "TestCookbookCheckService",
	"vm-failover.yaml":          "TestCookbookVMFailover",
	"edit-config-rollback.yaml": "TestCookbookEditConfigRollsBack",
	"manual-step.yaml":          "TestCookbookManualStep",
}

// TestEveryCookbookRunbookIsTested: a runbook added to the cookbook must
// come with a lab test, so that what users copy is known to work.
func TestEveryCookbookRunbookIsTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(cookbookDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cookbook runbooks in %s (%v)", cookbookDir, err)
	}
	for _, f := range files {
		if _, ok := cookbookTests[filepath.Base(f)]; !ok {
			t.Errorf("runbooks/examples/%s has no lab test: add one to cmd/drbook/cookbook_lab_test.go and cookbookTests", filepath.Base(f))
		}
	}
	for name := range cookbookTests {
		if _, err := os.Stat(filepath.Join(cookbookDir, name)); err != nil {
			t.Errorf("cookbookTests names %s, which is not in runbooks/examples", name)
		}
	}
}

// labRun runs a runbook against the lab through the real command line and
// returns its journal and run directory, failing unless drbook exits with
// want and the journal's hash chain verifies.
func labRun(t *testing.T, runbook string, want int, extra ...string) (*journal.Log, string) {
	t.Helper()
	runs := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := append([]string{"run", "--lab", runbook, "--yes", "--runs-dir", runs}, extra...)
	if code := runMain(args, strings.NewReader(""), &stdout, &stderr); code != want {
		t.Fatalf("drbook %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	dir := onlyRunDir(t, runs)
	f, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if _, torn, err := journal.Verify(bytes.NewReader(f)); err != nil || torn != 0 {
		t.Fatalf("journal: chain %v, torn %d bytes", err, torn)
	}
	log, err := journal.Read(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return log, dir
}

func TestCookbookHello(t *testing.T) {
	t.Parallel()
	log, _ := labRun(t, filepath.Join(cookbookDir, "hello.yaml"), exitOK)
	s := indexSteps(t, log)
	var greet struct {
		Text string `json:"text"`
	}
	s.result(t, "greet", &greet)
	if greet.Text != "hello world" {
		t.Errorf("greet logged %q", greet.Text)
	}
}

// TestCookbookCheckService: the service check reads the real state of the
// lab's AP server: its init script says httpd runs, its page answers with
// the application's text, and its SSH port greets like OpenSSH.
func TestCookbookCheckService(t *testing.T) {
	t.Parallel()
	log, _ := labRun(t, filepath.Join(cookbookDir, "check-service.yaml"), exitOK)
	s := indexSteps(t, log)
	var status struct {
		Manager string `json:"manager"`
		Active  bool   `json:"active"`
		Output  string `json:"output"`
	}
	s.result(t, "status", &status)
	if !status.Active || status.Manager != "service" || !strings.Contains(status.Output, "httpd") {
		t.Errorf("status %+v: want httpd active through RHEL 5's service", status)
	}
	var page struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	s.result(t, "page", &page)
	if page.Status != 200 || !strings.Contains(page.Body, "Land Registration") {
		t.Errorf("page %+v", page)
	}
	var tcp struct {
		Connected bool   `json:"connected"`
		Banner    string `json:"banner"`
	}
	s.result(t, "ssh_port", &tcp)
	if !tcp.Connected || !strings.HasPrefix(tcp.Banner, "SSH-2.0-") {
		t.Errorf("ssh_port %+v", tcp)
	}
}

// TestCookbookVMFailover: the primary VM really goes off in vCenter, the
// standby's httpd is moved to the service port (the diff says so) and
// answers there, and the primary is powered back on at the end.
func TestCookbookVMFailover(t *testing.T) {
	t.Parallel()
	log, _ := labRun(t, filepath.Join(cookbookDir, "vm-failover.yaml"), exitOK)
	s := indexSteps(t, log)
	var off, back struct {
		VM         string `json:"vm"`
		PowerState string `json:"power_state"`
		Already    bool   `json:"already"`
	}
	s.result(t, "primary_off", &off)
	if off.VM != "(65)apfg(02)" || off.PowerState != "poweredOff" || off.Already {
		t.Errorf("primary_off %+v: want (65)apfg(02) powered off by the step", off)
	}
	var up struct {
		Facts struct {
			IP           string `json:"ip"`
			ToolsRunning bool   `json:"tools_running"`
		} `json:"facts"`
	}
	s.result(t, "standby_up", &up)
	if up.Facts.IP == "" || !up.Facts.ToolsRunning {
		t.Errorf("standby_up %+v", up)
	}
	if d := s.diffOf(t, "listen"); !strings.Contains(d, "+Listen "+up.Facts.IP+":8080") {
		t.Errorf("the listen diff does not move httpd to %s:8080:\n%s", up.Facts.IP, d)
	}
	var answers struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	s.result(t, "standby_answers", &answers)
	if answers.Status != 200 || !strings.Contains(answers.Body, "Red Hat Enterprise Linux Test Page") {
		t.Errorf("standby_answers %+v: want the standby's own page", answers)
	}
	s.result(t, "primary_back", &back)
	if back.PowerState != "poweredOn" {
		t.Errorf("primary_back %+v", back)
	}
}

// TestCookbookEditConfigRollsBack runs the edit-with-rollback runbook
// twice: with a good value the edit stays and the page answers; with a
// port httpd cannot bind the restart fails, on_failure puts the backup
// back, and the guest's httpd.conf is the original again, serving.
func TestCookbookEditConfigRollsBack(t *testing.T) {
	t.Parallel()
	runbook := filepath.Join(cookbookDir, "edit-config-rollback.yaml")
	t.Run("good", func(t *testing.T) {
		t.Parallel()
		log, dir := labRun(t, runbook, exitOK)
		s := indexSteps(t, log)
		if d := s.diffOf(t, "edit"); !strings.Contains(d, "-Timeout 120") || !strings.Contains(d, "+Timeout 300") {
			t.Errorf("edit diff:\n%s", d)
		}
		if f := s.finish["rollback"]; f != nil {
			t.Errorf("rollback ran after a good edit: %+v", f)
		}
		conf := guestFile(t, dir, "ap02", "/etc/httpd/conf/httpd.conf")
		if !strings.Contains(conf, "\nTimeout 300\n") {
			t.Errorf("httpd.conf after the run does not have the new Timeout:\n%s", conf)
		}
	})
	t.Run("bad", func(t *testing.T) {
		t.Parallel()
		log, dir := labRun(t, runbook, exitFailed, "--var", "listen_port=99999")
		s := indexSteps(t, log)
		if f := s.finish["restart"]; f == nil || f.Status != journal.StatusFailed || !strings.Contains(f.Error, "99999") {
			t.Fatalf("restart finish %+v: want httpd failing to bind port 99999", f)
		}
		var edit struct {
			Backup string `json:"backup"`
		}
		s.result(t, "edit", &edit)
		for _, id := range []string{"rollback", "restart_old", "check_old"} {
			if f := s.finish[id]; f == nil || f.Status != journal.StatusOK {
				t.Errorf("%s finish %+v: want ok", id, f)
			}
		}
		conf := guestFile(t, dir, "ap02", "/etc/httpd/conf/httpd.conf")
		backup := guestFile(t, dir, "ap02", edit.Backup)
		if conf != backup {
			t.Errorf("httpd.conf after the rollback differs from the backup %s", edit.Backup)
		}
		if !strings.Contains(conf, "\nTimeout 120\n") || !strings.Contains(conf, ":8080\n") || strings.Contains(conf, "99999") {
			t.Errorf("httpd.conf after the rollback is not the original:\n%s", conf)
		}
	})
}

// expectRE waits until the screen, after what earlier expects consumed,
// matches re, or fails once drbook has exited without showing it. It
// waits on drbook's output, not on a clock: a hang is the test binary's
// -timeout to report.
func expectRE(p *ptyDrbook, re *regexp.Regexp) {
	p.t.Helper()
	for {
		s := p.flat()
		if loc := re.FindStringIndex(s[min(p.seen, len(s)):]); loc != nil {
			p.seen += loc[1]
			return
		}
		select {
		case <-p.read: // drbook exited and all it wrote was read
			if s := p.flat(); re.MatchString(s[min(p.seen, len(s)):]) {
				continue
			}
			p.t.Fatalf("drbook exited (%v) before showing /%s/; the screen showed:\n%s", p.waitErr(), re, tail(p.screen(), 3000))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// guestFile reads a file of a lab guest as a run left it: lab runs keep
// their guests' files in the run directory.
func guestFile(t *testing.T, runDir, guest, path string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(runDir, "lab", "guests", guest))
	if len(matches) != 1 {
		t.Fatalf("no files of guest %s under %s", guest, runDir)
	}
	b, err := os.ReadFile(filepath.Join(matches[0], filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCookbookManualStep drives the manual step as an operator does, on a
// terminal: the instructions show, each checklist item is confirmed on its own and recorded, and the
// ticket entered is journaled and used by the next step.
func TestCookbookManualStep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runbook, err := filepath.Abs(filepath.Join(cookbookDir, "manual-step.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := startPTY(t, dir, "run", "--lab", "--operator", "alice", "--runs-dir", "runs", runbook)
	p.expect("✋ desk — by hand:")
	p.expect("Call the help desk (ext. 1234)")
	p.expect("[1/1] The help desk has put up the notice — done? [y]es / [n]o: ")
	p.send("y\r")
	p.expect("Help desk ticket (string, required): ")
	p.send("CHG-42\r")
	// The checklist's answered line also ends in "done? [y]es / [n]o:" and
	// the live view redraws it; only the step's own question follows the
	// ticket. A key typed before that question is up would be lost. (The
	// screen is matched without its line breaks.)
	expectRE(p, regexp.MustCompile(`CHG-42\s*done\? \[y\]es / \[n\]o: `))
	p.send("y\r")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("exit %d; the screen showed:\n%s", code, tail(p.screen(), 3000))
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	s := indexSteps(t, log)
	var desk struct {
		Who    string         `json:"who"`
		Inputs map[string]any `json:"inputs"`
	}
	s.result(t, "desk", &desk)
	if desk.Who != "alice" || desk.Inputs["ticket"] != "CHG-42" {
		t.Errorf("desk result %+v", desk)
	}
	if f := s.finish["desk"]; f.HumanWait <= 0 {
		t.Errorf("the manual step recorded no human wait: %+v", f)
	}
	if ev := evidenceOf(log, "desk", "Checklist confirmed by the operator"); ev == nil || ev.Table == nil ||
		len(ev.Table.Rows) != 1 || ev.Table.Rows[0][1] != "The help desk has put up the notice / 服務台已張貼公告" || ev.Table.Rows[0][2] != "yes" || ev.Table.Rows[0][3] != "alice" {
		t.Errorf("desk checklist evidence %+v, want the item confirmed by alice", ev.Table)
	}
	var noted struct {
		Text string `json:"text"`
	}
	s.result(t, "noted", &noted)
	if noted.Text != "help desk ticket CHG-42, confirmed by alice" {
		t.Errorf("noted %q", noted.Text)
	}
	if !slices.ContainsFunc(log.Events, func(e journal.Event) bool { return e.Step == "service_before" && e.StepFinish != nil }) {
		t.Error("the run stopped after the manual step")
	}
}

// TestNewSkeletonRunsAgainstLab: the skeleton `drbook new` writes does not
// only validate, it runs: its service check and assertion pass against
// the lab's AP server.
func TestNewSkeletonRunsAgainstLab(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "first-drill.yaml")
	var stdout, stderr bytes.Buffer
	if code := runMain([]string{"new", "-o", out, "first-drill"}, strings.NewReader(""), &stdout, &stderr); code != exitOK {
		t.Fatalf("drbook new exited %d: %s", code, stderr.String())
	}
	log, _ := labRun(t, out, exitOK)
	s := indexSteps(t, log)
	var status struct {
		Active bool `json:"active"`
	}
	s.result(t, "httpd_status", &status)
	if !status.Active {
		t.Errorf("the skeleton's httpd_status step found httpd not active")
	}
	if f := s.finish["running"]; f == nil || f.Status != journal.StatusOK {
		t.Errorf("the skeleton's assertion: %+v", f)
	}
}
