package vcenter

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/session/keepalive"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// sharedKey is the Runtime.Shared key of the run's one vCenter session.
const sharedKey = "vcenter"

// keepAliveEvery is how often an idle session is touched. vCenter drops
// sessions idle for 30 minutes; a drill waits far longer than that between
// steps when a person powers a host on by hand.
const keepAliveEvery = 5 * time.Minute

// endpoint is where the vCenter is and how to trust and log in to it,
// resolved from the site file or from govc's environment variables.
type endpoint struct {
	URL         *url.URL // without user information
	User        string
	Password    site.SecretRef
	Thumbprints []string
	CAFiles     []string
	Datacenter  string
	// From says where the settings came from, for error messages.
	From string
}

// resolveEndpoint reads the site's vcenter section, or govc's environment
// when the site has none, so an operator used to govc can point drbook at
// the same vCenter without writing a site file.
func resolveEndpoint(s *site.Site) (endpoint, error) {
	if s != nil && s.VCenter != nil {
		vc := s.VCenter
		u, err := soap.ParseURL(vc.URL)
		if err != nil || u == nil {
			return endpoint{}, i18n.Errorf("site %s: vcenter.url %q is not a URL (write it like https://vcenter.example/sdk)", "場域 %s：vcenter.url %q 不是網址（請寫成如 https://vcenter.example/sdk）", s.Name, vc.URL)
		}
		u.User = nil
		ep := endpoint{URL: u, User: vc.User, Password: vc.Password, Thumbprints: vc.Thumbprints, Datacenter: vc.Datacenter, From: "site " + s.Name}
		if vc.CAFile != "" {
			ep.CAFiles = []string{vc.CAFile}
		}
		return ep, nil
	}
	raw := os.Getenv("GOVC_URL")
	if raw == "" {
		name := "the site"
		if s != nil && s.Name != "" {
			name = "site " + s.Name
		}
		return endpoint{}, i18n.Errorf("%s has no vcenter section and GOVC_URL is not set; add to the site file:\n  vcenter:\n    url: https://VCENTER/sdk\n    user: USER\n    password: env:VC_PASSWORD\n    thumbprints: [\"SHA-256 of its certificate\"]", "%s 沒有 vcenter 區段，且未設定 GOVC_URL；請於場域檔加上：\n  vcenter:\n    url: https://VCENTER/sdk\n    user: USER\n    password: env:VC_PASSWORD\n    thumbprints: [\"其憑證之 SHA-256\"]", name)
	}
	u, err := soap.ParseURL(raw)
	if err != nil || u == nil {
		return endpoint{}, i18n.Errorf("GOVC_URL is not a URL (write it like https://vcenter.example/sdk)", "GOVC_URL 不是網址（請寫成如 https://vcenter.example/sdk）")
	}
	ep := endpoint{URL: u, From: "GOVC_* environment", Datacenter: os.Getenv("GOVC_DATACENTER")}
	if u.User != nil {
		if pw, _ := u.User.Password(); pw != "" {
			// A password inside a URL cannot be registered for redaction
			// before the run starts, and the URL is printed in errors.
			return endpoint{}, i18n.Errorf("GOVC_URL carries a password, which drbook cannot keep out of its journal and reports; write GOVC_URL without it (https://USER@VCENTER/sdk) and export the password as GOVC_PASSWORD", "GOVC_URL 含有密碼，drbook 無法使其不出現於紀錄檔與報告；請將 GOVC_URL 改為不含密碼（https://USER@VCENTER/sdk），並將密碼匯出為 GOVC_PASSWORD")
		}
		ep.User = u.User.Username()
	}
	u.User = nil
	if v := os.Getenv("GOVC_USERNAME"); v != "" {
		ep.User = v
	}
	if _, ok := os.LookupEnv("GOVC_PASSWORD"); ok {
		ep.Password = site.SecretRef{Source: "env", Name: site.GovcPasswordEnv}
	}
	if v := os.Getenv("GOVC_TLS_CA_CERTS"); v != "" {
		ep.CAFiles = filepath.SplitList(v)
	}
	if v := os.Getenv("GOVC_TLS_KNOWN_HOSTS"); v != "" {
		tps, err := knownHostsThumbprints(v, u.Host)
		if err != nil {
			return endpoint{}, err
		}
		ep.Thumbprints = tps
	}
	return ep, nil
}

