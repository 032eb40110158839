package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// account is a guest user a shell runs as.
type account struct {
	name string
	uid  int
	gid  int
	home string
}

var rootAccount = account{name: "root", uid: 0, gid: 0, home: "/root"}

// proc is one running command: who runs it, where, and its standard
// streams. Commands are Go functions over a proc; nothing ever runs a real
// program on the machine hosting the lab.
type proc struct {
	g      *Guest
	user   account
	dir    string
	env    expand.Environ
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	tty    bool
	// umask is the file-creation mask the process inherited; files and
	// directories it creates get the requested mode without these bits.
	umask fs.FileMode
}

// command is a Go implementation of a guest program. It returns nil for
// exit status 0, or an interp exit status error.
type command func(ctx context.Context, p *proc, args []string) error

// exitCode is the interp error for a non-zero exit status.
func exitCode(code int) error {
	if code == 0 {
		return nil
	}
	return interp.NewExitStatus(uint8(code))
}

// abs makes a guest path absolute against the proc's directory.
func (p *proc) abs(name string) string { return guestPath(p.dir, name) }

// errorf prints "prog: message" to stderr, as GNU tools do.
func (p *proc) errorf(prog, format string, a ...any) {
	fmt.Fprintf(p.stderr, prog+": "+format+"\n", a...)
}

// pathErr prints coreutils' "prog: path: strerror" form.
func (p *proc) pathErr(prog, name string, err error) {
	fmt.Fprintf(p.stderr, "%s: %s: %s\n", prog, name, errText(err))
}

func (p *proc) getenv(name string) string {
	if p.env == nil {
		return ""
	}
	return p.env.Get(name).String()
}

func (p *proc) fs() *sandbox { return p.g.fs }

// commands is the guest's set of programs, by name.
var commands map[string]command

func init() {
	commands = map[string]command{}
	registerFileCommands()
	registerTextCommands()
	registerSystemCommands()
	registerArchiveCommands()
}

// binDirs are where RHEL 5 keeps the programs commands stands in for, so
// "/bin/tar" or "/usr/sbin/chkconfig" run the same Go implementation.
var binDirs = map[string]bool{"/bin": true, "/usr/bin": true, "/sbin": true, "/usr/sbin": true, "/usr/local/bin": true}

// initDirs hold SysV init scripts; running one is "service NAME ACTION".
var initDirs = map[string]bool{"/etc/rc.d/init.d": true, "/etc/init.d": true}

// run executes one simple command for the interpreter or for a program
// that runs others (sudo, find -exec, sh -c).
func (p *proc) run(ctx context.Context, args []string) error {
	name := args[0]
	if !strings.Contains(name, "/") {
		if c, ok := commands[name]; ok {
			return c(ctx, p, args)
		}
		for _, dir := range strings.Split(p.getenv("PATH"), ":") {
			if dir == "" {
				continue
			}
			full := path.Join(dir, name)
			if fi, err := p.fs().Stat(full); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				return p.runFile(ctx, full, args)
			}
		}
		fmt.Fprintf(p.stderr, "sh: %s: command not found\n", name)
		return exitCode(127)
	}
	return p.runFile(ctx, p.abs(name), args)
}

