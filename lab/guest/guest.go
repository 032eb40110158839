// Package guest simulates the Linux guests of drbook's embedded lab: one
// RHEL 5 application server per Guest, reached over real SSH and SFTP on a
// loopback address, with its files in a sandbox directory on the real disk
// and an httpd whose configuration is read from those files.
//
// The lab is a site like any other to drbook: steps talk to a Guest over
// the same protocols as to a real machine (SSH exec and shell sessions,
// SFTP, HTTP), and the package imports nothing of drbook. Commands are Go
// implementations run by mvdan.cc/sh's interpreter; no program on the host
// is ever executed and no path reaches outside Config.Root.
//
// A Guest follows its VM's power state (SetPowered): off refuses SSH and
// stops httpd; on boots after Config.BootDelay and starts the services
// enabled with chkconfig, as the real machine would.
//
// # Guest processes
//
// A Guest keeps a simulated process table (Processes lists it), so that
// drbook's stop of a remote command (a wrapper that runs it under setsid,
// records its group in a pid file, and later sends kill -TERM -PGID, then
// KILL, and checks with kill -0) works in a drill as on a real machine:
//
//   - Each SSH exec or shell session is a process that leads a new session
//     and process group, as sshd makes it; each program a guest shell runs
//     is a child process in its parent's group. Subshells, pipeline
//     elements and & jobs are not processes of their own, but the programs
//     they run are; an & job ends with its shell (a program it already
//     started lives on), where a real one would outlive it, and $! is the
//     interpreter's job name ("g1"), not a pid. $$ and $PPID are the fake pids (in scripts the guest
//     parses; text run by eval or trap still sees the host's pid), never
//     the pid of the program hosting the lab. Boot-time daemons are not in
//     the table.
//   - setsid runs its program as the leader of a new session and group.
//     kill (the shell builtin and /bin/kill) takes -SIG, -s SIG, -n NUM,
//     -l and --; a negative pid is a group, 0 the caller's group; failures
//     read "kill: (1234) - No such process" or "Operation not permitted"
//     (a non-root user signalling another user's process), status 1.
//   - A terminating signal cancels the process's interpreter, which then
//     ends with status 128+signal; sshd's exit-signal reports a session
//     ended so. No trap is consulted (mvdan.cc/sh's trap knows only EXIT
//     and ERR); CHLD, CONT, URG and WINCH do nothing; STOP and its kin are
//     refused. A killed parent leaves its children running, as orphans.
//     A process leaves the table when its goroutine returns, so kill -0
//     reports only live ones. The table is per guest: one session's
//     processes are seen and signalled from another. A power-off kills
//     them all.
//   - Harsher than a kind simulation, as OpenSSH is: a "signal" channel
//     request is refused and ignored (OpenSSH without privilege separation,
//     and RHEL 5's 4.3, do the same), and a closed channel ends nothing,
//     pty or not. A real sshd's SIGHUP to a pty session's group cannot be
//     modelled faithfully, since a command here cannot ignore HUP; ending
//     nothing is the harsher of the two choices.
package guest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Config describes one simulated guest.
type Config struct {
	// Hostname is the kernel host name used when /etc/sysconfig/network
	// does not set HOSTNAME.
	Hostname string
	// Address is the guest's own IP, in 127.0.0.0/8. SSH and httpd listen
	// only there, and an httpd Listen on any other address fails as it
	// would on the real machine.
	Address string
	// SSHPort is the SSH port; 0 picks a free one (see Guest.SSHPort),
	// which is kept across power cycles.
	SSHPort int
	// Root is the directory on the real disk that is the guest's "/". It
	// must exist; Seed fills it.
	Root string
	// HostKey is the SSH host key; nil generates one (ed25519, or RSA when
	// Legacy, since OpenSSH 4.3 knows only ssh-rsa and ssh-dss).
	HostKey ssh.Signer
	// AuthorizedKeys may log in as any user.
	AuthorizedKeys []ssh.PublicKey
	// Password, when set, is accepted for every user by password and
	// keyboard-interactive authentication.
	Password string
	// Operator, when set, is a non-root login (uid and gid 600) whose commands
	// are permission-checked and who may use sudo without a password.
	Operator string
	// Legacy offers only what RHEL 5's OpenSSH 4.3 offered.
	Legacy bool
	// BootDelay is how long a power-on takes before SSH answers.
	BootDelay time.Duration
	// Clock is the guest's wall clock; nil is time.Now. The lab uses it to
	// scale time.
	Clock func() time.Time
	// Seed, when set, fills Root before the first boot (e.g. with
	// SeedAPServer).
	Seed func(root string) error
}

