package ssh_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

// TestBackupPreflightAgreesWithTheRun checks that plan's preflight of
// ssh.backup counts as present what the backup itself archives (a dangling
// symlink), names a missing path with a space whole, and says how to skip
// missing paths.
func TestBackupPreflightAgreesWithTheRun(t *testing.T) {
	l := newLab(t)
	d1 := l.ap1.Dir
	writeFile(t, d1+"/etc/hosts", "127.0.0.1 localhost\n")
	if err := os.Symlink(d1+"/gone", d1+"/etc/dangling"); err != nil {
		t.Fatal(err)
	}
	preflight := func(src string) error {
		k := kind(t, "ssh.backup")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return k.(steps.Preflighter).Preflight(ctx, l.rt, steptest.Decode(t, k, src))
	}
	present := fmt.Sprintf("[%q, %q]", d1+"/etc/hosts", d1+"/etc/dangling")
	if err := preflight(fmt.Sprintf("{host: ap01, paths: %s, dir: %q, allow_missing: false}", present, d1+"/APBACKUP")); err != nil {
		t.Errorf("preflight of present paths and a dangling symlink: %v, want none", err)
	}
	missing := fmt.Sprintf("[%q, %q]", d1+"/etc/hosts", d1+"/no such dir")
	err := preflight(fmt.Sprintf("{host: ap01, paths: %s, dir: %q, allow_missing: false}", missing, d1+"/APBACKUP"))
	if err == nil || !strings.Contains(err.Error(), "do not exist: "+d1+"/no such dir (set allow_missing: true") {
		t.Errorf("preflight of a missing path: %v, want it named whole with the allow_missing hint", err)
	}
	if err := preflight(fmt.Sprintf("{host: ap01, paths: %s, dir: %q}", missing, d1+"/APBACKUP")); err != nil {
		t.Errorf("preflight with allow_missing (the default): %v, want none", err)
	}
}
