package transport_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// signalWriter collects output and closes seen once it holds want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newSignalWriter(want string) *signalWriter {
	return &signalWriter{want: want, seen: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// procsIn lists the live (not zombie) processes whose working directory is
// dir: every command sshtest runs starts there, and so do its children.
func procsIn(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil || cwd != dir {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		out = append(out, e.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// pidFileMode returns how the wrapper recorded the command whose shell
// wrote its pid into pidPath: setsid, leader or pid.
func pidFileMode(t *testing.T, pidPath string) string {
	t.Helper()
	b, err := os.ReadFile(pidPath)
	if err != nil {
		t.Fatal(err)
	}
	cmdPid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	pgid, err := syscall.Getpgid(cmdPid)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("/tmp/.drbook-*/pid")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		fields := strings.Fields(string(b))
		if len(fields) >= 3 && (fields[0] == strconv.Itoa(cmdPid) || fields[1] == strconv.Itoa(pgid)) {
			return fields[2]
		}
	}
	t.Fatalf("no pid file records the command (pid %d, group %d)", cmdPid, pgid)
	return ""
}

// binWithout makes a PATH directory holding only the named programs.
func binWithout(t *testing.T, programs ...string) string {
	dir := t.TempDir()
	for _, p := range programs {
		if err := os.Symlink("/bin/"+p, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeSudo writes a stand-in sudo; with fork it runs the command as a
// child instead of exec'ing it, as a real sudo does.
func fakeSudo(t *testing.T, fork bool) string {
	bin := t.TempDir()
	run := "exec \"$@\""
	if fork {
		run = "\"$@\"; exit $?"
	}
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\necho sudo >> \"$HOME/sudo.log\"\n"+run+"\n"), 0o755)
	return bin
}

func stopClient(t *testing.T, o sshtest.Options, edit func(*site.Guest), grace time.Duration) (*rig, *transport.Client) {
	t.Helper()
	// The guest's /tmp is this machine's: remove the pid files the test
	// leaves (a crashed guest or client leaves them on purpose).
	before, _ := filepath.Glob("/tmp/.drbook-*")
	t.Cleanup(func() {
		after, _ := filepath.Glob("/tmp/.drbook-*")
		for _, d := range after {
			if !slices.Contains(before, d) {
				os.Remove(filepath.Join(d, "pid"))
				os.Remove(d)
			}
		}
	})
	r := newRig(t, o, edit)
	c, err := transport.New(transport.Config{Name: "ap01", Guest: r.rt.Site().Guests["ap01"], StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return r, c
}

// runUntilGo starts cmd (which prints "go" once it runs), calls act when
// it has, and returns Run's error.
func runUntilGo(t *testing.T, c *transport.Client, cmd string, act func(cancel func())) error {
	t.Helper()
	cx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	out := newSignalWriter("go\n")
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(cx, cmd, nil, out, out)
		done <- err
	}()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("the command ended before it said go: %v; output %q", err, out.buf.String())
	}
	act(cancel)
	return <-done
}

// TestStopEndsTheRemoteCommand cancels a running command on a server that
// refuses "signal" requests and leaves commands running when their channel
// closes, as OpenSSH does: drbook stops it through a second session, and
// no process of it is left, in each way the wrapper finds a process group.
func TestStopEndsTheRemoteCommand(t *testing.T) {
	cases := []struct {
		name string
		o    sshtest.Options
		edit func(*site.Guest)
		mode string
	}{
		{"session leader", sshtest.Options{}, nil, "leader"},
		{"setsid, not a group leader", sshtest.Options{NoProcessGroup: true}, nil, "setsid"},
		{"session leader, no setsid", sshtest.Options{Path: binWithout(t, "sh", "sleep", "rm", "touch", "mkdir", "rmdir")}, nil, "leader"},
		{"sudo with setsid", sshtest.Options{PathPrefix: fakeSudo(t, true)}, func(g *site.Guest) { g.Become = "sudo" }, "setsid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, c := stopClient(t, tc.o, tc.edit, 0)
			cmd := "echo $$ > cmd.pid; echo go; sleep 1000; touch marker"
			err := runUntilGo(t, c, cmd, func(cancel func()) {
				if got := pidFileMode(t, filepath.Join(r.dir, "cmd.pid")); got != tc.mode {
					t.Errorf("the wrapper used %q, want %q", got, tc.mode)
				}
				cancel()
			})
			var se *transport.StopError
			if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
				t.Fatalf("want a StopError for the cancellation, got %v", err)
			}
			if !se.Stop.Confirmed || errors.Is(err, steps.ErrMayStillRun) || errors.Is(err, steps.ErrOutcomeUnknown) {
				t.Fatalf("the stop must be confirmed: %+v (%v)", se.Stop, err)
			}
			if !strings.Contains(err.Error(), "confirmed gone") || !strings.Contains(se.Stop.Outcome, "SIGTERM") || se.Stop.PGID == 0 {
				t.Errorf("the error and the stop say how it ended: %v / %+v", err, se.Stop)
			}
			if left := procsIn(r.dir); len(left) > 0 {
				t.Fatalf("processes of the stopped command live on: %v", left)
			}
			if _, err := os.Stat(filepath.Dir(se.Stop.PIDFile)); !os.IsNotExist(err) || filepath.Base(se.Stop.PIDFile) != "pid" {
				t.Errorf("the pid file %s is left behind: %v", se.Stop.PIDFile, err)
			}
			if tc.edit != nil {
				if b, _ := os.ReadFile(filepath.Join(r.dir, "sudo.log")); string(b) != "sudo\nsudo\n" {
					t.Errorf("the command and its stop both go through sudo: %q", b)
				}
			}
			// Nothing of the command is alive, so its marker can never
			// appear; and the guest is usable at once.
			if out, _ := run(t, c, "ls"); strings.Contains(out, "marker") {
				t.Fatal("the command went on after the stop")
			}
		})
	}
}

// TestStopEscalatesToSIGKILL stops a command that ignores SIGTERM (and
// SIGHUP).
func TestStopEscalatesToSIGKILL(t *testing.T) {
	r, c := stopClient(t, sshtest.Options{}, nil, 200*time.Millisecond)
	err := runUntilGo(t, c, "trap '' TERM HUP; echo go; sleep 1000; touch marker", func(cancel func()) { cancel() })
	var se *transport.StopError
	if !errors.As(err, &se) || !se.Stop.Confirmed || !strings.Contains(se.Stop.Outcome, "SIGKILL") {
		t.Fatalf("want a stop confirmed after SIGKILL, got %v", err)
	}
	if left := procsIn(r.dir); len(left) > 0 {
		t.Fatalf("processes live on: %v", left)
	}
}

// TestStopWithoutProcessGroupIsNotConfirmed: behind a sudo that forks, on
// a guest without setsid, the wrapper knows only the command's pid, so a
// stop cannot vouch for its children; the error says the command may
// still run, where, and what to check.
func TestStopWithoutProcessGroupIsNotConfirmed(t *testing.T) {
	bin := binWithout(t, "sh", "sleep", "rm", "touch", "mkdir", "rmdir")
	r, c := stopClient(t, sshtest.Options{PathPrefix: fakeSudo(t, true), Path: bin}, func(g *site.Guest) { g.Become = "sudo" }, 0)
	err := runUntilGo(t, c, "echo $$ > cmd.pid; echo go; sleep 1000", func(cancel func()) {
		if got := pidFileMode(t, filepath.Join(r.dir, "cmd.pid")); got != "pid" {
			t.Errorf("the wrapper used %q, want pid", got)
		}
		cancel()
	})
	var se *transport.StopError
	if !errors.As(err, &se) || se.Stop.Confirmed || !errors.Is(err, steps.ErrMayStillRun) {
		t.Fatalf("want an unconfirmed stop, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"MAY STILL BE RUNNING", c.Target(), "pid " + strconv.Itoa(se.Stop.PID), se.Stop.PIDFile, "no setsid", "will not run this step again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q: %s", want, msg)
		}
	}
}

// TestLostConnectionStopsTheCommand: the connection drops while the
// command runs (sshd restarted, a network blip); the command keeps running
// on the guest, so drbook redials and stops it before reporting the loss.
func TestLostConnectionStopsTheCommand(t *testing.T) {
	r, c := stopClient(t, sshtest.Options{}, nil, 0)
	err := runUntilGo(t, c, "echo go; sleep 1000; touch marker", func(func()) { r.srv.DropConnections() })
	var se *transport.StopError
	if !errors.As(err, &se) || !se.Lost || !se.Stop.Confirmed {
		t.Fatalf("want a lost connection with a confirmed stop, got %v", err)
	}
	if !errors.Is(err, steps.ErrOutcomeUnknown) || errors.Is(err, steps.ErrMayStillRun) || !transport.IsRetryable(err) {
		t.Fatalf("outcome unknown, not still running: %v", err)
	}
	if left := procsIn(r.dir); len(left) > 0 {
		t.Fatalf("processes live on: %v", left)
	}
}

// TestLostGuestCannotConfirmTheStop: the guest is gone altogether, so the
// second session cannot be opened and nobody knows whether the command
// still runs.
func TestLostGuestCannotConfirmTheStop(t *testing.T) {
	r, c := stopClient(t, sshtest.Options{}, nil, 0)
	err := runUntilGo(t, c, "echo go; sleep 1000", func(func()) { r.srv.Close() })
	if !errors.Is(err, steps.ErrOutcomeUnknown) || !errors.Is(err, steps.ErrMayStillRun) || !strings.Contains(err.Error(), "could not open a second session") {
		t.Fatalf("want an unconfirmed stop after a lost connection, got %v", err)
	}
}

// TestStopBeforeStartWins: a stop that reaches the guest before the
// wrapper has created its pid file takes the file, and the late wrapper
// refuses to run the command.
func TestStopBeforeStartWins(t *testing.T) {
	r, c := stopClient(t, sshtest.Options{}, nil, 0)
	pidDir := "/tmp/.drbook-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Cleanup(func() { os.Remove(pidDir + "/pid"); os.Remove(pidDir) })
	st := c.StopRemote(ctx(t), pidDir)
	if !st.Confirmed || !strings.Contains(st.Outcome, "not started") {
		t.Fatalf("stop before start: %+v", st)
	}
	var stderr bytes.Buffer
	_, err := c.RunWithPIDDir(ctx(t), "touch marker", pidDir, nil, &stderr)
	var re *transport.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "stopped before it started") || stderr.Len() != 0 {
		t.Fatalf("a late start must refuse: %v, stderr %q", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(r.dir, "marker")); !os.IsNotExist(err) {
		t.Fatal("the command ran after it was stopped")
	}
	if fi, err := os.Lstat(pidDir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the stop's pid directory must be 0700: %v %v", fi, err)
	}
	if fi, err := os.Lstat(pidDir + "/pid"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the stop's pid file must be 0600: %v %v", fi, err)
	}
}

// TestWrapperKeepsStdinAndExitCode: wrapped commands still read their
// input and report their exit code, and the pid file is gone afterwards.
func TestWrapperKeepsStdinAndExitCode(t *testing.T) {
	_, c := stopClient(t, sshtest.Options{}, nil, 0)
	var out bytes.Buffer
	code, err := c.Run(ctx(t), "read x; echo got $x; exit 7", strings.NewReader("input\n"), &out, nil)
	if err != nil || code != 7 || out.String() != "got input\n" {
		t.Fatalf("exit %d, %v, %q", code, err, out.String())
	}
	pidDir := "/tmp/.drbook-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if code, err := c.RunWithPIDDir(ctx(t), "exit 3", pidDir, nil, nil); err != nil || code != 3 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if _, err := os.Lstat(pidDir); !os.IsNotExist(err) {
		t.Fatalf("the pid file of a finished command is left behind: %v", err)
	}
}

// TestEarlierCopyOfTheStepBlocksAResumedRun: drbook dies while a step's
// command runs (nothing stops it); the resumed run, with the same run id,
// must not start the step beside it. Once that copy is gone, the step
// runs, and the stale pid file is cleared.
func TestEarlierCopyOfTheStepBlocksAResumedRun(t *testing.T) {
	r, first := stopClient(t, sshtest.Options{}, nil, 0)
	runID := "20261202T010203Z-drill-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	stepCtx := steps.WithRunStep(ctx(t), runID, "restore[0]")
	out := newSignalWriter("go\n")
	go first.Run(stepCtx, "echo $$ > cmd.pid; echo go; sleep 1000", nil, out, nil)
	<-out.seen
	first.Close() // the crash: the connection is gone, the command is not
	second, err := transport.New(transport.Config{Name: "ap01", Guest: r.rt.Site().Guests["ap01"]})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	var stderr bytes.Buffer
	_, err = second.Run(stepCtx, "touch marker", nil, nil, &stderr)
	var re *transport.RefusedError
	if !errors.As(err, &re) || !errors.Is(err, steps.ErrMayStillRun) || !strings.Contains(err.Error(), "earlier copy of this step is still running") || stderr.Len() != 0 {
		t.Fatalf("want a refusal naming the earlier copy, got %v (stderr %q)", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(r.dir, "marker")); err == nil {
		t.Fatal("the step ran beside its earlier copy")
	}
	// Another step, or the same step of another run, is not held up.
	if code, err := second.Run(steps.WithRunStep(ctx(t), runID, "other"), "true", nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("another step: %d %v", code, err)
	}
	b, _ := os.ReadFile(filepath.Join(r.dir, "cmd.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	pg, _ := syscall.Getpgid(pid)
	syscall.Kill(-pg, syscall.SIGKILL)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		time.Sleep(10 * time.Millisecond)
	}
	if code, err := second.Run(stepCtx, "touch marker", nil, nil, nil); err != nil || code != 0 {
		t.Fatalf("once the earlier copy is gone the step runs: %d %v", code, err)
	}
	left, _ := filepath.Glob("/tmp/.drbook-" + runID + "-restore_0_-*")
	if len(left) != 0 {
		t.Fatalf("stale pid files are left: %v", left)
	}
}

func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

// TestWrapperWithAnyPIDDirName: a POSIX command shell records its pid in a
// first command built from the pid directory's name, which drbook makes of
// safe characters only; any other name goes through an sh that takes it as
// an argument, so it never runs as code, and the command still runs, keeps
// its exit code, can be stopped, and leaves nothing behind.
func TestWrapperWithAnyPIDDirName(t *testing.T) {
	for _, tc := range []struct {
		mode string
		o    sshtest.Options
	}{{"setsid", sshtest.Options{NoProcessGroup: true}}, {"leader", sshtest.Options{}}} {
		t.Run(tc.mode, func(t *testing.T) {
			r, c := stopClient(t, tc.o, nil, 0)
			pidDir := "/tmp/.drbook-test it's $(touch pwned) `touch pwned`;touch pwned-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			t.Cleanup(func() { os.Remove(pidDir + "/pid"); os.Remove(pidDir) })
			if code, err := c.RunWithPIDDir(ctx(t), "echo $$ > cmd.pid; exit 3", pidDir, nil, nil); err != nil || code != 3 {
				t.Fatalf("exit %d, %v", code, err)
			}
			if _, err := os.Lstat(pidDir); !os.IsNotExist(err) {
				t.Fatalf("the pid directory is left behind: %v", err)
			}
			cx, cancel := context.WithCancel(ctx(t))
			defer cancel()
			out := newSignalWriter("go\n")
			done := make(chan error, 1)
			go func() {
				_, err := c.RunWithPIDDir(cx, "echo $$ > cmd.pid; echo go; sleep 1000; touch marker", pidDir, out, out)
				done <- err
			}()
			select {
			case <-out.seen:
			case err := <-done:
				t.Fatalf("the command ended before it said go: %v; output %q", err, out.buf.String())
			}
			if got := pidFileMode(t, filepath.Join(r.dir, "cmd.pid")); got != tc.mode {
				t.Errorf("the wrapper used %q, want %s", got, tc.mode)
			}
			cancel()
			var se *transport.StopError
			if err := <-done; !errors.As(err, &se) || !se.Stop.Confirmed {
				t.Fatalf("want a confirmed stop, got %v", err)
			}
			if left := procsIn(r.dir); len(left) > 0 {
				t.Fatalf("processes of the stopped command live on: %v", left)
			}
			if m, _ := filepath.Glob(filepath.Join(r.dir, "pwned*")); len(m) > 0 {
				t.Fatalf("the pid directory's name ran as code: %v", m)
			}
			if m, _ := filepath.Glob("/tmp/pwned*"); len(m) > 0 {
				t.Fatalf("the pid directory's name ran as code: %v", m)
			}
		})
	}
}