// knownHostsThumbprints reads govc's known-hosts file ("host thumbprint"
// per line) and returns the thumbprints listed for host.
func knownHostsThumbprints(path, host string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, i18n.Errorf("GOVC_TLS_KNOWN_HOSTS: %w", "GOVC_TLS_KNOWN_HOSTS：%w", err)
	}
	defer f.Close()
	withPort := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		withPort = net.JoinHostPort(host, "443")
	}
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		h := fields[0]
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "443")
		}
		if h == withPort {
			out = append(out, fields[1])
		}
	}
	return out, sc.Err()
}

// normalizeThumbprint turns "AB:CD:…" or "abcd…" into lowercase hex.
func normalizeThumbprint(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "SHA256:"), "sha256:")
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
}

// colonHex formats a digest the way vSphere and govc print thumbprints.
func colonHex(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// UnknownCertificateError is returned when vCenter presents a certificate
// that is neither signed by a trusted CA nor pinned.
type UnknownCertificateError struct {
	Endpoint string
	SHA256   string
	// SHA1 is the form govc's GOVC_TLS_KNOWN_HOSTS and vcsim print.
	SHA1    string
	Subject string
}

func (e *UnknownCertificateError) Error() string {
	return fmt.Sprintf("vCenter %s presented a TLS certificate that is not trusted (subject %q, SHA-256 %s, SHA-1 %s); "+
		"if it is your vCenter's certificate, pin it in the site file:\n  vcenter:\n    thumbprints: [%q]\n"+
		"or run again with --accept-new to accept it for this run only (it is recorded in the journal)",
		e.Endpoint, e.Subject, e.SHA256, e.SHA1, e.SHA256)
}

// PinMismatchError is returned when the site pins vCenter's certificate
// and vCenter presents another one. It is refused always, --accept-new or
// not: a changed certificate is what a machine in the middle presents, and
// only the operator who checked the new one may change the pin.
type PinMismatchError struct {
	Endpoint string
	// Pinned are the thumbprints the site pins, as written there.
	Pinned []string
	// SHA256 and SHA1 are the presented certificate's thumbprints.
	SHA256, SHA1 string
	Subject      string
	From         string
}

func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("vCenter %s presented a TLS certificate that does NOT match the thumbprint pinned in %s: "+
		"pinned %s, presented SHA-256 %s (SHA-1 %s, subject %q); the connection was refused (--accept-new never overrides a pin). "+
		"If vCenter's certificate was replaced on purpose, check the new thumbprint at the vCenter console "+
		"(or with `govc about.cert -thumbprint`) and replace the pin in the site file; otherwise something between you and vCenter is presenting its own certificate",
		e.Endpoint, e.From, strings.Join(e.Pinned, ", "), e.SHA256, e.SHA1, e.Subject)
}

// certVerifier decides whether to trust the server's certificate. Go's
// own verification is replaced (never merely skipped) by verify, which
// accepts a chain to a trusted CA, a pinned thumbprint, or, with
// --accept-new, an unknown certificate that it records.
type certVerifier struct {
	endpoint  string
	roots     *x509.CertPool
	pins      map[string]bool
	pinned    []string // as the site writes them, for errors
	from      string
	acceptNew bool

	mu       sync.Mutex
	trusted  map[string]string // SHA-256 → source
	journals []journal.Trust   // not yet given to rt.Trust
}

func newCertVerifier(ep endpoint, acceptNew bool) (*certVerifier, error) {
	v := &certVerifier{endpoint: ep.URL.Host, pins: map[string]bool{}, acceptNew: acceptNew, trusted: map[string]string{}, from: ep.From}
	for _, tp := range ep.Thumbprints {
		v.pins[normalizeThumbprint(tp)] = true
		v.pinned = append(v.pinned, tp)
	}
	if len(ep.CAFiles) > 0 {
		v.roots = x509.NewCertPool()
		for _, f := range ep.CAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, i18n.Errorf("%s: CA file: %w", "%s：CA 檔：%w", ep.From, err)
			}
			if !v.roots.AppendCertsFromPEM(pem) {
				return nil, i18n.Errorf("%s: CA file %s holds no PEM certificate", "%s：CA 檔 %s 中沒有 PEM 憑證", ep.From, f)
			}
		}
	} else if pool, err := x509.SystemCertPool(); err == nil {
		v.roots = pool
	}
	return v, nil
}

