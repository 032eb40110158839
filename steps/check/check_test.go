package check_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/steps/check"
	"github.com/drbook/drbook/steps/steptest"
)

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<h1>地政 AP ok</h1>") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(20 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) })
	return mux
}

func TestHTTPConformance(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	k := check.Kinds()[0]
	steptest.Conformance(t, k, steptest.Case{
		Params: fmt.Sprintf("{url: %q, status: 200, body: \"AP ok\"}", srv.URL),
		Slow:   fmt.Sprintf("{url: %q, timeout: 30s}", srv.URL+"/slow"),
	})
}

func TestTCPConformance(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { time.Sleep(10 * time.Second); c.Close() }() // never greets
		}
	}()
	steptest.Conformance(t, check.Kinds()[1], steptest.Case{
		Params: fmt.Sprintf("{address: %q}", srv.Listener.Addr().String()),
		Slow:   fmt.Sprintf("{address: %q, banner: SSH-2.0, timeout: 30s}", ln.Addr().String()),
	})
}

func probe(t *testing.T, src string) (*check.HTTPResult, error) {
	t.Helper()
	p := steptest.Decode(t, check.Kinds()[0], src).(*check.HTTPParams)
	return check.ProbeHTTP(context.Background(), p)
}

func TestHTTPExpectations(t *testing.T) {
	srv := httptest.NewServer(handler())
	defer srv.Close()
	if res, err := probe(t, fmt.Sprintf("{url: %q, body_regex: 'AP\\s+ok'}", srv.URL)); err != nil || !res.BodyMatched || res.Status != 200 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := probe(t, fmt.Sprintf("{url: %q, body: 'maintenance'}", srv.URL)); err == nil || !strings.Contains(err.Error(), "does not contain") {
		t.Fatal(err)
	}
	if res, err := probe(t, fmt.Sprintf("{url: %q}", srv.URL+"/moved")); err == nil || res.Status != 302 {
		t.Fatalf("a redirect must not be followed silently: %+v %v", res, err)
	}
	if _, err := probe(t, fmt.Sprintf("{url: %q, status: [301, 302]}", srv.URL+"/moved")); err != nil {
		t.Fatal(err)
	}
	if _, err := probe(t, fmt.Sprintf("{url: %q, follow_redirects: true}", srv.URL+"/moved")); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if _, err := probe(t, fmt.Sprintf("{url: %q}", srv.URL)); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a down server must fail clearly: %v", err)
	}
}

func TestHTTPSNeverSilentlyInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(handler())
	defer srv.Close()
	sum := sha256.Sum256(srv.Certificate().Raw)
	thumb := hex.EncodeToString(sum[:])

	_, err := probe(t, fmt.Sprintf("{url: %q}", srv.URL))
	if err == nil || !strings.Contains(err.Error(), "thumbprint") {
		t.Fatalf("a self-signed certificate must be refused with a hint, got %v", err)
	}
	res, err := probe(t, fmt.Sprintf("{url: %q, thumbprint: %q}", srv.URL, strings.ToUpper(thumb)))
	if err != nil || res.TrustedBy != "pinned" || res.Certificate != thumb {
		t.Fatalf("pinned: %+v %v", res, err)
	}
	wrong := strings.Repeat("ab", 32)
	if _, err := probe(t, fmt.Sprintf("{url: %q, thumbprint: %q}", srv.URL, wrong)); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("a wrong pin must fail: %v", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	res, err = probe(t, fmt.Sprintf("{url: %q, ca_file: %q, server_name: example.com}", srv.URL, ca))
	if err != nil || res.TrustedBy != "ca" {
		t.Fatalf("ca_file: %+v %v", res, err)
	}
	rt := steptest.NewRuntime(t, nil)
	k := check.Kinds()[0]
	if _, err := k.Execute(context.Background(), rt, steptest.Decode(t, k, fmt.Sprintf("{url: %q, thumbprint: %q}", srv.URL, thumb))); err != nil {
		t.Fatal(err)
	}
	if len(rt.Trusts) != 1 || rt.Trusts[0].Source != "pinned" || rt.Trusts[0].Kind != "tls-certificate" {
		t.Fatalf("certificate not journaled: %+v", rt.Trusts)
	}
}

