package transport

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// HostKeyError is a host key drbook refused. Unknown keys can be pinned or
// accepted with --accept-new; changed keys are always refused.
type HostKeyError struct {
	Guest    string
	Endpoint string
	// Offered is the key the server presented, as "TYPE SHA256:…".
	Offered string
	// OfferedLine is the key as a site-file line ("ssh-ed25519 AAAA…").
	OfferedLine string
	// Expected lists the keys drbook trusts for this guest when the key
	// changed, each as "TYPE SHA256:… (source)"; empty when it is unknown.
	Expected []string
	// OtherType is set when the server has no key of any type drbook
	// trusts for the guest and offered one of another type.
	OtherType bool
}

// Changed reports whether the guest presented a key other than the one
// drbook trusts (as opposed to no key being known at all).
func (e *HostKeyError) Changed() bool { return len(e.Expected) > 0 }

func (e *HostKeyError) Error() string {
	if e.Changed() {
		other := ""
		if e.OtherType {
			other = " (a key of another type: the server no longer has a key of the type drbook trusts, as after a reinstall or a restore from another machine; this is not an algorithm problem, and legacy: true would not help)"
		}
		return fmt.Sprintf("ssh %s (%s): HOST KEY CHANGED: the server offered %s, but drbook trusts %s for this guest%s; refusing to connect. "+
			"If the guest was restored or re-addressed on purpose, verify the new key on its console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) "+
			"and re-pin it in the site file: guests.%s.host_keys: [%q]; otherwise someone may be intercepting the connection",
			e.Guest, e.Endpoint, e.Offered, strings.Join(e.Expected, " and "), other, e.Guest, e.OfferedLine)
	}
	return fmt.Sprintf("ssh %s (%s): unknown host key %s: it is neither pinned in the site file nor in known_hosts; refusing to connect. "+
		"Verify the fingerprint on the guest's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then pin it in the site file: "+
		"guests.%s.host_keys: [%q], or run with --accept-new to trust it for this run (the fingerprint is recorded in the journal)",
		e.Guest, e.Endpoint, e.Offered, e.Guest, e.OfferedLine)
}

// Describe returns "TYPE SHA256:…" for a key, the form drbook shows
// everywhere a key is named.
func Describe(key ssh.PublicKey) string {
	return key.Type() + " " + ssh.FingerprintSHA256(key)
}

// SiteLine returns the key as the line to paste into a site file's
// host_keys list.
func SiteLine(key ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// pinnedKey is one entry of a guest's host_keys: a full key or only its
// SHA256 fingerprint.
type pinnedKey struct {
	key         ssh.PublicKey // nil for a fingerprint-only pin
	fingerprint string
}

func parsePinned(lines []string) ([]pinnedKey, error) {
	var out []pinnedKey
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "SHA256:") {
			out = append(out, pinnedKey{fingerprint: l})
			continue
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(l))
		if err != nil {
			return nil, i18n.Errorf("host_keys entry %q is neither a key line (\"ssh-ed25519 AAAA…\") nor a SHA256:… fingerprint: %v", "host_keys 項目 %q 既不是金鑰行（\"ssh-ed25519 AAAA…\"）也不是 SHA256:… 指紋：%v", short(l), err)
		}
		out = append(out, pinnedKey{key: k, fingerprint: ssh.FingerprintSHA256(k)})
	}
	return out, nil
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// hostKeyPolicy decides whether to trust the key a guest presents.
type hostKeyPolicy struct {
	guest, endpoint string
	pinned          []pinnedKey
	knownHosts      ssh.HostKeyCallback // nil when there is no known_hosts file
	acceptNew       bool
	trust           func(journal.Trust)
	// accepted is the key trusted with --accept-new earlier in this run, so
	// a reconnect during the same run trusts it without asking again.
	accepted ssh.PublicKey
	// refused is the last refusal, kept because the handshake error wraps it.
	refused *HostKeyError
}

func newHostKeyPolicy(guest, endpoint string, pins []string, knownHostsFile string, acceptNew bool, trust func(journal.Trust)) (*hostKeyPolicy, error) {
	p := &hostKeyPolicy{guest: guest, endpoint: endpoint, acceptNew: acceptNew, trust: trust}
	var err error
	if p.pinned, err = parsePinned(pins); err != nil {
		return nil, i18n.Errorf("ssh %s: %w", "ssh %s：%w", guest, err)
	}
	if knownHostsFile != "" {
		if _, statErr := os.Stat(knownHostsFile); statErr == nil {
			if p.knownHosts, err = knownhosts.New(knownHostsFile); err != nil {
				return nil, i18n.Errorf("ssh %s: reading known_hosts %s: %w", "ssh %s：讀取 known_hosts %s：%w", guest, knownHostsFile, err)
			}
		}
	}
	return p, nil
}

// knownTypes returns the key types drbook already trusts for the guest, so
// the client asks the server for a key of one of those types (a server with
// both an RSA and an Ed25519 key must not look "changed" because it
// offered the one we do not know).
func (p *hostKeyPolicy) knownTypes() []string {
	var types []string
	for _, k := range p.pinned {
		if k.key != nil {
			types = append(types, k.key.Type())
		}
	}
	if len(p.pinned) > 0 {
		if len(types) < len(p.pinned) {
			return nil // a fingerprint-only pin: the type is not known
		}
		return types
	}
	for _, k := range p.knownHostsKeys() {
		types = append(types, k.Key.Type())
	}
	return types
}

