package transport

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/drbook/drbook/steps"
)

// ForGuest returns the run's connection to the named guest of the site,
// creating it on first use (one connection per guest per run, kept in
// rt.Shared under "ssh:"+name) and connecting within connectTimeout (the
// default when 0). Host keys it relies on are journaled with rt.Trust.
func ForGuest(ctx context.Context, rt steps.Runtime, name string, connectTimeout time.Duration) (*Client, error) {
	c, err := clientFor(rt, name, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx, connectTimeout); err != nil {
		return nil, err
	}
	return c, nil
}

// Lookup returns the run's client for the named guest without connecting.
func Lookup(rt steps.Runtime, name string) (*Client, error) { return clientFor(rt, name, nil) }

func clientFor(rt steps.Runtime, name string, chain []string) (*Client, error) {
	guests := rt.Site().Guests
	g, ok := guests[name]
	if !ok {
		known := make([]string, 0, len(guests))
		for n := range guests {
			known = append(known, n)
		}
		sort.Strings(known)
		msg := fmt.Sprintf("guest %q is not in site %q", name, rt.Site().Name)
		if best := steps.Closest(name, known); best != "" {
			return nil, fmt.Errorf("%s; did you mean %q?", msg, best)
		}
		if len(known) == 0 {
			return nil, fmt.Errorf("%s, which lists no guests; add it under guests: in the site file", msg)
		}
		return nil, fmt.Errorf("%s; known guests: %s", msg, strings.Join(known, ", "))
	}
	for _, seen := range chain {
		if seen == name {
			return nil, fmt.Errorf("guest %q: jump hosts form a loop: %s → %s", chain[0], strings.Join(chain, " → "), name)
		}
	}
	// The jump host is resolved before Shared is entered: Shared may hold a
	// lock while it opens, and opening must not need another shared entry.
	var via *Client
	if g.Jump != "" {
		var err error
		if via, err = clientFor(rt, g.Jump, append(chain, name)); err != nil {
			return nil, fmt.Errorf("guest %q jumps through %q: %w", name, g.Jump, err)
		}
	}
	opts := rt.Options()
	shared, err := rt.Shared("ssh:"+name, func() (io.Closer, error) {
		return New(Config{Name: name, Guest: g, KnownHosts: opts.KnownHosts, AcceptNew: opts.AcceptNew, Secret: rt.Secret, Trust: rt.Trust, Via: via})
	})
	if err != nil {
		return nil, err
	}
	c, ok := shared.(*Client)
	if !ok {
		return nil, fmt.Errorf("internal error: run resource ssh:%s is a %T, not an SSH client", name, shared)
	}
	return c, nil
}