func TestValidation(t *testing.T) {
	for src, want := range map[string]string{
		"{url: ftp://x/}":                      "not an http",
		"{url: 'http://x/', status: 99}":       "not an HTTP status",
		"{url: 'http://x/', body_regex: '(' }": "invalid regular expression",
		"{url: 'https://x/', thumbprint: abc}": "64 hex",
		"{url: 'http://x/', thumbprint: abc}":  "https:// URLs only",
		"{url: 'http://x/', status: abc}":      "whole number",
		"{url: 'http://x/', insecure: true}":   "unknown field",
	} {
		_, errs := steptest.DecodeErrors(check.Kinds()[0], src)
		if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), want) {
			t.Errorf("%s: want %q, got %v", src, want, errs)
		}
	}
	if _, errs := steptest.DecodeErrors(check.Kinds()[1], "{address: nowhere}"); len(errs) == 0 {
		t.Error("an address without a port must be rejected")
	}
}

// TestPortsOutOfRange: a port that no TCP socket can have is refused at
// load time, in a tcp address and in a URL.
func TestPortsOutOfRange(t *testing.T) {
	for _, c := range []struct {
		kind int
		src  string
	}{{1, "{address: '10.0.0.65:99999'}"}, {1, "{address: '10.0.0.65:0'}"}, {0, "{url: 'http://10.0.0.65:99999/'}"}} {
		_, errs := steptest.DecodeErrors(check.Kinds()[c.kind], c.src)
		if len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), "is not a TCP port (1 to 65535)") {
			t.Errorf("%s: want the port refused, got %v", c.src, errs)
		}
	}
	if _, errs := steptest.DecodeErrors(check.Kinds()[1], "{address: '10.0.0.65:65535'}"); len(errs) != 0 {
		t.Errorf("port 65535 is valid: %v", errs)
	}
}

func TestTCPBanner(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_4.3\r\n"))
			c.Close()
		}
	}()
	k := check.Kinds()[1]
	p := steptest.Decode(t, k, fmt.Sprintf("{address: %q, banner: OpenSSH_4.3}", ln.Addr())).(*check.TCPParams)
	res, err := check.ProbeTCP(context.Background(), p)
	if err != nil || !res.Connected || res.Banner != "SSH-2.0-OpenSSH_4.3" {
		t.Fatalf("%+v %v", res, err)
	}
	p.Banner = "220 "
	if _, err := check.ProbeTCP(context.Background(), p); err == nil || !strings.Contains(err.Error(), "greeting") {
		t.Fatal(err)
	}
	p.Address = "127.0.0.1:1"
	if _, err := check.ProbeTCP(context.Background(), p); err == nil {
		t.Fatal("a closed port must fail")
	}
}

// TestHTTPBodyCutShort checks that a body the server breaks off is reported
// as broken, not as lacking the expected text, and that a check of the
// status alone still passes.
func TestHTTPBodyCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, "AP o")
		w.(http.Flusher).Flush()
		// Returning with 96 bytes owed makes the server drop the connection.
	}))
	defer srv.Close()
	_, err := probe(t, fmt.Sprintf("{url: %q, body: 'AP ok'}", srv.URL))
	if err == nil || !strings.Contains(err.Error(), "the body broke off after 4 bytes") {
		t.Errorf("a body cut short: %v, want it reported as broken off", err)
	}
	if res, err := probe(t, fmt.Sprintf("{url: %q}", srv.URL)); err != nil || res.Status != 200 {
		t.Errorf("a status-only check of a body cut short: %+v %v, want status 200 and no error", res, err)
	}
}
