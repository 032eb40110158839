package guest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// sshVersion is RHEL 5.8's sshd banner.
const sshVersion = "SSH-2.0-OpenSSH_4.3"

// Legacy algorithms: what RHEL 5's OpenSSH 4.3 offered and x/crypto/ssh
// can still serve. OpenSSH 4.3 also offered aes256-cbc, aes192-cbc,
// blowfish-cbc, cast128-cbc, arcfour, hmac-md5, hmac-ripemd160 and
// hmac-*-96 and the group-exchange key exchanges; x/crypto/ssh v0.59
// implements none of those CBC/MAC variants (only aes128-cbc and
// 3des-cbc, hmac-sha1 and hmac-sha1-96), so a client insisting on
// aes256-cbc cannot connect here although it could to the real machine.
var (
	legacyKeyExchanges = []string{ssh.InsecureKeyExchangeDH14SHA1, ssh.InsecureKeyExchangeDH1SHA1}
	legacyCiphers      = []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}
	legacyMACs         = []string{ssh.HMACSHA1}
)

// serverConfig builds the SSH server configuration and the host key
// signer it presents (restricted to ssh-rsa in legacy mode).
func (g *Guest) serverConfig(signer ssh.Signer) (ssh.Signer, *ssh.ServerConfig, error) {
	conf := &ssh.ServerConfig{
		ServerVersion: sshVersion,
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if _, ok := g.account(meta.User()); !ok {
				return nil, fmt.Errorf("no such user %q", meta.User())
			}
			for _, k := range g.cfg.AuthorizedKeys {
				if bytes.Equal(k.Marshal(), key.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, fmt.Errorf("key not authorized for %q", meta.User())
		},
	}
	if g.cfg.Password != "" {
		check := func(user, pw string) error {
			if _, ok := g.account(user); !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(g.cfg.Password)) != 1 {
				return fmt.Errorf("password rejected for %q", user)
			}
			return nil
		}
		conf.PasswordCallback = func(meta ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			return nil, check(meta.User(), string(pw))
		}
		conf.KeyboardInteractiveCallback = func(meta ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask("", "", []string{"Password: "}, []bool{false})
			if err != nil {
				return nil, err
			}
			if len(answers) != 1 {
				return nil, fmt.Errorf("expected one answer")
			}
			return nil, check(meta.User(), answers[0])
		}
	}
	if g.cfg.Legacy {
		conf.KeyExchanges = legacyKeyExchanges
		conf.Ciphers = legacyCiphers
		conf.MACs = legacyMACs
		conf.PublicKeyAuthAlgorithms = []string{ssh.KeyAlgoRSA, ssh.KeyAlgoDSA}
		algSigner, ok := signer.(ssh.AlgorithmSigner)
		if !ok || signer.PublicKey().Type() != ssh.KeyAlgoRSA {
			return nil, nil, fmt.Errorf("legacy mode needs an RSA host key (OpenSSH 4.3 offers only ssh-rsa), got %s", signer.PublicKey().Type())
		}
		var err error
		if signer, err = ssh.NewSignerWithAlgorithms(algSigner, []string{ssh.KeyAlgoRSA}); err != nil {
			return nil, nil, err
		}
	}
	conf.AddHostKey(signer)
	return signer, conf, nil
}

// operatorID is the uid and gid of Config.Operator, clear of the seeded
// accounts (jboss 500, oracle 501).
const operatorID = 600

// account finds a login by name.
func (g *Guest) account(name string) (account, bool) {
	if name == "root" {
		return rootAccount, true
	}
	if g.cfg.Operator != "" && name == g.cfg.Operator {
		return account{name: name, uid: operatorID, gid: operatorID, home: "/home/" + name}, true
	}
	return account{}, false
}

func (g *Guest) acceptLoop(ln net.Listener) {
	defer g.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.serveConn(nc)
		}()
	}
}

