package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/fleet"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// fleetCLI runs `drbook ARGS…` in-process and returns its output and exit
// code.
func fleetCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runMain(args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// siteJournal reads a fleet site's journal, failing unless its hash chain
// verifies.
func siteJournal(t *testing.T, dir string, s fleet.Site) *journal.Log {
	t.Helper()
	if s.RunDir == "" {
		t.Fatalf("site %s has no run directory (state %s: %s)", s.Name, s.State, s.Error)
	}
	b, err := os.ReadFile(filepath.Join(dir, s.RunDir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, torn, err := journal.Verify(bytes.NewReader(b)); err != nil || torn != 0 {
		t.Fatalf("%s: chain %v, torn %d", s.Name, err, torn)
	}
	log, err := journal.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// TestFleetRunThreeLabSitesOneFails: the HA drill at three lab sites at
// once, vSphere HA's restart of the AP server failing at tamsui-lab. The
// two others pass with their own journals, which `drbook verify` accepts;
// tamsui-lab fails its ha step, still runs its finally (the host powered
// back on) and the fleet exits 1. Each site is its own lab on its own
// loopback block, named in its journal. The fleet report states each
// site's figures as the site's own report does.
func TestFleetRunThreeLabSitesOneFails(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fleet")
	// restart_within bounds how long the failing site's ha step waits for
	// the restart that never comes; the others' restarts take seconds.
	stdout, stderr, code := fleetCLI(t, "fleet", "run", "--lab-sites", "3", "--yes", "--fleet-dir", dir,
		"--lab-fail-restart", "tamsui-lab=(65)apfg(02)", "--var", "restart_within=30s", "../../runbooks/sanchong/ha-host-failure.yaml")
	if code != exitFailed {
		t.Fatalf("fleet run exited %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	m, err := fleet.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ended == nil || m.Result != "failed" || m.Mode != "lab" || m.Concurrency != 3 || len(m.Sites) != 3 || m.Vars["restart_within"] != "30s" {
		t.Fatalf("manifest: %+v", m)
	}
	want := map[string]string{"sanchong-lab": "passed", "banqiao-lab": "passed", "tamsui-lab": "failed"}
	blocks := map[int]bool{}
	for _, s := range m.Sites {
		if s.Verdict != want[s.Name] {
			t.Errorf("site %s: verdict %q (state %s, %s), want %q", s.Name, s.Verdict, s.State, s.Error, want[s.Name])
		}
		if s.LabBlock == 0 || blocks[s.LabBlock] {
			t.Errorf("site %s: loopback block %d is missing or shared", s.Name, s.LabBlock)
		}
		blocks[s.LabBlock] = true
		if !strings.HasPrefix(s.RunDir, s.Name+string(filepath.Separator)) {
			t.Errorf("site %s: run directory %q is not in the site's own folder", s.Name, s.RunDir)
		}
		log := siteJournal(t, dir, s)
		start := log.Events[0].RunStart
		if start.Site != s.Name || start.Labels["fleet"] != m.FleetID || start.Labels["fleet_site"] != s.Name || start.Mode != "lab" {
			t.Errorf("site %s: run.start says site %q, labels %v, mode %s", s.Name, start.Site, start.Labels, start.Mode)
		}
		if last := log.Events[len(log.Events)-1]; last.RunEnd == nil || last.RunEnd.Result != s.State || log.Head != s.FinalHash {
			t.Errorf("site %s: the journal ends %+v with head %s; the manifest says %s, %s", s.Name, last.RunEnd, log.Head, s.State, s.FinalHash)
		}
		// The lab's vCenter of this site, and no other, answered: the
		// journal's vCenter endpoint is in the site's own block.
		if raw, _ := os.ReadFile(filepath.Join(dir, s.RunDir, journal.FileName)); !bytes.Contains(raw, []byte(`{"key":"endpoint","value":"127.`+itoaTest(s.LabBlock)+`.0.227:`)) {
			t.Errorf("site %s: the journal never names its own vCenter 127.%d.0.227", s.Name, s.LabBlock)
		}
		out, errOut, code := fleetCLI(t, "verify", filepath.Join(dir, s.RunDir))
		if code != exitOK || !strings.Contains(out, "hash chain intact") || !strings.Contains(out, "ended, recorded result "+s.State) {
			t.Errorf("drbook verify %s exited %d:\n%s%s", s.RunDir, code, out, errOut)
		}
		steps := indexSteps(t, log)
		for _, id := range []string{"power_on", "host_back"} {
			if f := steps.finish[id]; f == nil || f.Status != journal.StatusOK {
				t.Errorf("site %s: finally step %s: %+v", s.Name, id, f)
			}
		}
		if s.Name == "tamsui-lab" {
			if f := steps.finish["ha"]; f == nil || f.Status != journal.StatusFailed || !strings.Contains(f.Error, "(65)apfg(02)") {
				t.Errorf("tamsui-lab: ha %+v, want failed naming (65)apfg(02)", f)
			}
		}
	}
	for _, want := range []string{"[tamsui-lab] ✘ ha failed", "fleet: failed: 2 of 3 sites passed", "fleet directory: " + dir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("fleet run's output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"fleet-report.html", "fleet-report.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the fleet directory lacks %s: %v", f, err)
		}
	}

	// The fleet report: every site's figures are its own report's.
	var jr struct {
		Schema  string        `json:"schema"`
		Summary fleet.Summary `json:"summary"`
		Sites   []struct {
			fleet.SiteReport
			DeviationTexts []string `json:"deviation_texts"`
		} `json:"sites"`
	}
	js, errOut, code := fleetCLI(t, "fleet", "report", "--format", "json", dir)
	if code != exitOK {
		t.Fatalf("fleet report exited %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(js), &jr); err != nil {
		t.Fatal(err)
	}
	if jr.Schema != fleet.ReportSchema || jr.Summary.Verdict != "failed" || jr.Summary.Passed != 2 || jr.Summary.Sites != 3 ||
		jr.Summary.RTOMet != 2 || jr.Summary.NotRecovered != 1 || jr.Summary.Counts["failed"] != 1 {
		t.Errorf("fleet report summary: %+v", jr.Summary)
	}
	var slowest journal.Duration
	for i, s := range jr.Sites {
		site := m.Sites[i]
		r, err := reports.ReadRun(filepath.Join(dir, site.RunDir))
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != site.Name || s.Verdict != r.Summary.Verdict || s.RTO != r.Summary.RTO || !s.ChainVerified {
			t.Errorf("site %s: fleet says %s/%v, its report %s/%v", s.Name, s.Verdict, s.RTO, r.Summary.Verdict, r.Summary.RTO)
		}
		if (s.Measured == nil) != (r.Summary.Recovery.Measured == nil) || (s.Measured != nil && *s.Measured != *r.Summary.Recovery.Measured) {
			t.Errorf("site %s: measured recovery %v, its report %v", s.Name, s.Measured, r.Summary.Recovery.Measured)
		}
		if s.Measured != nil {
			slowest = max(slowest, *s.Measured)
		}
		if len(s.Downtime) != len(r.Monitors) || len(s.Deviations) != len(r.Summary.Deviations) || len(s.DeviationTexts) != len(s.Deviations) {
			t.Errorf("site %s: %d services, %d deviations; its report %d, %d", s.Name, len(s.Downtime), len(s.Deviations), len(r.Monitors), len(r.Summary.Deviations))
		}
		for j, d := range s.Downtime {
			if d.Name != r.Monitors[j].Name || d.Total != r.Monitors[j].Total {
				t.Errorf("site %s: downtime %s %v, its report %s %v", s.Name, d.Name, d.Total, r.Monitors[j].Name, r.Monitors[j].Total)
			}
		}
	}
	if jr.Summary.Slowest == nil || jr.Summary.Slowest.Duration != slowest {
		t.Errorf("slowest recovery %+v, want %v", jr.Summary.Slowest, slowest)
	}
	tamsui := jr.Sites[2]
	if tamsui.Name != "tamsui-lab" || tamsui.Measured != nil || !strings.Contains(strings.Join(tamsui.DeviationTexts, "\n"), "Step ha failed: 1 of 4 VMs of failed host esx-68") {
		t.Errorf("tamsui-lab in the fleet report: %+v", tamsui)
	}
	md, _, code := fleetCLI(t, "fleet", "report", "--format", "md", dir)
	if code != exitOK {
		t.Fatalf("fleet report md exited %d", code)
	}
	for _, want := range []string{"**Verdict: FAILED: 2 of 3 sites passed.**", "- RTO objective: met at 2, missed at 0, not recovered at 1 site(s).",
		"| tamsui-lab | FAILED | 5 min | – | not recovered |", "### Site tamsui-lab", "Step ha failed: 1 of 4 VMs", "| ap-web | 3 | 3 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the md fleet report lacks %q:\n%s", want, md)
		}
	}
	zh, _, code := fleetCLI(t, "--lang", "zh-TW", "fleet", "report", "--format", "md", dir)
	if code != exitOK {
		t.Fatalf("fleet report zh-TW exited %d", code)
	}
	for _, want := range []string{"**結果：未通過（2／3 處場域通過）。**", "| tamsui-lab | 未通過 | 5 分鐘 | – | 未復原 |", "步驟 ha 失敗"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the zh-TW fleet report lacks %q:\n%s", want, zh)
		}
	}
}

func itoaTest(n int) string { b, _ := json.Marshal(n); return string(b) }

// gateRunbook is a runbook whose site named fail_at fails once `arrived`
// sites have arrived at its gate (each leaves a mark in marks), and whose
// other sites then wait a long time: the failure comes while they run.
const gateRunbook = `name: gate
params:
  marks: {type: string}
  fail_at: {type: string}
  arrived: {type: int, default: 3}
steps:
  - id: arrive
    exec.local: {command: [touch, "${{ params.marks }}/${{ site.name }}"]}
  - id: gate
    when: site.name == params.fail_at
    exec.local:
      command: [sh, -c, 'until [ "$(ls "$1" | wc -l)" -ge "$2" ]; do sleep 0.05; done; echo "the gate fails here"; exit 1', sh, "${{ params.marks }}", "${{ params.arrived }}"]
  - id: long
    wait: 1h
finally:
  - id: cleanup
    log: "cleanup at ${{ site.name }}"
`

// TestFleetFailFastAbortsTheRunningSites: with --fail-fast, when
// banqiao-lab fails the two sites still running are aborted as an operator
// would abort them (journaled with the reason), their running step is
// stopped, and their finally steps run; with one site at a time, the sites
// after the failed one never start.
func TestFleetFailFastAbortsTheRunningSites(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	writeRunbook(t, tmp, "gate.yaml", gateRunbook)
	rb := filepath.Join(tmp, "gate.yaml")
	marks := filepath.Join(tmp, "marks")
	if err := os.Mkdir(marks, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "fleet")
	stdout, stderr, code := fleetCLI(t, "fleet", "run", "--lab-sites", "3", "--yes", "--fail-fast", "--fleet-dir", dir,
		"--var", "marks="+marks, "--var", "fail_at=banqiao-lab", rb)
	if code != exitFailed {
		t.Fatalf("fleet run exited %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	m, err := fleet.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Sites {
		log := siteJournal(t, dir, s)
		steps := indexSteps(t, log)
		if f := steps.finish["cleanup"]; f == nil || f.Status != journal.StatusOK {
			t.Errorf("site %s: finally's cleanup %+v, want ok", s.Name, f)
		}
		if s.Name == "banqiao-lab" {
			if s.Verdict != "failed" || steps.finish["gate"] == nil || steps.finish["gate"].Status != journal.StatusFailed {
				t.Errorf("banqiao-lab: verdict %s, gate %+v", s.Verdict, steps.finish["gate"])
			}
			continue
		}
		if s.Verdict != "aborted" {
			t.Errorf("site %s: verdict %s (%s), want aborted", s.Name, s.Verdict, s.Error)
		}
		aborted := false
		for _, e := range log.Events {
			if e.Decision != nil && e.Decision.Action == "abort" && e.Decision.Reason == "--fail-fast: site banqiao-lab failed" {
				aborted = true
			}
		}
		if !aborted {
			t.Errorf("site %s: no abort decision naming banqiao-lab in its journal", s.Name)
		}
		if f := steps.finish["long"]; f != nil && f.Status != journal.StatusCancelled {
			t.Errorf("site %s: long %+v, want cancelled or never started", s.Name, f)
		}
	}

	// One site at a time: sanchong-lab fails first, the others never start.
	dir1 := filepath.Join(tmp, "fleet1")
	marks1 := filepath.Join(tmp, "marks1")
	if err := os.Mkdir(marks1, 0o700); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = fleetCLI(t, "fleet", "run", "--lab-sites", "3", "--concurrency", "1", "--yes", "--fail-fast", "--fleet-dir", dir1,
		"--var", "marks="+marks1, "--var", "fail_at=sanchong-lab", "--var", "arrived=1", rb)
	if code != exitFailed {
		t.Fatalf("fleet run --concurrency 1 exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	m, err = fleet.ReadManifest(dir1)
	if err != nil {
		t.Fatal(err)
	}
	// Sites start in the order given: sanchong-lab first, alone; after it
	// failed neither other site starts.
	started := 0
	for _, s := range m.Sites {
		switch {
		case s.Name == "sanchong-lab" && s.Verdict == "failed":
			started++
		case s.Name != "sanchong-lab" && s.State == fleet.StateNotStarted && s.RunDir == "" && strings.Contains(s.Error, "sanchong-lab failed"):
		default:
			t.Errorf("site %s: state %s, verdict %s, run %q, %s", s.Name, s.State, s.Verdict, s.RunDir, s.Error)
		}
	}
	if entries, _ := os.ReadDir(marks1); len(entries) != 1 || started != 1 {
		t.Errorf("%d sites arrived, want only sanchong-lab", len(entries))
	}
	md, _, code := fleetCLI(t, "fleet", "report", "--format", "md", dir1)
	if code != exitOK || !strings.Contains(md, "| banqiao-lab | not started |") || !strings.Contains(md, "Sites by verdict: FAILED 1, not started 2.") {
		t.Errorf("fleet report of the stopped fleet (exit %d):\n%s", code, md)
	}
}
