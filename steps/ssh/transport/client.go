// Package transport is drbook's SSH client for guests: it authenticates with
// the site's key files, ssh-agent or password references, verifies host keys
// against the site's pins and known_hosts (refusing unknown and changed
// keys), keeps one connection per guest per run with a session limit and
// keep-alives, dials through jump hosts, speaks RHEL 5's old algorithms only
// when a guest opts in, and gives the step kinds commands and SFTP over that
// connection. Quote is the one function that puts values into remote
// command lines.
package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
)

// Defaults for what a site leaves unset.
const (
	DefaultPort           = 22
	DefaultUser           = "root"
	DefaultConnectTimeout = 15 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	// DefaultMaxSessions stays under OpenSSH's MaxSessions default of 10.
	DefaultMaxSessions = 8
)

// Config is everything needed to reach one guest.
type Config struct {
	// Name is the guest's name in the site, used in every message.
	Name  string
	Guest site.Guest
	// KnownHosts is the known_hosts file consulted after the site's pins.
	KnownHosts string
	// AcceptNew trusts an unknown host key for this run (and journals it).
	AcceptNew bool
	// KeepAlive is how often an idle connection is probed; 0 means the
	// default, negative disables keep-alives.
	KeepAlive time.Duration
	// Secret resolves the guest's passphrase and password references.
	Secret func(ref site.SecretRef, label string) (string, error)
	// Trust journals each host key relied on.
	Trust func(journal.Trust)
	// Via is the jump host to dial through; nil dials directly.
	Via *Client
	// StopGrace is how long a stopped command has between SIGTERM and
	// SIGKILL; DefaultStopGrace when 0.
	StopGrace time.Duration
}

// Client is one guest's SSH connection for a run. It dials lazily, redials
// after the connection is lost (so a retried step can succeed once the
// guest is back), and is safe for concurrent use.
type Client struct {
	cfg      Config
	endpoint string
	policy   *hostKeyPolicy
	sessions chan struct{}
	dialing  chan struct{} // a one-slot lock that honours contexts

	mu     sync.Mutex
	conn   *ssh.Client
	lost   chan struct{} // closed when conn ends
	agent  net.Conn
	closed bool
}

// New prepares a client; it does not touch the network.
func New(cfg Config) (*Client, error) {
	g := cfg.Guest
	if g.Address == "" {
		return nil, i18n.Errorf("ssh %s: the guest has no address in the site file", "ssh %s：場域檔中該客體沒有位址", cfg.Name)
	}
	port := g.Port
	if port == 0 {
		port = DefaultPort
	}
	endpoint := net.JoinHostPort(g.Address, strconv.Itoa(port))
	policy, err := newHostKeyPolicy(cfg.Name, endpoint, g.HostKeys, cfg.KnownHosts, cfg.AcceptNew, cfg.Trust)
	if err != nil {
		return nil, err
	}
	max := g.MaxSessions
	if max <= 0 {
		max = DefaultMaxSessions
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	return &Client{cfg: cfg, endpoint: endpoint, policy: policy, sessions: make(chan struct{}, max), dialing: make(chan struct{}, 1)}, nil
}

// Name is the guest's name in the site.
func (c *Client) Name() string { return c.cfg.Name }

// Target names the guest and its endpoint for messages, e.g.
// "ap02 (127.0.0.2:22)".
func (c *Client) Target() string { return c.cfg.Name + " (" + c.endpoint + ")" }

// Become is the guest's privilege escalation ("sudo" or "").
func (c *Client) Become() string { return c.cfg.Guest.Become }

// Close ends the connection; the client cannot be used afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var err error
	if c.conn != nil {
		err = c.conn.Close()
		c.conn = nil
	}
	if c.agent != nil {
		c.agent.Close()
		c.agent = nil
	}
	return err
}

