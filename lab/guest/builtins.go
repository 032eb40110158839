package guest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
)

// The interpreter lists umask as a builtin but answers "unsupported
// builtin", and its "command -v" searches PATH on the machine hosting the
// lab. bash 3.2 on RHEL 5 does both, and drbook's step kinds use both
// ("umask 077" before writing an archive, "command -v service" to find the
// service manager), so the guest shell supplies them through the
// interpreter's call handler, which sees every simple command before the
// interpreter runs it.

// umaskVar is the unexported shell variable holding a shell's file-creation
// mask. Keeping the mask in the shell's own variables gives it the scoping
// a process attribute has: a subshell, "( umask 077 )" or a pipeline
// element, changes only its copy, and a child shell starts with its
// parent's mask (passed in proc.umask, since unexported variables are not
// inherited). The one trace of the simulation: "set" lists it.
const umaskVar = "_guest_umask"

// defaultUmask is root's and every login's mask on RHEL 5 (/etc/bashrc sets
// 022 for root and system accounts; sshd's own mask is 022 too).
const defaultUmask fs.FileMode = 0o022

// umaskOf reads the mask a shell holds in env, defaultUmask when unset.
func umaskOf(env expand.Environ) fs.FileMode {
	if env == nil {
		return defaultUmask
	}
	vr := env.Get(umaskVar)
	if !vr.IsSet() {
		return defaultUmask
	}
	v, err := strconv.ParseUint(vr.String(), 8, 32)
	if err != nil {
		return defaultUmask
	}
	return fs.FileMode(v) & 0o777
}

// umaskEnviron adds the (unexported) mask variable to a child shell's
// exported environment.
type umaskEnviron struct {
	expand.Environ
	mask fs.FileMode
	// pid and ppid are the shell's $$ and $PPID (see guestParams).
	pid, ppid int
}

func (e umaskEnviron) variable() expand.Variable {
	return expand.Variable{Set: true, Kind: expand.String, Str: fmt.Sprintf("%04o", e.mask)}
}

func (e umaskEnviron) Get(name string) expand.Variable {
	switch name {
	case umaskVar:
		return e.variable()
	case pidVar:
		return expand.Variable{Set: true, Kind: expand.String, Str: strconv.Itoa(e.pid)}
	case ppidVar:
		return expand.Variable{Set: true, Kind: expand.String, Str: strconv.Itoa(e.ppid)}
	}
	return e.Environ.Get(name)
}

func (e umaskEnviron) Each(f func(name string, vr expand.Variable) bool) {
	cont := true
	e.Environ.Each(func(name string, vr expand.Variable) bool {
		if name == umaskVar || name == pidVar || name == ppidVar {
			return true
		}
		cont = f(name, vr)
		return cont
	})
	if cont {
		f(umaskVar, e.variable())
	}
}

// callBuiltins is the interpreter's call handler: it implements the
// builtins the interpreter lacks by doing their work here and handing the
// interpreter a plain command with the right effect and status ("true",
// "false", an assignment through eval).
func (p *proc) callBuiltins(ctx context.Context, args []string) ([]string, error) {
	hc := interp.HandlerCtx(ctx)
	name, rest := args[0], args[1:]
	if (name == "builtin" || name == "command") && len(rest) > 0 && rest[0] == "umask" {
		name, rest = rest[0], rest[1:]
	}
	switch name {
	case "umask":
		return umaskBuiltin(hc, rest), nil
	case "kill":
		// bash's kill is a builtin; the interpreter has none.
		k := *p
		k.stdout, k.stderr = hc.Stdout, hc.Stderr
		return status(k.kill(ctx, "bash: kill", rest)), nil
	case "command":
		if len(rest) > 0 && (rest[0] == "-v" || rest[0] == "-V") {
			return p.commandLookup(hc, rest[0] == "-V", rest[1:]), nil
		}
	}
	return args, nil
}

// status turns an exit status into a command the interpreter runs to set
// it (so "set -e" and "$?" see a builtin's failure as bash would).
func status(code int) []string {
	switch code {
	case 0:
		return []string{"true"}
	case 1:
		return []string{"false"}
	}
	return []string{"eval", fmt.Sprintf("(exit %d)", code)}
}

// umaskBuiltin is bash 3.2's umask [-p] [-S] [mode].
func umaskBuiltin(hc interp.HandlerContext, args []string) []string {
	symbolic, reusable := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && len(args[0]) > 1 {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		for _, c := range args[0][1:] {
			switch c {
			case 'S':
				symbolic = true
			case 'p':
				reusable = true
			default:
				fmt.Fprintf(hc.Stderr, "bash: umask: -%c: invalid option\numask: usage: umask [-p] [-S] [mode]\n", c)
				return status(2)
			}
		}
		args = args[1:]
	}
	mask := umaskOf(hc.Env)
	if len(args) == 0 {
		text := fmt.Sprintf("%04o", mask)
		if symbolic {
			text = symbolicPerms(0o777 &^ mask)
		}
		switch {
		case reusable && symbolic:
			text = "umask -S " + text
		case reusable:
			text = "umask " + text
		}
		fmt.Fprintln(hc.Stdout, text)
		return status(0)
	}
	spec := args[0]
	var next fs.FileMode
	if spec[0] >= '0' && spec[0] <= '9' {
		v, err := strconv.ParseUint(spec, 8, 32)
		if err != nil || v > 0o777 {
			fmt.Fprintf(hc.Stderr, "bash: umask: %s: octal number out of range\n", spec)
			return status(1)
		}
		next = fs.FileMode(v)
	} else {
		// A symbolic mode says which permissions to allow, so it is applied
		// to the complement of the mask; an absent "who" means all (bash
		// does not apply the mask to its own argument).
		if msg := symbolicUmaskError(spec); msg != "" {
			fmt.Fprintf(hc.Stderr, "bash: umask: %s\n", msg)
			return status(1)
		}
		perms, err := parseMode(spec, 0o777&^mask, 0)
		if err != nil {
			fmt.Fprintf(hc.Stderr, "bash: umask: %s: invalid symbolic mode\n", spec)
			return status(1)
		}
		next = 0o777 &^ perms.Perm()
	}
	// With -S and a mode, bash sets the mask and then prints it symbolically.
	assign := []string{"eval", fmt.Sprintf("%s=%04o", umaskVar, next)}
	if symbolic {
		fmt.Fprintln(hc.Stdout, symbolicPerms(0o777&^next))
	}
	return assign
}

