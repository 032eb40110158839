package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// temporalBinary is the Temporal CLI (its dev server) for the end-to-end
// test: $DRBOOK_TEMPORAL, else `temporal` on $PATH. Without it the test
// skips, unless DRBOOK_E2E=1 (CI), where it fails.
func temporalBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DRBOOK_TEMPORAL"); p != "" {
		return p
	}
	p, err := exec.LookPath("temporal")
	if err == nil {
		return p
	}
	if os.Getenv("DRBOOK_E2E") == "1" {
		t.Fatalf("DRBOOK_E2E=1 but the temporal CLI is not on $PATH and DRBOOK_TEMPORAL is not set (.ci/run builds it: go install github.com/temporalio/cli/cmd/temporal@v1.5.1)")
	}
	t.Skip("no temporal CLI (set DRBOOK_TEMPORAL or put temporal on $PATH)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startTemporalDev starts `temporal server start-dev` on loopback (its
// store in memory) and returns its address once a namespace list answers.
func startTemporalDev(t *testing.T) string {
	t.Helper()
	bin := temporalBinary(t)
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "server", "start-dev", "--ip", "127.0.0.1", "--port", fmt.Sprint(port),
		"--http-port", fmt.Sprint(freePort(t)), "--metrics-port", fmt.Sprint(freePort(t)), "--ui-port", fmt.Sprint(freePort(t)),
		"--headless", "--log-level", "error")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	deadline := time.Now().Add(hangGuard(t) / 4)
	for {
		err := exec.Command(bin, "operator", "namespace", "describe", "--namespace", "default", "--address", addr).Run()
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Temporal dev server at %s never answered: %v\n%s", addr, err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// process is a drbook process the test starts and may kill.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	exited         chan struct{}
}

func startDrbook(t *testing.T, dir string, args ...string) *process {
	t.Helper()
	cmd, stdout, stderr := drbookCommand(t, dir, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stdout: stdout, stderr: stderr, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process and its children (the worker's lab) at once, as
// a crash would.
func (p *process) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// waitFor polls until cond holds; the bound is the hang guard, not a
// speed claim.
func waitFor(t *testing.T, what string, cond func() bool, show func() string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard(t) / 2)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\n%s", what, show())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

const temporalDrill = `name: temporal-e2e
title: {en: "Durable drill on the lab", zh-TW: "於模擬環境之持久演練"}
steps:
  - id: placement
    vcenter.inventory: {record: placement}
  - id: one
    ssh.exec: {host: ap02, command: "echo one >> /root/count.txt"}
  - id: gate
    confirm: true
    ssh.exec: {host: ap02, command: "echo gate >> /root/count.txt"}
  - id: slow
    ssh.exec: {host: ap02, command: "echo slow-begin >> /root/count.txt; sleep 8; echo slow-end >> /root/count.txt"}
  - id: web
    check.http: {url: "${{ site.services.ap_web.url }}", status: 200}
    retry: {attempts: 20, delay: 500ms}
  - id: three
    ssh.exec: {host: ap02, command: "echo three >> /root/count.txt"}
finally:
  - id: last
    ssh.exec: {host: ap02, command: "echo last >> /root/count.txt"}
`

// TestTemporalWorkerKilledMidStep runs a lab drill on a real Temporal dev
// server through a worker: the starter is killed while the run waits for
// a confirmation, which another process answers with `drbook decide`;
// the worker is killed (SIGKILL, with its lab) in the middle of a
// non-idempotent step; a new worker continues the same journal, the
// interrupted step waits for a person's decision (from another process
// again), and the run finishes. The lab guest counts executions: each
// finished step ran once, the killed step's command began twice (killed,
// then re-run by decision) and ended once. The journal verifies and the
// report renders.
func TestTemporalWorkerKilledMidStep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server and several drbook processes")
	}
	t0 := time.Now()
	phase := func(what string) { t.Logf("%6.1fs %s", time.Since(t0).Seconds(), what) }
	addr := startTemporalDev(t)
	phase("dev server up")
	work := t.TempDir()
	site := filepath.Join(work, "site")
	os.Mkdir(site, 0o755)
	rb := filepath.Join(work, "drill.yaml")
	if err := os.WriteFile(rb, []byte(temporalDrill), 0o644); err != nil {
		t.Fatal(err)
	}
	worker := []string{"worker", "--temporal", addr, "--lab", "--lab-speed", "30", "--runs-dir", "runs", "--operator", "site-worker"}
	w1 := startDrbook(t, site, worker...)
	waitFor(t, "the first worker", func() bool { return strings.Contains(w1.stdout.String(), "worker for site") },
		func() string { return w1.stdout.String() + w1.stderr.String() })

	starter := startDrbook(t, work, "run", "--temporal", addr, "--lab", "--operator", "ann", rb)
	runID := ""
	re := regexp.MustCompile(`run (\S+-temporal-e2e) started`)
	waitFor(t, "the confirmation of gate", func() bool {
		if m := re.FindStringSubmatch(starter.stdout.String()); m != nil {
			runID = m[1]
		}
		return strings.Contains(starter.stdout.String(), "waits for a confirm answer: drbook decide "+runID+" gate ")
	}, func() string { return starter.stdout.String() + starter.stderr.String() + w1.stderr.String() })
	// The starting machine dies: the run does not.
	starter.kill()
	phase("starter killed at the confirmation")

	runDir := filepath.Join(site, "runs", runID)
	count := filepath.Join(runDir, "lab", "guests", "ap02", "root", "count.txt")
	if got := readCount(count); got != "one" {
		t.Fatalf("before gate was confirmed the guest counted %q, want one", got)
	}
	out, errOut, code := runDrbook(t, work, "decide", runID, "gate", "--temporal", addr, "--yes", "--as", "bo", "--reason", "change window open")
	if code != 0 {
		t.Fatalf("decide gate exited %d\n%s%s", code, out, errOut)
	}

	// Kill the worker while slow's command sleeps on the guest.
	waitFor(t, "slow to begin on the guest", func() bool { return strings.Contains(readCount(count), "slow-begin") },
		func() string { return readCount(count) + "\n" + w1.stdout.String() + w1.stderr.String() })
	w1.kill()
	phase("worker killed mid-step")
	if got := readCount(count); got != "one gate slow-begin" {
		t.Fatalf("at the kill the guest counted %q", got)
	}
	crashed, _ := readVerifiedJournal(t, runDir)
	if h := histories(crashed)["slow"]; h == nil || !h.interrupted() {
		t.Fatalf("the kill did not land inside slow: %+v", h)
	}

	w2 := startDrbook(t, site, worker...)
	// Temporal gives slow to the new worker once the first one's
	// heartbeat is missed; exec is not idempotent, so it waits.
	waitFor(t, "the decision on slow", func() bool {
		o, _, _ := runDrbook(t, work, "decide", runID, "--temporal", addr)
		return strings.Contains(o, "waits for a rerun-interrupted answer: drbook decide "+runID+" slow ")
	}, func() string { return w2.stdout.String() + w2.stderr.String() })
	if got := readCount(count); got != "one gate slow-begin" {
		t.Fatalf("the interrupted step ran again without a decision: the guest counted %q", got)
	}
	phase("the new worker asks about slow")
	out, errOut, code = runDrbook(t, work, "decide", runID, "slow", "--temporal", addr, "--yes", "--as", "cy", "--reason", "checked: the first copy died with the worker")
	if code != 0 {
		t.Fatalf("decide slow exited %d\n%s%s", code, out, errOut)
	}
	waitFor(t, "the run's end", func() bool {
		o, _, _ := runDrbook(t, work, "decide", runID, "--temporal", addr)
		return strings.Contains(o, "phase ended")
	}, func() string { return w2.stdout.String() + w2.stderr.String() })

	phase("run ended")
	if got, want := readCount(count), "one gate slow-begin slow-begin slow-end three last"; got != want {
		t.Errorf("the guest counted %q, want %q: a finished step ran again or a step did not run", got, want)
	}
	log, _ := readVerifiedJournal(t, runDir)
	for id, want := range map[string]string{"placement": "ok", "one": "ok", "gate": "ok", "slow": "interrupted,ok", "web": "ok", "three": "ok", "last": "ok"} {
		var got []string
		for _, ev := range log.Events {
			if ev.StepFinish != nil && ev.Step == id {
				got = append(got, ev.StepFinish.Status)
			}
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s finished %v in the journal, want %s", id, got, want)
		}
	}
	var ds []string
	for _, ev := range log.Events {
		if ev.Decision != nil {
			ds = append(ds, ev.Step+" "+ev.Decision.Action+" "+ev.Decision.Who)
		}
	}
	for _, want := range []string{"gate run bo@", "slow rerun-interrupted cy@"} {
		if !strings.Contains(strings.Join(ds, "\n"), want) {
			t.Errorf("decisions %q lack %q", ds, want)
		}
	}
	if last := log.Events[len(log.Events)-1]; last.RunEnd == nil || last.RunEnd.Result != "passed" {
		t.Errorf("the journal ends with %+v, want run.end passed", last)
	}
	if out, errOut, code := runDrbook(t, work, "verify", runDir); code != 0 || !strings.Contains(out, "hash chain intact") {
		t.Errorf("verify exited %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runDrbook(t, work, "report", "--format", "md", runDir)
	if code != 0 || !strings.Contains(out, "Durable drill on the lab") || !strings.Contains(out, "PASSED") {
		t.Errorf("report exited %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(runDir, "report.html")); err != nil {
		t.Errorf("the worker did not write the report at the run's end: %v", err)
	}
	secret := readSecret(t, runDir)
	if strings.Contains(string(mustRead(t, filepath.Join(runDir, journal.FileName))), secret) {
		t.Error("the lab's vCenter password reached the journal")
	}
	// Nor the workflow history on the server, which holds the runbook,
	// the plan, the answers and each step's outcome.
	history, err := exec.Command(temporalBinary(t), "workflow", "show", "--workflow-id", runID, "--address", addr, "--output", "json").CombinedOutput()
	// The payloads must be readable for the check to mean anything: the
	// answer's reason is there as typed.
	if err != nil {
		t.Fatalf("temporal workflow show: %v\n%s", err, history)
	}
	text := payloadText(t, history)
	if !strings.Contains(text, "change window open") || !strings.Contains(text, "sleep 8") {
		t.Fatalf("the decoded history lacks the answer's reason or the runbook's text, so the check below would prove nothing:\n%s", text)
	}
	if strings.Contains(text, secret) || strings.Contains(string(history), secret) {
		t.Error("the lab's vCenter password reached the Temporal workflow history")
	}
}

// payloadText is every string in a history's JSON, with each payload's
// base64 data decoded (the values the workflow and activities passed).
func payloadText(t *testing.T, history []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(history, &v); err != nil {
		t.Fatalf("the history is not JSON: %v", err)
	}
	var b strings.Builder
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(c, k)
			}
		case []any:
			for _, c := range x {
				walk(c, key)
			}
		case string:
			b.WriteString(x + "\n")
			if key == "data" {
				if raw, err := base64.StdEncoding.DecodeString(x); err == nil {
					var inner any
					if json.Unmarshal(raw, &inner) == nil {
						walk(inner, "")
					} else {
						b.Write(raw)
					}
				}
			}
		}
	}
	walk(v, "")
	return b.String()
}

func readCount(path string) string {
	b, _ := os.ReadFile(path)
	return strings.Join(strings.Fields(string(b)), " ")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readSecret(t *testing.T, runDir string) string {
	s := strings.TrimSpace(string(mustRead(t, filepath.Join(runDir, "lab", "vcenter-password"))))
	if s == "" {
		t.Fatal("the lab's password file is empty")
	}
	return s
}

// TestTemporalShippedHADrill runs the shipped HA drill unattended through
// a worker on a real Temporal dev server: the starter exits 0 with the
// run passed, and the worker's journal verifies and holds what a local
// run's does (the monitors' outage, the RTO verdict) with the backend
// labelled.
func TestTemporalShippedHADrill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server and a worker")
	}
	addr := startTemporalDev(t)
	work := t.TempDir()
	w := startDrbook(t, work, "worker", "--temporal", addr, "--lab", "--lab-speed", "10", "--runs-dir", "runs")
	waitFor(t, "the worker", func() bool { return strings.Contains(w.stdout.String(), "worker for site") },
		func() string { return w.stdout.String() + w.stderr.String() })
	rb, err := filepath.Abs("../../runbooks/sanchong/ha-host-failure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runDrbook(t, t.TempDir(), "run", "--temporal", addr, "--lab", "--yes", rb)
	if code != 0 || !strings.Contains(out, "ended: passed") {
		t.Fatalf("run --temporal exited %d\n%s%s\nworker:\n%s", code, out, errOut, w.stderr.String())
	}
	runDir := findRunDir(t, filepath.Join(work, "runs"))
	if !strings.Contains(out, runDir) {
		t.Errorf("the starter did not say where the journal is (%s):\n%s", runDir, out)
	}
	log, _ := readVerifiedJournal(t, runDir)
	if got := log.Events[0].RunStart.Labels["backend"]; got != "temporal" {
		t.Errorf("run.start labels backend=%q, want temporal", got)
	}
	outages := 0
	for _, ev := range log.Events {
		if ev.Monitor != nil && ev.Monitor.State == "down" {
			outages++
		}
	}
	if outages == 0 {
		t.Error("no monitor saw the outage the drill causes: the monitors did not run in the worker's session")
	}
	rep, errOut, code := runDrbook(t, work, "report", "--format", "json", runDir)
	if code != 0 || !strings.Contains(rep, `"verdict": "passed"`) {
		t.Errorf("report exited %d, want the verdict passed\n%.2000s%s", code, rep, errOut)
	}
}
