package guest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestPowerCycle(t *testing.T) {
	g := startTestGuest(t, Config{BootDelay: 50 * time.Millisecond}, apSeed(8081))
	web := "http://" + net.JoinHostPort(g.Address(), "8081") + "/"
	// httpd is enabled with chkconfig on the AP server: up after boot.
	resp, err := http.Get(web)
	if err != nil {
		t.Fatalf("httpd not started at boot: %v", err)
	}
	resp.Body.Close()
	c := g.dial(t, "root")
	port := g.SSHPort()
	s, _ := c.NewSession()
	s.Start("sleep 30")
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()

	g.SetPowered(false)
	select {
	case err := <-waited:
		if err == nil {
			t.Error("session survived power-off")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("open session not dropped by power-off")
	}
	if _, err := net.DialTimeout("tcp", g.SSHAddr(), time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("SSH while off: %v, want connection refused", err)
	}
	if _, err := http.Get(web); err == nil {
		t.Error("httpd answers while off")
	}

	g.SetPowered(true)
	if _, err := net.DialTimeout("tcp", g.SSHAddr(), time.Second); err == nil {
		t.Error("SSH answers before BootDelay")
	}
	select {
	case <-g.Ready():
	case <-time.After(2 * time.Second):
		t.Fatal("boot did not finish")
	}
	if g.SSHPort() != port {
		t.Errorf("port changed across power cycle: %d -> %d", port, g.SSHPort())
	}
	c2 := g.dial(t, "root") // FixedHostKey: the same host key
	if out := must(t, c2, "service httpd status"); !strings.Contains(out, "is running") {
		t.Errorf("httpd not restarted at boot: %q", out)
	}
	// chkconfig off: the next boot leaves httpd stopped.
	must(t, c2, "chkconfig httpd off")
	if out := must(t, c2, "chkconfig --list httpd"); !strings.Contains(out, "3:off") {
		t.Errorf("chkconfig --list: %q", out)
	}
	g.SetPowered(false)
	g.SetPowered(true)
	<-g.Ready()
	c3 := g.dial(t, "root")
	if out, _, code := run(t, c3, "service httpd status"); code != 3 {
		t.Errorf("httpd after chkconfig off and reboot: %d %q", code, out)
	}
}

func TestHostnameFollowsSysconfigAtBoot(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8082))
	c := g.dial(t, "root")
	must(t, c, "sed -i 's/^HOSTNAME=.*/HOSTNAME=apfg03.land.local/' /etc/sysconfig/network")
	if out := must(t, c, "hostname"); out != "apfg02.land.local\n" {
		t.Errorf("hostname changed before reboot: %q", out)
	}
	g.SetPowered(false)
	g.SetPowered(true)
	<-g.Ready()
	if out := must(t, g.dial(t, "root"), "hostname -s; uname -n"); out != "apfg03\napfg03.land.local\n" {
		t.Errorf("hostname after reboot: %q", out)
	}
}

func TestLegacyAlgorithms(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	clientKey, _ := ssh.NewSignerFromKey(rsaKey)
	g := startTestGuest(t, Config{Legacy: true, AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}}, apSeed(8083))
	if g.HostKey().Type() != ssh.KeyAlgoRSA {
		t.Fatalf("legacy host key type %s", g.HostKey().Type())
	}
	legacy := &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(clientKey)},
		HostKeyCallback: ssh.FixedHostKey(g.HostKey()), HostKeyAlgorithms: []string{ssh.KeyAlgoRSA},
		Config: ssh.Config{KeyExchanges: []string{ssh.InsecureKeyExchangeDH1SHA1},
			Ciphers: []string{ssh.InsecureCipherTripleDESCBC}, MACs: []string{ssh.HMACSHA1}},
		Timeout: 5 * time.Second,
	}
	c, err := ssh.Dial("tcp", g.SSHAddr(), legacy)
	if err != nil {
		t.Fatalf("legacy-only client refused: %v", err)
	}
	if !bytes.HasPrefix(c.ServerVersion(), []byte("SSH-2.0-OpenSSH_4.3")) {
		t.Errorf("server version %q", c.ServerVersion())
	}
	if out := must(t, c, "cat /etc/redhat-release"); !strings.Contains(out, "5.8") {
		t.Errorf("legacy session: %q", out)
	}
	c.Close()
	modern := &ssh.ClientConfig{
		User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(clientKey)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	}
	if c, err := ssh.Dial("tcp", g.SSHAddr(), modern); err == nil {
		c.Close()
		t.Error("a client with modern defaults negotiated with the legacy guest")
	} else if !strings.Contains(err.Error(), "no common algorithm") {
		t.Errorf("modern client refused for another reason: %v", err)
	}
}

