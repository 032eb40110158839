package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/drbook/drbook/journal"
)

// chromiumBin is Debian's chromium (apt-get install -y chromium), as the
// reports' print test uses.
const chromiumBin = "/usr/bin/chromium"

// cdp is a DevTools protocol client over chromium's --remote-debugging-pipe
// (commands on its fd 3, answers on its fd 4, each message ending in NUL):
// no websocket, no dependency.
type cdp struct {
	w      io.Writer
	mu     sync.Mutex
	nextID int
	wait   map[int]chan cdpMessage
	events chan cdpMessage
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func newCDP(w io.Writer, r io.Reader) *cdp {
	c := &cdp{w: w, wait: map[int]chan cdpMessage{}, events: make(chan cdpMessage, 256)}
	go func() {
		br := bufio.NewReader(r)
		for {
			raw, err := br.ReadBytes(0)
			if err != nil {
				close(c.events)
				return
			}
			var m cdpMessage
			if json.Unmarshal(bytes.TrimSuffix(raw, []byte{0}), &m) != nil {
				continue
			}
			if m.ID == 0 {
				select {
				case c.events <- m:
				default: // events nobody waits for are dropped
				}
				continue
			}
			c.mu.Lock()
			ch := c.wait[m.ID]
			delete(c.wait, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}()
	return c
}

// call sends one command and waits for its answer (or ctx, the hang guard).
func (c *cdp) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.wait[id] = ch
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params, "sessionId": session})
	if session == "" {
		msg, _ = json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	}
	_, err := c.w.Write(append(msg, 0))
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// eval runs a JavaScript expression in the page (awaiting it if it is a
// promise) and decodes its value into out.
func (c *cdp) eval(ctx context.Context, session, expr string, out any) error {
	res, err := c.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	return json.Unmarshal(r.Result.Value, out)
}

// waitFor resolves, in the page, when cond (a JavaScript expression) is
// truthy, looking again at every change of the document: no polling
// interval, no time bound; ctx is the hang guard.
func (c *cdp) waitFor(ctx context.Context, session, cond string, out any) error {
	expr := `new Promise(function (resolve) {
	  var obs = new MutationObserver(check);
	  function check() { var v = (` + cond + `); if (v) { obs.disconnect(); resolve(v); } return v; }
	  if (!check()) { obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true}); }
	})`
	return c.eval(ctx, session, expr, out)
}

// startChromium starts headless chromium driven over the pipe.
func startChromium(t *testing.T, ctx context.Context) *cdp {
	t.Helper()
	// fd 3: chromium reads our commands; fd 4: it writes its answers.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, chromiumBin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{cmdR, resW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmdR.Close()
	resW.Close()
	t.Cleanup(func() {
		cmdW.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.String())
		}
	})
	return newCDP(cmdW, resR)
}

// open opens url in a new tab and returns its session once the page has
// loaded.
func (c *cdp) open(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	res, err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	json.Unmarshal(res, &target)
	res, err = c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		t.Fatal(err)
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(res, &attached)
	s := attached.SessionID
	if _, err := c.call(ctx, s, "Page.enable", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.call(ctx, s, "Page.navigate", map[string]any{"url": url}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case m, ok := <-c.events:
			if !ok {
				t.Fatal("chromium closed the pipe")
			}
			if m.SessionID == s && m.Method == "Page.loadEventFired" {
				return s
			}
		case <-ctx.Done():
			t.Fatalf("the page %s did not load: %v", url, ctx.Err())
		}
	}
}

