package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startServe runs `drbook serve` in-process until the test ends and
// returns the address it listens on, or the error it refused with.
func startServe(t *testing.T, opts *serveOptions, runsDir string) (string, *bytes.Buffer, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	g := &globalOptions{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, Lang: "en"}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, g, opts, runsDir, ready) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve ended with %v", err)
			}
		})
		return addr, &stderr, nil
	case err := <-done:
		cancel()
		return "", &stderr, err
	}
}

// TestServeNeedsTokenOffLoopback: serve refuses to listen anywhere but
// loopback without a token (exit 2, saying what to do), accepts a token
// from --token-file or DRBOOK_SERVE_TOKEN (never printing it), and
// refuses a token too short to guard anything.
func TestServeNeedsTokenOffLoopback(t *testing.T) {
	runs := t.TempDir()
	t.Setenv("DRBOOK_SERVE_TOKEN", "")
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, _, err := startServe(t, &serveOptions{Addr: addr}, runs)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "without a token") || !strings.Contains(ue.hint.EN, "--token-file") {
			t.Errorf("--addr %s without a token: %v (hint %v), want a usage error naming --token-file", addr, err, ue)
		}
	}
	// Loopback needs none.
	addr, _, err := startServe(t, &serveOptions{Addr: "127.0.0.1:0"}, runs)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + addr + "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("loopback without a token: %v %v", resp, err)
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("short\n"), 0o600)
	if _, _, err := startServe(t, &serveOptions{Addr: "0.0.0.0:0", TokenFile: tokenFile}, runs); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("a 5-character token: %v", err)
	}
	const token = "v3ry-l0ng-rand0m-t0ken-for-the-drill"
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	// A token given on loopback is required too. (Listening off
	// loopback is not tried: what a test serves stays on 127.0.0.0/8; the
	// refusal above is checked before anything listens.)
	addr, stderr, err := startServe(t, &serveOptions{Addr: "127.0.0.1:0", TokenFile: tokenFile}, runs)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token was given but a request without it got %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("with the token from the file: %v %v", resp, err)
	}
	if strings.Contains(stderr.String(), token) || !strings.Contains(stderr.String(), "a token is required") {
		t.Errorf("serve's output prints the token or does not say one is needed:\n%s", stderr)
	}
	t.Setenv("DRBOOK_SERVE_TOKEN", token)
	addr, _, err = startServe(t, &serveOptions{Addr: "127.0.0.1:0"}, runs)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + addr + "/"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("DRBOOK_SERVE_TOKEN was set but a request without it got %v %v", resp, err)
	}
}

// TestServeStopsWithAPageOpen: Ctrl-C stops serve although a page is
// still listening to its stream (which never ends by itself).
func TestServeStopsWithAPageOpen(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	g := &globalOptions{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr, Lang: "en"}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, g, &serveOptions{Addr: "127.0.0.1:0"}, t.TempDir(), ready) }()
	addr := <-ready
	stream, err := http.Get("http://" + addr + "/live")
	if err != nil || stream.StatusCode != 200 {
		t.Fatalf("the list's stream: %v %v", stream, err)
	}
	defer stream.Body.Close()
	body := bufio.NewReader(stream.Body)
	if first, err := body.ReadString('\n'); err != nil || first != "event: runs\n" {
		t.Fatalf("the list's stream begins with %q %v", first, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve stopped with %v", err)
	}
	if !strings.Contains(stderr.String(), "drbook serve: stopped") {
		t.Errorf("serve did not say it stopped:\n%s", stderr.String())
	}
	// The page's stream ended with the server.
	if _, err := io.ReadAll(body); err != nil {
		t.Logf("the stream ended with %v", err)
	}
}

// TestServeRefusesAFileForRunsDir: a runs folder that is not a directory
// is a usage error naming it.
func TestServeRefusesAFileForRunsDir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(f, nil, 0o600)
	_, _, err := startServe(t, &serveOptions{Addr: "127.0.0.1:0"}, f)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), f) {
		t.Fatalf("serve of a file: %v", err)
	}
}
