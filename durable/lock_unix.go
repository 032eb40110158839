//go:build unix

package durable

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the file in a run directory that the worker holding the
// run's session keeps locked, so that a standby worker sharing the runs
// directory (or a `drbook resume` there) never writes the same journal at
// the same time. The kernel drops the lock when the holder dies.
const lockName = ".drbook-session.lock"

func lockRun(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another process holds run %s (%s is locked): %w", filepath.Base(dir), lockName, err)
	}
	return func() { f.Close() }, nil
}
