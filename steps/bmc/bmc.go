// Package bmc holds the step kinds that act on a host's out-of-band
// controller (BMC: IBM's IMM, HPE's iLO, Dell's iDRAC) rather than through
// vCenter. vCenter can power on only a host it put into standby; a host
// that was shut down or failed, as in the HA drill, is powered on at its
// console or through its BMC. bmc.power_on does the latter over the DMTF
// Redfish API the site file points at (hosts.NAME.bmc), the way an operator
// would with curl, and waits until the BMC reports the chassis on.
package bmc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// Kinds returns the BMC step kinds.
func Kinds() []steps.Kind { return []steps.Kind{powerOn{}} }

// PowerOnParams are the parameters of bmc.power_on.
type PowerOnParams struct {
	// Host is the site's host name; its `bmc:` URL is the Redfish
	// ComputerSystem to power on.
	Host string `yaml:"host"`
	// Timeout bounds the BMC's answers and the wait for power.
	Timeout journal.Duration `yaml:"timeout"`
}

// PowerOnResult is what bmc.power_on records.
type PowerOnResult struct {
	Host string `json:"host" expr:"host"`
	BMC  string `json:"bmc" expr:"bmc"`
	// PowerBefore and PowerAfter are the BMC's PowerState ("On", "Off").
	PowerBefore string    `json:"power_before" expr:"power_before"`
	PowerAfter  string    `json:"power_after" expr:"power_after"`
	RequestedAt time.Time `json:"requested_at" expr:"requested_at"`
	// AlreadyOn is set when the chassis was on and nothing was sent.
	AlreadyOn bool `json:"already_on" expr:"already_on"`
}

type powerOn struct{}

var (
	_ steps.Kind        = powerOn{}
	_ steps.Preflighter = powerOn{}
)

func (powerOn) Name() string { return "bmc.power_on" }
func (powerOn) Summary() string {
	return "power a host on through its BMC (IMM, iLO, iDRAC) over Redfish, as for a host vCenter cannot power on"
}

// Traits: pressing the power button of a machine that is on changes
// nothing, so a resumed run may repeat the step.
func (powerOn) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (powerOn) NewParams() any       { return &PowerOnParams{Timeout: journal.Duration(2 * time.Minute)} }
func (powerOn) NewResult() any       { return &PowerOnResult{} }

func (powerOn) Validate(p any) []steps.FieldError {
	pp := p.(*PowerOnParams)
	var errs []steps.FieldError
	if pp.Host == "" {
		errs = append(errs, steps.Fieldf("host", "name the host to power on (a key of the site's hosts)", "請指定要開機之主機（場域 hosts 中之鍵）"))
	}
	if pp.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be more than 0s", "須大於 0s"))
	}
	return errs
}

func (powerOn) Describe(p any) steps.Description {
	pp := p.(*PowerOnParams)
	return steps.Description{Action: "power host " + pp.Host + " on at its BMC (Redfish ComputerSystem.Reset On)",
		ActionZhTW: "透過主機 " + pp.Host + " 之管理介面（BMC）開機（Redfish ComputerSystem.Reset On）", Target: pp.Host,
		Command: "POST <bmc>/Actions/ComputerSystem.Reset {\"ResetType\": \"On\"}"}
}

// client is one host's BMC as the site describes it.
type client struct {
	system string // the ComputerSystem URL
	user   string
	pass   string
	http   *http.Client
}