// Guest is a running simulated guest.
type Guest struct {
	cfg     Config
	fs      *sandbox
	signer  ssh.Signer
	sshConf *ssh.ServerConfig
	addr    netip.Addr

	mu       sync.Mutex
	powered  bool
	closed   bool
	port     int
	listener net.Listener
	conns    map[ssh.Conn]struct{}
	bootStop chan struct{}
	ready    chan struct{}
	hostname string
	services map[string]*daemon
	nextPID  int
	procs    *processTable
	wg       sync.WaitGroup
}

// Start seeds (if asked), boots and returns a powered-on guest whose SSH
// server is listening.
func Start(cfg Config) (*Guest, error) {
	addr, err := netip.ParseAddr(cfg.Address)
	if err != nil || !addr.Is4() || !netip.MustParsePrefix("127.0.0.0/8").Contains(addr) {
		return nil, fmt.Errorf("guest %s: address %q is not in 127.0.0.0/8; the lab serves on loopback only", cfg.Hostname, cfg.Address)
	}
	if cfg.Root == "" {
		return nil, fmt.Errorf("guest %s: Config.Root is empty; give it a directory to hold the guest's files", cfg.Hostname)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost.localdomain"
	}
	if cfg.Seed != nil {
		if err := cfg.Seed(cfg.Root); err != nil {
			return nil, fmt.Errorf("guest %s: seeding %s: %w", cfg.Hostname, cfg.Root, err)
		}
	}
	sb, err := openSandbox(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("guest %s: %w", cfg.Hostname, err)
	}
	signer := cfg.HostKey
	if signer == nil {
		if signer, err = generateHostKey(cfg.Legacy); err != nil {
			sb.close()
			return nil, fmt.Errorf("guest %s: generating host key: %w", cfg.Hostname, err)
		}
	}
	g := &Guest{cfg: cfg, fs: sb, addr: addr, port: cfg.SSHPort, conns: map[ssh.Conn]struct{}{},
		services: map[string]*daemon{}, nextPID: 2400, procs: newProcessTable()}
	if g.signer, g.sshConf, err = g.serverConfig(signer); err != nil {
		sb.close()
		return nil, fmt.Errorf("guest %s: %w", cfg.Hostname, err)
	}
	g.mu.Lock()
	g.powered = true
	err = g.bootLocked()
	g.mu.Unlock()
	if err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func generateHostKey(legacy bool) (ssh.Signer, error) {
	if legacy {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return ssh.NewSignerFromKey(k)
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(k)
}

// Address is the guest's IP.
func (g *Guest) Address() string { return g.cfg.Address }

// SSHPort is the port SSH listens on (chosen at Start when Config.SSHPort
// was 0).
func (g *Guest) SSHPort() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.port
}

// SSHAddr is "address:port" for an SSH client.
func (g *Guest) SSHAddr() string {
	return net.JoinHostPort(g.cfg.Address, strconv.Itoa(g.SSHPort()))
}

// HostKey is the guest's public host key, for pinning.
func (g *Guest) HostKey() ssh.PublicKey { return g.signer.PublicKey() }

// HostKeyLine is the host key as an authorized_keys line ("ssh-rsa AAAA…"),
// the form a site file pins.
func (g *Guest) HostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.signer.PublicKey())))
}

