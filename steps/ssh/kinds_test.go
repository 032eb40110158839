package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"github.com/drbook/drbook/i18n"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
	"github.com/drbook/drbook/steps/steptest"
)

func kind(t testing.TB, name string) steps.Kind {
	for _, k := range ssh.Kinds() {
		if k.Name() == name {
			return k
		}
	}
	t.Fatalf("no kind %s", name)
	return nil
}

// lab is two in-process guests, ap01 and ap02, each with its own directory.
type lab struct {
	rt       *steptest.Runtime
	ap1, ap2 *sshtest.Server
}

func newLab(t *testing.T) *lab {
	t.Helper()
	return newLabWith(t, "")
}

// newLabWith is newLab with ap02 finding commands in ap2Path first, for
// fake or failing tools.
func newLabWith(t *testing.T, ap2Path string) *lab {
	t.Helper()
	return newLabPaths(t, "", ap2Path)
}

// newLabPaths is newLab with each guest finding commands in its own
// directory first.
func newLabPaths(t *testing.T, ap1Path, ap2Path string) *lab {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	signer, _ := gossh.NewSignerFromKey(priv)
	l := &lab{}
	l.ap1 = sshtest.Start(t, sshtest.Options{ClientKeys: []gossh.PublicKey{signer.PublicKey()}, PathPrefix: ap1Path})
	l.ap2 = sshtest.Start(t, sshtest.Options{ClientKeys: []gossh.PublicKey{signer.PublicKey()}, PathPrefix: ap2Path})
	guest := func(s *sshtest.Server) site.Guest {
		return site.Guest{Address: s.Host, Port: s.Port, KeyFile: keyFile, HostKeys: []string{transport.SiteLine(s.HostKey.PublicKey())}}
	}
	l.rt = steptest.NewRuntime(t, &site.Site{Name: "lab", Guests: map[string]site.Guest{"ap01": guest(l.ap1), "ap02": guest(l.ap2)}})
	return l
}

func execute(t *testing.T, rt steps.Runtime, k steps.Kind, src string) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return k.Execute(ctx, rt, steptest.Decode(t, k, src))
}

func mustExecute(t *testing.T, rt steps.Runtime, k steps.Kind, src string) any {
	t.Helper()
	res, err := execute(t, rt, k, src)
	if err != nil {
		t.Fatalf("%s %s: %v", k.Name(), src, err)
	}
	return res
}

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func q(s string) string { return fmt.Sprintf("%q", s) }

