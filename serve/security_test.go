package serve

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// TestTraversalRefused asks for everything outside the runs folder a URL
// could try to name: a sibling run reached by "..", in every spelling, a
// symbolic link in the folder to a run outside it, a run directory whose
// journal is a link to one outside, absolute paths and the server's own
// files. None is served; the run inside is (so the check can fail).
func TestTraversalRefused(t *testing.T) {
	base := t.TempDir()
	runs := filepath.Join(base, "runs")
	outside := writeRun(t, base, "secret", journalLines(t, runStart("outside-secret", "elsewhere", "drill"), runEnd("passed")))
	writeRun(t, runs, "good", journalLines(t, runStart("inside-run", "office-1", "drill"), runEnd("passed")))
	if err := os.Symlink(outside, filepath.Join(runs, "link")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(runs, "linkedjournal"), 0o755)
	if err := os.Symlink(filepath.Join(outside, journal.FileName), filepath.Join(runs, "linkedjournal", journal.FileName)); err != nil {
		t.Fatal(err)
	}
	// A fleet folder one level down, with a link to the outside run too.
	os.MkdirAll(filepath.Join(runs, "fleet", "site"), 0o755)
	os.Symlink(outside, filepath.Join(runs, "fleet", "link"))
	os.Symlink(outside, filepath.Join(runs, "fleet", "site", "link"))
	os.Symlink(base, filepath.Join(runs, "fleet", "up"))
	os.WriteFile(filepath.Join(base, "passwd"), []byte("root:outside-secret:0:0\n"), 0o644)

	for _, fleet := range []bool{false, true} {
		_, ts := newTestServer(t, Config{RunsDir: runs, Fleet: fleet})
		if resp, body := get(t, ts.URL+"/run/good"); resp.StatusCode != 200 || !strings.Contains(body, "inside-run") {
			t.Fatalf("the run inside the folder is not served: %d", resp.StatusCode)
		}
		for _, prefix := range []string{"/run/", "/live/", "/report/", "/static/"} {
			for _, p := range []string{
				"../secret", "..%2fsecret", "%2e%2e/secret", "%2e%2e%2fsecret", "good/../../secret", "good/..%2f..%2fsecret",
				"link", "fleet/link", "fleet/site/link", "fleet/up/secret", "linkedjournal", "..", "%2e%2e", "/" + outside, "%2f" + strings.TrimPrefix(outside, "/"),
				"..\\secret", "good%00", ".", "./good/../../secret", "../passwd", "..%2fpasswd", "../runs/../secret",
				"../serve.go", "..%2f..%2fserve%2fserve.go",
			} {
				resp, body := get(t, ts.URL+prefix+p)
				redirected := false
				for hops := 0; resp.StatusCode/100 == 3 && hops < 5; hops++ {
					// The mux cleans dot segments by redirecting (to the
					// list page, or a run that is not there): follow it
					// to see where it lands.
					loc, err := resp.Location()
					if err != nil {
						t.Fatal(err)
					}
					redirected = true
					resp, body = get(t, loc.String())
				}
				if (resp.StatusCode == 200 && !redirected && prefix != "/static/") || strings.Contains(body, "outside-secret") || strings.Contains(body, "package serve") {
					t.Errorf("fleet=%v GET %s: status %d (redirected %v), body %.200q", fleet, prefix+p, resp.StatusCode, redirected, body)
				}
			}
		}
		// The list names neither the link nor the linked journal.
		_, body := get(t, ts.URL+"/")
		if strings.Contains(body, "outside-secret") || strings.Contains(body, `data-key="link"`) || strings.Contains(body, "linkedjournal") {
			t.Errorf("fleet=%v: the list shows a run outside the folder", fleet)
		}
	}
}

// TestReadOnly: only GET and HEAD are answered.
func TestReadOnly(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "run1", journalLines(t, runStart("one", "office-1", "drill"), runEnd("passed")))
	_, ts := newTestServer(t, Config{RunsDir: runs})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"} {
		req, _ := http.NewRequestWithContext(t.Context(), m, ts.URL+"/run/run1", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	// HEAD answers at once, streams included (a stream has no end to
	// wait for).
	for _, p := range []string{"/run/run1", "/live/run1", "/live", "/report/run1"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, ts.URL+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("HEAD %s: status %d", p, resp.StatusCode)
		}
	}
	if after, _ := os.ReadDir(filepath.Join(runs, "run1")); len(after) != 1 {
		t.Errorf("serving wrote into the run directory: %v", after)
	}
}