func TestPasswordOperatorAndSudo(t *testing.T) {
	g := startTestGuest(t, Config{Password: "drill-pass", Operator: "drbook"}, apSeed(8084))
	dial := func(user string, auth ssh.AuthMethod) (*ssh.Client, error) {
		return ssh.Dial("tcp", g.SSHAddr(), &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth},
			HostKeyCallback: ssh.FixedHostKey(g.HostKey()), Timeout: 5 * time.Second})
	}
	if _, err := dial("root", ssh.Password("wrong")); err == nil {
		t.Error("wrong password accepted")
	}
	kbd := ssh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		return []string{"drill-pass"}, nil
	})
	if c, err := dial("root", kbd); err != nil {
		t.Errorf("keyboard-interactive: %v", err)
	} else {
		c.Close()
	}
	c, err := dial("drbook", ssh.Password("drill-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out := must(t, c, "whoami; pwd"); out != "drbook\n/\n" {
		t.Errorf("operator: %q", out)
	}
	if _, errs, code := run(t, c, "cat /etc/shadow"); code != 1 || !strings.Contains(errs, "Permission denied") {
		t.Errorf("operator read /etc/shadow: %d %q", code, errs)
	}
	if _, _, code := run(t, c, "echo x > /etc/hosts"); code == 0 {
		t.Error("operator wrote /etc/hosts")
	}
	if out := must(t, c, "sudo cat /etc/shadow | head -1 | cut -d: -f1; sudo whoami"); out != "root\nroot\n" {
		t.Errorf("sudo: %q", out)
	}
	if _, _, code := run(t, c, "service httpd restart"); code != 4 {
		t.Errorf("operator restarting httpd without sudo: exit %d", code)
	}
	must(t, c, "sudo service httpd restart")
}

func TestInteractiveShellWithPTY(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8085))
	c := g.dial(t, "root")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 40, 120, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	var out bytes.Buffer
	s.Stdout = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "cd /etc\r")
	io.WriteString(in, "for i in 1 2; do\r")
	io.WriteString(in, "echo n$i; done\r")
	io.WriteString(in, "exit 3\r")
	err = s.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Errorf("shell exit: %v", err)
	}
	text := out.String()
	for _, want := range []string{"[root@apfg02 ~]# ", "[root@apfg02 etc]# ", "n1\r\nn2\r\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("shell transcript misses %q:\n%s", want, text)
		}
	}
}

func TestStartRejectsNonLoopback(t *testing.T) {
	if _, err := Start(Config{Address: "10.0.0.65", Root: t.TempDir()}); err == nil {
		t.Error("Start accepted a non-loopback address")
	}
}

func TestInitScriptPathAndSleepCancellation(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8086))
	c := g.dial(t, "root")
	if out := must(t, c, "/etc/init.d/httpd status; /etc/rc.d/init.d/sshd status || true"); !strings.HasPrefix(out, "httpd (pid ") || !strings.Contains(out, "openssh-daemon (pid ") {
		t.Errorf("init script paths: %q", out)
	}
	if out, _, code := run(t, c, "service nosuch start"); code != 1 || out != "nosuch: unrecognized service\n" {
		t.Errorf("unknown service: %d %q", code, out)
	}
	// A signal request is refused and ignored, as by OpenSSH without
	// privilege separation: the sleep lives on until kill ends it.
	s, _ := c.NewSession()
	defer s.Close()
	s.Start("sleep 20")
	sleeper := g.waitProcess(t, "sleep")
	s.Signal(ssh.SIGINT)
	// Requests are handled in order: once this one is answered, the
	// signal has been seen.
	s.SendRequest("window-change", true, make([]byte, 16))
	if _, ok := g.process(sleeper.PID); !ok {
		t.Fatal("a signal request ended the command")
	}
	must(t, c, fmt.Sprintf("kill -TERM -%d", sleeper.PGID))
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("session of a killed shell: %v, want exit-signal TERM", err)
	}
	s.Close()
}
