package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/lab/vc"
)

const (
	replicaRunbook     = "../../runbooks/sanchong/replica-boot-test.yaml"
	maintenanceRunbook = "../../runbooks/sanchong/planned-maintenance.yaml"
	// replicaSpeed makes the 40 GB clone (410 s of lab time) 1.4 s.
	replicaSpeed = "300"
)

// savedWorld is what a lab run's lab-state.json says of the inventory: the
// VMs by name with host, power and datastore, and each datastore's free
// space.
func savedWorld(t *testing.T, runDir string) (vms []string, free map[string]int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(runDir, labStateName))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		VCenter struct {
			VMs []struct {
				Name, Host, Datastore string
				PowerState            string `json:"power_state"`
			} `json:"vms"`
			Datastores []struct {
				Name      string `json:"name"`
				FreeSpace int64  `json:"free_space"`
			} `json:"datastores"`
		} `json:"vcenter"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	free = map[string]int64{}
	for _, v := range file.VCenter.VMs {
		vms = append(vms, fmt.Sprintf("%s on %s/%s %s", v.Name, v.Host, v.Datastore, v.PowerState))
	}
	for _, d := range file.VCenter.Datastores {
		free[d.Name] = d.FreeSpace
	}
	sort.Strings(vms)
	return vms, free
}

// freshWorld is the inventory of a lab nothing has touched: the
// reference site's 30 VMs where DOMAIN.md has them, and each datastore
// with 2/5 of its capacity free.
func freshWorld() (vms []string, free map[string]int64) {
	free = map[string]int64{}
	for _, v := range vc.VMs {
		power := "poweredOff"
		if v.On {
			power = "poweredOn"
		}
		vms = append(vms, fmt.Sprintf("%s on %s/%s %s", v.Name, v.Host, v.Datastore, power))
	}
	for _, d := range vc.Datastores {
		free[d.Name] = d.CapacityGB << 30 * 2 / 5
	}
	sort.Strings(vms)
	return vms, free
}

// checkNothingLeft compares the world a run left in runDir with a fresh
// lab's: no VM more or less, none moved or powered differently, every
// datastore's free space back.
func checkNothingLeft(t *testing.T, runDir string) {
	t.Helper()
	gotVMs, gotFree := savedWorld(t, runDir)
	wantVMs, wantFree := freshWorld()
	if !slices.Equal(gotVMs, wantVMs) {
		t.Errorf("the VMs after the drill differ from a fresh lab's:\ngot:\n%s\nwant:\n%s", strings.Join(gotVMs, "\n"), strings.Join(wantVMs, "\n"))
	}
	for name, want := range wantFree {
		if gotFree[name] != want {
			t.Errorf("datastore %s: %d bytes free after the drill, %d in a fresh lab", name, gotFree[name], want)
		}
	}
}

// runLabDrill runs a runbook against the lab in a fresh directory and returns
// its run directory and exit code.
func runLabDrill(t *testing.T, runbook string, extra ...string) (string, int, string) {
	t.Helper()
	work := t.TempDir()
	rb, err := filepath.Abs(runbook)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runDrbook(t, work, append([]string{"run", "--lab", "--yes", "--runs-dir", "runs", rb}, extra...)...)
	return onlyRunDir(t, filepath.Join(work, "runs")), code, out + errOut
}

// TestDrill3ReplicaBootTestAgainstLab validates, plans and runs
// runbooks/sanchong/replica-boot-test.yaml against the lab: the replica is
// made on storage2 and esx-69 with its NIC on the isolated port group,
// boots while production keeps answering, is destroyed, and the lab's
// world afterwards is a fresh lab's.
func TestDrill3ReplicaBootTestAgainstLab(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	rb, _ := filepath.Abs(replicaRunbook)
	if out, errOut, code := runDrbook(t, work, "validate", "--lab", rb); code != 0 {
		t.Fatalf("validate exited %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runDrbook(t, work, "plan", "--lab", rb); code != 0 || !strings.Contains(out, "clone the current state of VM ap02 as drill-replica-ap02 to datastore storage2 on host esx-69, NICs on port group Drill-Isolated") {
		t.Fatalf("plan exited %d\n%s%s", code, out, errOut)
	}
	runDir, code, out := runLabDrill(t, replicaRunbook, "--lab-speed", replicaSpeed)
	if code != exitOK {
		t.Fatalf("the replica drill exited %d\n%s", code, out)
	}
	s := indexSteps(t, readJournal(t, runDir))
	var clone struct {
		Name, Datastore, Host string
		Networks              []string
		PoweredOn             bool  `json:"powered_on"`
		DiskBytes             int64 `json:"disk_bytes"`
	}
	s.result(t, "replica", &clone)
	if clone.Name != "drill-replica-ap02" || clone.Datastore != "storage2" || clone.Host != "esx-69" || !clone.PoweredOn ||
		!slices.Equal(clone.Networks, []string{vc.IsolatedNetwork}) || clone.DiskBytes != 40<<30 {
		t.Errorf("replica: %+v", clone)
	}
	var booted struct {
		Facts struct {
			IP           string `json:"ip"`
			ToolsRunning bool   `json:"tools_running"`
		} `json:"facts"`
	}
	s.result(t, "booted", &booted)
	if booted.Facts.IP == "" || !booted.Facts.ToolsRunning {
		t.Errorf("booted: %+v", booted)
	}
	var destroy struct {
		Created bool `json:"created_by_this_run"`
		WasOn   bool `json:"was_powered_on"`
	}
	s.result(t, "destroy", &destroy)
	if !destroy.Created || !destroy.WasOn {
		t.Errorf("destroy: %+v", destroy)
	}
	for _, id := range []string{"isolated", "production_ok", "nothing_left"} {
		if f := s.finish[id]; f == nil || f.Status != journal.StatusOK {
			t.Errorf("step %s: %+v", id, f)
		}
	}
	checkNothingLeft(t, runDir)
}

// TestDrill3ReplicaFailingMidwayLeavesNothing makes the boot check fail
// (the guest cannot boot within 1 ms): the run fails, `finally` still
// destroys the replica, and nothing is left behind.
func TestDrill3ReplicaFailingMidwayLeavesNothing(t *testing.T) {
	t.Parallel()
	runDir, code, out := runLabDrill(t, replicaRunbook, "--lab-speed", replicaSpeed, "--var", "boot_within=1ms")
	if code != exitFailed {
		t.Fatalf("a drill whose boot check fails exited %d, want %d\n%s", code, exitFailed, out)
	}
	s := indexSteps(t, readJournal(t, runDir))
	if f := s.finish["booted"]; f == nil || f.Status != journal.StatusFailed {
		t.Fatalf("booted: %+v, want failed", f)
	}
	if f := s.finish["production_ok"]; f != nil && f.Status == journal.StatusOK {
		t.Errorf("production_ok ran after the failed boot check: %+v", f)
	}
	for _, id := range []string{"destroy", "inventory_after", "nothing_left"} {
		if f := s.finish[id]; f == nil || f.Status != journal.StatusOK {
			t.Errorf("finally step %s: %+v, want ok", id, f)
		}
	}
	checkNothingLeft(t, runDir)
}

// TestDrill3ReplicaSurvivesSIGKILL kills drbook (its whole process group)
// inside the clone, inside the boot wait and inside the destroy, then
// resumes until the run ends: every time the drill passes and the lab's
// world is a fresh lab's. Killed inside the clone, the restored lab has no
// replica and the clone runs again; killed later, the restored lab has the
// replica, and destroy knows it as this run's from the journal the first
// session wrote.
func TestDrill3ReplicaSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts drbook processes and kills them")
	}
	t.Parallel()
	rb, _ := filepath.Abs(replicaRunbook)
	for _, step := range []string{"replica", "booted", "destroy"} {
		t.Run(step, func(t *testing.T) {
			work := t.TempDir()
			cmd, stdout, stderr := drbookCommand(t, work, "run", "--lab", "--yes", "--no-preflight", "--lab-speed", replicaSpeed, "--runs-dir", "runs", rb)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			runDir, inside := waitForJournal(t, filepath.Join(work, "runs"), exited, func(whole []byte) bool {
				return bytes.Contains(whole, []byte(`"step":"`+step+`","step_start"`))
			})
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			if !inside {
				t.Fatalf("the run ended before step %s started\nstdout:\n%s\nstderr:\n%s", step, stdout, stderr)
			}
			if got := killPoint(runDir); got != "in "+step {
				t.Logf("killed %s (wanted in %s)", got, step)
			}
			out, errOut, code := resumeWithin(t, work, "resume", "--yes", runDir)
			if code == exitPaused && strings.Contains(errOut, "--rerun-interrupted") {
				out, errOut, code = resumeWithin(t, work, "resume", "--yes", "--rerun-interrupted", runDir)
			}
			if code != exitOK {
				t.Fatalf("resume after a kill in %s exited %d\nstdout:\n%s\nstderr:\n%s", step, code, out, errOut)
			}
			s := indexSteps(t, readJournal(t, runDir))
			for _, id := range []string{"replica", "booted", "destroy", "nothing_left"} {
				if f := s.finish[id]; f == nil || f.Status != journal.StatusOK {
					t.Errorf("after the resume, step %s: %+v", id, f)
				}
			}
			checkNothingLeft(t, runDir)
		})
	}
}

// monitorDowntime reads each monitor's total downtime and outage count
// from `drbook report --format json`.
func monitorDowntime(t *testing.T, runDir string) map[string][2]int64 {
	t.Helper()
	out, errOut, code := runDrbook(t, filepath.Dir(runDir), "report", "--format", "json", runDir)
	if code != exitOK {
		t.Fatalf("report exited %d: %s", code, errOut)
	}
	var rep struct {
		Monitors []struct {
			Name    string            `json:"name"`
			Total   journal.Duration  `json:"total"`
			Windows []json.RawMessage `json:"windows"`
		} `json:"monitors"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, m := range rep.Monitors {
		got[m.Name] = [2]int64{int64(m.Total), int64(len(m.Windows))}
	}
	return got
}

