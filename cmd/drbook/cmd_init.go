package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/vcenter"
)

// initOptions are drbook init's flags.
type initOptions struct {
	Site        string
	Lab         bool
	Output      string
	Force       bool
	AcceptNew   bool
	Name        string
	Datacenter  string
	PasswordRef string
	LabSpeed    float64
	Timeout     time.Duration

	// startLab starts the lab for --lab and returns its site and how to
	// stop it; nil is the embedded lab, stopped when init ends. Tests keep
	// a lab running past the command to use the site it wrote.
	startLab func(ctx context.Context) (*site.Site, func(), error)
}

// AddFlags registers init's flags.
func (o *initOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Site, "site", "", "a site file whose vcenter section says where vCenter is and how to log in (without one: govc's GOVC_* environment)")
	f.BoolVar(&o.Lab, "lab", false, "discover the embedded simulated lab")
	f.StringVarP(&o.Output, "output", "o", "", "the site file to write")
	f.BoolVar(&o.Force, "force", false, "overwrite the output file if it exists")
	f.BoolVar(&o.AcceptNew, "accept-new", false, "trust a vCenter certificate that is neither pinned nor signed by a trusted CA, and pin it in the written file")
	f.StringVar(&o.Name, "name", "", "the site's name (default: the datacenter's, in lower case)")
	f.StringVar(&o.Datacenter, "datacenter", "", "the datacenter to discover (default: the site's, or the only one)")
	f.StringVar(&o.PasswordRef, "password-ref", "", "the secret reference the written file gives for the vCenter password, e.g. env:VC_PASSWORD (default: the --site file's; env:DRBOOK_VC_PASSWORD for --lab)")
	f.Float64Var(&o.LabSpeed, "lab-speed", 30, "with --lab: how many times faster than real time the lab runs")
	f.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "how long the discovery may take before init gives up (0: no limit)")
}

