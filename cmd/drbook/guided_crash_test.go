package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// labKillIterations is 50 by default (about 40 s on 2 shared cores);
// DRBOOK_LAB_KILLS runs more, e.g. the long variant:
//
//	DRBOOK_LAB_KILLS=300 go test -run TestLabDrillSurvivesSIGKILL -timeout 30m ./cmd/drbook/
func labKillIterations(t *testing.T) int {
	if s := os.Getenv("DRBOOK_LAB_KILLS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("DRBOOK_LAB_KILLS=%q is not a positive number", s)
		}
		return n
	}
	return 20
}

// labKillSpeed makes the lab's 15 s heartbeat timeout and host boot short.
const labKillSpeed = "300"

// labKillParallel is how many kill-and-resume rounds run at once: each
// round is two drbook processes with a lab inside, on 2 shared cores.
const labKillParallel = 3

// TestLabDrillSurvivesSIGKILL runs the lab HA drill and kills drbook with
// SIGKILL (its whole process group, as a crash would) at many moments,
// spread over the drill by the number of journal lines written. Every
// time, `drbook resume RUN_DIR --yes` must finish the drill (a resume still
// running at the hang guard is waiting for something the restored lab will
// never do), asking for --rerun-interrupted (exit 3), if at all, only
// because a step that is not idempotent was interrupted; the restored lab must be the
// world the run left, finishing whatever it was in the middle of (host .68
// going down, HA's heartbeat timeout, restart batches, guests booting, the
// host booting), or the waiting steps hang; no step is journaled ok twice;
// and `drbook report --format json` agrees with the journal.
func TestLabDrillSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a hundred drbook processes")
	}
	began := time.Now()
	runbook, err := filepath.Abs(filepath.Join("..", "..", "runbooks", "sanchong", "ha-host-failure.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()

	// A run nobody kills: the reference journal length.
	ref := filepath.Join(base, "reference")
	os.Mkdir(ref, 0o755)
	if out, errOut, code := runDrbook(t, ref, "run", "--lab", "--yes", "--lab-speed", labKillSpeed, "--runs-dir", "runs", runbook); code != 0 {
		t.Fatalf("the lab drill fails without a crash: exit %d\n%s\n%s", code, out, errOut)
	}
	total := len(readJournal(t, onlyRunDir(t, filepath.Join(ref, "runs"))).Events)

	n := labKillIterations(t)
	rounds := make([]killRound, n)
	sem := make(chan struct{}, labKillParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rounds[i] = killAndResume(t, base, runbook, i, n, total)
		}()
	}
	wg.Wait()

	outcomes, steps, labs := map[string]int{}, map[string]int{}, map[string]int{}
	var slowest, sum time.Duration
	slowestKill := 0
	for i, r := range rounds {
		outcomes[r.outcome]++
		steps[r.killedAt]++
		labs[r.labWas]++
		sum += r.resumed
		if r.resumed > slowest {
			slowest, slowestKill = r.resumed, i
		}
	}
	t.Logf("%d kills over a %d-event drill in %s (%d at a time)", n, total, time.Since(began).Round(100*time.Millisecond), labKillParallel)
	t.Logf("outcomes: %s", countsLine(outcomes))
	t.Logf("killed: %s", countsLine(steps))
	t.Logf("the saved lab was: %s", countsLine(labs))
	t.Logf("resume took %s on average, %s at most (kill %d)", (sum / time.Duration(n)).Round(time.Millisecond), slowest.Round(time.Millisecond), slowestKill)
	// Every step of this drill is idempotent since vcenter.host.shutdown of
	// a host already down succeeds (40c0018), so exit 3 is now rare here;
	// TestCrashResume covers it with exec.local. What this test exists for
	// is the two steps that wait on what the restored lab was in the middle
	// of: the last rounds kill inside each of them, found by its start line,
	// so each is hit however few rounds are spread over the other lines
	// (20 by default; DRBOOK_LAB_KILLS=200 for a kill at every line).
	if n > len(labKillTargets) {
		for _, step := range labKillTargets {
			if steps["in "+step] == 0 {
				t.Errorf("no kill came while %s ran: the resume of a lab mid-transition went untested (kills: %s)", step, countsLine(steps))
			}
		}
	}
}

// labKillTargets are the steps the last rounds of TestLabDrillSurvivesSIGKILL
// kill inside of, one round each.
var labKillTargets = []string{"ha", "host_back"}

