package guest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxSymlinkHops is Linux's MAXSYMLINKS: resolving more links than this in
// one path fails with ELOOP, as the kernel does.
const maxSymlinkHops = 40

// sandbox is the guest's file system: guest "/" is dir on the real disk.
//
// Every path goes through resolve, which walks it component by component
// the way a chroot'ed kernel would (absolute symlinks restart at the guest's
// root, ".." stops at it), and the resulting symlink-free relative path is
// then used through an os.Root. The walk gives chroot semantics; the os.Root
// is the hard guarantee that nothing, not even a symlink swapped in between
// the walk and the use, reaches outside dir.
type sandbox struct {
	dir  string
	root *os.Root
}

func openSandbox(dir string) (*sandbox, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("guest root %s: %w (create the directory, or point Config.Root at an existing one)", dir, err)
	}
	return &sandbox{dir: dir, root: r}, nil
}

func (s *sandbox) close() error { return s.root.Close() }

// guestPath makes p absolute against cwd and cleans it lexically.
func guestPath(cwd, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = path.Join(cwd, p)
	}
	return path.Clean("/" + p)
}

// resolve turns an absolute guest path into a relative path inside the
// root with every symlink resolved (all but the last component's when
// follow is false). A missing last component is fine (it may be created);
// a missing intermediate directory is ENOENT.
func (s *sandbox) resolve(p string, follow bool) (string, error) {
	pending := splitPath(p)
	var done []string
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := append(slices.Clone(done), c)
		last := len(pending) == 0
		if last && !follow {
			done = cand
			break
		}
		rel := path.Join(cand...)
		fi, err := s.root.Lstat(rel)
		if err != nil {
			if last && errors.Is(err, fs.ErrNotExist) {
				done = cand
				break
			}
			return "", &fs.PathError{Op: "stat", Path: p, Err: errnoOf(err)}
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			hops++
			if hops > maxSymlinkHops {
				return "", &fs.PathError{Op: "stat", Path: p, Err: syscall.ELOOP}
			}
			target, err := s.root.Readlink(rel)
			if err != nil {
				return "", &fs.PathError{Op: "readlink", Path: p, Err: errnoOf(err)}
			}
			if strings.HasPrefix(target, "/") {
				done = nil
			}
			pending = append(splitPath(target), pending...)
			continue
		}
		if !last && !fi.IsDir() {
			return "", &fs.PathError{Op: "stat", Path: p, Err: syscall.ENOTDIR}
		}
		done = cand
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// errnoOf digs the errno out of an os error so messages name the guest's
// path, never the real one on disk. An os.Root escape (only possible through
// a race) is reported as EACCES.
func errnoOf(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	if errors.Is(err, fs.ErrExist) {
		return syscall.EEXIST
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	if strings.Contains(err.Error(), "escapes") {
		return syscall.EACCES
	}
	return err
}

// guestErr rewrites err so it names the guest path p.
func guestErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == p {
		return pe
	}
	return &fs.PathError{Op: op, Path: p, Err: errnoOf(err)}
}

// errText is what coreutils print after the path: strerror, capitalised.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		err = le.Err
	}
	msg := err.Error()
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

func (s *sandbox) Stat(p string) (fs.FileInfo, error) {
	rel, err := s.resolve(p, true)
	if err != nil {
		return nil, err
	}
	fi, err := s.root.Stat(rel)
	if err != nil {
		return nil, guestErr("stat", p, err)
	}
	return renamed(fi, p), nil
}

func (s *sandbox) Lstat(p string) (fs.FileInfo, error) {
	rel, err := s.resolve(p, false)
	if err != nil {
		return nil, err
	}
	fi, err := s.root.Lstat(rel)
	if err != nil {
		return nil, guestErr("lstat", p, err)
	}
	return renamed(fi, p), nil
}

// renamed gives "/" its name: os.Root reports the root directory as ".".
func renamed(fi fs.FileInfo, p string) fs.FileInfo {
	if p == "/" {
		return namedInfo{fi, "/"}
	}
	return fi
}

type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

func (s *sandbox) OpenFile(p string, flag int, perm fs.FileMode) (*os.File, error) {
	rel, err := s.resolve(p, true)
	if err != nil {
		return nil, err
	}
	f, err := s.root.OpenFile(rel, flag, perm)
	if err != nil {
		return nil, guestErr("open", p, err)
	}
	return f, nil
}

func (s *sandbox) ReadFile(p string) ([]byte, error) {
	f, err := s.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	return io.ReadAll(f)
}

// WriteFile replaces p's content, keeping its mode when it exists.
func (s *sandbox) WriteFile(p string, data []byte, perm fs.FileMode) error {
	f, err := s.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return guestErr("write", p, err)
	}
	return guestErr("close", p, f.Close())
}

