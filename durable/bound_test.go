package durable

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// TestBoundFromTheRunbook checks each step's bound, worked out by hand
// from its timeout:, retry: and until:.
func TestBoundFromTheRunbook(t *testing.T) {
	src := `name: bounds
steps:
  - id: plain
    log: no bound
  - id: timed
    timeout: 30s
    log: x
  - id: retried
    timeout: 30s
    retry: {attempts: 3, delay: 10s, backoff: 2}
    log: x
  - id: capped
    timeout: 1m
    retry: {attempts: 4, delay: 20s, backoff: 3, max_delay: 30s}
    log: x
  - id: polled
    until: {condition: "true", interval: 5s, within: 2m}
    log: x
  - id: group
    parallel:
      - {id: a, timeout: 10s, log: a}
      - {id: b, timeout: 20s, log: b}
  - id: open_group
    parallel:
      - {id: c, timeout: 10s, log: c}
      - {id: d, log: d}
`
	file := filepath.Join(t.TempDir(), "bounds.yaml")
	os.WriteFile(file, []byte(src), 0o644)
	rb, err := runbooks.Load(file, runbooks.Options{Registry: all.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{
		"plain":   0,
		"timed":   30 * time.Second,
		"retried": 30*time.Second + (10*time.Second + 30*time.Second) + (20*time.Second + 30*time.Second), // 120 s
		// delays 20 s, then 60 s capped to 30 s, twice: 4 × 60 s + 20 + 30 + 30
		"capped":     4*time.Minute + 80*time.Second,
		"polled":     2*time.Minute + 5*time.Second,
		"group":      30 * time.Second,
		"open_group": 0,
	}
	for _, st := range rb.Steps {
		if got := bound(st); got != want[st.ID] {
			t.Errorf("bound(%s) = %s, want %s", st.ID, got, want[st.ID])
		}
	}
}