func (v *certVerifier) verify(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return i18n.Errorf("vCenter %s presented no TLS certificate", "vCenter %s 未提供 TLS 憑證", v.endpoint)
	}
	leaf := cs.PeerCertificates[0]
	s256 := sha256.Sum256(leaf.Raw)
	s1 := sha1.Sum(leaf.Raw)
	fp := colonHex(s256[:])
	source := ""
	switch {
	case v.pins[hex.EncodeToString(s256[:])] || v.pins[hex.EncodeToString(s1[:])]:
		source = "pinned"
	case len(v.pins) > 0:
		// A pin that does not match is never outweighed by a CA or by
		// --accept-new, as a changed SSH host key is not.
		return &PinMismatchError{Endpoint: v.endpoint, Pinned: v.pinned, SHA256: fp, SHA1: colonHex(s1[:]), Subject: leaf.Subject.String(), From: v.from}
	case v.roots != nil && v.chainVerifies(cs):
		source = "ca"
	case v.acceptNew:
		source = "accepted-new"
	default:
		return &UnknownCertificateError{Endpoint: v.endpoint, SHA256: fp, SHA1: colonHex(s1[:]), Subject: leaf.Subject.String()}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, seen := v.trusted[fp]; !seen {
		v.trusted[fp] = source
		v.journals = append(v.journals, journal.Trust{Kind: "tls-certificate", Endpoint: v.endpoint, Fingerprint: "SHA256:" + fp, Source: source})
	}
	return nil
}

func (v *certVerifier) chainVerifies(cs tls.ConnectionState) bool {
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: v.roots, Intermediates: inter, DNSName: cs.ServerName})
	return err == nil
}

// flush hands the certificates trusted since the last call to rt.Trust.
func (v *certVerifier) flush(rt steps.Runtime) {
	v.mu.Lock()
	pending := v.journals
	v.journals = nil
	v.mu.Unlock()
	for _, t := range pending {
		rt.Trust(t)
	}
}

// Session is the run's one vCenter login, shared by every vCenter step.
// It keeps itself alive and logs in again, transparently, when vCenter
// answers NotAuthenticated (vCenter ends idle sessions after 30 minutes,
// and restarts of vpxd end them all).
type Session struct {
	Client   *vim25.Client
	endpoint endpoint
	verifier *certVerifier
	user     *url.Userinfo
	keep     *keepalive.HandlerSOAP

	openMu sync.Mutex
	opened bool
	// aboutDone is set once the vCenter's About is journaled (journalAbout).
	aboutDone bool

	// loginMu serialises re-logins; generation counts them, so a caller
	// that saw NotAuthenticated before another re-logged in does not log
	// in a second time.
	loginMu    sync.Mutex
	generation atomic.Int64

	// waitSlice bounds one WaitForUpdatesEx call, so a wait notices an
	// ended session (and re-creates its filter) within this time.
	waitSlice time.Duration

	// notesMu guards pending: notes of re-logins and outages that happened
	// in a call no step's runtime was bound to (the keepalive), journaled
	// by the next step that connects.
	notesMu sync.Mutex
	pending []pendingNote
	// retryMax bounds the wait between two attempts to reach a vCenter
	// that is down; zero means maxOutageDelay.
	retryMax time.Duration
}

// Relogins reports how many times the session logged in again after
// vCenter ended it.
func (s *Session) Relogins() int { return int(s.generation.Load()) }

func (s *Session) gen() int64 { return s.generation.Load() }

// Close logs out. It runs when the run ends, after every step's context
// is gone, so it bounds itself.
func (s *Session) Close() error {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if !s.opened {
		return nil
	}
	s.opened = false
	s.keep.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := methods.Logout(ctx, s.Client, &types.Logout{This: *s.Client.ServiceContent.SessionManager})
	s.Client.DefaultTransport().CloseIdleConnections()
	return err
}

