package guest

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func registerArchiveCommands() {
	commands["tar"] = tarCommand
	commands["gzip"] = gzipCommand
	commands["gunzip"] = gzipCommand
	commands["zcat"] = gzipCommand
}

// tarOldStyle expands tar's traditional first argument ("czvf X") into
// separate options: each letter that takes a value takes the next
// argument in turn, as GNU tar does.
func tarOldStyle(args []string) []string {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return args
	}
	var out []string
	rest := args[1:]
	for _, c := range args[0] {
		out = append(out, "-"+string(c))
		if strings.ContainsRune("fCT", c) && len(rest) > 0 {
			out = append(out, rest[0])
			rest = rest[1:]
		}
	}
	return append(out, rest...)
}

var tarSpec = optSpec{
	flags:  "cxtzvpPhkmOj",
	valued: "fCXE",
	longs: map[string]byte{"create": 'c', "extract": 'x', "get": 'x', "list": 't', "gzip": 'z', "gunzip": 'z',
		"verbose": 'v', "file": 'f', "directory": 'C', "preserve-permissions": 'p', "same-permissions": 'p',
		"absolute-names": 'P', "dereference": 'h', "keep-old-files": 'k', "touch": 'm', "to-stdout": 'O',
		"exclude": 'E', "numeric-owner": 'N', "same-owner": 'S', "no-same-owner": 'W', "overwrite": 'w'},
}

// tarRun is one tar invocation.
type tarRun struct {
	p         *proc
	o         options
	dir       string // -C
	verbose   int
	errors    bool
	warnedAbs bool
	out       io.Writer // where -v names go
}

func (t *tarRun) fail(format string, a ...any) {
	fmt.Fprintf(t.p.stderr, "tar: "+format+"\n", a...)
	t.errors = true
}

func tarCommand(ctx context.Context, p *proc, args []string) error {
	o, ok := tarSpec.parse(p, "tar", tarOldStyle(args[1:]))
	if !ok {
		return exitCode(2)
	}
	modes := 0
	for _, c := range []byte("cxt") {
		if o.has(c) {
			modes++
		}
	}
	if modes != 1 {
		fmt.Fprintln(p.stderr, "tar: You must specify one of the `-Acdtrux' options\nTry `tar --help' or `tar --usage' for more information.")
		return exitCode(2)
	}
	if o.has('j') {
		fmt.Fprintln(p.stderr, "tar: bzip2: Cannot exec: No such file or directory (bzip2 is not part of the lab's guest)")
		return exitCode(2)
	}
	t := &tarRun{p: p, o: o, dir: p.dir, verbose: len(o.set['v']), out: p.stdout}
	if c := o.val('C', ""); c != "" {
		t.dir = p.abs(c)
		if fi, err := p.fs().Stat(t.dir); err != nil || !fi.IsDir() {
			if err == nil {
				err = syscall.ENOTDIR
			}
			t.fail("%s: Cannot chdir: %s", c, errText(err))
			fmt.Fprintln(p.stderr, "tar: Error is not recoverable: exiting now")
			return exitCode(2)
		}
	}
	archive := o.val('f', "-")
	if archive == "-" {
		t.out = p.stderr
		if o.has('t') {
			t.out = p.stdout
		}
	}
	switch {
	case o.has('c'):
		t.create(ctx, archive)
	default:
		t.read(ctx, archive)
	}
	if t.errors {
		fmt.Fprintln(p.stderr, "tar: Error exit delayed from previous errors")
		return exitCode(2)
	}
	return nil
}

// memberName is the archive name for an operand: leading "/" removed
// (once announced), cleaned.
func (t *tarRun) memberName(name string) string {
	if strings.HasPrefix(name, "/") && !t.o.has('P') {
		if !t.warnedAbs {
			fmt.Fprintln(t.p.stderr, "tar: Removing leading `/' from member names")
			t.warnedAbs = true
		}
		name = strings.TrimLeft(name, "/")
	}
	name = path.Clean(name)
	return name
}

