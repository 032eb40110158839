// Package check holds the step kinds that probe services from the
// operator's machine: check.http and check.tcp. Their probe functions,
// ProbeHTTP and ProbeTCP, are exported so that a background monitor can
// run the very same probe throughout a run.
package check

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// Kinds returns every check.* step kind.
func Kinds() []steps.Kind { return []steps.Kind{&httpKind{}, &tcpKind{}} }

// StatusList is one status code or a list of them.
type StatusList []int

// UnmarshalYAML accepts `200` or `[200, 301]`.
func (s *StatusList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := strconv.Atoi(n.Value)
		if err != nil {
			return i18n.Errorf("line %d: status %q must be a whole number such as 200", "line %d: status %q 須為整數，例如 200", n.Line, n.Value)
		}
		*s = StatusList{v}
		return nil
	}
	var list []int
	if err := n.Decode(&list); err != nil {
		return err
	}
	*s = list
	return nil
}

// HTTPParams are check.http's parameters, and what ProbeHTTP takes.
type HTTPParams struct {
	URL    string `yaml:"url"`
	Method string `yaml:"method"`
	// Status lists the acceptable status codes; 200 by default.
	Status StatusList `yaml:"status"`
	// Body must appear in the response body; BodyRegex must match it.
	Body      string            `yaml:"body"`
	BodyRegex string            `yaml:"body_regex"`
	Headers   map[string]string `yaml:"headers"`
	Timeout   journal.Duration  `yaml:"timeout"`
	// CAFile is a PEM bundle to verify the server's certificate with,
	// instead of the system's roots.
	CAFile string `yaml:"ca_file"`
	// Thumbprint pins the server certificate's SHA-256 fingerprint (hex,
	// colons allowed); the certificate is then trusted by the pin alone,
	// which is how self-signed appliance certificates are checked safely.
	Thumbprint string `yaml:"thumbprint"`
	// ServerName overrides the TLS server name (SNI and verification).
	ServerName string `yaml:"server_name"`
	// FollowRedirects follows up to 10 redirects; off by default, so a
	// redirect is a status to check.
	FollowRedirects bool `yaml:"follow_redirects"`

	bodyRe *regexp.Regexp
}

// HTTPResult is what check.http and ProbeHTTP return.
type HTTPResult struct {
	Status    int     `json:"status" expr:"status"`
	ElapsedMS float64 `json:"elapsed_ms" expr:"elapsed_ms"`
	// Body is the start of the response body (4 KiB).
	Body        string `json:"body" expr:"body"`
	BodyMatched bool   `json:"body_matched" expr:"body_matched"`
	// Certificate is the server certificate's SHA-256 fingerprint for
	// HTTPS, and TrustedBy says why it was trusted (pinned or ca).
	Certificate string `json:"certificate,omitempty" expr:"certificate"`
	TrustedBy   string `json:"trusted_by,omitempty" expr:"trusted_by"`
}

func (p *HTTPParams) validate() []steps.FieldError {
	var errs []steps.FieldError
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, steps.Fieldf("url", "%q is not an http:// or https:// URL", "%q 不是 http:// 或 https:// URL", p.URL))
	} else if msg := steps.PortProblem(u.Port()); u.Port() != "" && msg != "" {
		errs = append(errs, steps.FieldError{Field: "url", Msg: msg, MsgZhTW: steps.PortProblemZhTW(u.Port())})
	} else if u.Scheme == "http" && (p.CAFile != "" || p.Thumbprint != "") {
		errs = append(errs, steps.Fieldf("url", "ca_file and thumbprint apply to https:// URLs only", "ca_file 與 thumbprint 僅適用於 https:// URL"))
	}
	if len(p.Status) == 0 {
		errs = append(errs, steps.Fieldf("status", "list at least one status code", "請至少列出一個狀態碼"))
	}
	for _, s := range p.Status {
		if s < 100 || s > 599 {
			errs = append(errs, steps.Fieldf("status", "%d is not an HTTP status code", "%d 不是 HTTP 狀態碼", s))
		}
	}
	if p.BodyRegex != "" {
		re, err := regexp.Compile(p.BodyRegex)
		if err != nil {
			errs = append(errs, steps.Fieldf("body_regex", "invalid regular expression: %v", "正規表示式無效：%v", err))
		}
		p.bodyRe = re
	}
	if p.Thumbprint != "" && len(normalizeThumbprint(p.Thumbprint)) != 64 {
		errs = append(errs, steps.Fieldf("thumbprint", "must be a SHA-256 fingerprint: 64 hex digits, colons allowed", "須為 SHA-256 指紋：64 個十六進位數字，可含冒號"))
	}
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 10s", "須為正數之時間長度，例如 10s"))
	}
	return errs
}

func normalizeThumbprint(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(s))
}