// Error is a failure to reach or use a guest. Retryable errors (timeouts,
// refused or lost connections) may succeed when the step is retried;
// others (host key, authentication, algorithms) will not until the site
// or the guest changes.
type Error struct {
	Target    string
	Op        string
	Err       error
	Retryable bool
	Hint      string
	// OpZhTW and HintZhTW are Op and Hint in Traditional Chinese; when
	// empty, Op and Hint are looked up in opsZhTW and hintsZhTW.
	OpZhTW, HintZhTW string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("ssh %s: %s: %v", e.Target, e.Op, e.Err)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap is Err, seen through the error's words in both languages (for
// i18n.In: drbook's words in Chinese, Err's own as it said them).
func (e *Error) Unwrap() error {
	zh := fmt.Sprintf("ssh %s：%s：%s", e.Target, orText(e.OpZhTW, opZhTW(e.Op)), i18n.In(e.Err, "zh-TW"))
	if e.Hint != "" {
		zh += "（" + orText(e.HintZhTW, orText(hintsZhTW[e.Hint], e.Hint)) + "）"
	}
	return i18n.Wrap(journal.Text{EN: e.Error(), ZhTW: zh}, e.Err)
}

// opsZhTW words the fixed operations of Error.Op.
var opsZhTW = map[string]string{
	"connect": "連線", "handshake": "SSH 交握", "ssh-agent": "ssh-agent", "login": "登入", "read key": "讀取金鑰",
	"unlock key": "解鎖金鑰", "open session": "開啟工作階段", "start command": "啟動指令", "start SFTP": "啟動 SFTP",
	"run": "執行指令", "sftp": "SFTP",
}

// hintsZhTW words the fixed hints of Error.Hint.
var hintsZhTW = map[string]string{
	"is the VM powered on and the address right? a firewall may drop the packets":                                                                  "VM 是否已開機、位址是否正確？防火牆可能丟棄封包",
	"the guest answers but nothing listens on the SSH port: is sshd running, and is the port right?":                                               "客體有回應，但 SSH 連接埠無服務接聽：sshd 是否執行中、連接埠是否正確？",
	"even RHEL 5's legacy algorithms are not accepted by this server":                                                                              "此伺服器連 RHEL 5 之舊式演算法亦不接受",
	"the server closed the connection during the handshake: sshd may be restarting, or refusing our algorithms":                                    "伺服器於交握時關閉連線：sshd 可能正在重新啟動，或拒絕我方之演算法",
	"start an agent and ssh-add the key, or give a key_file":                                                                                       "請啟動 agent 並以 ssh-add 加入金鑰，或提供 key_file",
	"SSH_AUTH_SOCK points at an agent that does not answer":                                                                                        "SSH_AUTH_SOCK 所指之 agent 未回應",
	"check key_file in the site file":                                                                                                              "請檢查場域檔中之 key_file",
	"the passphrase reference resolves to a wrong passphrase":                                                                                      "密語參照取得之密語不正確",
	"the connection was lost or the server refused another session":                                                                                "連線中斷，或伺服器拒絕再開工作階段",
	"the guest or its sshd went away; whether the command took effect is unknown":                                                                  "客體或其 sshd 已中斷；無法確定指令是否已生效",
	"the server must offer the sftp subsystem (Subsystem sftp in sshd_config)":                                                                     "伺服器須提供 sftp 子系統（sshd_config 之 Subsystem sftp）",
	"with become: sudo, drbook runs the guest's sftp-server through sudo -n: the user needs passwordless sudo and the guest an sftp-server binary": "設定 become: sudo 時，drbook 透過 sudo -n 執行客體之 sftp-server：該帳號須可免密碼 sudo，且客體須有 sftp-server 程式",
}

// opZhTW words op: a fixed one, or one that names what it acts on.
func opZhTW(op string) string {
	if zh, ok := opsZhTW[op]; ok {
		return zh
	}
	for en, zh := range map[string]string{"login as ": "登入帳號 ", "connect through jump host ": "經跳板主機連線 ", "run ": "執行 "} {
		if rest, ok := strings.CutPrefix(op, en); ok {
			return zh + rest
		}
	}
	return op
}

func orText(s, or string) string {
	if s != "" {
		return s
	}
	return or
}

// IsRetryable reports whether err is a transport failure that a retry of
// the step may overcome.
func IsRetryable(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.Retryable
}

// Connect makes sure the guest is connected, dialing within timeout (the
// default when 0) if there is no live connection.
func (c *Client) Connect(ctx context.Context, timeout time.Duration) error {
	_, err := c.live(ctx, timeout)
	return err
}

func (c *Client) live(ctx context.Context, timeout time.Duration) (*ssh.Client, error) {
	select {
	case c.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, c.cancelled("connect", ctx)
	}
	defer func() { <-c.dialing }()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, &Error{Target: c.Target(), Op: "connect", Err: i18n.New("the run's connections are already closed", "本次執行之連線已關閉")}
	}
	if c.conn != nil {
		select {
		case <-c.lost:
			c.conn = nil
		default:
			conn := c.conn
			c.mu.Unlock()
			return conn, nil
		}
	}
	c.mu.Unlock()
	conn, err := c.dial(ctx, timeout)
	if err != nil {
		return nil, err
	}
	lost := make(chan struct{})
	go func() { conn.Wait(); close(lost) }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, &Error{Target: c.Target(), Op: "connect", Err: i18n.New("the run's connections are already closed", "本次執行之連線已關閉")}
	}
	c.conn, c.lost = conn, lost
	if c.cfg.KeepAlive > 0 {
		go keepAlive(conn, lost, c.cfg.KeepAlive)
	}
	return conn, nil
}

