package control

import (
	"bytes"
	"sync"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// defaultStopGrace is how long a stopped exec.local command has between
// SIGTERM and SIGKILL: as long as a remote command has
// (transport.DefaultStopGrace).
const defaultStopGrace = 5 * time.Second

// localStop is what stopGroup did to the command of a step that stopped
// before the command finished.
type localStop struct {
	// PID and PGID are the command's process and its process group
	// (the same number: the command leads its group); PGID is 0 where
	// the system has no process groups.
	PID, PGID int
	// Signal is the last signal sent, TERM or KILL; empty when no
	// process of the group was left to signal.
	Signal string
	// Gone is true when drbook saw no process of the group left.
	Gone bool
	// NoGroup is true where the system has no process groups: only the
	// command's own process was ended.
	NoGroup bool
}

// outcome says in words what happened, as the SSH stop does.
func (s localStop) outcome() journal.Text {
	switch {
	case s.NoGroup:
		return i18n.Textf("its process was ended by SIG%s, but this system has no process groups, so processes it started may live on",
			"其程序已以 SIG%s 結束，但此系統無程序群組，其所啟動之程序可能仍在執行", s.Signal)
	case s.Gone && s.Signal == "":
		return i18n.Textf("no process of it was left", "其程序均已結束")
	case s.Gone:
		return i18n.Textf("ended by SIG%s; no process of its group is left", "已以 SIG%s 結束；其程序群組已無任何程序", s.Signal)
	}
	return i18n.Textf("it survived SIGTERM and SIGKILL (a process in uninterruptible sleep, or stopped in a debugger?)",
		"經 SIGTERM 與 SIGKILL 後仍未結束（程序可能處於不可中斷之睡眠，或於除錯器中暫停？）")
}

// stopError is the error of an exec.local command that did not finish:
// the step was cancelled (Ctrl-C twice, abort, [c] at the menu) or timed
// out. It says what drbook did to end the command's process group and
// whether it saw the group gone; the engine journals that as evidence
// (RemoteStop), and, when the stop is not confirmed, it matches
// steps.ErrMayStillRun: nothing runs the step again beside a copy that
// may still be running.
type stopError struct {
	err  error
	stop steps.RemoteStop
}

func newStopError(cause error, command string, st localStop) error {
	o := st.outcome()
	e := &stopError{stop: steps.RemoteStop{
		Target: "localhost", Command: command, PID: st.PID, PGID: st.PGID,
		Confirmed: st.Gone, Outcome: o.EN, OutcomeZhTW: o.ZhTW, Local: true,
	}}
	switch {
	case st.Gone:
		e.err = i18n.Errorf("command stopped: %w; %[2]s (pid %[4]d, process group %[5]d)",
			"指令已停止：%w；%[3]s（PID %[4]d，程序群組 %[5]d）", cause, o.EN, o.ZhTW, st.PID, st.PGID)
	case st.NoGroup:
		e.err = i18n.Errorf("command stopped: %w; THE PROCESSES IT STARTED MAY STILL BE RUNNING on this machine (pid %[4]d): %[2]s. drbook will not run this step again by itself: look for them and stop them, or let them finish",
			"指令已停止：%w；其所啟動之程序可能仍在本機執行（PID %[4]d）：%[3]s。drbook 不會自行再次執行此步驟：請找出並停止該等程序，或待其執行完畢", cause, o.EN, o.ZhTW, st.PID)
	default:
		e.err = i18n.Errorf("command stopped: %w; THE COMMAND MAY STILL BE RUNNING on this machine (pid %[4]d, process group %[5]d): %[2]s. drbook will not run this step again by itself: check with ps -o pid,stat,args -g %[5]d, stop it with kill -KILL -%[5]d, or let it finish",
			"指令已停止：%w；此指令可能仍在本機執行（PID %[4]d，程序群組 %[5]d）：%[3]s。drbook 不會自行再次執行此步驟：請以 ps -o pid,stat,args -g %[5]d 確認，以 kill -KILL -%[5]d 停止，或待其執行完畢", cause, o.EN, o.ZhTW, st.PID, st.PGID)
	}
	return e
}

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// Is matches steps.ErrMayStillRun when the stop is not confirmed.
func (e *stopError) Is(target error) bool {
	return target == steps.ErrMayStillRun && !e.stop.Confirmed
}

// RemoteStop is the stop as the engine journals it.
func (e *stopError) RemoteStop() steps.RemoteStop { return e.stop }

// outputBuffer is a command's stdout or stderr. exec's copier writes it
// while the step may read it: when a process of the command outlives
// SIGKILL, the step returns without waiting for it.
type outputBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// bytes is a copy of what was written so far.
func (b *outputBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
