package guest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

var nextAddr atomic.Int32

// testAddr gives each guest of the test run its own loopback address.
func testAddr() string {
	n := nextAddr.Add(1)
	return fmt.Sprintf("127.77.%d.%d", os.Getpid()%200+1, n+10)
}

type testGuest struct {
	*Guest
	key ssh.Signer
}

func startTestGuest(t *testing.T, cfg Config, seed func(root, ip string) error) *testGuest {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address == "" {
		cfg.Address = testAddr()
	}
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "apfg02.land.local"
	}
	cfg.AuthorizedKeys = append(cfg.AuthorizedKeys, key.PublicKey())
	if seed != nil {
		if err := seed(cfg.Root, cfg.Address); err != nil {
			t.Fatal(err)
		}
	}
	g, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return &testGuest{Guest: g, key: key}
}

func apSeed(port int) func(root, ip string) error {
	return func(root, ip string) error { return SeedAPServer(root, "apfg02.land.local", ip, port) }
}

func (g *testGuest) dial(t *testing.T, user string) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", g.SSHAddr(), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(g.key)},
		HostKeyCallback: ssh.FixedHostKey(g.HostKey()), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run runs cmd in a new session and returns stdout, stderr, exit status.
func run(t *testing.T, c *ssh.Client, cmd string) (string, string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	err = s.Run(cmd)
	code := 0
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitStatus()
	} else if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return out.String(), errb.String(), code
}

// must runs cmd and fails the test unless it exits 0.
func must(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	out, errs, code := run(t, c, cmd)
	if code != 0 {
		t.Fatalf("%q exited %d\nstdout: %s\nstderr: %s", cmd, code, out, errs)
	}
	return out
}

// shellCase is one command line and all it must print and exit with.
type shellCase struct {
	cmd, out, stderr string
	code             int
}

// checkShellCases runs each case on c and reports every difference.
func checkShellCases(t *testing.T, c *ssh.Client, cases []shellCase) {
	t.Helper()
	for _, tc := range cases {
		out, stderr, code := run(t, c, tc.cmd)
		if out != tc.out || stderr != tc.stderr || code != tc.code {
			t.Errorf("%s:\n got stdout %q stderr %q exit %d\nwant stdout %q stderr %q exit %d", tc.cmd, out, stderr, code, tc.out, tc.stderr, tc.code)
		}
	}
}

func TestShellSyntaxAndExitCodes(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	cases := []struct {
		cmd, out string
		code     int
	}{
		{`echo hello | tr a-z A-Z`, "HELLO\n", 0},
		{`x=5; if [ $x -gt 3 ]; then echo big; else echo small; fi`, "big\n", 0},
		{`for f in a b c; do printf "%s-" $f; done; echo`, "a-b-c-\n", 0},
		{`f() { echo "arg=$1"; return 3; }; f one; echo "rc=$?"`, "arg=one\nrc=3\n", 0},
		{`false && echo no || echo yes`, "yes\n", 0},
		{`echo "$(hostname | cut -f1 -d .)"`, "apfg02\n", 0},
		{`cat /etc/redhat-release`, "Red Hat Enterprise Linux Server release 5.8 (Tikanga)\n", 0},
		{`nosuchcmd`, "", 127},
		{`exit 42`, "", 42},
		{`cd /etc && pwd`, "/etc\n", 0},
		{`echo abc > /tmp/x && cat /tmp/x && wc -c < /tmp/x`, "abc\n4\n", 0},
		{`grep -q HOSTNAME=apfg02 /etc/sysconfig/network && echo found`, "found\n", 0},
		{`grep -c root /etc/passwd`, "1\n", 0},
		{`grep -q nothing /etc/hosts`, "", 1},
		{`whoami; id -u`, "root\n0\n", 0},
		{`ls /etc/rc.d/init.d | sort | head -2`, "crond\nfunctions\n", 0},
		{`ls /etc/rc.d/rc3.d/S*httpd`, "/etc/rc.d/rc3.d/S85httpd\n", 0},
		{`printf 'b\na\nb\n' | sort | uniq -c | sed 's/^ *//'`, "1 a\n2 b\n", 0},
		{`test -d /APBACKUP/LOG && echo dir`, "dir\n", 0},
		{`date -d 2014-10-26 +%Y%m%d%H%M%S`, "20141026000000\n", 0},
		{`echo a:b:c | cut -d: -f2,3`, "b:c\n", 0},
		{`mkdir -p /mnt/G08 /mnt/report && ls -d /mnt/*`, "/mnt/G08\n/mnt/report\n", 0},
		{`sh -c 'exit 7'`, "", 7},
	}
	for _, tc := range cases {
		out, errs, code := run(t, c, tc.cmd)
		if out != tc.out || code != tc.code {
			t.Errorf("%s\n got %q (exit %d, stderr %q)\nwant %q (exit %d)", tc.cmd, out, code, errs, tc.out, tc.code)
		}
	}
	if _, errs, _ := run(t, c, "nosuchcmd"); errs != "sh: nosuchcmd: command not found\n" {
		t.Errorf("unknown command stderr = %q", errs)
	}
	// stdin reaches the command.
	s, _ := c.NewSession()
	s.Stdin = strings.NewReader("one\ntwo\n")
	out, err := s.Output("wc -l")
	if err != nil || strings.TrimSpace(string(out)) != "2" {
		t.Errorf("wc -l on stdin = %q, %v", out, err)
	}
	s.Close()
	// env requests are seen.
	s, _ = c.NewSession()
	if err := s.Setenv("DRILL", "two"); err != nil {
		t.Fatal(err)
	}
	out, _ = s.Output(`echo "drill $DRILL"`)
	if string(out) != "drill two\n" {
		t.Errorf("env request: got %q", out)
	}
	s.Close()
}

