package guest

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/pkg/sftp"
)

// sftpServer serves one SFTP session's requests from the guest's files as
// the logged-in user, with the same confinement and permission checks as
// the shell.
type sftpServer struct {
	p *proc
}

func sftpHandlers(g *Guest, user account, umask fs.FileMode) sftp.Handlers {
	s := &sftpServer{p: &proc{g: g, user: user, dir: user.home, umask: umask}}
	return sftp.Handlers{FileGet: s, FilePut: s, FileCmd: s, FileList: s}
}

var (
	_ sftp.OpenFileWriter       = (*sftpServer)(nil)
	_ sftp.LstatFileLister      = (*sftpServer)(nil)
	_ sftp.RealPathFileLister   = (*sftpServer)(nil)
	_ sftp.ReadlinkFileLister   = (*sftpServer)(nil)
	_ sftp.PosixRenameFileCmder = (*sftpServer)(nil)
)

func (s *sftpServer) clean(p string) string { return guestPath("/", p) }

// Fileread opens a file for download.
func (s *sftpServer) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	return s.p.openFile(s.clean(r.Filepath), os.O_RDONLY, 0)
}

// Filewrite opens a file for upload.
func (s *sftpServer) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return s.OpenFile(r)
}

// OpenFile opens a file with the client's open flags.
func (s *sftpServer) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	fl := r.Pflags()
	flag := os.O_RDONLY
	switch {
	case fl.Read && fl.Write:
		flag = os.O_RDWR
	case fl.Write:
		flag = os.O_WRONLY
	}
	if fl.Append {
		flag |= os.O_APPEND
	}
	if fl.Creat {
		flag |= os.O_CREATE
	}
	if fl.Trunc {
		flag |= os.O_TRUNC
	}
	if fl.Excl {
		flag |= os.O_EXCL
	}
	// sftp-server's default, less sshd's umask (022).
	perm := fs.FileMode(0o666)
	if r.AttrFlags().Permissions {
		perm = r.Attributes().FileMode().Perm()
	}
	return s.p.openFile(s.clean(r.Filepath), flag, perm)
}

