//go:build !unix

package control

import (
	"os"
	"os/exec"
	"time"
)

// inOwnGroup does nothing where there are no process groups.
func inOwnGroup(*exec.Cmd) {}

// stopGroup kills the command's own process: without process groups
// drbook cannot find what it started, so the stop is never confirmed.
func stopGroup(p *os.Process, _ time.Duration) localStop {
	p.Kill()
	return localStop{PID: p.Pid, Signal: "KILL", NoGroup: true}
}
