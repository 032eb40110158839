package guest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
)

func registerSystemCommands() {
	for name, c := range map[string]command{
		"date": dateCommand, "hostname": hostnameCommand, "uname": unameCommand, "id": idCommand,
		"whoami": whoamiCommand, "sleep": sleepCommand, "sudo": sudoCommand, "service": serviceCommand,
		"chkconfig": chkconfigCommand, "sh": shellCommand, "bash": shellCommand, "stat": statCommand,
		"du": duCommand, "df": dfCommand, "env": envCommand, "which": whichCommand, "sync": noopCommand,
		"clear": noopCommand, "uptime": uptimeCommand, "su": suCommand,
		"kill": killCommand, "setsid": setsidCommand,
		// coreutils' /bin/true and /bin/false, for programs that exec them
		// (setsid true, env false); the shell has its own builtins.
		"true": noopCommand, "false": falseCommand,
	} {
		commands[name] = c
	}
}

func noopCommand(context.Context, *proc, []string) error { return nil }

func falseCommand(context.Context, *proc, []string) error { return exitCode(1) }

// strftime formats t with C strftime conversions, as date(1) does.
func strftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'N':
			fmt.Fprintf(&b, "%09d", t.Nanosecond())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'w':
			fmt.Fprintf(&b, "%d", int(t.Weekday()))
		case 'u':
			fmt.Fprintf(&b, "%d", (int(t.Weekday())+6)%7+1)
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'c':
			b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

func dateCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "uR", valued: "dr", longs: map[string]byte{"date": 'd', "utc": 'u', "reference": 'r'}}.parse(p, "date", args[1:])
	if !ok {
		return exitCode(1)
	}
	t := p.g.now()
	if d := o.val('d', ""); d != "" {
		var err error
		if t, err = parseDate(d, t); err != nil {
			p.errorf("date", "invalid date %s", quoted(d))
			return exitCode(1)
		}
	}
	if r := o.val('r', ""); r != "" {
		fi, err := p.fs().Stat(p.abs(r))
		if err != nil {
			p.pathErr("date", r, err)
			return exitCode(1)
		}
		t = fi.ModTime()
	}
	if o.has('u') {
		t = t.UTC()
	}
	format := "%a %b %e %H:%M:%S %Z %Y"
	if o.has('R') {
		format = "%a, %d %b %Y %H:%M:%S %z"
	}
	for _, a := range o.operands {
		if strings.HasPrefix(a, "+") {
			format = a[1:]
		} else if p.user.uid != 0 {
			fmt.Fprintln(p.stderr, "date: cannot set date: Operation not permitted")
			return exitCode(1)
		}
	}
	fmt.Fprintln(p.stdout, strftime(format, t))
	return nil
}

func hostnameCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "sfid", longs: map[string]byte{"short": 's', "fqdn": 'f', "ip-address": 'i'}}.parse(p, "hostname", args[1:])
	if !ok {
		return exitCode(1)
	}
	if len(o.operands) > 0 {
		if p.user.uid != 0 {
			fmt.Fprintln(p.stderr, "hostname: you must be root to change the host name")
			return exitCode(1)
		}
		p.g.mu.Lock()
		p.g.hostname = o.operands[0]
		p.g.mu.Unlock()
		return nil
	}
	name := p.g.Hostname()
	switch {
	case o.has('i'):
		fmt.Fprintln(p.stdout, p.g.cfg.Address)
	case o.has('s'):
		short, _, _ := strings.Cut(name, ".")
		fmt.Fprintln(p.stdout, short)
	case o.has('d'):
		_, domain, _ := strings.Cut(name, ".")
		fmt.Fprintln(p.stdout, domain)
	default:
		fmt.Fprintln(p.stdout, name)
	}
	return nil
}

// The kernel of RHEL 5.8.
const (
	kernelRelease = "2.6.18-308.el5"
	kernelVersion = "#1 SMP Fri Jan 27 17:17:51 EST 2012"
)

func unameCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "asnrvmpio", longs: map[string]byte{"all": 'a'}}.parse(p, "uname", args[1:])
	if !ok {
		return exitCode(1)
	}
	fields := []struct {
		c byte
		v string
	}{{'s', "Linux"}, {'n', p.g.Hostname()}, {'r', kernelRelease}, {'v', kernelVersion},
		{'m', "x86_64"}, {'p', "x86_64"}, {'i', "x86_64"}, {'o', "GNU/Linux"}}
	var out []string
	for _, f := range fields {
		if o.has(f.c) || o.has('a') {
			out = append(out, f.v)
		}
	}
	if len(out) == 0 {
		out = []string{"Linux"}
	}
	fmt.Fprintln(p.stdout, strings.Join(out, " "))
	return nil
}

func idCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "ugnGr"}.parse(p, "id", args[1:])
	if !ok {
		return exitCode(1)
	}
	u := p.user
	if len(o.operands) > 0 {
		e, found := p.g.lookupID("/etc/passwd", o.operands[0])
		if !found {
			fmt.Fprintf(p.stderr, "id: %s: No such user\n", o.operands[0])
			return exitCode(1)
		}
		u = account{name: e.name, uid: e.id, gid: e.gid}
	}
	group := p.g.groupName(u.gid)
	switch {
	case o.has('u') && o.has('n'):
		fmt.Fprintln(p.stdout, p.g.userName(u.uid))
	case o.has('u'):
		fmt.Fprintln(p.stdout, u.uid)
	case (o.has('g') || o.has('G')) && o.has('n'):
		fmt.Fprintln(p.stdout, group)
	case o.has('g') || o.has('G'):
		fmt.Fprintln(p.stdout, u.gid)
	default:
		fmt.Fprintf(p.stdout, "uid=%d(%s) gid=%d(%s) groups=%d(%s)\n", u.uid, p.g.userName(u.uid), u.gid, group, u.gid, group)
	}
	return nil
}

func whoamiCommand(ctx context.Context, p *proc, args []string) error {
	fmt.Fprintln(p.stdout, p.g.userName(p.user.uid))
	return nil
}

// sleepCommand sleeps on the guest's scale of time and stops at once when
// the session is cancelled.
func sleepCommand(ctx context.Context, p *proc, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(p.stderr, "sleep: missing operand\nTry `sleep --help' for more information.")
		return exitCode(1)
	}
	var total time.Duration
	for _, a := range args[1:] {
		unit := time.Second
		switch {
		case strings.HasSuffix(a, "s"):
			a = strings.TrimSuffix(a, "s")
		case strings.HasSuffix(a, "m"):
			a, unit = strings.TrimSuffix(a, "m"), time.Minute
		case strings.HasSuffix(a, "h"):
			a, unit = strings.TrimSuffix(a, "h"), time.Hour
		case strings.HasSuffix(a, "d"):
			a, unit = strings.TrimSuffix(a, "d"), 24*time.Hour
		}
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f < 0 {
			p.errorf("sleep", "invalid time interval %s", quoted(a))
			return exitCode(1)
		}
		total += time.Duration(f * float64(unit))
	}
	t := time.NewTimer(total)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return exitCode(130)
	}
}

// sudoCommand runs the rest of the line as root (the operator account is
// in sudoers with NOPASSWD, so no password is asked).
func sudoCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "nSEHikslv", valued: "ug", inOrder: true}.parse(p, "sudo", args[1:])
	if !ok {
		return exitCode(1)
	}
	if p.user.uid != 0 && p.g.cfg.Operator != p.user.name {
		fmt.Fprintf(p.stderr, "%s is not in the sudoers file.  This incident will be reported.\n", p.user.name)
		return exitCode(1)
	}
	target := rootAccount
	if u := o.val('u', "root"); u != "root" {
		e, found := p.g.lookupID("/etc/passwd", u)
		if !found {
			fmt.Fprintf(p.stderr, "sudo: unknown user: %s\n", u)
			return exitCode(1)
		}
		target = account{name: e.name, uid: e.id, gid: e.gid, home: e.home}
	}
	root := *p
	root.user = target
	// sudo's umask option (0022 by default) is combined with the caller's.
	root.umask |= 0o022
	root.env = withEnv(p.env, "USER="+target.name, "LOGNAME="+target.name, "HOME="+target.home, "SUDO_USER="+p.user.name)
	if o.has('i') || o.has('s') {
		if len(o.operands) == 0 {
			return shellCommand(ctx, &root, []string{"bash"})
		}
		return shellCommand(ctx, &root, []string{"bash", "-c", strings.Join(o.operands, " ")})
	}
	if len(o.operands) == 0 {
		fmt.Fprintln(p.stderr, "usage: sudo -h | -K | -k | -L | -V | -v\nusage: sudo [-bEHPS] [-p prompt] [-u username|#uid] [VAR=value] {-i | -s | <command>}")
		return exitCode(1)
	}
	return root.run(ctx, o.operands)
}

