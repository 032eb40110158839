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
    name: {en: "Power the AP server off", zh-TW: "將 AP 伺服器關機"}
    confirm: true
    disruptive: true
    exec.local: {shell: "echo off-by-drbook >> markers.txt"}
  - id: check
    name: {en: "Check the standby", zh-TW: "檢查備援主機"}
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
// back (the old guard, status == "ok", left the real AP server off). The
// header names the site and the mode; the prompt says what goes down.
func TestGuidedDoneByHandCarriesThrough(t *testing.T) {
	t.Parallel()
	words := screenWords{
		"en": {"site": "site ", "mode": " · mode drill", "step": "── fail_source [exec.local] Power the AP server off",
			"disruptive": "this step is DISRUPTIVE: the RTO clock starts with it", "down": "goes down: localhost",
			"confirm": "[r]un, [s]kip, [d]one by hand, [a]bort? ", "reason": "reason for marking it done by hand (required): ",
			"next": "── check [log] Check the standby", "clock": "RTO clock: 0:", "rto": `RTO: recovered in [0-9.]+m?s · objective 5m0s · met`},
		"zh-TW": {"site": "場域 ", "mode": " · 模式 演練", "step": "── fail_source [exec.local] 將 AP 伺服器關機",
			"disruptive": "本步驟為破壞性步驟：RTO 自此起算", "down": "將停機：localhost",
			"confirm": "[r]執行 [s]略過 [d]人工完成 [a]中止？", "reason": "人工完成之說明（必填）：",
			"next": "── check [log] 檢查備援主機", "clock": "RTO 計時：0:", "rto": `RTO：已於 [0-9.]+m?s 內復原 · 目標 5m0s · 達成`},
	}
	runTraps(t, words, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "byhand.yaml", byHandRunbook)
		p := r.start(t, dir, "run", "--operator", "erin", "--runs-dir", "runs", "byhand.yaml")
		p.expect(say("site"))
		p.expect(say("mode"))
		p.expect(say("step"))
		p.expect(say("disruptive"))
		p.expect(say("down"))
		p.expect(say("confirm"))
		p.send("d\r")
		p.expect(say("reason"))
		p.send("pulled the plug at the console\r")
		p.expect(say("next"))
		// The clock runs from the done-by-hand moment, while the operator
		// still has the next prompt in front of them.
		p.expect(say("clock"))
		p.expect(say("confirm"))
		p.send("r\r")
		code := p.exitCode()
		if code != exitOK {
			t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
		}
		if !regexp.MustCompile(say("rto")).MatchString(p.screen()) {
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
		return outcomeOf(code, log)
	})
}

