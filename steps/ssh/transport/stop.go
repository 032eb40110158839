package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/steps"
)

// DefaultStopGrace is how long a stopped command has between SIGTERM and
// SIGKILL.
const DefaultStopGrace = 5 * time.Second

// Why a wrapper: closing an SSH channel does not end the command behind it
// (OpenSSH sends no signal to a session without a terminal), and the
// "signal" channel request is refused by OpenSSH without privilege
// separation and unknown to RHEL 5's OpenSSH 4.3. So every remote command
// runs inside wrapperScript, which puts it in a process group of its own
// and records that group in a pid file on the guest; to stop it, drbook
// opens a second session that runs stopScript on the file.
//
// wrapperScript is POSIX sh (dash, busybox ash, bash 3.2). Its arguments
// are the pid file, the shell that runs the command (empty: the login
// shell, $SHELL, which is what sshd would have used, or sh if that is not
// an executable file), the command, the pid files' common prefix for this
// step of this run (empty for none) and the token that starts a refusal.
//
// It refuses to start (exit 125, stderr starting with the token, which
// Run turns into an error) when the pid file exists, or when an earlier
// copy of the same step of the same run is still alive: after a crash of
// drbook, a resumed run must not start the step beside the copy the
// crashed session left running.
//
// The pid file lives in a directory of its own, made with mkdir under
// umask 077 before anything runs. mkdir is atomic and refuses an existing
// name (a symlink too) in every shell, where noclobber is not (the lab's
// shell ignores set -C): if the directory exists, the wrapper refuses to
// start, so a stop that came first (stopScript makes the directory itself
// when it finds none) can never be overtaken by a late start. The command
// runs in the foreground (its stdin and exit status untouched, no file
// descriptor juggling that simpler shells lack), in a shell that records
// its own pid before the command's first word. The group is found in the
// first way that works: the wrapper is the group itself when it leads a
// process group, as sshd makes every session's shell the leader of a new
// session (so does the lab); else setsid (util-linux on RHEL 5, busybox)
// starts the command as the leader of a new session (behind a sudo that
// forks, say); else only the command's pid is known, and a stop cannot
// vouch for the command's children. A wrapper that leads the group
// catches SIGTERM (its command does not: a caught signal is reset on exec),
// so that a stop's SIGTERM leaves it to reap the command and remove the
// pid directory, as a wrapper outside the group does: a command orphaned
// by its wrapper's death would linger as a zombie that kill -0 still finds
// until init reaps it, which some do only now and then.
//
// Every program started costs the guest a fork and an exec, which for a
// short command is most of what the wrapper adds to sshd's own work, so
// the wrapper starts as few as it can (TestE2EWrapperProgramsPerCommand
// counts them). Whether it leads its group it reads from /proc/$$/stat
// with the shell's own read, and only when it does not is setsid looked
// for: as a file on PATH with the shell's own test, and tried (setsid
// true) only when that finds none (busybox ash runs applets without a
// file, and its command -v names applets it cannot run in a chroot
// without /proc); a setsid found on PATH that cannot run fails the command
// with the shell's message (exit 126 or 127), as it would for the
// operator. Through setsid, a POSIX command shell records its pid itself,
// in a first command put before the command's text on its first line (so
// line numbers in its errors stay the same; bash quotes that line, prefix
// included, in a syntax error) when the pid directory's name is made of
// characters that need no quoting, as drbook's always are; any other shell
// (csh, fish), or name, goes through an sh that records its pid and then
// execs the command's shell. The directory goes with one rm -rf: it only
// ever holds the pid file, and only this wrapper, its owner, can remove it
// from the sticky /tmp while the wrapper runs. busybox ash runs mkdir and
// rm as its own applets (a fork, no program); under dash and bash they are
// the two programs besides the sh and the command's shell: 5 in all with
// the login shell under sshd (6 with setsid, which a session leader does
// not need; 10 before issue 15).
const wrapperScript = runningFunc + `pd=$1; run=$2; cmd=$3; same=$4; tok=$5
[ -n "$run" ] || { run=${SHELL:-/bin/sh}; [ -x "$run" ] || run=sh; }
umask 077
mkdir "$pd" 2>/dev/null || { echo "$tok $pd already exists: the command was stopped before it started" >&2; exit 125; }
if [ -n "$same" ]; then
	for f in "$same"*; do
		[ "$f" = "$pd" ] && continue
		[ -d "$f" ] || continue
		o=; og=; { read -r o og x <"$f/pid"; } 2>/dev/null
		case $o in ""|-) continue ;; esac
		if running "$o" "$og"; then rmdir "$pd" 2>/dev/null; echo "$tok an earlier copy of this step is still running (pid $o, pid file $f/pid)" >&2; exit 125; fi
		rm -f "$f/pid"; rmdir "$f" 2>/dev/null
	done
fi
lead=; s=; { read -r s </proc/$$/stat; } 2>/dev/null; s=${s##*) }; set -- $s; [ "$3" = "$$" ] && lead=1
sid=
if [ -z "$lead" ]; then
	p=$PATH:
	while [ -n "$p" ]; do d=${p%%:*}; p=${p#*:}; [ -f "${d:-.}/setsid" ] && [ -x "${d:-.}/setsid" ] && { sid=1; break; }; done
	[ -n "$sid" ] || { setsid true </dev/null >/dev/null 2>&1 && sid=1; }
fi
posix=
case ${run##*/} in sh|bash|dash|ash|ksh|mksh|zsh) case $pd in *[!A-Za-z0-9._/-]*) ;; *) posix=1 ;; esac ;; esac
if [ -n "$lead" ]; then
	echo "$$ $$ leader" >"$pd/pid"
	trap : TERM
	"$run" -c "$cmd"; st=$?
	trap - TERM
elif [ -n "$sid" ] && [ -n "$posix" ]; then
	setsid "$run" -c "echo \"\$\$ \$\$ setsid $$\" >$pd/pid; $cmd"; st=$?
elif [ -n "$sid" ]; then
	setsid sh -c 'echo "$$ $$ setsid $4" >"$1/pid"; exec "$2" -c "$3"' drbook "$pd" "$run" "$cmd" $$; st=$?
else
	sh -c 'echo "$$ - pid" >"$1/pid"; exec "$2" -c "$3"' drbook "$pd" "$run" "$cmd"; st=$?
fi
rm -rf "$pd"
exit $st`