func (t *tarRun) create(ctx context.Context, archive string) {
	p := t.p
	if len(t.o.operands) == 0 {
		fmt.Fprintln(p.stderr, "tar: Cowardly refusing to create an empty archive\nTry `tar --help' or `tar --usage' for more information.")
		t.errors = true
		return
	}
	var w io.Writer = p.stdout
	var self string
	if archive != "-" {
		full := guestPath(p.dir, archive)
		f, err := p.openFile(full, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
		if err != nil {
			t.fail("%s: Cannot open: %s", archive, errText(err))
			fmt.Fprintln(p.stderr, "tar: Error is not recoverable: exiting now")
			return
		}
		defer f.Close()
		if rel, err := p.fs().resolve(full, true); err == nil {
			self = guestPath("/", rel)
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var gz *gzip.Writer
	var tw *tar.Writer
	if t.o.has('z') {
		gz = gzip.NewWriter(bw)
		tw = tar.NewWriter(gz)
	} else {
		tw = tar.NewWriter(bw)
	}
	links := map[[2]uint64]string{}
	for _, op := range t.o.operands {
		if ctx.Err() != nil {
			break
		}
		t.add(tw, guestPath(t.dir, op), op, t.memberName(op), self, links, true)
	}
	if err := tw.Close(); err != nil {
		t.fail("%s: Cannot write: %s", archive, errText(err))
	}
	if gz != nil {
		gz.Close()
	}
	if err := bw.Flush(); err != nil {
		t.fail("%s: Cannot write: %s", archive, errText(err))
	}
}

func (t *tarRun) excluded(name string) bool {
	for _, pat := range t.o.set['E'] {
		if m, _ := path.Match(pat, path.Base(name)); m {
			return true
		}
		if m, _ := path.Match(pat, name); m {
			return true
		}
	}
	return false
}

func (t *tarRun) add(tw *tar.Writer, full, shown, name, self string, links map[[2]uint64]string, top bool) {
	p := t.p
	if t.excluded(name) {
		return
	}
	var fi fs.FileInfo
	var err error
	if t.o.has('h') {
		fi, err = p.fs().Stat(full)
	} else {
		fi, err = p.fs().Lstat(full)
	}
	if err != nil {
		t.fail("%s: Cannot stat: %s", shown, errText(err))
		return
	}
	if self != "" && fi.Mode().IsRegular() {
		if rel, err := p.fs().resolve(full, true); err == nil && guestPath("/", rel) == self {
			fmt.Fprintf(p.stderr, "tar: %s: file is the archive; not dumped\n", shown)
			return
		}
	}
	uid, gid := ownerOf(fi)
	hdr := &tar.Header{
		Name: name, Mode: int64(octalMode(fi.Mode())), Uid: uid, Gid: gid,
		Uname: p.g.userName(uid), Gname: p.g.groupName(gid),
		ModTime: fi.ModTime().Truncate(time.Second), Format: tar.FormatGNU,
	}
	var content *os.File
	switch {
	case fi.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name = strings.TrimSuffix(name, "/") + "/"
		if name == "." {
			hdr.Name = "./"
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname, _ = p.fs().Readlink(full)
	case fi.Mode().IsRegular():
		st, _ := fi.Sys().(*syscall.Stat_t)
		if st != nil && st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag = tar.TypeLink
				hdr.Linkname = first
				break
			}
			links[key] = name
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = fi.Size()
		if content, err = p.openFile(full, os.O_RDONLY, 0); err != nil {
			t.fail("%s: Cannot open: %s", shown, errText(err))
			return
		}
		defer content.Close()
	default:
		fmt.Fprintf(p.stderr, "tar: %s: socket ignored\n", shown)
		return
	}
	if t.verbose > 0 {
		t.listEntry(hdr)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		t.fail("%s: Cannot write header: %s", shown, errText(err))
		return
	}
	if content != nil {
		n, err := io.Copy(tw, io.LimitReader(content, hdr.Size))
		if err == nil && n < hdr.Size {
			// The file shrank while being read: pad as GNU tar does.
			t.fail("%s: File shrank by %d bytes; padding with zeros", shown, hdr.Size-n)
			_, err = tw.Write(make([]byte, hdr.Size-n))
		}
		if err != nil {
			t.fail("%s: Read error: %s", shown, errText(err))
		}
	}
	if fi.IsDir() {
		infos, err := p.fs().ReadDir(full)
		if err != nil {
			t.fail("%s: Cannot open: %s", shown, errText(err))
			return
		}
		for _, c := range infos {
			childName := strings.TrimSuffix(name, "/") + "/" + c.Name()
			if name == "." {
				childName = "./" + c.Name()
			}
			t.add(tw, path.Join(full, c.Name()), strings.TrimSuffix(shown, "/")+"/"+c.Name(), childName, self, links, false)
		}
	}
}

// listEntry prints a member for -v (name) or -vv / -tv (long form).
func (t *tarRun) listEntry(h *tar.Header) {
	if t.verbose < 2 && !(t.o.has('t') && t.verbose > 0) {
		fmt.Fprintln(t.out, h.Name)
		return
	}
	mode := fileModeOf(int(h.Mode))
	switch h.Typeflag {
	case tar.TypeDir:
		mode |= fs.ModeDir
	case tar.TypeSymlink:
		mode |= fs.ModeSymlink
	}
	owner := h.Uname
	if owner == "" {
		owner = strconv.Itoa(h.Uid)
	}
	group := h.Gname
	if group == "" {
		group = strconv.Itoa(h.Gid)
	}
	line := fmt.Sprintf("%s %s/%s %*d %s %s", modeString(mode), owner, group, max(1, 18-len(owner)-len(group)), h.Size,
		h.ModTime.In(t.p.g.now().Location()).Format("2006-01-02 15:04:05"), h.Name)
	switch h.Typeflag {
	case tar.TypeSymlink:
		line += " -> " + h.Linkname
	case tar.TypeLink:
		line += " link to " + h.Linkname
	}
	fmt.Fprintln(t.out, line)
}

func (t *tarRun) read(ctx context.Context, archive string) {
	p := t.p
	var r io.Reader = p.stdin
	if archive != "-" {
		f, err := p.openFile(guestPath(p.dir, archive), os.O_RDONLY, 0)
		if err != nil {
			t.fail("%s: Cannot open: %s", archive, errText(err))
			fmt.Fprintln(p.stderr, "tar: Error is not recoverable: exiting now")
			return
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if t.o.has('z') {
		gz, err := gzip.NewReader(br)
		if err != nil {
			fmt.Fprintln(p.stderr, "\ngzip: stdin: not in gzip format\ntar: Child returned status 1")
			t.errors = true
			return
		}
		defer gz.Close()
		r = gz
	} else {
		// tar 1.15 does not recognise compression by itself.
		if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
			fmt.Fprintln(p.stderr, "tar: This does not look like a tar archive\ntar: Skipping to next header")
			t.errors = true
			return
		}
		r = br
	}
	tr := tar.NewReader(r)
	var dirTimes []struct {
		path string
		t    time.Time
	}
	matched := make([]bool, len(t.o.operands))
	for {
		if ctx.Err() != nil {
			return
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				t.fail("Unexpected EOF in archive")
			} else {
				t.fail("This does not look like a tar archive")
			}
			fmt.Fprintln(p.stderr, "tar: Error is not recoverable: exiting now")
			return
		}
		name := h.Name
		if len(t.o.operands) > 0 {
			want := false
			for i, op := range t.o.operands {
				op = strings.TrimSuffix(op, "/")
				n := strings.TrimSuffix(name, "/")
				if n == op || strings.HasPrefix(n, op+"/") {
					want, matched[i] = true, true
				}
			}
			if !want {
				continue
			}
		}
		if t.o.has('t') {
			if t.verbose > 0 {
				t.listEntry(h)
			} else {
				fmt.Fprintln(t.out, name)
			}
			continue
		}
		if t.verbose > 0 {
			t.listEntry(h)
		}
		rel := t.memberName(name)
		if slices.Contains(strings.Split(rel, "/"), "..") {
			t.fail("%s: Member name contains `..'", name)
			continue
		}
		target := guestPath(t.dir, rel)
		if t.o.has('O') {
			if h.Typeflag == tar.TypeReg {
				io.Copy(p.stdout, tr)
			}
			continue
		}
		if dt, ok := t.extract(tr, h, target, rel); ok && h.Typeflag == tar.TypeDir {
			dirTimes = append(dirTimes, struct {
				path string
				t    time.Time
			}{target, dt})
		}
	}
	for i := len(dirTimes) - 1; i >= 0; i-- {
		p.fs().Chtimes(dirTimes[i].path, dirTimes[i].t, dirTimes[i].t)
	}
	for i, ok := range matched {
		if !ok {
			t.fail("%s: Not found in archive", t.o.operands[i])
		}
	}
}

// extract writes one member; it returns the member's mtime for
// directories, whose times are set after their contents.
func (t *tarRun) extract(tr *tar.Reader, h *tar.Header, target, rel string) (time.Time, bool) {
	p := t.p
	sb := p.fs()
	root := p.user.uid == 0
	mode := fileModeOf(int(h.Mode))
	if !root && !t.o.has('p') {
		mode &^= p.umask
	}
	p.mkdirParents(path.Dir(target), 0o777&^p.umask)
	if err := p.mayWriteDir(path.Dir(target)); err != nil {
		t.fail("%s: Cannot open: %s", rel, errText(err))
		return time.Time{}, false
	}
	// GNU tar unlinks what is in the way (never writing through a
	// symlink); an existing directory is kept for a directory member.
	existing, lerr := sb.Lstat(target)
	if lerr == nil && !(existing.IsDir() && h.Typeflag == tar.TypeDir) {
		if t.o.has('k') {
			t.fail("%s: Cannot open: File exists", rel)
			return time.Time{}, false
		}
		if existing.IsDir() {
			sb.Remove(target)
		} else if err := sb.Remove(target); err != nil {
			t.fail("%s: Cannot unlink: %s", rel, errText(err))
			return time.Time{}, false
		}
	}
	var err error
	switch h.Typeflag {
	case tar.TypeDir:
		if lerr != nil || !existing.IsDir() {
			err = sb.Mkdir(target, 0o700)
		}
		if err == nil {
			err = sb.Chmod(target, mode)
		}
	case tar.TypeReg, tar.TypeRegA:
		var f *os.File
		f, err = p.openFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err == nil {
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = sb.Chmod(target, mode)
		}
	case tar.TypeSymlink:
		err = sb.Symlink(h.Linkname, target)
	case tar.TypeLink:
		err = sb.Link(guestPath(t.dir, t.memberName(h.Linkname)), target)
	default:
		fmt.Fprintf(p.stderr, "tar: %s: Unknown file type '%c', extracted as normal file\n", rel, h.Typeflag)
		return time.Time{}, false
	}
	if err != nil {
		t.fail("%s: Cannot open: %s", rel, errText(err))
		return time.Time{}, false
	}
	if root && !t.o.has('W') {
		uid, gid := h.Uid, h.Gid
		if !t.o.has('N') {
			if e, ok := p.g.lookupID("/etc/passwd", h.Uname); ok && h.Uname != "" {
				uid = e.id
			}
			if e, ok := p.g.lookupID("/etc/group", h.Gname); ok && h.Gname != "" {
				gid = e.id
			}
		}
		sb.Lchown(target, uid, gid)
	}
	mtime := h.ModTime
	if t.o.has('m') {
		mtime = p.g.now()
	}
	switch h.Typeflag {
	case tar.TypeSymlink:
		sb.Lchtimes(target, mtime)
	case tar.TypeDir:
		return mtime, true
	default:
		sb.Chtimes(target, mtime, mtime)
	}
	return time.Time{}, true
}

// gzipCommand is gzip, gunzip and zcat (gzip 1.3.5 of RHEL 5).
func gzipCommand(ctx context.Context, p *proc, args []string) error {
	prog := args[0]
	o, ok := optSpec{flags: "dcfvtlnNqr123456789", longs: map[string]byte{"decompress": 'd', "stdout": 'c', "to-stdout": 'c', "force": 'f', "verbose": 'v', "test": 't'}}.parse(p, prog, args[1:])
	if !ok {
		return exitCode(1)
	}
	decompress := o.has('d') || prog == "gunzip" || prog == "zcat"
	toStdout := o.has('c') || prog == "zcat"
	level := gzip.DefaultCompression
	for c := byte('1'); c <= '9'; c++ {
		if o.has(c) {
			level = int(c - '0')
		}
	}
	if len(o.operands) == 0 {
		if decompress {
			zr, err := gzip.NewReader(p.stdin)
			if err != nil {
				fmt.Fprintf(p.stderr, "%s: stdin: not in gzip format\n", prog)
				return exitCode(1)
			}
			if _, err := io.Copy(p.stdout, zr); err != nil {
				fmt.Fprintf(p.stderr, "%s: stdin: %s\n", prog, errText(err))
				return exitCode(1)
			}
			return nil
		}
		zw, _ := gzip.NewWriterLevel(p.stdout, level)
		io.Copy(zw, p.stdin)
		return exitCode(boolCode(zw.Close() != nil))
	}
	code := 0
	for _, n := range o.operands {
		full := p.abs(n)
		fi, err := p.fs().Stat(full)
		if err != nil {
			fmt.Fprintf(p.stderr, "%s: %s: %s\n", prog, n, errText(err))
			code = 1
			continue
		}
		if fi.IsDir() {
			fmt.Fprintf(p.stderr, "%s: %s is a directory -- ignored\n", prog, n)
			code = 2
			continue
		}
		var dst string
		if decompress {
			switch {
			case strings.HasSuffix(full, ".gz"):
				dst = strings.TrimSuffix(full, ".gz")
			case strings.HasSuffix(full, ".tgz"):
				dst = strings.TrimSuffix(full, ".tgz") + ".tar"
			case toStdout:
			default:
				fmt.Fprintf(p.stderr, "%s: %s: unknown suffix -- ignored\n", prog, n)
				code = 2
				continue
			}
		} else {
			if strings.HasSuffix(full, ".gz") || strings.HasSuffix(full, ".tgz") {
				fmt.Fprintf(p.stderr, "%s: %s already has .gz suffix -- unchanged\n", prog, n)
				code = 2
				continue
			}
			dst = full + ".gz"
		}
		if !toStdout {
			if _, err := p.fs().Lstat(dst); err == nil && !o.has('f') {
				fmt.Fprintf(p.stderr, "%s: %s already exists; not overwritten\n", prog, dst)
				code = 2
				continue
			}
		}
		in, err := p.openFile(full, os.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintf(p.stderr, "%s: %s: %s\n", prog, n, errText(err))
			code = 1
			continue
		}
		var out io.Writer = p.stdout
		var outFile *os.File
		if !toStdout {
			if outFile, err = p.openFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm()); err != nil {
				in.Close()
				fmt.Fprintf(p.stderr, "%s: %s: %s\n", prog, dst, errText(err))
				code = 1
				continue
			}
			out = outFile
		}
		if decompress {
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(in); err == nil {
				_, err = io.Copy(out, zr)
			} else {
				err = fmt.Errorf("not in gzip format")
			}
		} else {
			zw, _ := gzip.NewWriterLevel(out, level)
			zw.Name, zw.ModTime = path.Base(full), fi.ModTime()
			if _, err = io.Copy(zw, in); err == nil {
				err = zw.Close()
			}
		}
		in.Close()
		if outFile != nil {
			outFile.Close()
		}
		if err != nil {
			fmt.Fprintf(p.stderr, "%s: %s: %s\n", prog, n, errText(err))
			if outFile != nil {
				p.fs().Remove(dst)
			}
			code = 1
			continue
		}
		if !toStdout {
			p.fs().Chtimes(dst, fi.ModTime(), fi.ModTime())
			p.fs().Remove(full)
		}
	}
	return exitCode(code)
}

func boolCode(failed bool) int {
	if failed {
		return 1
	}
	return 0
}