func TestFileCommands(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	must(t, c, `mkdir -p /tmp/a/b && echo x > /tmp/a/b/f && cp -a /tmp/a /tmp/c && mv /tmp/c/b/f /tmp/c/b/g && ln -s /etc/hosts /tmp/h`)
	if out := must(t, c, `cat /tmp/c/b/g; cat /tmp/h | grep -c apfg02; readlink /tmp/h`); out != "x\n1\n/etc/hosts\n" {
		t.Errorf("copy/move/link: %q", out)
	}
	must(t, c, `chmod 750 /tmp/c/b/g && touch -d "2014-10-01 12:00:00" /tmp/c/b/g`)
	if out := must(t, c, `stat -c '%a %U %s %Y' /tmp/c/b/g`); out != fmt.Sprintf("750 root 2 %d\n", time.Date(2014, 10, 1, 12, 0, 0, 0, time.Local).Unix()) {
		t.Errorf("stat: %q", out)
	}
	if out := must(t, c, `ls -l /tmp/c/b`); !strings.Contains(out, "-rwxr-x--- 1 root     root            2 Oct  1  2014 g") {
		t.Errorf("ls -l: %q", out)
	}
	must(t, c, `touch -d "10 days ago" /tmp/a/old.tgz; touch /tmp/a/new.tgz`)
	if out := must(t, c, `find /tmp/a -name '*.tgz' -mtime +7`); out != "/tmp/a/old.tgz\n" {
		t.Errorf("find -mtime: %q", out)
	}
	must(t, c, `find /tmp/a -name '*.tgz' -mtime +7 -exec rm {} \;`)
	if out := must(t, c, `find /tmp/a -type f | sort`); out != "/tmp/a/b/f\n/tmp/a/new.tgz\n" {
		t.Errorf("after find -exec rm: %q", out)
	}
	must(t, c, `sed -i 's/apfg02/apfg03/g; /localhost6/d' /etc/hosts`)
	out := must(t, c, `cat /etc/hosts`)
	if strings.Contains(out, "apfg02") || strings.Contains(out, "localhost6") || !strings.Contains(out, "apfg03.land.local apfg03") {
		t.Errorf("sed -i: %q", out)
	}
	if _, errs, code := run(t, c, `rm /tmp/a`); code != 1 || !strings.Contains(errs, "Is a directory") {
		t.Errorf("rm dir: %d %q", code, errs)
	}
	must(t, c, `rm -rf /tmp/a && test ! -e /tmp/a`)
	if out := must(t, c, `echo hi | sha256sum; echo -n hi | md5sum`); out != "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4  -\n49f68a5c8493ec2c0bf489821c21fc3b  -\n" {
		t.Errorf("sums: %q", out)
	}
	if out := must(t, c, `df -P -k / | tail -1 | cut -d' ' -f1; du -s -k /etc/hosts | cut -f2`); out != "/dev/mapper/VolGroup00-LogVol00\n/etc/hosts\n" {
		t.Errorf("df/du: %q", out)
	}
}