// keepAlive probes the connection so that a guest that vanished (powered
// off, network cut) is noticed and the connection closed, instead of the
// next command hanging on a dead TCP stream.
func keepAlive(conn *ssh.Client, lost chan struct{}, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	misses := 0
	for {
		select {
		case <-lost:
			return
		case <-t.C:
		}
		answered := make(chan struct{})
		go func() { conn.SendRequest("keepalive@openssh.com", true, nil); close(answered) }()
		select {
		case <-answered:
			misses = 0
		case <-time.After(every):
			misses++
			if misses >= 3 {
				conn.Close()
				return
			}
		case <-lost:
			return
		}
	}
}

func (c *Client) cancelled(op string, ctx context.Context) error {
	return &Error{Target: c.Target(), Op: op, Err: i18n.Errorf("cancelled: %w", "已取消：%w", context.Cause(ctx))}
}

func (c *Client) dial(ctx context.Context, timeout time.Duration) (*ssh.Client, error) {
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg, err := c.clientConfig(timeout)
	if err != nil {
		return nil, err
	}
	nc, err := c.dialTCP(ctx, timeout)
	if err != nil {
		return nil, err
	}
	// The handshake gets the same bound as the TCP connect: a port that
	// accepts but never speaks SSH must not hang the step.
	deadline, _ := ctx.Deadline()
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(readAhead(nc), c.endpoint, cfg)
	stop()
	if err != nil {
		nc.Close()
		return nil, c.handshakeError(ctx, timeout, err)
	}
	nc.SetDeadline(time.Time{})
	c.recordAlgorithms(sc)
	return ssh.NewClient(sc, chans, reqs), nil
}

// readAhead gives the connection a 64 KiB read buffer. x/crypto/ssh reads
// through a 4 KiB one: a 32 KiB packet costs it two or three read system
// calls (the first 4 KiB with the length, then the rest); through this
// buffer one read takes in everything the kernel holds, up to two packets.
// A read returns what is buffered without waiting for more, so latency is
// unchanged.
func readAhead(nc net.Conn) net.Conn {
	return &readAheadConn{Conn: nc, r: bufio.NewReaderSize(nc, 64<<10)}
}

type readAheadConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *readAheadConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// dialTCP opens the TCP connection to the guest, directly or through the
// jump host.
func (c *Client) dialTCP(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	if c.cfg.Via != nil {
		jump, err := c.cfg.Via.live(ctx, timeout)
		if err != nil {
			return nil, &Error{Target: c.Target(), Op: "connect through jump host " + c.cfg.Via.Name(), Err: err, Retryable: IsRetryable(err)}
		}
		nc, err := jump.DialContext(ctx, "tcp", c.endpoint)
		if err != nil {
			return nil, c.dialError(ctx, timeout, err)
		}
		return nc, nil
	}
	d := net.Dialer{}
	nc, err := d.DialContext(ctx, "tcp", c.endpoint)
	if err != nil {
		return nil, c.dialError(ctx, timeout, err)
	}
	return nc, nil
}

