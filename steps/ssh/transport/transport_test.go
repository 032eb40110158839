package transport_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
	"github.com/drbook/drbook/steps/steptest"
)

var hostile = []string{
	"; rm -rf /", "$(touch pwned)", "`touch pwned`", "'", `"`, `'\''`, "a b\tc", "line1\nline2", "\n",
	"路徑/檔案 é", "$HOME", "${IFS}", "*", "-rf", "~root", "a=b", "!!", "\\", "x'; touch pwned; echo '", "",
}

// TestQuoteHostile runs every hostile value through the real /bin/sh and
// demands it comes back byte for byte, with no side effect.
func TestQuoteHostile(t *testing.T) {
	dir := t.TempDir()
	for _, v := range hostile {
		cmd := exec.Command("/bin/sh", "-c", "printf '%s' "+transport.Quote(v))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("Quote(%q) = %s: sh failed: %v", v, transport.Quote(v), err)
		}
		if string(out) != v {
			t.Errorf("Quote(%q) = %s: sh printed %q", v, transport.Quote(v), out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a quoted value ran a command")
	}
	if got := transport.QuoteAll("ls", "-l", "/etc/httpd conf"); got != "ls -l '/etc/httpd conf'" {
		t.Errorf("QuoteAll = %s", got)
	}
}

type rig struct {
	srv    *sshtest.Server
	rt     *steptest.Runtime
	signer ssh.Signer
	dir    string
}

func writeKey(t *testing.T, passphrase string) (ssh.Signer, string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return writePrivateKey(t, priv, passphrase)
}

func writePrivateKey(t *testing.T, priv crypto.PrivateKey, passphrase string) (ssh.Signer, string) {
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "drbook test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "drbook test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s, path
}

func newRig(t *testing.T, o sshtest.Options, edit func(*site.Guest)) *rig {
	t.Helper()
	signer, keyFile := writeKey(t, "")
	o.ClientKeys = append(o.ClientKeys, signer.PublicKey())
	srv := sshtest.Start(t, o)
	g := site.Guest{Address: srv.Host, Port: srv.Port, User: "root", KeyFile: keyFile, HostKeys: []string{transport.SiteLine(srv.HostKey.PublicKey())}}
	if edit != nil {
		edit(&g)
	}
	rt := steptest.NewRuntime(t, &site.Site{Name: "test", Guests: map[string]site.Guest{"ap01": g}})
	return &rig{srv: srv, rt: rt, signer: signer, dir: srv.Dir}
}

// hostKeys keeps the host key records of a runtime's trust records (each
// connection also journals its algorithms).
func hostKeys(ts []journal.Trust) []journal.Trust {
	var out []journal.Trust
	for _, tr := range ts {
		if tr.Kind == "ssh-host-key" {
			out = append(out, tr)
		}
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func run(t *testing.T, c *transport.Client, cmd string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := c.Run(ctx(t), cmd, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("Run(%q): %v", cmd, err)
	}
	return out.String() + errOut.String(), code
}

func TestPinnedKeyRunAndReuse(t *testing.T) {
	r := newRig(t, sshtest.Options{}, nil)
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	out, code := run(t, c, "echo hello; echo oops >&2; exit 3")
	if out != "hello\noops\n" || code != 3 {
		t.Fatalf("got %q exit %d", out, code)
	}
	c2, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil || c2 != c {
		t.Fatalf("second ForGuest must return the same client: %v", err)
	}
	run(t, c2, "true")
	if r.srv.Conns() != 1 {
		t.Fatalf("want one connection per guest per run, server saw %d", r.srv.Conns())
	}
	if hk := hostKeys(r.rt.Trusts); len(hk) != 1 || hk[0].Source != "pinned" || hk[0].Kind != "ssh-host-key" ||
		!strings.Contains(hk[0].Fingerprint, ssh.FingerprintSHA256(r.srv.HostKey.PublicKey())) {
		t.Fatalf("trust not journaled as pinned: %+v", r.rt.Trusts)
	}
}

func TestFingerprintPin(t *testing.T) {
	r := newRig(t, sshtest.Options{}, nil)
	g := r.rt.SiteVal.Guests["ap01"]
	g.HostKeys = []string{ssh.FingerprintSHA256(r.srv.HostKey.PublicKey())}
	r.rt.SiteVal.Guests["ap01"] = g
	if _, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownKeyRefusedWithFingerprintAndPinLine(t *testing.T) {
	r := newRig(t, sshtest.Options{}, func(g *site.Guest) { g.HostKeys = nil })
	_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || hk.Changed() {
		t.Fatalf("want an unknown-key refusal, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{ssh.FingerprintSHA256(r.srv.HostKey.PublicKey()), "guests.ap01.host_keys", transport.SiteLine(r.srv.HostKey.PublicKey()), "--accept-new"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(r.rt.Trusts) != 0 {
		t.Fatal("a refused key was journaled as trusted")
	}
	if transport.IsRetryable(err) {
		t.Fatal("an unknown host key is not retryable")
	}
}

func TestAcceptNew(t *testing.T) {
	r := newRig(t, sshtest.Options{}, func(g *site.Guest) { g.HostKeys = nil })
	r.rt.Opts.AcceptNew = true
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	if hk := hostKeys(r.rt.Trusts); len(hk) != 1 || hk[0].Source != "accepted-new" {
		t.Fatalf("accepted key not journaled: %+v", r.rt.Trusts)
	}
	// A reconnect in the same run trusts the same key again.
	r.srv.DropConnections()
	if _, code := run(t, c, "true"); code != 0 {
		t.Fatal("rerun failed")
	}
}

func TestChangedPinnedKeyRefusedEvenWithAcceptNew(t *testing.T) {
	old := sshtest.NewEd25519(t)
	r := newRig(t, sshtest.Options{}, nil)
	g := r.rt.SiteVal.Guests["ap01"]
	g.HostKeys = []string{transport.SiteLine(old.PublicKey())}
	r.rt.SiteVal.Guests["ap01"] = g
	r.rt.Opts.AcceptNew = true
	_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed() {
		t.Fatalf("want a changed-key refusal, got %v", err)
	}
	for _, want := range []string{"HOST KEY CHANGED", ssh.FingerprintSHA256(old.PublicKey()), ssh.FingerprintSHA256(r.srv.HostKey.PublicKey())} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
}

func TestKnownHosts(t *testing.T) {
	r := newRig(t, sshtest.Options{}, func(g *site.Guest) { g.HostKeys = nil })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	endpoint := net.JoinHostPort(r.srv.Host, strconv.Itoa(r.srv.Port))
	line := knownhostsLine(endpoint, r.srv.HostKey.PublicKey())
	os.WriteFile(kh, []byte(line+"\n"), 0o600)
	r.rt.Opts.KnownHosts = kh
	if _, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
		t.Fatal(err)
	}
	if r.rt.Trusts[0].Source != "known_hosts" {
		t.Fatalf("source = %q", r.rt.Trusts[0].Source)
	}

	// The same endpoint with another key in known_hosts is a changed key.
	r2 := newRig(t, sshtest.Options{}, func(g *site.Guest) { g.HostKeys = nil })
	other := sshtest.NewEd25519(t)
	endpoint2 := net.JoinHostPort(r2.srv.Host, strconv.Itoa(r2.srv.Port))
	os.WriteFile(kh, []byte(knownhostsLine(endpoint2, other.PublicKey())+"\n"), 0o600)
	r2.rt.Opts.KnownHosts = kh
	r2.rt.Opts.AcceptNew = true
	_, err := transport.ForGuest(ctx(t), r2.rt, "ap01", 0)
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed() || !strings.Contains(err.Error(), "known_hosts:1") {
		t.Fatalf("want changed key naming known_hosts:1, got %v", err)
	}
}

func knownhostsLine(endpoint string, k ssh.PublicKey) string {
	host, port, _ := net.SplitHostPort(endpoint)
	return "[" + host + "]:" + port + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

func TestLegacyOptIn(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaClient, rsaFile := writePrivateKey(t, rsaKey, "")
	useRSA := func(g *site.Guest) { g.KeyFile = rsaFile }
	r := newRig(t, sshtest.Options{Legacy: true, ClientKeys: []ssh.PublicKey{rsaClient.PublicKey()}}, useRSA)
	_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err == nil || !strings.Contains(err.Error(), "legacy: true") {
		t.Fatalf("without the opt-in the RHEL 5 server must be refused with a hint, got %v", err)
	}
	r2 := newRig(t, sshtest.Options{Legacy: true, ClientKeys: []ssh.PublicKey{rsaClient.PublicKey()}}, func(g *site.Guest) { useRSA(g); g.Legacy = true })
	c, err := transport.ForGuest(ctx(t), r2.rt, "ap01", 0)
	if err != nil {
		t.Fatalf("legacy opt-in: %v", err)
	}
	if out, _ := run(t, c, "echo ok"); out != "ok\n" {
		t.Fatal(out)
	}
}

func TestPasswordAndKeyboardInteractive(t *testing.T) {
	t.Setenv("DRBOOK_TEST_PW", "s3cret")
	for _, ki := range []bool{false, true} {
		r := newRig(t, sshtest.Options{Password: "s3cret", KeyboardInteractive: ki}, func(g *site.Guest) {
			g.KeyFile = ""
			g.Password = site.SecretRef{Source: "env", Name: "DRBOOK_TEST_PW"}
		})
		if _, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
			t.Fatalf("keyboard-interactive=%v: %v", ki, err)
		}
		if len(r.rt.Secrets) != 1 {
			t.Fatal("the password must be resolved through rt.Secret so it is scrubbed")
		}
	}
	t.Setenv("DRBOOK_TEST_PW", "wrong")
	r := newRig(t, sshtest.Options{Password: "s3cret"}, func(g *site.Guest) {
		g.KeyFile = ""
		g.Password = site.SecretRef{Source: "env", Name: "DRBOOK_TEST_PW"}
	})
	_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err == nil || !strings.Contains(err.Error(), "login as root") || strings.Contains(err.Error(), "wrong\"") {
		t.Fatalf("want a login failure naming the user, got %v", err)
	}
}

func TestEncryptedKeyFile(t *testing.T) {
	signer, keyFile := writeKey(t, "pass phrase")
	t.Setenv("DRBOOK_TEST_PASS", "pass phrase")
	r := newRig(t, sshtest.Options{ClientKeys: []ssh.PublicKey{signer.PublicKey()}}, func(g *site.Guest) {
		g.KeyFile = keyFile
		g.KeyPassphrase = site.SecretRef{Source: "env", Name: "DRBOOK_TEST_PASS"}
	})
	if _, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
		t.Fatal(err)
	}
	r2 := newRig(t, sshtest.Options{ClientKeys: []ssh.PublicKey{signer.PublicKey()}}, func(g *site.Guest) { g.KeyFile = keyFile })
	_, err := transport.ForGuest(ctx(t), r2.rt, "ap01", 0)
	if err == nil || !strings.Contains(err.Error(), "key_passphrase") {
		t.Fatalf("an encrypted key without a passphrase reference must say so: %v", err)
	}
}

func TestReconnectAfterLostConnection(t *testing.T) {
	r := newRig(t, sshtest.Options{}, nil)
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Run(ctx(t), "sleep 5", nil, nil, nil); done <- err }()
	time.Sleep(200 * time.Millisecond)
	r.srv.DropConnections()
	err = <-done
	if err == nil || !transport.IsRetryable(err) || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("want a retryable connection-lost error, got %v", err)
	}
	if out, _ := run(t, c, "echo back"); out != "back\n" {
		t.Fatal(out)
	}
	if r.srv.Conns() != 2 {
		t.Fatalf("want a redial, server saw %d connections", r.srv.Conns())
	}
}

func TestConnectTimeoutOnSilentPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept and never speak
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	rt := steptest.NewRuntime(t, &site.Site{Guests: map[string]site.Guest{"mute": {Address: host, Port: p, Password: site.SecretRef{Source: "env", Name: "HOME"}}}})
	start := time.Now()
	_, err = transport.ForGuest(ctx(t), rt, "mute", 700*time.Millisecond)
	took := time.Since(start)
	if err == nil || !transport.IsRetryable(err) || took > 3*time.Second || took < 600*time.Millisecond {
		t.Fatalf("want a retryable timeout after ~700ms, got %v after %s", err, took)
	}
	// Nothing listening: refused at once, with a hint.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port2, _ := net.SplitHostPort(ln2.Addr().String())
	ln2.Close()
	p2, _ := strconv.Atoi(port2)
	rt.SiteVal.Guests["gone"] = site.Guest{Address: "127.0.0.1", Port: p2, Password: site.SecretRef{Source: "env", Name: "HOME"}}
	_, err = transport.ForGuest(ctx(t), rt, "gone", time.Second)
	if err == nil || !strings.Contains(err.Error(), "sshd running") {
		t.Fatalf("want refused with hint, got %v", err)
	}
}

