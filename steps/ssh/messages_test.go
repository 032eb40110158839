package ssh_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

var updateMessages = flag.Bool("update-messages", false, "rewrite testdata/file_errors.golden")

// TestFileKindErrors pins the errors an operator sees when the file kinds
// meet a missing file or a failing helper command (cp, sha256sum): they
// share their SFTP and command plumbing, and the wording must not drift.
// ap02 runs commands with a cp and a sha256sum that fail. After an
// intended change run
//
//	go test ./steps/ssh -run TestFileKindErrors -update-messages
func TestFileKindErrors(t *testing.T) {
	broken := t.TempDir()
	for name, body := range map[string]string{
		"cp":        "#!/bin/sh\necho \"cp: cannot create regular file: Read-only file system\" >&2\nexit 1\n",
		"sha256sum": "#!/bin/sh\necho \"sh: sha256sum: not found\" >&2\nexit 127\n",
	} {
		if err := os.WriteFile(filepath.Join(broken, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := newLabWith(t, broken)
	rt, d1, d2 := l.rt, l.ap1.Dir, l.ap2.Dir
	writeFile(t, d1+"/root/ap.tgz", "not really a tarball")
	writeFile(t, d2+"/etc/hosts", "127.0.0.1 localhost\n")

	var b strings.Builder
	try := func(kindName, src string, preflight bool) {
		k := kind(t, kindName)
		p := steptest.Decode(t, k, src)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if preflight {
			err = k.(steps.Preflighter).Preflight(ctx, rt, p)
		} else {
			_, err = k.Execute(ctx, rt, p)
		}
		text := "<nil>"
		if err != nil {
			text = err.Error()
		}
		text = strings.NewReplacer(d1, "AP01", d2, "AP02").Replace(text)
		fmt.Fprintf(&b, "%s (preflight %t)\n  %s\n", kindName, preflight, ports.ReplaceAllString(text, "${1}PORT"))
	}
	try("ssh.restore_tar", fmt.Sprintf("{host: ap01, archive: %q, dest: %q}", d1+"/root/missing.tgz", d1), true)
	try("ssh.restore_tar", fmt.Sprintf("{host: ap01, archive: %q, dest: %q}", d1+"/root/ap.tgz", d1+"/nowhere"), true)
	try("ssh.restore_tar", fmt.Sprintf("{host: ap01, archive: %q, dest: %q}", d1+"/root/ap.tgz", d1), true)
	try("ssh.edit_file", fmt.Sprintf("{host: ap01, path: %q, edits: [{replace: a, with: b}]}", d1+"/etc/nope.conf"), true)
	try("ssh.edit_file", fmt.Sprintf("{host: ap02, path: %q, edits: [{replace: a, with: b}]}", d2+"/etc/hosts"), true)
	try("ssh.edit_file", fmt.Sprintf("{host: ap02, path: %q, edits: [{replace: localhost, with: ap02}]}", d2+"/etc/hosts"), false)
	try("ssh.transfer", fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", d1+"/root/missing.tgz", d2+"/"), true)
	try("ssh.transfer", fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", d1+"/root/ap.tgz", d2+"/"), true)
	try("ssh.transfer", fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", d1+"/root/ap.tgz", d2+"/"), false)
	try("ssh.backup_check", fmt.Sprintf("{host: ap01, dir: %q}", d1+"/APBACKUP"), false)
	try("ssh.download", fmt.Sprintf("{host: ap01, src: %q, dest: %q}", d1+"/root/missing.tgz", t.TempDir()), false)
	try("ssh.upload", fmt.Sprintf("{host: ap01, src: %q, dest: %q}", "/nonexistent/drbook-test/ap.tgz", d1+"/root/"), false)

	path := filepath.Join("testdata", "file_errors.golden")
	if *updateMessages {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; create it with: go test ./steps/ssh -run TestFileKindErrors -update-messages", err)
	}
	if b.String() != string(want) {
		t.Errorf("the file kinds' errors changed; if intended, run: go test ./steps/ssh -run TestFileKindErrors -update-messages\ngot:\n%s\nwant:\n%s", b.String(), want)
	}
}

// ports matches the test servers' loopback ports, which change every run.
var ports = regexp.MustCompile(`(127\.0\.0\.1:)\d+`)
