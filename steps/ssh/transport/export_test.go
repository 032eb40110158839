package transport

import (
	"context"
	"io"

	"github.com/drbook/drbook/steps"
)

// RunWithPIDFile is Run with a chosen pid file, for tests of the race
// between a stop and a late start.
func (c *Client) RunWithPIDFile(ctx context.Context, cmd, pidFile string, stdout, stderr io.Writer) (int, error) {
	return c.run(ctx, cmd, pidFile, "", nil, stdout, stderr)
}

// StopRemote runs the stop of the command recorded in pidFile.
func (c *Client) StopRemote(ctx context.Context, pidFile string) steps.RemoteStop {
	return c.stopRemote(ctx, "test", pidFile)
}