// runningFunc defines running PID PGID for both scripts: whether a process
// of the group (of the pid alone when PGID is - or empty) is alive. A
// zombie counts as gone (kill -0 still finds it until its new parent reaps
// it, which some init processes do only now and then); on Linux /proc
// tells them apart, elsewhere kill -0 decides.
const runningFunc = `live() { want=$2; s=; { read -r s </proc/$1/stat; } 2>/dev/null || return 1; s=${s##*) }; set -- $s; [ "$1" != Z ] && { [ -z "$want" ] || [ "$3" = "$want" ]; }; }
running() {
	case $2 in -|"") t=$1 ;; *) t=-$2 ;; esac
	kill -0 $t 2>/dev/null || return 1
	[ -r /proc/self/stat ] || return 0
	case $2 in -|"") live $1; return ;; esac
	for d in /proc/[0-9]*; do live ${d#/proc/} $2 && return 0; done
	return 1
}
`

// stopScript ends the command recorded in a pid directory's file: SIGTERM
// to its process group, SIGKILL after the grace (its second argument, in
// tenths of a second), and running until no process of the group is left
// (and, with setsid, until the wrapper outside the group has exited too).
// It prints one line, "drbook-stop: STATE [PID PGID SIGNAL]", where STATE
// is not-started, finished, gone, stopped, pid-only, alive or no-pid.
const stopScript = runningFunc + `pd=$1; grace=$2
umask 077
if sleep 0.1 2>/dev/null; then nap() { sleep 0.1; }; tick=1; else nap() { sleep 1; }; tick=10; fi
if mkdir "$pd" 2>/dev/null; then echo "- - stopped-before-start" >"$pd/pid"; echo "drbook-stop: not-started"; exit 0; fi
n=0
while :; do
	pid=; pg=; how=; w=
	{ read -r pid pg how w <"$pd/pid"; } 2>/dev/null
	[ -n "$pid" ] && break
	[ -d "$pd" ] || { echo "drbook-stop: finished"; exit 0; }
	n=$((n+tick)); [ $n -ge 50 ] && { echo "drbook-stop: no-pid"; exit 0; }
	nap
done
[ "$pid" = - ] && { echo "drbook-stop: not-started"; exit 0; }
case $pg in -|"") tgt=$pid ;; *) tgt=-$pg ;; esac
alive() { running "$pid" "$pg"; }
if ! alive; then
	case $pg in -|"") echo "drbook-stop: pid-only $pid - -"; exit 0 ;; esac
	rm -f "$pd/pid"; rmdir "$pd" 2>/dev/null; echo "drbook-stop: gone $pid $pg -"; exit 0
fi
kill -TERM $tgt 2>/dev/null; sig=TERM
n=0; while alive && [ $n -lt $grace ]; do nap; n=$((n+tick)); done
if alive; then
	kill -KILL $tgt 2>/dev/null; sig=KILL
	n=0; while alive && [ $n -lt 100 ]; do nap; n=$((n+tick)); done
fi
if alive; then echo "drbook-stop: alive $pid $pg $sig"; exit 0; fi
case $pg in -|"") echo "drbook-stop: pid-only $pid - $sig"; exit 0 ;; esac
n=0; while [ -n "$w" ] && running "$w" - && [ $n -lt 50 ]; do nap; n=$((n+tick)); done
rm -f "$pd/pid"; rmdir "$pd" 2>/dev/null
echo "drbook-stop: stopped $pid $pg $sig"`

