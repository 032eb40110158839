package engine

// FuzzJournalState feeds arbitrary events, chained as a real journal so
// that they pass the hash check, to the reader resume and `drbook runs`
// use. It must return a state or an error, never panic. Seeds are in
// testdata/fuzz/FuzzJournalState and run with `go test ./engine`; fuzz for
// longer with
//
//	go test ./engine -run '^$' -fuzz FuzzJournalState -fuzztime 60s

import (
	"strings"
	"testing"

	"github.com/drbook/drbook/journal/journaltest"
)

func FuzzJournalState(f *testing.F) {
	start := `{"type":"run.start","time":"2026-03-01T10:00:00Z","run_start":{"schema":1,"run_id":"r1","runbook":"x","runbook_sha256":"ab","mode":"lab"}}`
	for _, s := range []string{
		start,
		start + "\n" + `{"type":"step.finish","time":"2026-03-01T10:00:01Z","step":"a"}`,
		start + "\n" + `{"type":"step.start","step":"a","step_start":{}}` + "\n" + `{"type":"run.end"}`,
		`{"type":"run.start"}`,
		start + "\n" + `{"type":"run.resume"}` + "\n" + `{"type":"step.finish","step":"b","step_finish":{"status":"interrupted"}}`,
		start + "\nnot json\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j := journaltest.Chain(journaltest.Lines(data)...)
		st, err := stateOf("run", "run/journal.jsonl", j)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if st.Start == nil {
			t.Fatal("a state without its run.start")
		}
		_ = st.Status()
		_ = startedLast(st.Log)
	})
}