func (c *Client) dialError(ctx context.Context, timeout time.Duration, err error) error {
	e := &Error{Target: c.Target(), Op: "connect", Err: err, Retryable: true}
	switch {
	case ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		e.Err = i18n.Errorf("no answer within %s", "%s 內未回應", timeout)
		e.Hint = "is the VM powered on and the address right? a firewall may drop the packets"
	case errors.Is(ctx.Err(), context.Canceled):
		e.Err = i18n.Errorf("cancelled: %w", "已取消：%w", ctx.Err())
		e.Retryable = false
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Hint = "the guest answers but nothing listens on the SSH port: is sshd running, and is the port right?"
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (c *Client) handshakeError(ctx context.Context, timeout time.Duration, err error) error {
	if c.policy.refused != nil {
		return c.policy.refused
	}
	e := &Error{Target: c.Target(), Op: "handshake", Err: err}
	msg := err.Error()
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Err = i18n.Errorf("cancelled: %w", "已取消：%w", ctx.Err())
	case ctx.Err() == context.DeadlineExceeded || isTimeout(err):
		e.Err = i18n.Errorf("the server accepted the TCP connection but did not complete the SSH handshake within %s", "伺服器已接受 TCP 連線，但未於 %s 內完成 SSH 交握", timeout)
		e.Retryable = true
	case isNegotiation(err) && c.policy.knowsGuest():
		// Before calling this an algorithm problem, look at the key the
		// server has: drbook asks only for keys of the types it trusts,
		// so a server with a key of another type fails here, and a
		// changed key matters more than old algorithms.
		if refusal := c.probeHostKey(ctx, timeout); refusal != nil {
			return refusal
		}
		fallthrough
	case strings.Contains(msg, "no common algorithm"):
		if c.cfg.Guest.Legacy {
			e.Hint = "even RHEL 5's legacy algorithms are not accepted by this server"
		} else {
			e.Hint = fmt.Sprintf("the server offers only old algorithms, as RHEL 5's OpenSSH 4.3 does; if that is expected, set legacy: true for guests.%s in the site file", c.cfg.Name)
			e.HintZhTW = fmt.Sprintf("伺服器僅提供舊式演算法，如 RHEL 5 之 OpenSSH 4.3；若屬預期，請於場域檔為 guests.%s 設定 legacy: true", c.cfg.Name)
		}
	case strings.Contains(msg, "unable to authenticate"):
		e.Op = "login as " + c.user()
		e.Hint = "tried " + strings.Join(c.methodNames(), ", ") + "; check the guest's user, key_file, password and that the key is in the guest's authorized_keys"
		e.HintZhTW = "已嘗試 " + strings.Join(c.methodNames(), ", ") + "；請檢查客體之 user、key_file、password，以及金鑰是否已列於客體之 authorized_keys"
	case errors.Is(err, io.EOF) || strings.Contains(msg, "connection reset"):
		e.Retryable = true
		e.Hint = "the server closed the connection during the handshake: sshd may be restarting, or refusing our algorithms"
	}
	return e
}

func (c *Client) user() string {
	if c.cfg.Guest.User != "" {
		return c.cfg.Guest.User
	}
	return DefaultUser
}

func (c *Client) methodNames() []string {
	g := c.cfg.Guest
	var names []string
	if g.KeyFile != "" {
		names = append(names, "key "+g.KeyFile)
	}
	if g.Agent {
		names = append(names, "ssh-agent")
	}
	if !g.Password.IsZero() {
		names = append(names, "password", "keyboard-interactive")
	}
	if len(names) == 0 {
		names = append(names, "no method (the site gives no key_file, agent or password)")
	}
	return names
}

// Algorithm lists: modern is x/crypto's secure set without SHA-1 RSA host
// keys; legacy adds exactly what RHEL 5's OpenSSH 4.3 needs. Host keys are
// asked for in OpenSSH's order (ed25519, ECDSA, then RSA), not x/crypto's
// (RSA first): a guest that has several host keys then signs the key
// exchange with ed25519, about 5 ms less of sshd's CPU a connection than
// with a 3072-bit RSA key, and drbook pins the key ssh(1) would have.
var (
	modernAlgorithms = func() ssh.Algorithms {
		a := ssh.SupportedAlgorithms()
		a.HostKeys = slices.DeleteFunc(a.HostKeys, func(s string) bool { return s == ssh.KeyAlgoRSA || s == ssh.CertAlgoRSAv01 })
		a.HostKeys = opensshHostKeyOrder(a.HostKeys)
		return a
	}()
	legacyAlgorithms = func() ssh.Algorithms {
		a := ssh.SupportedAlgorithms()
		a.KeyExchanges = append(a.KeyExchanges, ssh.InsecureKeyExchangeDH14SHA1, ssh.InsecureKeyExchangeDH1SHA1, ssh.InsecureKeyExchangeDHGEXSHA1)
		a.Ciphers = append(a.Ciphers, ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC)
		a.MACs = append(a.MACs, ssh.HMACSHA1, "hmac-sha1-96")
		a.HostKeys = opensshHostKeyOrder(append(a.HostKeys, ssh.KeyAlgoRSA))
		return a
	}()
)

// opensshHostKeyOrder sorts host key algorithms as OpenSSH's client asks for
// them: certificates before plain keys, and within each ed25519, then
// ECDSA, then RSA (SHA-512 before SHA-256 before SHA-1), then the rest in
// x/crypto's order. The sort is stable, so nothing is added or lost.
func opensshHostKeyOrder(algos []string) []string {
	rank := func(a string) int {
		r := 0
		if strings.Contains(a, "-cert-v01@openssh.com") {
			r = 0
		} else {
			r = 10
		}
		switch {
		case strings.Contains(a, "ed25519"):
		case strings.HasPrefix(a, "ecdsa-"):
			r++
		case strings.HasPrefix(a, "rsa-sha2-512"):
			r += 2
		case strings.HasPrefix(a, "rsa-sha2-256"):
			r += 3
		case strings.HasPrefix(a, "ssh-rsa"):
			r += 4
		default:
			r += 5
		}
		return r
	}
	out := slices.Clone(algos)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// LegacyAlgorithms returns the extra algorithms a guest with legacy: true
// may negotiate, for documentation and tests.
func LegacyAlgorithms() ssh.Algorithms { return legacyAlgorithms }

func (c *Client) clientConfig(timeout time.Duration) (*ssh.ClientConfig, error) {
	algos := modernAlgorithms
	if c.cfg.Guest.Legacy {
		algos = legacyAlgorithms
	}
	auth, err := c.authMethods()
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:            c.user(),
		Auth:            auth,
		HostKeyCallback: c.policy.check,
		Timeout:         timeout,
		ClientVersion:   "SSH-2.0-drbook",
		Config:          ssh.Config{KeyExchanges: algos.KeyExchanges, Ciphers: algos.Ciphers, MACs: algos.MACs},
	}
	cfg.HostKeyAlgorithms = algos.HostKeys
	if types := c.policy.knownTypes(); len(types) > 0 {
		cfg.HostKeyAlgorithms = preferTypes(algos.HostKeys, types)
	}
	return cfg, nil
}

// preferTypes keeps the host key algorithms that produce a key of one of
// the trusted types.
func preferTypes(algos, types []string) []string {
	var out []string
	for _, a := range algos {
		keyType := a
		if a == ssh.KeyAlgoRSASHA256 || a == ssh.KeyAlgoRSASHA512 {
			keyType = ssh.KeyAlgoRSA
		}
		if slices.Contains(types, keyType) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return algos
	}
	return out
}

func (c *Client) secret(ref site.SecretRef, label string) (string, error) {
	if c.cfg.Secret == nil {
		return ref.Resolve(label, nil)
	}
	return c.cfg.Secret(ref, label)
}

func (c *Client) authMethods() ([]ssh.AuthMethod, error) {
	g := c.cfg.Guest
	var methods []ssh.AuthMethod
	var signers []ssh.Signer
	if g.KeyFile != "" {
		s, err := c.keyFileSigner()
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	}
	if g.Agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, &Error{Target: c.Target(), Op: "ssh-agent", Err: i18n.New("the site allows ssh-agent for this guest, but SSH_AUTH_SOCK is not set", "場域允許此客體使用 ssh-agent，但未設定 SSH_AUTH_SOCK"), Hint: "start an agent and ssh-add the key, or give a key_file"}
		}
		conn, err := net.Dial("unix", sock)
		if err != nil {
			return nil, &Error{Target: c.Target(), Op: "ssh-agent", Err: err, Hint: "SSH_AUTH_SOCK points at an agent that does not answer"}
		}
		c.mu.Lock()
		if c.agent != nil {
			c.agent.Close()
		}
		c.agent = conn
		c.mu.Unlock()
		agentSigners, err := agent.NewClient(conn).Signers()
		if err != nil {
			return nil, &Error{Target: c.Target(), Op: "ssh-agent", Err: err}
		}
		signers = append(signers, agentSigners...)
	}
	if len(signers) > 0 {
		var offered []ssh.Signer
		for _, s := range signers {
			offered = append(offered, c.restrictSigner(s)...)
		}
		methods = append(methods, ssh.PublicKeys(offered...))
	}
	if !g.Password.IsZero() {
		pw, err := c.secret(g.Password, "password for "+c.user()+"@"+c.cfg.Name)
		if err != nil {
			return nil, err
		}
		methods = append(methods, ssh.Password(pw), ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range questions {
				if !echos[i] {
					answers[i] = pw
				}
			}
			return answers, nil
		}))
	}
	if len(methods) == 0 {
		return nil, &Error{Target: c.Target(), Op: "login", Err: i18n.New("the site gives no way to log in", "場域未提供任何登入方式"), Hint: fmt.Sprintf("set key_file, agent: true or password for guests.%s", c.cfg.Name),
			HintZhTW: fmt.Sprintf("請為 guests.%s 設定 key_file、agent: true 或 password", c.cfg.Name)}
	}
	return methods, nil
}

