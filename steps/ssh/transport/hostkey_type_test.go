package transport_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// TestHostKeyOfAnotherTypeIsAChangedKey: a server whose key is of another
// type than the trusted one (drbook asks only for that type, so the
// handshake fails on algorithms) is reported as a changed key, with both
// fingerprints, and never as a reason to set legacy: true.
func TestHostKeyOfAnotherTypeIsAChangedKey(t *testing.T) {
	cases := []struct {
		name          string
		server, trust ssh.Signer
		legacy        bool
		knownHosts    bool
	}{
		{"ed25519 server, rsa pinned", sshtest.NewEd25519(t), sshtest.NewRSA(t), false, false},
		{"rsa server, ed25519 pinned", sshtest.NewRSA(t), sshtest.NewEd25519(t), false, false},
		{"ed25519 server, rsa in known_hosts", sshtest.NewEd25519(t), sshtest.NewRSA(t), false, true},
		{"RHEL 5 server (ssh-rsa only), ed25519 pinned", sshtest.NewRSA(t), sshtest.NewEd25519(t), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var kh string
			r := newRig(t, sshtest.Options{HostKey: tc.server, Legacy: tc.legacy}, func(g *site.Guest) {
				g.HostKeys = []string{transport.SiteLine(tc.trust.PublicKey())}
				if tc.knownHosts {
					g.HostKeys = nil
				}
			})
			if tc.knownHosts {
				kh = filepath.Join(t.TempDir(), "known_hosts")
				line := "[" + r.srv.Host + "]:" + strconv.Itoa(r.srv.Port) + " " + transport.SiteLine(tc.trust.PublicKey()) + "\n"
				os.WriteFile(kh, []byte(line), 0o600)
				r.rt.Opts.KnownHosts = kh
			}
			_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
			var he *transport.HostKeyError
			if !errors.As(err, &he) || !he.Changed() || !he.OtherType {
				t.Fatalf("want a changed host key of another type, got %v", err)
			}
			msg := err.Error()
			for _, want := range []string{"HOST KEY CHANGED", ssh.FingerprintSHA256(tc.server.PublicKey()), ssh.FingerprintSHA256(tc.trust.PublicKey()), "another type", transport.SiteLine(tc.server.PublicKey())} {
				if !strings.Contains(msg, want) {
					t.Errorf("the refusal lacks %q: %s", want, msg)
				}
			}
			if strings.Contains(msg, "set legacy") || strings.Contains(msg, "old algorithms") {
				t.Errorf("a changed key is not an algorithm problem: %s", msg)
			}
			if len(r.rt.Trusts) != 0 {
				t.Errorf("nothing may be journaled as trusted: %+v", r.rt.Trusts)
			}
			if r.srv.Execs() != 0 {
				t.Fatal("a command ran on a server with a changed key")
			}
		})
	}
}

// TestOldAlgorithmsWithTheTrustedKeyStillSayLegacy: the probe does not
// turn a real algorithm problem into a key problem: a RHEL 5 server with
// the pinned RSA key, for a guest without legacy: true, gets the legacy
// hint and no connection.
func TestOldAlgorithmsWithTheTrustedKeyStillSayLegacy(t *testing.T) {
	key := sshtest.NewRSA(t)
	r := newRig(t, sshtest.Options{HostKey: key, Legacy: true}, nil)
	_, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0)
	var he *transport.HostKeyError
	if err == nil || errors.As(err, &he) || !strings.Contains(err.Error(), "set legacy: true") {
		t.Fatalf("want the legacy hint, got %v", err)
	}
	if len(r.rt.Trusts) != 0 {
		t.Errorf("the probe must journal nothing: %+v", r.rt.Trusts)
	}
}

// TestAlgorithmsAreJournaled: each connection journals what it negotiated;
// a RHEL 5 guest's SHA-1 and CBC algorithms are flagged as legacy, a modern
// guest's are not.
func TestAlgorithmsAreJournaled(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaClient, rsaFile := writePrivateKey(t, rsaKey, "")
	old := newRig(t, sshtest.Options{Legacy: true, ClientKeys: []ssh.PublicKey{rsaClient.PublicKey()}}, func(g *site.Guest) { g.KeyFile = rsaFile; g.Legacy = true })
	modern := newRig(t, sshtest.Options{}, nil)
	for _, tc := range []struct {
		r      *rig
		legacy bool
		want   []string
	}{
		{old, true, []string{"SHA-1 key exchange diffie-hellman-group14-sha1", "SHA-1 host key signature ssh-rsa", "CBC cipher aes128-cbc", "SHA-1 MAC hmac-sha1", "allowed by legacy: true"}},
		{modern, false, []string{"negotiated (no SHA-1 or CBC)"}},
	} {
		c, err := transport.ForGuest(ctx(t), tc.r.rt, "ap01", 0)
		if err != nil {
			t.Fatal(err)
		}
		run(t, c, "true")
		var algos []journal.Trust
		for _, tr := range tc.r.rt.Trusts {
			if tr.Kind == transport.TrustAlgorithms {
				algos = append(algos, tr)
			}
		}
		if len(algos) != 1 || algos[0].Endpoint != "ap01 "+tc.r.srv.Addr {
			t.Fatalf("one algorithms record per connection: %+v", tc.r.rt.Trusts)
		}
		a := algos[0]
		if strings.HasPrefix(a.Source, "LEGACY") != tc.legacy {
			t.Errorf("legacy flag wrong: %+v", a)
		}
		for _, w := range tc.want {
			if !strings.Contains(a.Source, w) {
				t.Errorf("%q lacks %q", a.Source, w)
			}
		}
		if !strings.HasPrefix(a.Fingerprint, "kex ") || !strings.Contains(a.Fingerprint, " · cipher ") {
			t.Errorf("the negotiation is not described: %q", a.Fingerprint)
		}
	}
}

// TestHostKeyOfSeveralIsEd25519: a guest with an RSA, an ECDSA and an
// ed25519 host key (as Debian's sshd has) and none trusted yet is asked
// for its ed25519 key, as ssh(1) would (x/crypto alone asks for RSA first,
// which costs sshd an RSA signature on every connection); with only its
// RSA key trusted, drbook still asks for RSA and connects.
func TestHostKeyOfSeveralIsEd25519(t *testing.T) {
	rsaKey, ed := sshtest.NewRSA(t), sshtest.NewEd25519(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, sshtest.Options{HostKey: rsaKey, ExtraHostKeys: []ssh.Signer{ec, ed}}, func(g *site.Guest) { g.HostKeys = nil })
	r.rt.Opts.AcceptNew = true
	if _, err := transport.ForGuest(ctx(t), r.rt, "ap01", 0); err != nil {
		t.Fatal(err)
	}
	hk := hostKeys(r.rt.Trusts)
	if len(hk) != 1 || hk[0].Fingerprint != "ssh-ed25519 "+ssh.FingerprintSHA256(ed.PublicKey()) {
		t.Fatalf("accepted %+v; want the ed25519 key %s", hk, ssh.FingerprintSHA256(ed.PublicKey()))
	}

	r2 := newRig(t, sshtest.Options{HostKey: rsaKey, ExtraHostKeys: []ssh.Signer{ec, ed}}, func(g *site.Guest) {
		g.HostKeys = []string{transport.SiteLine(rsaKey.PublicKey())}
	})
	if _, err := transport.ForGuest(ctx(t), r2.rt, "ap01", 0); err != nil {
		t.Fatalf("with only the RSA key pinned: %v", err)
	}
}
