package journal

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppendReturnsTheScrubbedEvent: callers pass the returned event on to
// the screen and logs (the engine's observers), so it must carry no more
// than the line written.
func TestAppendReturnsTheScrubbedEvent(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const secret = `s3cr3t-"q"-秘密`
	w.AddSecret(secret)
	ev, err := w.Append(Event{Type: TypeNote, Step: "a", Note: &Note{Level: "info", Text: "the password is " + secret}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	if strings.Contains(string(b), "s3cr3t") || strings.Contains(string(b), "秘密") {
		t.Fatalf("Append returned the secret: %s", b)
	}
	if ev.Note == nil || ev.Note.Text != "the password is [redacted]" || ev.Seq != 1 || ev.Step != "a" {
		t.Fatalf("returned event %+v, want the note as written", ev)
	}
	// Without a secret in it, the event comes back as given.
	ev, err = w.Append(Event{Type: TypeNote, Note: &Note{Level: "info", Text: "plain"}})
	if err != nil || ev.Note.Text != "plain" || ev.Seq != 2 || ev.Prev == "" {
		t.Fatalf("second event %+v, %v", ev, err)
	}
}

// BenchmarkFsync is the machine's fsync latency as the journal meets it:
// one ~200-byte event appended and fsync'd per op (ns/op). Every fsync'd
// figure in the README scales with it, so bench/readme-figures.sh prints
// it beside them.
//
//	go test ./journal -run '^$' -bench Fsync -benchtime 200x
func BenchmarkFsync(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for b.Loop() {
		if _, err := w.Append(Event{Type: TypeNote, Step: "s", Note: &Note{Level: "info", Text: strings.Repeat("x", 100)}}); err != nil {
			b.Fatal(err)
		}
	}
	if w.syncs < int64(b.N) {
		b.Fatalf("%d appends took %d fsyncs; each one alone must have its own", b.N, w.syncs)
	}
}