// HostKeyFingerprint is the host key's "SHA256:…" fingerprint.
func (g *Guest) HostKeyFingerprint() string { return ssh.FingerprintSHA256(g.signer.PublicKey()) }

// Root is the directory on the real disk holding the guest's "/".
func (g *Guest) Root() string { return g.cfg.Root }

// Powered reports whether the guest's VM is powered on (it may still be
// booting; see Ready).
func (g *Guest) Powered() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.powered
}

// Ready returns a channel closed once the current boot has finished and
// SSH answers; it is nil while the guest is powered off.
func (g *Guest) Ready() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ready
}

// Hostname is the kernel host name (set at boot from
// /etc/sysconfig/network, or by "hostname NAME").
func (g *Guest) Hostname() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hostname
}

// SetPowered follows the VM's power state. Off closes the SSH listener,
// drops open sessions and stops every service at once, like pulling the
// plug. On boots in the background: after Config.BootDelay SSH listens
// again with the same host key and port, and services enabled with
// chkconfig start.
func (g *Guest) SetPowered(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || on == g.powered {
		return
	}
	g.powered = on
	if !on {
		g.haltLocked()
		return
	}
	stop := make(chan struct{})
	ready := make(chan struct{})
	g.bootStop, g.ready = stop, ready
	delay := g.cfg.BootDelay
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		select {
		case <-time.After(delay):
		case <-stop:
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.bootStop != stop {
			return
		}
		g.bootStop = nil
		if err := g.bootLocked(); err != nil {
			// A boot that cannot bind its SSH port leaves the guest
			// powered but unreachable, as a real one with a broken sshd.
			return
		}
	}()
}

// bootLocked brings the guest up: host name, SSH listener, then the
// services enabled for runlevel 3.
func (g *Guest) bootLocked() error {
	g.hostname = g.configuredHostname()
	ln, err := net.Listen("tcp", net.JoinHostPort(g.cfg.Address, strconv.Itoa(g.port)))
	if err != nil {
		return fmt.Errorf("guest %s: sshd cannot listen on %s:%d: %w (pick another SSHPort or free that one)", g.cfg.Hostname, g.cfg.Address, g.port, err)
	}
	g.listener = ln
	g.port = ln.Addr().(*net.TCPAddr).Port
	g.procs.resume()
	g.wg.Add(1)
	go g.acceptLoop(ln)
	if g.ready == nil {
		g.ready = make(chan struct{})
	}
	for _, name := range g.enabledServices() {
		var out strings.Builder
		g.serviceActionLocked(context.Background(), name, "start", &out, &out, false)
	}
	close(g.ready)
	return nil
}

// haltLocked stops everything a power-off stops.
func (g *Guest) haltLocked() {
	if g.bootStop != nil {
		close(g.bootStop)
		g.bootStop = nil
	}
	g.ready = nil
	if g.listener != nil {
		g.listener.Close()
		g.listener = nil
	}
	for c := range g.conns {
		c.Close()
	}
	g.procs.halt()
	for _, d := range g.services {
		d.stop()
	}
	g.services = map[string]*daemon{}
}

// Close powers the guest off for good and releases its resources.
func (g *Guest) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	g.powered = false
	g.haltLocked()
	g.mu.Unlock()
	g.wg.Wait()
	// Orphans are no session's: wait for the killed ones to return before
	// the file tree goes, within a bound for a Go command that never
	// looks at its context.
	g.procs.waitEmpty(5 * time.Second)
	return g.fs.close()
}

// configuredHostname is what rc.sysinit would set: HOSTNAME from
// /etc/sysconfig/network, else the configured name.
func (g *Guest) configuredHostname() string {
	data, err := g.fs.ReadFile("/etc/sysconfig/network")
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if ok && k == "HOSTNAME" {
				if v = strings.Trim(v, `"'`); v != "" {
					return v
				}
			}
		}
	}
	return g.cfg.Hostname
}

func (g *Guest) now() time.Time { return g.cfg.Clock() }
