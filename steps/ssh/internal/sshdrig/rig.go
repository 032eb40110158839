// Package sshdrig runs real OpenSSH sshd processes on loopback for drbook's
// integration tests and benchmarks. Each guest is an sshd chrooted
// (ChrootDirectory) into its own tree holding busybox-static (sh, tar,
// gzip, sed, httpd, …) and bash-static as /bin/bash, so the ssh step kinds
// run real programs over the real protocol. The trees live under
// /var/lib/drbook-e2e, root-owned with 0755 parents, because sshd refuses
// a chroot under a world-writable directory such as /tmp.
//
// The rig needs root and Debian's openssh-server, busybox-static and
// bash-static. Available says whether they are present; tests skip when
// they are not, unless DRBOOK_E2E=1, where they must run.
package sshdrig

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/site"
)

// Programs the rig needs.
const (
	SSHD     = "/usr/sbin/sshd"
	Busybox  = "/bin/busybox"
	BashStat = "/bin/bash-static"
	baseDir  = "/var/lib/drbook-e2e"
)

// Available reports whether the rig can run here, and if not, why.
func Available() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "the OpenSSH rig needs root (sshd with ChrootDirectory)"
	}
	for _, p := range []string{SSHD, Busybox, BashStat} {
		if _, err := os.Stat(p); err != nil {
			return false, p + " is missing (apt-get install -y openssh-server busybox-static bash-static)"
		}
	}
	return true, ""
}

// Require skips the test when the rig cannot run, or fails it when
// DRBOOK_E2E=1 demands that it runs.
func Require(t testing.TB) {
	t.Helper()
	ok, why := Available()
	if ok {
		return
	}
	if os.Getenv("DRBOOK_E2E") == "1" {
		t.Fatalf("DRBOOK_E2E=1 but %s", why)
	}
	t.Skip(why)
}

// Rig is a set of sshd guests sharing one client key.
type Rig struct {
	t testing.TB
	// Dir is this rig's private directory under /var/lib/drbook-e2e.
	Dir string
	// KeyFile is the client's private key (RSA, so RHEL 5 guests accept it).
	KeyFile string
	// Net is the rig's 127.0.N prefix, random per rig so that parallel
	// runs do not collide.
	Net string

	clientKey ssh.PublicKey
	guests    map[string]*Guest
	mounts    []string
}

// Guest is one running sshd.
type Guest struct {
	Name    string
	Address string
	Port    int
	// Root is the chroot tree: what the guest sees as "/".
	Root    string
	HostKey ssh.PublicKey
	Legacy  bool

	rig    *Rig
	config string
	log    string
	cmd    *exec.Cmd
}