func TestKindsConformance(t *testing.T) {
	l := newLab(t)
	d1, d2 := l.ap1.Dir, l.ap2.Dir
	writeFile(t, d1+"/etc/httpd.conf", "Listen 10.0.0.65:80\n")
	writeFile(t, d1+"/data/a.txt", "hello\n")
	writeFile(t, d1+"/APBACKUP/old.tgz", "x")
	local := filepath.Join(t.TempDir(), "local.txt")
	writeFile(t, local, "local\n")
	os.MkdirAll(filepath.Join(t.TempDir(), "dl"), 0o755)
	cases := map[string]steptest.Case{
		"ssh.exec":         {Params: "{host: ap01, command: 'echo hi'}", Slow: "{host: ap01, command: 'sleep 30'}"},
		"ssh.upload":       {Params: fmt.Sprintf("{host: ap02, src: %q, dest: %q}", local, d2+"/up.txt")},
		"ssh.download":     {Params: fmt.Sprintf("{host: ap01, src: %q, dest: %q}", d1+"/data/a.txt", filepath.Join(t.TempDir(), "a.txt"))},
		"ssh.transfer":     {Params: fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", d1+"/data/a.txt", d2+"/")},
		"ssh.backup":       {Params: fmt.Sprintf("{host: ap01, paths: [%q, %q], dir: %q}", d1+"/etc", d1+"/nope", d1+"/APBACKUP")},
		"ssh.backup_check": {Params: fmt.Sprintf("{host: ap01, dir: %q, pattern: '*.tgz'}", d1+"/APBACKUP")},
		"ssh.restore_tar":  {Params: fmt.Sprintf("{host: ap01, archive: %q, dest: %q}", d1+"/restore.tgz", d2)},
		"ssh.edit_file": {
			Params:    fmt.Sprintf("{host: ap01, path: %q, edits: [{replace: '10.0.0.65', with: '10.0.0.66'}]}", d1+"/etc/edit.conf"),
			Unchanged: func() bool { return read(t, d1+"/etc/edit.conf") == "Listen 10.0.0.65:80\n" },
		},
		"ssh.mkdir":          {Params: fmt.Sprintf("{host: ap01, paths: [%q, %q]}", d1+"/mnt/G08", d1+"/mnt/report")},
		"ssh.service":        {Params: fmt.Sprintf("{host: ap01, name: %s, action: status, manager: initd}", "drbooktest"), SkipExecute: true},
		"ssh.wait_reachable": {Params: "{host: ap01, within: 10s}"},
	}
	writeFile(t, d1+"/etc/edit.conf", "Listen 10.0.0.65:80\n")
	tarCmd := exec.Command("tar", "-czf", d1+"/restore.tgz", "-C", d1, "data")
	if out, err := tarCmd.CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	for _, k := range ssh.Kinds() {
		c, ok := cases[k.Name()]
		if !ok {
			t.Errorf("no conformance case for %s", k.Name())
			continue
		}
		c.Runtime = l.rt
		t.Run(k.Name(), func(t *testing.T) { steptest.Conformance(t, k, c) })
	}
}

func TestExecOutputExitAndAssert(t *testing.T) {
	l := newLab(t)
	k := kind(t, "ssh.exec")
	res := mustExecute(t, l.rt, k, "{host: ap01, script: \"echo one\\necho two >&2\\nexit 3\", expect_exit: [3], assert: 'stdout == \"one\\n\" && stderr contains \"two\" && exit_code == 3'}").(*ssh.ExecResult)
	if res.ExitCode != 3 || res.Stdout != "one\n" || res.Stderr != "two\n" {
		t.Fatalf("%+v", res)
	}
	ev := l.rt.Evidences[len(l.rt.Evidences)-1]
	if ev.Transcript == nil || !strings.Contains(ev.Transcript.Command, "echo one") || ev.Transcript.ExitCode != 3 {
		t.Fatalf("transcript evidence: %+v", ev)
	}
	if _, err := execute(t, l.rt, k, "{host: ap01, command: 'exit 2'}"); err == nil || !strings.Contains(err.Error(), "exit code 2, expected 0") {
		t.Fatal(err)
	}
	if _, err := execute(t, l.rt, k, "{host: ap01, command: 'echo down', assert: 'stdout contains \"up\"'}"); err == nil || !strings.Contains(err.Error(), "assertion") {
		t.Fatal(err)
	}
	// A big output is capped in the result and kept whole as an artifact.
	res = mustExecute(t, l.rt, k, "{host: ap01, command: 'head -c 300000 /dev/zero | tr \"\\0\" x', output_cap: 1000}").(*ssh.ExecResult)
	if len(res.Stdout) != 1000 || !res.Truncated {
		t.Fatalf("cap: %d %v", len(res.Stdout), res.Truncated)
	}
	var found bool
	for _, a := range l.rt.Artifacts {
		if strings.HasSuffix(a.Name, ".stdout.txt") && a.Size == 300000 {
			found = true
		}
	}
	if !found {
		t.Fatalf("full stdout not stored as an artifact: %+v", l.rt.Artifacts)
	}
	for src, want := range map[string]string{
		"{host: ap01}":                                       "give a command or a script",
		"{command: x}":                                       "name the guest",
		"{host: ap01, guest: ap01, command: x}":              "not both",
		"{host: ap01, command: x, assert: 'stdout +'}":       "invalid expression",
		"{host: ap01, command: x, assert: 'nosuchvar == 1'}": "invalid expression",
		"{host: ap01, command: x, shell: 'sh; rm -rf /'}":    "program name",
	} {
		if _, errs := steptest.DecodeErrors(k, src); len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), want) {
			t.Errorf("%s: want %q, got %v", src, want, errs)
		}
	}
}

