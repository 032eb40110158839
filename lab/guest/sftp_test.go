package guest

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TestPosixRenameFollowsTheOpenSSHVersion checks that a legacy guest's SFTP
// server, like RHEL 5's OpenSSH 4.3 sftp-server, refuses the
// posix-rename@openssh.com extension (added in OpenSSH 4.8) and the plain
// SFTP v3 rename onto an existing file, so a client must fall back to mv;
// a modern guest replaces the file.
func TestPosixRenameFollowsTheOpenSSHVersion(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	clientKey, _ := ssh.NewSignerFromKey(rsaKey)
	for _, legacy := range []bool{true, false} {
		g := startTestGuest(t, Config{Legacy: legacy, AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}}, apSeed(8085))
		cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(clientKey)},
			HostKeyCallback: ssh.FixedHostKey(g.HostKey()), Timeout: 5 * time.Second}
		if legacy {
			cfg.HostKeyAlgorithms = []string{ssh.KeyAlgoRSA}
			cfg.Config = ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH1SHA1},
				Ciphers: []string{"aes128-cbc"}, MACs: []string{ssh.HMACSHA1}}
		}
		c, err := ssh.Dial("tcp", g.SSHAddr(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc, err := sftp.NewClient(c)
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		must(t, c, "echo new > /root/part; echo old > /root/dest")
		if err := sc.Rename("/root/part", "/root/dest"); err == nil {
			t.Errorf("legacy=%v: SFTP v3 rename replaced an existing file", legacy)
		}
		err = sc.PosixRename("/root/part", "/root/dest")
		got, _ := os.ReadFile(filepath.Join(g.Root(), "root", "dest"))
		var se *sftp.StatusError
		switch {
		case legacy && (!errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxOpUnsupported):
			t.Errorf("legacy guest: posix-rename gave %v, want SSH_FX_OP_UNSUPPORTED", err)
		case legacy && string(got) != "old\n":
			t.Errorf("legacy guest: destination changed to %q", got)
		case !legacy && (err != nil || string(got) != "new\n"):
			t.Errorf("modern guest: posix-rename: %v, destination %q", err, got)
		}
	}
}

// TestSFTPServerThroughSudo checks the way a client with become: sudo
// reaches root's files: the operator cannot write /root over the SFTP
// subsystem, but can run /usr/libexec/openssh/sftp-server through sudo and
// speak SFTP to it as root.
func TestSFTPServerThroughSudo(t *testing.T) {
	g := startTestGuest(t, Config{Password: "drill-pass", Operator: "drbook"}, apSeed(8086))
	c, err := ssh.Dial("tcp", g.SSHAddr(), &ssh.ClientConfig{User: "drbook", Auth: []ssh.AuthMethod{ssh.Password("drill-pass")},
		HostKeyCallback: ssh.FixedHostKey(g.HostKey()), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	plain, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if f, err := plain.Create("/root/as-operator"); err == nil {
		f.Close()
		t.Error("the operator created a file in /root over plain SFTP")
	}

	// The same script drbook's transport runs for become: sudo.
	const script = `for s in /usr/libexec/openssh/sftp-server /usr/lib/openssh/sftp-server; do [ -x "$s" ] && exec "$s"; done; echo "no sftp-server" >&2; exit 127`
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	w, _ := sess.StdinPipe()
	r, _ := sess.StdoutPipe()
	var stderr strings.Builder
	sess.Stderr = &stderr
	if err := sess.Start("sudo -n -- sh -c '" + script + "'"); err != nil {
		t.Fatal(err)
	}
	root, err := sftp.NewClientPipe(r, w)
	if err != nil {
		t.Fatalf("sftp through sudo: %v (stderr %q)", err, stderr.String())
	}
	f, err := root.Create("/root/as-root")
	if err != nil {
		t.Fatalf("creating /root/as-root through sudo sftp-server: %v", err)
	}
	f.Write([]byte("ok\n"))
	f.Close()
	if got, err := os.ReadFile(filepath.Join(g.Root(), "root", "as-root")); err != nil || string(got) != "ok\n" {
		t.Errorf("/root/as-root: %q, %v", got, err)
	}
	if wd, err := root.Getwd(); err != nil || wd != "/root" {
		t.Errorf("sftp-server as root starts in %q (%v), want /root", wd, err)
	}
	root.Close()
	w.Close()
	if err := sess.Wait(); err != nil {
		t.Errorf("sftp-server session ended with %v (stderr %q)", err, stderr.String())
	}
}