// New creates a rig removed when the test ends.
func New(t testing.TB) *Rig {
	t.Helper()
	Require(t)
	if err := os.MkdirAll(baseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(baseDir, 0o755)
	dir, err := os.MkdirTemp(baseDir, "rig-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "drbook e2e")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "client_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&key.PublicKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	var b [2]byte
	rand.Read(b[:])
	r := &Rig{t: t, Dir: dir, KeyFile: keyFile, clientKey: pub, guests: map[string]*Guest{}, Net: fmt.Sprintf("127.%d.%d", 100+int(b[0])%100, 1+int(b[1])%250)}
	t.Cleanup(r.Close)
	return r
}

// Close stops every sshd (and what it started) and removes the trees.
func (r *Rig) Close() {
	for _, g := range r.guests {
		g.Kill()
	}
	// Daemons started over SSH (httpd) were reparented to init; they are
	// found by their root directory, which is inside one of our trees.
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if root, err := os.Readlink("/proc/" + e.Name() + "/root"); err == nil && strings.HasPrefix(root, r.Dir+"/") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, m := range r.mounts {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	os.RemoveAll(r.Dir)
}

// MountProc mounts a proc file system at /proc in a tree, as every Linux
// guest has one; trees have none otherwise, which is harsher on drbook
// (the stop wrapper cannot tell that sshd made it a process group leader,
// and needs setsid). It fails where the test may not mount (a container
// without CAP_SYS_ADMIN).
func (r *Rig) MountProc(tree string) error {
	p := filepath.Join(tree, "proc")
	if err := os.MkdirAll(p, 0o555); err != nil {
		return err
	}
	if err := syscall.Mount("proc", p, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount -t proc proc %s: %w", p, err)
	}
	r.mounts = append(r.mounts, p)
	return nil
}

// applets are linked into each tree's /bin.
var applets = strings.Fields(`sh ash tar gzip gunzip zcat sed httpd mkdir rm rmdir mv cp cat wc sha256sum date ls head tail tr chmod chown
	sleep kill grep cut true false echo test [ [[ env id hostname mktemp find xargs printf touch ln readlink stat dd sort uniq awk basename dirname pwd
	setsid`)

// NewTree builds a chroot tree under the rig: busybox applets, bash, /dev
// nodes, /etc/passwd and a /tmp.
func (r *Rig) NewTree(name string) string {
	t := r.t
	root := filepath.Join(r.Dir, name)
	for _, d := range []string{"bin", "dev", "etc", "tmp", "root", "var/run", "usr/bin", "sbin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(root, 0o755)
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	copyFile(t, Busybox, filepath.Join(root, "bin/busybox"), 0o755)
	copyFile(t, BashStat, filepath.Join(root, "bin/bash"), 0o755)
	for _, a := range applets {
		os.Symlink("busybox", filepath.Join(root, "bin", a))
	}
	for _, n := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"urandom", 1, 9}} {
		p := filepath.Join(root, "dev", n.name)
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(n.major*256+n.minor)); err != nil {
			t.Fatalf("mknod %s: %v (the rig needs a file system that allows device nodes)", p, err)
		}
		os.Chmod(p, 0o666)
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644)
	return root
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

// Options shape one guest.
type Options struct {
	// Host is the last octet of its 127.x.y.N address.
	Host int
	// Root is an existing tree to chroot into (several sshds may share
	// one); a new tree when empty.
	Root string
	// Legacy offers only RHEL 5 OpenSSH 4.3's algorithms.
	Legacy bool
	// NoSetsid leaves setsid out of a new tree, as on a minimal busybox.
	NoSetsid bool
}

// Start starts a guest's sshd and waits until it accepts connections.
func (r *Rig) Start(name string, o Options) *Guest {
	t := r.t
	t.Helper()
	if o.Root == "" {
		o.Root = r.NewTree(name)
		if o.NoSetsid {
			os.Remove(filepath.Join(o.Root, "bin/setsid"))
		}
	}
	g := &Guest{Name: name, Address: fmt.Sprintf("%s.%d", r.Net, o.Host), Port: 2222, Root: o.Root, Legacy: o.Legacy, rig: r}
	hostKeyFile := filepath.Join(r.Dir, name+"_host_key")
	var hostPub ssh.PublicKey
	var block *pem.Block
	if o.Legacy {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		block, _ = ssh.MarshalPrivateKey(k, "")
		hostPub, _ = ssh.NewPublicKey(&k.PublicKey)
	} else {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		block, _ = ssh.MarshalPrivateKey(priv, "")
		hostPub, _ = ssh.NewPublicKey(pub)
	}
	if err := os.WriteFile(hostKeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	g.HostKey = hostPub
	cfg := []string{
		"ListenAddress " + net.JoinHostPort(g.Address, strconv.Itoa(g.Port)),
		"HostKey " + hostKeyFile,
		"PidFile " + filepath.Join(r.Dir, name+".pid"),
		"AuthorizedKeysFile " + filepath.Join(r.Dir, "authorized_keys"),
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"ChrootDirectory " + o.Root,
		"Subsystem sftp internal-sftp",
		"MaxSessions 20",
		"MaxStartups 200",
		"LogLevel VERBOSE",
	}
	if o.Legacy {
		cfg = append(cfg,
			"KexAlgorithms diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,diffie-hellman-group-exchange-sha1",
			"Ciphers aes128-cbc,3des-cbc,aes256-cbc",
			"MACs hmac-sha1,hmac-md5",
			"HostKeyAlgorithms ssh-rsa",
			"PubkeyAcceptedAlgorithms ssh-rsa")
	}
	g.config = filepath.Join(r.Dir, name+"_sshd_config")
	g.log = filepath.Join(r.Dir, name+"_sshd.log")
	if err := os.WriteFile(g.config, []byte(strings.Join(cfg, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.guests[name] = g
	g.Restart()
	return g
}

// Restart starts the guest's sshd (again) and waits for its port.
func (g *Guest) Restart() {
	t := g.rig.t
	t.Helper()
	g.cmd = exec.Command(SSHD, "-D", "-f", g.config, "-E", g.log)
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("starting sshd for %s: %v", g.Name, err)
	}
	addr := g.Endpoint()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(g.log)
			t.Fatalf("sshd for %s did not listen on %s: %v\n%s", g.Name, addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the guest's sshd and every session it serves, as a crash or a
// power cut would.
func (g *Guest) Kill() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	// sshd's per-connection children call setsid, so the process group
	// does not hold them: kill the whole tree found through /proc. The
	// listener is stopped first, so that no connection accepted while
	// the tree is killed (a client redialing at once) survives it.
	syscall.Kill(g.cmd.Process.Pid, syscall.SIGSTOP)
	for _, pid := range descendants(g.cmd.Process.Pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
	g.cmd.Wait()
	g.cmd = nil
}

// descendants lists every process below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the ")" closing the command name: state, ppid, …
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// Endpoint is host:port.
func (g *Guest) Endpoint() string { return net.JoinHostPort(g.Address, strconv.Itoa(g.Port)) }

// Log returns sshd's log, for failure messages.
func (g *Guest) Log() string {
	b, _ := os.ReadFile(g.log)
	return string(b)
}

// Site returns the guest as a site entry, its host key pinned.
func (g *Guest) Site() site.Guest {
	return site.Guest{Address: g.Address, Port: g.Port, User: "root", KeyFile: g.rig.KeyFile, Legacy: g.Legacy,
		HostKeys: []string{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.HostKey)))}}
}

// Path is a path inside the guest as seen from this machine.
func (g *Guest) Path(p string) string { return filepath.Join(g.Root, p) }

// WriteFile writes a file inside the guest's tree.
func (g *Guest) WriteFile(p, body string, mode os.FileMode) {
	t := g.rig.t
	full := g.Path(p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// KnownHostsLine is the guest's key as a known_hosts line.
func (g *Guest) KnownHostsLine() string {
	return fmt.Sprintf("[%s]:%d %s", g.Address, g.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(g.HostKey))))
}

// OpenSSHArgs are the ssh(1) options that reach the guest as drbook does
// (same key, pinned host key via knownHosts), for comparisons.
func (g *Guest) OpenSSHArgs(knownHosts string) []string {
	return []string{"-i", g.rig.KeyFile, "-p", strconv.Itoa(g.Port), "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=" + knownHosts,
		"-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "root@" + g.Address}
}

// CPU is the CPU time (user+system) this guest's sshd has used: the
// daemon's own and that of every session process it has reaped (the
// per-connection sshd, its privilege-separated child, the shells and
// commands run for the client). It first waits for the guest's sessions to
// end, so that the figure includes every finished connection. Benchmarks
// use it to compare what two clients cost the server.
func (g *Guest) CPU() time.Duration {
	t := g.rig.t
	t.Helper()
	if g.cmd == nil || g.cmd.Process == nil {
		t.Fatalf("%s: sshd is not running", g.Name)
	}
	pid := g.cmd.Process.Pid
	for i := 0; len(descendants(pid)) > 0; i++ {
		if i == 1000 {
			t.Fatalf("%s: sshd still has session processes %v after 10s", g.Name, descendants(pid))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// After the ")" closing the command name, fields 3…: utime is field 14.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	var ticks int64
	for _, s := range f[11:15] { // utime, stime, cutime, cstime
		n, _ := strconv.ParseInt(s, 10, 64)
		ticks += n
	}
	// Linux reports clock ticks of USER_HZ, 100 a second on every
	// architecture Go supports.
	return time.Duration(ticks) * (time.Second / 100)
}

// Strace is where strace(1) is expected; Execs needs it.
const Strace = "/usr/bin/strace"

// Execs runs do while strace(1) follows this guest's sshd and everything it
// forks, and returns the programs exec'd for the sessions do opened, one
// "PATH ARGV..." line each, in the order they started within a process.
// sshd's own re-exec for each connection (sshd -R) is left out: it is the
// same whichever client connects. It waits for the sessions to end first,
// so every program of every session is counted. Without strace it skips
// the test, or fails it with DRBOOK_E2E=1.
func (g *Guest) Execs(do func()) []string {
	t := g.rig.t
	t.Helper()
	if _, err := os.Stat(Strace); err != nil {
		if os.Getenv("DRBOOK_E2E") == "1" {
			t.Fatalf("DRBOOK_E2E=1 but %s is missing (apt-get install -y strace)", Strace)
		}
		t.Skipf("%s is missing (apt-get install -y strace)", Strace)
	}
	if g.cmd == nil || g.cmd.Process == nil {
		t.Fatalf("%s: sshd is not running", g.Name)
	}
	pid := g.cmd.Process.Pid
	dir, err := os.MkdirTemp(g.rig.Dir, "strace-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st := exec.Command(Strace, "-f", "-ff", "-qq", "-s", "64", "-e", "trace=execve", "-e", "signal=none", "-o", filepath.Join(dir, "x"), "-p", strconv.Itoa(pid))
	var errOut strings.Builder
	st.Stderr = &errOut
	if err := st.Start(); err != nil {
		t.Fatal(err)
	}
	// Attached once the kernel names strace as sshd's tracer.
	for i := 0; ; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if strings.Contains(string(b), "\nTracerPid:\t"+strconv.Itoa(st.Process.Pid)+"\n") {
			break
		}
		if i == 1000 {
			st.Process.Kill()
			st.Wait()
			t.Fatalf("strace did not attach to %s's sshd (pid %d) in 10s: %s", g.Name, pid, errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	do()
	g.CPU() // waits for the sessions to end
	st.Process.Signal(syscall.SIGINT)
	st.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "x.*"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			// execve("/bin/sh", ["sh", "-c", …], 0x… /* 5 vars */) = 0
			rest, ok := strings.CutPrefix(l, "execve(")
			if !ok || !strings.HasSuffix(l, " = 0") {
				continue
			}
			path, args, _ := strings.Cut(rest, ", [")
			path = strings.Trim(path, `"`)
			if path == SSHD {
				continue
			}
			args, _, _ = strings.Cut(args, "], ")
			out = append(out, path+" "+args)
		}
	}
	return out
}
