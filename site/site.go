// Package site is the inventory of one place a runbook runs against: the
// vCenter endpoint, the ESXi hosts, the guests reachable over SSH and the
// services to probe. A site is data only; the runbooks package loads it from
// YAML with positions, the step kinds read it, and secrets stay references
// in it: a run resolves them all before its first step.
package site

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/drbook/drbook/i18n"
)

// Site is a loaded site file.
type Site struct {
	// Name identifies the site in reports, e.g. "sanchong".
	Name string `json:"name" expr:"name" yaml:"name,omitempty"`
	// Lab is true when the site is drbook's embedded simulated lab.
	Lab bool `json:"lab,omitempty" expr:"lab" yaml:"lab,omitempty"`
	// VCenter is the vCenter endpoint; nil when the site has none.
	VCenter *VCenter `json:"vcenter,omitempty" expr:"vcenter" yaml:"vcenter,omitempty"`
	// Hosts are the ESXi hosts by the name runbooks use.
	Hosts map[string]Host `json:"hosts,omitempty" expr:"hosts" yaml:"hosts,omitempty"`
	// Guests are the machines reached over SSH by the name runbooks use.
	Guests map[string]Guest `json:"guests,omitempty" expr:"guests" yaml:"guests,omitempty"`
	// Services are endpoints that checks and monitors probe.
	Services map[string]Service `json:"services,omitempty" expr:"services" yaml:"services,omitempty"`
}

// VCenter is how to reach and trust a vCenter (or ESXi) SOAP endpoint.
type VCenter struct {
	URL  string `json:"url" expr:"url" yaml:"url,omitempty"`
	User string `json:"user" expr:"user" yaml:"user,omitempty"`
	// Password is a secret reference, never the secret itself.
	Password SecretRef `json:"password" expr:"-" yaml:"password,omitempty"`
	// Thumbprints pins server certificates by SHA-256 (or legacy SHA-1)
	// fingerprint, hex with or without colons.
	Thumbprints []string `json:"thumbprints,omitempty" expr:"thumbprints" yaml:"thumbprints,omitempty"`
	// CAFile is a PEM bundle of certificate authorities to trust.
	CAFile string `json:"ca_file,omitempty" expr:"ca_file" yaml:"ca_file,omitempty"`
	// Datacenter narrows inventory lookups; empty means the only one.
	Datacenter string `json:"datacenter,omitempty" expr:"datacenter" yaml:"datacenter,omitempty"`
}

// Host is an ESXi host.
type Host struct {
	// Name is the host's name in the vCenter inventory.
	Name string `json:"name" expr:"name" yaml:"name,omitempty"`
	// Address is the management address, for reports and reachability checks.
	Address string `json:"address,omitempty" expr:"address" yaml:"address,omitempty"`
	// BMC is the host's out-of-band controller (IMM, iLO, iDRAC) as the
	// URL of its Redfish ComputerSystem, e.g.
	// https://imm-68.example/redfish/v1/Systems/1: what powers a host on
	// that was shut down or failed, which vCenter cannot (it wakes only a
	// host it put into standby).
	BMC string `json:"bmc,omitempty" expr:"bmc" yaml:"bmc,omitempty"`
	// BMCUser and BMCPassword log in to the BMC (HTTP basic auth).
	BMCUser     string    `json:"bmc_user,omitempty" expr:"bmc_user" yaml:"bmc_user,omitempty"`
	BMCPassword SecretRef `json:"bmc_password,omitempty" expr:"-" yaml:"bmc_password,omitempty"`
}

// Guest is a machine drbook logs in to over SSH.
type Guest struct {
	// VM is the guest's VM name in vCenter, when it is a VM.
	VM      string `json:"vm,omitempty" expr:"vm" yaml:"vm,omitempty"`
	Address string `json:"address" expr:"address" yaml:"address,omitempty"`
	Port    int    `json:"port,omitempty" expr:"port" yaml:"port,omitempty"`
	User    string `json:"user,omitempty" expr:"user" yaml:"user,omitempty"`
	// KeyFile is a private key file; KeyPassphrase unlocks it.
	KeyFile       string    `json:"key_file,omitempty" expr:"key_file" yaml:"key_file,omitempty"`
	KeyPassphrase SecretRef `json:"key_passphrase,omitempty" expr:"-" yaml:"key_passphrase,omitempty"`
	// Password is used for password and keyboard-interactive logins.
	Password SecretRef `json:"password,omitempty" expr:"-" yaml:"password,omitempty"`
	// Agent allows keys from ssh-agent (SSH_AUTH_SOCK).
	Agent bool `json:"agent,omitempty" expr:"agent" yaml:"agent,omitempty"`
	// HostKeys pins the guest's host keys, each an authorized_keys style
	// line ("ssh-ed25519 AAAA…") or a "SHA256:…" fingerprint.
	HostKeys []string `json:"host_keys,omitempty" expr:"host_keys" yaml:"host_keys,omitempty"`
	// Legacy allows the algorithms of RHEL 5's OpenSSH 4.3 for this guest.
	Legacy bool `json:"legacy,omitempty" expr:"legacy" yaml:"legacy,omitempty"`
	// Become is "sudo" to run commands through sudo, or empty.
	Become string `json:"become,omitempty" expr:"become" yaml:"become,omitempty"`
	// Jump names another guest to connect through (ProxyJump).
	Jump string `json:"jump,omitempty" expr:"jump" yaml:"jump,omitempty"`
	// MaxSessions caps concurrent sessions on the one connection.
	MaxSessions int `json:"max_sessions,omitempty" expr:"max_sessions" yaml:"max_sessions,omitempty"`
}

