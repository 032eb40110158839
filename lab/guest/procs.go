package guest

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"mvdan.cc/sh/v3/syntax"
)

// processTable is a guest's simulated process table: every command an SSH
// session starts, and every program a guest shell runs, is a process with
// a pid, a process group and a session, so that drbook's stop wrapper
// (setsid, a pid file, kill -TERM -PGID, kill -0) works in the lab as on a
// real machine. The table is per guest: a second session sees and
// signals the processes of the first.
type processTable struct {
	mu    sync.Mutex
	next  int
	byPID map[int]*process
	// down is set while the VM is powered off: nothing starts.
	down bool
	// changed is closed and replaced whenever a process starts or ends.
	changed chan struct{}
}

// process is one simulated process. A signal that terminates it cancels
// its context with a signalCause; the goroutine running it then returns
// and the process leaves the table.
type process struct {
	pid, ppid int
	uid       int
	name      string
	cancel    context.CancelCauseFunc

	// pgid and sid are guarded by the table's mutex (setsid changes them).
	pgid, sid int
}

// signalCause is the cause of a context cancelled by a signal.
type signalCause struct{ sig int }

func (c signalCause) Error() string { return "killed by SIG" + signalName(c.sig) }

// firstPID is where the table's pids start: above the boot-time daemons'
// (services.go), which are bookkeeping only and not in the table.
const firstPID = 4000

func newProcessTable() *processTable {
	return &processTable{next: firstPID, byPID: map[int]*process{}, changed: make(chan struct{})}
}

type processKey struct{}

// processFrom is the process a context runs in, or nil.
func processFrom(ctx context.Context) *process {
	p, _ := ctx.Value(processKey{}).(*process)
	return p
}

// start adds a process: a child of parent in parent's group and session,
// or, with no parent, the leader of a new session and group (what sshd
// makes of each session's shell, and init of a daemon). Its context keeps
// base's values but not its cancellation: a process ends when it is
// signalled or its work returns, not when its parent goes. ok is false
// while the guest is powered off.
func (t *processTable) start(base context.Context, parent *process, uid int, name string) (*process, context.Context, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down {
		return nil, nil, false
	}
	pid := t.next
	t.next++
	pr := &process{pid: pid, pgid: pid, sid: pid, uid: uid, name: name}
	if parent != nil {
		pr.ppid, pr.pgid, pr.sid = parent.pid, parent.pgid, parent.sid
	}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(base))
	pr.cancel = cancel
	t.byPID[pid] = pr
	t.notifyLocked()
	return pr, context.WithValue(ctx, processKey{}, pr), true
}

// end removes a finished process.
func (t *processTable) end(pr *process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byPID[pr.pid] == pr {
		delete(t.byPID, pr.pid)
		t.notifyLocked()
	}
	pr.cancel(nil)
}

func (t *processTable) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// setsid makes pr the leader of a new session and process group, as
// setsid(2); it fails (EPERM) for a group leader.
func (t *processTable) setsid(pr *process) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pr.pgid == pr.pid {
		return false
	}
	pr.pgid, pr.sid = pr.pid, pr.pid
	return true
}

// ids reads a process's group and session.
func (t *processTable) ids(pr *process) (pgid, sid int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return pr.pgid, pr.sid
}

// halt kills every process (power off) and refuses new ones until
// resume.
func (t *processTable) halt() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down = true
	for _, pr := range t.byPID {
		pr.cancel(signalCause{sigKILL})
	}
}

// waitEmpty waits until no process is left, at most d.
func (t *processTable) waitEmpty(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		t.mu.Lock()
		n, changed := len(t.byPID), t.changed
		t.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			return
		}
	}
}

func (t *processTable) resume() {
	t.mu.Lock()
	t.down = false
	t.mu.Unlock()
}

// ProcessInfo is one live process of the guest, as ps would list it.
type ProcessInfo struct {
	PID, PPID, PGID, SID, UID int
	// Name is the program the process runs (argv[0]).
	Name string
}

// Processes lists the guest's live processes by pid, and returns a
// channel that is closed when a process next starts or ends, so a test
// can wait for one to appear or for the table to empty without a clock.
func (g *Guest) Processes() ([]ProcessInfo, <-chan struct{}) {
	t := g.procs
	t.mu.Lock()
	defer t.mu.Unlock()
	var list []ProcessInfo
	for _, pr := range t.byPID {
		list = append(list, ProcessInfo{PID: pr.pid, PPID: pr.ppid, PGID: pr.pgid, SID: pr.sid, UID: pr.uid, Name: pr.name})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].PID < list[j].PID })
	return list, t.changed
}

