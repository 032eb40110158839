// Package serve is drbook's read-only web view of run directories, for the
// coordinator and the auditors watching a drill: a list of the runs in a
// folder (grouped by site for a fleet), a page per run whose steps, RTO
// clock, monitors, evidence and journal follow the running journal live by
// server-sent events, and each run's report as package reports renders it.
//
// It reads journals and nothing else: no site file, no secret source (the
// journal holds none: secrets are redacted before a line is written), and
// it writes nothing into the runs folder. It answers GET and HEAD only. A
// URL names a run by a key the server found by listing the folder, never
// by a path it joins, so no request reaches a file outside the folder;
// symbolic links in the folder are not followed. Every value from a
// journal reaches the page through html/template or, for live updates,
// as JSON the page's script sets as text, never as markup.
//
// Access: with a token (Config.Token) every request must carry it, as
// "Authorization: Bearer TOKEN" or once as ?token=TOKEN, which is
// exchanged for an HttpOnly, SameSite=Strict cookie; without one the
// server is meant for loopback, and it refuses a Host header that is not
// a loopback name, so a web page cannot reach it by DNS rebinding. The
// command (drbook serve) refuses to listen off loopback without a token.
package serve

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
)

// Config is what a Server serves and how.
type Config struct {
	// RunsDir is the folder of run directories (with Fleet: a fleet
	// directory, or a folder of them).
	RunsDir string
	// Fleet groups the runs by site and looks one level deeper for them.
	Fleet bool
	// Token, when set, is required on every request.
	Token string
	// Lang is the language when the browser asks for none we speak.
	Lang string
	// Poll is how often a live page's journal is looked at for new lines
	// (default 250 ms); Heartbeat how often an idle stream says it is
	// alive (default 15 s).
	Poll, Heartbeat time.Duration
}

// Server is the web view; it is an http.Handler.
type Server struct {
	cfg     Config
	root    string
	token   []byte
	session string
	cache   snapshots
	mux     *http.ServeMux
	tmpl    *template.Template

	done     chan struct{}
	doneOnce sync.Once
	// polled, when set (by tests), is called after each look at a live
	// run's journal.
	polled func()
}

//go:embed templates/*.tmpl static/*
var assets embed.FS

// cookieName holds the session a ?token= was exchanged for.
const cookieName = "drbook_session"

// New checks the configuration and prepares the server.
func New(cfg Config) (*Server, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Lang != reports.LangZhTW {
		cfg.Lang = reports.LangEN
	}
	abs, err := filepath.Abs(cfg.RunsDir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot serve %s: %w", cfg.RunsDir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("cannot serve %s: not a directory", cfg.RunsDir)
	}
	s := &Server{cfg: cfg, root: root, mux: http.NewServeMux(), done: make(chan struct{})}
	if cfg.Token != "" {
		s.token = []byte(cfg.Token)
		mac := hmac.New(sha256.New, s.token)
		mac.Write([]byte("drbook serve session"))
		s.session = hex.EncodeToString(mac.Sum(nil))
	}
	s.tmpl, err = template.New("").Funcs(template.FuncMap{
		"verdictClass": func(code string) string { return "verdict-" + code },
	}).ParseFS(assets, "templates/*.tmpl")
	if err != nil {
		return nil, err
	}
	static, _ := fs.Sub(assets, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.handleList)
	s.mux.HandleFunc("GET /live", s.handleListStream)
	s.mux.HandleFunc("GET /run/{key...}", s.handleRun)
	s.mux.HandleFunc("GET /live/{key...}", s.handleRunStream)
	s.mux.HandleFunc("GET /report/{key...}", s.handleReport)
	return s, nil
}

// Close ends every live stream, so that a server shutting down is not
// held open by pages that never stop listening.
func (s *Server) Close() { s.doneOnce.Do(func() { close(s.done) }) }

// The pages' policy: scripts and styles only from this server, no
// framing by others, nothing sent to another origin. The report is a
// document of its own, with its inline styles and no script at all.
const (
	pagePolicy   = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	reportPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)

// ServeHTTP answers GET and HEAD, and only for a request that may see
// the runs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pagePolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	lang, _ := negotiate(r, s.cfg.Lang)
	wd := wordsFor(lang)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, wd.T("error.read_only"), http.StatusMethodNotAllowed)
		return
	}
	if s.token == nil && !loopbackHost(r.Host) {
		http.Error(w, wd.Tf("error.host", r.Host), http.StatusForbidden)
		return
	}
	if !s.authorize(w, r, wd) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// loopbackHost says whether a Host header names this machine by a
