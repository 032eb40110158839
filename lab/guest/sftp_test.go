package guest

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
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
