package main

import "os"

// createPrivate creates or truncates a file only its owner can read: a
// report or journal holds a site's inventory, what its guests printed and
// what the operator entered, so it is never world-readable, also when it
// replaces a regular file that was. Other files (a terminal, a pipe named
// with -o /dev/stdout) keep their modes.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}
