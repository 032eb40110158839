package reports

import (
	"path/filepath"
	"strings"
	"testing"
)

// goldenRuns are journals written by the real engine through the real
// command line (see TestRegenerateReportRuns in cmd/drbook): a guided lab
// run of the HA drill, the same journal with one line edited, a run that
// missed its recovery-time objective, and a run paused with Ctrl-C and
// resumed. Their reports in every format and both languages are golden
// files testdata/<name>.<lang>.<ext>. One command makes the journals
// again with the current engine and renders the golden files from them:
//
//	go generate ./reports
//
// (the directive below: TestRegenerateReportRuns -regen-report-runs, then
// TestGoldenRuns -update); review the diff like code. To render the
// golden files again from the journals there are:
//
//	go test ./reports -run '^TestGoldenRuns$' -update
//
//go:generate sh -c "cd .. && go test ./cmd/drbook -run '^TestRegenerateReportRuns$' -regen-report-runs -count=1 && go test ./reports -run '^TestGoldenRuns$' -update -count=1"
var goldenRuns = []string{"guided", "tampered", "rto-missed", "paused-resumed"}

func TestGoldenRuns(t *testing.T) {
	for _, name := range goldenRuns {
		r := buildRun(t, filepath.Join("testdata", "runs", name))
		testGolden(t, name, r)
	}
}

// TestGoldenRunsSayWhatHappened reads the golden runs' reports for what
// each must state, so a regenerated golden file that lost it fails here
// and not only in review.
func TestGoldenRunsSayWhatHappened(t *testing.T) {
	want := map[string]map[string][]string{
		"guided": {
			LangEN:   {"**Result: PASSED**", "Human wait time (confirmations, manual steps): ", "| shut | Shut down host esx-68 (simulated sudden failure)"},
			LangZhTW: {"**結果：通過**", "人工等待時間"},
		},
		"tampered": {
			LangEN:   {"**Result: NOT VERIFIED**", "NOT VERIFIED: this journal does not verify (", "was edited (its hash is not the one line", "Journal final hash as found (NOT VERIFIED)"},
			LangZhTW: {"**結果：未通過驗證**", "未通過驗證：本紀錄檔未通過驗證（雜湊鏈中斷：紀錄檔第 ", " 行遭編輯（其雜湊值與第 ", "現存紀錄檔最終雜湊值（未通過驗證）"},
		},
		"rto-missed": {
			LangEN:   {"**Result: FAILED**", "The run ended as recorded (passed), but the drill failed: Recovery took", "over the objective of 20 ms"},
			LangZhTW: {"**結果：未通過**", "執行紀錄之結果為「通過」，惟演練未通過：實測復原時間"},
		},
		"paused-resumed": {
			LangEN:   {"**Result: PASSED**", "The run was paused at ", "The run was resumed at ", "by bob", "## Sessions"},
			LangZhTW: {"演練於 ", "暫停", "續行"},
		},
	}
	for _, name := range goldenRuns {
		r := buildRun(t, filepath.Join("testdata", "runs", name))
		for lang, texts := range want[name] {
			md := render(t, r, FormatMD, lang)
			for _, s := range texts {
				if !strings.Contains(md, s) {
					t.Errorf("%s %s report lacks %q", name, lang, s)
				}
			}
			if name == "tampered" && (strings.Contains(md, "PASSED") || strings.Contains(md, "結果：通過")) {
				t.Errorf("%s %s report says passed", name, lang)
			}
			if strings.Contains(md, "m0s") || strings.Contains(md, "INTERRUPTED []") {
				t.Errorf("%s %s report holds a raw Go value", name, lang)
			}
		}
		s := r.Summary
		if s.Automated < 0 || s.Automated+s.HumanWait+s.Gaps != s.WallClock {
			t.Errorf("%s: wall %v ≠ automated %v + human %v + gaps %v", name, s.WallClock, s.Automated, s.HumanWait, s.Gaps)
		}
	}
}
