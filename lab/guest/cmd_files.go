package guest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func registerFileCommands() {
	for name, c := range map[string]command{
		"cat": catCommand, "ls": lsCommand, "mkdir": mkdirCommand, "rm": rmCommand,
		"rmdir": rmdirCommand, "mv": mvCommand, "cp": cpCommand, "touch": touchCommand,
		"chmod": chmodCommand, "chown": chownCommand, "chgrp": chownCommand, "ln": lnCommand,
		"find": findCommand, "stat": statCommand, "du": duCommand, "df": dfCommand,
		"readlink": readlinkCommand, "basename": basenameCommand, "dirname": dirnameCommand,
	} {
		commands[name] = c
	}
}

// quoted is coreutils 5.97's `name' quoting in messages.
func quoted(s string) string { return "`" + s + "'" }

func catCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "nAvetsuE"}.parse(p, "cat", args[1:])
	if !ok {
		return exitCode(1)
	}
	files := o.operands
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	line := 1
	for _, name := range files {
		var r io.Reader = p.stdin
		if name != "-" {
			f, err := p.openFile(p.abs(name), os.O_RDONLY, 0)
			if err != nil {
				p.pathErr("cat", name, err)
				code = 1
				continue
			}
			if fi, _ := f.Stat(); fi != nil && fi.IsDir() {
				f.Close()
				p.pathErr("cat", name, syscall.EISDIR)
				code = 1
				continue
			}
			defer f.Close()
			r = f
		}
		if o.has('n') {
			data, _ := io.ReadAll(r)
			for _, l := range splitLines(string(data)) {
				fmt.Fprintf(p.stdout, "%6d\t%s\n", line, l)
				line++
			}
			continue
		}
		if _, err := io.Copy(p.stdout, r); err != nil {
			return exitCode(1)
		}
	}
	return exitCode(code)
}

// splitLines splits text into lines without their newlines; a final
// newline does not start another line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// modeString is ls's mode column.
func modeString(m fs.FileMode) string {
	b := []byte("-rwxrwxrwx")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	}
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	special := func(i int, on bool, lower, upper byte) {
		if !on {
			return
		}
		if b[i] == 'x' {
			b[i] = lower
		} else {
			b[i] = upper
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return string(b)
}

// octalMode is the mode as chmod/stat %a show it, with special bits.
func octalMode(m fs.FileMode) int {
	v := int(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// fileModeOf converts a numeric mode (with special bits) to fs.FileMode.
func fileModeOf(v int) fs.FileMode {
	m := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func nlinkOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Nlink)
	}
	return 1
}

func blocksOf(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks
	}
	return (fi.Size() + 511) / 512
}

// lsTime is ls -l's date: month, day and time for recent files, the year
// instead of the time for files over six months old or in the future.
func lsTime(t, now time.Time) string {
	if now.Sub(t) > 182*24*time.Hour || t.Sub(now) > time.Hour {
		return t.Format("Jan _2  2006")
	}
	return t.Format("Jan _2 15:04")
}

func lsCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "laAdh1trRFi", longs: map[string]byte{"all": 'a', "directory": 'd', "human-readable": 'h'}}.parse(p, "ls", args[1:])
	if !ok {
		return exitCode(2)
	}
	names := o.operands
	if len(names) == 0 {
		names = []string{"."}
	}
	code := 0
	var files []fs.FileInfo
	var fileNames []string
	var dirs []string
	for _, n := range names {
		fi, err := p.fs().Lstat(p.abs(n))
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 && !o.has('l') && !o.has('d') {
			if t, err2 := p.fs().Stat(p.abs(n)); err2 == nil {
				fi = t
			}
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "ls: %s: %s\n", n, errText(err))
			code = 2
			continue
		}
		if fi.IsDir() && !o.has('d') {
			dirs = append(dirs, n)
			continue
		}
		files = append(files, fi)
		fileNames = append(fileNames, n)
	}
	now := p.g.now()
	print := func(dir string, infos []fs.FileInfo, shown []string) {
		if o.has('t') {
			sortInfos(infos, shown, func(a, b fs.FileInfo) bool { return a.ModTime().After(b.ModTime()) })
		}
		if o.has('r') {
			for i, j := 0, len(infos)-1; i < j; i, j = i+1, j-1 {
				infos[i], infos[j] = infos[j], infos[i]
				shown[i], shown[j] = shown[j], shown[i]
			}
		}
		for i, fi := range infos {
			name := shown[i]
			if !o.has('l') {
				fmt.Fprintln(p.stdout, name)
				continue
			}
			uid, gid := ownerOf(fi)
			size := strconv.FormatInt(fi.Size(), 10)
			if o.has('h') {
				size = humanSize(fi.Size())
			}
			line := fmt.Sprintf("%s %d %-8s %-8s %8s %s %s", modeString(fi.Mode()), nlinkOf(fi),
				p.g.userName(uid), p.g.groupName(gid), size, lsTime(fi.ModTime(), now), name)
			if fi.Mode()&fs.ModeSymlink != 0 {
				target, _ := p.fs().Readlink(guestPath(p.abs(dir), fi.Name()))
				line += " -> " + target
			}
			fmt.Fprintln(p.stdout, line)
		}
	}
	print(".", files, fileNames)
	for i, d := range dirs {
		full := p.abs(d)
		dfi, err := p.fs().Stat(full)
		if err == nil && !p.may(dfi, 4) {
			err = syscall.EACCES
		}
		var infos []fs.FileInfo
		if err == nil {
			infos, err = p.fs().ReadDir(full)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "ls: %s: %s\n", d, errText(err))
			code = 2
			continue
		}
		if len(dirs)+len(files) > 1 {
			if i > 0 || len(files) > 0 {
				fmt.Fprintln(p.stdout)
			}
			fmt.Fprintf(p.stdout, "%s:\n", d)
		}
		var shown []string
		var kept []fs.FileInfo
		if o.has('a') {
			for _, dot := range []string{".", ".."} {
				if fi, err := p.fs().Stat(path.Join(full, dot)); err == nil {
					kept, shown = append(kept, fi), append(shown, dot)
				}
			}
		}
		for _, fi := range infos {
			if strings.HasPrefix(fi.Name(), ".") && !o.has('a') && !o.has('A') {
				continue
			}
			kept, shown = append(kept, fi), append(shown, fi.Name())
		}
		if o.has('l') {
			var total int64
			for _, fi := range kept {
				total += blocksOf(fi)
			}
			fmt.Fprintf(p.stdout, "total %d\n", total/2)
		}
		print(d, kept, shown)
	}
	return exitCode(code)
}

func sortInfos(infos []fs.FileInfo, names []string, less func(a, b fs.FileInfo) bool) {
	for i := 1; i < len(infos); i++ {
		for j := i; j > 0 && less(infos[j], infos[j-1]); j-- {
			infos[j], infos[j-1] = infos[j-1], infos[j]
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}

func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10)
	}
	v := float64(n)
	for _, unit := range []string{"K", "M", "G", "T"} {
		v /= 1024
		if v < 1024 {
			if v < 10 {
				return fmt.Sprintf("%.1f%s", v, unit)
			}
			return fmt.Sprintf("%.0f%s", v, unit)
		}
	}
	return fmt.Sprintf("%.0fP", v/1024)
}

func mkdirCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "pv", valued: "m", longs: map[string]byte{"parents": 'p', "mode": 'm', "verbose": 'v'}}.parse(p, "mkdir", args[1:])
	if !ok {
		return exitCode(1)
	}
	if len(o.operands) == 0 {
		fmt.Fprintln(p.stderr, "mkdir: missing operand\nTry `mkdir --help' for more information.")
		return exitCode(1)
	}
	perm := 0o777 &^ p.umask
	if m := o.val('m', ""); m != "" {
		v, err := parseMode(m, 0o777, p.umask)
		if err != nil {
			p.errorf("mkdir", "invalid mode %s", quoted(m))
			return exitCode(1)
		}
		perm = v
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		if err := p.mayWriteDir(path.Dir(full)); err != nil && !o.has('p') {
			fmt.Fprintf(p.stderr, "mkdir: cannot create directory %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		var err error
		if o.has('p') {
			// GNU mkdir -p gives missing parents the mask's mode plus u+wx,
			// so it can go on creating beneath them.
			if err = p.mkdirParents(path.Dir(full), (0o777&^p.umask)|0o300); err == nil {
				if err = p.fs().Mkdir(full, perm); err != nil {
					if fi, serr := p.fs().Stat(full); serr == nil && fi.IsDir() {
						continue
					}
				}
			}
		} else {
			err = p.fs().Mkdir(full, perm)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "mkdir: cannot create directory %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		// mkdir(2) applied the host's umask too; -m is exact, as GNU mkdir
		// chmods after creating.
		p.fs().Chmod(full, perm)
		p.chownNew(full)
		if o.has('v') {
			fmt.Fprintf(p.stdout, "mkdir: created directory %s\n", quoted(n))
		}
	}
	return exitCode(code)
}

// mkdirParents creates dir and its missing parents with mode perm (exactly:
// the host's umask does not apply), owned by the creator.
func (p *proc) mkdirParents(dir string, perm fs.FileMode) error {
	if fi, err := p.fs().Stat(dir); err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	}
	if parent := path.Dir(dir); parent != dir {
		if err := p.mkdirParents(parent, perm); err != nil {
			return err
		}
	}
	if err := p.mayWriteDir(path.Dir(dir)); err != nil {
		return err
	}
	if err := p.fs().Mkdir(dir, perm); err != nil {
		if fi, serr := p.fs().Stat(dir); serr == nil && fi.IsDir() {
			return nil
		}
		return err
	}
	p.fs().Chmod(dir, perm)
	p.chownNew(dir)
	return nil
}

// chownNew gives a file a non-root creator's ownership.
func (p *proc) chownNew(full string) {
	if p.user.uid != 0 {
		p.fs().Lchown(full, p.user.uid, p.user.gid)
	}
}

func rmCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "rRfiv", longs: map[string]byte{"recursive": 'r', "force": 'f', "verbose": 'v'}}.parse(p, "rm", args[1:])
	if !ok {
		return exitCode(1)
	}
	recursive := o.has('r') || o.has('R')
	if len(o.operands) == 0 && !o.has('f') {
		fmt.Fprintln(p.stderr, "rm: missing operand\nTry `rm --help' for more information.")
		return exitCode(1)
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		fi, err := p.fs().Lstat(full)
		if err != nil {
			if !o.has('f') {
				fmt.Fprintf(p.stderr, "rm: cannot remove %s: %s\n", quoted(n), errText(err))
				code = 1
			}
			continue
		}
		if full == "/" {
			fmt.Fprintln(p.stderr, "rm: cannot remove root directory `/'")
			code = 1
			continue
		}
		if fi.IsDir() && !recursive {
			fmt.Fprintf(p.stderr, "rm: cannot remove %s: Is a directory\n", quoted(n))
			code = 1
			continue
		}
		if err := p.mayWriteDir(path.Dir(full)); err != nil {
			fmt.Fprintf(p.stderr, "rm: cannot remove %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		if fi.IsDir() {
			err = p.fs().RemoveAll(full)
		} else {
			err = p.fs().Remove(full)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "rm: cannot remove %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		if o.has('v') {
			fmt.Fprintf(p.stdout, "removed %s\n", quoted(n))
		}
	}
	return exitCode(code)
}

func rmdirCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "p"}.parse(p, "rmdir", args[1:])
	if !ok {
		return exitCode(1)
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		fi, err := p.fs().Lstat(full)
		if err == nil && !fi.IsDir() {
			err = syscall.ENOTDIR
		}
		if err == nil {
			err = p.mayWriteDir(path.Dir(full))
		}
		if err == nil {
			err = p.fs().Remove(full)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "rmdir: %s: %s\n", n, errText(err))
			code = 1
		}
	}
	return exitCode(code)
}

func mvCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "fiuvn", longs: map[string]byte{"force": 'f', "verbose": 'v'}}.parse(p, "mv", args[1:])
	if !ok {
		return exitCode(1)
	}
	moves, dst, ok := transferTargets(p, "mv", o.operands)
	if !ok {
		return exitCode(1)
	}
	code := 0
	for _, m := range moves {
		s, from, to := m.shown, m.from, m.to
		if _, err := p.fs().Lstat(from); err != nil {
			fmt.Fprintf(p.stderr, "mv: cannot stat %s: %s\n", quoted(s), errText(err))
			code = 1
			continue
		}
		if to == from || strings.HasPrefix(to, from+"/") {
			fmt.Fprintf(p.stderr, "mv: cannot move %s to a subdirectory of itself, %s\n", quoted(s), quoted(to))
			code = 1
			continue
		}
		err := p.mayWriteDir(path.Dir(from))
		if err == nil {
			err = p.mayWriteDir(path.Dir(to))
		}
		if err == nil {
			err = p.fs().Rename(from, to)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "mv: cannot move %s to %s: %s\n", quoted(s), quoted(dst), errText(err))
			code = 1
			continue
		}
		if o.has('v') {
			fmt.Fprintf(p.stdout, "%s -> %s\n", quoted(s), quoted(to))
		}
	}
	return exitCode(code)
}

func cpCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "rRpafdvuP", longs: map[string]byte{"recursive": 'r', "archive": 'a', "force": 'f', "preserve": 'p', "verbose": 'v', "no-dereference": 'd'}}.parse(p, "cp", args[1:])
	if !ok {
		return exitCode(1)
	}
	copies, _, ok := transferTargets(p, "cp", o.operands)
	if !ok {
		return exitCode(1)
	}
	c := copier{p: p, recursive: o.has('r') || o.has('R') || o.has('a'), preserve: o.has('p') || o.has('a'),
		noDeref: o.has('d') || o.has('a') || o.has('P'), verbose: o.has('v')}
	code := 0
	for _, t := range copies {
		if !c.copy(t.shown, t.from, t.to, true) {
			code = 1
		}
	}
	return exitCode(code)
}

// transfer is one source of mv or cp and where it lands.
type transfer struct {
	shown    string // the operand as typed, for messages
	from, to string // absolute paths
}

// transferTargets reads mv's and cp's shared operand rule: the last operand
// is the destination; when it is a directory each source lands in it under
// its own base name, and several sources require that it is one. It prints
// coreutils' usage error and returns ok false when the operands break the
// rule; dst is the destination as typed.
func transferTargets(p *proc, cmd string, operands []string) (ts []transfer, dst string, ok bool) {
	if len(operands) < 2 {
		fmt.Fprintf(p.stderr, "%s: missing file operand\nTry `%s --help' for more information.\n", cmd, cmd)
		return nil, "", false
	}
	srcs, dst := operands[:len(operands)-1], operands[len(operands)-1]
	dstFull := p.abs(dst)
	dfi, derr := p.fs().Stat(dstFull)
	intoDir := derr == nil && dfi.IsDir()
	if len(srcs) > 1 && !intoDir {
		fmt.Fprintf(p.stderr, "%s: target %s is not a directory\n", cmd, quoted(dst))
		return nil, "", false
	}
	for _, s := range srcs {
		t := transfer{shown: s, from: p.abs(s), to: dstFull}
		if intoDir {
			t.to = path.Join(dstFull, path.Base(t.from))
		}
		ts = append(ts, t)
	}
	return ts, dst, true
}

type copier struct {
	p                                     *proc
	recursive, preserve, noDeref, verbose bool
}