// runFile runs the program at guest path full, the way execve would: init
// scripts become service actions, programs in the standard bin directories
// run their Go implementation, shell scripts run in a child shell.
func (p *proc) runFile(ctx context.Context, full string, args []string) error {
	shown := args[0]
	fi, err := p.fs().Stat(full)
	if err != nil {
		fmt.Fprintf(p.stderr, "sh: %s: %s\n", shown, errText(err))
		return exitCode(127)
	}
	if fi.IsDir() {
		fmt.Fprintf(p.stderr, "sh: %s: is a directory\n", shown)
		return exitCode(126)
	}
	if fi.Mode()&0o111 == 0 || !p.may(fi, 1) {
		fmt.Fprintf(p.stderr, "sh: %s: Permission denied\n", shown)
		return exitCode(126)
	}
	dir, base := path.Split(full)
	dir = path.Clean(dir)
	if real, err := p.fs().resolve(full, true); err == nil {
		if initDirs["/"+path.Dir(real)] {
			return serviceCommand(ctx, p, append([]string{"service", path.Base(real)}, args[1:]...))
		}
	}
	if c, ok := libexecPrograms[full]; ok {
		return c(ctx, p, args)
	}
	if c, ok := commands[base]; ok && binDirs[dir] {
		return c(ctx, p, append([]string{base}, args[1:]...))
	}
	data, err := p.fs().ReadFile(full)
	if err != nil {
		fmt.Fprintf(p.stderr, "sh: %s: %s\n", shown, errText(err))
		return exitCode(126)
	}
	if interp, ok := scriptInterpreter(data); !ok {
		fmt.Fprintf(p.stderr, "sh: %s: cannot execute binary file\n", shown)
		return exitCode(126)
	} else if interp != "" {
		if _, known := shells[path.Base(interp)]; !known {
			fmt.Fprintf(p.stderr, "sh: %s: %s: bad interpreter: No such file or directory\n", shown, interp)
			return exitCode(126)
		}
	}
	return p.runScript(ctx, string(data), shown, args[1:])
}

// shells are the interpreters a script's #! line may name.
var shells = map[string]bool{"sh": true, "bash": true}

// scriptInterpreter reads a #! line. ok is false for binary content.
func scriptInterpreter(data []byte) (interp string, ok bool) {
	if bytes.IndexByte(data[:min(len(data), 512)], 0) >= 0 {
		return "", false
	}
	if !bytes.HasPrefix(data, []byte("#!")) {
		return "", true
	}
	line, _, _ := bytes.Cut(data[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", true
	}
	if path.Base(fields[0]) == "env" && len(fields) > 1 {
		return fields[1], true
	}
	return fields[0], true
}

// runScript runs script in a child shell, with $0 name and params.
// A shell started from outside any process (a test, a boot-time service)
// is a process of its own, the leader of a new session.
func (p *proc) runScript(ctx context.Context, script, name string, params []string) error {
	if processFrom(ctx) == nil {
		return p.g.runProcess(ctx, p.user.uid, name, p.stdout, p.stderr, func(ctx context.Context, stdout, stderr io.Writer) error {
			c := *p
			c.stdout, c.stderr = stdout, stderr
			return c.runScript(ctx, script, name, params)
		})
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), name)
	if err != nil {
		fmt.Fprintf(p.stderr, "%s: %v\n", name, err)
		return exitCode(2)
	}
	guestParams(file)
	r, err := p.newRunner(ctx, params)
	if err != nil {
		return err
	}
	return runnerExit(r, r.Run(ctx, file), p.stderr)
}

// runnerExit turns a finished run into the command's exit status.
func runnerExit(r *interp.Runner, err error, stderr io.Writer) error {
	if err == nil {
		return nil
	}
	if code, ok := interp.IsExitStatus(err); ok {
		return exitCode(int(code))
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return exitCode(130)
	}
	fmt.Fprintf(stderr, "sh: %v\n", err)
	return exitCode(1)
}