func (g *Guest) serveConn(nc net.Conn) {
	conn, chans, reqs, err := ssh.NewServerConn(nc, g.sshConf)
	if err != nil {
		nc.Close()
		return
	}
	g.mu.Lock()
	if !g.powered || g.listener == nil {
		g.mu.Unlock()
		conn.Close()
		return
	}
	g.conns[conn] = struct{}{}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.conns, conn)
		g.mu.Unlock()
		conn.Close()
	}()
	user, _ := g.account(conn.User())
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only session channels are served")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.serveSession(user, ch, chReqs)
		}()
	}
	wg.Wait()
}

// session is one SSH session channel's state before it starts a program.
type session struct {
	g    *Guest
	user account
	ch   ssh.Channel
	env  []string
	pty  bool
	term string
}

func (g *Guest) serveSession(user account, ch ssh.Channel, reqs <-chan *ssh.Request) {
	s := &session{g: g, user: user, ch: ch}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	done := make(chan struct{})
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				// The client closed the channel. Like sshd, the lab
				// leaves the command running (see the package doc).
				if started {
					<-done
				}
				ch.Close()
				return
			}
			s.handleRequest(ctx, cancel, req, &started, done)
		case <-done:
			// Keep answering requests until the client closes, but stop
			// once the program has exited and the channel is closed.
			for req := range reqs {
				if req.WantReply {
					req.Reply(false, nil)
				}
			}
			return
		}
	}
}

func (s *session) handleRequest(ctx context.Context, cancel context.CancelFunc, req *ssh.Request, started *bool, done chan struct{}) {
	reply := func(ok bool) {
		if req.WantReply {
			req.Reply(ok, nil)
		}
	}
	switch req.Type {
	case "env":
		var kv struct{ Name, Value string }
		if ssh.Unmarshal(req.Payload, &kv) != nil {
			reply(false)
			return
		}
		s.env = append(s.env, kv.Name+"="+kv.Value)
		reply(true)
	case "pty-req":
		var p struct {
			Term          string
			Cols, Rows    uint32
			Width, Height uint32
			Modes         string
		}
		if ssh.Unmarshal(req.Payload, &p) != nil {
			reply(false)
			return
		}
		s.pty, s.term = true, p.Term
		reply(true)
	case "window-change":
		reply(true)
	case "signal":
		// Refused and ignored, as by OpenSSH without privilege
		// separation and RHEL 5's OpenSSH 4.3 (which does not know it).
		reply(false)
	case "exec", "shell", "subsystem":
		if *started {
			reply(false)
			return
		}
		var arg struct{ Value string }
		if req.Type != "shell" && ssh.Unmarshal(req.Payload, &arg) != nil {
			reply(false)
			return
		}
		if req.Type == "subsystem" && arg.Value != "sftp" {
			reply(false)
			return
		}
		*started = true
		reply(true)
		go func() {
			defer close(done)
			var code, sig int
			switch req.Type {
			case "exec", "shell":
				// The session's shell is a process of its own, the
				// leader of a new session and process group, as sshd
				// makes it with setsid(2).
				err := s.g.runProcess(ctx, s.user.uid, "bash", nil, nil, func(ctx context.Context, _, _ io.Writer) error {
					if req.Type == "exec" {
						code = s.exec(ctx, arg.Value)
					} else {
						code = s.shell(ctx)
					}
					sig = killedBy(ctx)
					return nil
				})
				if err != nil {
					code = statusOf(err)
				}
			case "subsystem":
				code = s.sftp()
			}
			s.ch.CloseWrite()
			if sig != 0 {
				// sshd reports a shell ended by a signal with
				// exit-signal, the name without "SIG".
				s.ch.SendRequest("exit-signal", false, ssh.Marshal(struct {
					Signal     string
					CoreDumped bool
					Error      string
					Lang       string
				}{Signal: signalName(sig)}))
			} else {
				status := make([]byte, 4)
				binary.BigEndian.PutUint32(status, uint32(code))
				s.ch.SendRequest("exit-status", false, status)
			}
			s.ch.Close()
		}()
	default:
		reply(false)
	}
}