func (s *Session) login(ctx context.Context) error {
	err := session.NewManager(s.Client).Login(ctx, s.user)
	if err == nil {
		return nil
	}
	if fault.Is(err, &types.InvalidLogin{}) {
		return i18n.Errorf("vCenter %s refused the login of user %q (%s): check the user and the password's secret reference", "vCenter %s 拒絕帳號 %q 登入（%s）：請檢查帳號及密碼之機敏資料參照", s.endpoint.URL.Host, s.endpoint.User, s.endpoint.From)
	}
	return i18n.Errorf("vCenter %s: login: %w", "vCenter %s：登入：%w", s.endpoint.URL.Host, err)
}

// relogin logs in again unless another caller already did since gen, and
// journals the re-login (see note): why vCenter ended the session is part
// of what happened during the drill.
func (s *Session) relogin(ctx context.Context, gen int64, why string) error {
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	if s.generation.Load() != gen {
		return nil
	}
	if err := s.login(ctx); err != nil {
		s.note(ctx, "warning", steps.Textf("vCenter %s ended the session (%s) and logging in again failed: %v", "vCenter %s 結束了工作階段（%s），重新登入失敗：%v", s.endpoint.URL.Host, why, err))
		return err
	}
	n := s.generation.Add(1)
	s.note(ctx, "warning", steps.Textf("vCenter %s ended the session (%s); logged in again as %s (re-login %d of this run)", "vCenter %s 結束了工作階段（%s）；已以 %s 重新登入（本次演練第 %d 次重新登入）", s.endpoint.URL.Host, why, s.endpoint.User, n))
	return nil
}

// open connects and logs in. ctx bounds the connection and login only.
func (s *Session) open(ctx context.Context, ep endpoint, password string, acceptNew bool) error {
	v, err := newCertVerifier(ep, acceptNew)
	if err != nil {
		return err
	}
	sc := soap.NewClient(ep.URL, false)
	t := sc.DefaultTransport()
	// The soap client's own dialer only knows one thumbprint per host and
	// no --accept-new; the transport's TLS with VerifyConnection does all.
	t.DialTLSContext = nil
	t.TLSClientConfig = &tls.Config{
		// Go's chain check is replaced by VerifyConnection, which refuses
		// anything not signed by a trusted CA, pinned, or accepted-new.
		InsecureSkipVerify: true,
		VerifyConnection:   v.verify,
		MinVersion:         tls.VersionTLS12,
	}
	client, err := vim25.NewClient(ctx, sc)
	if err != nil {
		var uc *UnknownCertificateError
		if errors.As(err, &uc) {
			return uc
		}
		var pm *PinMismatchError
		if errors.As(err, &pm) {
			return pm
		}
		return i18n.Errorf("cannot reach vCenter %s (%s): %w", "無法連線至 vCenter %s（%s）：%w", ep.URL.Host, ep.From, err)
	}
	s.Client, s.endpoint, s.verifier, s.user = client, ep, v, url.UserPassword(ep.User, password)
	s.keep = keepalive.NewHandlerSOAP(sc, keepAliveEvery, func() error {
		kctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := methods.GetCurrentTime(kctx, client)
		return err
	})
	client.RoundTripper = &reloginTransport{next: s.keep, s: s}
	if err := s.login(ctx); err != nil {
		s.keep.Stop()
		s.Client = nil
		return err
	}
	s.opened = true
	return nil
}

// connect returns the run's vCenter session, logging in on first use, and
// journals every certificate it relied on.
//
// The shared slot holds an unopened Session that is opened outside
// Runtime.Shared: opening resolves the password through rt.Secret (which
// may prompt) and talks to the network, neither of which should happen
// while the runtime guards its shared resources. A failed login is not
// cached, so a later step tries again.
func connect(ctx context.Context, rt steps.Runtime) (*Session, error) {
	c, err := rt.Shared(sharedKey, func() (io.Closer, error) {
		return &Session{waitSlice: 10 * time.Second}, nil
	})
	if err != nil {
		return nil, err
	}
	s := c.(*Session)
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if !s.opened {
		ep, err := resolveEndpoint(rt.Site())
		if err != nil {
			return nil, err
		}
		var password string
		if !ep.Password.IsZero() {
			password, err = rt.Secret(ep.Password, "vCenter password for "+ep.User)
			if err != nil {
				return nil, err
			}
		}
		if err := s.open(ctx, ep, password, rt.Options().AcceptNew); err != nil {
			return nil, err
		}
	}
	s.verifier.flush(rt)
	s.journalAbout(ctx, rt)
	s.flushNotes(rt)
	return s, nil
}