// killRound is what one kill and its resumes found.
type killRound struct {
	// outcome is the path the resume took.
	outcome string
	// killedAt is where the journal says the run was: "in STEP" or
	// "after STEP".
	killedAt string
	// labWas is what lab-state.json says the lab was in the middle of.
	labWas string
	// resumed is how long the resumes took together.
	resumed time.Duration
}

// countsLine prints counts sorted by name: "a 3, b 1".
func countsLine(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// killAndResume does one kill and the resumes after it.
func killAndResume(t *testing.T, base, runbook string, i, n, total int) killRound {
	work := filepath.Join(base, fmt.Sprintf("kill-%03d", i))
	os.Mkdir(work, 0o755)
	runsDir := filepath.Join(work, "runs")
	// Kill once `lines` whole lines are in the journal (plus a jitter).
	lines := 1 + i*(total-1)/n
	// --no-preflight: the kills are counted in journal lines, and the
	// preflight (tested on its own) only delays the first of them.
	cmd, stdout, stderr := drbookCommand(t, work, "run", "--lab", "--yes", "--no-preflight", "--lab-speed", labKillSpeed, "--runs-dir", "runs", runbook)
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return killRound{outcome: "error"}
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	until := func(whole []byte) bool { return bytes.Count(whole, []byte("\n")) >= lines }
	// The last rounds kill inside the two steps that wait on what the
	// restored lab was in the middle of, found by their start line: a
	// line count lands in a short step only by luck of the scheduling.
	target := ""
	if k := n - 1 - i; k < len(labKillTargets) && n > len(labKillTargets) {
		target = labKillTargets[k]
		until = func(whole []byte) bool { return bytes.Contains(whole, []byte(`"step":"`+target+`","step_start"`)) }
	}
	runDir, ok := waitForJournal(t, runsDir, exited, until)
	if ok && target == "" {
		time.Sleep(time.Duration(i%7) * 300 * time.Microsecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	if runDir == "" {
		t.Errorf("kill %d: no run directory\nstdout:\n%s\nstderr:\n%s", i, stdout, stderr)
		return killRound{outcome: "error"}
	}
	round := killRound{outcome: "resumed", killedAt: killPoint(runDir), labWas: savedLabPhase(runDir)}
	savedState, _ := os.ReadFile(filepath.Join(runDir, labStateName))

	began := time.Now()
	out, errOut, code := resumeWithin(t, work, "resume", "--yes", runDir)
	if code == exitPaused {
		// The only acceptable reason: a step that is not idempotent was
		// interrupted and the operator must say it may run again.
		if !strings.Contains(errOut, "was interrupted while it ran") || !strings.Contains(errOut, "--rerun-interrupted") {
			t.Errorf("kill %d: resume exited 3 for another reason:\n%s", i, errOut)
			round.outcome = "error"
			return round
		}
		round.outcome = "exit 3 then --rerun-interrupted"
		out, errOut, code = resumeWithin(t, work, "resume", "--yes", "--rerun-interrupted", runDir)
	}
	round.resumed = time.Since(began)
	if code != exitOK {
		why := fmt.Sprintf("exited %d", code)
		if code == -1 {
			why = "did not finish before the hang guard (killed): it waits for something the restored lab never does"
		}
		t.Errorf("kill %d (after %d lines, %s; the saved lab was: %s): resume %s\nstdout:\n%s\nstderr:\n%s\nlab-state.json the resume started from:\n%s",
			i, lines, round.killedAt, round.labWas, why, out, errOut, savedState)
		round.outcome = "error"
		return round
	}
	if strings.Contains(out, "already finished") {
		round.outcome = "had finished"
	}
	checkCrashJournal(t, i, runDir)
	return round
}

// killPoint says where the journal of a killed run stops: in a step (its
// start journaled, not its finish), after one, or after the run's end.
func killPoint(runDir string) string {
	data, err := os.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return "no journal"
	}
	point := "before the first step"
	for _, line := range bytes.Split(data, []byte("\n")) {
		var ev journal.Event
		if json.Unmarshal(line, &ev) != nil {
			continue // the line the kill tore
		}
		switch ev.Type {
		case journal.TypeStepStart:
			point = "in " + ev.Step
		case journal.TypeStepFinish:
			point = "after " + ev.Step
		case journal.TypeRunEnd:
			point = "after the run's end"
		}
	}
	return point
}

// savedLabPhase says what the lab saved in runDir was in the middle of, as
// far as host .68 and HA go (see lab/vc's State).
func savedLabPhase(runDir string) string {
	data, err := os.ReadFile(filepath.Join(runDir, labStateName))
	if err != nil {
		return "not saved"
	}
	var file struct {
		VCenter struct {
			Hosts []struct {
				Name   string `json:"name"`
				Phase  string `json:"phase"`
				Failed bool   `json:"ha_failed"`
			} `json:"hosts"`
			VMs []struct {
				GuestReadyAt time.Time `json:"guest_ready_at"`
			} `json:"vms"`
			Failovers []struct {
				Pending []string `json:"pending"`
			} `json:"failovers"`
		} `json:"vcenter"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return "unreadable"
	}
	phase := "esx-68 ?"
	for _, h := range file.VCenter.Hosts {
		if h.Name == "esx-68" {
			phase = "esx-68 " + h.Phase
			if h.Failed {
				phase += " (HA failed it)"
			}
		}
	}
	for _, f := range file.VCenter.Failovers {
		phase += fmt.Sprintf(", %d VMs left to restart", len(f.Pending))
	}
	booting := 0
	for _, v := range file.VCenter.VMs {
		if !v.GuestReadyAt.IsZero() {
			booting++
		}
	}
	if booting > 0 {
		phase += fmt.Sprintf(", %d guests booting", booting)
	}
	return phase
}

// checkCrashJournal checks the journal after the resumes and the JSON
// report against it.
func checkCrashJournal(t *testing.T, i int, runDir string) {
	log := readJournal(t, runDir)
	okFinishes := map[string]int{}
	last := map[string]string{}
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish {
			last[ev.Step] = ev.StepFinish.Status
			if ev.StepFinish.Status == journal.StatusOK {
				okFinishes[ev.Step]++
			}
		}
	}
	for id, c := range okFinishes {
		if c > 1 {
			t.Errorf("kill %d: step %s finished ok %d times", i, id, c)
		}
	}
	var start *journal.RunStart
	for _, ev := range log.Events {
		if ev.Type == journal.TypeRunStart {
			start = ev.RunStart
		}
	}
	for _, p := range start.Steps {
		if last[p.ID] != journal.StatusOK {
			t.Errorf("kill %d: step %s ended %q, want ok", i, p.ID, last[p.ID])
		}
	}
	end := log.Events[len(log.Events)-1]
	if end.Type != journal.TypeRunEnd || end.RunEnd.Result != "passed" {
		t.Errorf("kill %d: the journal does not end with a passed run: %+v", i, end)
	}

	out, errOut, code := runDrbook(t, filepath.Dir(runDir), "report", "--format", "json", runDir)
	if code != exitOK {
		t.Errorf("kill %d: report exited %d: %s", i, code, errOut)
		return
	}
	var rep struct {
		Summary struct {
			Passed bool `json:"passed"`
		} `json:"summary"`
		Steps []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"steps"`
		Integrity struct {
			FinalHash     string `json:"final_hash"`
			Lines         int    `json:"lines"`
			ChainVerified bool   `json:"chain_verified"`
		} `json:"integrity"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Errorf("kill %d: report JSON: %v", i, err)
		return
	}
	if !rep.Summary.Passed || !rep.Integrity.ChainVerified || rep.Integrity.FinalHash != log.Head || rep.Integrity.Lines != len(log.Events) {
		t.Errorf("kill %d: report summary/integrity %+v %+v disagree with the journal (head %s, %d events)", i, rep.Summary, rep.Integrity, log.Head, len(log.Events))
	}
	seen := map[string]bool{}
	for _, s := range rep.Steps {
		seen[s.ID] = true
		if want := last[s.ID]; s.Status != want {
			t.Errorf("kill %d: report says step %s is %q, the journal %q", i, s.ID, s.Status, want)
		}
	}
	for _, p := range start.Steps {
		if !seen[p.ID] {
			t.Errorf("kill %d: the report has no row for step %s", i, p.ID)
		}
	}
}

// resumeWithin runs drbook like runDrbook but gives up at the hang guard
// with code -1 instead of failing the test from a helper
// goroutine.
func resumeWithin(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	cmd, out, errOut := drbookCommand(t, dir, args...)
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return "", "", -2
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Error(err)
			code = -2
		}
		return out.String(), errOut.String(), code
	case <-time.After(hangGuard(t)):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), errOut.String(), -1
	}
}