// TestHostileValues passes hostile paths through the kinds and checks that
// they name files, never run commands.
func TestHostileValues(t *testing.T) {
	l := newLab(t)
	d := l.ap1.Dir
	canary := filepath.Join(d, "pwned")
	names := []string{"; touch " + canary, "$(touch " + canary + ")", "`touch " + canary + "`", "it's", "a\"b", "new\nline", "路徑 é", "-rf"}
	for _, n := range names {
		dir := filepath.Join(d, "h", n)
		mustExecute(t, l.rt, kind(t, "ssh.mkdir"), fmt.Sprintf("{host: ap01, paths: [%s]}", q(dir)))
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("mkdir %q: %v", n, err)
		}
		file := filepath.Join(dir, n+".conf")
		writeFile(t, file, "name=old\n")
		mustExecute(t, l.rt, kind(t, "ssh.edit_file"), fmt.Sprintf("{host: ap01, path: %s, edits: [{set_key: name, value: %s}]}", q(file), q("x"+strings.ReplaceAll(n, "\n", " "))))
		if got := read(t, file); got != "name=x"+strings.ReplaceAll(n, "\n", " ")+"\n" {
			t.Fatalf("edit %q: %q", n, got)
		}
	}
	res := mustExecute(t, l.rt, kind(t, "ssh.backup"), fmt.Sprintf("{host: ap01, paths: [%s], dir: %s, name: %s}", q(filepath.Join(d, "h")), q(filepath.Join(d, "bk $(x)")), q("it's {date}.tgz"))).(*ssh.BackupResult)
	if res.Files < len(names)*2 {
		t.Fatalf("backup of hostile names: %+v", res)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Fatal("a hostile value ran a command")
	}
}

func TestTransferStreamsAndVerifies(t *testing.T) {
	l := newLab(t)
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	src := filepath.Join(l.ap1.Dir, "big.tgz")
	os.WriteFile(src, data, 0o600)
	os.MkdirAll(filepath.Join(l.ap2.Dir, "root"), 0o755)
	res := mustExecute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", src, l.ap2.Dir+"/root")).(*ssh.TransferResult)
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) || !res.Verified || res.Bytes != int64(len(data)) || res.Path != l.ap2.Dir+"/root/big.tgz" {
		t.Fatalf("%+v", res)
	}
	got, _ := os.ReadFile(res.Path)
	if string(got) != string(data) {
		t.Fatal("copy differs")
	}
	if fi, _ := os.Stat(res.Path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode not kept: %v", fi.Mode())
	}
	if _, err := os.Stat(res.Path + ".drbook-part"); err == nil {
		t.Fatal("part file left behind")
	}
}

// TestTransferDataBypassesSFTP guards the transfer's data path: the file
// travels as the two cats' stdout and stdin, in the SSH connections' own
// packets, and SFTP carries only the metadata (stat, chmod, rename), a
// few hundred bytes whatever the file's size. Through SFTP, each 32 KiB
// costs a request, a reply and two SSH packets, and a server on both
// guests.
func TestTransferDataBypassesSFTP(t *testing.T) {
	l := newLab(t)
	data := make([]byte, 4<<20)
	rand.Read(data)
	src := filepath.Join(l.ap1.Dir, "big.tgz")
	os.WriteFile(src, data, 0o640)
	res := mustExecute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q, verify: false}", src, l.ap2.Dir+"/")).(*ssh.TransferResult)
	if got, _ := os.ReadFile(res.Path); !bytes.Equal(got, data) {
		t.Fatal("the copy differs from the source")
	}
	if a, b := l.ap1.SFTPBytes(), l.ap2.SFTPBytes(); a > 4<<10 || b > 4<<10 {
		t.Fatalf("SFTP carried %d bytes on the source and %d on the destination for a %d-byte file; want the metadata only (under 4 KiB each)", a, b, len(data))
	}
}

// TestTransferChecksWhatTheCatsMoved: what the source's shell adds to the
// stream (a chatty login script) or the destination loses fails the step
// before the copy is moved into place, and leaves no part file.
func TestTransferChecksWhatTheCatsMoved(t *testing.T) {
	fake := func(script string) string {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "cat"), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	realCat, err := exec.LookPath("cat")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, ap1, ap2, want string
	}{
		{"source prints more", fake("echo 'Welcome to ap01'; exec " + realCat + ` "$@"`), "", "copied 1048592 bytes but ap01:"},
		{"destination loses a byte", "", fake("head -c 1048575"), "has 1048575 bytes after 1048576 were sent"},
		{"source fails midway", fake(`head -c 1000 "$2"; echo 'cat: read error' >&2; exit 3`), "", "cat: read error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLabPaths(t, c.ap1, c.ap2)
			src := filepath.Join(l.ap1.Dir, "big.tgz")
			data := make([]byte, 1<<20)
			rand.Read(data)
			os.WriteFile(src, data, 0o600)
			dest := filepath.Join(l.ap2.Dir, "big.tgz")
			_, err := execute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q, verify: false}", src, dest))
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "connection lost") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			for _, f := range []string{dest, dest + ".drbook-part"} {
				if _, err := os.Stat(f); err == nil {
					t.Fatalf("%s exists after a failed copy", f)
				}
			}
		})
	}
}

