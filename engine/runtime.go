package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// stepRuntime is the steps.Runtime of one step instance.
type stepRuntime struct {
	run  *run
	id   string
	info StepInfo

	mu        sync.Mutex
	humanWait time.Duration
	artifacts int
}

var _ steps.Runtime = (*stepRuntime)(nil)

func (s *stepRuntime) StepID() string        { return s.id }
func (s *stepRuntime) Site() *site.Site      { return s.run.rb.Site }
func (s *stepRuntime) RunStarted() time.Time { return s.run.started }

func (s *stepRuntime) Options() steps.Options {
	o := s.run.cfg.Options
	o.Operator = s.run.cfg.OperatorName
	return o
}

func (s *stepRuntime) Secret(ref site.SecretRef, label string) (string, error) {
	return s.run.secret(ref, label)
}

// secret serves a kind's secret: the site's were all resolved and
// registered for redaction when the run started; one from elsewhere (a
// kind's own fallback such as GOVC_PASSWORD) is read, checked and
// registered on first use.
func (r *run) secret(ref site.SecretRef, label string) (string, error) {
	if v, ok := r.secrets.get(ref, label); ok {
		return v, nil
	}
	v, err := ref.Resolve(label, r.cfg.Prompter)
	if err != nil {
		return "", err
	}
	if err := usableSecret(v); err != nil {
		return "", i18n.Errorf("%s: %w", "%s：%w", label, err)
	}
	r.w.AddSecret(v)
	r.secrets.put(ref, label, v)
	return v, nil
}

func (s *stepRuntime) Redact(text string) string { return s.run.w.Scrub(text) }

func (s *stepRuntime) Shared(key string, open func() (io.Closer, error)) (io.Closer, error) {
	return s.run.sharedResource(key, open)
}

func (s *stepRuntime) Evidence(ev journal.Evidence) {
	s.run.append(journal.Event{Type: journal.TypeEvidence, Step: s.id, Evidence: &ev})
	s.run.mu.Lock()
	s.run.evidence = append(s.run.evidence, steps.RecordedEvidence{Step: s.id, Evidence: ev})
	s.run.mu.Unlock()
}

var _ steps.Ledger = (*stepRuntime)(nil)

// Recorded is steps.Ledger: the run's evidence, every session's.
func (s *stepRuntime) Recorded() []steps.RecordedEvidence {
	s.run.mu.Lock()
	defer s.run.mu.Unlock()
	return append([]steps.RecordedEvidence(nil), s.run.evidence...)
}

func (s *stepRuntime) Trust(t journal.Trust) {
	s.run.append(journal.Event{Type: journal.TypeTrust, Step: s.id, Trust: &t})
}

func (s *stepRuntime) Note(level, text string) {
	s.run.append(journal.Event{Type: journal.TypeNote, Step: s.id, Note: &journal.Note{Level: level, Text: text}})
}

// NoteText journals a note in both languages (steps.SayNote).
func (s *stepRuntime) NoteText(level string, t journal.Text) {
	s.run.append(journal.Event{Type: journal.TypeNote, Step: s.id, Note: &journal.Note{Level: level, Text: t.EN, TextZhTW: t.ZhTW}})
}

// ProgressText shows a progress line in the operator's language (steps.Say).
func (s *stepRuntime) ProgressText(t journal.Text) {
	if o := s.run.cfg.Observer; o != nil {
		o.Progress(s.id, s.run.w.Scrub(t.In(s.run.cfg.Options.Lang)))
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Artifact stores data under artifacts/ with a name made from the step id,
// and journals its hash. Secrets are scrubbed from it like from the journal.
func (s *stepRuntime) Artifact(name string, r io.Reader) (journal.Artifact, error) {
	s.mu.Lock()
	s.artifacts++
	n := s.artifacts
	s.mu.Unlock()
	file := unsafeName.ReplaceAllString(fmt.Sprintf("%s-%d-%s", s.id, n, name), "_")
	rel := filepath.Join("artifacts", file)
	data, err := io.ReadAll(r)
	if err != nil {
		return journal.Artifact{}, err
	}
	data = []byte(s.run.w.Scrub(string(data)))
	if err := os.WriteFile(filepath.Join(s.run.dir, rel), data, 0o600); err != nil {
		return journal.Artifact{}, err
	}
	sum := sha256.Sum256(data)
	a := journal.Artifact{Name: name, Path: rel, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	_, err = s.run.append(journal.Event{Type: journal.TypeArtifact, Step: s.id, Artifact: &a})
	return a, err
}

func (s *stepRuntime) Progress(format string, args ...any) {
	if o := s.run.cfg.Observer; o != nil {
		o.Progress(s.id, s.run.w.Scrub(fmt.Sprintf(format, args...)))
	}
}

// Ask serves manual steps; the time it takes is human wait time, and the
// answer is journaled as a decision.
func (s *stepRuntime) Ask(ctx context.Context, q steps.Question) (steps.Answer, error) {
	t0 := time.Now()
	ans, err := s.run.cfg.Operator.Ask(ctx, s.info, s.run.redactedQuestion(q))
	s.mu.Lock()
	s.humanWait += time.Since(t0)
	s.mu.Unlock()
	if err != nil {
		return ans, err
	}
	if ans.Who == "" {
		ans.Who = s.run.cfg.OperatorName
	}
	action := "done-by-hand"
	if !ans.Done {
		action = "not-done"
	}
	s.run.append(journal.Event{Type: journal.TypeDecision, Step: s.id, Decision: &journal.Decision{Who: ans.Who, Action: action, Inputs: ans.Inputs}})
	return ans, nil
}