// Service is an endpoint to probe.
type Service struct {
	URL     string `json:"url,omitempty" expr:"url" yaml:"url,omitempty"`
	Address string `json:"address,omitempty" expr:"address" yaml:"address,omitempty"`
}

// SecretRef names where a secret comes from: "env:NAME", "file:PATH" or
// "prompt". The zero value means no secret.
type SecretRef struct {
	Source string `json:"source,omitempty" yaml:"-"`
	Name   string `json:"name,omitempty" yaml:"-"`
	// At is where the reference is written ("site.yaml:12:15"), for
	// messages; empty when it does not come from a file.
	At string `json:"-" yaml:"-"`
}

// Secret is one secret reference of a site and what it is for.
type Secret struct {
	// Field is where it sits in the site, e.g. "guests.ap02.password".
	Field string
	// Label says what the secret is for, in prompts and messages; it is
	// worded as the step kinds word it when they ask for the secret.
	Label string
	Ref   SecretRef
}

// Secrets lists every secret reference of the site, vCenter first, then
// the hosts' BMCs and the guests by name.
func (s *Site) Secrets() []Secret {
	if s == nil {
		return nil
	}
	var out []Secret
	if vc := s.VCenter; vc != nil && !vc.Password.IsZero() {
		out = append(out, Secret{Field: "vcenter.password", Label: "vCenter password for " + vc.User, Ref: vc.Password})
	}
	if s.VCenter == nil {
		// A site without a vcenter section reaches vCenter through govc's
		// environment (steps/vcenter): that password is the run's secret
		// like any other, read and hidden from the start, not from the
		// first vCenter step.
		if _, ok := os.LookupEnv(GovcPasswordEnv); ok {
			out = append(out, Secret{Field: GovcPasswordEnv, Label: "vCenter password from " + GovcPasswordEnv, Ref: SecretRef{Source: "env", Name: GovcPasswordEnv}})
		}
	}
	hosts := make([]string, 0, len(s.Hosts))
	for name := range s.Hosts {
		hosts = append(hosts, name)
	}
	sort.Strings(hosts)
	for _, name := range hosts {
		if h := s.Hosts[name]; !h.BMCPassword.IsZero() {
			out = append(out, Secret{Field: "hosts." + name + ".bmc_password", Label: "BMC password of " + name, Ref: h.BMCPassword})
		}
	}
	names := make([]string, 0, len(s.Guests))
	for name := range s.Guests {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		g := s.Guests[name]
		user := g.User
		if user == "" {
			user = "root"
		}
		if !g.Password.IsZero() {
			out = append(out, Secret{Field: "guests." + name + ".password", Label: "password for " + user + "@" + name, Ref: g.Password})
		}
		if !g.KeyPassphrase.IsZero() {
			out = append(out, Secret{Field: "guests." + name + ".key_passphrase", Label: "passphrase of " + g.KeyFile, Ref: g.KeyPassphrase})
		}
	}
	return out
}

// GovcPasswordEnv is govc's environment variable for the vCenter password,
// which drbook honours when a site has no vcenter section.
const GovcPasswordEnv = "GOVC_PASSWORD"

// ParseSecretRef parses the textual form of a secret reference.
func ParseSecretRef(s string) (SecretRef, error) {
	switch {
	case s == "":
		return SecretRef{}, nil
	case s == "prompt":
		return SecretRef{Source: "prompt"}, nil
	case strings.HasPrefix(s, "prompt:"):
		return SecretRef{Source: "prompt", Name: strings.TrimPrefix(s, "prompt:")}, nil
	case strings.HasPrefix(s, "env:") && len(s) > 4:
		return SecretRef{Source: "env", Name: s[4:]}, nil
	case strings.HasPrefix(s, "file:") && len(s) > 5:
		return SecretRef{Source: "file", Name: s[5:]}, nil
	}
	return SecretRef{}, i18n.New(`a secret must be a reference: "env:NAME", "file:PATH" or "prompt", never the secret itself`,
		`機敏資料須為參照："env:NAME"、"file:PATH" 或 "prompt"，絕不可為機敏資料本身`)
}

// IsZero reports whether no secret is referenced.
func (r SecretRef) IsZero() bool { return r.Source == "" }

// String returns the reference's textual form; it never contains the secret.
func (r SecretRef) String() string {
	if r.Source == "prompt" && r.Name == "" {
		return "prompt"
	}
	if r.Source == "" {
		return ""
	}
	return r.Source + ":" + r.Name
}

// MarshalText keeps the reference's textual form in JSON.
func (r SecretRef) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the textual form.
func (r *SecretRef) UnmarshalText(b []byte) error {
	v, err := ParseSecretRef(string(b))
	*r = v
	return err
}

// Prompter asks the operator for a secret without echoing it.
type Prompter interface {
	PromptSecret(label string) (string, error)
}

// Resolve reads the secret the reference names. label says what it is for,
// for the prompt and for error messages.
func (r SecretRef) Resolve(label string, p Prompter) (string, error) {
	switch r.Source {
	case "":
		return "", nil
	case "env":
		v, ok := os.LookupEnv(r.Name)
		if !ok {
			return "", fmt.Errorf("%s: environment variable %s is not set (export it, or point the site file at another secret)", label, r.Name)
		}
		return v, nil
	case "file":
		b, err := os.ReadFile(r.Name)
		if err != nil {
			return "", fmt.Errorf("%s: cannot read secret file: %w (create it, readable only by you, or point the site file at another secret)", label, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case "prompt":
		if p == nil {
			return "", fmt.Errorf("%s: the site asks to prompt for this secret, but there is no terminal (use env:NAME or file:PATH for unattended runs)", label)
		}
		return p.PromptSecret(label)
	}
	return "", fmt.Errorf("%s: unknown secret source %q", label, r.Source)
}