func (c copier) copy(shown, from, to string, top bool) bool {
	p := c.p
	var fi fs.FileInfo
	var err error
	if c.noDeref || (!top && c.recursive) {
		fi, err = p.fs().Lstat(from)
	} else {
		fi, err = p.fs().Stat(from)
	}
	if err != nil {
		fmt.Fprintf(p.stderr, "cp: cannot stat %s: %s\n", quoted(shown), errText(err))
		return false
	}
	if top && (to == from || strings.HasPrefix(to, from+"/")) && fi.IsDir() {
		fmt.Fprintf(p.stderr, "cp: cannot copy a directory, %s, into itself, %s\n", quoted(shown), quoted(to))
		return false
	}
	if c.verbose {
		fmt.Fprintf(p.stdout, "%s -> %s\n", quoted(from), quoted(to))
	}
	ok := true
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := p.fs().Readlink(from)
		if err == nil {
			p.fs().Remove(to)
			err = p.fs().Symlink(target, to)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "cp: cannot create symbolic link %s: %s\n", quoted(to), errText(err))
			return false
		}
	case fi.IsDir():
		if !c.recursive {
			fmt.Fprintf(p.stderr, "cp: omitting directory %s\n", quoted(shown))
			return false
		}
		if err := p.fs().Mkdir(to, fi.Mode().Perm()|0o700); err != nil {
			if tfi, serr := p.fs().Stat(to); serr != nil || !tfi.IsDir() {
				fmt.Fprintf(p.stderr, "cp: cannot create directory %s: %s\n", quoted(to), errText(err))
				return false
			}
		}
		infos, err := p.fs().ReadDir(from)
		if err != nil {
			fmt.Fprintf(p.stderr, "cp: cannot access %s: %s\n", quoted(shown), errText(err))
			return false
		}
		for _, child := range infos {
			if !c.copy(path.Join(shown, child.Name()), path.Join(from, child.Name()), path.Join(to, child.Name()), false) {
				ok = false
			}
		}
		// Without -p, a new directory gets the source's mode less the mask.
		p.fs().Chmod(to, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)&^p.umask)
	case fi.Mode().IsRegular():
		in, err := p.openFile(from, os.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintf(p.stderr, "cp: cannot open %s for reading: %s\n", quoted(shown), errText(err))
			return false
		}
		defer in.Close()
		out, err := p.openFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			fmt.Fprintf(p.stderr, "cp: cannot create regular file %s: %s\n", quoted(to), errText(err))
			return false
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "cp: writing %s: %s\n", quoted(to), errText(err))
			return false
		}
	default:
		fmt.Fprintf(p.stderr, "cp: cannot copy special file %s\n", quoted(shown))
		return false
	}
	if c.preserve {
		uid, gid := ownerOf(fi)
		if p.user.uid == 0 {
			p.fs().Lchown(to, uid, gid)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			p.fs().Chmod(to, fi.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
			p.fs().Chtimes(to, fi.ModTime(), fi.ModTime())
		} else {
			p.fs().Lchtimes(to, fi.ModTime())
		}
	}
	return ok
}

func touchCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "acm", valued: "dtr", longs: map[string]byte{"date": 'd', "reference": 'r', "no-create": 'c'}}.parse(p, "touch", args[1:])
	if !ok {
		return exitCode(1)
	}
	when := p.g.now()
	if d := o.val('d', ""); d != "" {
		t, err := parseDate(d, p.g.now())
		if err != nil {
			p.errorf("touch", "invalid date format %s", quoted(d))
			return exitCode(1)
		}
		when = t
	}
	if s := o.val('t', ""); s != "" {
		t, err := parseTouchStamp(s, p.g.now())
		if err != nil {
			p.errorf("touch", "invalid date format %s", quoted(s))
			return exitCode(1)
		}
		when = t
	}
	if r := o.val('r', ""); r != "" {
		fi, err := p.fs().Stat(p.abs(r))
		if err != nil {
			fmt.Fprintf(p.stderr, "touch: failed to get attributes of %s: %s\n", quoted(r), errText(err))
			return exitCode(1)
		}
		when = fi.ModTime()
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		if _, err := p.fs().Stat(full); err != nil {
			if o.has('c') {
				continue
			}
			f, err := p.openFile(full, os.O_WRONLY|os.O_CREATE, 0o666)
			if err != nil {
				fmt.Fprintf(p.stderr, "touch: cannot touch %s: %s\n", quoted(n), errText(err))
				code = 1
				continue
			}
			f.Close()
		}
		if err := p.fs().Chtimes(full, when, when); err != nil {
			fmt.Fprintf(p.stderr, "touch: setting times of %s: %s\n", quoted(n), errText(err))
			code = 1
		}
	}
	return exitCode(code)
}