const skipDepsRunbook = `name: skipdeps
steps:
  - id: shut
    name: {en: "Shut down the test host", zh-TW: "將測試主機關機"}
    confirm: true
    disruptive: true
    exec.local: {shell: "echo shut >> markers.txt"}
  - id: ha
    name: {en: "Wait for the restart", zh-TW: "等待重新啟動"}
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
	words := screenWords{
		"en": {"confirm": "[r]un, [s]kip, [d]one by hand, [a]bort? ", "reason": "reason for skipping (required): ",
			"deps": "these later steps use the outcome of shut: ha (Wait for the restart), moved", "skip": "skip them too? [y]es / [n]o: "},
		"zh-TW": {"confirm": "[r]執行 [s]略過 [d]人工完成 [a]中止？", "reason": "略過原因（必填）：",
			"deps": "以下後續步驟使用 shut 之結果：ha (等待重新啟動), moved", "skip": "一併略過？[y]是 / [n]否："},
	}
	runTraps(t, words, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		writeGuidedRunbook(t, dir, "skip.yaml", skipDepsRunbook)
		p := r.start(t, dir, "run", "--operator", "fay", "--runs-dir", "runs", "skip.yaml")
		p.expect(say("confirm"))
		p.send("s\r")
		p.expect(say("reason"))
		p.send("host in use tonight\r")
		p.expect(say("deps"))
		p.expect(say("skip"))
		p.send("y\r")
		code := p.exitCode()
		if code != exitOK {
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
		return outcomeOf(code, log)
	})
}

// referenceDrillWords are the HA drill's header and shutdown prompt.
var referenceDrillWords = screenWords{
	"en": {"where": "site sanchong-lab · vCenter the embedded lab (simulated) · mode lab", "down": "goes down: esx-68, VM ",
		"confirm": "[r]un, [s]kip, [d]one by hand, [a]bort? ", "reason": "reason for skipping (required): ",
		"skip": "skip them too? [y]es / [n]o: ", "progress": `\d of 4 restarted on other hosts`},
	"zh-TW": {"where": "場域 sanchong-lab · vCenter 內建模擬環境 · 模式 模擬環境", "down": "將停機：esx-68, VM ",
		"confirm": "[r]執行 [s]略過 [d]人工完成 [a]中止？", "reason": "略過原因（必填）：",
		"skip": "一併略過？[y]是 / [n]否：", "progress": `已於其他主機重新啟動 \d／4 台`},
}

// expectShutdownPrompt waits for the HA drill's shutdown prompt and
// checks that it lists the host, the four VMs the placement just recorded
// on it and the monitors that will see the outage.
func expectShutdownPrompt(t *testing.T, p *ptyDrbook, say func(string) string) {
	t.Helper()
	p.expect(say("where"))
	p.expect("── shut [vcenter.host.shutdown]")
	p.expect(say("down"))
	p.expect(say("confirm"))
	// The frame whose prompt was just read holds the whole question,
	// perhaps wrapped: what it lists runs from "goes down" to the prompt.
	s := p.flat()[:p.seen]
	line := strings.TrimSuffix(s[strings.LastIndex(s, say("down")):], say("confirm"))
	if n := strings.Count(line, "VM "); n != 4 {
		t.Errorf("the prompt lists %d VMs, want the 4 on esx-68: %q", n, line)
	}
	if !strings.Contains(line, " ap-web") || !strings.Contains(line, " vm-apfg02") {
		t.Errorf("the prompt does not name the monitors that will see the outage: %q", line)
	}
}

// TestGuidedReferenceDrillSkipShut: in the HA drill against the lab, the
// header says where the run is (site, the lab instead of a vCenter,
// mode); the shutdown's prompt lists what goes down (the host, its four
// VMs from the placement just recorded, the monitors); skipping it skips
// the HA wait (its guard, steps.shut.happened, is false) instead of
// waiting minutes for a restart that cannot come, and the host is not
// "powered back on".
func TestGuidedReferenceDrillSkipShut(t *testing.T) {
	t.Parallel()
	rb, err := filepath.Abs("../../runbooks/sanchong/ha-host-failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runTraps(t, referenceDrillWords, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		p := r.start(t, dir, "run", "--lab", "--operator", "gus", "--runs-dir", "runs", rb)
		expectShutdownPrompt(t, p, say)
		p.send("s\r")
		p.expect(say("reason"))
		p.send("not tonight\r")
		p.expect(say("skip"))
		p.send("n\r")
		code := p.exitCode()
		if code != exitOK {
			t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
		}
		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		for _, id := range []string{"ha", "power_on", "host_back"} {
			if f := lastFinishOf(log, id); f == nil || f.Status != journal.StatusSkipped || countStarts(log, id) != 0 {
				t.Errorf("%s: finish %+v, want skipped without starting", id, f)
			}
		}
		return outcomeOf(code, log)
	})
}

// TestGuidedReferenceDrillShowsRestartProgress: confirmed, the HA drill's
// shutdown runs, and while verify_restart waits the view shows how many
// of the four VMs HA has restarted ("N of 4 restarted"). The view draws a
// step's progress at its next frame (5 a second); the lab runs at ×10,
// not ×30, so that HA's restarts are on screen for half a second of real
// time rather than 0.16 s, and some frame shows them.
func TestGuidedReferenceDrillShowsRestartProgress(t *testing.T) {
	t.Parallel()
	rb, err := filepath.Abs("../../runbooks/sanchong/ha-host-failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	runTraps(t, referenceDrillWords, func(t *testing.T, r trapRun, say func(string) string) trapOutcome {
		dir := t.TempDir()
		p := r.start(t, dir, "run", "--lab", "--lab-speed", "10", "--operator", "gus", "--runs-dir", "runs", rb)
		expectShutdownPrompt(t, p, say)
		p.send("r\r")
		expectRE(p, regexp.MustCompile(say("progress")))
		code := p.exitCode()
		if code != exitOK {
			t.Fatalf("exit %d; screen:\n%s", code, tail(p.screen(), 2000))
		}
		log := readJournal(t, onlyRunDir(t, filepath.Join(dir, "runs")))
		if f := lastFinishOf(log, "ha"); f == nil || f.Status != journal.StatusOK {
			t.Errorf("ha finish %+v, want ok", f)
		}
		return outcomeOf(code, log)
	})
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
