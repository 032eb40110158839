// Package sshtest is an in-process SSH server for drbook's unit tests. It
// speaks the real protocol (golang.org/x/crypto/ssh), runs each command
// with the real /bin/sh in a working directory, serves SFTP with
// github.com/pkg/sftp, and can be limited to RHEL 5's algorithms, so the
// transport and the ssh step kinds are tested end to end without sshd.
package sshtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Options configure a server.
type Options struct {
	// Addr is where to listen; "127.0.0.1:0" when empty.
	Addr string
	// HostKey is the server's key; a fresh Ed25519 key when nil (an RSA key
	// when Legacy).
	HostKey ssh.Signer
	// ExtraHostKeys are more host keys of other types, as a Debian sshd
	// has (RSA, ECDSA and ed25519): the client chooses among them.
	ExtraHostKeys []ssh.Signer
	// ClientKeys may log in with public-key authentication.
	ClientKeys []ssh.PublicKey
	// Password, when set, is accepted for password logins.
	Password string
	// KeyboardInteractive asks for Password with a keyboard-interactive
	// prompt instead of accepting password logins.
	KeyboardInteractive bool
	// Legacy limits the server to RHEL 5 OpenSSH 4.3's algorithms.
	Legacy bool
	// Dir is the commands' working directory; a temporary one when empty.
	Dir string
	// PathPrefix is put in front of PATH, for fake sudo or systemctl.
	PathPrefix string
	// Path, when set, replaces PATH entirely (after PathPrefix), for a
	// guest without some program (setsid).
	Path string
	// NoProcessGroup runs commands in the server's own process group,
	// where sshd makes each session's shell the leader of a new one: a
	// server (or a sudo that forks) after which the wrapper needs setsid.
	NoProcessGroup bool
}

// Server is a running test server.
type Server struct {
	Addr    string
	Host    string
	Port    int
	Dir     string
	HostKey ssh.Signer

	opts  Options
	ln    net.Listener
	conns atomic.Int64
	execs atomic.Int64
	sftp  atomic.Int64 // bytes of SFTP packets, both ways
	mu    sync.Mutex
	live  map[net.Conn]bool
	pgids []int
	wg    sync.WaitGroup
}

// NewEd25519 returns a fresh Ed25519 signer.
func NewEd25519(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NewRSA returns a fresh 2048-bit RSA signer.
func NewRSA(t testing.TB) ssh.Signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Start starts a server that is closed when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	if o.HostKey == nil {
		if o.Legacy {
			o.HostKey = NewRSA(t)
		} else {
			o.HostKey = NewEd25519(t)
		}
	}
	cfg := &ssh.ServerConfig{ServerVersion: "SSH-2.0-OpenSSH_4.3-drbook-test"}
	hostKey := o.HostKey
	if o.Legacy {
		cfg.KeyExchanges = []string{ssh.InsecureKeyExchangeDH14SHA1, ssh.InsecureKeyExchangeDH1SHA1}
		cfg.Ciphers = []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}
		cfg.MACs = []string{ssh.HMACSHA1}
		as, ok := hostKey.(ssh.AlgorithmSigner)
		if !ok {
			t.Fatal("sshtest: a legacy server needs an RSA host key")
		}
		var err error
		if hostKey, err = ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSA}); err != nil {
			t.Fatal(err)
		}
		cfg.PublicKeyAuthAlgorithms = []string{ssh.KeyAlgoRSA}
	}
	cfg.AddHostKey(hostKey)
	for _, k := range o.ExtraHostKeys {
		cfg.AddHostKey(k)
	}
	if len(o.ClientKeys) > 0 {
		cfg.PublicKeyCallback = func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range o.ClientKeys {
				if string(k.Marshal()) == string(key.Marshal()) {
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		}
	}
	if o.Password != "" && !o.KeyboardInteractive {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == o.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if o.Password != "" && o.KeyboardInteractive {
		cfg.KeyboardInteractiveCallback = func(_ ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			ans, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(ans) == 1 && ans[0] == o.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		t.Fatalf("sshtest: listen %s: %v", o.Addr, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	s := &Server{Addr: ln.Addr().String(), Host: host, Port: p, Dir: o.Dir, HostKey: o.HostKey, opts: o, ln: ln, live: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve(cfg)
	t.Cleanup(s.Close)
	return s
}

// Conns is how many connections the server has accepted.
func (s *Server) Conns() int { return int(s.conns.Load()) }

// Execs is how many commands the server has run.
func (s *Server) Execs() int { return int(s.execs.Load()) }

// SFTPBytes is how many bytes the server's SFTP sessions have carried,
// requests and replies together.
func (s *Server) SFTPBytes() int64 { return s.sftp.Load() }

// Close stops listening and drops every connection, as a dying server
// would, then kills what the commands left running (which a dying sshd
// would not), so that no test leaves processes behind.
func (s *Server) Close() {
	s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pg := range s.pgids {
		syscall.Kill(-pg, syscall.SIGKILL)
	}
	// Commands that left the group (setsid) are found by the working
	// directory every command starts in; the scan is repeated until it
	// finds nothing, since a shell may fork while it runs.
	for killed, pass := true, 0; killed && pass < 100; pass++ {
		killed = false
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && (cwd == s.Dir || strings.HasPrefix(cwd, s.Dir+"/")) && !zombie(e.Name()) {
				syscall.Kill(pid, syscall.SIGKILL)
				killed = true
			}
		}
	}
}

// zombie reports whether the process is dead and waiting to be reaped.
func zombie(pid string) bool {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+1:]))
	return len(f) == 0 || f[0] == "Z"
}

// DropConnections cuts every open connection but keeps listening, as when a
// network blip or an sshd restart kills sessions.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.live {
		c.Close()
	}
}