// ProbeHTTP makes one request and checks the answer against p. It returns
// the result (as much as was learnt) and an error saying what did not meet
// the expectation. It never skips certificate verification: an HTTPS
// server is trusted by the system roots, p.CAFile, or the pinned
// p.Thumbprint. Decode p with steps.DecodeParams (or call Validate) first.
func ProbeHTTP(ctx context.Context, p *HTTPParams) (*HTTPResult, error) {
	res := &HTTPResult{}
	tlsCfg := &tls.Config{ServerName: p.ServerName, MinVersion: tls.VersionTLS12}
	res.TrustedBy = "ca"
	if p.CAFile != "" {
		pem, err := os.ReadFile(p.CAFile)
		if err != nil {
			return res, fmt.Errorf("check.http: cannot read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return res, fmt.Errorf("check.http: ca_file %s holds no PEM certificate", p.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	if p.Thumbprint != "" {
		want := normalizeThumbprint(p.Thumbprint)
		res.TrustedBy = "pinned"
		// Verification is replaced, not dropped: the leaf must match the pin.
		tlsCfg.InsecureSkipVerify = true
		tlsCfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server sent no certificate")
			}
			sum := sha256.Sum256(raw[0])
			if got := hex.EncodeToString(sum[:]); got != want {
				return fmt.Errorf("certificate fingerprint %s does not match the pinned thumbprint %s", got, want)
			}
			return nil
		}
	}
	tr := &http.Transport{TLSClientConfig: tlsCfg, Proxy: nil, DisableKeepAlives: true, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: p.Timeout.D()}
	if !p.FollowRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, p.URL, nil)
	if err != nil {
		return res, fmt.Errorf("check.http: %w", err)
	}
	for k, v := range p.Headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	res.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		return res, fmt.Errorf("check.http %s %s: %w", method, p.URL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		sum := sha256.Sum256(resp.TLS.PeerCertificates[0].Raw)
		res.Certificate = hex.EncodeToString(sum[:])
	} else {
		res.TrustedBy = ""
	}
	res.Status = resp.StatusCode
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if readErr != nil && ctx.Err() != nil {
		return res, fmt.Errorf("check.http %s: cancelled: %w", p.URL, ctx.Err())
	}
	res.Body = string(body)
	if len(res.Body) > 4096 {
		res.Body = res.Body[:4096]
	}
	if !slices.Contains(p.Status, resp.StatusCode) {
		return res, fmt.Errorf("check.http %s: status %d, expected %v; body starts: %.200q", p.URL, resp.StatusCode, []int(p.Status), res.Body)
	}
	if readErr != nil && (p.Body != "" || p.BodyRegex != "") {
		// A body cut short cannot be said to lack the expected text.
		return res, fmt.Errorf("check.http %s: status %d, but the body broke off after %d bytes (%w); the server or a proxy on the way dropped the connection, or the timeout (%s) ran out", p.URL, resp.StatusCode, len(body), unwrapURLError(readErr), p.Timeout.D())
	}
	res.BodyMatched = true
	if p.Body != "" && !strings.Contains(string(body), p.Body) {
		res.BodyMatched = false
		return res, fmt.Errorf("check.http %s: the body does not contain %q; it starts: %.200q", p.URL, p.Body, res.Body)
	}
	re := p.bodyRe
	if re == nil && p.BodyRegex != "" {
		if re, err = regexp.Compile(p.BodyRegex); err != nil {
			return res, fmt.Errorf("check.http: body_regex: %w", err)
		}
	}
	if re != nil && !re.Match(body) {
		res.BodyMatched = false
		return res, fmt.Errorf("check.http %s: the body does not match /%s/; it starts: %.200q", p.URL, p.BodyRegex, res.Body)
	}
	return res, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ce *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	if errors.As(err, &ce) || errors.As(err, &uae) {
		return fmt.Errorf("%w (drbook never skips certificate checks: give ca_file, or pin the certificate with thumbprint)", err)
	}
	return err
}

type httpKind struct{}

var _ steps.Kind = (*httpKind)(nil)