// pidDirs names the directory that holds the pid file of one remote
// command, and the prefix of those of every attempt of the same step of
// the same run (empty when ctx does not say which step runs). The name
// ends in 64 random bits, so no other user of the guest can plant it in
// advance.
func pidDirs(ctx context.Context) (pidDir, same string) {
	var b [8]byte
	rand.Read(b[:])
	if run, step, ok := steps.RunStepFrom(ctx); ok {
		same = "/tmp/.drbook-" + safeName.ReplaceAllString(run+"-"+step, "_") + "-"
		return same + hex.EncodeToString(b[:]), same
	}
	return "/tmp/.drbook-" + hex.EncodeToString(b[:]), ""
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// newToken is the random word that starts the wrapper's refusals, so that
// nothing a command prints is taken for one.
func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return "drbook-refused-" + hex.EncodeToString(b[:]) + ":"
}

// refusalFilter passes stderr through, except a refusal of the wrapper,
// which comes first and alone; it keeps that for the error.
type refusalFilter struct {
	token   string
	w       io.Writer
	head    []byte
	decided bool
	refused bool
}

func (f *refusalFilter) Write(p []byte) (int, error) {
	if f.decided {
		if f.refused {
			f.head = append(f.head, p...)
			return len(p), nil
		}
		return f.write(p)
	}
	f.head = append(f.head, p...)
	if len(f.head) < len(f.token) && strings.HasPrefix(f.token, string(f.head)) {
		return len(p), nil
	}
	f.decided = true
	if strings.HasPrefix(string(f.head), f.token) {
		f.refused = true
		return len(p), nil
	}
	head := f.head
	f.head = nil
	if _, err := f.write(head); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (f *refusalFilter) write(p []byte) (int, error) {
	if f.w == nil {
		return len(p), nil
	}
	return f.w.Write(p)
}

// flush forwards what was held back when the stream ended early.
func (f *refusalFilter) flush() {
	if !f.decided && len(f.head) > 0 {
		f.decided = true
		f.write(f.head)
	}
}

// refusal is the wrapper's reason for not running the command, or "".
func (f *refusalFilter) refusal() string {
	if !f.refused {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(string(f.head), f.token))
}

// RefusedError is a command the guest's wrapper would not start, because
// it was stopped before it started or because an earlier copy of the same
// step still runs. It matches steps.ErrMayStillRun: the step must not be
// run again until a person has looked.
type RefusedError struct {
	Target string
	Why    string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("ssh %s: drbook refused to start the command: %s; check the guest, and stop that copy or let it finish", e.Target, e.Why)
}

// Is matches steps.ErrMayStillRun.
func (e *RefusedError) Is(target error) bool { return target == steps.ErrMayStillRun }

// shellFor is the shell that runs a command: the login shell, or sh
// through sudo, as before commands were wrapped.
func (c *Client) shellFor() string {
	if c.cfg.Guest.Become == "sudo" {
		return "sh"
	}
	return ""
}

// wrapped is the command line that runs cmd inside wrapperScript.
func (c *Client) wrapped(cmd, pidDir, same, token string) string {
	line := "sh -c " + Quote(wrapperScript) + " drbook " + QuoteAll(pidDir, c.shellFor(), cmd, same, token)
	if c.cfg.Guest.Become == "sudo" {
		return "exec sudo -n -- " + line
	}
	return "exec " + line
}

func (c *Client) stopGrace() time.Duration {
	if c.cfg.StopGrace > 0 {
		return c.cfg.StopGrace
	}
	return DefaultStopGrace
}

// stopRemote runs stopScript in a second session (redialing if the
// connection is gone) and reports what it saw. It has its own bound,
// because the step's context is usually what has ended.
func (c *Client) stopRemote(ctx context.Context, cmd, pidDir string) steps.RemoteStop {
	rs := steps.RemoteStop{Target: c.Target(), Command: firstLine(cmd), PIDFile: pidDir + "/pid"}
	grace := c.stopGrace()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace+10*time.Second+2*DefaultConnectTimeout)
	defer cancel()
	sess, err := c.newSession(ctx)
	if err != nil {
		rs.Outcome = "drbook could not open a second session to stop it: " + err.Error()
		return rs
	}
	defer sess.Close()
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	var out, errOut bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errOut
	tenths := max(int(grace/(100*time.Millisecond)), 1)
	line := "sh -c " + Quote(stopScript) + " drbook-stop " + QuoteAll(pidDir, strconv.Itoa(tenths))
	if err := sess.Run(c.WrapBecome(line)); err != nil {
		rs.Outcome = fmt.Sprintf("the stop command failed (%v; %s)", err, strings.TrimSpace(errOut.String()))
		return rs
	}
	var state, sig string
	for _, l := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "drbook-stop: "); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			state = f[0]
			if len(f) >= 4 {
				rs.PID, _ = strconv.Atoi(f[1])
				rs.PGID, _ = strconv.Atoi(f[2])
				sig = f[3]
			}
		}
	}
	switch state {
	case "not-started":
		rs.Confirmed, rs.Outcome = true, "it had not started; it never will (its pid directory is taken)"
	case "finished":
		rs.Confirmed, rs.Outcome = true, "it had already finished"
	case "gone":
		rs.Confirmed, rs.Outcome = true, "no process of it was left"
	case "stopped":
		rs.Confirmed, rs.Outcome = true, "ended by SIG"+sig+"; no process of its group is left"
	case "pid-only":
		rs.Outcome = "its shell is gone, but the guest could not give it a process group of its own (no setsid), so processes it started may live on"
		if sig != "-" {
			rs.Outcome = "its shell was ended by SIG" + sig + ", but the guest could not give it a process group of its own (no setsid), so processes it started may live on"
		}
	case "alive":
		rs.Outcome = "it survived SIGTERM and SIGKILL (a process in uninterruptible sleep, or stopped in a debugger?)"
	case "no-pid":
		rs.Outcome = "its pid file stayed empty, so drbook does not know which process to stop"
	default:
		rs.Outcome = fmt.Sprintf("the stop command printed nothing drbook understands (stdout %q, stderr %q)", firstLine(out.String()), firstLine(errOut.String()))
	}
	return rs
}

