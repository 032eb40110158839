package ssh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// TestE2EHostKeyOfAnotherTypeIsAChangedKey: OpenSSH guests whose key is of
// another type than the pinned one are refused as changed keys, with both
// fingerprints, not sent to legacy: true.
func TestE2EHostKeyOfAnotherTypeIsAChangedKey(t *testing.T) {
	rig := sshdrig.New(t)
	modern := rig.Start("ap01", sshdrig.Options{Host: 65})
	old := rig.Start("rhel5", sshdrig.Options{Host: 58, Legacy: true})
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPin, _ := gossh.NewPublicKey(&rsaKey.PublicKey)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edPin, _ := gossh.NewPublicKey(edPub)
	for _, tc := range []struct {
		g      *sshdrig.Guest
		pin    gossh.PublicKey
		legacy bool
	}{
		{modern, rsaPin, false}, // ed25519 server, rsa pinned
		{old, edPin, true},      // RHEL 5 (ssh-rsa only), ed25519 pinned, legacy on
		{old, edPin, false},     // the same without legacy: the key still comes first
	} {
		g := tc.g.Site()
		g.HostKeys = []string{transport.SiteLine(tc.pin)}
		g.Legacy = tc.legacy
		rt := e2eRuntime(t, map[string]site.Guest{"x": g})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := transport.ForGuest(ctx, rt, "x", 10*time.Second)
		cancel()
		var he *transport.HostKeyError
		if !errors.As(err, &he) || !he.Changed() || !he.OtherType {
			t.Fatalf("%s (legacy %v): want a changed key of another type, got %v", tc.g.Name, tc.legacy, err)
		}
		msg := err.Error()
		for _, want := range []string{"HOST KEY CHANGED", gossh.FingerprintSHA256(tc.g.HostKey), gossh.FingerprintSHA256(tc.pin)} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: the refusal lacks %q: %s", tc.g.Name, want, msg)
			}
		}
		if strings.Contains(msg, "set legacy") {
			t.Errorf("%s: a changed key is not an algorithm problem: %s", tc.g.Name, msg)
		}
		if len(rt.Trusts) != 0 {
			t.Errorf("%s: nothing may be trusted: %+v", tc.g.Name, rt.Trusts)
		}
	}
}

// TestE2ELegacyAlgorithmsAreJournaled: the RHEL 5 sshd's negotiation is
// journaled with its SHA-1 and CBC parts flagged; the modern one's is not.
func TestE2ELegacyAlgorithmsAreJournaled(t *testing.T) {
	rig := sshdrig.New(t)
	modern := rig.Start("ap01", sshdrig.Options{Host: 65})
	old := rig.Start("rhel5", sshdrig.Options{Host: 58, Legacy: true})
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": modern.Site(), "rhel5": old.Site()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range []string{"ap01", "rhel5"} {
		if _, err := transport.ForGuest(ctx, rt, name, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]string{}
	for _, tr := range rt.Trusts {
		if tr.Kind == transport.TrustAlgorithms {
			got[strings.Fields(tr.Endpoint)[0]] = tr.Fingerprint + " | " + tr.Source
		}
	}
	if s := got["rhel5"]; !strings.Contains(s, "LEGACY") || !strings.Contains(s, "diffie-hellman-group") || !strings.Contains(s, "cbc") || !strings.Contains(s, "ssh-rsa") {
		t.Errorf("rhel5: %q", s)
	}
	if s := got["ap01"]; s == "" || strings.Contains(s, "LEGACY") {
		t.Errorf("ap01: %q", s)
	}
	t.Logf("%v", got)
}