// TestSandboxEscapes tries the ways out of the guest's root.
func TestSandboxEscapes(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("host secret\n"), 0o644)
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	rel, _ := filepath.Rel(g.Root(), secret)
	attempts := []string{
		"cat " + secret,
		"cat ../../../../../../.." + secret,
		"cat /" + rel,
		"cd /; cd ../../..; cat ." + secret,
		"ln -s " + secret + " /tmp/abs && cat /tmp/abs",
		"ln -s ../../../../../../../.." + secret + " /tmp/rel && cat /tmp/rel",
		"ln -s " + outside + " /tmp/dir && cat /tmp/dir/secret",
		"cat < " + secret,
		"tar -cf - " + secret + " | tar -xOf -",
		"cp " + secret + " /tmp/copy; cat /tmp/copy",
	}
	for _, a := range attempts {
		out, _, _ := run(t, c, a)
		if strings.Contains(out, "host secret") {
			t.Errorf("escaped the sandbox with %q: %q", a, out)
		}
	}
	// Writes stay inside: a symlink to a host path is resolved in the guest.
	run(t, c, "ln -s "+outside+" /tmp/out; echo pwned > /tmp/out/new")
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Error("a write through an absolute symlink reached the host")
	}
	// A tar member with ../ is refused.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "../../../../../../../.." + outside + "/evil", Mode: 0o644, Size: 4, Typeflag: tar.TypeReg})
	tw.Write([]byte("evil"))
	tw.Close()
	s, _ := c.NewSession()
	s.Stdin = &buf
	s.Run("cd /tmp && tar -xf -")
	s.Close()
	if _, err := os.Stat(filepath.Join(outside, "evil")); err == nil {
		t.Error("tar extracted a ../ member outside the guest")
	}
	// SFTP paths are confined too.
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for _, p := range []string{secret, "../../../../../../.." + secret, "/tmp/abs"} {
		if f, err := sc.Open(p); err == nil {
			data, _ := io.ReadAll(f)
			f.Close()
			if strings.Contains(string(data), "host secret") {
				t.Errorf("sftp read the host file through %q", p)
			}
		}
	}
	if f, err := sc.Create("../../../../../../.." + outside + "/sftp-new"); err == nil {
		f.Write([]byte("x"))
		f.Close()
	}
	if _, err := os.Stat(filepath.Join(outside, "sftp-new")); err == nil {
		t.Error("sftp created a file outside the guest")
	}
}