// parseTouchStamp parses touch -t's [[CC]YY]MMDDhhmm[.ss].
func parseTouchStamp(s string, now time.Time) (time.Time, error) {
	sec := "00"
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, sec = s[:i], s[i+1:]
	}
	switch len(s) {
	case 8:
		s = strconv.Itoa(now.Year()) + s
	case 10:
		s = "20" + s
	case 12:
	default:
		return time.Time{}, fmt.Errorf("bad stamp")
	}
	return time.ParseInLocation("200601021504.05", s+"."+sec, now.Location())
}

// parseDate understands the date strings drills use with touch -d and
// date -d: ISO dates and times, "@EPOCH", "N days ago", "yesterday".
func parseDate(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "@") {
		n, err := strconv.ParseInt(s[1:], 10, 64)
		return time.Unix(n, 0).In(now.Location()), err
	}
	switch s {
	case "now", "today":
		return now, nil
	case "yesterday":
		return now.AddDate(0, 0, -1), nil
	case "tomorrow":
		return now.AddDate(0, 0, 1), nil
	}
	if f := strings.Fields(s); len(f) >= 2 {
		n, err := strconv.Atoi(f[0])
		if err == nil {
			ago := len(f) == 3 && f[2] == "ago"
			if ago {
				n = -n
			}
			unit := strings.TrimSuffix(f[1], "s")
			switch unit {
			case "day":
				return now.AddDate(0, 0, n), nil
			case "hour":
				return now.Add(time.Duration(n) * time.Hour), nil
			case "minute", "min":
				return now.Add(time.Duration(n) * time.Minute), nil
			case "second", "sec":
				return now.Add(time.Duration(n) * time.Second), nil
			case "week":
				return now.AddDate(0, 0, 7*n), nil
			case "month":
				return now.AddDate(0, n, 0), nil
			case "year":
				return now.AddDate(n, 0, 0), nil
			}
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006/01/02 15:04:05", "2006/01/02", "20060102", "Mon Jan _2 15:04:05 MST 2006"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q", s)
}

// parseMode parses an octal or symbolic (u+x,go-w,a=r) chmod mode
// relative to the current mode.
func parseMode(s string, cur, umask fs.FileMode) (fs.FileMode, error) {
	if v, err := strconv.ParseUint(s, 8, 32); err == nil {
		return fileModeOf(int(v)), nil
	}
	mode := octalMode(cur)
	for _, clause := range strings.Split(s, ",") {
		i := 0
		who := 0
		for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
			switch clause[i] {
			case 'u':
				who |= 0o4700
			case 'g':
				who |= 0o2070
			case 'o':
				who |= 0o1007
			case 'a':
				who |= 0o7777
			}
		}
		if who == 0 {
			who = 0o7777 &^ int(umask) // the mask applies when no "who" is given
		}
		if i >= len(clause) {
			return 0, fmt.Errorf("bad mode")
		}
		for i < len(clause) {
			op := clause[i]
			if strings.IndexByte("+-=", op) < 0 {
				return 0, fmt.Errorf("bad mode")
			}
			i++
			bits := 0
			for ; i < len(clause) && strings.IndexByte("rwxXst", clause[i]) >= 0; i++ {
				switch clause[i] {
				case 'r':
					bits |= 0o444
				case 'w':
					bits |= 0o222
				case 'x':
					bits |= 0o111
				case 'X':
					if cur.IsDir() || mode&0o111 != 0 {
						bits |= 0o111
					}
				case 's':
					bits |= 0o6000
				case 't':
					bits |= 0o1000
				}
			}
			bits &= who
			switch op {
			case '+':
				mode |= bits
			case '-':
				mode &^= bits
			case '=':
				mode = mode&^(who&0o7777) | bits
			}
		}
	}
	return fileModeOf(mode), nil
}

