package ssh_test

// Integration tests against real OpenSSH sshd processes (see
// internal/sshdrig). They skip without root or the Debian packages
// openssh-server, busybox-static and bash-static, unless DRBOOK_E2E=1.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/check"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/ssh/transport"
	"github.com/drbook/drbook/steps/steptest"
)

// initHTTPD is the AP guest's /etc/init.d/httpd: it serves busybox httpd on
// the Listen address of /etc/httpd/conf/httpd.conf, so a configuration
// that names another machine's address fails to start, as Apache would.
const initHTTPD = `#!/bin/sh
conf=/etc/httpd/conf/httpd.conf
pidf=/var/run/httpd.pid
listen=$(sed -n 's/^Listen[ 	]*//p' "$conf" | head -n 1)
stop() { [ -f "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; sleep 0.2; }
start() {
	[ -n "$listen" ] || { echo "httpd: no Listen in $conf" >&2; exit 1; }
	httpd -f -p "$listen" -h /var/www/html </dev/null >/var/run/httpd.log 2>&1 &
	echo $! > "$pidf"
	sleep 0.3
	kill -0 "$(cat "$pidf")" 2>/dev/null || { echo "Starting httpd: [FAILED] $(cat /var/run/httpd.log)" >&2; rm -f "$pidf"; exit 1; }
	echo "Starting httpd: [  OK  ] on $listen"
}
case "$1" in
start) start ;;
stop) stop; echo "Stopping httpd: [  OK  ]" ;;
restart) stop; start ;;
status) [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null && { echo "httpd is running"; exit 0; }; echo "httpd is stopped"; exit 3 ;;
*) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`

func e2eRuntime(t *testing.T, guests map[string]site.Guest) *steptest.Runtime {
	return steptest.NewRuntime(t, &site.Site{Name: "e2e", Guests: guests})
}