// TestTokenRequired: with a token set, nothing is served without it; a
// bearer header passes; ?token= is exchanged for an HttpOnly,
// SameSite=Strict cookie and the page moves on to the address without
// it; the cookie then passes. A wrong token or cookie does not.
func TestTokenRequired(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "run1", journalLines(t, runStart("one", "office-1", "drill"), runEnd("passed")))
	const token = "0123456789abcdef-right"
	_, ts := newTestServer(t, Config{RunsDir: runs, Token: token})
	for _, p := range []string{"/", "/run/run1", "/live/run1", "/report/run1", "/live", "/static/serve.js"} {
		resp, body := get(t, ts.URL+p)
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "run1") && p != "/" {
			t.Errorf("GET %s without the token: status %d", p, resp.StatusCode)
		}
		if resp, _ := get(t, ts.URL+p, "Authorization", "Bearer 0123456789abcdef-wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong bearer token: status %d", p, resp.StatusCode)
		}
		if resp, _ := get(t, ts.URL+p+"?token=0123456789abcdef-wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s?token=wrong: status %d", p, resp.StatusCode)
		}
		if resp, _ := get(t, ts.URL+p, "Cookie", cookieName+"="+token); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with the token itself as the cookie: status %d", p, resp.StatusCode)
		}
	}
	if resp, body := get(t, ts.URL+"/run/run1", "Authorization", "Bearer "+token); resp.StatusCode != 200 || !strings.Contains(body, "one") {
		t.Fatalf("with the bearer token: status %d", resp.StatusCode)
	}

	resp, body := get(t, ts.URL+"/run/run1?lang=zh-TW&token="+token)
	if resp.StatusCode != 200 {
		t.Fatalf("?token=: status %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Value == token || session.Path != "/" {
		t.Fatalf("the token was not exchanged for an HttpOnly SameSite=Strict cookie: %+v (Set-Cookie %q)", session, resp.Header.Get("Set-Cookie"))
	}
	if !strings.Contains(body, `content="0;url=/run/run1?lang=zh-TW"`) || strings.Contains(body, token) {
		t.Fatalf("the exchange page does not move on to the address without the token:\n%s", body)
	}
	if resp, body := get(t, ts.URL+"/run/run1?lang=zh-TW", "Cookie", session.Name+"="+session.Value); resp.StatusCode != 200 || !strings.Contains(body, "執行編號") {
		t.Fatalf("with the cookie: status %d", resp.StatusCode)
	}
	// With a token the Host header does not matter (it is not loopback
	// when the server listens elsewhere).
	if resp, _ := get(t, ts.URL+"/", "Authorization", "Bearer "+token, "Host", "drill.example.gov.tw"); resp.StatusCode != 200 {
		t.Fatalf("with the token and another Host: status %d", resp.StatusCode)
	}
}

// TestHostMustBeLoopbackWithoutToken: a server without a token answers
// only requests addressed to a loopback name, so a web page cannot read
// it through DNS rebinding (its requests carry the attacker's host name).
func TestHostMustBeLoopbackWithoutToken(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "run1", journalLines(t, runStart("one", "office-1", "drill"), runEnd("passed")))
	_, ts := newTestServer(t, Config{RunsDir: runs})
	for host, want := range map[string]int{
		"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200, "127.9.9.9": 200, "LOCALHOST.:1": 200,
		"attacker.example:8080": 403, "10.0.0.5:8080": 403, "127.0.0.1.attacker.example": 403, "127.0.0.1:8080@attacker.example": 403,
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/run/run1", nil)
		req.Host = host
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: status %d, want %d", host, resp.StatusCode, want)
		}
	}
	if loopbackHost("") {
		t.Error("an empty Host header counts as loopback")
	}
}