func TestSessionLimit(t *testing.T) {
	r := newRig(t, sshtest.Options{}, func(g *site.Guest) { g.MaxSessions = 2 })
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(r.dir, "running")
	os.Mkdir(marker, 0o755)
	errs := make(chan error, 6)
	var peak int
	for i := 0; i < 6; i++ {
		go func() {
			_, err := c.Run(ctx(t), "f=$(mktemp -p "+transport.Quote(marker)+"); sleep 0.3; rm -f \"$f\"", nil, nil, nil)
			errs <- err
		}()
	}
	stop := time.After(3 * time.Second)
	for i := 0; i < 6; {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
			i++
		case <-time.After(50 * time.Millisecond):
			entries, _ := os.ReadDir(marker)
			if n := len(entries); n > peak {
				peak = n
			}
		case <-stop:
			t.Fatal("timeout")
		}
	}
	if peak > 2 || peak == 0 {
		t.Fatalf("max_sessions 2, but %d commands ran at once", peak)
	}
}

func TestJumpHost(t *testing.T) {
	r := newRig(t, sshtest.Options{}, nil)
	bastion := sshtest.Start(t, sshtest.Options{ClientKeys: []ssh.PublicKey{r.signer.PublicKey()}})
	g := r.rt.SiteVal.Guests["ap01"]
	g.Jump = "bastion"
	r.rt.SiteVal.Guests["ap01"] = g
	r.rt.SiteVal.Guests["bastion"] = site.Guest{Address: bastion.Host, Port: bastion.Port, KeyFile: g.KeyFile, HostKeys: []string{transport.SiteLine(bastion.HostKey.PublicKey())}}
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	run(t, c, "true")
	if bastion.Conns() != 1 || r.srv.Conns() != 1 {
		t.Fatalf("bastion %d, target %d connections", bastion.Conns(), r.srv.Conns())
	}
	if len(hostKeys(r.rt.Trusts)) != 2 {
		t.Fatalf("both host keys must be journaled: %+v", r.rt.Trusts)
	}
	r.rt.SiteVal.Guests["loop"] = site.Guest{Address: "127.0.0.1", Jump: "loop"}
	if _, err := transport.ForGuest(ctx(t), r.rt, "loop", 0); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("jump loop: %v", err)
	}
}