// newRunner builds an interpreter that runs as p's user in p's directory,
// with every command, redirection, glob and test confined to the guest.
// $$ and $PPID are those of ctx's process.
func (p *proc) newRunner(ctx context.Context, params []string) (*interp.Runner, error) {
	var env []string
	if p.env != nil {
		p.env.Each(func(name string, vr expand.Variable) bool {
			if vr.Exported && vr.Kind == expand.String {
				env = append(env, name+"="+vr.Str)
			}
			return true
		})
	}
	user, tty := p.user, p.tty
	pid, ppid := 0, 0
	if pr := processFrom(ctx); pr != nil {
		pid, ppid = pr.pid, pr.ppid
	}
	opts := []interp.RunnerOption{
		interp.Env(umaskEnviron{Environ: expand.ListEnviron(env...), mask: p.umask, pid: pid, ppid: ppid}),
		interp.StdIO(p.stdin, p.stdout, p.stderr),
		interp.CallHandler(p.callBuiltins),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc {
			// The default handler that would run host programs is
			// deliberately never called.
			// Each program runs as a child process (see runProcess).
			return func(ctx context.Context, args []string) error {
				c := p.g.procFor(ctx, user, tty)
				return p.g.runProcess(ctx, user.uid, args[0], c.stdout, c.stderr, func(ctx context.Context, stdout, stderr io.Writer) error {
					c.stdout, c.stderr = stdout, stderr
					return c.run(ctx, args)
				})
			}
		}),
		interp.OpenHandler(func(ctx context.Context, name string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
			return p.g.procFor(ctx, user, tty).openForShell(name, flag, perm)
		}),
		interp.StatHandler(func(ctx context.Context, name string, follow bool) (fs.FileInfo, error) {
			hc := interp.HandlerCtx(ctx)
			full := guestPath(hc.Dir, name)
			if follow {
				return p.g.fs.Stat(full)
			}
			return p.g.fs.Lstat(full)
		}),
		interp.ReadDirHandler2(func(ctx context.Context, name string) ([]fs.DirEntry, error) {
			hc := interp.HandlerCtx(ctx)
			infos, err := p.g.fs.ReadDir(guestPath(hc.Dir, name))
			if err != nil {
				return nil, err
			}
			entries := make([]fs.DirEntry, len(infos))
			for i, fi := range infos {
				entries[i] = fs.FileInfoToDirEntry(fi)
			}
			return entries, nil
		}),
		interp.AccessHandler(func(ctx context.Context, name string, mode interp.AccessMode) error {
			hc := interp.HandlerCtx(ctx)
			full := guestPath(hc.Dir, name)
			fi, err := p.g.fs.Stat(full)
			if err != nil {
				return err
			}
			pp := proc{g: p.g, user: user}
			want := 0
			if mode&interp.AccessRead != 0 {
				want |= 4
			}
			if mode&interp.AccessWrite != 0 {
				want |= 2
			}
			if mode&interp.AccessExec != 0 {
				want |= 1
				if fi.Mode().IsRegular() && fi.Mode()&0o111 == 0 {
					return &fs.PathError{Op: "access", Path: full, Err: syscall.EACCES}
				}
			}
			if !pp.may(fi, want) {
				return &fs.PathError{Op: "access", Path: full, Err: syscall.EACCES}
			}
			return nil
		}),
	}
	if params != nil {
		opts = append(opts, interp.Params(append([]string{"--"}, params...)...))
	}
	r, err := interp.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("guest shell: %w", err)
	}
	r.Dir = p.dir
	return r, nil
}

// procFor builds the proc for a command the interpreter is about to run.
func (g *Guest) procFor(ctx context.Context, user account, tty bool) *proc {
	hc := interp.HandlerCtx(ctx)
	return &proc{g: g, user: user, dir: hc.Dir, env: hc.Env, stdin: hc.Stdin, stdout: hc.Stdout, stderr: hc.Stderr, tty: tty, umask: umaskOf(hc.Env)}
}

// openForShell serves redirections: /dev/null and friends, otherwise a
// file in the guest. Errors are *fs.PathError so the interpreter prints
// them and sets status 1 as bash does, instead of aborting the script.
func (p *proc) openForShell(name string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	full := p.abs(name)
	switch full {
	case "/dev/null":
		return devNull{}, nil
	case "/dev/stdout":
		return writeOnly{p.stdout}, nil
	case "/dev/stderr":
		return writeOnly{p.stderr}, nil
	}
	// bash creates redirection targets with 0666 and the mask (the
	// interpreter asks for 0644 whatever the mask).
	f, err := p.openFile(full, flag, 0o666)
	if err != nil {
		return nil, &fs.PathError{Op: "sh:", Path: name, Err: shellErr{errText(err)}}
	}
	return f, nil
}

// shellErr carries an already formatted strerror text.
type shellErr struct{ text string }