func TestE2EAPRestoreDrill(t *testing.T) {
	rig := sshdrig.New(t)
	src := rig.Start("ap01", sshdrig.Options{Host: 65})
	dst := rig.Start("ap02", sshdrig.Options{Host: 66})
	// The source AP server as the report describes it (paths from bkap.sh).
	src.WriteFile("/etc/httpd/conf/httpd.conf", fmt.Sprintf("ServerName apfg01\nListen %s:8080\nDocumentRoot /var/www/html\n", src.Address), 0o644)
	src.WriteFile("/etc/hosts", fmt.Sprintf("127.0.0.1 localhost\n%s apfg01\n", src.Address), 0o644)
	src.WriteFile("/etc/sysconfig/network", "NETWORKING=yes\nHOSTNAME=apfg01\n", 0o644)
	src.WriteFile("/etc/init.d/httpd", initHTTPD, 0o755)
	src.WriteFile("/var/www/html/index.html", "<h1>地政 AP apfg</h1>\n", 0o644)
	src.WriteFile("/opt/jboss/bin/run.sh", "#!/bin/sh\necho jboss\n", 0o755)
	src.WriteFile("/root/.bash_profile", "export JAVA_HOME=/opt/jdk1.5.0_19\n", 0o600)
	src.WriteFile("/var/spool/cron/root", "0 2 * * * /root/bkap.sh NOFTPMODE\n", 0o600)
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": src.Site(), "ap02": dst.Site()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(name, params string) any {
		t.Helper()
		k := kind(t, name)
		start := time.Now()
		res, err := k.Execute(ctx, rt, steptest.Decode(t, k, params))
		if err != nil {
			t.Fatalf("%s: %v\nap01 sshd log:\n%s", name, err, src.Log())
		}
		t.Logf("%-18s %6.0f ms  %+v", name, float64(time.Since(start).Microseconds())/1000, res)
		return res
	}
	run("ssh.service", "{host: ap01, name: httpd, action: start}")
	bk := run("ssh.backup", `{host: ap01, dir: /APBACKUP, retention_days: 7, paths: [/root/, /home/jboss/, /opt/jboss/, /var/spool/cron/, /fop, /etc/httpd/, /etc/hosts, /etc/sysconfig/network, /etc/init.d/httpd, /var/www/]}`).(*ssh.BackupResult)
	if len(bk.Missing) != 2 || bk.Files < 10 {
		t.Fatalf("backup: %+v", bk)
	}
	run("ssh.backup_check", "{host: ap01, max_age: 1h}")
	tr := run("ssh.transfer", fmt.Sprintf("{from: ap01, to: ap02, src: %q, dest: /root/}", bk.Archive)).(*ssh.TransferResult)
	if !tr.Verified || tr.SHA256 != bk.SHA256 {
		t.Fatalf("transfer: %+v vs backup sha %s", tr, bk.SHA256)
	}
	rs := run("ssh.restore_tar", fmt.Sprintf("{host: ap02, archive: %q, dest: /}", tr.Path)).(*ssh.RestoreTarResult)
	if rs.Files != bk.Files {
		t.Fatalf("restored %d of %d", rs.Files, bk.Files)
	}
	run("ssh.mkdir", "{host: ap02, paths: [/mnt/G08, /mnt/report]}")

	// Before the address is fixed, httpd on ap02 cannot take ap01's
	// address (ap01 still serves it): the drill fails as it would.
	k := kind(t, "ssh.service")
	if _, err := k.Execute(ctx, rt, steptest.Decode(t, k, "{host: ap02, name: httpd, action: restart}")); err == nil || !strings.Contains(err.Error(), "FAILED") {
		t.Fatalf("httpd with the source's address must fail to start on the target: %v", err)
	}
	run("ssh.edit_file", fmt.Sprintf("{host: ap02, path: /etc/httpd/conf/httpd.conf, edits: [{replace: %q, with: %q}, {regex: '(?m)^ServerName .*$', with: 'ServerName apfg02'}]}", src.Address, dst.Address))
	run("ssh.edit_file", fmt.Sprintf("{host: ap02, path: /etc/hosts, edits: [{regex: '(?m)^%s\\s+apfg01$', with: '%s apfg02'}]}", strings.ReplaceAll(src.Address, ".", `\.`), dst.Address))
	run("ssh.edit_file", "{host: ap02, path: /etc/sysconfig/network, edits: [{set_key: HOSTNAME, value: apfg02}]}")
	svc := run("ssh.service", "{host: ap02, name: httpd, action: restart}").(*ssh.ServiceResult)
	if svc.Manager != "initd" {
		t.Fatalf("busybox guest has neither systemctl nor service: manager %q", svc.Manager)
	}
	httpKind := check.Kinds()[0]
	res, err := httpKind.Execute(ctx, rt, steptest.Decode(t, httpKind, fmt.Sprintf("{url: 'http://%s:8080/', body: 'AP apfg'}", dst.Address)))
	if err != nil {
		t.Fatalf("the restored service does not answer: %v", err)
	}
	t.Logf("check.http %+v", res)
	if b, _ := os.ReadFile(dst.Path("/etc/hosts")); !strings.Contains(string(b), dst.Address+" apfg02") {
		t.Fatalf("/etc/hosts: %s", b)
	}
	if b, _ := os.ReadFile(dst.Path("/etc/sysconfig/network")); string(b) != "NETWORKING=yes\nHOSTNAME=apfg02\n" {
		t.Fatalf("network: %q", b)
	}
	for _, d := range []string{"/mnt/G08", "/mnt/report", "/opt/jboss/bin/run.sh", "/var/spool/cron/root"} {
		if _, err := os.Stat(dst.Path(d)); err != nil {
			t.Errorf("restored guest lacks %s", d)
		}
	}
	if n := len(rt.Trusts); n != 4 || rt.Trusts[0].Kind != "ssh-host-key" || rt.Trusts[1].Kind != transport.TrustAlgorithms {
		t.Fatalf("one trusted key and its connection's algorithms per guest expected: %+v", rt.Trusts)
	}
}

func TestE2ELegacyRHEL5Algorithms(t *testing.T) {
	rig := sshdrig.New(t)
	old := rig.Start("rhel5", sshdrig.Options{Host: 58, Legacy: true})
	modern := old.Site()
	modern.Legacy = false
	rt := e2eRuntime(t, map[string]site.Guest{"rhel5": old.Site(), "rhel5-nolegacy": modern})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := transport.ForGuest(ctx, rt, "rhel5-nolegacy", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "legacy: true") {
		t.Fatalf("without the opt-in drbook must refuse RHEL 5's algorithms and say how to opt in: %v", err)
	}
	k := kind(t, "ssh.exec")
	res, err := k.Execute(ctx, rt, steptest.Decode(t, k, "{host: rhel5, command: 'echo legacy-ok'}"))
	if err != nil {
		t.Fatalf("with legacy: true: %v\n%s", err, old.Log())
	}
	if !strings.HasPrefix(res.(*ssh.ExecResult).Stdout, "legacy-ok\n") {
		t.Fatalf("%+v", res)
	}
	if !strings.Contains(old.Log(), "ssh-rsa") && !strings.Contains(old.Log(), "Accepted publickey") {
		t.Logf("sshd log:\n%s", old.Log())
	}
	// SFTP works over the legacy connection too.
	rig2 := old
	rig2.WriteFile("/root/x.txt", "x\n", 0o644)
	dl := kind(t, "ssh.download")
	if _, err := dl.Execute(ctx, rt, steptest.Decode(t, dl, fmt.Sprintf("{host: rhel5, src: /root/x.txt, dest: %q}", t.TempDir()))); err != nil {
		t.Fatal(err)
	}
}

