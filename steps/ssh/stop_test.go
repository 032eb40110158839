package ssh_test

// A step's timeout, run by the real engine against the in-process server
// and against OpenSSH sshd: the remote command is gone afterwards, the
// journal says the stop was confirmed, and a retry never runs beside a live
// first copy.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// overlapDrill's only step runs a command that outlives its 1.5 s timeout,
// retried once. Each copy first looks for a live earlier copy (by the pids
// the copies append to "pids") and writes "overlap" if it finds one; it
// ignores SIGHUP, as a command started with nohup would, and writes
// "marker" if it ever gets past its sleep. Paths are relative to the
// command's working directory (the login's home on sshd).
const overlapDrill = `name: stop-drill
steps:
  - id: slow
    timeout: 1500ms
    retry: {attempts: 2}
    ssh.exec:
      host: ap01
      command: 'for p in $(cat pids 2>/dev/null); do kill -0 $p 2>/dev/null && echo "$$ overlaps $p" >> overlap; done; echo $$ >> pids; trap "" HUP; sleep 1000; touch marker'
`

func runDrill(t *testing.T, g site.Guest, src string) (*engine.Result, error, *journal.Log) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "drill.yaml")
	os.WriteFile(path, []byte(src), 0o644)
	reg := steps.NewRegistry(append(control.Kinds(), ssh.Kinds()...)...)
	rb, err := runbooks.Load(path, runbooks.Options{Registry: reg, Site: &site.Site{Name: "e2e", Guests: map[string]site.Guest{"ap01": g}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := engine.Start(ctx, rb, engine.Config{Registry: reg, RunsDir: filepath.Join(dir, "runs"), OperatorName: "tester", Machine: "test", Mode: "drill", Version: "test", NoSync: true})
	if res == nil {
		t.Fatalf("no result: %v", err)
	}
	log, lerr := journal.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	if lerr != nil {
		t.Fatal(lerr)
	}
	return res, err, log
}

// stopsIn returns the "stop confirmed" facts journaled for step.
func stopsIn(log *journal.Log, step string) []string {
	var out []string
	for _, ev := range log.Events {
		if ev.Type == journal.TypeEvidence && ev.Step == step && ev.Evidence.Title == "remote command stopped" {
			for _, f := range ev.Evidence.Facts {
				if f.Key == "stop confirmed" {
					out = append(out, f.Value)
				}
			}
		}
	}
	return out
}

// checkNoCopyLeft checks, in the command's working directory home, that no
// copy overlapped another, that none finished its sleep, and that every
// copy's shell is gone.
func checkNoCopyLeft(t *testing.T, home string, copies int) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(home, "overlap")); err == nil {
		t.Fatalf("a retry ran beside a live first copy: %s", b)
	}
	b, err := os.ReadFile(filepath.Join(home, "pids"))
	if err != nil {
		t.Fatalf("the command never ran: %v", err)
	}
	pids := strings.Fields(string(b))
	if len(pids) != copies {
		t.Fatalf("want %d copies, the guest ran %v", copies, pids)
	}
	st, err := os.Stat(filepath.Join(home, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		if what, alive := copyAlive(pid, home, st.ModTime()); alive {
			t.Errorf("copy %d still runs on the guest: %s", pid, what)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "marker")); err == nil {
		t.Fatal("a stopped copy went on to the end")
	}
}

// copyAlive reports whether process pid is still a live copy of the
// drill's command, and what /proc says of it. Every copy started no later
// than written (the last copy's line in "pids") and works in home; a
// process under the same pid that started later, or elsewhere, reused the
// pid (pid_max is 32768 here). A process whose working directory cannot
// be read is exiting (the kernel drops it before the process turns
// zombie), so it is looked at again until it is gone or readable.
func copyAlive(pid int, home string, written time.Time) (string, bool) {
	for try := 0; ; try++ {
		if syscall.Kill(pid, 0) != nil {
			return "", false
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return "", false
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
			return "", false
		}
		if startedAfter(f[19], written.Add(200*time.Millisecond)) {
			return "", false
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		what := fmt.Sprintf("/proc says %q, command line %q", strings.TrimSpace(s), strings.ReplaceAll(string(cmdline), "\x00", " "))
		cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
		if err == nil {
			return what + ", working in " + cwd, sameDir(cwd, home)
		}
		if try == 250 {
			return what + ", working directory unreadable: " + err.Error(), true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startedAfter reports whether a process whose start time is ticks
// (clock ticks after boot, field 22 of /proc/PID/stat) started after t.
func startedAfter(ticks string, t time.Time) bool {
	n, err := strconv.ParseInt(ticks, 10, 64)
	if err != nil {
		return false
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return false
	}
	f := strings.Fields(string(up))
	if len(f) == 0 {
		return false
	}
	secs, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return false
	}
	boot := time.Now().Add(-time.Duration(secs * float64(time.Second)))
	start := boot.Add(time.Duration(n) * time.Second / 100) // USER_HZ is 100 on Linux
	return start.After(t)
}

func sameDir(cwd, dir string) bool {
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		want = dir
	}
	return cwd == want || cwd == dir
}

func clientKey(t *testing.T) (gossh.Signer, string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	signer, _ := gossh.NewSignerFromKey(priv)
	return signer, keyFile
}

func checkConfirmedTimeouts(t *testing.T, res *engine.Result, err error, log *journal.Log) {
	t.Helper()
	if !errors.Is(err, engine.ErrStepFailed) || res.Outcome != "failed" {
		t.Fatalf("two timeouts fail the step: %v (%s)", err, res.Outcome)
	}
	if got := stopsIn(log, "slow"); len(got) != 2 || got[0] != "yes" || got[1] != "yes" {
		t.Fatalf("each timed-out copy's stop is journaled as confirmed: %v", got)
	}
	var fin *journal.StepFinish
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish && ev.Step == "slow" {
			fin = ev.StepFinish
		}
	}
	if fin == nil || fin.Attempts != 2 || !strings.Contains(fin.Error, "timed out") || !strings.Contains(fin.Error, "confirmed gone") {
		t.Fatalf("slow: %+v", fin)
	}
}

func TestTimeoutStopsTheCommandBeforeTheRetry(t *testing.T) {
	signer, keyFile := clientKey(t)
	srv := sshtest.Start(t, sshtest.Options{ClientKeys: []gossh.PublicKey{signer.PublicKey()}})
	g := site.Guest{Address: srv.Host, Port: srv.Port, KeyFile: keyFile, HostKeys: []string{transport.SiteLine(srv.HostKey.PublicKey())}}
	res, err, log := runDrill(t, g, overlapDrill)
	checkConfirmedTimeouts(t, res, err, log)
	checkNoCopyLeft(t, srv.Dir, 2)
}

func TestE2ETimeoutStopsTheCommandBeforeTheRetry(t *testing.T) {
	rig := sshdrig.New(t)
	// A bare tree has no /proc, so the wrapper starts the command with
	// setsid; with /proc it sees that sshd made it a group leader.
	withProc := rig.NewTree("with-proc")
	procErr := rig.MountProc(withProc)
	for _, o := range []sshdrig.Options{{Host: 65}, {Host: 66, Legacy: true}, {Host: 68, Root: withProc}} {
		if o.Root != "" && procErr != nil {
			t.Logf("the guest with /proc is left out: %v", procErr)
			continue
		}
		g := rig.Start("ap"+strconv.Itoa(o.Host), o)
		t.Run(g.Name, func(t *testing.T) {
			res, err, log := runDrill(t, g.Site(), overlapDrill)
			checkConfirmedTimeouts(t, res, err, log)
			checkNoCopyLeft(t, g.Path("/root"), 2)
		})
	}
}

// TestE2EUnconfirmedStopWaitsForTheOperator: on a guest where the command
// cannot get a process group of its own (busybox without setsid, no /proc
// to find sshd's session), drbook cannot vouch for the command's children
// after a timeout: the step is not retried, the run waits for a decision
// (exit 3), and the journal says the command may still run.
func TestE2EUnconfirmedStopWaitsForTheOperator(t *testing.T) {
	rig := sshdrig.New(t)
	g := rig.Start("ap01", sshdrig.Options{Host: 65, NoSetsid: true})
	res, err, log := runDrill(t, g.Site(), overlapDrill)
	if !errors.Is(err, engine.ErrNeedsDecision) || res.Outcome != "paused" {
		t.Fatalf("want a run waiting for a decision, got %v (%s)", err, res.Outcome)
	}
	if !strings.Contains(err.Error(), "MAY STILL BE RUNNING") || !strings.Contains(err.Error(), "--rerun-interrupted") {
		t.Errorf("the error must say the command may still run and how to continue: %v", err)
	}
	if got := stopsIn(log, "slow"); len(got) != 1 || !strings.HasPrefix(got[0], "no") {
		t.Fatalf("the unconfirmed stop is journaled: %v", got)
	}
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish && ev.Step == "slow" && (!ev.StepFinish.MayStillRun || ev.StepFinish.Attempts != 1) {
			t.Fatalf("slow: %+v", ev.StepFinish)
		}
	}
	b, _ := os.ReadFile(g.Path("/root/pids"))
	if n := len(strings.Fields(string(b))); n != 1 {
		t.Fatalf("the step ran %d times; it must not be retried while it may still run", n)
	}
}

// TestCopyAliveTellsACopyFromAReusedPid checks the check itself: a live
// process working in the guest's home that started before the copies'
// last line is a copy still running; the same pid seen as started later,
// or working elsewhere, is not; once it is reaped it is gone.
func TestCopyAliveTellsACopyFromAReusedPid(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command("sleep", "1000")
	cmd.Dir = home
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	written := time.Now().Add(time.Second)
	if what, alive := copyAlive(pid, home, written); !alive {
		t.Fatalf("a live copy is not seen: %s", what)
	} else if !strings.Contains(what, "sleep") {
		t.Errorf("the report does not say what runs: %s", what)
	}
	if _, alive := copyAlive(pid, home, written.Add(-time.Hour)); alive {
		t.Error("a process that started after the copies' last line is taken for a copy")
	}
	if _, alive := copyAlive(pid, t.TempDir(), written); alive {
		t.Error("a process working elsewhere is taken for a copy")
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, alive := copyAlive(pid, home, written); alive {
		t.Error("a reaped process is taken for a live copy")
	}
}
