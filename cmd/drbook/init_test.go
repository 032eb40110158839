package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vmware/govmomi/simulator"

	"github.com/drbook/drbook/lab"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
)

// initCheck is a runbook that needs only vCenter: preflight logs in, reads
// the inventory and finds the VM of guest key by the name the written site
// file gives.
func initCheck(key string) string {
	return `name: init-check
steps:
  - id: inv
    vcenter.inventory: {}
  - id: vm_up
    vcenter.vm.wait:
      vm: "${{ site.guests.` + key + `.vm }}"
      condition: power_state == "poweredOn"
      within: 30s
`
}

// hostileNames are VM names a site file must carry unchanged: quotes,
// newlines, comment and YAML indicators, values YAML would read as other
// types, expression syntax, and non-ASCII text. (Control characters other
// than tab and newline cannot be: SOAP is XML 1.0, which forbids them.)
var hostileNames = []string{
	`it's "quoted"`, "line one\nline two", "# not a comment", "- item", "key: value", "true", "null", "1.5",
	"&anchor *alias", "[flow, list]", "{a: b}", "%TAG", "@at`tick`", "|pipe", ">fold", "  leading space",
	"trailing space ", "${{ site.vcenter.url }}", "地政 AP 伺服器（二）", "tab\there", "(65)apfg(02)", `back\slash`, "line\u2028separator", "消防車 🚒",
}

// plainVPX is govmomi's simulator.VPX() over HTTPS on loopback with
// enough VMs for hostileNames; prepare may change the model before any
// client connects.
func plainVPX(t *testing.T, prepare func(m *simulator.Model)) (srvURL, sha256 string) {
	t.Helper()
	m := simulator.VPX()
	m.Machine = 14
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(m)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	srv := m.Service.NewServer()
	t.Cleanup(func() { srv.Close(); m.Remove() })
	u := *srv.URL
	u.User = nil
	return u.String(), srv.CertificateInfo().ThumbprintSHA256
}