// suCommand is "su -" / "su -c CMD" for root: the same as sudo -i here.
func suCommand(ctx context.Context, p *proc, args []string) error {
	var cmd []string
	for i := 1; i < len(args); i++ {
		if args[i] == "-c" && i+1 < len(args) {
			cmd = []string{"-c", args[i+1]}
			i++
		}
	}
	if p.user.uid != 0 {
		fmt.Fprintln(p.stderr, "su: incorrect password")
		return exitCode(1)
	}
	return shellCommand(ctx, p, append([]string{"bash"}, cmd...))
}

func listEnv(env []string) expand.Environ { return expand.ListEnviron(env...) }

// withEnv returns env with the given NAME=VALUE pairs set (exported).
func withEnv(env expand.Environ, pairs ...string) expand.Environ {
	var list []string
	if env != nil {
		env.Each(func(name string, vr expand.Variable) bool {
			if vr.Exported && vr.Kind == expand.String {
				list = append(list, name+"="+vr.Str)
			}
			return true
		})
	}
	return listEnv(append(list, pairs...))
}

func envCommand(ctx context.Context, p *proc, args []string) error {
	rest := args[1:]
	var pairs []string
	for len(rest) > 0 && strings.Contains(rest[0], "=") {
		pairs, rest = append(pairs, rest[0]), rest[1:]
	}
	child := *p
	child.env = withEnv(p.env, pairs...)
	if len(rest) > 0 {
		return child.run(ctx, rest)
	}
	child.env.Each(func(name string, vr expand.Variable) bool {
		if vr.Exported && vr.Kind == expand.String {
			fmt.Fprintf(p.stdout, "%s=%s\n", name, vr.Str)
		}
		return true
	})
	return nil
}

func whichCommand(ctx context.Context, p *proc, args []string) error {
	code := 0
	for _, name := range args[1:] {
		found := ""
		for _, dir := range strings.Split(p.getenv("PATH"), ":") {
			full := path.Join(dir, name)
			if fi, err := p.fs().Stat(full); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
				found = full
				break
			}
			if _, ok := commands[name]; ok && binDirs[dir] && found == "" {
				found = full
				break
			}
		}
		if found == "" {
			fmt.Fprintf(p.stderr, "which: no %s in (%s)\n", name, p.getenv("PATH"))
			code = 1
			continue
		}
		fmt.Fprintln(p.stdout, found)
	}
	return exitCode(code)
}

func uptimeCommand(ctx context.Context, p *proc, args []string) error {
	fmt.Fprintf(p.stdout, " %s up 1 day,  2:03,  1 user,  load average: 0.00, 0.01, 0.00\n", p.g.now().Format("15:04:05"))
	return nil
}

// statTime is stat's timestamp format.
func statTime(t time.Time) string { return t.Format("2006-01-02 15:04:05.000000000 -0700") }

func fileTypeName(fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character special file"
	case m&fs.ModeDevice != 0:
		return "block special file"
	case fi.Size() == 0:
		return "regular empty file"
	}
	return "regular file"
}

func statCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "Lt", valued: "c", longs: map[string]byte{"format": 'c', "dereference": 'L', "printf": 'c'}}.parse(p, "stat", args[1:])
	if !ok {
		return exitCode(1)
	}
	if len(o.operands) == 0 {
		fmt.Fprintln(p.stderr, "stat: missing operand\nTry `stat --help' for more information.")
		return exitCode(1)
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		var fi fs.FileInfo
		var err error
		if o.has('L') {
			fi, err = p.fs().Stat(full)
		} else {
			fi, err = p.fs().Lstat(full)
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "stat: cannot stat %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if st == nil {
			st = &syscall.Stat_t{}
		}
		uid, gid := ownerOf(fi)
		atime := time.Unix(st.Atim.Unix()).In(p.g.now().Location())
		ctime := time.Unix(st.Ctim.Unix()).In(p.g.now().Location())
		mtime := fi.ModTime().In(p.g.now().Location())
		format := o.val('c', "")
		if !o.has('c') {
			name := quoted(n)
			if fi.Mode()&fs.ModeSymlink != 0 {
				t, _ := p.fs().Readlink(full)
				name += " -> " + quoted(t)
			}
			fmt.Fprintf(p.stdout, "  File: %s\n  Size: %-10d\tBlocks: %-10d IO Block: %-6d %s\n", name, fi.Size(), st.Blocks, st.Blksize, fileTypeName(fi))
			fmt.Fprintf(p.stdout, "Device: %xh/%dd\tInode: %-11d Links: %d\n", st.Dev, st.Dev, st.Ino, st.Nlink)
			fmt.Fprintf(p.stdout, "Access: (%04o/%s)  Uid: (%5d/%8s)   Gid: (%5d/%8s)\n", octalMode(fi.Mode()), modeString(fi.Mode()), uid, p.g.userName(uid), gid, p.g.groupName(gid))
			fmt.Fprintf(p.stdout, "Access: %s\nModify: %s\nChange: %s\n", statTime(atime), statTime(mtime), statTime(ctime))
			continue
		}
		var b strings.Builder
		for i := 0; i < len(format); i++ {
			c := format[i]
			if c == '\\' && i+1 < len(format) && format[i+1] == 'n' {
				b.WriteByte('\n')
				i++
				continue
			}
			if c != '%' || i+1 >= len(format) {
				b.WriteByte(c)
				continue
			}
			i++
			switch format[i] {
			case 'n':
				b.WriteString(n)
			case 'N':
				b.WriteString(quoted(n))
				if fi.Mode()&fs.ModeSymlink != 0 {
					t, _ := p.fs().Readlink(full)
					b.WriteString(" -> " + quoted(t))
				}
			case 's':
				fmt.Fprint(&b, fi.Size())
			case 'a':
				fmt.Fprintf(&b, "%o", octalMode(fi.Mode()))
			case 'A':
				b.WriteString(modeString(fi.Mode()))
			case 'F':
				b.WriteString(fileTypeName(fi))
			case 'u':
				fmt.Fprint(&b, uid)
			case 'U':
				b.WriteString(p.g.userName(uid))
			case 'g':
				fmt.Fprint(&b, gid)
			case 'G':
				b.WriteString(p.g.groupName(gid))
			case 'Y':
				fmt.Fprint(&b, mtime.Unix())
			case 'y':
				b.WriteString(statTime(mtime))
			case 'X':
				fmt.Fprint(&b, atime.Unix())
			case 'x':
				b.WriteString(statTime(atime))
			case 'Z':
				fmt.Fprint(&b, ctime.Unix())
			case 'z':
				b.WriteString(statTime(ctime))
			case 'i':
				fmt.Fprint(&b, st.Ino)
			case 'h':
				fmt.Fprint(&b, st.Nlink)
			case 'b':
				fmt.Fprint(&b, st.Blocks)
			case 'B':
				b.WriteString("512")
			case 'f':
				fmt.Fprintf(&b, "%x", st.Mode)
			case 'o':
				fmt.Fprint(&b, st.Blksize)
			case '%':
				b.WriteByte('%')
			default:
				b.WriteByte('?')
			}
		}
		fmt.Fprintln(p.stdout, b.String())
	}
	return exitCode(code)
}