func newInitCommand(g *globalOptions) *cobra.Command {
	opts := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init (--site S | --lab) -o FILE",
		Short: "Discover a vCenter's inventory (read-only) and write a site file to start from",
		Long: "init logs in to vCenter, reads one datacenter's clusters, hosts, datastores, port groups and VMs\n" +
			"with the guest IPs VMware Tools reports, and writes a site file: secret references instead of\n" +
			"passwords, the vCenter certificate pinned, a guest entry for every VM that has an IP and is not\n" +
			"Windows, with placeholders (marked CHECK) for what vCenter cannot know: the SSH user and key.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInit(cmd.Context(), g, opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// defaultLabPasswordRef is what a site discovered from the lab names for
// the vCenter password.
const defaultLabPasswordRef = "env:DRBOOK_VC_PASSWORD"

func runInit(ctx context.Context, g *globalOptions, o *initOptions) error {
	m := messagesFor(g.Lang)
	if (o.Site == "") == !o.Lab {
		return usage(text("name where vCenter is: --site SITE.yaml (its vcenter section), or --lab for the embedded lab", "請指明 vCenter 所在：--site SITE.yaml（其 vcenter 區段），或以 --lab 使用內建模擬環境"), i18n.New("init discovers one vCenter: give exactly one of --site and --lab", "init 一次探查一台 vCenter：--site 與 --lab 須擇一指定"))
	}
	if o.Output == "" {
		return usage(text("write drbook init --site S -o NEW-SITE.yaml", "請寫成 drbook init --site S -o NEW-SITE.yaml"), i18n.New("init needs the file to write: -o FILE", "init 須指定要寫入之檔案：-o FILE"))
	}
	if _, err := os.Lstat(o.Output); err == nil && !o.Force {
		return usage(text("choose another -o, or add --force to replace it", "請以 -o 指定其他檔案，或加 --force 覆寫"), i18n.Errorf("%s exists; init does not overwrite a site file", "%s 已存在；init 不覆寫場域檔", o.Output))
	}
	var passwordRef site.SecretRef
	if o.PasswordRef != "" {
		ref, err := site.ParseSecretRef(o.PasswordRef)
		if err != nil || ref.IsZero() {
			return usage(text("e.g. --password-ref env:VC_PASSWORD", "例如 --password-ref env:VC_PASSWORD"), i18n.Errorf("--password-ref %q: %v", "--password-ref %q：%v", o.PasswordRef, err))
		}
		passwordRef = ref
	}
	var src *site.Site
	from := o.Site
	if o.Lab {
		start := o.startLab
		if start == nil {
			start = func(ctx context.Context) (*site.Site, func(), error) {
				return startLab(ctx, &siteOptions{LabSpeed: o.LabSpeed})
			}
		}
		s, stop, err := start(ctx)
		if err != nil {
			return err
		}
		defer stop()
		src, from = s, "the embedded lab"
		if passwordRef.IsZero() {
			passwordRef, _ = site.ParseSecretRef(defaultLabPasswordRef)
		}
	} else {
		s, _, err := runbooks.LoadSite(o.Site)
		if err != nil {
			return err
		}
		src = s
	}
	dctx, cancel := context.WithCancel(ctx)
	if o.Timeout > 0 {
		dctx, cancel = context.WithTimeout(ctx, o.Timeout)
	}
	defer cancel()
	d, err := vcenter.Discover(dctx, vcenter.DiscoverOptions{Site: src, Datacenter: o.Datacenter, AcceptNew: o.AcceptNew,
		Secret: func(ref site.SecretRef, label string) (string, error) { return ref.Resolve(label, terminalPrompter{g}) }})
	if err != nil {
		var uc *vcenter.UnknownCertificateError
		if errors.As(err, &uc) {
			return &hintedError{err: err, hint: text("check the SHA-256 at the vCenter console, then run init again with --accept-new: the written file pins it", "請於 vCenter 主控台核對 SHA-256，再加 --accept-new 重新執行 init：寫入之檔案將固定該憑證")}
		}
		if ctx.Err() != nil {
			return i18n.Errorf("init interrupted; nothing was written: %w", "init 執行中斷；未寫入任何檔案：%w", err)
		}
		if dctx.Err() != nil {
			return &hintedError{err: i18n.Errorf("vCenter (%s) did not finish answering within %s: %w", "vCenter（%s）未於 %s 內回應完畢：%w", from, o.Timeout, err), hint: text("check that vCenter is up and not overloaded, or give more time with --timeout; nothing was written", "請確認 vCenter 已啟動且未過載，或以 --timeout 延長時限；未寫入任何檔案")}
		}
		return &hintedError{err: err, hint: text(fmt.Sprintf("check the vcenter section of %s (url, user, password reference) and that vCenter answers there; nothing was written", from), fmt.Sprintf("請檢查 %s 之 vcenter 區段（url、user、密碼參照）及 vCenter 於該處是否回應；未寫入任何檔案", from))}
	}
	if passwordRef.IsZero() {
		passwordRef = d.Password
		if passwordRef.IsZero() {
			passwordRef, _ = site.ParseSecretRef("prompt")
		}
	}
	home, _ := os.UserHomeDir()
	text, sum, err := renderSite(d, siteRender{Name: o.Name, Password: passwordRef, From: from, At: time.Now(), KeyFile: filepath.Join(home, ".ssh", "id_rsa")})
	if err != nil {
		return err
	}
	// The file must load as written: a site init cannot read back is a bug
	// here, not something for the operator to fix.
	if _, err := runbooks.ParseSite(o.Output, text); err != nil {
		return i18n.Errorf("drbook init wrote a site that does not validate (a bug; please report it): %w", "drbook init 寫出之場域檔未通過檢查（程式錯誤，請回報）：%w", err)
	}
	if err := writeNewFile(o.Output, text, o.Force); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, m.Tf("init.wrote", o.Output, d.URL, d.Datacenter, sum.hosts, sum.guests, sum.vms))
	how := map[string]string{"pinned": m.T("trust.pinned"), "ca": m.T("trust.ca"), "accepted-new": m.T("trust.accepted_new")}[d.Trust.Source]
	fmt.Fprintln(g.stdout, m.Tf("init.pinned", d.Trust.Fingerprint, how))
	if d.Trust.Source == "accepted-new" {
		fmt.Fprintln(g.stdout, m.T("init.check_pin"))
	}
	if sum.guests > 0 {
		fmt.Fprintln(g.stdout, m.Tf("init.placeholders", sum.guests))
	}
	fmt.Fprintln(g.stdout, m.Tf("init.next", passwordRef.String(), o.Output))
	return nil
}

// writeNewFile writes data to path whole (a temporary file renamed or
// linked into place), never replacing an existing file unless force.
func writeNewFile(path string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return i18n.Errorf("cannot write %s: %w", "無法寫入 %s：%w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return i18n.Errorf("cannot write %s: %w", "無法寫入 %s：%w", path, err)
	}
	if force {
		err = os.Rename(tmp.Name(), path)
	} else if err = os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return usage(text("choose another -o, or add --force to replace it", "請以 -o 指定其他檔案，或加 --force 覆寫"), i18n.Errorf("%s appeared while init ran; it was left as it is", "%s 於 init 執行期間出現；已保留原狀", path))
	}
	if err != nil {
		return i18n.Errorf("cannot write %s: %w", "無法寫入 %s：%w", path, err)
	}
	return nil
}

// siteRender is what a written site says beyond the discovery.
type siteRender struct {
	Name     string
	Password site.SecretRef
	From     string
	At       time.Time
	KeyFile  string
}

type siteSummary struct{ hosts, guests, vms int }