// drbook runs the CLI in this process and returns what it printed.
func drbook(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestInitAgainstPlainVPXWithHostileNames: init against plain vcsim over
// HTTPS writes a site that validate accepts, in which every VM with a
// guest IP is a guest whose vm: is its name byte for byte (whatever the
// name holds), the names left to comments cannot add anything, and on
// which preflight finds the VM by that name.
func TestInitAgainstPlainVPXWithHostileNames(t *testing.T) {
	withIP := map[string]string{}
	var noIP []string
	srvURL, thumb := plainVPX(t, func(m *simulator.Model) {
		vms := m.Map().All("VirtualMachine")
		sort.Slice(vms, func(i, j int) bool { return vms[i].Entity().Name < vms[j].Entity().Name })
		if len(vms) < len(hostileNames)+2 {
			t.Fatalf("the model has %d VMs, want at least %d", len(vms), len(hostileNames)+2)
		}
		for i, e := range vms {
			vm := e.(*simulator.VirtualMachine)
			switch {
			case i < len(hostileNames):
				vm.Name = hostileNames[i]
				vm.Config.GuestId = "rhel5_64Guest"
				vm.Guest.IpAddress = fmt.Sprintf("10.9.0.%d", i+1)
				withIP[vm.Name] = vm.Guest.IpAddress
			case i == len(hostileNames):
				// No IP: its name goes into a comment only.
				vm.Name = "evil\nguests:\n  injected: {address: 1.2.3.4}"
				vm.Guest.IpAddress = ""
				vm.Guest.Net = nil
				noIP = append(noIP, vm.Name)
			default:
				vm.Guest.IpAddress = ""
				vm.Guest.Net = nil
				noIP = append(noIP, vm.Name)
			}
		}
	})
	dir := t.TempDir()
	t.Setenv("DRBOOK_INIT_VC", "a-long-password")
	src := filepath.Join(dir, "start.yaml")
	writeRunbook(t, dir, "start.yaml", fmt.Sprintf("name: start\nvcenter:\n  url: %s\n  user: user\n  password: env:DRBOOK_INIT_VC\n  thumbprints: [%q]\n", srvURL, thumb))
	out := filepath.Join(dir, "discovered.yaml")
	stdout, stderr, code := drbook(t, "init", "--site", src, "-o", out)
	if code != exitOK {
		t.Fatalf("init exited %d\n%s%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runbooks.ParseSite(out, raw)
	if err != nil {
		t.Fatalf("the written site does not load: %v\n%s", err, raw)
	}
	if s.VCenter.URL != srvURL || s.VCenter.Password.String() != "env:DRBOOK_INIT_VC" || len(s.VCenter.Thumbprints) != 1 || s.VCenter.Thumbprints[0] != thumb || s.VCenter.Datacenter != "DC0" {
		t.Errorf("vcenter section %+v: want the URL, the start file's password reference, the pin %s and DC0", s.VCenter, thumb)
	}
	got := map[string]string{}
	keys := map[string]string{}
	for key, g := range s.Guests {
		if _, dup := got[g.VM]; dup {
			t.Errorf("VM %q is two guests", g.VM)
		}
		got[g.VM], keys[g.VM] = g.Address, key
		if g.User != "root" || g.KeyFile == "" || !g.Legacy {
			t.Errorf("guest %s: %+v, want the user and key placeholders and legacy for RHEL 5", key, g)
		}
	}
	if len(got) != len(withIP) {
		t.Errorf("%d guests, want %d (the VMs with an IP); guests: %v", len(got), len(withIP), keys)
	}
	for name, ip := range withIP {
		if got[name] != ip {
			t.Errorf("VM %q: the site has address %q, want %q", name, got[name], ip)
		}
	}
	for _, name := range noIP {
		if !strings.Contains(string(raw), strconv.Quote(name)) {
			t.Errorf("VM %q without an IP is not listed, quoted, in the comments", name)
		}
	}
	if _, ok := s.Guests["injected"]; ok {
		t.Errorf("a VM name in a comment added a guest:\n%s", raw)
	}
	if keys["(65)apfg(02)"] != "apfg02" {
		t.Errorf("(65)apfg(02) has key %q, want apfg02", keys["(65)apfg(02)"])
	}
	if len(s.Hosts) != 4 {
		t.Errorf("hosts %v, want VPX's 4", s.Hosts)
	}

	// validate (the site alone, and a runbook against it) and preflight.
	if stdout, stderr, code := drbook(t, "validate", "--site", out); code != exitOK || !strings.Contains(stdout, "ok (site dc0: 4 host(s), "+strconv.Itoa(len(withIP))+" guest(s)") {
		t.Errorf("validate --site exited %d\n%s%s", code, stdout, stderr)
	}
	for _, name := range []string{"line one\nline two", "${{ site.vcenter.url }}", "地政 AP 伺服器（二）", "line\u2028separator", `back\slash`, "  leading space"} {
		writeRunbook(t, dir, "check.yaml", initCheck(keys[name]))
		args := []string{"--site", out, filepath.Join(dir, "check.yaml")}
		if stdout, stderr, code := drbook(t, append([]string{"validate"}, args...)...); code != exitOK {
			t.Errorf("validate with guest %q exited %d\n%s%s", name, code, stdout, stderr)
		}
		if stdout, stderr, code := drbook(t, append([]string{"preflight"}, args...)...); code != exitOK || !strings.Contains(stdout, "preflight passed") {
			t.Errorf("preflight with guest %q (%s) exited %d\n%s%s", name, keys[name], code, stdout, stderr)
		}
	}
}

// TestInitLab: init --lab writes a site that validates, names the lab's
// inventory, pins the certificate the lab presented, and, while that lab
// runs, passes preflight with the password in the environment; the AP
// server with its placeholders filled in runs the backup drill.
func TestInitLab(t *testing.T) {
	ctx := context.Background()
	l, err := lab.Start(ctx, lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "lab-site.yaml")
	var stdout, stderr bytes.Buffer
	g := &globalOptions{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, Lang: "en"}
	err = runInit(ctx, g, &initOptions{Lab: true, Output: out, startLab: func(context.Context) (*site.Site, func(), error) {
		s, err := labSite(l)
		return s, func() {}, err
	}})
	if err != nil {
		t.Fatalf("init --lab: %v\n%s", err, stderr.String())
	}
	s, _, err := runbooks.LoadSite(out)
	if err != nil {
		t.Fatalf("the written site does not load: %v", err)
	}
	if s.Name != "sanchong" || s.VCenter.Thumbprints[0] != l.VCenter.ThumbprintSHA256 || s.VCenter.Password.String() != defaultLabPasswordRef || len(s.Hosts) != 3 {
		t.Errorf("site %s, vcenter %+v, %d hosts: want sanchong, the lab's pin and %s", s.Name, s.VCenter, len(s.Hosts), defaultLabPasswordRef)
	}
	if h := s.Hosts["esx-68"]; h.Address != l.VCenter.Options().HostIP(68) {
		t.Errorf("esx-68: %+v, want address %s", h, l.VCenter.Options().HostIP(68))
	}
	ap := s.Guests["apfg02"]
	if ap.VM != lab.SourceVM || ap.Address != l.Guests["ap02"].Address || !ap.Legacy {
		t.Errorf("apfg02: %+v, want %s at %s, legacy", ap, lab.SourceVM, l.Guests["ap02"].Address)
	}
	for _, vm := range []string{"(62)PRT(01)", "(74)NTPCWEBFG(04)", "(90)rhel58-template"} {
		if !strings.Contains(string(readSite(t, out)), strconv.Quote(vm)) {
			t.Errorf("%s (Windows, off, or a template) is not listed in the comments", vm)
		}
	}
	if strings.Contains(string(readSite(t, out)), l.VCenter.Password) || strings.Contains(stdout.String()+stderr.String(), l.VCenter.Password) {
		t.Error("the lab's vCenter password reached the site file or the output")
	}
	if !strings.Contains(stdout.String(), "pinned vCenter's certificate SHA256:"+l.VCenter.ThumbprintSHA256) {
		t.Errorf("init did not say what it pinned:\n%s", stdout.String())
	}

	t.Setenv("DRBOOK_VC_PASSWORD", l.VCenter.Password)
	writeRunbook(t, dir, "check.yaml", initCheck("apfg02"))
	if stdout, stderr, code := drbook(t, "preflight", "--site", out, filepath.Join(dir, "check.yaml")); code != exitOK {
		t.Errorf("preflight exited %d\n%s%s", code, stdout, stderr)
	}
	// The placeholders are what an operator fills in: the lab's SSH port
	// and key (drbook lab prints them); the host key is pinned by
	// --accept-new on the first run.
	text := string(readSite(t, out))
	at := strings.Index(text, "\n  apfg02:\n")
	if at < 0 {
		t.Fatalf("no apfg02 entry:\n%s", text)
	}
	home, _ := os.UserHomeDir()
	entry := strings.Replace(text[at:], "address: "+ap.Address+"\n", fmt.Sprintf("address: %s\n    port: %d\n", ap.Address, l.Guests["ap02"].Port), 1)
	entry = strings.Replace(entry, "key_file: "+filepath.Join(home, ".ssh", "id_rsa")+"\n", "key_file: "+l.KeyFile+"\n", 1)
	text = text[:at] + entry
	filled := filepath.Join(dir, "filled.yaml")
	writeRunbook(t, dir, "filled.yaml", text)
	runs := filepath.Join(dir, "runs")
	if stdout, stderr, code := drbook(t, "run", "--yes", "--accept-new", "--runs-dir", runs, "--site", filled, "--var", "servers=apfg02", backupFreshness); code != exitOK {
		t.Errorf("the backup drill on the discovered site exited %d\n%s%s", code, stdout, stderr)
	}
}

func readSite(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitRefusals: what init refuses, each with what to do, and that it
// writes nothing then: an existing file (unless --force), a vCenter that
// does not answer, a certificate that contradicts the pin, and an unknown
// certificate without --accept-new (with it, the certificate is pinned).
func TestInitRefusals(t *testing.T) {
	srvURL, thumb := plainVPX(t, nil)
	dir := t.TempDir()
	t.Setenv("DRBOOK_INIT_VC", "a-long-password")
	start := func(name, extra string, u string) string {
		writeRunbook(t, dir, name, fmt.Sprintf("name: start\nvcenter:\n  url: %s\n  user: user\n  password: env:DRBOOK_INIT_VC\n%s", u, extra))
		return filepath.Join(dir, name)
	}
	out := filepath.Join(dir, "out.yaml")
	check := func(what string, args []string, wantCode int, want ...string) string {
		t.Helper()
		stdout, stderr, code := drbook(t, append([]string{"init", "-o", out}, args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, code, wantCode, stdout, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout+stderr, w) {
				t.Errorf("%s: output lacks %q:\n%s%s", what, w, stdout, stderr)
			}
		}
		return stdout
	}
	gone := func(what string) {
		t.Helper()
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: init wrote %s", what, out)
		}
	}

	check("neither --site nor --lab", nil, exitUsage, "give exactly one of --site and --lab")
	check("unreachable", []string{"--site", start("down.yaml", "", "https://127.0.0.1:1/sdk")}, exitFailed,
		"cannot reach vCenter 127.0.0.1:1", "drbook: hint: check the vcenter section of "+filepath.Join(dir, "down.yaml"))
	gone("unreachable")
	// A vCenter that accepts the connection and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	check("silent", []string{"--timeout", "1s", "--site", start("silent.yaml", "", "https://"+silent.Addr().String()+"/sdk")}, exitFailed,
		"did not finish answering within 1s", "give more time with --timeout")
	gone("silent")
	check("wrong pin", []string{"--site", start("wrong.yaml", "  thumbprints: [\"AA:BB:CC\"]\n", srvURL)}, exitFailed,
		"does NOT match the thumbprint pinned", "pinned AA:BB:CC, presented SHA-256 "+thumb)
	check("wrong pin, --accept-new", []string{"--accept-new", "--site", filepath.Join(dir, "wrong.yaml")}, exitFailed, "--accept-new never overrides a pin")
	gone("wrong pin")
	unpinned := start("unpinned.yaml", "", srvURL)
	check("unknown certificate", []string{"--site", unpinned}, exitFailed, "is not trusted", "SHA-256 "+thumb, "drbook: hint: check the SHA-256 at the vCenter console, then run init again with --accept-new")
	gone("unknown certificate")
	check("--accept-new", []string{"--accept-new", "--site", unpinned}, exitOK, "accepted with --accept-new", "compare that SHA-256")
	s, _, err := runbooks.LoadSite(out)
	if err != nil || s.VCenter.Thumbprints[0] != thumb {
		t.Fatalf("after --accept-new: %v, pins %v, want %s", err, s, thumb)
	}
	before := string(readSite(t, out))
	check("existing file", []string{"--accept-new", "--site", unpinned}, exitUsage, out+" exists; init does not overwrite", "add --force")
	if string(readSite(t, out)) != before {
		t.Error("init changed the existing file it refused to overwrite")
	}
	check("--force", []string{"--force", "--name", "renamed", "--password-ref", "file:/etc/drbook/vc", "--accept-new", "--site", unpinned}, exitOK)
	if s, _, err := runbooks.LoadSite(out); err != nil || s.Name != "renamed" || s.VCenter.Password.String() != "file:/etc/drbook/vc" {
		t.Errorf("after --force: %v %+v", err, s)
	}
	check("literal password ref", []string{"--force", "--password-ref", "hunter2", "--site", unpinned}, exitUsage, "--password-ref")
}
