package guest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// waitProcess waits, on the table's own events, for a live process named
// name and returns it.
func (g *testGuest) waitProcess(t *testing.T, name string) ProcessInfo {
	t.Helper()
	for {
		list, changed := g.Processes()
		for _, p := range list {
			if p.Name == name {
				return p
			}
		}
		<-changed
	}
}

// process finds a live process by pid.
func (g *testGuest) process(pid int) (ProcessInfo, bool) {
	list, _ := g.Processes()
	for _, p := range list {
		if p.PID == pid {
			return p, true
		}
	}
	return ProcessInfo{}, false
}

// waitEmpty waits until no process is left in the guest.
func (g *testGuest) waitEmpty(t *testing.T) {
	t.Helper()
	for {
		list, changed := g.Processes()
		if len(list) == 0 {
			return
		}
		<-changed
	}
}

func TestKillSetsidAndPID(t *testing.T) {
	g := startTestGuest(t, Config{Operator: "op"}, apSeed(8091))
	c := g.dial(t, "root")
	real := strconv.Itoa(os.Getpid())

	// $$ is the session's own pid, not the host's; a subshell shares it;
	// a child shell has its own, with the session as its parent.
	f := strings.Fields(must(t, c, `echo $$ ${$} $PPID; ( echo $$ ); sh -c 'echo $$ $PPID'`))
	if len(f) != 6 {
		t.Fatalf("pids: %q", f)
	}
	session, child := f[0], f[4]
	if session == real || child == real || f[1] != session || f[3] != session || child == session || f[5] != session || f[2] != "0" {
		t.Errorf("$$ ${$} $PPID, ( $$ ), sh -c '$$ $PPID' = %q (host pid %s)", f, real)
	}

	checkShellCases(t, c, []shellCase{
		{`kill -0 $$ && echo alive`, "alive\n", "", 0},
		{`kill -0 -$$ && echo group`, "group\n", "", 0},
		{`kill -0 99999`, "", "bash: kill: (99999) - No such process\n", 1},
		{`env kill -0 99999`, "", "kill: (99999) - No such process\n", 1},
		{`kill -s KILL -- -99999`, "", "bash: kill: (-99999) - No such process\n", 1},
		{`kill -0 $$ 99999; echo $?`, "1\n", "bash: kill: (99999) - No such process\n", 0},
		{`kill -FOO 1`, "", "bash: kill: FOO: invalid signal specification\n", 1},
		{`kill -s`, "", "bash: kill: -s: option requires an argument\nbash: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", 2},
		{`kill -TERM`, "", "bash: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", 2},
		{`kill abc`, "", "bash: kill: abc: arguments must be process or job IDs\n", 1},
		{`kill -STOP $$`, "", "bash: kill: SIGSTOP: the lab does not simulate stopped processes\n", 1},
		{`kill -WINCH $$; kill -s CHLD $$; echo ignored`, "ignored\n", "", 0},
		// A child shell is in the session's group, not a group of its own;
		// under setsid it leads a new one.
		{`sh -c 'kill -0 -$$' 2>/dev/null || echo no-group`, "no-group\n", "", 0},
		{`setsid sh -c 'kill -0 -$$ && echo own-group'`, "own-group\n", "", 0},
		{`setsid`, "", "usage: setsid program [arg ...]\n", 1},
		{`setsid true </dev/null && echo ok; env false || echo failed`, "ok\nfailed\n", "", 0},
		// Killing the shell itself ends it at once: 128+15, and sshd says
		// so with exit-signal.
		{`kill -TERM $$; echo survived`, "", "", 143},
		{`kill $$; echo survived`, "", "", 143},
		{`kill -9 0; echo survived`, "", "", 137},
	})
	g.waitEmpty(t)
}

func TestKillAcrossSessions(t *testing.T) {
	g := startTestGuest(t, Config{Operator: "op"}, apSeed(8092))
	c := g.dial(t, "root")
	op := g.dial(t, "op")
	must(t, c, "mkdir -p /tmp")

	s, _ := c.NewSession()
	defer s.Close()
	if err := s.Start(`sleep 30; touch /tmp/after`); err != nil {
		t.Fatal(err)
	}
	sleeper := g.waitProcess(t, "sleep")
	if sleeper.PGID == sleeper.PID || sleeper.PPID != sleeper.PGID {
		t.Errorf("sleep %+v: want a child of the session's shell, in its group", sleeper)
	}
	pg := strconv.Itoa(sleeper.PGID)
	checkShellCases(t, op, []shellCase{
		{"kill -0 " + pg, "", "bash: kill: (" + pg + ") - Operation not permitted\n", 1},
		{"kill -TERM -" + pg, "", "bash: kill: (-" + pg + ") - Operation not permitted\n", 1},
	})
	// Another session of the same guest sees the group and ends it.
	checkShellCases(t, c, []shellCase{
		{"kill -0 -" + pg + " && echo alive", "alive\n", "", 0},
		{"kill -TERM -" + pg, "", "", 0},
	})
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("killed session: %v", err)
	}
	g.waitEmpty(t)
	checkShellCases(t, c, []shellCase{
		{"kill -0 -" + pg, "", "bash: kill: (-" + pg + ") - No such process\n", 1},
	})
	if _, err := os.Stat(filepath.Join(g.Root(), "tmp", "after")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the killed command went on to touch /tmp/after (%v)", err)
	}
}

// TestKillOrphansAndPowerOff: killing a shell by pid leaves its child
// running, as the kernel would; a power-off ends everything.
func TestKillOrphansAndPowerOff(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8093))
	c := g.dial(t, "root")
	s, _ := c.NewSession()
	s.Start(`sh -c 'sleep 30'`)
	sleeper := g.waitProcess(t, "sleep")
	must(t, c, fmt.Sprintf("kill -KILL %d", sleeper.PPID))
	s.Wait()
	if _, ok := g.process(sleeper.PPID); ok {
		t.Errorf("the killed shell %d is still in the table", sleeper.PPID)
	}
	if _, ok := g.process(sleeper.PID); !ok {
		t.Errorf("killing the shell by pid also ended its child")
	}
	s.Close()
	g.SetPowered(false)
	g.waitEmpty(t)
}

// TestCloseWaitsForOrphans: Close returns only once the processes it
// killed, orphans included, have returned, so none touches the file tree
// after it is closed.
func TestCloseWaitsForOrphans(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8095))
	c := g.dial(t, "root")
	s, _ := c.NewSession()
	defer s.Close()
	s.Start(`sh -c 'sleep 30'`)
	sleeper := g.waitProcess(t, "sleep")
	must(t, c, fmt.Sprintf("kill -KILL %d", sleeper.PPID))
	g.Close()
	if list, _ := g.Processes(); len(list) > 0 {
		t.Errorf("Close returned with processes left: %+v", list)
	}
}