func TestE2EChangedHostKeyRefused(t *testing.T) {
	rig := sshdrig.New(t)
	g := rig.Start("ap01", sshdrig.Options{Host: 65})
	other := rig.Start("other", sshdrig.Options{Host: 67})
	stale := g.Site()
	stale.HostKeys = other.Site().HostKeys // the key an earlier VM had
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": stale})
	rt.Opts.AcceptNew = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := kind(t, "ssh.exec")
	_, err := k.Execute(ctx, rt, steptest.Decode(t, k, "{host: ap01, command: 'touch /pwned'}"))
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !hk.Changed() || !strings.Contains(err.Error(), transport.Describe(g.HostKey)) || !strings.Contains(err.Error(), transport.Describe(other.HostKey)) {
		t.Fatalf("want a changed-key refusal showing both fingerprints, got %v", err)
	}
	if _, err := os.Stat(g.Path("/pwned")); err == nil {
		t.Fatal("the command ran despite the changed key")
	}
	// Unknown (no pin, no known_hosts): refused with the pin line; known_hosts works.
	unpinned := g.Site()
	unpinned.HostKeys = nil
	rt2 := e2eRuntime(t, map[string]site.Guest{"ap01": unpinned})
	if _, err := transport.ForGuest(ctx, rt2, "ap01", 5*time.Second); err == nil || !strings.Contains(err.Error(), "unknown host key") {
		t.Fatal(err)
	}
	kh := t.TempDir() + "/known_hosts"
	os.WriteFile(kh, []byte(g.KnownHostsLine()+"\n"), 0o600)
	rt3 := e2eRuntime(t, map[string]site.Guest{"ap01": unpinned})
	rt3.Opts.KnownHosts = kh
	if _, err := transport.ForGuest(ctx, rt3, "ap01", 5*time.Second); err != nil || rt3.Trusts[0].Source != "known_hosts" {
		t.Fatalf("known_hosts: %v %+v", err, rt3.Trusts)
	}
}

func TestE2EKilledSSHDMidStep(t *testing.T) {
	rig := sshdrig.New(t)
	g := rig.Start("ap01", sshdrig.Options{Host: 65})
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": g.Site()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	k := kind(t, "ssh.exec")
	// sshd dies (with its sessions) once the command runs. drbook's stop
	// cannot reach the guest any more, so the error says the outcome is
	// unknown and the command may still run: the engine will not retry.
	killed := make(chan struct{})
	go func() {
		for {
			if _, err := os.Stat(g.Path("/tmp/started")); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		g.Kill()
		close(killed)
	}()
	_, err := k.Execute(ctx, rt, steptest.Decode(t, k, "{host: ap01, command: 'touch /tmp/started; sleep 20'}"))
	if err == nil || !strings.Contains(err.Error(), "connection lost") || !errors.Is(err, steps.ErrOutcomeUnknown) || !errors.Is(err, steps.ErrMayStillRun) {
		t.Fatalf("want a connection-lost error whose outcome is unknown and whose command may still run, got %v", err)
	}
	<-killed
	// While sshd is down a retry fails fast and says so; once it is back,
	// the same step succeeds on a fresh connection.
	_, err = k.Execute(ctx, rt, steptest.Decode(t, k, "{host: ap01, command: 'true', connect_timeout: 2s}"))
	if err == nil || !transport.IsRetryable(err) {
		t.Fatalf("retry while down: %v", err)
	}
	g.Restart()
	if _, err := k.Execute(ctx, rt, steptest.Decode(t, k, "{host: ap01, command: 'echo back'}")); err != nil {
		t.Fatalf("retry after restart: %v", err)
	}
}

func TestE2EUnreachableHostTimeout(t *testing.T) {
	rig := sshdrig.New(t)
	// A port that accepts TCP but never speaks SSH, like a hung guest.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	rt := e2eRuntime(t, map[string]site.Guest{"hung": {Address: "127.0.0.1", Port: addr.Port, KeyFile: rig.KeyFile}})
	k := kind(t, "ssh.exec")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var p steps.Kind = k
	_, err = p.Execute(ctx, rt, steptest.Decode(t, k, "{host: hung, command: 'true', connect_timeout: 1500ms}"))
	took := time.Since(start)
	if err == nil || took < 1400*time.Millisecond || took > 4*time.Second {
		t.Fatalf("connect_timeout 1.5s not honoured: %v after %s", err, took)
	}
	t.Logf("after %s: %v", took.Round(time.Millisecond), err)
}
