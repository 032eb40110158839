package ssh_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/lab/guest"
	"github.com/drbook/drbook/site"
)

// TestLabTimeoutStopsTheCommandBeforeTheRetry is the overlap drill against
// one of the lab's simulated guests: their process table gives the stop
// wrapper setsid, kill and a $$ of the command's own, so each timed-out
// copy's stop is confirmed, the retry never runs beside the first copy,
// and once the guest runs nothing any more, no copy has touched the marker.
func TestLabTimeoutStopsTheCommandBeforeTheRetry(t *testing.T) {
	signer, keyFile := clientKey(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
	os.MkdirAll(filepath.Join(root, "root"), 0o750)
	g, err := guest.Start(guest.Config{Hostname: "ap01", Address: "127.77.0.67", Root: root, AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	res, err, log := runDrill(t, site.Guest{Address: g.Address(), Port: g.SSHPort(), User: "root", KeyFile: keyFile, HostKeys: []string{g.HostKeyLine()}}, overlapDrill)
	checkConfirmedTimeouts(t, res, err, log)
	for {
		ps, changed := g.Processes()
		if len(ps) == 0 {
			break
		}
		<-changed
	}
	home := filepath.Join(root, "root")
	if b, err := os.ReadFile(filepath.Join(home, "overlap")); err == nil {
		t.Fatalf("a retry ran beside a live first copy: %s", b)
	}
	b, err := os.ReadFile(filepath.Join(home, "pids"))
	if err != nil {
		t.Fatalf("the command never ran: %v", err)
	}
	pids := strings.Fields(string(b))
	if len(pids) != 2 || pids[0] == pids[1] || pids[0] == strconv.Itoa(os.Getpid()) {
		t.Fatalf("want two copies with pids of their own, the guest ran %v", pids)
	}
	if _, err := os.Stat(filepath.Join(home, "marker")); err == nil {
		t.Fatal("a stopped copy went on to the end")
	}
}