func TestBecomeSudo(t *testing.T) {
	bin := t.TempDir()
	// A stand-in sudo that records it was used and runs the command.
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\necho sudo >> \"$HOME/sudo.log\"\nexec \"$@\"\n"), 0o755)
	r := newRig(t, sshtest.Options{PathPrefix: bin}, func(g *site.Guest) { g.Become = "sudo" })
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := run(t, c, "echo 'it''s'; echo $((1+1))"); out != "its\n2\n" {
		t.Fatalf("got %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "sudo.log")); string(b) != "sudo\n" {
		t.Fatalf("sudo was not used: %q", b)
	}
}

// TestBecomeSudoSFTP checks SFTP with become: sudo: the guest's
// sftp-server runs through sudo and serves files, and a sudo that never
// starts it (sshtest, unlike OpenSSH, keeps the session open until stdin
// closes) ends with the context, with the become: sudo hint.
func TestBecomeSudoSFTP(t *testing.T) {
	found := false
	for _, p := range []string{"/usr/libexec/openssh/sftp-server", "/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server"} {
		if _, err := os.Stat(p); err == nil {
			found = true
		}
	}
	if !found {
		t.Skip("no sftp-server binary on this machine (apt-get install openssh-sftp-server)")
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\n[ \"$1\" = -n ] && shift\n[ \"$1\" = -- ] && shift\necho sudo >> \"$HOME/sudo.log\"\nexec \"$@\"\n"), 0o755)
	r := newRig(t, sshtest.Options{PathPrefix: bin}, func(g *site.Guest) { g.Become = "sudo" })
	os.WriteFile(filepath.Join(r.dir, "f"), []byte("through sudo"), 0o600)
	c, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, done, err := c.SFTP(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := sc.Open(filepath.Join(r.dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	done()
	if string(b) != "through sudo" {
		t.Errorf("read %q over SFTP through sudo", b)
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "sudo.log")); string(b) != "sudo\n" {
		t.Errorf("sudo was not used: %q", b)
	}

	refusing := t.TempDir()
	os.WriteFile(filepath.Join(refusing, "sudo"), []byte("#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n"), 0o755)
	r = newRig(t, sshtest.Options{PathPrefix: refusing}, func(g *site.Guest) { g.Become = "sudo" })
	if c, err = transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx(t), time.Second)
	defer cancel()
	failed := make(chan error, 1)
	go func() { _, _, err := c.SFTP(short); failed <- err }()
	select {
	case err := <-failed:
		if err == nil || !strings.Contains(err.Error(), "passwordless sudo") {
			t.Errorf("SFTP with a sudo that asks for a password: %v, want the become: sudo hint", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("SFTP through a refusing sudo outlasted its 1 s context by 15 s")
	}
}

func TestUnknownGuest(t *testing.T) {
	r := newRig(t, sshtest.Options{}, nil)
	_, err := transport.ForGuest(ctx(t), r.rt, "ap0l", 0)
	if err == nil || !strings.Contains(err.Error(), `did you mean "ap01"`) {
		t.Fatal(err)
	}
}