// TestPlannedMaintenanceShowsZeroDowntime validates, plans and runs
// runbooks/sanchong/planned-maintenance.yaml against the lab: esx-68's
// four VMs move by vMotion and the report shows no downtime for any
// monitor.
func TestPlannedMaintenanceShowsZeroDowntime(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	rb, _ := filepath.Abs(maintenanceRunbook)
	if out, errOut, code := runDrbook(t, work, "validate", "--lab", rb); code != 0 {
		t.Fatalf("validate exited %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runDrbook(t, work, "plan", "--lab", rb); code != 0 || !strings.Contains(out, "put host esx-68 into maintenance mode") {
		t.Fatalf("plan exited %d\n%s%s", code, out, errOut)
	}
	runDir, code, out := runLabDrill(t, maintenanceRunbook)
	if code != exitOK {
		t.Fatalf("the maintenance drill exited %d\n%s", code, out)
	}
	s := indexSteps(t, readJournal(t, runDir))
	var before struct {
		Placement map[string][]string `json:"placement"`
	}
	s.result(t, "placement_before", &before)
	if len(before.Placement["esx-68"]) != 4 {
		t.Fatalf("esx-68 ran %v before the drill, want its four VMs", before.Placement["esx-68"])
	}
	var during struct {
		Placement map[string][]string `json:"placement"`
	}
	s.result(t, "placement_during", &during)
	if len(during.Placement["esx-68"]) != 0 {
		t.Errorf("esx-68 still runs %v in maintenance mode", during.Placement["esx-68"])
	}
	var exit struct {
		InMaintenance bool `json:"in_maintenance"`
	}
	s.result(t, "exit", &exit)
	if exit.InMaintenance {
		t.Error("the host is still in maintenance mode after exit")
	}
	down := monitorDowntime(t, runDir)
	if len(down) != 2 {
		t.Fatalf("report monitors: %v, want ap-web and vm-apfg02", down)
	}
	for name, d := range down {
		if d[0] != 0 || d[1] != 0 {
			t.Errorf("monitor %s: %v of downtime in %d outages through planned maintenance, want none", name, journal.Duration(d[0]), d[1])
		}
	}
}

// TestHostShutdownShowsTheOutageOfTheSameServices is the counterpart: the
// same two monitors (the AP service and its VM) through a host failure
// (ha-host-failure.yaml: HA restarts the VMs, which boot again) show an
// outage in the report.
func TestHostShutdownShowsTheOutageOfTheSameServices(t *testing.T) {
	t.Parallel()
	runDir, code, out := runLabDrill(t, "../../runbooks/sanchong/ha-host-failure.yaml", "--lab-speed", "10")
	if code != exitOK {
		t.Fatalf("the HA drill exited %d\n%s", code, out)
	}
	down := monitorDowntime(t, runDir)
	for _, name := range []string{"ap-web", "vm-apfg02"} {
		if d := down[name]; d[0] <= 0 || d[1] < 1 {
			t.Errorf("monitor %s through a host shutdown: %v of downtime in %d outages, want an outage", name, journal.Duration(d[0]), d[1])
		}
	}
}
