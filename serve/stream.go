package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/drbook/drbook/journal"
)

// tail follows one journal by whole lines: a line still being written
// (no newline yet) is left for the next read, so a viewer never sees half
// an event.
type tail struct {
	path   string
	file   os.FileInfo
	offset int64 // end of the last whole line read
	lines  int   // whole lines read
}

// errReplaced says the journal shrank or was replaced by another file:
// an append-only journal never does that, so the viewer starts over.
var errReplaced = errors.New("the journal was replaced or truncated")

// next returns the whole lines written since the last call.
func (t *tail) next() ([][]byte, error) {
	fi, err := os.Stat(t.path)
	if err != nil {
		return nil, err
	}
	if t.file != nil && !os.SameFile(t.file, fi) || fi.Size() < t.offset {
		return nil, errReplaced
	}
	t.file = fi
	if fi.Size() == t.offset {
		return nil, nil
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if of, err := f.Stat(); err != nil || !os.SameFile(of, fi) {
		return nil, errReplaced
	}
	buf := make([]byte, fi.Size()-t.offset)
	n, err := f.ReadAt(buf, t.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		return nil, nil
	}
	whole := buf[:end+1]
	t.offset += int64(len(whole))
	lines := bytes.Split(whole[:len(whole)-1], []byte{'\n'})
	t.lines += len(lines)
	return lines, nil
}

// skip reads past the first n whole lines (the ones a page already shows)
// and returns how many there were, at most n.
func (t *tail) skip(n int) (int, error) {
	lines, err := t.next()
	if err != nil {
		return 0, err
	}
	if len(lines) <= n {
		return len(lines), nil
	}
	// Step back over the lines after the n-th.
	var back int64
	for _, l := range lines[n:] {
		back += int64(len(l)) + 1
	}
	t.offset -= back
	t.lines = n
	return n, nil
}

// sse writes server-sent events.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// newSSE starts an event stream; for a HEAD request it answers the
// headers and returns nil: there is no body to stream.
func newSSE(w http.ResponseWriter, r *http.Request) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	return &sse{w: w, rc: http.NewResponseController(w)}
}

// send writes one event with a JSON payload (which never holds a newline,
// so one data line carries it) and flushes it to the browser.
func (s *sse) send(event string, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if id != "" {
		fmt.Fprintf(&buf, "id: %s\n", id)
	}
	fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", event, b)
	if _, err := s.w.Write(buf.Bytes()); err != nil {
		return err
	}
	return s.rc.Flush()
}

// comment keeps an idle connection open through proxies.
func (s *sse) comment() error {
	if _, err := io.WriteString(s.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}

// streamRun sends a run's new journal lines as they are written ("line"
// events, id = line number, so a reconnecting browser resumes after the
// last one it got) and, after each batch, the run page's new state
// ("state"). It starts after the line given by Last-Event-ID or ?from=
// (the lines the page was drawn with).
func (s *Server) streamRun(w http.ResponseWriter, r *http.Request, ref runRef, wd words) {
	from := 0
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		from, _ = strconv.Atoi(v)
	} else if v := r.URL.Query().Get("from"); v != "" {
		from, _ = strconv.Atoi(v)
	}
	from = max(0, from)
	t := &tail{path: filepath.Join(ref.Dir, journal.FileName)}
	if _, err := t.skip(from); err != nil {
		http.Error(w, wd.Tf("error.unreadable", err), http.StatusNotFound)
		return
	}
	ev := newSSE(w, r)
	if ev == nil {
		return
	}
	state := func() error {
		snap := s.cache.get(ref.Dir)
		v := wd.runPage(ref, snap)
		return ev.send("state", "", v)
	}
	loc := s.location(ref.Dir)
	sendLines := func(lines [][]byte) error {
		first := t.lines - len(lines)
		for i, raw := range lines {
			n := first + i + 1
			if err := ev.send("line", strconv.Itoa(n), wd.line(n, raw, loc)); err != nil {
				return err
			}
		}
		return nil
	}
	// What was written between the page and this connection, then the
	// state as it is now.
	lines, err := t.next()
	if err == nil {
		err = sendLines(lines)
	}
	if err == nil {
		err = state()
	}
	if err != nil {
		return
	}
	s.follow(r, ev, func() bool {
		lines, err := t.next()
		if s.polled != nil {
			s.polled()
		}
		switch {
		case errors.Is(err, errReplaced):
			ev.send("reset", "", map[string]string{"reason": err.Error()})
			return false
		case err != nil || len(lines) == 0:
			// Nothing new, or the run directory is unreadable for now:
			// keep the connection, the page shows what it had.
			return true
		}
		return sendLines(lines) == nil && state() == nil
	})
}

// follow keeps an event stream open until the client or the server goes:
// it calls poll every Poll (a false return ends the stream) and sends a
// comment every Heartbeat so proxies keep the connection.
func (s *Server) follow(r *http.Request, ev *sse, poll func() bool) {
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-beat.C:
			if ev.comment() != nil {
				return
			}
		case <-tick.C:
			if !poll() {
				return
			}
		}
	}
}

// streamList sends the list page's runs ("runs") whenever a run appears,
// goes or its journal changes.
func (s *Server) streamList(w http.ResponseWriter, r *http.Request, wd words, lang string, explicit bool) {
	ev := newSSE(w, r)
	if ev == nil {
		return
	}
	signature := func() string {
		var b bytes.Buffer
		for _, ref := range s.discover() {
			fi, err := os.Stat(filepath.Join(ref.Dir, journal.FileName))
			if err != nil {
				fmt.Fprintf(&b, "%s ?\n", ref.Key)
				continue
			}
			fmt.Fprintf(&b, "%s %d %d\n", ref.Key, fi.Size(), fi.ModTime().UnixNano())
		}
		return b.String()
	}
	last := signature()
	if ev.send("runs", "", s.list(wd, lang, explicit)) != nil {
		return
	}
	s.follow(r, ev, func() bool {
		sig := signature()
		if sig == last {
			return true
		}
		last = sig
		return ev.send("runs", "", s.list(wd, lang, explicit)) == nil
	})
}