// Signals, numbered as on Linux x86.
const (
	sigHUP  = 1
	sigKILL = 9
	sigTERM = 15
)

var signalNames = []string{1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE",
	9: "KILL", 10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT",
	17: "CHLD", 18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU",
	25: "XFSZ", 26: "VTALRM", 27: "PROF", 28: "WINCH", 29: "IO", 30: "PWR", 31: "SYS"}

func signalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	return strconv.Itoa(sig)
}

// parseSignal reads a signal as kill takes it: a number, or a name with or
// without SIG, in any case.
func parseSignal(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 0 && n < len(signalNames) {
			return n, true
		}
		return 0, false
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for i, n := range signalNames {
		if n != "" && n == name {
			return i, true
		}
	}
	return 0, false
}

// signalAction is what a signal's default action does to a process the
// lab runs: terminate (most), nothing (CHLD, CONT, URG, WINCH), or stop,
// which the lab does not model. No handler a command sets with trap is
// consulted: mvdan.cc/sh's trap knows only EXIT and ERR, so a command
// cannot catch or ignore a signal here.
func signalAction(sig int) string {
	switch sig {
	case 0:
		return "check"
	case 17, 18, 23, 28:
		return "ignore"
	case 19, 20, 21, 22:
		return "stop"
	}
	return "terminate"
}

// errESRCH and errEPERM are kill(2)'s failures.
var (
	errESRCH = fmt.Errorf("No such process")
	errEPERM = fmt.Errorf("Operation not permitted")
)

// signal is kill(2) from a process of user uid: target > 0 is a pid,
// target < 0 a process group, 0 the sender's own group (senderPGID).
func (t *processTable) signal(uid, senderPGID, target, sig int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var hit []*process
	switch {
	case target > 0:
		if pr, ok := t.byPID[target]; ok {
			hit = append(hit, pr)
		}
	default:
		group := -target
		if target == 0 {
			group = senderPGID
		}
		for _, pr := range t.byPID {
			if pr.pgid == group {
				hit = append(hit, pr)
			}
		}
	}
	if len(hit) == 0 {
		return errESRCH
	}
	allowed := 0
	for _, pr := range hit {
		if uid != 0 && pr.uid != uid {
			continue
		}
		allowed++
		if signalAction(sig) == "terminate" {
			pr.cancel(signalCause{sig})
		}
	}
	if allowed == 0 {
		return errEPERM
	}
	return nil
}

// killedBy is the signal that ended ctx's process, 0 if none did.
func killedBy(ctx context.Context) int {
	if c, ok := context.Cause(ctx).(signalCause); ok {
		return c.sig
	}
	return 0
}

// runProcess runs work as a new process (a child of ctx's process, or a
// session leader when ctx has none) and returns its status. If the parent
// is killed first, runProcess returns at once with the parent's signal
// status and leaves the child running, an orphan, as the kernel would:
// only a signal to the child (or its group), or a power-off, ends it. Its
// output then goes nowhere, like writes to a pipe nobody reads.
func (g *Guest) runProcess(ctx context.Context, uid int, name string, stdout, stderr io.Writer, work func(ctx context.Context, stdout, stderr io.Writer) error) error {
	parent := processFrom(ctx)
	pr, cctx, ok := g.procs.start(ctx, parent, uid, name)
	if !ok {
		return exitCode(128 + sigKILL)
	}
	out, errOut := &cutWriter{w: stdout}, &cutWriter{w: stderr}
	res := make(chan error, 1)
	go func() {
		err := work(cctx, out, errOut)
		if sig := killedBy(cctx); sig != 0 {
			err = exitCode(128 + sig)
		}
		// Gone from the table before its parent's wait returns.
		g.procs.end(pr)
		res <- err
	}()
	if parent == nil {
		// Started from outside the guest (a session, a test): the
		// caller's cancellation ends it, as a context, not a signal.
		stop := context.AfterFunc(ctx, func() { pr.cancel(ctx.Err()) })
		defer stop()
		return <-res
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		out.cut()
		errOut.cut()
		if sig := killedBy(ctx); sig != 0 {
			return exitCode(128 + sig)
		}
		return ctx.Err()
	}
}

// cutWriter forwards writes until cut, then discards them.
type cutWriter struct {
	mu  sync.Mutex
	w   io.Writer
	off bool
}

func (c *cutWriter) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || c.w == nil {
		return len(b), nil
	}
	return c.w.Write(b)
}

func (c *cutWriter) cut() {
	c.mu.Lock()
	c.off = true
	c.mu.Unlock()
}