// TestTransferHostileNamesThroughSudo: the file names reach both cats as
// data, on a guest reached directly and on one with become: sudo (a
// stand-in sudo that runs its command), and nothing in them runs.
func TestTransferHostileNamesThroughSudo(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\nwhile [ \"$1\" != -- ]; do shift; done\nshift\nexec \"$@\"\n"), 0o755)
	l := newLabWith(t, bin)
	g := l.rt.SiteVal.Guests["ap02"]
	g.Become = "sudo"
	l.rt.SiteVal.Guests["ap02"] = g
	// Commands run in each guest's directory: a name that ran would leave
	// "ran" there.
	name := "it's $(touch ran) `touch ran`;\n\"x\" *.tgz"
	data := make([]byte, 300<<10)
	rand.Read(data)
	src := filepath.Join(l.ap1.Dir, name)
	if err := os.WriteFile(src, data, 0o640); err != nil {
		t.Fatal(err)
	}
	destDir := filepath.Join(l.ap2.Dir, "bk $(touch ran)")
	os.MkdirAll(destDir, 0o755)
	res := mustExecute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", src, destDir+"/")).(*ssh.TransferResult)
	if res.Path != filepath.Join(destDir, name) || !res.Verified {
		t.Fatalf("%+v", res)
	}
	if got, _ := os.ReadFile(res.Path); !bytes.Equal(got, data) {
		t.Fatal("the copy differs from the source")
	}
	if fi, _ := os.Stat(res.Path); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode not kept: %v", fi.Mode())
	}
	for _, dir := range []string{l.ap1.Dir, l.ap2.Dir} {
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Fatal("a file name ran a command")
		}
	}
}

// TestTransferOnOneGuestInAStep: a copy within one guest, run as an
// engine step, runs its reader and writer side by side, and its two sums
// too, each under a step id of its own (the wrapper refuses to start a
// command beside a live copy of the same step; the two start at the same
// moment, so which one sees the other is a race this test cannot force).
func TestTransferOnOneGuestInAStep(t *testing.T) {
	l := newLab(t)
	data := make([]byte, 1<<20)
	rand.Read(data)
	src := filepath.Join(l.ap1.Dir, "big.tgz")
	os.WriteFile(src, data, 0o600)
	k := kind(t, "ssh.transfer")
	ctx, cancel := context.WithTimeout(steps.WithRunStep(context.Background(), "run1", "copy"), 30*time.Second)
	defer cancel()
	res, err := k.Execute(ctx, l.rt, steptest.Decode(t, k, fmt.Sprintf("{from: ap01, to: ap01, src: %q, dest: %q}", src, src+".copy")))
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(*ssh.TransferResult); !r.Verified || r.Bytes != int64(len(data)) {
		t.Fatalf("%+v", r)
	}
}