// renderSite writes a discovery as a site file: YAML built node by node
// (so every name is quoted as YAML needs, whatever it holds), with
// comments that quote names in Go syntax (so a newline in a VM name
// cannot end a comment and start YAML).
func renderSite(d *vcenter.Discovery, r siteRender) ([]byte, siteSummary, error) {
	var sum siteSummary
	name := r.Name
	if name == "" {
		name = strings.ReplaceAll(siteKey(d.Datacenter), "_", "-")
	}
	root := mapNode()
	put(root, "name", str(name), "")
	vc := mapNode()
	put(vc, "url", str(d.URL), "")
	put(vc, "user", str(d.User), "")
	put(vc, "password", str(r.Password.String()), "a secret reference, never the password itself: env:NAME, file:PATH or prompt")
	pin := seqNode(str(strings.TrimPrefix(d.Trust.Fingerprint, "SHA256:")))
	pin.Style = yaml.FlowStyle
	trust := map[string]string{"pinned": "already pinned in " + r.From, "ca": "signed by a CA this machine trusts", "accepted-new": "accepted with --accept-new: compare it with the certificate at the vCenter console"}[d.Trust.Source]
	put(vc, "thumbprints", pin, fmt.Sprintf("SHA-256 of the certificate vCenter presented to drbook init on %s (%s)", r.At.UTC().Format("2006-01-02 15:04 MST"), trust))
	put(vc, "datacenter", str(d.Datacenter), "")
	put(root, "vcenter", vc, "")

	var about []string
	for _, c := range d.Clusters {
		about = append(about, fmt.Sprintf("cluster %s: HA %s, DRS %s, %d host(s): %s", quote(c.Name), onOff(c.HA), onOff(c.DRS), len(c.Hosts), quoteAll(c.Hosts)))
	}
	for _, s := range d.Datastores {
		shared := "local"
		if s.Shared {
			shared = "shared"
		}
		about = append(about, fmt.Sprintf("datastore %s: %s %s, %s of %s free, %d VM(s)", quote(s.Name), shared, s.Type, bytesText(s.FreeB), bytesText(s.CapacityB), s.VMsCount))
	}
	for _, n := range d.Networks {
		about = append(about, fmt.Sprintf("port group %s (%s): %d VM(s)", quote(n.Name), n.Kind, n.VMs))
	}

	hosts := mapNode()
	used := map[string]bool{}
	for _, h := range d.Hosts {
		key := uniqueKey(hostKey(h.Name), used)
		hn := mapNode()
		if key != h.Name {
			put(hn, "name", str(h.Name), "")
		}
		if h.Address != "" {
			put(hn, "address", str(h.Address), "")
		}
		cluster := "no cluster"
		if h.Cluster != "" {
			cluster = "cluster " + quote(h.Cluster)
		}
		comment := fmt.Sprintf("%s: %s, %s, %s, %s memory", quote(h.Name), cluster, h.ConnectionState, h.PowerState, bytesText(h.MemoryMB<<20))
		if h.InMaintenance {
			comment += ", in maintenance mode"
		}
		if h.Address == "" {
			comment += "; CHECK: vCenter reports no management address, add address:"
		}
		comment += "; its BMC (bmc:, bmc_user:, bmc_password:) is what powers it back on"
		put(hosts, key, hn, comment)
		sum.hosts++
	}
	if len(d.Hosts) > 0 {
		put(root, "hosts", hosts, "")
	}

	guests := mapNode()
	var left []string
	used = map[string]bool{}
	for _, v := range d.VMs {
		sum.vms++
		where := v.PowerState
		if v.Host != "" {
			where += " on " + quote(v.Host)
		}
		guestOS := v.GuestFullName
		if guestOS == "" {
			guestOS = v.GuestID
		}
		switch {
		case v.Template:
			left = append(left, fmt.Sprintf("%s: template (%s)", quote(v.Name), guestOS))
			continue
		case v.IP == "":
			left = append(left, fmt.Sprintf("%s: %s, %s, no IP from VMware Tools (add it by hand if drbook should log in)", quote(v.Name), guestOS, where))
			continue
		case isWindows(v):
			left = append(left, fmt.Sprintf("%s: %s, %s, %s: Windows, no SSH", quote(v.Name), guestOS, where, v.IP))
			continue
		}
		key := uniqueKey(siteKey(stripPrefixNumber(v.Name)), used)
		gn := mapNode()
		put(gn, "vm", str(v.Name), "")
		put(gn, "address", str(v.IP), "")
		put(gn, "user", str("root"), "CHECK: placeholder, the account drbook logs in as")
		put(gn, "key_file", str(r.KeyFile), "CHECK: placeholder, that account's private key (or password: env:NAME)")
		if isLegacy(v) {
			put(gn, "legacy", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "RHEL 4/5: OpenSSH 4.3 offers only SHA-1 key exchanges and CBC ciphers")
		}
		comment := fmt.Sprintf("%s: %s, %s, IP from VMware Tools", quote(v.Name), guestOS, where)
		if len(v.IPs) > 1 {
			comment += " (all: " + strings.Join(v.IPs, ", ") + ")"
		}
		put(guests, key, gn, comment)
		sum.guests++
	}
	if sum.guests > 0 {
		put(root, "guests", guests, "host keys are not pinned: the first run with --accept-new records them, or add host_keys: [\"SHA256:…\"]")
	}
	var foot []string
	if len(left) > 0 {
		foot = append(foot, "VMs without a guest entry:")
		for _, l := range left {
			foot = append(foot, "  "+l)
		}
	}
	foot = append(foot, "services: the URLs drills probe, e.g.", "  ap_web: {url: \"http://ADDRESS:8080/moiland/\"}")
	root.FootComment = strings.Join(foot, "\n")

	head := []string{
		"drbook site file written by `drbook init` from " + r.From,
		fmt.Sprintf("at %s: vCenter %s (%s), datacenter %s:", r.At.UTC().Format(time.RFC3339), d.URL, orUnknown(d.Product), quote(d.Datacenter)),
		fmt.Sprintf("%d cluster(s), %d host(s), %d datastore(s), %d port group(s), %d VM(s).", len(d.Clusters), len(d.Hosts), len(d.Datastores), len(d.Networks), len(d.VMs)),
	}
	for _, a := range about {
		head = append(head, "  "+a)
	}
	head = append(head, "Lines marked CHECK are placeholders for what vCenter cannot know.",
		"`drbook validate --site FILE` checks the file; `drbook preflight RUNBOOK --site FILE` logs in.")
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}, HeadComment: strings.Join(head, "\n")}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, sum, i18n.Errorf("writing the site: %w", "寫入場域檔：%w", err)
	}
	enc.Close()
	return buf.Bytes(), sum, nil
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func seqNode(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

// str is a string scalar; its !!str tag makes the encoder quote a value
// YAML would read as something else (true, 1.5, null, "- x", "a: b").
func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// put adds key: value to a mapping, with a comment above the key.
func put(m *yaml.Node, key string, value *yaml.Node, comment string) {
	k := str(key)
	k.HeadComment = comment
	m.Content = append(m.Content, k, value)
}

// quote is a name as comments show it: in double quotes with Go's
// escapes, so nothing in it ends the comment line.
func quote(s string) string { return strconv.Quote(s) }

func quoteAll(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = quote(s)
	}
	return strings.Join(out, ", ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orUnknown(s string) string {
	if s == "" {
		return "product unknown"
	}
	return s
}

// bytesText is a size in the units vSphere shows.
func bytesText(b int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	f := float64(b)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.2f %s", f, units[i])
}

func isWindows(v vcenter.DiscoveredVM) bool {
	return strings.HasPrefix(strings.ToLower(v.GuestID), "win") || strings.Contains(strings.ToLower(v.GuestFullName), "windows")
}

func isLegacy(v vcenter.DiscoveredVM) bool {
	id := strings.ToLower(v.GuestID)
	return strings.HasPrefix(id, "rhel4") || strings.HasPrefix(id, "rhel5")
}

// stripPrefixNumber drops a VM name's leading "(NN)", the IP suffix the
// reference site's names start with: "(65)apfg(02)" is apfg02.
func stripPrefixNumber(name string) string {
	if strings.HasPrefix(name, "(") {
		if end := strings.IndexByte(name, ')'); end > 1 {
			if _, err := strconv.Atoi(name[1:end]); err == nil && end+1 < len(name) {
				return name[end+1:]
			}
		}
	}
	return name
}

// siteKey makes a name into a key runbooks can write as site.guests.KEY:
// ASCII letters and digits kept (lower case), parentheses dropped, every
// other run of characters one "_", starting with a letter.
func siteKey(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		case r == '(' || r == ')':
		default:
			under = true
		}
	}
	key := b.String()
	if key == "" {
		return "vm"
	}
	if key[0] >= '0' && key[0] <= '9' {
		key = "vm_" + key
	}
	return key
}

// hostKey keeps a host's name as its key when a runbook can write it as a
// host parameter (esx-68, 10.0.0.68, esx68.example); otherwise siteKey.
func hostKey(name string) string {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return siteKey(name)
		}
	}
	if name == "" {
		return "host"
	}
	return name
}

// uniqueKey returns key, or key_2, key_3 … when it is taken.
func uniqueKey(key string, used map[string]bool) string {
	k := key
	for i := 2; used[k]; i++ {
		k = fmt.Sprintf("%s_%d", key, i)
	}
	used[k] = true
	return k
}
