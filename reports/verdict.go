package reports

import (
	"fmt"
	"strings"

	"github.com/drbook/drbook/journal"
)

// Verdicts the report gives besides the journal's own run results
// (passed, failed, aborted, interrupted, paused) and ResultIncomplete.
const (
	// VerdictNotVerified is a journal whose hash chain or signature does
	// not verify: none of its figures can be relied on, so the report
	// states no other result.
	VerdictNotVerified = "not-verified"
)

// Verdict reasons (Summary.VerdictReasons) for a verdict that differs from
// the journal's recorded result.
const (
	ReasonIntegrity    = "integrity"
	ReasonRTOExceeded  = DevRTOExceeded
	ReasonNotRecovered = DevNotRecovered
)

// Verdict is the run's one result: every renderer prints it and drbook's
// exit code follows it. In order:
//
//   - a journal that was checked and does not verify (hash chain or
//     signature) is "not-verified", whatever it says;
//   - a run the journal does not record as passed keeps that result
//     (failed, aborted, interrupted, paused, incomplete);
//   - a run recorded as passed fails when its recovery-time objective was
//     exceeded or recovery was never reached.
//
// The reasons say why the verdict is not the recorded result.
func Verdict(r *Report) (verdict string, reasons []string) {
	in := r.Integrity
	if (in.ChainChecked && !in.ChainVerified) || (in.Signature != nil && !in.Signature.Valid) {
		return VerdictNotVerified, []string{ReasonIntegrity}
	}
	recorded := r.Cover.RecordedResult
	if recorded == "" {
		recorded = ResultIncomplete
	}
	if recorded != "passed" {
		return recorded, nil
	}
	if rec := r.Summary.Recovery; rec != nil {
		switch {
		case rec.Measured == nil && (r.Summary.RTO > 0 || !onlyUndeclared(rec.Pending)):
			return journal.StatusFailed, []string{ReasonNotRecovered}
		case rec.Met != nil && !*rec.Met:
			return journal.StatusFailed, []string{ReasonRTOExceeded}
		}
	}
	return "passed", nil
}

// onlyUndeclared says whether recovery was not measured only because the
// runbook declares nothing to measure it against: without an objective
// that is a gap in the runbook, shown as a deviation, not a failed drill;
// with one, the objective cannot be shown met, so the drill fails.
func onlyUndeclared(pending []string) bool {
	return len(pending) == 1 && pending[0] == "none-declared"
}

// setVerdict stores the verdict in the report.
func (r *Report) setVerdict() {
	r.Summary.Verdict, r.Summary.VerdictReasons = Verdict(r)
	r.Cover.Result = r.Summary.Verdict
	r.Summary.Passed = r.Summary.Verdict == "passed"
}

// notVerified says whether the report's journal was checked and does not
// verify.
func (r *Report) notVerified() bool { return r.Summary.Verdict == VerdictNotVerified }

// chainWords words a chain break in Traditional Chinese by its kind; the
// English is the journal's own reason.
var chainWords = map[string]string{
	journal.BreakEmpty:     "紀錄檔為空",
	journal.BreakNotJSON:   "紀錄檔第 %[1]d 行不是紀錄事件（遭編輯或損毀）",
	journal.BreakEdited:    "雜湊鏈中斷：紀錄檔第 %[1]d 行遭編輯（其雜湊值與第 %[2]d 行所記錄者不符）",
	journal.BreakDeleted:   "雜湊鏈中斷：紀錄檔第 %[1]d 行之前有若干行遭刪除",
	journal.BreakFirstLine: "雜湊鏈中斷：第 1 行記載了其前一行（開頭若干行遭刪除，或第 1 行遭編輯）",
	journal.BreakOrder:     "雜湊鏈中斷：紀錄檔第 %[1]d 行未接續前一行（遭插入、重排或編輯）",
	journal.BreakSequence:  "紀錄檔第 %[1]d 行之序號錯誤",
}

// ChainProblem words a broken hash chain in lang: the journal's own
// reason in English, its kind and line in Traditional Chinese.
func ChainProblem(line int, kind, english, lang string) string {
	if w, ok := chainWords[kind]; ok && lang == LangZhTW {
		return fmt.Sprintf(w, line, line+1)
	}
	return english
}

// integrityProblemIn is integrityProblem in the localizer's language.
func (l *localizer) integrityProblemIn(r *Report) string {
	if in := r.Integrity; in.ChainError != "" {
		return ChainProblem(in.ChainLine, in.ChainKind, in.ChainError, l.lang)
	}
	return r.integrityProblem()
}

// integrityProblem is what failed to verify, for the cover.
func (r *Report) integrityProblem() string {
	if e := r.Integrity.ChainError; e != "" {
		return e
	}
	if s := r.Integrity.Signature; s != nil && !s.Valid {
		return s.Problem
	}
	return ""
}

// NotVerifiedText is the cover's warning for a journal that does not
// verify, naming the line; "" for one that does.
func (l *localizer) NotVerifiedText(r *Report) string {
	if !r.notVerified() {
		return ""
	}
	return l.Tf("not_verified_banner", l.integrityProblemIn(r))
}

// VerdictText explains a verdict that is not the journal's recorded
// result (a passed run that missed its objective); "" otherwise.
func (l *localizer) VerdictText(r *Report) string {
	if r.notVerified() || len(r.Summary.VerdictReasons) == 0 {
		return ""
	}
	var why []string
	for _, d := range r.Summary.Deviations {
		for _, reason := range r.Summary.VerdictReasons {
			if d.Kind == reason {
				why = append(why, l.Deviation(d))
			}
		}
	}
	return l.Tf("verdict_rto", l.Enum("recorded", r.Cover.RecordedResult), strings.Join(why, " "))
}

// FooterLeft is the text at the foot of every printed page: the run and
// the journal's final hash, which pin what the page belongs to.
func (l *localizer) FooterLeft(r *Report) string {
	h := l.T("footer_hash")
	if r.notVerified() {
		h = l.Enum("result", VerdictNotVerified) + " · " + h
	}
	return l.T("footer_run") + " " + r.Cover.RunID + " · " + h + " " + r.Integrity.FinalHash
}

// VerdictExplanation words in lang why the verdict is not the journal's
// recorded result ("" when it is).
func VerdictExplanation(r *Report, lang string) string {
	l, err := newLocalizer(r, lang)
	if err != nil {
		return ""
	}
	if t := l.NotVerifiedText(r); t != "" {
		return t
	}
	return l.VerdictText(r)
}