// StopError is the error of a command that did not finish: the step was
// cancelled or timed out, or the connection was lost. It says what drbook
// did to end the command on the guest and whether it saw it gone. It
// matches steps.ErrMayStillRun when the stop is not confirmed, and
// steps.ErrOutcomeUnknown when the connection was lost (nobody knows how
// far the command got).
type StopError struct {
	// Err is the transport error: cancellation or connection loss.
	Err  *Error
	Stop steps.RemoteStop
	// Lost is true when the connection was lost, rather than the step
	// stopped by drbook.
	Lost bool
}

func (e *StopError) Error() string {
	s := e.Stop
	msg := e.Err.Error()
	ids := ""
	if s.PID > 0 {
		ids = fmt.Sprintf(" (pid %d", s.PID)
		if s.PGID > 0 {
			ids += fmt.Sprintf(", process group %d", s.PGID)
		}
		ids += ")"
	}
	if s.Confirmed {
		return msg + "; on the guest the command was stopped and confirmed gone: " + s.Outcome + ids
	}
	check := "ps -ef on the guest"
	stop := ""
	switch {
	case s.PGID > 0:
		check = fmt.Sprintf("kill -0 -%d (or ps -o pid,pgid,args -g %d)", s.PGID, s.PGID)
		stop = fmt.Sprintf(", stop it with kill -TERM -%d", s.PGID)
	case s.PID > 0:
		check = fmt.Sprintf("ps -o pid,args -p %d and its children", s.PID)
		stop = fmt.Sprintf(", stop it with kill -TERM %d", s.PID)
	}
	return fmt.Sprintf("%s; THE COMMAND MAY STILL BE RUNNING on %s%s: %s. drbook will not run this step again by itself: check on the guest with %s and the pid file %s%s, or let it finish",
		msg, s.Target, ids, s.Outcome, check, s.PIDFile, stop)
}

func (e *StopError) Unwrap() error { return e.Err }

// Is matches steps.ErrMayStillRun and steps.ErrOutcomeUnknown as
// described on StopError.
func (e *StopError) Is(target error) bool {
	switch target {
	case steps.ErrMayStillRun:
		return !e.Stop.Confirmed
	case steps.ErrOutcomeUnknown:
		return e.Lost
	}
	return false
}

// RemoteStop is the stop as the engine journals it.
func (e *StopError) RemoteStop() steps.RemoteStop { return e.Stop }