func (c *Client) keyFileSigner() (ssh.Signer, error) {
	g := c.cfg.Guest
	pem, err := os.ReadFile(g.KeyFile)
	if err != nil {
		return nil, &Error{Target: c.Target(), Op: "read key", Err: err, Hint: "check key_file in the site file"}
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if g.KeyPassphrase.IsZero() {
			return nil, &Error{Target: c.Target(), Op: "read key", Err: i18n.Errorf("%s is encrypted", "%s 已加密", g.KeyFile), Hint: fmt.Sprintf("set key_passphrase for guests.%s to a secret reference", c.cfg.Name),
				HintZhTW: fmt.Sprintf("請將 guests.%s 之 key_passphrase 設為機敏資料參照", c.cfg.Name)}
		}
		pass, perr := c.secret(g.KeyPassphrase, "passphrase of "+g.KeyFile)
		if perr != nil {
			return nil, perr
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
		if err != nil {
			// The error of a wrong passphrase never contains it.
			return nil, &Error{Target: c.Target(), Op: "unlock key", Err: fmt.Errorf("%s: %v", g.KeyFile, err), Hint: "the passphrase reference resolves to a wrong passphrase"}
		}
	}
	if err != nil {
		return nil, &Error{Target: c.Target(), Op: "read key", Err: fmt.Errorf("%s: %v", g.KeyFile, err)}
	}
	return s, nil
}

// restrictSigner keeps RSA keys from signing with SHA-1 (ssh-rsa) unless
// the guest opted into legacy algorithms. For a legacy guest the key is
// offered twice: with SHA-2 first, then with ssh-rsa only, because a
// server limited to ssh-rsa may still advertise SHA-2 in server-sig-algs
// and would otherwise reject the first signature.
func (c *Client) restrictSigner(s ssh.Signer) []ssh.Signer {
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok || s.PublicKey().Type() != ssh.KeyAlgoRSA {
		return []ssh.Signer{s}
	}
	modern, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256})
	if err != nil {
		return []ssh.Signer{s}
	}
	if !c.cfg.Guest.Legacy {
		return []ssh.Signer{modern}
	}
	sha1, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSA})
	if err != nil {
		return []ssh.Signer{modern}
	}
	return []ssh.Signer{modern, sha1}
}

