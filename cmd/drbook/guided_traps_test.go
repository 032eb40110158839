package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

const byHandRunbook = `name: byhand
rto: 5m
steps:
  - id: fail_source
    name: {en: "Power the AP server off"}
    confirm: true
    disruptive: true
    exec.local: {shell: "echo off-by-drbook >> markers.txt"}
  - id: check
    name: {en: "Check the standby"}
    recovery: true
    confirm: true
    log: checking
finally:
  - id: source_back
    when: steps.fail_source.happened
    exec.local: {shell: "echo source_back >> markers.txt"}
`

// TestGuidedDoneByHandCarriesThrough: a disruptive step done by hand is a
// disruption that happened: the RTO clock starts when the operator says
// it was done, and the finally guard steps.X.happened brings the source
// back (the old guard, status == "ok", left the real AP server off).
func TestGuidedDoneByHandCarriesThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "byhand.yaml", byHandRunbook)
	p := startPTY(t, dir, "run", "--operator", "erin", "--runs-dir", "runs", "byhand.yaml")
	p.expect("site ")
	p.expect(" · mode drill")
	p.expect("── fail_source [exec.local] Power the AP server off")
	p.expect("this step is DISRUPTIVE: the RTO clock starts with it")
	p.expect("goes down: localhost")
	p.expect("[a]bort? ")
	p.send("d\r")
	p.expect("reason for marking it done by hand (required): ")
	p.send("pulled the plug at the console\r")
	p.expect("── check [log] Check the standby")
	// The clock runs from the done-by-hand moment, while the operator
	// still has the next prompt in front of them.
	p.expect("RTO clock: 0:")
	p.expect("[a]bort? ")
	p.send("r\r")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
	}
	if !regexp.MustCompile(`RTO: recovered in [0-9.]+m?s · objective 5m0s · met`).MatchString(p.screen()) {
		t.Errorf("no RTO measured from the done-by-hand step:\n%s", tail(p.screen(), 1500))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "source_back\n" {
		t.Errorf("markers.txt = %q, want only source_back: drbook must not power it off, and finally must bring it back", b)
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	f := lastFinishOf(log, "fail_source")
	if f == nil || f.Status != journal.StatusManual || f.Started.IsZero() {
		t.Fatalf("fail_source finish %+v, want done-by-hand with its time", f)
	}
	for _, ev := range log.Events {
		if ev.Type == journal.TypeDecision && ev.Step == "fail_source" && !f.Started.Before(ev.Time) {
			t.Errorf("the step is dated %s, not before the decision journaled at %s (when the reason was typed)", f.Started, ev.Time)
		}
	}
}

const skipDepsRunbook = `name: skipdeps
steps:
  - id: shut
    name: {en: "Shut down the test host"}
    confirm: true
    disruptive: true
    exec.local: {shell: "echo shut >> markers.txt"}
  - id: ha
    name: {en: "Wait for the restart"}
    exec.local: {shell: "echo ha ${{ steps.shut.status }} >> markers.txt"}
  - id: moved
    assert: {that: 'steps.ha.status == "ok"'}
  - id: unrelated
    exec.local: {shell: "echo unrelated >> markers.txt"}
`

// TestGuidedSkipOffersToSkipDependents: skipping a step offers to skip
// the later steps that read its outcome, directly or through another;
// yes skips them with a reason naming the skipped step, and the rest of
// the run goes on.
func TestGuidedSkipOffersToSkipDependents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeGuidedRunbook(t, dir, "skip.yaml", skipDepsRunbook)
	p := startPTY(t, dir, "run", "--operator", "fay", "--runs-dir", "runs", "skip.yaml")
	p.expect("[a]bort? ")
	p.send("s\r")
	p.expect("reason for skipping (required): ")
	p.send("host in use tonight\r")
	p.expect("these later steps use the outcome of shut: ha (Wait for the restart), moved")
	p.expect("skip them too? [y]es / [n]o: ")
	p.send("y\r")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "markers.txt")); string(b) != "unrelated\n" {
		t.Errorf("markers.txt = %q, want only unrelated", b)
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	if d := findDecision(t, log, "shut", "skip-dependents"); d.Reason != "ha, moved" || d.Who != "fay" {
		t.Errorf("skip-dependents decision %+v", d)
	}
	for _, id := range []string{"ha", "moved"} {
		if f := lastFinishOf(log, id); f == nil || f.Status != journal.StatusSkipped || !strings.Contains(f.Reason, "depends on step shut") {
			t.Errorf("%s finish %+v, want skipped as a dependent of shut", id, f)
		}
	}
}

