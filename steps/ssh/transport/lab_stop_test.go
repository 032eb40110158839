package transport_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/lab/guest"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// TestStopConfirmedOnLabGuest stops a command on one of the lab's
// simulated guests, which refuse "signal" requests and leave a command
// running when its channel closes, as OpenSSH does: the stop wrapper finds
// setsid, kill and $$ there too, so the stop is confirmed, nothing of the
// command is left in the guest's process table, and the rest of it never
// runs; as root, and as an operator login with become: sudo.
func TestStopConfirmedOnLabGuest(t *testing.T) {
	for _, tc := range []struct{ user, become string }{{"root", ""}, {"op", "sudo"}} {
		t.Run(tc.user, func(t *testing.T) { testStopConfirmedOnLabGuest(t, tc.user, tc.become) })
	}
}

func testStopConfirmedOnLabGuest(t *testing.T, user, become string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	signer, _ := gossh.NewSignerFromKey(priv)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
	g, err := guest.Start(guest.Config{Hostname: "lab1", Address: "127.77.0.66", Root: root, AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()}, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	c, err := transport.New(transport.Config{Name: "lab1", Guest: site.Guest{Address: g.Address(), Port: g.SSHPort(), User: user, Become: become, KeyFile: keyFile, HostKeys: []string{g.HostKeyLine()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })

	cx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	done := make(chan error, 1)
	var out strings.Builder
	go func() {
		_, err := c.Run(cx, "sleep 30; touch /tmp/marker", nil, &out, &out)
		done <- err
	}()
	// Cancel once the guest runs the sleep (the step's timeout, but on
	// an event rather than the clock).
	var sleeper guest.ProcessInfo
	waitFor(t, g, func(ps []guest.ProcessInfo) bool {
		for _, p := range ps {
			if p.Name == "sleep" {
				sleeper = p
				return true
			}
		}
		return false
	})
	cancel()
	if sleeper.UID != 0 {
		t.Errorf("the command runs as root (directly or through sudo): %+v", sleeper)
	}
	err = <-done
	var se *transport.StopError
	if !errors.As(err, &se) {
		t.Fatalf("want a StopError, got %v (output %q)", err, out.String())
	}
	if !se.Stop.Confirmed || errors.Is(err, steps.ErrMayStillRun) {
		t.Fatalf("the stop must be confirmed: %+v (%v)", se.Stop, err)
	}
	if !strings.Contains(err.Error(), "confirmed gone") || !strings.Contains(se.Stop.Outcome, "SIGTERM") || se.Stop.PGID != sleeper.PGID {
		t.Errorf("the error and the stop say how it ended: %v / %+v", err, se.Stop)
	}
	// Once nothing runs on the guest any more, the marker can never come.
	waitFor(t, g, func(ps []guest.ProcessInfo) bool { return len(ps) == 0 })
	if _, err := os.Stat(filepath.Join(root, "tmp", "marker")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stopped command went on to touch /tmp/marker (%v)", err)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "tmp", ".drbook-*")); len(left) > 0 {
		t.Errorf("pid directories left behind: %v", left)
	}
}

// waitFor waits on the guest's process table events until ok holds.
func waitFor(t *testing.T, g *guest.Guest, ok func([]guest.ProcessInfo) bool) {
	t.Helper()
	for {
		ps, changed := g.Processes()
		if ok(ps) {
			return
		}
		select {
		case <-changed:
		case <-ctx(t).Done():
			t.Fatalf("gave up waiting; processes: %+v", ps)
		}
	}
}