// pidVar and ppidVar are the unexported shell variables that stand for $$
// and $PPID: the interpreter would answer the pid of the Go program
// hosting the lab, so every script the guest parses has its $$ and
// $PPID renamed to these (see guestParams), and each shell sets them from
// its process.
const (
	pidVar  = "_guest_pid"
	ppidVar = "_guest_ppid"
)

// guestParams renames $$ and $PPID in a parsed script to pidVar and
// ppidVar. Text the interpreter parses later by itself (eval, trap
// actions) is not reached and still sees the host's pid.
func guestParams(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil {
			switch pe.Param.Value {
			case "$":
				pe.Param = &syntax.Lit{ValuePos: pe.Param.ValuePos, ValueEnd: pe.Param.ValueEnd, Value: pidVar}
			case "PPID":
				pe.Param = &syntax.Lit{ValuePos: pe.Param.ValuePos, ValueEnd: pe.Param.ValueEnd, Value: ppidVar}
			}
		}
		return true
	})
}

// setsidCommand is util-linux's setsid PROGRAM [ARG…]: the program runs
// as the leader of a new session and process group. A process that is a
// group leader already forks first, and setsid returns at once, leaving
// the program running, as RHEL 5's setsid does.
func setsidCommand(ctx context.Context, p *proc, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(p.stderr, "usage: setsid program [arg ...]")
		return exitCode(1)
	}
	pr := processFrom(ctx)
	if pr == nil || !p.g.procs.setsid(pr) {
		// A group leader: the child becomes the new session's leader.
		go p.g.runProcess(context.WithoutCancel(ctx), p.user.uid, args[1], p.stdout, p.stderr, func(ctx context.Context, stdout, stderr io.Writer) error {
			c := *p
			c.stdout, c.stderr = stdout, stderr
			if child := processFrom(ctx); child != nil {
				p.g.procs.setsid(child)
			}
			return c.run(ctx, args[1:])
		})
		return nil
	}
	return p.run(ctx, args[1:])
}

// killCommand is /bin/kill, and the shell's kill builtin (prog "bash:
// kill"): kill [-s SIG | -n NUM | -SIG] [--] PID|-PGID…, kill -l. Its
// messages are procps'/bash's: "kill: (1234) - No such process".
func killCommand(ctx context.Context, p *proc, args []string) error {
	return exitCode(p.kill(ctx, "kill", args[1:]))
}

func (p *proc) kill(ctx context.Context, prog string, args []string) int {
	usage := func() int {
		fmt.Fprintf(p.stderr, "%s: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n", prog)
		return 2
	}
	sig := sigTERM
	if len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			args = args[1:]
		case a == "-l" || a == "-L":
			var names []string
			for i, n := range signalNames {
				if n != "" {
					names = append(names, fmt.Sprintf("%d) SIG%s", i, n))
				}
			}
			fmt.Fprintln(p.stdout, strings.Join(names, " "))
			return 0
		case a == "-s" || a == "-n":
			if len(args) < 2 {
				fmt.Fprintf(p.stderr, "%s: %s: option requires an argument\n", prog, a)
				return usage()
			}
			n, ok := parseSignal(args[1])
			if !ok {
				fmt.Fprintf(p.stderr, "%s: %s: invalid signal specification\n", prog, args[1])
				return 1
			}
			sig, args = n, args[2:]
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			n, ok := parseSignal(a[1:])
			if !ok {
				fmt.Fprintf(p.stderr, "%s: %s: invalid signal specification\n", prog, a[1:])
				return 1
			}
			sig, args = n, args[1:]
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
		}
	}
	if len(args) == 0 {
		return usage()
	}
	if signalAction(sig) == "stop" {
		fmt.Fprintf(p.stderr, "%s: SIG%s: the lab does not simulate stopped processes\n", prog, signalName(sig))
		return 1
	}
	senderPGID := 0
	if pr := processFrom(ctx); pr != nil {
		senderPGID, _ = p.g.procs.ids(pr)
	}
	code := 0
	for _, a := range args {
		target, err := strconv.Atoi(a)
		if err != nil {
			if strings.HasPrefix(a, "%") {
				fmt.Fprintf(p.stderr, "%s: %s: no such job\n", prog, a)
			} else {
				fmt.Fprintf(p.stderr, "%s: %s: arguments must be process or job IDs\n", prog, a)
			}
			code = 1
			continue
		}
		if err := p.g.procs.signal(p.user.uid, senderPGID, target, sig); err != nil {
			fmt.Fprintf(p.stderr, "%s: (%d) - %v\n", prog, target, err)
			code = 1
		}
	}
	return code
}
