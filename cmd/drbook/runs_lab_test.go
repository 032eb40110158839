package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
)

// TestRunsListsEveryState: `drbook runs` shows passed, failed, interrupted
// (a crash, no end recorded) and paused runs as such.
func TestRunsListsEveryState(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	writeRunbook(t, dir, "ok.yaml", "name: ok\nsteps:\n  - id: a\n    log: hi\n")
	writeRunbook(t, dir, "bad.yaml", "name: bad\nsteps:\n  - id: a\n    assert: 1 > 2\n")
	writeRunbook(t, dir, "long.yaml", "name: long\nsteps:\n  - id: pause\n    wait: 30s\n")
	writeRunbook(t, dir, "odd.yaml", "name: odd\nsteps:\n  - id: mark\n    exec.local: {command: [sleep, '30']}\n")
	// interruptedRun wants a runs folder of its own; the runs are then
	// gathered into one.
	gather := func(sub, file, step string) string {
		d := filepath.Join(dir, sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		src, _ := os.ReadFile(filepath.Join(dir, file))
		writeRunbook(t, d, file, string(src))
		run := interruptedRun(t, d, file, step)
		moved := filepath.Join(runs, filepath.Base(run))
		if err := os.MkdirAll(runs, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(run, moved); err != nil {
			t.Fatal(err)
		}
		return moved
	}
	interrupted := gather("a", "long.yaml", "pause")
	// A crash while a non-idempotent step runs leaves a run that resume
	// pauses, asking the operator.
	crashed := gather("b", "odd.yaml", "mark")
	if _, stderr, code := runDrbook(t, dir, "resume", "--yes", crashed); code != exitPaused || !strings.Contains(stderr, "--rerun-interrupted") {
		t.Fatalf("resume of the crashed run exited %d: %s", code, stderr)
	}
	if _, _, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", runs, "ok.yaml"); code != exitOK {
		t.Fatalf("ok.yaml exited %d", code)
	}
	if _, _, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", runs, "bad.yaml"); code != exitFailed {
		t.Fatalf("bad.yaml exited %d", code)
	}
	out, _, code := runDrbook(t, dir, "runs", "--runs-dir", runs)
	if code != exitOK {
		t.Fatalf("runs exited %d", code)
	}
	want := map[string]string{"-ok": "passed", "-bad": "failed", filepath.Base(interrupted): "interrupted", filepath.Base(crashed): "paused"}
	for _, line := range strings.Split(out, "\n")[1:] {
		for key, state := range want {
			if strings.Contains(line, key) {
				if !strings.Contains(line, state) {
					t.Errorf("%s: want state %s in %q", key, state, line)
				}
				delete(want, key)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("runs did not list %v:\n%s", want, out)
	}
}

// TestLabCommandServesASite: `drbook lab` writes a site file that works
// like a real site's: the HA drill runs against it with --site, verifying
// the lab's pinned certificate and host keys.
func TestLabCommandServesASite(t *testing.T) {
	dir := t.TempDir()
	siteFile := filepath.Join(dir, "lab-site.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		done <- runLab(ctx, &globalOptions{stdout: &out, stderr: &out}, 30, siteFile)
	}()
	// The lab writes its site file once it runs, however long a busy
	// machine takes to start it.
	for {
		if _, err := os.Stat(siteFile); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("drbook lab ended without writing its site file: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s, _, err := runbooks.LoadSite(siteFile)
	if err != nil {
		t.Fatalf("the lab's site file does not load: %v", err)
	}
	if s.VCenter == nil || len(s.VCenter.Thumbprints) != 1 || s.Guests["ap02"].HostKeys == nil {
		t.Fatalf("the site file must pin the certificate and host keys: %+v", s)
	}
	stdout, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", filepath.Join(dir, "runs"), "--site", siteFile, mustAbs(t, "../../runbooks/sanchong/ha-host-failure.yaml"))
	if code != exitOK {
		t.Fatalf("the HA drill against `drbook lab` exited %d:\n%s\n%s", code, stdout, stderr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "GOVC_URL=") || !strings.Contains(out.String(), "lab stopped") {
		t.Errorf("drbook lab output:\n%s", out.String())
	}
	// The run was started with --site, not --lab (its run.start says mode
	// drill): only the lab's own marker over the API makes it a lab run,
	// with the lab's speed.
	runDir := onlyRunDir(t, filepath.Join(dir, "runs"))
	raw, err := os.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"mode":"drill"`, `"title":"vCenter endpoint"`, `{"key":"lab","value":"drbook lab"`, `{"key":"lab speed","value":"30"`, `"value":"6.5.0"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the journal lacks %s", want)
		}
	}
	md, errOut, code := runDrbook(t, dir, "report", "--format", "md", runDir)
	if code != exitOK {
		t.Fatalf("drbook report exited %d: %s", code, errOut)
	}
	for _, want := range []string{"Lab run at ×30: the simulated site ran 30 times faster", "drbook lab (simulated vCenter, time ×30) on vcsim 6.5.0 build-5973321", "6.5.0"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report of a --site run against `drbook lab` lacks %q:\n%s", want, md)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