func chmodCommand(ctx context.Context, p *proc, args []string) error {
	// Symbolic modes like "-x" look like options; take the mode first.
	var rest []string
	recursive := false
	verbose := false
	for _, a := range args[1:] {
		switch a {
		case "-R", "--recursive":
			recursive = true
		case "-v", "-c":
			verbose = true
		default:
			rest = append(rest, a)
		}
	}
	if len(rest) < 2 {
		fmt.Fprintln(p.stderr, "chmod: missing operand\nTry `chmod --help' for more information.")
		return exitCode(1)
	}
	spec := rest[0]
	code := 0
	var apply func(full, shown string)
	apply = func(full, shown string) {
		fi, err := p.fs().Stat(full)
		if err != nil {
			fmt.Fprintf(p.stderr, "chmod: cannot access %s: %s\n", quoted(shown), errText(err))
			code = 1
			return
		}
		if uid, _ := ownerOf(fi); p.user.uid != 0 && uid != p.user.uid {
			fmt.Fprintf(p.stderr, "chmod: changing permissions of %s: Operation not permitted\n", quoted(shown))
			code = 1
			return
		}
		m, err := parseMode(spec, fi.Mode(), p.umask)
		if err != nil {
			p.errorf("chmod", "invalid mode: %s", quoted(spec))
			code = 1
			return
		}
		if err := p.fs().Chmod(full, m); err != nil {
			fmt.Fprintf(p.stderr, "chmod: changing permissions of %s: %s\n", quoted(shown), errText(err))
			code = 1
			return
		}
		if verbose {
			fmt.Fprintf(p.stdout, "mode of %s changed to %04o (%s)\n", quoted(shown), octalMode(m), modeString(m)[1:])
		}
		if recursive && fi.IsDir() {
			infos, _ := p.fs().ReadDir(full)
			for _, c := range infos {
				if c.Mode()&fs.ModeSymlink == 0 {
					apply(path.Join(full, c.Name()), path.Join(shown, c.Name()))
				}
			}
		}
	}
	for _, n := range rest[1:] {
		apply(p.abs(n), n)
	}
	return exitCode(code)
}

func chownCommand(ctx context.Context, p *proc, args []string) error {
	prog := args[0]
	o, ok := optSpec{flags: "Rhvf", longs: map[string]byte{"recursive": 'R'}}.parse(p, prog, args[1:])
	if !ok {
		return exitCode(1)
	}
	if len(o.operands) < 2 {
		fmt.Fprintf(p.stderr, "%s: missing operand\nTry `%s --help' for more information.\n", prog, prog)
		return exitCode(1)
	}
	spec := o.operands[0]
	uid, gid := -1, -1
	owner, group, hasGroup := strings.Cut(spec, ":")
	if !hasGroup {
		owner, group, hasGroup = strings.Cut(spec, ".")
	}
	if prog == "chgrp" {
		owner, group, hasGroup = "", spec, true
	}
	if owner != "" {
		e, ok := p.g.lookupID("/etc/passwd", owner)
		if !ok {
			fmt.Fprintf(p.stderr, "%s: invalid user: %s\n", prog, quoted(spec))
			return exitCode(1)
		}
		uid = e.id
		if hasGroup && group == "" {
			gid = e.gid
		}
	}
	if group != "" {
		e, ok := p.g.lookupID("/etc/group", group)
		if !ok {
			fmt.Fprintf(p.stderr, "%s: invalid group: %s\n", prog, quoted(spec))
			return exitCode(1)
		}
		gid = e.id
	}
	code := 0
	var apply func(full, shown string)
	apply = func(full, shown string) {
		fi, err := p.fs().Lstat(full)
		if err != nil {
			fmt.Fprintf(p.stderr, "%s: cannot access %s: %s\n", prog, quoted(shown), errText(err))
			code = 1
			return
		}
		if p.user.uid != 0 {
			fmt.Fprintf(p.stderr, "%s: changing ownership of %s: Operation not permitted\n", prog, quoted(shown))
			code = 1
			return
		}
		cu, cg := ownerOf(fi)
		nu, ng := uid, gid
		if nu < 0 {
			nu = cu
		}
		if ng < 0 {
			ng = cg
		}
		target := full
		if fi.Mode()&fs.ModeSymlink != 0 && !o.has('h') && !o.has('R') {
			if _, err := p.fs().Stat(full); err == nil {
				rel, _ := p.fs().resolve(full, true)
				target = guestPath("/", rel)
			}
		}
		if err := p.fs().Lchown(target, nu, ng); err != nil {
			fmt.Fprintf(p.stderr, "%s: changing ownership of %s: %s\n", prog, quoted(shown), errText(err))
			code = 1
			return
		}
		if o.has('R') && fi.IsDir() {
			infos, _ := p.fs().ReadDir(full)
			for _, c := range infos {
				apply(path.Join(full, c.Name()), path.Join(shown, c.Name()))
			}
		}
	}
	for _, n := range o.operands[1:] {
		apply(p.abs(n), n)
	}
	return exitCode(code)
}

func lnCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "sfnvT", longs: map[string]byte{"symbolic": 's', "force": 'f'}}.parse(p, "ln", args[1:])
	if !ok {
		return exitCode(1)
	}
	if len(o.operands) == 0 {
		fmt.Fprintln(p.stderr, "ln: missing file operand\nTry `ln --help' for more information.")
		return exitCode(1)
	}
	targets := o.operands
	link := "."
	if len(targets) > 1 {
		targets, link = targets[:len(targets)-1], targets[len(targets)-1]
	}
	linkFull := p.abs(link)
	intoDir := false
	if fi, err := p.fs().Stat(linkFull); err == nil && fi.IsDir() {
		if lfi, _ := p.fs().Lstat(linkFull); !(o.has('n') && lfi != nil && lfi.Mode()&fs.ModeSymlink != 0) {
			intoDir = true
		}
	}
	if len(targets) > 1 && !intoDir {
		fmt.Fprintf(p.stderr, "ln: target %s is not a directory\n", quoted(link))
		return exitCode(1)
	}
	code := 0
	for _, t := range targets {
		dst := linkFull
		if intoDir {
			dst = path.Join(linkFull, path.Base(t))
		}
		if o.has('f') {
			if fi, err := p.fs().Lstat(dst); err == nil && !fi.IsDir() {
				p.fs().Remove(dst)
			}
		}
		err := p.mayWriteDir(path.Dir(dst))
		if err == nil {
			if o.has('s') {
				err = p.fs().Symlink(t, dst)
			} else {
				err = p.fs().Link(p.abs(t), dst)
			}
		}
		if err != nil {
			what := "hard link"
			if o.has('s') {
				what = "symbolic link"
			}
			fmt.Fprintf(p.stderr, "ln: creating %s %s to %s: %s\n", what, quoted(dst), quoted(t), errText(err))
			code = 1
			continue
		}
		p.chownNew(dst)
	}
	return exitCode(code)
}

func readlinkCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "fenq"}.parse(p, "readlink", args[1:])
	if !ok || len(o.operands) == 0 {
		return exitCode(1)
	}
	code := 0
	for _, n := range o.operands {
		if o.has('f') || o.has('e') {
			rel, err := p.fs().resolve(p.abs(n), true)
			if err != nil {
				code = 1
				continue
			}
			fmt.Fprintln(p.stdout, guestPath("/", rel))
			continue
		}
		t, err := p.fs().Readlink(p.abs(n))
		if err != nil {
			code = 1
			continue
		}
		fmt.Fprintln(p.stdout, t)
	}
	return exitCode(code)
}

func basenameCommand(ctx context.Context, p *proc, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(p.stderr, "basename: missing operand")
		return exitCode(1)
	}
	b := path.Base(args[1])
	if len(args) > 2 && b != args[2] {
		b = strings.TrimSuffix(b, args[2])
	}
	fmt.Fprintln(p.stdout, b)
	return nil
}

func dirnameCommand(ctx context.Context, p *proc, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(p.stderr, "dirname: missing operand")
		return exitCode(1)
	}
	fmt.Fprintln(p.stdout, path.Dir(args[1]))
	return nil
}