// proc builds the login shell's process for this session.
func (s *session) proc(stdin io.Reader, stdout, stderr io.Writer) *proc {
	env := []string{
		"HOME=" + s.user.home, "USER=" + s.user.name, "LOGNAME=" + s.user.name,
		"SHELL=/bin/bash", "HOSTNAME=" + s.g.Hostname(), "LANG=en_US.UTF-8",
		"PATH=/usr/kerberos/sbin:/usr/kerberos/bin:/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin:/root/bin",
	}
	if s.user.uid != 0 {
		env[len(env)-1] = "PATH=/usr/kerberos/bin:/usr/local/bin:/bin:/usr/bin:/home/" + s.user.name + "/bin"
	}
	if s.term != "" {
		env = append(env, "TERM="+s.term)
	}
	env = append(env, s.env...)
	p := &proc{g: s.g, user: s.user, dir: s.user.home, stdin: stdin, stdout: stdout, stderr: stderr, tty: s.pty, umask: defaultUmask}
	if fi, err := s.g.fs.Stat(s.user.home); err != nil || !fi.IsDir() {
		p.dir = "/"
	}
	p.env = listEnv(env)
	return p
}

// exec runs one command line as "bash -c" would.
func (s *session) exec(ctx context.Context, cmd string) int {
	var stderr io.Writer = s.ch.Stderr()
	if s.pty {
		stderr = s.ch
	}
	p := s.proc(s.ch, s.ch, stderr)
	return statusOf(p.runScript(ctx, cmd, "bash", []string{}))
}

// shell runs an interactive login shell: with a pty it prompts and edits
// lines like bash, without one it reads commands from stdin.
func (s *session) shell(ctx context.Context) int {
	if !s.pty {
		p := s.proc(s.ch, s.ch, s.ch.Stderr())
		return statusOf(shellCommand(ctx, p, []string{"bash"}))
	}
	t := term.NewTerminal(s.ch, "")
	out := crlfWriter{s.ch}
	p := s.proc(strings.NewReader(""), out, out)
	r, err := p.newRunner(ctx, []string{})
	if err != nil {
		return 1
	}
	parser := syntax.NewParser(syntax.Variant(syntax.LangBash))
	var pending strings.Builder
	for {
		t.SetPrompt(s.prompt(r.Dir, pending.Len() > 0))
		line, err := t.ReadLine()
		if err != nil {
			return 0
		}
		pending.WriteString(line + "\n")
		file, err := parser.Parse(strings.NewReader(pending.String()), "bash")
		if err != nil {
			if syntax.IsIncomplete(err) {
				continue
			}
			fmt.Fprintf(out, "bash: %v\n", err)
			pending.Reset()
			continue
		}
		pending.Reset()
		guestParams(file)
		for _, stmt := range file.Stmts {
			runErr := r.Run(ctx, stmt)
			if r.Exited() {
				return statusOf(runnerExit(r, runErr, out))
			}
		}
		if ctx.Err() != nil {
			return 130
		}
	}
}

func (s *session) prompt(dir string, continuation bool) string {
	if continuation {
		return "> "
	}
	base := dir
	if dir == s.user.home {
		base = "~"
	} else if i := strings.LastIndex(dir, "/"); i >= 0 && dir != "/" {
		base = dir[i+1:]
	}
	host, _, _ := strings.Cut(s.g.Hostname(), ".")
	sign := "$"
	if s.user.uid == 0 {
		sign = "#"
	}
	return fmt.Sprintf("[%s@%s %s]%s ", s.user.name, host, base, sign)
}

// crlfWriter turns "\n" into "\r\n" as a tty's onlcr does.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(b []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// sftp serves the SFTP subsystem (protocol version 3, as RHEL 5's
// sftp-server) over the guest's files, starting in the user's home.
func (s *session) sftp() int {
	h := sftpHandlers(s.g, s.user, defaultUmask)
	srv := sftp.NewRequestServer(s.ch, h, sftp.WithStartDirectory(s.user.home))
	err := srv.Serve()
	srv.Close()
	if err != nil && err != io.EOF {
		return 1
	}
	return 0
}

// statusOf converts a command's error to an exit status.
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	if code, ok := exitStatusOf(err); ok {
		return code
	}
	return 1
}

// exitStatusOf extracts an interpreter exit status.
func exitStatusOf(err error) (int, bool) {
	code, ok := interp.IsExitStatus(err)
	return int(code), ok
}