// symbolicUmaskError is bash's complaint about a symbolic mode, "" when
// it is well formed: clauses of who letters (ugoa), then one or more
// operators (+-=) each followed by permission letters (rwx only).
func symbolicUmaskError(spec string) string {
	for _, clause := range strings.Split(spec, ",") {
		i := 0
		for i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0 {
			i++
		}
		if i == len(clause) {
			return "`': invalid symbolic mode operator"
		}
		for i < len(clause) {
			if strings.IndexByte("+-=", clause[i]) < 0 {
				return fmt.Sprintf("`%c': invalid symbolic mode operator", clause[i])
			}
			i++
			for i < len(clause) && strings.IndexByte("+-=", clause[i]) < 0 {
				if strings.IndexByte("rwx", clause[i]) < 0 {
					return fmt.Sprintf("`%c': invalid symbolic mode character", clause[i])
				}
				i++
			}
		}
	}
	return ""
}

// symbolicPerms is umask -S's "u=rwx,g=rx,o=rx".
func symbolicPerms(perms fs.FileMode) string {
	part := func(who string, bits fs.FileMode) string {
		s := who + "="
		if bits&4 != 0 {
			s += "r"
		}
		if bits&2 != 0 {
			s += "w"
		}
		if bits&1 != 0 {
			s += "x"
		}
		return s
	}
	return part("u", perms>>6&7) + "," + part("g", perms>>3&7) + "," + part("o", perms&7)
}

// commandLookup is "command -v NAME…" (verbose false) or "command -V
// NAME…", searching the guest's PATH, never the host's. Shell functions
// are not visible from the call handler, so a function shadowing a program
// is reported as the program.
func (p *proc) commandLookup(hc interp.HandlerContext, verbose bool, names []string) []string {
	code := 0
	for _, name := range names {
		switch {
		case interp.IsBuiltin(name) || shellKeywords[name]:
			what := "a shell builtin"
			if shellKeywords[name] {
				what = "a shell keyword"
			}
			if verbose {
				fmt.Fprintf(hc.Stdout, "%s is %s\n", name, what)
			} else {
				fmt.Fprintln(hc.Stdout, name)
			}
		default:
			found := p.g.lookPath(hc.Dir, hc.Env.Get("PATH").String(), name)
			switch {
			case found != "" && verbose:
				fmt.Fprintf(hc.Stdout, "%s is %s\n", name, found)
			case found != "":
				fmt.Fprintln(hc.Stdout, found)
			default:
				if verbose {
					fmt.Fprintf(hc.Stderr, "bash: command: %s: not found\n", name)
				}
				code = 1
			}
		}
	}
	return status(code)
}

// shellKeywords are bash's reserved words, which "command -v" names as is.
var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "case": true, "esac": true,
	"for": true, "select": true, "while": true, "until": true, "do": true, "done": true,
	"in": true, "function": true, "time": true, "{": true, "}": true, "!": true, "[[": true, "]]": true,
}

// lookPath finds name as execve through PATH would on the guest: a name
// with a "/" is taken as is (relative to dir), otherwise the first
// executable regular file in a PATH directory, counting the programs the
// guest implements in Go as present in the standard bin directories.
func (g *Guest) lookPath(dir, pathVar, name string) string {
	executable := func(full string) bool {
		fi, err := g.fs.Stat(full)
		return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
	}
	if strings.Contains(name, "/") {
		full := guestPath(dir, name)
		if executable(full) {
			return name
		}
		return ""
	}
	for _, d := range strings.Split(pathVar, ":") {
		if d == "" {
			d = dir
		}
		full := path.Join(guestPath(dir, d), name)
		if executable(full) {
			return full
		}
		if _, ok := commands[name]; ok && programDir(name) == path.Clean(guestPath(dir, d)) {
			return full
		}
	}
	return ""
}

// programDir is where RHEL 5.8 installs each program the guest implements
// in Go (from the coreutils, util-linux, bash, tar, gzip, findutils,
// sed, grep, initscripts, chkconfig, procps and sudo packages), so PATH
// lookups name the real path: "command -v service" is /sbin/service.
func programDir(name string) string {
	switch name {
	case "basename", "bash", "cat", "chgrp", "chmod", "chown", "cp", "cut", "date", "df", "egrep",
		"env", "fgrep", "grep", "gunzip", "gzip", "hostname", "ln", "ls", "mkdir", "mv", "rm", "rmdir",
		"sed", "sh", "sleep", "kill", "true", "false", "sort", "su", "sync", "tar", "touch", "uname", "zcat":
		return "/bin"
	case "chkconfig", "service":
		return "/sbin"
	}
	return "/usr/bin"
}