// TestGuidedReferenceDrillSkipShut: in the HA drill against the lab, the
// shutdown's prompt lists what goes down (the host, its four VMs from the
// placement just recorded, the monitors); skipping it skips the HA wait
// (its guard, steps.shut.happened, is false) instead of waiting minutes
// for a restart that cannot come, and the host is not "powered back on".
func TestGuidedReferenceDrillSkipShut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rb, err := filepath.Abs("../../runbooks/sanchong/ha-host-failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startPTY(t, dir, "run", "--lab", "--operator", "gus", "--runs-dir", "runs", rb)
	p.expect("site sanchong-lab · vCenter the embedded lab (simulated) · mode lab")
	p.expect("── shut [vcenter.host.shutdown]")
	p.expect("goes down: esx-68, VM ")
	screen := p.screen()
	line := screen[strings.LastIndex(screen, "goes down: esx-68"):]
	line = line[:strings.IndexByte(line, '\n')]
	if n := strings.Count(line, "VM "); n != 4 {
		t.Errorf("the prompt lists %d VMs, want the 4 on esx-68: %q", n, line)
	}
	if !strings.Contains(line, "monitor ap-web") || !strings.Contains(line, "monitor vm-apfg02") {
		t.Errorf("the prompt does not name the monitors that will see the outage: %q", line)
	}
	p.expect("[a]bort? ")
	p.send("s\r")
	p.expect("reason for skipping (required): ")
	p.send("not tonight\r")
	p.expect("skip them too? [y]es / [n]o: ")
	p.send("n\r")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
	}
	log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
	for _, id := range []string{"ha", "power_on", "host_back"} {
		if f := lastFinishOf(log, id); f == nil || f.Status != journal.StatusSkipped || countStarts(log, id) != 0 {
			t.Errorf("%s: finish %+v, want skipped without starting", id, f)
		}
	}
}

// TestHADrillShowsRestartProgressAndMarksTheBaseline: verify_restart says
// how many VMs are back as they come back ("N of 4 restarted"), and the
// monitors' states seen before the shutdown are journaled as baseline,
// with every monitor's state journaled again (up) when it starts.
func TestHADrillShowsRestartProgressAndMarksTheBaseline(t *testing.T) {
	t.Parallel()
	runs := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runMain([]string{"run", "--lab", "../../runbooks/sanchong/ha-host-failure.yaml", "--yes", "--runs-dir", runs}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "ha: 4 of 4 restarted on other hosts") {
		t.Errorf("no restart progress in the output:\n%s", stdout.String())
	}
	m, _ := filepath.Glob(filepath.Join(runs, "*", journal.FileName))
	if len(m) != 1 {
		t.Fatalf("journals %v", m)
	}
	log := readJournal(t, filepath.Dir(m[0]))
	shutAt := -1
	marked := map[string]string{}
	for i, ev := range log.Events {
		if ev.Type == journal.TypeStepStart && ev.Step == "shut" {
			shutAt = i
		}
		if ev.Monitor == nil {
			continue
		}
		if strings.Contains(ev.Monitor.Detail, "first disruptive step started") {
			marked[ev.Monitor.Name] = ev.Monitor.State
			if ev.Monitor.Baseline {
				t.Errorf("the disruption's mark of %s is flagged baseline", ev.Monitor.Name)
			}
			continue
		}
		before := shutAt < 0
		if ev.Monitor.Baseline != before {
			t.Errorf("monitor event %d (%s %s) baseline=%v, want %v (before the shutdown)", i, ev.Monitor.Name, ev.Monitor.State, ev.Monitor.Baseline, before)
		}
		// Nothing was disrupted yet, so no probe may see the service down;
		// "unknown" (a probe that overran its interval on a busy machine)
		// is allowed: it says nothing about the service.
		if before && ev.Monitor.State != "up" && ev.Monitor.State != "unknown" {
			t.Errorf("monitor %s was %s before the shutdown", ev.Monitor.Name, ev.Monitor.State)
		}
	}
	if marked["ap-web"] != "up" || marked["vm-apfg02"] != "up" || len(marked) != 2 {
		t.Errorf("monitor states journaled at the disruption: %v, want both up", marked)
	}
}
