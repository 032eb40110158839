package transport

import (
	"context"
	"io"

	"github.com/drbook/drbook/steps"
)

// RunWithPIDDir is Run with a chosen pid directory, for tests of the race
// between a stop and a late start.
func (c *Client) RunWithPIDDir(ctx context.Context, cmd, pidDir string, stdout, stderr io.Writer) (int, error) {
	return c.run(ctx, cmd, pidDir, "", nil, stdout, stderr)
}

// StopRemote runs the stop of the command recorded in pidDir.
func (c *Client) StopRemote(ctx context.Context, pidDir string) steps.RemoteStop {
	return c.stopRemote(ctx, "test", pidDir)
}
