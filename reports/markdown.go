package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// mdEscaper escapes text for a Markdown line or table cell: HTML is
// neutralised (Markdown passes raw HTML through), formatting and link
// characters are backslash-escaped, and a pipe cannot end a table cell.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;",
	"*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "#", `\#`, "~", `\~`,
	"\n", "<br>",
)

type mdWriter struct {
	w   io.Writer
	err error
}

// md escapes inline text; newlines become <br> (the one HTML tag we emit
// ourselves), so text can never start a block of its own.
func md(s string) string { return mdEscaper.Replace(s) }

// code writes s as a fenced code block whose fence is longer than any run
// of backticks inside it, so output cannot close the block early.
func (m *mdWriter) code(s string) {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	m.p("%s\n%s\n%s\n\n", fence, strings.TrimSuffix(s, "\n"), fence)
}

func (m *mdWriter) p(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

func (m *mdWriter) table(head []string, rows [][]string) {
	if len(head) == 0 {
		return
	}
	m.p("|")
	for _, h := range head {
		m.p(" %s |", md(h))
	}
	m.p("\n|")
	for range head {
		m.p(" --- |")
	}
	m.p("\n")
	for _, row := range rows {
		m.p("|")
		for _, c := range row {
			m.p(" %s |", c) // cells are escaped by the caller (some hold our own <br>)
		}
		m.p("\n")
	}
	m.p("\n")
}

func renderMarkdown(w io.Writer, r *Report, l *localizer) error {
	m := &mdWriter{w: w}
	c := r.Cover
	colon := l.T("colon")
	m.p("# %s%s%s\n\n", md(l.T("drill_report")), colon, md(l.Title(r)))
	m.p("**%s%s%s**", md(l.T("result")), colon, md(l.Enum("result", c.Result)))
	if c.Error != "" && !r.notVerified() {
		m.p(" (%s)", md(c.Error))
	}
	m.p("\n\n")
	if t := l.NotVerifiedText(r); t != "" {
		m.p("> **%s**\n\n", md(t))
	} else if t := l.VerdictText(r); t != "" {
		m.p("> **%s**\n\n", md(t))
	}
	if b := l.LabBanner(); b != "" {
		m.p("> **%s**\n\n", md(b))
	}
	cover := [][]string{
		{md(l.T("site")), md(c.Site)},
		{md(l.T("runbook")), md(c.Runbook)},
		{md(l.T("version")), md(orDash(c.RunbookVersion))},
		{md(l.T("runbook_sha")), md(c.RunbookSHA256)},
	}
	if c.SiteSHA256 != "" {
		cover = append(cover, []string{md(l.T("site_sha")), md(c.SiteSHA256)})
	}
	cover = append(cover,
		[]string{md(l.T("run_id")), md(c.RunID)},
		[]string{md(l.T("mode")), md(l.Mode(r))},
		[]string{md(l.T("operator")), md(c.Operator)},
		[]string{md(l.T("machine")), md(c.Machine)},
		[]string{md(l.T("drbook_version")), md(c.DrbookVersion)},
		[]string{md(l.T("start")), md(l.Stamp(c.Start))},
		[]string{md(l.T("end")), md(l.StampP(c.End))},
		[]string{md(l.T("time_zone")), md(r.TimeZone)},
		[]string{md(finalHashLabel(r, l)), md(r.Integrity.FinalHash)},
	)
	for _, k := range mapKeys(c.Params) {
		cover = append(cover, []string{md(l.T("parameters") + ": " + k), md(l.Param(c.Params[k]))})
	}
	m.table([]string{l.T("key"), l.T("value")}, cover)

	// Summary.
	s := r.Summary
	m.p("## %s\n\n", md(l.T("summary")))
	rto := l.T("rto_none")
	if s.RTO > 0 {
		rto = l.Dur(s.RTO)
	}
	m.p("- %s%s%s\n", md(l.T("rto")), colon, md(rto))
	m.p("- %s%s%s\n", md(l.T("rto_measured")), colon, md(recoveryText(r, l)))
	m.p("- %s%s%s\n", md(l.T("wall_clock")), colon, md(l.Dur(s.WallClock)))
	m.p("- %s%s%s\n", md(l.T("automated")), colon, md(l.Dur(s.Automated)))
	m.p("- %s%s%s\n", md(l.T("human_wait")), colon, md(l.Dur(s.HumanWait)))
	m.p("- %s%s%s\n", md(l.T("gaps")), colon, md(l.Dur(s.Gaps)))
	m.p("- %s%s%s\n\n", md(l.T("step_counts")), colon, md(strings.Join(l.Counts(s.Counts), " · ")))

	m.p("### %s\n\n", md(l.T("downtime")))
	if len(r.Monitors) == 0 {
		m.p("%s\n\n", md(l.T("no_monitors")))
	} else {
		var rows [][]string
		for _, mon := range r.Monitors {
			var ws []string
			for _, win := range mon.Windows {
				t := l.Clock(win.Start) + " → " + l.ClockP(win.End) + " (" + l.Dur(win.Duration)
				if lab := l.LabShort(win.Duration); lab != "" {
					t += "; " + lab
				}
				t += ")"
				if win.Detail != "" {
					t += " " + win.Detail
				}
				ws = append(ws, md(t))
			}
			if mon.DownAtEnd {
				ws = append(ws, md(l.T("down_at_end")))
			}
			for _, u := range mon.Unknown {
				ws = append(ws, md(l.T("unknown_windows")+l.T("colon")+l.Clock(u.Start)+" → "+l.ClockP(u.End)+" ("+l.Dur(u.Duration)+")"))
			}
			if mon.UnknownAtEnd {
				ws = append(ws, md(l.T("unknown_at_end")))
			}
			if len(ws) == 0 {
				ws = []string{md(l.T("none"))}
			}
			total := l.Dur(mon.Total)
			if lab := l.LabShort(mon.Total); lab != "" {
				total += " (" + lab + ")"
			}
			rows = append(rows, []string{md(mon.Name), md(total), strconv.Itoa(len(mon.Windows)),
				strings.Join(ws, "<br>"), md("±" + l.Dur(mon.Resolution)), md(l.Availability(mon))})
		}
		m.table([]string{l.T("service"), l.T("total_downtime"), l.T("outages"), l.T("outage_windows"), l.T("resolution_h"), l.T("availability")}, rows)
	}

	m.p("### %s\n\n", md(l.T("deviations")))
	if len(s.Deviations) == 0 {
		m.p("%s\n\n", md(l.T("no_deviations")))
	} else {
		for _, d := range s.Deviations {
			m.p("- %s\n", md(l.Deviation(d)))
		}
		m.p("\n")
	}

	// Steps.
	m.p("## %s\n\n", md(l.T("steps")))
	var rows [][]string
	for i := range r.Steps {
		st := &r.Steps[i]
		name := l.StepName(st)
		if st.Disruptive {
			name += " [" + l.T("disruptive") + "]"
		}
		if st.Recovery {
			name += " [" + l.T("recovery_step") + "]"
		}
		dur := "–"
		if st.Start != nil {
			dur = l.Dur(st.Duration)
			if st.OverExpect {
				dur = "**" + md(dur) + "**"
			} else {
				dur = md(dur)
			}
		}
		rows = append(rows, []string{md(st.ID), md(name), md(st.Kind), md(st.Target), md(l.ClockP(st.Start)), md(l.ClockP(st.End)),
			dur, md(l.DurOpt(st.Expect)), strconv.Itoa(st.Attempts), md(l.Enum("status", st.Status)), md(strings.Join(st.ConfirmedBy, ", "))})
	}
	m.table([]string{l.T("id"), l.T("name"), l.T("kind"), l.T("target"), l.T("start"), l.T("end"), l.T("duration"), l.T("planned"), l.T("attempts"), l.T("status"), l.T("confirmed_by")}, rows)

	// Evidence.
	m.p("## %s\n\n", md(l.T("evidence")))
	m.p("*%s*\n\n", md(l.T("results_in_json")))
	for i := range r.Steps {
		st := &r.Steps[i]
		if !stepHasDetail(st) {
			continue
		}
		m.p("### %s · %s (%s)\n\n", md(st.ID), md(l.StepName(st)), md(l.Enum("status", st.Status)))
		if st.Description != "" {
			m.p("%s\n\n", md(l.Cell(st.Description)))
		}
		if st.Error != "" {
			m.p("**%s**%s%s\n\n", md(l.T("error")), l.T("colon"), md(st.Error))
		}
		if st.Reason != "" {
			m.p("%s%s%s\n\n", md(l.T("reason")), l.T("colon"), md(st.Reason))
		}
		if len(st.Retries) > 0 {
			var rr [][]string
			for _, x := range st.Retries {
				rr = append(rr, []string{strconv.Itoa(x.Attempt), md(x.Error), md(l.Dur(x.Delay))})
			}
			m.p("#### %s\n\n", md(l.T("retries")))
			m.table([]string{l.T("attempt"), l.T("error"), l.T("delay")}, rr)
		}
		mdDecisions(m, l, st.Decisions)
		for _, e := range st.Evidence {
			mdEvidence(m, l, e)
		}
		mdNotes(m, l, st.Notes)
		if len(st.Artifacts) > 0 {
			var ar [][]string
			for _, a := range st.Artifacts {
				ar = append(ar, []string{md(a.Path), md(l.Bytes(a.Size)), md(a.SHA256)})
			}
			m.p("#### %s\n\n", md(l.T("artifacts")))
			m.table([]string{l.T("artifact"), l.T("size"), "SHA-256"}, ar)
		}
	}
	if len(r.Evidence) > 0 || len(r.Notes) > 0 || len(r.Decisions) > 0 {
		m.p("### %s\n\n", md(l.T("run_evidence")))
		mdDecisions(m, l, r.Decisions)
		for _, e := range r.Evidence {
			mdEvidence(m, l, e)
		}
		mdNotes(m, l, r.Notes)
	}

	// Trust.
	m.p("## %s\n\n", md(l.T("trust")))
	if len(r.Trust) == 0 {
		m.p("%s\n\n", md(l.T("no_trust")))
	} else {
		var tr [][]string
		for _, t := range r.Trust {
			tr = append(tr, []string{md(l.Enum("trust_kind", t.Kind)), md(t.Endpoint), md(t.Fingerprint), md(l.Enum("trust_source", t.Source)), md(t.Step)})
		}
		m.table([]string{l.T("kind"), l.T("endpoint"), l.T("fingerprint"), l.T("source"), l.T("steps")}, tr)
	}

	if len(r.Sessions) > 1 {
		m.p("## %s\n\n", md(l.T("sessions")))
		var sr [][]string
		for _, se := range r.Sessions {
			start := l.Stamp(se.Start)
			if se.Resumed {
				start += " (" + l.T("resumed") + ")"
			}
			res := l.Enum("result", se.Result)
			if r.notVerified() {
				res = "–"
			}
			if se.AllowedChange {
				res += " · " + l.T("runbook_changed")
			}
			sr = append(sr, []string{md(start), md(l.StampP(se.End)), md(se.Operator), md(se.Machine), md(se.DrbookVersion), md(res)})
		}
		m.table([]string{l.T("start"), l.T("end"), l.T("operator"), l.T("machine"), l.T("drbook_version"), l.T("result")}, sr)
	}

	if len(r.History) > 0 {
		m.p("## %s\n\n", md(l.T("history")))
		m.p("%s\n\n", md(l.T("history_how")))
		var hr [][]string
		for _, h := range r.History {
			res := l.Enum("result", h.Result)
			if !h.Verified {
				res += " (" + l.T("not_verified") + ")"
			}
			if h.Problem != "" {
				res += " " + h.Problem
			}
			rto := "–"
			if h.RTOMeasured != nil {
				rto = l.Dur(*h.RTOMeasured)
				if lab := l.HistoryLab(h, *h.RTOMeasured); lab != "" {
					rto += " (" + lab + ")"
				}
			}
			var dt []string
			for _, d := range h.Downtime {
				t := d.Name + ": " + l.Dur(d.Total) + " (±" + l.Dur(d.Resolution) + ")"
				if lab := l.HistoryLab(h, d.Total); lab != "" {
					t += " (" + lab + ")"
				}
				dt = append(dt, md(t))
			}
			hr = append(hr, []string{md(l.Stamp(h.Start)), md(h.RunID), md(h.RunbookVersion), md(res), md(rto), strings.Join(dt, "<br>")})
		}
		m.table([]string{l.T("start"), l.T("run_id"), l.T("version"), l.T("result"), l.T("rto_measured"), l.T("downtime")}, hr)
	}

	// Sign-off and integrity.
	m.p("## %s\n\n", md(l.T("sign_off")))
	so := r.SignOff
	m.table([]string{"", l.T("name"), l.T("signature"), l.T("date")}, [][]string{
		{md(l.T("prepared_by")), md(so.PreparedBy), " ", md(so.Date)},
		{md(l.T("reviewed_by")), md(so.ReviewedBy), " ", " "},
		{md(l.T("auditor")), md(so.Auditor), " ", " "},
	})
	in := r.Integrity
	m.p("## %s\n\n", md(l.T("integrity")))
	chain := l.T("chain_unchecked")
	if in.ChainChecked {
		if in.ChainVerified {
			chain = l.T("chain_ok")
		} else {
			chain = l.T("chain_broken") + l.T("colon") + l.integrityProblemIn(r)
		}
	}
	sig := l.T("sig_none")
	if in.Signature != nil {
		if in.Signature.Valid {
			sig = l.T("sig_valid") + " " + in.Signature.KeyFingerprint + ". " + l.T("sig_check")
		} else {
			sig = l.T("sig_invalid") + ": " + in.Signature.Problem
		}
	}
	rowsI := [][]string{
		{md(finalHashLabel(r, l)), md(in.FinalHash)},
		{md(l.T("lines")), strconv.Itoa(in.Lines)},
		{md(l.T("chain")), md(chain)},
		{md(l.T("signature")), md(sig)},
	}
	if in.TornBytes > 0 {
		rowsI = append(rowsI, []string{md(l.T("torn")), strconv.FormatInt(in.TornBytes, 10)})
	}
	m.table([]string{l.T("key"), l.T("value")}, rowsI)
	m.p("%s %s\n", md(l.T("integrity_how")), md(l.T("generated_from")))
	return m.err
}

// finalHashLabel names the final hash: as found, when the journal does not
// verify.
func finalHashLabel(r *Report, l *localizer) string {
	if r.notVerified() {
		return l.T("final_hash_as_found")
	}
	return l.T("final_hash")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// recoveryText words the measured recovery time in one line.
func recoveryText(r *Report, l *localizer) string {
	rec := r.Summary.Recovery
	if rec == nil {
		return "– (" + l.T("rto_na") + ")"
	}
	if rec.Measured == nil {
		var p []string
		for _, x := range rec.Pending {
			p = append(p, l.RecoveryUntil(x))
		}
		return l.T("not_recovered") + ": " + strings.Join(p, ", ")
	}
	t := l.Dur(*rec.Measured)
	if lab := l.LabEquiv(*rec.Measured); lab != "" {
		t += " (" + lab + ")"
	}
	if rec.Met != nil {
		if *rec.Met {
			t += " (" + l.T("rto_met") + ")"
		} else {
			t += " (" + l.T("rto_missed") + ")"
		}
	}
	t += "; " + l.T("recovery_from") + " " + rec.FromStep + " (" + l.Clock(rec.From) + ") → " +
		l.T("recovery_until") + " " + l.RecoveryUntil(rec.Until) + " (" + l.ClockP(rec.To) + ")"
	if rec.Resolution > 0 {
		t += ", " + l.T("resolution") + " ±" + l.Dur(rec.Resolution)
	}
	return t
}

func mdDecisions(m *mdWriter, l *localizer, ds []DecisionEntry) {
	if len(ds) == 0 {
		return
	}
	var rows [][]string
	for _, d := range ds {
		var in []string
		for _, k := range mapKeys(d.Inputs) {
			b, _ := json.Marshal(d.Inputs[k])
			in = append(in, md(k+" = "+string(b)))
		}
		rows = append(rows, []string{md(l.Clock(d.At)), md(d.Who), md(l.Enum("action", d.Action)), md(d.Reason), strings.Join(in, "<br>")})
	}
	m.p("#### %s\n\n", md(l.T("decisions")))
	m.table([]string{l.T("time"), l.T("who"), l.T("action"), l.T("reason"), l.T("inputs")}, rows)
}

func mdNotes(m *mdWriter, l *localizer, ns []NoteEntry) {
	if len(ns) == 0 {
		return
	}
	m.p("#### %s\n\n", md(l.T("notes")))
	for _, n := range ns {
		m.p("- %s %s\n", md(l.Clock(n.At)), md(n.Text))
	}
	m.p("\n")
}

func mdEvidence(m *mdWriter, l *localizer, e EvidenceItem) {
	m.p("#### %s\n\n", md(l.Cell(e.Title)))
	if t := e.Table; t != nil {
		rows := make([][]string, len(t.Rows))
		for i, row := range t.Rows {
			cells := make([]string, len(t.Columns))
			for j := range cells {
				if j < len(row) {
					cells[j] = md(l.Cell(row[j]))
				}
			}
			rows[i] = cells
		}
		m.table(t.Columns, rows)
	}
	if d := e.Diff; d != nil {
		m.p("%s%s%s\n\n", md(l.T("file")), l.T("colon"), md(d.Path))
		m.code(d.Unified)
	}
	if t := e.Transcript; t != nil {
		cmd := t.Command
		if t.Target != "" {
			cmd = t.Target + "$ " + cmd
		}
		m.p("%s · %s %d\n\n", md(cmd), md(l.T("exit_code")), t.ExitCode)
		if t.Stdout != "" {
			m.code(t.Stdout)
		}
		if t.Stderr != "" {
			m.p("%s:\n\n", md(l.T("stderr")))
			m.code(t.Stderr)
		}
		if t.Truncated {
			m.p("*%s*\n\n", md(l.T("truncated")))
		}
		if a := e.StdoutArtifact; a != nil {
			m.p("%s (%s): %s · SHA-256 %s\n\n", md(l.T("full_text")), md(l.T("stdout")), md(a.Path), md(a.SHA256))
		}
		if a := e.StderrArtifact; a != nil {
			m.p("%s (%s): %s · SHA-256 %s\n\n", md(l.T("full_text")), md(l.T("stderr")), md(a.Path), md(a.SHA256))
		}
	}
	if len(e.Facts) > 0 {
		rows := make([][]string, len(e.Facts))
		for i, f := range e.Facts {
			rows[i] = []string{md(f.Key), md(l.Cell(f.Value))}
		}
		m.table([]string{l.T("key"), l.T("value")}, rows)
	}
	if len(e.Timeline) > 0 {
		rows := make([][]string, len(e.Timeline))
		for i, mo := range e.Timeline {
			rows[i] = []string{md(l.Clock(mo.At)), md(mo.Label), md(mo.Source)}
		}
		m.table([]string{l.T("time"), l.T("detail"), l.T("source")}, rows)
	}
}
