//go:build unix

package control

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

// runUntilFile runs exec.local's shell script src in the background,
// waits until the file name (which the script writes) has a line, and
// returns that line and the channel Execute's error arrives on.
func runUntilFile(t *testing.T, ctx context.Context, k execLocal, src, name string) (string, *steptest.Runtime, <-chan error) {
	t.Helper()
	rt := steptest.NewRuntime(t, nil)
	p := steptest.Decode(t, k, `{shell: '`+strings.ReplaceAll(src, "'", "''")+`'}`)
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(ctx, rt, p)
		done <- err
	}()
	for {
		if b, err := os.ReadFile(name); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b)), rt, done
		}
		select {
		case err := <-done:
			t.Fatalf("the command ended before it wrote %s: %v", name, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// processGone reports whether pid has ended: it no longer exists, or it
// is a zombie (dead, waiting for whoever adopted it to reap it). It looks
// up to 200 times, 10 ms apart, for a process that is on its way out.
func processGone(pid int) bool {
	for range 200 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if state, _, ok := procStat(strconv.Itoa(pid)); ok && state == "Z" {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func stopOf(t *testing.T, err error) steps.RemoteStop {
	t.Helper()
	var rs interface{ RemoteStop() steps.RemoteStop }
	if !errors.As(err, &rs) {
		t.Fatalf("the error carries no stop for the journal: %v", err)
	}
	return rs.RemoteStop()
}

// TestExecLocalCancelEndsTheWholeGroup: a cancelled exec.local ends what
// its command started, not only the command: the grandchild `sleep 300`
// is gone once Execute returns, and the error and the journal's evidence
// say how it was ended. exec.CommandContext killed the shell alone and
// left the sleep running.
func TestExecLocalCancelEndsTheWholeGroup(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "grandchild")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	line, rt, done := runUntilFile(t, ctx, execLocal{grace: time.Minute}, "sleep 300 & echo $! >"+steps.ShellQuote(f)+"; wait", f)
	grandchild, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("%s holds %q", f, line)
	}
	t.Cleanup(func() { syscall.Kill(grandchild, syscall.SIGKILL) })
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, steps.ErrMayStillRun) {
		t.Fatalf("err = %v, want a confirmed stop of a cancelled step", err)
	}
	if !processGone(grandchild) {
		t.Fatalf("the command's child %d outlived the step", grandchild)
	}
	st := stopOf(t, err)
	if !st.Confirmed || !st.Local || st.PGID == 0 || st.PGID != st.PID || st.Outcome != "ended by SIGTERM; no process of its group is left" {
		t.Errorf("stop %+v, want confirmed, ended by SIGTERM, with its group", st)
	}
	want := "ended by SIGTERM; no process of its group is left (pid " + strconv.Itoa(st.PID) + ", process group " + strconv.Itoa(st.PGID) + ")"
	if !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want it to end %q", err, want)
	}
	if zh := i18n.In(err, "zh-TW"); !strings.Contains(zh, "指令已停止") || !strings.Contains(zh, "已以 SIGTERM 結束；其程序群組已無任何程序") {
		t.Errorf("zh-TW error %q", zh)
	}
	if ev := st.Evidence(); ev.Title != "local command stopped" || ev.TitleZhTW != "本機指令已停止" {
		t.Errorf("evidence %+v", ev)
	}
	if len(rt.Evidences) == 0 || rt.Evidences[len(rt.Evidences)-1].Transcript == nil {
		t.Errorf("no transcript of the stopped command")
	}
}

