package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// TestRunRecordsVCenterProductAndVersion: a run against plain vcsim (as
// govmomi v0.56.0 ships it, simulator/vpx/service_content.go) records the
// vCenter's product and version in the journal and the report, and is not
// recorded as a lab: plain vcsim does not carry the drbook lab's marker.
func TestRunRecordsVCenterProductAndVersion(t *testing.T) {
	srvURL, thumb := startPlainVPX(t)
	dir := t.TempDir()
	t.Setenv("DRBOOK_VCINFO_VC", "a-long-password")
	writeRunbook(t, dir, "site.yaml", fmt.Sprintf("name: plain\nvcenter:\n  url: %s\n  user: user\n  password: env:DRBOOK_VCINFO_VC\n  thumbprints: [%q]\n", srvURL, thumb))
	writeRunbook(t, dir, "inv.yaml", "name: inv\nsteps:\n  - id: inv\n    vcenter.inventory: {}\n")
	runs := filepath.Join(dir, "runs")
	stdout, stderr, code := runDrbook(t, dir, "run", "--yes", "--runs-dir", runs, "--site", "site.yaml", "inv.yaml")
	if code != exitOK {
		t.Fatalf("run exited %d:\n%s\n%s", code, stdout, stderr)
	}
	runDir := onlyRunDir(t, runs)
	raw, err := os.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	j := string(raw)
	for _, want := range []string{`"title":"vCenter endpoint"`, `{"key":"product","value":"VMware vCenter Server 6.5.0 build-5973321"`,
		`{"key":"version","value":"6.5.0"`, `{"key":"api type","value":"VirtualCenter"`} {
		if !strings.Contains(j, want) {
			t.Errorf("the journal lacks %s", want)
		}
	}
	if n := strings.Count(j, `"title":"vCenter endpoint"`); n != 1 {
		t.Errorf("the endpoint is journaled %d times, want once", n)
	}
	if strings.Contains(j, `"drbook lab"`) {
		t.Errorf("plain vcsim was recorded as the drbook lab:\n%s", j)
	}
	md, errOut, code := runDrbook(t, dir, "report", "--format", "md", runDir)
	if code != exitOK {
		t.Fatalf("drbook report exited %d: %s", code, errOut)
	}
	for _, want := range []string{"VMware vCenter Server 6.5.0 build-5973321", "| version | 6.5.0 |", "VirtualCenter"} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Lab run") {
		t.Errorf("plain vcsim's run reads as a lab run:\n%s", md)
	}
}
