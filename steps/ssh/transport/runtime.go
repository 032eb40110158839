package transport

import (
	"context"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
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
		msg := i18n.Errorf("guest %q is not in site %q", "場域 %[2]q 中沒有客體 %[1]q", name, rt.Site().Name)
		if best := steps.Closest(name, known); best != "" {
			return nil, i18n.Errorf("%v; did you mean %q?", "%v；您是否指 %q？", msg, best)
		}
		if len(known) == 0 {
			return nil, i18n.Errorf("%v, which lists no guests; add it under guests: in the site file", "%v，其中未列任何客體；請於場域檔之 guests: 下加入", msg)
		}
		return nil, i18n.Errorf("%v; known guests: %s", "%v；已知客體：%s", msg, strings.Join(known, ", "))
	}
	for _, seen := range chain {
		if seen == name {
			return nil, i18n.Errorf("guest %q: jump hosts form a loop: %s → %s", "客體 %q：跳板主機形成迴圈：%s → %s", chain[0], strings.Join(chain, " → "), name)
		}
	}
	// The jump host is resolved before Shared is entered: Shared may hold a
	// lock while it opens, and opening must not need another shared entry.
	var via *Client
	if g.Jump != "" {
		var err error
		if via, err = clientFor(rt, g.Jump, append(chain, name)); err != nil {
			return nil, i18n.Errorf("guest %q jumps through %q: %w", "客體 %q 經由 %q 跳轉：%w", name, g.Jump, err)
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
		return nil, i18n.Errorf("internal error: run resource ssh:%s is a %T, not an SSH client", "內部錯誤：執行資源 ssh:%s 為 %T，而非 SSH 用戶端", name, shared)
	}
	return c, nil
}
