package reports

// FuzzJournalReport feeds arbitrary events, chained as a real journal, to
// the reader and every renderer. Nothing may panic, and a report may not
// grow out of proportion to its journal (a run.start without a time once
// made a 92 MB page of timeline ticks). Seeds are in
// testdata/fuzz/FuzzJournalReport and run with `go test ./reports`; fuzz
// for longer with
//
//	go test ./reports -run '^$' -fuzz FuzzJournalReport -fuzztime 60s

import (
	"bytes"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/journal/journaltest"
)

// countingWriter counts bytes and keeps none.
type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// reportLimit is far above any real report of n journal bytes: the page's
// fixed part (styles, script, template) and a few kilobytes per event.
func reportLimit(n int) int { return 2<<20 + 200*n }

func FuzzJournalReport(f *testing.F) {
	start := `{"type":"run.start","time":"2026-03-01T10:00:00Z","run_start":{"schema":1,"run_id":"r1","runbook":"x","runbook_sha256":"ab","mode":"lab","rto":"5m"}}`
	for _, s := range []string{
		start + "\n" + `{"type":"step.start","time":"2026-03-01T10:00:01Z","step":"a","step_start":{"kind":"log","block":"steps"}}` + "\n" +
			`{"type":"step.finish","time":"2026-03-01T10:00:02Z","step":"a","step_finish":{"status":"ok","started":"2026-03-01T10:00:01Z","finished":"2026-03-01T10:00:02Z"}}` + "\n" +
			`{"type":"run.end","time":"2026-03-01T10:00:03Z","run_end":{"result":"passed"}}`,
		`{"type":"run.start","run_start":{"schema":1}}` + "\n" + `{"type":"run.end","time":"2026-03-01T10:00:03Z","run_end":{"result":"passed"}}`,
		start + "\n" + `{"type":"step.finish","step":"a"}`,
		start + "\n" + `{"type":"monitor","time":"2026-03-01T10:00:01Z","monitor":{"name":"web","state":"down"}}` + "\n" +
			`{"type":"monitor","time":"9999-03-01T10:00:01Z","monitor":{"name":"web","state":"up"}}`,
		start + "\n" + `{"type":"evidence","time":"2026-03-01T10:00:01Z","step":"a","evidence":{"kind":"table"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j := journaltest.Chain(journaltest.Lines(data)...)
		log, err := journal.Read(bytes.NewReader(j))
		if err != nil {
			return
		}
		r, err := Build(log, "")
		if err != nil {
			return
		}
		for _, format := range Formats {
			for _, lang := range []string{"en", "zh-TW"} {
				var w countingWriter
				if err := Render(&w, r, format, lang); err != nil {
					continue
				}
				if w.n > reportLimit(len(j)) {
					t.Fatalf("the %s report (%s) is %d bytes for a %d-byte journal", format, lang, w.n, len(j))
				}
			}
		}
	})
}