func TestBackupRestoreEditFlow(t *testing.T) {
	l := newLab(t)
	d1, d2 := l.ap1.Dir, l.ap2.Dir
	writeFile(t, d1+"/etc/httpd/conf/httpd.conf", "ServerName apfg01\nListen 10.0.0.65:80\n")
	writeFile(t, d1+"/opt/jboss/run.sh", "#!/bin/sh\n")
	old := d1 + "/APBACKUP/ap01bk.tar.0101.tgz"
	writeFile(t, old, "old")
	past := time.Now().Add(-10 * 24 * time.Hour)
	os.Chtimes(old, past, past)
	bk := mustExecute(t, l.rt, kind(t, "ssh.backup"), fmt.Sprintf("{host: ap01, paths: [%q, %q, %q], dir: %q}", d1+"/etc/httpd", d1+"/opt/jboss", d1+"/fop", d1+"/APBACKUP")).(*ssh.BackupResult)
	if !strings.HasPrefix(filepath.Base(bk.Archive), "ap01bk.tar.") || bk.Size == 0 || len(bk.SHA256) != 64 || bk.Files < 4 {
		t.Fatalf("%+v", bk)
	}
	if len(bk.Missing) != 1 || bk.Missing[0] != d1+"/fop" || len(bk.Pruned) != 1 {
		t.Fatalf("missing/pruned: %+v", bk)
	}
	if _, err := os.Stat(old); err == nil {
		t.Fatal("retention did not delete the 10-day-old archive")
	}
	raw, _ := os.ReadFile(bk.Archive)
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != bk.SHA256 {
		t.Fatal("reported sha256 is not the archive's")
	}
	chk := mustExecute(t, l.rt, kind(t, "ssh.backup_check"), fmt.Sprintf("{host: ap01, dir: %q, max_age: 1h}", d1+"/APBACKUP")).(*ssh.BackupCheckResult)
	if chk.Archive != bk.Archive || chk.AgeSeconds > 60 {
		t.Fatalf("%+v", chk)
	}
	os.Chtimes(bk.Archive, past, past)
	if _, err := execute(t, l.rt, kind(t, "ssh.backup_check"), fmt.Sprintf("{host: ap01, dir: %q, max_age: 1h}", d1+"/APBACKUP")); err == nil || !strings.Contains(err.Error(), "old") {
		t.Fatalf("stale backup must fail: %v", err)
	}
	if _, err := execute(t, l.rt, kind(t, "ssh.backup"), fmt.Sprintf("{host: ap01, paths: [%q], dir: %q, allow_missing: false, retention_days: 0}", d1+"/fop", d1+"/APBACKUP")); err == nil || !strings.Contains(err.Error(), "do not exist") {
		t.Fatal(err)
	}

	tr := mustExecute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", bk.Archive, d2+"/")).(*ssh.TransferResult)
	rs := mustExecute(t, l.rt, kind(t, "ssh.restore_tar"), fmt.Sprintf("{host: ap02, archive: %q, dest: %q}", tr.Path, d2)).(*ssh.RestoreTarResult)
	if rs.Files != bk.Files {
		t.Fatalf("restored %d entries, archived %d", rs.Files, bk.Files)
	}
	conf := d2 + d1 + "/etc/httpd/conf/httpd.conf"
	os.Chmod(conf, 0o640)
	ed := mustExecute(t, l.rt, kind(t, "ssh.edit_file"), fmt.Sprintf(`{host: ap02, path: %q, edits: [{replace: "10.0.0.65", with: "10.0.0.66"}, {regex: '(?m)^ServerName\s+\S+', with: 'ServerName apfg02'}, {insert_line: 'Timeout 120', after: '^Listen'}]}`, conf)).(*ssh.EditFileResult)
	if got := read(t, conf); got != "ServerName apfg02\nListen 10.0.0.66:80\nTimeout 120\n" {
		t.Fatalf("edited: %q", got)
	}
	if !ed.Changed || ed.Applied != 3 || !strings.Contains(ed.Diff, "-Listen 10.0.0.65:80") || !strings.Contains(ed.Diff, "+Listen 10.0.0.66:80") {
		t.Fatalf("%+v", ed)
	}
	if read(t, ed.Backup) != "ServerName apfg01\nListen 10.0.0.65:80\n" {
		t.Fatal("backup copy is not the original")
	}
	if fi, _ := os.Stat(conf); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode not kept: %v", fi.Mode())
	}
	var diffEv bool
	for _, e := range l.rt.Evidences {
		if e.Diff != nil && e.Diff.Path == conf {
			diffEv = true
		}
	}
	if !diffEv {
		t.Fatal("no diff evidence")
	}
	// A CRLF file stays CRLF, and its evidence shows the CRs and the missing
	// final newline as GNU diff does.
	crlf := d2 + "/network"
	os.WriteFile(crlf, []byte("HOSTNAME=ap01\r\nNETWORKING=yes"), 0o644)
	ed = mustExecute(t, l.rt, kind(t, "ssh.edit_file"), fmt.Sprintf(`{host: ap02, path: %q, backup: false, edits: [{set_key: HOSTNAME, value: ap02}]}`, crlf)).(*ssh.EditFileResult)
	if got := read(t, crlf); got != "HOSTNAME=ap02\r\nNETWORKING=yes" {
		t.Fatalf("edited: %q", got)
	}
	if hunk := ed.Diff[strings.Index(ed.Diff, "\n@@ ")+1:]; hunk != "@@ -1,2 +1,2 @@\n-HOSTNAME=ap01\r\n+HOSTNAME=ap02\r\n NETWORKING=yes\n\\ No newline at end of file\n" {
		t.Fatalf("diff:\n%q", ed.Diff)
	}
	if !strings.HasPrefix(ed.Diff, "--- "+crlf+"\t") {
		t.Fatalf("diff header:\n%q", ed.Diff)
	}
	// Running the same edit again finds nothing to replace: an error, unless allowed.
	again := fmt.Sprintf(`{host: ap02, path: %q, edits: [{replace: "10.0.0.65", with: "10.0.0.66"}]}`, conf)
	if _, err := execute(t, l.rt, kind(t, "ssh.edit_file"), again); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatal(err)
	} else if msg, zh := err.Error(), i18n.In(err, "zh-TW"); strings.Contains(msg, "%!") || strings.Contains(zh, "%!") || !strings.HasSuffix(msg, "(set allow_not_found: true if this is expected)") {
		t.Fatalf("the not-found error is garbled:\n%s\n%s", msg, zh)
	}
	res := mustExecute(t, l.rt, kind(t, "ssh.edit_file"), strings.Replace(again, "{host", "{allow_not_found: true, host", 1)).(*ssh.EditFileResult)
	if res.Changed {
		t.Fatal("nothing should have changed")
	}
	net := d2 + "/etc/sysconfig/network"
	writeFile(t, net, "NETWORKING=yes\nHOSTNAME=apfg01\n")
	mustExecute(t, l.rt, kind(t, "ssh.edit_file"), fmt.Sprintf("{host: ap02, path: %q, backup: false, edits: [{set_key: HOSTNAME, value: apfg02}, {set_line: 'GATEWAY=10.0.0.254', match: '^GATEWAY='}]}", net))
	if got := read(t, net); got != "NETWORKING=yes\nHOSTNAME=apfg02\nGATEWAY=10.0.0.254\n" {
		t.Fatalf("network: %q", got)
	}
	mk := mustExecute(t, l.rt, kind(t, "ssh.mkdir"), fmt.Sprintf("{host: ap02, paths: [%q, %q], mode: '0750'}", d2+"/mnt/G08", d2+"/mnt/report")).(*ssh.MkdirResult)
	if len(mk.Created) != 2 {
		t.Fatalf("%+v", mk)
	}
	mk = mustExecute(t, l.rt, kind(t, "ssh.mkdir"), fmt.Sprintf("{host: ap02, paths: [%q]}", d2+"/mnt/G08")).(*ssh.MkdirResult)
	if len(mk.Created) != 0 {
		t.Fatal("existing directory reported as created")
	}
}