// TestDrill2BackupTransferRestore is DOMAIN.md's drill 2 end to end.
func TestDrill2BackupTransferRestore(t *testing.T) {
	src := startTestGuest(t, Config{}, apSeed(8080))
	dst := startTestGuest(t, Config{Hostname: "apfg03.land.local"}, func(root, ip string) error {
		return SeedEmptyServer(root, "apfg03.land.local", ip)
	})
	sc := src.dial(t, "root")
	must(t, sc, "chmod +x /root/bkap/bkap.sh")
	if out, _, code := run(t, sc, "cd /root/bkap && ./bkap.sh"); code != 1 || !strings.Contains(out, "Please SO (FTPMODE/NOFTPMODE)") {
		t.Errorf("bkap.sh without argument: %d %q", code, out)
	}
	out := must(t, sc, "cd /root/bkap && ./bkap.sh NOFTPMODE")
	mmdd := time.Now().Format("0102")
	archive := "/APBACKUP/apfg02bk.tar." + mmdd + ".tgz"
	if !strings.Contains(out, "etc/httpd/conf/httpd.conf") || !strings.Contains(out, "=== End backup apfg02") {
		t.Errorf("bkap.sh output: %s", out)
	}
	log := must(t, sc, "cat /APBACKUP/LOG/bkaplog.apfg02."+mmdd)
	if !strings.Contains(log, "opt/jboss/bin/run.sh") {
		t.Errorf("log misses the tar listing: %s", log)
	}
	listing := must(t, sc, "tar -tzf "+archive)
	for _, p := range BKAPPaths {
		name := strings.TrimPrefix(p, "/")
		if !strings.Contains(listing, name) {
			t.Errorf("archive misses %s", name)
		}
	}
	// Go's archive/tar reads it too, with modes and times kept.
	data, err := os.ReadFile(filepath.Join(src.Root(), archive))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "etc/shadow" {
			found = true
			if h.Mode != 0o400 || !h.ModTime.Equal(seedTime) || h.Uname != "root" {
				t.Errorf("etc/shadow header: mode %o time %v owner %s", h.Mode, h.ModTime, h.Uname)
			}
		}
	}
	if !found {
		t.Error("etc/shadow not in archive")
	}

	// Transfer with SFTP from the source's files to the target's /root.
	client, err := sftp.NewClient(dst.dial(t, "root"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := client.Create("/root/apfg02bk.tgz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if wd, _ := client.Getwd(); wd != "/root" {
		t.Errorf("sftp starts in %q, want /root", wd)
	}
	back, err := client.Open("/root/apfg02bk.tgz")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(back)
	back.Close()
	client.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("sftp get returned different bytes than put")
	}

	dc := dst.dial(t, "root")
	// The target's httpd is not configured for the AP yet.
	must(t, dc, "cd / && tar -xzvf /root/apfg02bk.tgz > /root/restore.log")
	if out := must(t, dc, "cat /opt/jboss/bin/run.sh | head -2 | tail -1; stat -c %a /etc/shadow"); out != "# JBoss Bootstrap Script\n400\n" {
		t.Errorf("restored files: %q", out)
	}
	// Restored config still names the source's IP: httpd must fail.
	out, errs, code := run(t, dc, "service httpd restart")
	if code != 1 || !strings.Contains(out, "Starting httpd: [FAILED]") ||
		!strings.Contains(errs, "(99)Cannot assign requested address: make_sock: could not bind to address "+src.Address()+":8080") {
		t.Errorf("httpd with the source's Listen: exit %d\n%s\n%s", code, out, errs)
	}
	must(t, dc, "mkdir /mnt/G08 && mkdir /mnt/report")
	must(t, dc, fmt.Sprintf("sed -i 's/%s/%s/g' /etc/httpd/conf/httpd.conf", strings.ReplaceAll(src.Address(), ".", `\.`), dst.Address()))
	must(t, dc, "sed -i 's/apfg02/apfg03/g' /etc/hosts /etc/sysconfig/network /etc/httpd/conf/httpd.conf")
	out = must(t, dc, "service httpd restart")
	if !strings.Contains(out, "Starting httpd: [  OK  ]") {
		t.Errorf("restart: %q", out)
	}
	if out := must(t, dc, "service httpd status"); !strings.HasPrefix(out, "httpd (pid ") || !strings.HasSuffix(out, ") is running...\n") {
		t.Errorf("status: %q", out)
	}
	// The application's pages come from the restored /opt/moiland.
	resp, err := http.Get("http://" + net.JoinHostPort(dst.Address(), "8080") + "/moiland/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Land Registration WEB AP") || resp.Header.Get("Server") != "Apache/2.2.3 (Red Hat)" {
		t.Errorf("GET /: %d %q", resp.StatusCode, body)
	}
	if out := must(t, dc, "service httpd stop"); out != "Stopping httpd: [  OK  ]\n" {
		t.Errorf("stop: %q", out)
	}
	if _, err := http.Get("http://" + net.JoinHostPort(dst.Address(), "8080") + "/"); err == nil {
		t.Error("httpd still answers after stop")
	}
	if out, _, code := run(t, dc, "service httpd status"); code != 3 || out != "httpd is stopped\n" {
		t.Errorf("stopped status: %d %q", code, out)
	}
}