func (e shellErr) Error() string { return e.text }

type devNull struct{}

func (devNull) Read([]byte) (int, error)    { return 0, io.EOF }
func (devNull) Write(b []byte) (int, error) { return len(b), nil }
func (devNull) Close() error                { return nil }

type writeOnly struct{ w io.Writer }

func (w writeOnly) Read([]byte) (int, error)    { return 0, io.EOF }
func (w writeOnly) Write(b []byte) (int, error) { return w.w.Write(b) }
func (writeOnly) Close() error                  { return nil }

// openFile opens a guest file for this proc's user, checking permissions
// as the kernel would for a non-root user. A file it creates gets perm
// without the proc's umask bits, as open(2) gives it.
func (p *proc) openFile(full string, flag int, perm fs.FileMode) (*os.File, error) {
	created := false
	if flag&os.O_CREATE != 0 {
		if _, err := p.fs().Stat(full); err != nil {
			created = true
		}
	}
	if p.user.uid != 0 {
		want := 4
		switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
		case os.O_WRONLY:
			want = 2
		case os.O_RDWR:
			want = 6
		}
		fi, err := p.fs().Stat(full)
		switch {
		case err == nil && !p.may(fi, want):
			return nil, &fs.PathError{Op: "open", Path: full, Err: syscall.EACCES}
		case err != nil && flag&os.O_CREATE != 0:
			if err := p.mayWriteDir(path.Dir(full)); err != nil {
				return nil, err
			}
		}
	}
	f, err := p.fs().OpenFile(full, flag, perm)
	if err == nil && created {
		// The host's own umask also applied; set exactly what the guest's
		// mask gives.
		f.Chmod(perm.Perm() &^ p.umask)
		if p.user.uid != 0 {
			f.Chown(p.user.uid, p.user.gid)
		}
	}
	return f, err
}

// may reports whether the proc's user has the want bits (4 read, 2 write,
// 1 execute) on fi. Root may do anything except execute a file with no
// execute bit, which callers check themselves.
func (p *proc) may(fi fs.FileInfo, want int) bool {
	if p.user.uid == 0 {
		return true
	}
	uid, gid := ownerOf(fi)
	perm := int(fi.Mode().Perm())
	switch {
	case uid == p.user.uid:
		perm >>= 6
	case gid == p.user.gid:
		perm >>= 3
	}
	return perm&7&want == want
}

// mayWriteDir checks that the user may create or remove entries in dir.
func (p *proc) mayWriteDir(dir string) error {
	if p.user.uid == 0 {
		return nil
	}
	fi, err := p.fs().Stat(dir)
	if err != nil {
		return err
	}
	if !p.may(fi, 3) {
		return &fs.PathError{Op: "open", Path: dir, Err: syscall.EACCES}
	}
	return nil
}

// shellCommand is sh/bash: "-c SCRIPT [NAME ARGS…]", a script file, or
// commands read from stdin.
func shellCommand(ctx context.Context, p *proc, args []string) error {
	rest := args[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "-c" {
		rest = rest[1:] // -e, -x, -l and friends: accepted, not modelled
	}
	if len(rest) > 0 && rest[0] == "-c" {
		if len(rest) < 2 {
			fmt.Fprintf(p.stderr, "%s: -c: option requires an argument\n", args[0])
			return exitCode(2)
		}
		name, params := args[0], []string{}
		if len(rest) > 2 {
			name, params = rest[2], rest[3:]
		}
		return p.runScript(ctx, rest[1], name, params)
	}
	if len(rest) > 0 {
		full := p.abs(rest[0])
		data, err := p.fs().ReadFile(full)
		if err != nil {
			fmt.Fprintf(p.stderr, "%s: %s: %s\n", args[0], rest[0], errText(err))
			return exitCode(127)
		}
		return p.runScript(ctx, string(data), rest[0], rest[1:])
	}
	data, err := io.ReadAll(p.stdin)
	if err != nil {
		return exitCode(1)
	}
	return p.runScript(ctx, string(data), args[0], []string{})
}