// acquire takes one of the guest's session slots.
func (c *Client) acquire(ctx context.Context, op string) (func(), error) {
	select {
	case c.sessions <- struct{}{}:
		return func() { <-c.sessions }, nil
	case <-ctx.Done():
		return nil, c.cancelled(op, ctx)
	}
}

// newSession opens a session, redialing once when the connection turns
// out to be dead (the server may have dropped it since it was last used).
func (c *Client) newSession(ctx context.Context) (*ssh.Session, error) {
	for attempt := 0; ; attempt++ {
		conn, err := c.live(ctx, 0)
		if err != nil {
			return nil, err
		}
		sess, err := conn.NewSession()
		if err == nil {
			return sess, nil
		}
		c.discard(conn)
		if attempt == 1 {
			return nil, &Error{Target: c.Target(), Op: "open session", Err: err, Retryable: true, Hint: "the connection was lost or the server refused another session"}
		}
	}
}

// discard closes conn and forgets it if it is still the current one.
func (c *Client) discard(conn *ssh.Client) {
	conn.Close()
	c.mu.Lock()
	if c.conn == conn {
		c.conn = nil
	}
	c.mu.Unlock()
}

// WrapBecome returns the command as the guest runs it: through sudo when
// the guest has become: sudo.
func (c *Client) WrapBecome(cmd string) string {
	if c.cfg.Guest.Become == "sudo" {
		return "sudo -n -- sh -c " + Quote(cmd)
	}
	return cmd
}