func TestEditValidation(t *testing.T) {
	k := kind(t, "ssh.edit_file")
	for src, want := range map[string]string{
		"{host: a, path: /x, edits: [{}]}":                              "give one of",
		"{host: a, path: /x, edits: [{replace: a, regex: b}]}":          "only one",
		"{host: a, path: /x, edits: [{regex: '('}]}":                    "invalid regular expression",
		"{host: a, path: /x, edits: [{set_line: x}]}":                   "needs match",
		"{host: a, path: /x, edits: [{replace: a, with: b, match: c}]}": "match goes with set_line",
		"{host: a, path: /x, edits: [{replace: a, whith: b}]}":          "did you mean \"with\"",
		"{host: a, path: /x}":                                           "at least one edit",
	} {
		if _, errs := steptest.DecodeErrors(k, src); len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), want) {
			t.Errorf("%s: want %q, got %v", src, want, errs)
		}
	}
}

func TestServiceDetection(t *testing.T) {
	l := newLab(t)
	bin := t.TempDir()
	// A stand-in `service` command records what it was asked, so the test
	// proves detection without touching this machine's services.
	os.WriteFile(filepath.Join(bin, "service"), []byte("#!/bin/sh\necho \"$@\" >> \"$HOME/service.log\"\n[ \"$2\" = status ] && { echo \"$1 is stopped\"; exit 3; }\necho \"Starting $1: [  OK  ]\"\n"), 0o755)
	srv := sshtest.Start(t, sshtest.Options{PathPrefix: bin, Password: "pw"})
	t.Setenv("DRBOOK_SVC_PW", "pw")
	g := site.Guest{Address: srv.Host, Port: srv.Port, Password: site.SecretRef{Source: "env", Name: "DRBOOK_SVC_PW"}, HostKeys: []string{transport.SiteLine(srv.HostKey.PublicKey())}}
	l.rt.SiteVal.Guests["svc"] = g
	k := kind(t, "ssh.service")
	res := mustExecute(t, l.rt, k, "{host: svc, name: httpd, action: restart, manager: service}").(*ssh.ServiceResult)
	if res.Manager != "service" || !res.Active || !strings.Contains(res.Output, "Starting httpd") {
		t.Fatalf("%+v", res)
	}
	st := mustExecute(t, l.rt, k, "{host: svc, name: httpd, action: status, manager: service}").(*ssh.ServiceResult)
	if st.Active || st.ExitCode != 3 {
		t.Fatalf("status of a stopped service: %+v", st)
	}
	if got := read(t, filepath.Join(srv.Dir, "service.log")); got != "httpd restart\nhttpd status\n" {
		t.Fatalf("service calls: %q", got)
	}
	if strings.Contains(fmt.Sprint(l.rt.Evidences), "pw\"") {
		t.Fatal("secret leaked")
	}
	d := k.Describe(steptest.Decode(t, k, "{host: svc, name: 'httpd;reboot$(id)', action: restart}"))
	if !strings.Contains(d.Command, "'httpd;reboot$(id)'") {
		t.Fatalf("service name not quoted: %s", d.Command)
	}
}

