package journal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRedactionWorksOnValues plants secrets that are also words of the
// journal itself: a result ("passed"), a status ("ok"), a key ("status"),
// a piece of JSON syntax (`","`), and a long random one. Redaction used
// to run over the serialized line, so the run's result was journaled as
// "[redacted]ed", keys vanished and a line could become unreadable. Now
// only text values are redacted: the record reads as it was meant, and
// every planted secret is gone from the text it leaked into.
func TestRedactionWorksOnValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const long = "Vq7-xR2#pL9!wZ4$"
	secrets := []string{"passed", "ok", "status", `","`, long}
	for _, s := range secrets {
		w.AddSecret(s)
	}
	leak := "the guest printed passed and ok and status and \",\" and " + long
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	events := []Event{
		{Type: TypeRunStart, RunStart: &RunStart{RunID: "r", Runbook: "rb", Mode: "drill", Params: map[string]any{"ok": leak, "status": 3},
			Steps: []PlannedStep{{ID: "ok", Kind: "log", Block: "steps"}}}},
		{Type: TypeStepStart, Step: "ok", StepStart: &StepStart{Kind: "log", Description: leak}},
		{Type: TypeNote, Step: "ok", Note: &Note{Level: "info", Text: leak}},
		{Type: TypeStepFinish, Step: "ok", StepFinish: &StepFinish{Status: StatusOK, Started: start, Finished: start, Error: leak,
			Result: json.RawMessage(`{"status":"` + long + `","ok":["passed",7,true,null]}`)}},
		{Type: TypeRunEnd, RunEnd: &RunEnd{Result: "passed", Error: leak}},
	}
	for _, ev := range events {
		if _, err := w.Append(ev); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
	}
	w.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Verify(bytes.NewReader(data)); err != nil {
		t.Fatalf("the chain does not verify: %v", err)
	}
	log, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ev := log.Events
	if got := ev[4].RunEnd.Result; got != "passed" {
		t.Errorf("run.end result %q, want passed", got)
	}
	if got := ev[3].StepFinish.Status; got != StatusOK || ev[3].Step != "ok" || ev[0].RunStart.Steps[0].ID != "ok" {
		t.Errorf("status %q, step %q, planned id %q: vocabulary and ids must stay", got, ev[3].Step, ev[0].RunStart.Steps[0].ID)
	}
	if _, ok := ev[0].RunStart.Params["ok"]; !ok || ev[0].RunStart.Params["status"] != float64(3) {
		t.Errorf("params %v: keys and numbers must stay", ev[0].RunStart.Params)
	}
	want := "the guest printed [redacted] and [redacted] and [redacted] and [redacted] and [redacted]"
	for name, got := range map[string]string{"note": ev[2].Note.Text, "description": ev[1].StepStart.Description,
		"error": ev[3].StepFinish.Error, "run.end error": ev[4].RunEnd.Error, "param": ev[0].RunStart.Params["ok"].(string)} {
		if got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	var res map[string]any
	if err := json.Unmarshal(ev[3].StepFinish.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res["status"] != Redacted || len(res["ok"].([]any)) != 4 || res["ok"].([]any)[0] != Redacted || res["ok"].([]any)[1] != float64(7) {
		t.Errorf("result %v: its text values redacted, its keys and other values kept", res)
	}
	if strings.Contains(string(data), long) {
		t.Errorf("the long secret is in the journal")
	}
}

// TestRedactionLeavesCleanLinesAlone: a line whose secrets appear only in
// keys and vocabulary is written exactly as json.Marshal made it.
func TestRedactionLeavesCleanLinesAlone(t *testing.T) {
	var r redactor
	r.add("passed")
	r.add("status")
	ev := Event{Seq: 1, Type: TypeRunEnd, RunEnd: &RunEnd{Result: "passed"}, Prev: "ab"}
	line, _ := json.Marshal(ev)
	got, err := r.line(line)
	if err != nil || !bytes.Equal(got, line) {
		t.Fatalf("line %s (%v), want %s", got, err, line)
	}
	ev2 := Event{Seq: 2, Type: TypeStepFinish, StepFinish: &StepFinish{Status: "ok", Result: json.RawMessage(`{"status":200,"x":"<&>\u2028"}`)}}
	line, _ = json.Marshal(ev2)
	if got, err := r.line(line); err != nil || !bytes.Equal(got, line) {
		t.Fatalf("line %s (%v), want %s", got, err, line)
	}
}
