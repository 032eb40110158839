//go:build unix

package control

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// inOwnGroup makes cmd the leader of a session, and so of a process group,
// of its own. The terminal sends Ctrl-C's SIGINT (and SIGQUIT, SIGTSTP) to
// its foreground process group, which is drbook's: outside it, the command
// never sees them, and drbook decides what a Ctrl-C means (in guided mode,
// one pauses after the running step, which must then finish). A session
// rather than only a group (Setpgid): the command then has no controlling
// terminal, so one that asks on /dev/tty (sudo's password, ssh's host key)
// fails at once with its own message, where a background group would be
// stopped by SIGTTIN or SIGTTOU and the step would hang.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// groupPoll is how often stopGroup looks whether the group is gone, and
// killPolls how many looks it takes after SIGKILL before it gives up.
const (
	groupPoll = 20 * time.Millisecond
	killPolls = 500 // 10 s
)

// stopGroup ends the process group pgid, the one inOwnGroup gave the
// command (the group outlives its leader while any process started in it
// lives): SIGTERM (with SIGCONT, so that a stopped process sees it), then,
// when some process of the group is still there after grace, SIGKILL; and
// it looks until no process of the group is left. A process that left the
// group on purpose (a daemon calling setsid) is not the step's to end.
func stopGroup(p *os.Process, grace time.Duration) localStop {
	pgid := p.Pid
	st := localStop{PID: pgid, PGID: pgid}
	if !groupAlive(pgid) {
		st.Gone = true
		return st
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	syscall.Kill(-pgid, syscall.SIGCONT)
	st.Signal = "TERM"
	for range max(int(grace/groupPoll), 1) {
		if !groupAlive(pgid) {
			st.Gone = true
			return st
		}
		time.Sleep(groupPoll)
	}
	if !groupAlive(pgid) {
		st.Gone = true
		return st
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	st.Signal = "KILL"
	for range killPolls {
		if !groupAlive(pgid) {
			st.Gone = true
			return st
		}
		time.Sleep(groupPoll)
	}
	return st
}

// groupAlive reports whether a process of group pgid is alive. A zombie
// counts as gone: it runs nothing, and kill -0 finds it until its new
// parent reaps it, which some init processes (a container's) do late or
// never. Where /proc is there it tells them apart; elsewhere kill -0
// decides.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	seen := false
	for _, d := range dir {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		seen = true
		state, group, ok := procStat(d.Name())
		if ok && group == pgid && state != "Z" && state != "X" {
			return true
		}
	}
	// kill -0 found the group, but /proc shows none of it alive; if
	// /proc lists no process at all, it is not Linux's and says nothing.
	return !seen
}

// procStat reads a process's state and process group from
// /proc/PID/stat: "pid (comm) state ppid pgrp …", where comm may hold
// spaces and parentheses, hence the last ')'.
func procStat(pid string) (state string, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return "", 0, false
	}
	g, err := strconv.Atoi(f[2])
	return f[0], g, err == nil
}