func (s *Server) serve(cfg *ssh.ServerConfig) {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns.Add(1)
		s.mu.Lock()
		s.live[nc] = true
		s.mu.Unlock()
		go func() {
			defer func() {
				s.mu.Lock()
				delete(s.live, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			sc, chans, reqs, err := ssh.NewServerConn(nc, cfg)
			if err != nil {
				return
			}
			defer sc.Close()
			go ssh.DiscardRequests(reqs)
			for nch := range chans {
				if nch.ChannelType() == "direct-tcpip" {
					go forward(nch)
					continue
				}
				if nch.ChannelType() != "session" {
					nch.Reject(ssh.UnknownChannelType, "only sessions")
					continue
				}
				ch, creqs, err := nch.Accept()
				if err != nil {
					continue
				}
				go s.session(ch, creqs)
			}
		}()
	}
}

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var cmd *exec.Cmd
	done := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "env", "pty-req":
			req.Reply(true, nil)
		case "exec":
			if cmd != nil {
				req.Reply(false, nil)
				continue
			}
			if len(req.Payload) < 4 {
				req.Reply(false, nil)
				continue
			}
			n := binary.BigEndian.Uint32(req.Payload)
			line := string(req.Payload[4 : 4+n])
			s.execs.Add(1)
			cmd = exec.Command("/bin/sh", "-c", line)
			cmd.Dir = s.Dir
			path := os.Getenv("PATH")
			if s.opts.Path != "" {
				path = s.opts.Path
			}
			cmd.Env = append(os.Environ(), "PATH="+s.opts.PathPrefix+":"+path, "HOME="+s.Dir)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !s.opts.NoProcessGroup}
			if err := cmd.Start(); err != nil {
				req.Reply(false, nil)
				return
			}
			s.mu.Lock()
			s.pgids = append(s.pgids, cmd.Process.Pid)
			s.mu.Unlock()
			req.Reply(true, nil)
			go func() {
				status := 0
				if err := cmd.Wait(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						status = ee.ExitCode()
						if status < 0 {
							status = 128 + 9
						}
					}
				}
				ch.CloseWrite()
				ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, uint32(status)))
				close(done)
				ch.Close()
			}()
		case "subsystem":
			if len(req.Payload) < 4 || string(req.Payload[4:]) != "sftp" {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			srv, err := sftp.NewServer(&countedChannel{Channel: ch, n: &s.sftp}, sftp.WithServerWorkingDirectory(s.Dir))
			if err != nil {
				return
			}
			go func() {
				if err := srv.Serve(); err == io.EOF {
					srv.Close()
				}
				ch.Close()
			}()
		default:
			// "signal" among others: refused and ignored, as OpenSSH
			// without privilege separation and RHEL 5's OpenSSH 4.3 do.
			req.Reply(false, nil)
		}
	}
	// The client closed the channel. Like sshd for a session without a
	// terminal, the server leaves the command running: ending it is the
	// client's business.
}

// countedChannel counts the bytes an SFTP session carries.
type countedChannel struct {
	ssh.Channel
	n *atomic.Int64
}

func (c *countedChannel) Read(p []byte) (int, error) {
	n, err := c.Channel.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countedChannel) Write(p []byte) (int, error) {
	n, err := c.Channel.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// forward serves a direct-tcpip channel (a client using this server as a
// jump host), only towards loopback addresses.
func forward(nch ssh.NewChannel) {
	var req struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &req); err != nil {
		nch.Reject(ssh.ConnectionFailed, "bad request")
		return
	}
	ip := net.ParseIP(req.Host)
	if ip == nil || !ip.IsLoopback() {
		nch.Reject(ssh.Prohibited, "sshtest forwards to loopback only")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(req.Host, strconv.Itoa(int(req.Port))))
	if err != nil {
		nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		target.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	go func() { io.Copy(ch, target); ch.CloseWrite() }()
	io.Copy(target, ch)
	target.Close()
	ch.Close()
}