// diskUsage sums 512-byte blocks under full (not following symlinks).
func (p *proc) diskUsage(full string, each func(full string, blocks int64)) int64 {
	fi, err := p.fs().Lstat(full)
	if err != nil {
		return 0
	}
	total := blocksOf(fi)
	if fi.IsDir() {
		infos, _ := p.fs().ReadDir(full)
		for _, c := range infos {
			total += p.diskUsage(path.Join(full, c.Name()), each)
		}
		if each != nil {
			each(full, total)
		}
	}
	return total
}

func duCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "skhcam", longs: map[string]byte{"summarize": 's', "human-readable": 'h', "total": 'c'}}.parse(p, "du", args[1:])
	if !ok {
		return exitCode(1)
	}
	names := o.operands
	if len(names) == 0 {
		names = []string{"."}
	}
	format := func(blocks int64) string {
		switch {
		case o.has('h'):
			return humanSize(blocks * 512)
		case o.has('m'):
			return strconv.FormatInt((blocks*512+(1<<20)-1)>>20, 10)
		}
		return strconv.FormatInt((blocks+1)/2, 10)
	}
	code := 0
	var grand int64
	for _, n := range names {
		full := p.abs(n)
		if _, err := p.fs().Lstat(full); err != nil {
			fmt.Fprintf(p.stderr, "du: cannot access %s: %s\n", quoted(n), errText(err))
			code = 1
			continue
		}
		var each func(string, int64)
		if !o.has('s') {
			each = func(sub string, blocks int64) {
				shown := n + strings.TrimPrefix(sub, full)
				fmt.Fprintf(p.stdout, "%s\t%s\n", format(blocks), shown)
			}
		}
		total := p.diskUsage(full, each)
		grand += total
		if fi, _ := p.fs().Lstat(full); o.has('s') || !fi.IsDir() {
			fmt.Fprintf(p.stdout, "%s\t%s\n", format(total), n)
		}
	}
	if o.has('c') {
		fmt.Fprintf(p.stdout, "%s\ttotal\n", format(grand))
	}
	return exitCode(code)
}

// dfCommand reports the guest's one file system, sized from the real disk
// that holds it.
func dfCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := optSpec{flags: "PkhTai", longs: map[string]byte{"portability": 'P', "human-readable": 'h'}}.parse(p, "df", args[1:])
	if !ok {
		return exitCode(1)
	}
	for _, n := range o.operands {
		if _, err := p.fs().Stat(p.abs(n)); err != nil {
			fmt.Fprintf(p.stderr, "df: %s: %s\n", quoted(n), errText(err))
			return exitCode(1)
		}
	}
	st, err := p.fs().statfs()
	if err != nil {
		fmt.Fprintf(p.stderr, "df: cannot read table of mounted file systems: %s\n", errText(err))
		return exitCode(1)
	}
	bs := int64(st.Bsize)
	size, avail := int64(st.Blocks)*bs, int64(st.Bavail)*bs
	used := size - int64(st.Bfree)*bs
	pct := int64(0)
	if used+avail > 0 {
		pct = (used*100 + used + avail - 1) / (used + avail)
	}
	dev := "/dev/mapper/VolGroup00-LogVol00"
	if o.has('h') {
		fmt.Fprintf(p.stdout, "%-20s %5s %5s %5s %4s %s\n", "Filesystem", "Size", "Used", "Avail", "Use%", "Mounted on")
		fmt.Fprintf(p.stdout, "%-20s %5s %5s %5s %3d%% /\n", dev, humanSize(size), humanSize(used), humanSize(avail), pct)
		return nil
	}
	if o.has('P') {
		fmt.Fprintf(p.stdout, "%-31s %11s %9s %9s %8s %s\n", "Filesystem", "1024-blocks", "Used", "Available", "Capacity", "Mounted on")
		fmt.Fprintf(p.stdout, "%-31s %11d %9d %9d %7d%% /\n", dev, size/1024, used/1024, avail/1024, pct)
		return nil
	}
	fmt.Fprintf(p.stdout, "%-20s %10s %9s %9s %4s %s\n", "Filesystem", "1K-blocks", "Used", "Available", "Use%", "Mounted on")
	fmt.Fprintf(p.stdout, "%s\n%20s %10d %9d %9d %3d%% /\n", dev, "", size/1024, used/1024, avail/1024, pct)
	return nil
}
