package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/journal/journaltest"
)

// stepErrorJournal is a run whose step failed after a retry, its
// step.retry, step.finish and run.end carrying finish (the fields after
// "status") and retry and end.
func stepErrorJournal(t *testing.T, retry, finish, end string) *Report {
	t.Helper()
	j := journaltest.Chain(
		[]byte(`{"type":"run.start","time":"2026-03-01T10:00:00Z","run_start":{"schema":1,"run_id":"r1","runbook":"x","runbook_sha256":"ab","mode":"lab","rto":"5m"}}`),
		[]byte(`{"type":"step.start","time":"2026-03-01T10:00:01Z","step":"web","step_start":{"kind":"check.tcp","block":"steps","attempt":1}}`),
		[]byte(`{"type":"step.retry","time":"2026-03-01T10:00:02Z","step":"web","step_retry":{"attempt":1,`+retry+`,"delay":"1s"}}`),
		[]byte(`{"type":"step.finish","time":"2026-03-01T10:00:03Z","step":"web","step_finish":{"status":"failed","attempts":2,"started":"2026-03-01T10:00:01Z","finished":"2026-03-01T10:00:03Z","duration":"2s",`+finish+`}}`),
		[]byte(`{"type":"run.end","time":"2026-03-01T10:00:04Z","run_end":{"result":"failed",`+end+`,"duration":"4s"}}`),
	)
	if _, _, err := journal.Verify(bytes.NewReader(j)); err != nil {
		t.Fatal(err)
	}
	log, err := journal.Read(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(log, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func renderIn(t *testing.T, r *Report, format, lang string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, r, format, lang); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestStepErrorsInTheReportsLanguage: the md and HTML reports in zh-TW
// show a step's, a retry's and the run's error from the journal's
// error_zh_tw (the foreign words in it as they were); in English, and in
// the JSON report beside it, the English stays.
func TestStepErrorsInTheReportsLanguage(t *testing.T) {
	const en = "check.tcp 127.0.0.1:9: dial tcp 127.0.0.1:9: connect: connection refused"
	const zh = "check.tcp 127.0.0.1:9：dial tcp 127.0.0.1:9: connect: connection refused"
	r := stepErrorJournal(t,
		`"error":"retry: `+en+`","error_zh_tw":"重試：`+zh+`"`,
		`"error":"`+en+`","error_zh_tw":"`+zh+`"`,
		`"error":"the run failed: step web: `+en+`","error_zh_tw":"演練失敗：步驟 web：`+zh+`"`)
	for _, format := range []string{"md", "html"} {
		out := renderIn(t, r, format, LangZhTW)
		for _, want := range []string{zh, "重試：" + zh} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report in zh-TW lacks %q", format, want)
			}
		}
		if strings.Contains(out, en) {
			t.Errorf("%s report in zh-TW still shows the English error %q", format, en)
		}
		if out := renderIn(t, r, format, "en"); !strings.Contains(out, en) || strings.Contains(out, zh) {
			t.Errorf("%s report in English does not show the English error alone", format)
		}
	}
	js := renderIn(t, r, "json", LangZhTW)
	for _, want := range []string{`"error_zh_tw"`, `"error": "` + en} {
		if !strings.Contains(js, want) {
			t.Errorf("the JSON report lacks %s", want)
		}
	}
}

// TestOldJournalWithoutChineseErrorsStillReads: a journal written before
// error_zh_tw existed verifies, builds and renders in zh-TW with its
// errors in English.
func TestOldJournalWithoutChineseErrorsStillReads(t *testing.T) {
	const en = "check.tcp 127.0.0.1:9: dial tcp 127.0.0.1:9: connect: connection refused"
	r := stepErrorJournal(t, `"error":"`+en+`"`, `"error":"`+en+`"`, `"error":"the run failed: step web: `+en+`"`)
	for _, format := range []string{"md", "html"} {
		if out := renderIn(t, r, format, LangZhTW); !strings.Contains(out, en) {
			t.Errorf("%s report in zh-TW of an old journal lost the step's error", format)
		}
	}
	if r.Steps[0].ErrorZhTW != "" || r.Cover.ErrorZhTW != "" {
		t.Errorf("an old journal has Chinese errors: %+v", r.Steps[0])
	}
}

// TestDrbooksDecisionReasonsInTheReportsLanguage: a reason drbook wrote
// for a decision (--rerun-interrupted) is Chinese in the zh-TW report.
func TestDrbooksDecisionReasonsInTheReportsLanguage(t *testing.T) {
	j := journaltest.Chain(
		[]byte(`{"type":"run.start","time":"2026-03-01T10:00:00Z","run_start":{"schema":1,"run_id":"r1","runbook":"x","runbook_sha256":"ab","mode":"lab","rto":"5m"}}`),
		[]byte(`{"type":"decision","time":"2026-03-01T10:00:01Z","step":"web","decision":{"who":"ops","action":"rerun-interrupted","reason":"--rerun-interrupted: the operator checked the target","reason_zh_tw":"--rerun-interrupted：操作人員已檢查對象"}}`),
		[]byte(`{"type":"run.end","time":"2026-03-01T10:00:04Z","run_end":{"result":"passed","duration":"4s"}}`),
	)
	log, err := journal.Read(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(log, "")
	if err != nil {
		t.Fatal(err)
	}
	if out := renderIn(t, r, "md", LangZhTW); !strings.Contains(out, "操作人員已檢查對象") || strings.Contains(out, "the operator checked") {
		t.Errorf("the zh-TW report does not give drbook's decision reason in Chinese:\n%s", out)
	}
	if out := renderIn(t, r, "md", "en"); !strings.Contains(out, "the operator checked the target") {
		t.Error("the English report lost the reason")
	}
}