func newClient(rt steps.Runtime, name string, timeout time.Duration) (*client, error) {
	h, ok := rt.Site().Hosts[name]
	if !ok {
		return nil, i18n.Errorf("the site has no host %q", "場域中沒有主機 %q", name)
	}
	if h.BMC == "" {
		return nil, i18n.Errorf("host %s has no bmc in the site file; add its Redfish system URL:\n  hosts:\n    %s:\n      bmc: https://BMC-ADDRESS/redfish/v1/Systems/1\n      bmc_user: USER\n      bmc_password: env:BMC_PASSWORD\nor power it on at its console (a manual step)", "主機 %s 於場域檔中沒有 bmc；請加上其 Redfish 系統網址：\n  hosts:\n    %s:\n      bmc: https://BMC-ADDRESS/redfish/v1/Systems/1\n      bmc_user: USER\n      bmc_password: env:BMC_PASSWORD\n或於其主控台開機（人工步驟）", name, name)
	}
	u, err := url.Parse(h.BMC)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, i18n.Errorf("host %s: bmc %q is not an http(s) URL of a Redfish system (e.g. https://imm-68.example/redfish/v1/Systems/1)", "主機 %s：bmc %q 不是 Redfish 系統之 http(s) 網址（例如 https://imm-68.example/redfish/v1/Systems/1）", name, h.BMC)
	}
	c := &client{system: strings.TrimSuffix(h.BMC, "/"), user: h.BMCUser,
		// The system's CAs verify the BMC's certificate; never skipped.
		http: &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}}
	if !h.BMCPassword.IsZero() {
		if c.pass, err = rt.Secret(h.BMCPassword, "BMC password of "+name); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.system+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return i18n.Errorf("BMC %s: %w", "BMC %s：%w", c.system, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(b))
		var rf struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(b, &rf) == nil && rf.Error.Message != "" {
			msg = rf.Error.Message
		}
		hint := i18n.New("", "")
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden {
			hint = i18n.New(" (check the host's bmc_user and bmc_password in the site file)", "（請檢查場域檔中該主機之 bmc_user 與 bmc_password）")
		}
		return i18n.Errorf("BMC %s answered %s to %s %s: %s%v", "BMC %s 對 %s %s %s 回應：%s%v", c.system, res.Status, method, path, msg, hint)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return i18n.Errorf("BMC %s: the answer to %s %s is not Redfish JSON: %w", "BMC %s：對 %s %s 之回應不是 Redfish JSON：%w", c.system, method, path, err)
		}
	}
	return nil
}

func (c *client) powerState(ctx context.Context) (string, error) {
	var sys struct{ PowerState string }
	if err := c.do(ctx, http.MethodGet, "", nil, &sys); err != nil {
		return "", err
	}
	return sys.PowerState, nil
}

// Preflight reads the power state: the BMC answers and the credentials work.
func (powerOn) Preflight(ctx context.Context, rt steps.Runtime, p any) error {
	pp := p.(*PowerOnParams)
	c, err := newClient(rt, pp.Host, pp.Timeout.D())
	if err != nil {
		return err
	}
	_, err = c.powerState(ctx)
	return err
}

func (powerOn) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	pp := p.(*PowerOnParams)
	ctx, cancel := context.WithTimeout(ctx, pp.Timeout.D())
	defer cancel()
	c, err := newClient(rt, pp.Host, pp.Timeout.D())
	if err != nil {
		return nil, err
	}
	res := &PowerOnResult{Host: pp.Host, BMC: c.system, RequestedAt: time.Now()}
	if res.PowerBefore, err = c.powerState(ctx); err != nil {
		return nil, err
	}
	if res.PowerBefore == "On" {
		res.AlreadyOn, res.PowerAfter = true, "On"
		steps.SayNote(rt, "info", "host %s is already powered on (its BMC says PowerState On); nothing was sent", "主機 %s 已開機（管理介面回報 PowerState On）；未送出任何指令", pp.Host)
		return res, nil
	}
	if err := c.do(ctx, http.MethodPost, "/Actions/ComputerSystem.Reset", map[string]string{"ResetType": "On"}, nil); err != nil {
		return res, err
	}
	// A BMC applies the reset asynchronously: read until it reports On.
	for delay := 100 * time.Millisecond; ; delay = min(delay*2, 5*time.Second) {
		if res.PowerAfter, err = c.powerState(ctx); err != nil {
			return res, err
		}
		if res.PowerAfter == "On" {
			break
		}
		select {
		case <-ctx.Done():
			return res, i18n.Errorf("host %s: its BMC still reports PowerState %q: %w", "主機 %s：其 BMC 仍回報 PowerState %q：%w", pp.Host, res.PowerAfter, ctx.Err())
		case <-time.After(delay):
		}
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "power on " + pp.Host + " at its BMC", TitleZhTW: "透過管理介面將主機 " + pp.Host + " 開機", Facts: journal.Facts(
		[3]string{"BMC", "管理介面（BMC）", c.system}, [3]string{"power before", "開機前電源狀態", res.PowerBefore}, [3]string{"power after", "開機後電源狀態", res.PowerAfter},
		[3]string{"requested", "送出時間", res.RequestedAt.Format(time.RFC3339Nano)},
	)})
	return res, nil
}
