package ssh_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// maxWrapperPrograms is how many programs the guest may start for one
// plain command run by drbook, where OpenSSH starts one (the login shell).
// On a guest with /proc: the login shell, the sh that runs the stop
// wrapper, and the command's shell (mkdir and rm are busybox ash applets
// on the rig); sshd made the wrapper a process group leader, which it sees
// in /proc, so setsid is not needed. Without /proc (the rig's bare trees)
// setsid as well. Each is an exec the guest's sshd pays for: with 7
// BenchmarkFanOut50 measured 1.18-1.29x OpenSSH's sshd CPU, with 4
// 1.04-1.12x; see wrapperScript.
var maxWrapperPrograms = map[bool]int{true: 3, false: 4}

// TestE2EWrapperProgramsPerCommand counts, with strace on the guest's sshd,
// the programs started for one `echo ok` run by drbook and by OpenSSH's
// ssh(1), so that the stop wrapper's cost cannot creep back.
func TestE2EWrapperProgramsPerCommand(t *testing.T) {
	rig := sshdrig.New(t)
	for _, proc := range []bool{true, false} {
		t.Run(map[bool]string{true: "with /proc", false: "without /proc"}[proc], func(t *testing.T) {
			tree := rig.NewTree(fmt.Sprintf("proc-%t", proc))
			if proc {
				if err := rig.MountProc(tree); err != nil {
					t.Skipf("this machine does not let the test mount /proc in a guest's tree: %v", err)
				}
			}
			g := rig.Start(fmt.Sprintf("ap-%t", proc), sshdrig.Options{Host: map[bool]int{true: 65, false: 67}[proc], Root: tree})
			c, err := transport.New(transport.Config{Name: g.Name, Guest: g.Site()})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			drbook := g.Execs(func() {
				var out strings.Builder
				if code, err := c.Run(ctx, "echo ok", nil, &out, &out); err != nil || code != 0 || out.String() != "ok\n" {
					t.Fatalf("drbook: exit %d, %v, output %q", code, err, out.String())
				}
				c.Close()
			})
			kh := t.TempDir() + "/known_hosts"
			os.WriteFile(kh, []byte(g.KnownHostsLine()+"\n"), 0o600)
			openssh := g.Execs(func() {
				if out, err := exec.CommandContext(ctx, "ssh", append(g.OpenSSHArgs(kh), "echo ok")...).CombinedOutput(); err != nil || string(out) != "ok\n" {
					t.Fatalf("openssh: %v %q", err, out)
				}
			})
			t.Logf("drbook: %d programs:\n\t%s", len(drbook), strings.Join(drbook, "\n\t"))
			t.Logf("openssh: %d programs:\n\t%s", len(openssh), strings.Join(openssh, "\n\t"))
			if len(openssh) != 1 {
				t.Errorf("OpenSSH ran %d programs for echo ok, the rig expects 1 (the login shell): %v", len(openssh), openssh)
			}
			if len(drbook) > maxWrapperPrograms[proc] {
				t.Errorf("drbook's wrapper started %d programs for echo ok, at most %d allowed", len(drbook), maxWrapperPrograms[proc])
			}
		})
	}
}
