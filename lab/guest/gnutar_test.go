package guest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestArchiveReadByGNUTar checks bkap.sh's archive with the host's GNU tar
// when there is one (skipped otherwise; Go's archive/tar reads it in the
// drill test).
func TestArchiveReadByGNUTar(t *testing.T) {
	gnutar, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar on this machine")
	}
	g := startTestGuest(t, Config{}, apSeed(8087))
	c := g.dial(t, "root")
	must(t, c, "tar -czf /tmp/etc.tgz /etc/httpd /etc/hosts /etc/init.d")
	out, err := exec.Command(gnutar, "-tvzf", filepath.Join(g.Root(), "tmp/etc.tgz")).CombinedOutput()
	if err != nil {
		t.Fatalf("GNU tar: %v\n%s", err, out)
	}
	for _, want := range []string{"etc/httpd/conf/httpd.conf", "etc/hosts", "etc/init.d -> rc.d/init.d", "-rw-r--r-- root/root"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("GNU tar listing misses %q:\n%s", want, out)
		}
	}
}