// loopback address or localhost.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameSecret compares two secrets in constant time, whatever their
// lengths.
func sameSecret(a, b []byte) bool {
	ha, hb := sha256.Sum256(a), sha256.Sum256(b)
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// authorize lets a request through when no token is set, or it carries
// the token (bearer header) or the session cookie. A ?token= that matches
// is exchanged for the cookie and the page reloaded without it, so the
// token does not stay in the address bar or the history.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, wd words) bool {
	if s.token == nil {
		return true
	}
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && sameSecret([]byte(strings.TrimSpace(v)), s.token) {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && sameSecret([]byte(c.Value), []byte(s.session)) {
		return true
	}
	q := r.URL.Query()
	if q.Has("token") && sameSecret([]byte(q.Get("token")), s.token) {
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: s.session, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
		q.Del("token")
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		// A page that moves on by itself rather than a redirect: a
		// link followed from another site (a mail, a chat) would not
		// carry a SameSite=Strict cookie through a redirect, and the
		// viewer would be asked for the token again.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		s.tmpl.ExecuteTemplate(w, "enter.html.tmpl", map[string]any{"URL": u.RequestURI(), "W": wd})
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="drbook"`)
	http.Error(w, wd.T("error.token"), http.StatusUnauthorized)
	return false
}

// page is what every page's template gets besides its view.
type page struct {
	W         words
	Lang      string
	Title     string
	LangURL   string
	ListURL   string
	StreamURL string
	View      any
}

// otherLang is the address of this page in the other language.
func otherLang(r *http.Request, lang string) string {
	q := r.URL.Query()
	q.Del("token")
	if lang == reports.LangZhTW {
		q.Set("lang", reports.LangEN)
	} else {
		q.Set("lang", reports.LangZhTW)
	}
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).RequestURI()
}

func withLang(path, lang string, explicit bool) string {
	if !explicit {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "lang=" + url.QueryEscape(lang)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", p.Lang)
	h.Set("Vary", "Accept-Language, Cookie, Authorization")
	w.Write(buf.Bytes())
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	lang, explicit := negotiate(r, s.cfg.Lang)
	wd := wordsFor(lang)
	v := s.list(wd, lang, explicit)
	s.render(w, r, "list.html.tmpl", page{W: wd, Lang: lang, Title: v.Title, LangURL: otherLang(r, lang),
		ListURL: withLang("/", lang, explicit), StreamURL: withLang("/live", lang, explicit), View: v})
}

func (s *Server) handleListStream(w http.ResponseWriter, r *http.Request) {
	lang, explicit := negotiate(r, s.cfg.Lang)
	s.streamList(w, r, wordsFor(lang), lang, explicit)
}

// maxPageLines is how many of the journal's last lines a run page is
// drawn with; the report below it has the whole run.
const maxPageLines = 500

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	lang, explicit := negotiate(r, s.cfg.Lang)
	wd := wordsFor(lang)
	ref, ok := s.resolve(r.PathValue("key"))
	if !ok {
		http.Error(w, wd.Tf("error.not_found", s.cfg.RunsDir), http.StatusNotFound)
		return
	}
	t := &tail{path: filepath.Join(ref.Dir, journal.FileName)}
	raw, err := t.next()
	if err != nil {
		http.Error(w, wd.Tf("error.unreadable", err), http.StatusNotFound)
		return
	}
	snap := s.cache.get(ref.Dir)
	v := wd.runPage(ref, snap)
	loc := s.location(ref.Dir)
	older := max(0, len(raw)-maxPageLines)
	for i := older; i < len(raw); i++ {
		v.Journal = append(v.Journal, wd.line(i+1, raw[i], loc))
	}
	v.OlderLines = older
	p := page{W: wd, Lang: lang, Title: wd.Tf("page.run", v.Title), LangURL: otherLang(r, lang), ListURL: withLang("/", lang, explicit),
		StreamURL: withLang(runURL("/live/", ref.Key, lang, false)+fmt.Sprintf("?from=%d", len(raw)), lang, explicit)}
	v.ReportURL = runURL("/report/", ref.Key, lang, false) + "?lang=" + url.QueryEscape(lang)
	p.View = v
	s.render(w, r, "run.html.tmpl", p)
}

func (s *Server) handleRunStream(w http.ResponseWriter, r *http.Request) {
	lang, _ := negotiate(r, s.cfg.Lang)
	wd := wordsFor(lang)
	ref, ok := s.resolve(r.PathValue("key"))
	if !ok {
		http.Error(w, wd.Tf("error.not_found", s.cfg.RunsDir), http.StatusNotFound)
		return
	}
	s.streamRun(w, r, ref, wd)
}

// handleReport renders the run's report as `drbook report` does, from the
// journal as it is now.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	lang, _ := negotiate(r, s.cfg.Lang)
	wd := wordsFor(lang)
	ref, ok := s.resolve(r.PathValue("key"))
	if !ok {
		http.Error(w, wd.Tf("error.not_found", s.cfg.RunsDir), http.StatusNotFound)
		return
	}
	snap := s.cache.get(ref.Dir)
	if snap.err != nil || snap.report == nil {
		http.Error(w, wd.Tf("error.unreadable", errText(snap.err)), http.StatusNotFound)
		return
	}
	rep := *snap.report
	if h, err := rep.HistoryOf(ref.Dir); err == nil {
		rep.History = h
	}
	var buf bytes.Buffer
	if err := reports.Render(&buf, &rep, reports.FormatHTML, lang); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", reportPolicy)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	w.Write(buf.Bytes())
}

// location is the time zone a run's times are shown in.
func (s *Server) location(dir string) *time.Location {
	if snap := s.cache.get(dir); snap.report != nil {
		return snap.report.Location()
	}
	return time.UTC
}