// TestHostileTextEscaped: a journal's text is what guests printed and
// whoever could write the run directory wrote. Markup in a step name, a
// runbook title, a command's output, a note and an error reaches the page,
// its live updates and the report as text only.
func TestHostileTextEscaped(t *testing.T) {
	const (
		name   = `<script>alert("name")</script>`
		title  = `"><svg onload=alert('title')>`
		stdout = "<img src=x onerror=alert('stdout')>\n</pre><script>alert('pre')</script>"
		note   = "</li><iframe src=javascript:alert('note')>"
		errTxt = "<b onmouseover=alert('error')>boom</b>"
	)
	start := runStart("hostile", "<i>site</i>", "drill", "evil")
	start.RunStart.Title.EN = title
	start.RunStart.Steps[0].Name.EN = name
	lines := journalLines(t, start,
		journal.Event{Type: journal.TypeStepStart, Step: "evil", StepStart: &journal.StepStart{Kind: "exec.local", Name: journal.Text{EN: name}, Attempt: 1}},
		journal.Event{Type: journal.TypeEvidence, Step: "evil", Evidence: &journal.Evidence{Kind: journal.EvidenceTranscript, Title: "<u>local command</u>",
			Transcript: &journal.Transcript{Command: "printf '<img>'", Stdout: stdout, ExitCode: 1}}},
		journal.Event{Type: journal.TypeNote, Step: "evil", Note: &journal.Note{Level: "info", Text: note}},
		journal.Event{Type: journal.TypeStepFinish, Step: "evil", StepFinish: &journal.StepFinish{Status: "failed", Attempts: 1, Error: errTxt}},
		runEnd("failed"))
	runs := t.TempDir()
	writeRun(t, runs, "run1", lines)
	_, ts := newTestServer(t, Config{RunsDir: runs})
	// Each marker is the hostile text as markup; escaped, it stays in
	// the page as text (the page's own <iframe> and the report's own
	// <svg> are not these).
	raw := []string{"<script>alert", "<svg onload", "<img src=x", "<iframe src=javascript", "<b onmouseover", "<i>site", "<u>local", "</pre><script"}
	check := func(what, body string) {
		t.Helper()
		for _, r := range raw {
			if strings.Contains(body, r) {
				t.Errorf("%s holds %q unescaped", what, r)
			}
		}
	}
	_, page := get(t, ts.URL+"/run/run1")
	check("the run page", page)
	for _, want := range []string{"&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(&#39;stdout&#39;)&gt;", "&lt;/li&gt;&lt;iframe"} {
		if !strings.Contains(page, want) {
			t.Errorf("the run page does not show %q as text", want)
		}
	}
	_, list := get(t, ts.URL+"/")
	check("the list", list)
	if !strings.Contains(list, "&lt;i&gt;site&lt;/i&gt;") {
		t.Error("the list does not show the site name as text")
	}
	_, report := get(t, ts.URL+"/report/run1")
	check("the report", report)

	// The live stream's JSON escapes markup too, and the page's script
	// only sets it as text (serve.js has no innerHTML: checked below).
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/live/run1?from=0", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	var sawNote bool
	for range len(lines) + 1 {
		ev := next(t, events)
		check("the stream", ev.data)
		if ev.name == "line" {
			var lv lineView
			json.Unmarshal([]byte(ev.data), &lv)
			sawNote = sawNote || strings.Contains(lv.Text, note)
		}
	}
	if !sawNote {
		t.Error("the stream's note line does not carry the note's text (as JSON-escaped text)")
	}
	js, err := assets.ReadFile("static/serve.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), sink) {
			t.Errorf("serve.js uses %s, which would parse journal text as markup or code", sink)
		}
	}
}

// TestSecurityHeaders: pages load scripts only from the server and cannot
// be framed by others; the report runs no script at all.
func TestSecurityHeaders(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "run1", journalLines(t, runStart("one", "office-1", "drill"), runEnd("passed")))
	_, ts := newTestServer(t, Config{RunsDir: runs})
	resp, _ := get(t, ts.URL+"/run/run1")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("run page CSP %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", resp.Header)
	}
	resp, _ = get(t, ts.URL+"/report/run1")
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") || !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("report CSP %q", csp)
	}
}