var probeKey = func() ssh.PublicKey {
	pub, _, _ := ed25519.GenerateKey(nil)
	k, _ := ssh.NewPublicKey(pub)
	return k
}()

// knownHostsKeys lists known_hosts' keys for the endpoint by asking the
// callback about a key it cannot know: the KeyError names what it wants.
func (p *hostKeyPolicy) knownHostsKeys() []knownhosts.KnownKey {
	if p.knownHosts == nil {
		return nil
	}
	addr := fakeAddr(p.endpoint)
	err := p.knownHosts(p.endpoint, addr, probeKey)
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		return ke.Want
	}
	return nil
}

func fakeAddr(endpoint string) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", endpoint)
	if err != nil {
		return &net.TCPAddr{}
	}
	return a
}

// judge says whether the site's pins or known_hosts trust key: the source
// that trusts it, or the keys they expect instead. Both are empty when
// neither knows the guest. It journals nothing.
func (p *hostKeyPolicy) judge(hostname string, key ssh.PublicKey) (source string, expected []string) {
	fp := ssh.FingerprintSHA256(key)
	if len(p.pinned) > 0 {
		for _, k := range p.pinned {
			if k.key != nil && bytes.Equal(k.key.Marshal(), key.Marshal()) || k.key == nil && k.fingerprint == fp {
				return "pinned", nil
			}
			desc := k.fingerprint
			if k.key != nil {
				desc = Describe(k.key)
			}
			expected = append(expected, desc+" (pinned in the site file)")
		}
		return "", expected
	}
	if p.knownHosts != nil {
		err := p.knownHosts(hostname, fakeAddr(p.endpoint), key)
		if err == nil {
			return "known_hosts", nil
		}
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) && len(ke.Want) > 0 {
			for _, w := range ke.Want {
				expected = append(expected, fmt.Sprintf("%s (%s:%d)", Describe(w.Key), w.Filename, w.Line))
			}
			return "", expected
		}
		var re *knownhosts.RevokedError
		if errors.As(err, &re) {
			return "", []string{"no revoked key (" + re.Error() + ")"}
		}
	}
	return "", nil
}

// check is the ssh.HostKeyCallback.
func (p *hostKeyPolicy) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	refuse := func(expected []string) error {
		p.refused = &HostKeyError{Guest: p.guest, Endpoint: p.endpoint, Offered: Describe(key), OfferedLine: SiteLine(key), Expected: expected}
		return p.refused
	}
	record := func(source string) error {
		if p.trust != nil {
			p.trust(journal.Trust{Kind: "ssh-host-key", Endpoint: p.guest + " " + p.endpoint, Fingerprint: Describe(key), Source: source})
		}
		p.refused = nil
		return nil
	}
	if source, expected := p.judge(hostname, key); source != "" {
		return record(source)
	} else if len(expected) > 0 {
		return refuse(expected)
	}
	if p.accepted != nil {
		if bytes.Equal(p.accepted.Marshal(), key.Marshal()) {
			return nil // already journaled when first accepted in this run
		}
		return refuse([]string{Describe(p.accepted) + " (accepted earlier in this run)"})
	}
	if p.acceptNew {
		p.accepted = key
		return record("accepted-new")
	}
	return refuse(nil)
}

// isNegotiation reports whether a handshake failed because client and
// server share no algorithm of some kind (key exchange, host key, …).
func isNegotiation(err error) bool {
	var ne *ssh.AlgorithmNegotiationError
	return errors.As(err, &ne)
}

// knowsGuest reports whether pins or known_hosts say which key the guest
// has.
func (p *hostKeyPolicy) knowsGuest() bool {
	return len(p.pinned) > 0 || len(p.knownHostsKeys()) > 0
}

// errProbed ends a probe handshake once the server's key is seen.
var errProbed = errors.New("drbook: host key probe")

// probeHostKey is called when the handshake failed on algorithms, for a
// guest whose key drbook knows: the server may have no key of a type drbook
// trusts (the client asks only for those), or be an old one with another
// key. It shakes hands once more, offering every host key algorithm
// (RHEL 5's too), only to see the key the server has; the handshake is
// always abandoned at the host key, so nothing is authenticated or sent.
// It returns the changed-key refusal when that key is not trusted, and nil
// when it is (then the failure really is about algorithms) or the probe
// failed.
func (c *Client) probeHostKey(ctx context.Context, timeout time.Duration) *HostKeyError {
	nc, err := c.dialTCP(ctx, timeout)
	if err != nil {
		return nil
	}
	defer nc.Close()
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	var offered ssh.PublicKey
	all := legacyAlgorithms
	cfg := &ssh.ClientConfig{
		User:              c.user(),
		HostKeyAlgorithms: all.HostKeys,
		ClientVersion:     "SSH-2.0-drbook",
		Config:            ssh.Config{KeyExchanges: all.KeyExchanges, Ciphers: all.Ciphers, MACs: all.MACs},
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			offered = key
			return errProbed
		},
	}
	if _, _, _, err := ssh.NewClientConn(nc, c.endpoint, cfg); err == nil || offered == nil {
		return nil
	}
	if source, expected := c.policy.judge(c.endpoint, offered); source != "" || len(expected) == 0 {
		return nil
	} else {
		return &HostKeyError{Guest: c.cfg.Name, Endpoint: c.endpoint, Offered: Describe(offered), OfferedLine: SiteLine(offered), Expected: expected, OtherType: !slices.Contains(c.policy.knownTypes(), offered.Type())}
	}
}