// Run runs cmd on the guest (through sudo when the guest says so) and
// returns its exit code. A non-zero exit is not an error; a lost
// connection or cancellation is, and then the command is stopped on the
// guest through a second session (see wrapperScript) and the error, a
// *StopError, says whether it was confirmed gone. A command the guest's
// wrapper refuses to start (an earlier copy of the same step still runs)
// is a *RefusedError.
func (c *Client) Run(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	pidDir, same := pidDirs(ctx)
	return c.run(ctx, cmd, pidDir, same, stdin, stdout, stderr)
}

func (c *Client) run(ctx context.Context, cmd, pidDir, same string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	release, err := c.acquire(ctx, "run")
	if err != nil {
		return -1, err
	}
	defer release()
	sess, err := c.newSession(ctx)
	if err != nil {
		return -1, err
	}
	defer sess.Close()
	filter := &refusalFilter{token: newToken(), w: stderr}
	sess.Stdout, sess.Stderr = stdout, filter
	feeder, feeds := stdin.(StdinFeeder)
	var stdinPipe io.WriteCloser
	if feeds {
		if stdinPipe, err = sess.StdinPipe(); err != nil {
			return -1, &Error{Target: c.Target(), Op: "start command", Err: err, Retryable: true}
		}
	} else {
		sess.Stdin = stdin
	}
	op := "run " + firstLine(cmd)
	if err := sess.Start(c.wrapped(cmd, pidDir, same, filter.token)); err != nil {
		if errors.Is(err, io.EOF) {
			// The connection ended while the command was being started:
			// it may have started.
			return -1, &StopError{Err: &Error{Target: c.Target(), Op: op, Err: i18n.Errorf("connection lost while starting the command: %v", "啟動指令時連線中斷：%v", err), Retryable: true}, Stop: c.stopRemote(ctx, cmd, pidDir), Lost: true}
		}
		return -1, &Error{Target: c.Target(), Op: "start command", Err: err, Retryable: true}
	}
	if feeds {
		go func() {
			feeder.FeedStdin(stdinPipe)
			stdinPipe.Close()
		}()
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	select {
	case err := <-waited:
		if err == nil {
			filter.flush()
			return 0, nil
		}
		filter.flush()
		var exit *ssh.ExitError
		if errors.As(err, &exit) && exit.ExitStatus() == 125 && filter.refusal() != "" {
			return -1, &RefusedError{Target: c.Target(), Why: filter.refusal()}
		}
		if errors.As(err, &exit) {
			if exit.Signal() != "" && exit.ExitStatus() == 0 {
				return 128, nil
			}
			return exit.ExitStatus(), nil
		}
		lost := &Error{Target: c.Target(), Op: op, Err: i18n.Errorf("connection lost before the command finished: %v", "指令結束前連線中斷：%v", err), Retryable: true,
			Hint: "the guest or its sshd went away; whether the command took effect is unknown"}
		return -1, &StopError{Err: lost, Stop: c.stopRemote(ctx, cmd, pidDir), Lost: true}
	case <-ctx.Done():
		stop := c.stopRemote(ctx, cmd, pidDir)
		sess.Close()
		return -1, &StopError{Err: c.cancelled(op, ctx).(*Error), Stop: stop}
	}
}

// StdinFeeder is a stdin for Run that writes the command's input itself,
// straight into the session's channel (the writer FeedStdin gets), rather
// than being read by x/crypto/ssh, which copies a Reader through a pipe of
// its own and a goroutine more. Run closes the channel's input when
// FeedStdin returns; a failed write (the command stopped reading) is not
// an error of the command.
type StdinFeeder interface {
	io.Reader
	FeedStdin(w io.Writer)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strconv.Quote(s)
}

// sftpServers are where distributions keep the SFTP server binary, used
// with become: sudo, where the subsystem would run as the login user.
const sftpServerScript = `for s in /usr/libexec/openssh/sftp-server /usr/lib/openssh/sftp-server /usr/libexec/sftp-server /usr/lib/ssh/sftp-server; do [ -x "$s" ] && exec "$s"; done; echo "drbook: no sftp-server binary found" >&2; exit 127`

// SFTP opens an SFTP session on the guest, as root through sudo when the
// guest has become: sudo. The session holds one of the guest's session
// slots until done is called, and is closed when ctx ends.
func (c *Client) SFTP(ctx context.Context) (client *sftp.Client, done func(), err error) {
	release, err := c.acquire(ctx, "sftp")
	if err != nil {
		return nil, nil, err
	}
	opts := []sftp.ClientOption{sftp.UseConcurrentReads(true), sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64)}
	var sess *ssh.Session
	hint := "the server must offer the sftp subsystem (Subsystem sftp in sshd_config)"
	if c.cfg.Guest.Become == "sudo" {
		client, sess, err = c.sudoSFTP(ctx, opts)
		hint = "with become: sudo, drbook runs the guest's sftp-server through sudo -n: the user needs passwordless sudo and the guest an sftp-server binary"
	} else {
		client, err = c.subsystemSFTP(ctx, opts)
	}
	if err != nil {
		release()
		return nil, nil, &Error{Target: c.Target(), Op: "start SFTP", Err: err, Retryable: true, Hint: hint}
	}
	stop := context.AfterFunc(ctx, func() { client.Close() })
	var once sync.Once
	return client, func() {
		once.Do(func() {
			stop()
			client.Close()
			if sess != nil {
				sess.Close()
			}
			release()
		})
	}, nil
}