// ReadDir lists p sorted by name, with lstat information.
func (s *sandbox) ReadDir(p string) ([]fs.FileInfo, error) {
	f, err := s.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	infos, err := f.Readdir(-1)
	if err != nil {
		return nil, guestErr("readdir", p, err)
	}
	slices.SortFunc(infos, func(a, b fs.FileInfo) int { return strings.Compare(a.Name(), b.Name()) })
	return infos, nil
}

func (s *sandbox) Mkdir(p string, perm fs.FileMode) error {
	rel, err := s.resolve(p, false)
	if err != nil {
		return err
	}
	return guestErr("mkdir", p, s.root.Mkdir(rel, perm))
}

func (s *sandbox) MkdirAll(p string, perm fs.FileMode) error {
	if fi, err := s.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: syscall.EEXIST}
	}
	parent := path.Dir(p)
	if parent != p {
		if err := s.MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	err := s.Mkdir(p, perm)
	if err != nil {
		if fi, serr := s.Stat(p); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// Remove removes a file, symlink or empty directory (not following a final
// symlink).
func (s *sandbox) Remove(p string) error {
	rel, err := s.resolve(p, false)
	if err != nil {
		return err
	}
	if rel == "." {
		return &fs.PathError{Op: "remove", Path: p, Err: syscall.EBUSY}
	}
	return guestErr("remove", p, s.root.Remove(rel))
}

func (s *sandbox) RemoveAll(p string) error {
	rel, err := s.resolve(p, false)
	if err != nil {
		return err
	}
	if rel == "." {
		return &fs.PathError{Op: "remove", Path: p, Err: syscall.EBUSY}
	}
	return guestErr("remove", p, s.root.RemoveAll(rel))
}

func (s *sandbox) Rename(from, to string) error {
	rf, err := s.resolve(from, false)
	if err != nil {
		return err
	}
	rt, err := s.resolve(to, false)
	if err != nil {
		return err
	}
	if err := s.root.Rename(rf, rt); err != nil {
		return guestErr("rename", from, err)
	}
	return nil
}

// Symlink creates link pointing at target; the target text is stored as
// given (it is resolved inside the guest when used).
func (s *sandbox) Symlink(target, link string) error {
	rel, err := s.resolve(link, false)
	if err != nil {
		return err
	}
	// os.Root refuses to create absolute links (they could point anywhere
	// on the real disk); inside the guest they are resolved by resolve, so
	// create them relative to an fd of the resolved, symlink-free parent.
	if strings.HasPrefix(target, "/") {
		return guestErr("symlink", link, s.atParent(rel, func(fd int, base string) error {
			return unix.Symlinkat(target, fd, base)
		}))
	}
	return guestErr("symlink", link, s.root.Symlink(target, rel))
}

func (s *sandbox) Link(oldname, newname string) error {
	ro, err := s.resolve(oldname, false)
	if err != nil {
		return err
	}
	rn, err := s.resolve(newname, false)
	if err != nil {
		return err
	}
	return guestErr("link", newname, s.root.Link(ro, rn))
}

func (s *sandbox) Readlink(p string) (string, error) {
	rel, err := s.resolve(p, false)
	if err != nil {
		return "", err
	}
	t, err := s.root.Readlink(rel)
	return t, guestErr("readlink", p, err)
}

func (s *sandbox) Chmod(p string, mode fs.FileMode) error {
	rel, err := s.resolve(p, true)
	if err != nil {
		return err
	}
	return guestErr("chmod", p, s.root.Chmod(rel, mode))
}

func (s *sandbox) Lchown(p string, uid, gid int) error {
	rel, err := s.resolve(p, false)
	if err != nil {
		return err
	}
	return guestErr("chown", p, s.root.Lchown(rel, uid, gid))
}

func (s *sandbox) Chtimes(p string, atime, mtime time.Time) error {
	rel, err := s.resolve(p, true)
	if err != nil {
		return err
	}
	return guestErr("utime", p, s.root.Chtimes(rel, atime, mtime))
}

// Lchtimes sets a symlink's own times (tar restores them); os.Root has no
// such call, so it goes through the resolved parent's real path.
func (s *sandbox) Lchtimes(p string, mtime time.Time) error {
	rel, err := s.resolve(p, false)
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return guestErr("utime", p, s.atParent(rel, func(fd int, base string) error {
		return unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	}))
}

// atParent runs op on the directory fd of rel's parent (opened through the
// os.Root, so inside the guest) and rel's last component.
func (s *sandbox) atParent(rel string, op func(fd int, base string) error) error {
	dir, err := s.root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer dir.Close()
	return op(int(dir.Fd()), path.Base(rel))
}

// statfs reports the real file system holding the guest's root, for df.
func (s *sandbox) statfs() (syscall.Statfs_t, error) {
	var st syscall.Statfs_t
	err := syscall.Statfs(s.dir, &st)
	return st, err
}

// ownerOf returns the numeric owner of a file as the guest sees it.
func ownerOf(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}
