package serve

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// journalLines writes events with the real journal writer (so the chain
// is the one drbook writes) and returns its lines, each with its newline.
func journalLines(t *testing.T, events ...journal.Event) [][]byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), journal.FileName)
	w, err := journal.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.NoSync = true
	at := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	for i, ev := range events {
		if ev.Time.IsZero() {
			ev.Time = at.Add(time.Duration(i) * time.Second)
		}
		if _, err := w.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func runStart(runbook, site, mode string, steps ...string) journal.Event {
	rs := &journal.RunStart{Schema: 1, RunID: "20261202T020000Z-" + runbook, Runbook: runbook, RunbookSHA256: strings.Repeat("a", 64),
		Site: site, Operator: "chen.wl", Machine: "seat", Mode: mode, DrbookVersion: "test", RTO: journal.Duration(5 * time.Minute)}
	for _, id := range steps {
		rs.Steps = append(rs.Steps, journal.PlannedStep{ID: id, Kind: "exec.local", Block: "steps"})
	}
	return journal.Event{Type: journal.TypeRunStart, RunStart: rs}
}

func stepStart(id string) journal.Event {
	return journal.Event{Type: journal.TypeStepStart, Step: id, StepStart: &journal.StepStart{Kind: "exec.local", Attempt: 1}}
}

func stepFinish(id, status string) journal.Event {
	return journal.Event{Type: journal.TypeStepFinish, Step: id, StepFinish: &journal.StepFinish{Status: status, Attempts: 1, Duration: journal.Duration(time.Second)}}
}

func runEnd(result string) journal.Event {
	return journal.Event{Type: journal.TypeRunEnd, RunEnd: &journal.RunEnd{Result: result}}
}

// writeRun makes a run directory under runs holding lines.
func writeRun(t *testing.T, runs, name string, lines [][]byte) string {
	t.Helper()
	dir := filepath.Join(runs, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, journal.FileName), bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func appendTo(t *testing.T, dir string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, journal.FileName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream does not end: its first event is its body here.
		ev, ok := <-readEvents(resp.Body)
		if !ok {
			return resp, ""
		}
		return resp, ev.data
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, id, data string }

// readEvents parses a server-sent event stream onto a channel.
func readEvents(body io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	ev, ok := <-ch
	if !ok {
		t.Fatal("the event stream ended")
	}
	return ev
}

// TestStreamDeliversAppendedLines follows a run as drbook writes it: the
// stream sends each new whole line as a "line" event and then the page's
// new state, in which the step that finished is ok. A line still being
// written (no newline yet) is not sent until it is whole, however many
// times the server looks at it.
func TestStreamDeliversAppendedLines(t *testing.T) {
	lines := journalLines(t, runStart("gate", "office-1", "drill", "wait", "after"), stepStart("wait"),
		stepFinish("wait", journal.StatusOK), stepStart("after"))
	runs := t.TempDir()
	dir := writeRun(t, runs, "run1", lines[:2])
	s, ts := newTestServer(t, Config{RunsDir: runs})
	polls := make(chan struct{}, 1000)
	s.polled = func() { polls <- struct{}{} }

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/live/run1?from=2", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	events := readEvents(resp.Body)
	first := next(t, events)
	if first.name != "state" {
		t.Fatalf("the stream begins with %q, want the state", first.name)
	}
	var st runView
	json.Unmarshal([]byte(first.data), &st)
	if len(st.Steps) != 2 || st.Steps[0].State != "running" || !st.Running {
		t.Fatalf("before the finish: steps %+v running %v; want wait running", st.Steps, st.Running)
	}

	// Half of line 3, then let the server look at it twice.
	half := len(lines[2]) / 2
	appendTo(t, dir, lines[2][:half])
	for range 2 {
		<-polls
	}
	appendTo(t, dir, lines[2][half:])
	ev := next(t, events)
	if ev.name != "line" || ev.id != "3" {
		t.Fatalf("after line 3 was completed the stream sent %q id %q (%s), want line 3", ev.name, ev.id, ev.data)
	}
	var lv lineView
	json.Unmarshal([]byte(ev.data), &lv)
	if lv.Bad || lv.Type != journal.TypeStepFinish || lv.Step != "wait" || !strings.Contains(lv.Text, "wait ok") {
		t.Fatalf("line 3 as sent: %+v", lv)
	}
	ev = next(t, events)
	if ev.name != "state" {
		t.Fatalf("after the line came %q, want the state", ev.name)
	}
	json.Unmarshal([]byte(ev.data), &st)
	if st.Steps[0].State != journal.StatusOK || st.Steps[1].State != "not-run" || st.Lines != 3 {
		t.Fatalf("after the finish: %+v (lines %d)", st.Steps, st.Lines)
	}

	// The next step starts: one more line, and the state says so.
	appendTo(t, dir, lines[3])
	if ev = next(t, events); ev.name != "line" || ev.id != "4" {
		t.Fatalf("got %q id %q, want line 4", ev.name, ev.id)
	}
	if ev = next(t, events); ev.name != "state" {
		t.Fatalf("got %q, want the state", ev.name)
	}
	json.Unmarshal([]byte(ev.data), &st)
	if st.Steps[1].State != "running" {
		t.Fatalf("step after: %+v", st.Steps[1])
	}
}

// TestStreamResumesAfterLastEventID: a browser that reconnects says the
// last line it got, and the stream sends the ones after it, not again the
// ones it has.
func TestStreamResumesAfterLastEventID(t *testing.T) {
	lines := journalLines(t, runStart("gate", "office-1", "drill", "wait"), stepStart("wait"), stepFinish("wait", "ok"), runEnd("passed"))
	runs := t.TempDir()
	writeRun(t, runs, "run1", lines)
	_, ts := newTestServer(t, Config{RunsDir: runs})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/live/run1?from=0", nil)
	req.Header.Set("Last-Event-ID", "2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	for _, want := range []string{"3", "4"} {
		if ev := next(t, events); ev.name != "line" || ev.id != want {
			t.Fatalf("got %q id %q, want line %s", ev.name, ev.id, want)
		}
	}
	ev := next(t, events)
	var st runView
	json.Unmarshal([]byte(ev.data), &st)
	if ev.name != "state" || st.Running || st.VerdictCode != "passed" {
		t.Fatalf("got %q %+v, want the state of a passed run", ev.name, st)
	}
}

// TestListStreamSeesANewRun: the list page's stream sends the runs again
// when a run directory appears.
func TestListStreamSeesANewRun(t *testing.T) {
	runs := t.TempDir()
	writeRun(t, runs, "first", journalLines(t, runStart("one", "office-1", "drill"), runEnd("passed")))
	_, ts := newTestServer(t, Config{RunsDir: runs})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	var lv listView
	json.Unmarshal([]byte(next(t, events).data), &lv)
	if len(lv.Groups) != 1 || len(lv.Groups[0].Runs) != 1 {
		t.Fatalf("first list: %+v", lv.Groups)
	}
	writeRun(t, runs, "second", journalLines(t, runStart("two", "office-2", "drill"), stepStart("x")))
	// The list may first show the new journal empty (created, not yet
	// written: "starting"), then as the run it is.
	for {
		json.Unmarshal([]byte(next(t, events).data), &lv)
		if len(lv.Groups[0].Runs) != 2 {
			t.Fatalf("after a run started: %+v", lv.Groups)
		}
		var second runRow
		for _, r := range lv.Groups[0].Runs {
			if r.Key == "second" {
				second = r
			}
		}
		if !second.Running || second.VerdictCode != "pending" {
			t.Fatalf("the new run is not listed as running: %+v", second)
		}
		if second.Runbook == "two" {
			break
		}
	}
}

// TestTornLastLine: a page drawn while drbook writes a line shows the
// whole lines, and the report is built from them.
func TestTornLastLine(t *testing.T) {
	lines := journalLines(t, runStart("gate", "office-1", "drill", "wait"), stepStart("wait"), stepFinish("wait", "ok"))
	runs := t.TempDir()
	dir := writeRun(t, runs, "run1", lines[:2])
	appendTo(t, dir, lines[2][:10])
	_, ts := newTestServer(t, Config{RunsDir: runs})
	resp, body := get(t, ts.URL+"/run/run1")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `data-state="running"`) || !strings.Contains(body, `/live/run1?from=2`) || strings.Contains(body, `data-n="3"`) {
		t.Fatalf("the page of a journal with a torn line does not show its 2 whole lines with wait running:\n%s", body)
	}
}