func TestWaitReachable(t *testing.T) {
	l := newLab(t)
	k := kind(t, "ssh.wait_reachable")
	g := l.rt.SiteVal.Guests["ap01"]
	g.Port = 1 // nothing listens: refused at once, retried until within
	l.rt.SiteVal.Guests["down"] = g
	start := time.Now()
	res, err := execute(t, l.rt, k, "{host: down, within: 1500ms, interval: 200ms}")
	if err == nil || time.Since(start) > 4*time.Second || res.(*ssh.WaitReachableResult).Attempts < 3 {
		t.Fatalf("%v after %s: %+v", err, time.Since(start), res)
	}
	if !strings.Contains(err.Error(), "did not become reachable within 1.5s") {
		t.Fatal(err)
	}
	g2 := l.rt.SiteVal.Guests["ap02"]
	g2.HostKeys = []string{transport.SiteLine(sshtest.NewEd25519(t).PublicKey())}
	l.rt.SiteVal.Guests["rekeyed"] = g2
	start = time.Now()
	if _, err := execute(t, l.rt, k, "{host: rekeyed, within: 30s}"); err == nil || !strings.Contains(err.Error(), "HOST KEY CHANGED") || time.Since(start) > 3*time.Second {
		t.Fatalf("a changed key must fail at once: %v", err)
	}
}

// TestTransferVerifyIsTheGuestsSums: with verify on, the result's sum is
// the one both guests computed and a copy whose sum differs fails, naming
// both files; with verify off nothing is hashed (ap02's sha256sum, which
// would fail or lie, is never run) and the result says so.
func TestTransferVerifyIsTheGuestsSums(t *testing.T) {
	lying := t.TempDir()
	// ap02's sha256sum reports a sum that is not its file's.
	if err := os.WriteFile(filepath.Join(lying, "sha256sum"), []byte("#!/bin/sh\necho \""+strings.Repeat("0", 64)+"  $2\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := newLabWith(t, lying)
	data := make([]byte, 1<<20+3)
	rand.Read(data)
	src := filepath.Join(l.ap1.Dir, "big.tgz")
	os.WriteFile(src, data, 0o600)
	os.MkdirAll(filepath.Join(l.ap2.Dir, "root"), 0o755)

	res := mustExecute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q, verify: false}", src, l.ap2.Dir+"/root/")).(*ssh.TransferResult)
	if res.Verified || res.SHA256 != "" || res.Bytes != int64(len(data)) {
		t.Fatalf("verify: false gave %+v, want bytes %d, no sum, not verified", res, len(data))
	}
	if got, _ := os.ReadFile(res.Path); !bytes.Equal(got, data) {
		t.Fatal("the unverified copy differs from the source")
	}

	_, err := execute(t, l.rt, kind(t, "ssh.transfer"), fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: %q}", src, l.ap2.Dir+"/root/"))
	sum := sha256.Sum256(data)
	if err == nil || !strings.Contains(err.Error(), "SHA-256 mismatch") || !strings.Contains(err.Error(), "ap01:"+src+" has "+hex.EncodeToString(sum[:])) ||
		!strings.Contains(err.Error(), "the copy ap02:"+l.ap2.Dir+"/root/big.tgz has "+strings.Repeat("0", 64)) || !strings.Contains(err.Error(), "run the step again") {
		t.Fatalf("a copy whose sum differs gave %v, want a mismatch naming both files and sums", err)
	}
}