func (*httpKind) Name() string { return "check.http" }
func (*httpKind) Summary() string {
	return "request a URL and check its status and body, verifying HTTPS certificates"
}
func (*httpKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (*httpKind) NewParams() any {
	return &HTTPParams{Method: http.MethodGet, Status: StatusList{200}, Timeout: journal.Duration(10 * time.Second)}
}
func (*httpKind) NewResult() any { return &HTTPResult{} }
func (*httpKind) Validate(params any) []steps.FieldError {
	return params.(*HTTPParams).validate()
}
func (*httpKind) Describe(params any) steps.Description {
	p := params.(*HTTPParams)
	action := fmt.Sprintf("%s %s and expect status %v", p.Method, p.URL, []int(p.Status))
	zh := fmt.Sprintf("%s %s，預期狀態碼 %v", p.Method, p.URL, []int(p.Status))
	if p.Body != "" {
		action += fmt.Sprintf(" with %q in the body", p.Body)
		zh += fmt.Sprintf("，內容須含 %q", p.Body)
	}
	if p.BodyRegex != "" {
		action += fmt.Sprintf(" with the body matching /%s/", p.BodyRegex)
		zh += fmt.Sprintf("，內容須符合 /%s/", p.BodyRegex)
	}
	u, _ := url.Parse(p.URL)
	host := p.URL
	if u != nil {
		host = u.Host
	}
	return steps.Description{Action: action, ActionZhTW: zh, Target: host}
}

func (*httpKind) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*HTTPParams)
	res, err := ProbeHTTP(ctx, p)
	if res.Certificate != "" {
		u, _ := url.Parse(p.URL)
		rt.Trust(journal.Trust{Kind: "tls-certificate", Endpoint: u.Host, Fingerprint: "SHA256:" + res.Certificate, Source: res.TrustedBy})
	}
	facts := []journal.Fact{{Key: "url", KeyZhTW: "網址", Value: p.URL}, {Key: "status", KeyZhTW: "狀態碼", Value: strconv.Itoa(res.Status)}, {Key: "elapsed", KeyZhTW: "回應時間", Value: fmt.Sprintf("%.1f ms", res.ElapsedMS)}}
	if err != nil {
		facts = append(facts, journal.Fact{Key: "error", KeyZhTW: "錯誤", Value: err.Error()})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "HTTP check", TitleZhTW: "HTTP 檢查", Facts: facts})
	return res, err
}

// TCPParams are check.tcp's parameters, and what ProbeTCP takes.
type TCPParams struct {
	// Address is host:port.
	Address string           `yaml:"address"`
	Timeout journal.Duration `yaml:"timeout"`
	// Banner, when set, must appear in what the server sends first (e.g.
	// "SSH-2.0" or "220 ").
	Banner string `yaml:"banner"`
}

// TCPResult is what check.tcp and ProbeTCP return.
type TCPResult struct {
	Connected bool    `json:"connected" expr:"connected"`
	ElapsedMS float64 `json:"elapsed_ms" expr:"elapsed_ms"`
	Banner    string  `json:"banner" expr:"banner"`
}

// ProbeTCP connects to p.Address and, when p.Banner is set, reads what the
// server says first and checks it.
func ProbeTCP(ctx context.Context, p *TCPParams) (*TCPResult, error) {
	res := &TCPResult{}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout.D())
	defer cancel()
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.Address)
	res.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return res, fmt.Errorf("check.tcp %s: no answer within %s", p.Address, p.Timeout)
		}
		return res, fmt.Errorf("check.tcp %s: %w", p.Address, err)
	}
	defer conn.Close()
	res.Connected = true
	if p.Banner == "" {
		return res, nil
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 512)
	var got []byte
	for !strings.Contains(string(got), p.Banner) && len(got) < 4096 {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	res.Banner = strings.TrimSpace(string(got))
	if !strings.Contains(string(got), p.Banner) {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return res, fmt.Errorf("check.tcp %s: cancelled: %w", p.Address, ctx.Err())
		}
		return res, fmt.Errorf("check.tcp %s: the server's greeting %q does not contain %q", p.Address, res.Banner, p.Banner)
	}
	return res, nil
}

type tcpKind struct{}

var _ steps.Kind = (*tcpKind)(nil)

func (*tcpKind) Name() string         { return "check.tcp" }
func (*tcpKind) Summary() string      { return "connect to a TCP port and optionally check its greeting" }
func (*tcpKind) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (*tcpKind) NewParams() any       { return &TCPParams{Timeout: journal.Duration(5 * time.Second)} }
func (*tcpKind) NewResult() any       { return &TCPResult{} }
func (*tcpKind) Validate(params any) []steps.FieldError {
	p := params.(*TCPParams)
	var errs []steps.FieldError
	if _, port, err := net.SplitHostPort(p.Address); err != nil || port == "" {
		errs = append(errs, steps.Fieldf("address", "%q is not host:port", "%q 不是 host:port 格式", p.Address))
	} else if msg := steps.PortProblem(port); msg != "" {
		errs = append(errs, steps.FieldError{Field: "address", Msg: msg, MsgZhTW: steps.PortProblemZhTW(port)})
	}
	if p.Timeout <= 0 {
		errs = append(errs, steps.Fieldf("timeout", "must be a positive duration such as 5s", "須為正數之時間長度，例如 5s"))
	}
	return errs
}
func (*tcpKind) Describe(params any) steps.Description {
	p := params.(*TCPParams)
	action, zh := "connect to "+p.Address, "連線至 "+p.Address
	if p.Banner != "" {
		action += fmt.Sprintf(" and expect %q in its greeting", p.Banner)
		zh += fmt.Sprintf("，預期歡迎訊息含 %q", p.Banner)
	}
	return steps.Description{Action: action, ActionZhTW: zh, Target: p.Address}
}
func (*tcpKind) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	return ProbeTCP(ctx, params.(*TCPParams))
}