// TestServeLiveInChromium runs a real drill (`drbook run --yes`) whose
// middle step waits on a FIFO the test holds, serves its runs folder with
// a real `drbook serve`, opens the run's page in headless chromium, and
// sees, without any reload, the step go from running to ok by the
// server-sent events once the test lets it finish, the journal's new lines
// appear, and what the step printed (markup) shown as text; the report
// loads in its sandboxed frame (found as its own target). It runs when
// chromium is installed; with DRBOOK_E2E=1 it must.
func TestServeLiveInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumBin); err != nil {
		if os.Getenv("DRBOOK_E2E") == "1" {
			t.Fatalf("DRBOOK_E2E=1 but %s is missing: apt-get install -y chromium", chromiumBin)
		}
		t.Skipf("%s not installed; apt-get install -y chromium to run this test", chromiumBin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard(t))
	defer cancel()
	work := t.TempDir()
	gate := filepath.Join(work, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	const hostile = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	// The gate step blocks reading the FIFO (its path is sh's $0) and
	// then prints the hostile text ($1).
	runbook := `name: live-view
title: {en: "Live view drill", zh-TW: "即時檢視演練"}
steps:
  - id: greet
    log: "starting"
  - id: gate
    name: "Wait for the gate <b>now</b>"
    exec.local:
      command: ["/bin/sh", "-c", 'read line < "$0" && printf "%s\n" "$1"', ` + jsonString(gate) + `, ` + jsonString(hostile) + `]
  - id: after
    log: "done"
`
	rbPath := filepath.Join(work, "live.yaml")
	os.WriteFile(rbPath, []byte(runbook), 0o600)
	runs := filepath.Join(work, "runs")

	run, runOut, runErr := drbookCommand(t, work, "run", "--yes", "--runs-dir", runs, rbPath)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	runExited := make(chan struct{})
	var runWait error
	go func() { runWait = run.Wait(); close(runExited) }()
	t.Cleanup(func() {
		syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
		<-runExited
	})
	runDir, ok := waitForJournal(t, runs, runExited, func(whole []byte) bool {
		return bytes.Contains(whole, []byte(`"type":"step.start","time"`)) && bytes.Contains(whole, []byte(`"step":"gate","step_start"`))
	})
	if !ok {
		t.Fatalf("the drill did not reach the gate step\nstdout:\n%s\nstderr:\n%s", runOut, runErr)
	}

	// A real drbook serve on a free loopback port.
	srv := exec.CommandContext(ctx, drbookPath(t), "serve", runs, "--addr", "127.0.0.1:0")
	srv.Env = append(os.Environ(), "DRBOOK_LANG=en")
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	srvErr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	})
	sc := bufio.NewScanner(srvErr)
	var base string
	for base == "" && sc.Scan() {
		if m := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+/)`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatal("drbook serve did not say where it listens")
	}
	go io.Copy(io.Discard, srvErr)

	browser := startChromium(t, ctx)
	page := browser.open(ctx, t, base+"run/"+filepath.Base(runDir))
	var ok2 bool
	if err := browser.eval(ctx, page, `window.drbookMarker = 'same page'; true`, &ok2); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := browser.waitFor(ctx, page, `document.getElementById('live').className === 'live on' && (document.querySelector('tr[data-step="gate"]') || {dataset: {}}).dataset.state`, &state); err != nil {
		t.Fatal(err)
	}
	if state != "running" {
		t.Fatalf("with the gate closed the page shows step gate as %q, want running", state)
	}
	var linesBefore int
	browser.eval(ctx, page, `document.querySelectorAll('#journal li').length`, &linesBefore)
	// The report, in its sandboxed frame, loaded with the page.
	if text := browser.frameText(ctx, t, "/report/"); !strings.Contains(text, "Drill report") || !strings.Contains(text, "Live view drill") {
		t.Errorf("the report frame does not show the run's report:\n%.500s", text)
	}

	// Open the gate: the step reads its line and finishes.
	f, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("go\n")
	f.Close()

	var after struct {
		Gate, After, Verdict, Title, Marker string
		Running                             string
		Lines, Imgs                         int
		Shown                               bool
	}
	err = browser.waitFor(ctx, page, `(function () {
	  var g = document.querySelector('tr[data-step="gate"]'), a = document.querySelector('tr[data-step="after"]');
	  if (!g || g.dataset.state !== 'ok' || !a || a.dataset.state !== 'ok' || document.getElementById('state').dataset.running !== 'false') { return null; }
	  return {Gate: g.dataset.state, After: a.dataset.state, Verdict: document.getElementById('verdict').dataset.code,
	    Running: document.getElementById('state').dataset.running, Title: document.title, Marker: window.drbookMarker || '',
	    Lines: document.querySelectorAll('#journal li').length, Imgs: document.querySelectorAll('#evidence img, #evidence script, #steps b').length,
	    Shown: Array.prototype.some.call(document.querySelectorAll('#evidence pre'), function (p) { return p.textContent.indexOf('<img src=x onerror=') >= 0; })};
	}())`, &after)
	if err != nil {
		t.Fatal(err)
	}
	if after.Marker != "same page" {
		t.Error("the page was reloaded: the updates did not come by server-sent events")
	}
	if after.Verdict != "passed" || after.Lines <= linesBefore {
		t.Errorf("after the gate: verdict %q, journal lines %d (were %d)", after.Verdict, after.Lines, linesBefore)
	}
	if !after.Shown || after.Imgs != 0 || strings.Contains(after.Title, "pwned") {
		t.Errorf("the step's output is not shown as text: shown %v, elements made of it %d, title %q", after.Shown, after.Imgs, after.Title)
	}
	<-runExited
	if runWait != nil {
		t.Fatalf("the drill failed: %v\nstdout:\n%s\nstderr:\n%s", runWait, runOut, runErr)
	}
	if _, err := os.Stat(filepath.Join(runDir, journal.FileName)); err != nil {
		t.Fatal(err)
	}
}

// frameText is the text of the page's frame whose address contains url.
// The report's frame is sandboxed (an opaque origin), so chromium runs it
// in a process of its own, a target of its own: it is found among the
// targets and read there (the page's own script cannot reach it).
func (c *cdp) frameText(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	res, err := c.call(ctx, "", "Target.getTargets", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var targets struct {
		TargetInfos []struct {
			TargetID string `json:"targetId"`
			Type     string `json:"type"`
			URL      string `json:"url"`
		} `json:"targetInfos"`
	}
	json.Unmarshal(res, &targets)
	for _, ti := range targets.TargetInfos {
		if ti.Type != "iframe" || !strings.Contains(ti.URL, url) {
			continue
		}
		res, err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": ti.TargetID, "flatten": true})
		if err != nil {
			t.Fatal(err)
		}
		var attached struct {
			SessionID string `json:"sessionId"`
		}
		json.Unmarshal(res, &attached)
		var text string
		if err := c.eval(ctx, attached.SessionID, "document.body.innerText", &text); err != nil {
			t.Fatal(err)
		}
		return text
	}
	t.Fatalf("no frame at %s among chromium's targets: %s", url, res)
	return ""
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