// subsystemSFTP opens the connection's sftp subsystem, redialing once when
// the connection died since its last use.
func (c *Client) subsystemSFTP(ctx context.Context, opts []sftp.ClientOption) (*sftp.Client, error) {
	conn, err := c.live(ctx, 0)
	if err != nil {
		return nil, err
	}
	client, err := sftp.NewClient(conn, opts...)
	if err == nil {
		return client, nil
	}
	c.discard(conn)
	if conn, err = c.live(ctx, 0); err != nil {
		return nil, err
	}
	return sftp.NewClient(conn, opts...)
}

// sudoSFTP runs the guest's sftp-server as root through sudo and speaks
// SFTP over the session's stdin and stdout, since the subsystem would run
// as the login user. The caller closes the session after the client.
func (c *Client) sudoSFTP(ctx context.Context, opts []sftp.ClientOption) (*sftp.Client, *ssh.Session, error) {
	sess, err := c.newSession(ctx)
	if err != nil {
		return nil, nil, err
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, nil, err
	}
	if err := sess.Start(c.WrapBecome(sftpServerScript)); err != nil {
		sess.Close()
		return nil, nil, err
	}
	// The handshake waits for sftp-server's first packet with no deadline
	// of its own: a sudo that never starts it must not outlast ctx.
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	client, err := sftp.NewClientPipe(r, w, opts...)
	stop()
	if err != nil {
		sess.Close()
		if ctx.Err() != nil {
			err = i18n.Errorf("cancelled while waiting for sftp-server to answer through sudo: %w", "等待透過 sudo 執行之 sftp-server 回應時已取消：%w", ctx.Err())
		}
		return nil, nil, err
	}
	return client, sess, nil
}
