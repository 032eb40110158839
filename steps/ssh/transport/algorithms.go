package transport

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/journal"
)

// TrustAlgorithms is the journal.Trust kind of the algorithms a guest
// connection negotiated.
const TrustAlgorithms = "ssh-algorithms"

// legacyParts names the SHA-1 and CBC algorithms in a negotiation, each
// with what it is, e.g. "SHA-1 key exchange diffie-hellman-group14-sha1".
func legacyParts(a ssh.NegotiatedAlgorithms) []string {
	var out []string
	if strings.Contains(a.KeyExchange, "sha1") {
		out = append(out, "SHA-1 key exchange "+a.KeyExchange)
	}
	if a.HostKey == ssh.KeyAlgoRSA || a.HostKey == ssh.KeyAlgoDSA || a.HostKey == ssh.CertAlgoRSAv01 {
		out = append(out, "SHA-1 host key signature "+a.HostKey)
	}
	seen := map[string]bool{}
	for _, d := range []ssh.DirectionAlgorithms{a.Write, a.Read} {
		c, m := d.Cipher, d.MAC
		if (strings.HasSuffix(c, "-cbc") || strings.Contains(c, "3des") || strings.Contains(c, "arcfour")) && !seen[c] {
			seen[c] = true
			out = append(out, "CBC cipher "+c)
		}
		if (strings.HasPrefix(m, "hmac-sha1") || strings.HasPrefix(m, "hmac-md5")) && !seen[m] {
			seen[m] = true
			out = append(out, "SHA-1 MAC "+m)
		}
	}
	return out
}

// describeAlgorithms is a negotiation in one line for the journal.
func describeAlgorithms(a ssh.NegotiatedAlgorithms) string {
	both := func(w, r string) string {
		if w == r {
			return w
		}
		return w + " (to the server) / " + r + " (from it)"
	}
	mac := both(a.Write.MAC, a.Read.MAC)
	if a.Write.MAC == "" && a.Read.MAC == "" {
		mac = "none (the cipher authenticates)"
	}
	return fmt.Sprintf("kex %s · host key %s · cipher %s · MAC %s", a.KeyExchange, a.HostKey, both(a.Write.Cipher, a.Read.Cipher), mac)
}

// recordAlgorithms journals what a new connection negotiated, as a trust
// record beside the host key, flagging SHA-1 and CBC so that the report
// shows which guests still need them.
func (c *Client) recordAlgorithms(conn ssh.Conn) {
	am, ok := conn.(ssh.AlgorithmsConnMetadata)
	if !ok || c.cfg.Trust == nil {
		return
	}
	a := am.Algorithms()
	source := "negotiated (no SHA-1 or CBC)"
	if legacy := legacyParts(a); len(legacy) > 0 {
		why := "allowed by legacy: true in the site file"
		if !c.cfg.Guest.Legacy {
			why = "the server offered nothing better"
		}
		source = "LEGACY: " + strings.Join(legacy, ", ") + "; " + why
	}
	c.cfg.Trust(journal.Trust{Kind: TrustAlgorithms, Endpoint: c.cfg.Name + " " + c.endpoint, Fingerprint: describeAlgorithms(a), Source: source})
}
