// Package steptest helps test step kinds: an in-memory Runtime that records
// what a kind journals, helpers to decode parameters the way the loader
// does, and the conformance suite every kind must pass.
package steptest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// Runtime is a steps.Runtime that keeps everything in memory. Fields may be
// set before use; it is safe for concurrent use.
type Runtime struct {
	ID      string
	SiteVal *site.Site
	Opts    steps.Options
	Started time.Time
	// Answer, when set, answers Ask; otherwise Ask returns ErrNoOperator.
	Answer func(steps.Question) (steps.Answer, error)
	// Dir holds artifacts; a temporary directory when made by NewRuntime.
	Dir string

	mu        sync.Mutex
	shared    map[string]io.Closer
	Evidences []journal.Evidence
	Trusts    []journal.Trust
	Notes     []journal.Note
	Artifacts []journal.Artifact
	Secrets   []string
	Progress_ []string
	// ProgressTexts are the progress lines given in both languages.
	ProgressTexts []journal.Text
}

var _ steps.Runtime = (*Runtime)(nil)

// NewRuntime returns a Runtime for site s whose shared resources are closed
// when the test ends.
func NewRuntime(t testing.TB, s *site.Site) *Runtime {
	t.Helper()
	if s == nil {
		s = &site.Site{Name: "test"}
	}
	rt := &Runtime{ID: "step", SiteVal: s, Started: time.Now(), Dir: t.TempDir(), Opts: steps.Options{Lang: "en", Operator: "tester"}}
	t.Cleanup(rt.Close)
	return rt
}

// Close closes every shared resource.
func (r *Runtime) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.shared {
		c.Close()
	}
	r.shared = nil
}

func (r *Runtime) StepID() string         { return r.ID }
func (r *Runtime) Site() *site.Site       { return r.SiteVal }
func (r *Runtime) Options() steps.Options { return r.Opts }
func (r *Runtime) RunStarted() time.Time  { return r.Started }

func (r *Runtime) Secret(ref site.SecretRef, label string) (string, error) {
	v, err := ref.Resolve(label, nil)
	if err == nil && v != "" {
		r.mu.Lock()
		r.Secrets = append(r.Secrets, v)
		r.mu.Unlock()
	}
	return v, err
}

// Redact replaces the secrets resolved so far with "[redacted]", as the
// engine does.
func (r *Runtime) Redact(text string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.Secrets {
		text = strings.ReplaceAll(text, s, journal.Redacted)
	}
	return text
}

// Shared opens each resource once per key; the lock is not held while
// open runs, so an opener may call Secret or other Runtime methods, as the
// engine allows.
func (r *Runtime) Shared(key string, open func() (io.Closer, error)) (io.Closer, error) {
	r.mu.Lock()
	if c, ok := r.shared[key]; ok {
		r.mu.Unlock()
		return c, nil
	}
	r.mu.Unlock()
	c, err := open()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if have, ok := r.shared[key]; ok {
		// Another caller opened it meanwhile; keep theirs.
		c.Close()
		return have, nil
	}
	if r.shared == nil {
		r.shared = map[string]io.Closer{}
	}
	r.shared[key] = c
	return c, nil
}

func (r *Runtime) Evidence(ev journal.Evidence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Evidences = append(r.Evidences, ev)
}

var _ steps.Ledger = (*Runtime)(nil)

// Recorded is steps.Ledger: the evidence journaled through r so far, all
// under r's current step id.
func (r *Runtime) Recorded() []steps.RecordedEvidence {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]steps.RecordedEvidence, len(r.Evidences))
	for i, ev := range r.Evidences {
		out[i] = steps.RecordedEvidence{Step: r.ID, Evidence: ev}
	}
	return out
}

func (r *Runtime) Trust(t journal.Trust) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Trusts = append(r.Trusts, t)
}

func (r *Runtime) Note(level, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, journal.Note{Level: level, Text: text})
}

func (r *Runtime) Artifact(name string, src io.Reader) (journal.Artifact, error) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, src); err != nil {
		return journal.Artifact{}, err
	}
	path := filepath.Join(r.Dir, "artifacts", r.ID+"-"+name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return journal.Artifact{}, err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return journal.Artifact{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	a := journal.Artifact{Name: name, Path: path, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
	r.mu.Lock()
	r.Artifacts = append(r.Artifacts, a)
	r.mu.Unlock()
	return a, nil
}

func (r *Runtime) Progress(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Progress_ = append(r.Progress_, fmt.Sprintf(format, args...))
}

// ProgressText records the English line in Progress_ and both in
// ProgressTexts (steps.Say).
func (r *Runtime) ProgressText(t journal.Text) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Progress_ = append(r.Progress_, t.EN)
	r.ProgressTexts = append(r.ProgressTexts, t)
}

// NoteText records a note in both languages (steps.SayNote).
func (r *Runtime) NoteText(level string, t journal.Text) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, journal.Note{Level: level, Text: t.EN, TextZhTW: t.ZhTW})
}

func (r *Runtime) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	if r.Answer == nil {
		return steps.Answer{}, steps.ErrNoOperator
	}
	return r.Answer(q)
}