// Filecmd changes the file system: setstat, rename, mkdir, rmdir,
// remove, link and symlink.
func (s *sftpServer) Filecmd(r *sftp.Request) error {
	sb := s.p.fs()
	name := s.clean(r.Filepath)
	switch r.Method {
	case "Setstat":
		flags, attrs := r.AttrFlags(), r.Attributes()
		if flags.Size {
			f, err := s.p.openFile(name, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			err = f.Truncate(int64(attrs.Size))
			f.Close()
			if err != nil {
				return guestErr("truncate", name, err)
			}
		}
		if flags.Permissions {
			if err := s.owned(name); err != nil {
				return err
			}
			if err := sb.Chmod(name, attrs.FileMode().Perm()); err != nil {
				return err
			}
		}
		if flags.UidGid {
			if s.p.user.uid != 0 {
				return &fs.PathError{Op: "chown", Path: name, Err: syscall.EPERM}
			}
			if err := sb.Lchown(name, int(attrs.UID), int(attrs.GID)); err != nil {
				return err
			}
		}
		if flags.Acmodtime {
			if err := s.owned(name); err != nil {
				return err
			}
			return sb.Chtimes(name, time.Unix(int64(attrs.Atime), 0), time.Unix(int64(attrs.Mtime), 0))
		}
		return nil
	case "Rename":
		// SFTP v3 (and OpenSSH's sftp-server) refuse to replace a file.
		if _, err := sb.Lstat(s.clean(r.Target)); err == nil {
			return &fs.PathError{Op: "rename", Path: r.Target, Err: syscall.EEXIST}
		}
		return s.rename(name, s.clean(r.Target))
	case "Rmdir":
		fi, err := sb.Lstat(name)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return &fs.PathError{Op: "rmdir", Path: name, Err: syscall.ENOTDIR}
		}
		if err := s.p.mayWriteDir(path.Dir(name)); err != nil {
			return err
		}
		return sb.Remove(name)
	case "Remove":
		fi, err := sb.Lstat(name)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return &fs.PathError{Op: "remove", Path: name, Err: syscall.EISDIR}
		}
		if err := s.p.mayWriteDir(path.Dir(name)); err != nil {
			return err
		}
		return sb.Remove(name)
	case "Mkdir":
		if err := s.p.mayWriteDir(path.Dir(name)); err != nil {
			return err
		}
		return sb.Mkdir(name, 0o755)
	case "Link":
		target := s.clean(r.Target)
		if err := s.p.mayWriteDir(path.Dir(target)); err != nil {
			return err
		}
		return sb.Link(name, target)
	case "Symlink":
		// pkg/sftp puts the link's target text in Filepath (cleaned, so
		// made absolute) and the new link's path in Target.
		link := s.clean(r.Target)
		if err := s.p.mayWriteDir(path.Dir(link)); err != nil {
			return err
		}
		return sb.Symlink(r.Filepath, link)
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename is the posix-rename@openssh.com extension: replace allowed.
// OpenSSH added it in 4.8, so a legacy (RHEL 5, OpenSSH 4.3) guest answers
// "operation unsupported", as its sftp-server does for any extension, and
// clients fall back to a plain rename or mv.
func (s *sftpServer) PosixRename(r *sftp.Request) error {
	if s.p.g.cfg.Legacy {
		return sftp.ErrSSHFxOpUnsupported
	}
	return s.rename(s.clean(r.Filepath), s.clean(r.Target))
}

func (s *sftpServer) rename(from, to string) error {
	if err := s.p.mayWriteDir(path.Dir(from)); err != nil {
		return err
	}
	if err := s.p.mayWriteDir(path.Dir(to)); err != nil {
		return err
	}
	return s.p.fs().Rename(from, to)
}

// owned checks that a non-root user owns name before changing its mode
// or times, as the kernel does.
func (s *sftpServer) owned(name string) error {
	if s.p.user.uid == 0 {
		return nil
	}
	fi, err := s.p.fs().Stat(name)
	if err != nil {
		return err
	}
	if uid, _ := ownerOf(fi); uid != s.p.user.uid {
		return &fs.PathError{Op: "chmod", Path: name, Err: syscall.EPERM}
	}
	return nil
}

// Filelist answers List, Stat and Readlink.
func (s *sftpServer) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	name := s.clean(r.Filepath)
	switch r.Method {
	case "List":
		fi, err := s.p.fs().Stat(name)
		if err != nil {
			return nil, err
		}
		if !s.p.may(fi, 4) {
			return nil, &fs.PathError{Op: "opendir", Path: name, Err: syscall.EACCES}
		}
		infos, err := s.p.fs().ReadDir(name)
		if err != nil {
			return nil, err
		}
		return listerAt(infos), nil
	case "Stat":
		fi, err := s.p.fs().Stat(name)
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	case "Readlink":
		t, err := s.p.fs().Readlink(name)
		if err != nil {
			return nil, err
		}
		return listerAt{namedInfo{nil, t}}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

// Lstat answers LSTAT without following a final symlink.
func (s *sftpServer) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	fi, err := s.p.fs().Lstat(s.clean(r.Filepath))
	if err != nil {
		return nil, err
	}
	return listerAt{fi}, nil
}

// RealPath canonicalises a path the way sftp-server's realpath(3) does.
func (s *sftpServer) RealPath(p string) (string, error) {
	// Unlike request paths, RealPath gets the client's raw path: relative
	// ones are against the start directory (the home), as in sftp-server.
	rel, err := s.p.fs().resolve(guestPath(s.p.dir, p), true)
	if err != nil {
		return "", err
	}
	return guestPath("/", rel), nil
}

// Readlink returns a symlink's target text.
func (s *sftpServer) Readlink(p string) (string, error) {
	return s.p.fs().Readlink(s.clean(p))
}

type listerAt []fs.FileInfo

func (l listerAt) ListAt(dst []fs.FileInfo, offset int64) (int, error) {
	if offset >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[offset:])
	if offset+int64(n) >= int64(len(l)) {
		return n, io.EOF
	}
	return n, nil
}

// libexecPrograms are programs outside PATH that the guest implements, by
// their full path (the seed installs a placeholder binary there so tests
// such as [ -x PATH ] see them).
var libexecPrograms = map[string]command{
	sftpServerPath: sftpServerCommand,
}

// sftpServerPath is where RHEL 5's openssh-server installs sftp-server.
const sftpServerPath = "/usr/libexec/openssh/sftp-server"

// sftpServerCommand is sftp-server run as a program rather than as sshd's
// subsystem: it speaks SFTP on its stdin and stdout as whoever runs it.
// Clients that log in as an operator and need root's view of the files run
// it through sudo, as drbook does for a guest with become: sudo.
func sftpServerCommand(ctx context.Context, p *proc, args []string) error {
	var in io.Reader = p.stdin
	if in == nil {
		in = devNull{}
	}
	srv := sftp.NewRequestServer(stdioPipe{in, p.stdout}, sftpHandlers(p.g, p.user, p.umask), sftp.WithStartDirectory(p.user.home))
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	err := srv.Serve()
	srv.Close()
	if err != nil && err != io.EOF && ctx.Err() == nil {
		return exitCode(1)
	}
	return nil
}

// stdioPipe joins a program's stdin and stdout into the one stream an
// SFTP server reads requests from and writes replies to.
type stdioPipe struct {
	io.Reader
	io.Writer
}

func (stdioPipe) Close() error { return nil }