// TestExecLocalStopKillsWhatIgnoresSIGTERM: a grandchild that ignores
// SIGTERM is ended by SIGKILL after the grace, and the stop says so; its
// holding the command's stdout open does not keep the step waiting.
func TestExecLocalStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "grandchild")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	line, _, done := runUntilFile(t, ctx, execLocal{grace: 100 * time.Millisecond}, "trap '' TERM; sleep 300 & echo $! >"+steps.ShellQuote(f)+"; wait", f)
	grandchild, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("%s holds %q", f, line)
	}
	t.Cleanup(func() { syscall.Kill(grandchild, syscall.SIGKILL) })
	cancel()
	err = <-done
	if !processGone(grandchild) {
		t.Fatalf("the command's child %d outlived the step", grandchild)
	}
	if st := stopOf(t, err); !st.Confirmed || st.Outcome != "ended by SIGKILL; no process of its group is left" {
		t.Errorf("stop %+v, want confirmed, ended by SIGKILL", st)
	}
}

// TestExecLocalTimeoutSaysWhichTimeout: exec.local's own timeout stops
// the group and the error names that timeout.
func TestExecLocalTimeoutSaysWhichTimeout(t *testing.T) {
	t.Parallel()
	k := execLocal{grace: time.Minute}
	p := steptest.Decode(t, k, `{command: [sleep, "300"], timeout: 50ms}`)
	_, err := k.Execute(context.Background(), steptest.NewRuntime(t, nil), p)
	if err == nil || !strings.HasPrefix(err.Error(), "command stopped: timed out after 50ms (exec.local's timeout); ended by SIGTERM") {
		t.Fatalf("err = %v", err)
	}
	if zh := i18n.In(err, "zh-TW"); !strings.HasPrefix(zh, "指令已停止：逾時：已超過 50ms（exec.local 之 timeout）；已以 SIGTERM 結束") {
		t.Errorf("zh-TW error %q", zh)
	}
}

// sigintChild names the directory the re-executed test binary works in.
const sigintChild = "DRBOOK_TEST_SIGINT_DIR"

// TestExecLocalCommandDoesNotGetTheTerminalsSIGINT: Ctrl-C on a terminal
// is SIGINT to its foreground process group, drbook's. The test runs the
// step in a copy of the test binary that leads a process group of its
// own, as drbook does on a terminal; that copy sends SIGINT to its whole
// group while the command runs, and only then lets it finish. The command
// (a shell that does not ignore SIGINT) must finish normally: drbook
// decides what a Ctrl-C means, and in guided mode one means "pause after
// this step". In drbook's own group the shell died of the SIGINT and the
// step failed.
func TestExecLocalCommandDoesNotGetTheTerminalsSIGINT(t *testing.T) {
	if dir := os.Getenv(sigintChild); dir != "" {
		sigintChildMain(t, dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecLocalCommandDoesNotGetTheTerminalsSIGINT$", "-test.count=1")
	cmd.Env = append(os.Environ(), sigintChild+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the step did not survive the SIGINT to drbook's group: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "finished")); string(b) != "yes\n" {
		t.Fatalf("the command did not run to its end (finished = %q)\n%s", b, out)
	}
}

func sigintChildMain(t *testing.T, dir string) {
	if pg, _ := syscall.Getpgid(0); pg != os.Getpid() {
		t.Fatalf("the child is not its group's leader (pgid %d, pid %d)", pg, os.Getpid())
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	started := filepath.Join(dir, "started")
	script := "echo yes >started; while [ ! -e release ]; do sleep 0.05; done; echo yes >finished"
	k := execLocal{grace: time.Minute}
	rt := steptest.NewRuntime(t, nil)
	p := steptest.Decode(t, k, `{shell: "`+script+`", dir: '`+dir+`'}`)
	done := make(chan error, 1)
	go func() {
		_, err := k.Execute(context.Background(), rt, p)
		done <- err
	}()
	for {
		if b, err := os.ReadFile(started); err == nil && string(b) == "yes\n" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the command ended before it started: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Ctrl-C, as the terminal sends it: to the whole foreground group.
	if err := syscall.Kill(0, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-sigs // delivered to this group: the command had its chance to see it
	if err := os.WriteFile(filepath.Join(dir, "release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the step failed: %v", err)
	}
}
