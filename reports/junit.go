package reports

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/drbook/drbook/journal"
)

// JUnit XML as CI systems read it (Jenkins, GitLab): one test case per
// step instance, plus one for the recovery-time objective. encoding/xml
// escapes text and attributes, including a "]]>" in step output.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         string          `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func seconds(d journal.Duration) string {
	return strconv.FormatFloat(d.D().Seconds(), 'f', 3, 64)
}

func renderJUnit(w io.Writer, r *Report, l *localizer) error {
	suite := junitSuite{
		Name:      r.Cover.Runbook,
		ID:        r.Cover.RunID,
		Time:      seconds(r.Summary.WallClock),
		Timestamp: r.Cover.Start.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  r.Cover.Machine,
	}
	prop := func(k, v string) {
		if v != "" {
			suite.Properties = append(suite.Properties, junitProperty{k, v})
		}
	}
	prop("title", l.Title(r))
	prop("site", r.Cover.Site)
	prop("runbook_version", r.Cover.RunbookVersion)
	prop("runbook_sha256", r.Cover.RunbookSHA256)
	prop("mode", r.Cover.Mode)
	prop("operator", r.Cover.Operator)
	prop("result", r.Cover.Result)
	prop("recorded_result", r.Cover.RecordedResult)
	prop("journal_final_hash", r.Integrity.FinalHash)
	if r.Summary.RTO > 0 {
		prop("rto_objective", l.Dur(r.Summary.RTO))
	}
	// A lab run's figures are real elapsed time on the simulator; the
	// simulated equivalents get properties of their own so the measured
	// ones keep their meaning for whatever reads them.
	speed := r.Cover.LabSpeed
	if speed > 0 {
		prop("lab_speed", labFactor(speed))
	}
	if rec := r.Summary.Recovery; rec != nil && rec.Measured != nil {
		prop("rto_measured", l.Dur(*rec.Measured))
		if speed > 0 {
			prop("rto_measured_simulated", l.Dur(simulated(*rec.Measured, speed)))
		}
	}
	prop("human_wait", l.Dur(r.Summary.HumanWait))
	prop("automated", l.Dur(r.Summary.Automated))
	for _, m := range r.Monitors {
		prop("downtime."+m.Name, l.Dur(m.Total)+" ±"+l.Dur(m.Resolution))
		if speed > 0 {
			prop("downtime_simulated."+m.Name, l.Dur(simulated(m.Total, speed)))
		}
	}

	for i := range r.Steps {
		s := &r.Steps[i]
		block := s.Block
		if block == "" {
			block = "steps"
		}
		c := junitCase{
			Name:      s.ID + ": " + l.StepName(s),
			Classname: r.Cover.Runbook + "." + block,
			Time:      seconds(s.Duration),
			SystemOut: junitOut(s, l),
		}
		status := l.Enum("status", s.Status)
		switch s.Status {
		case journal.StatusFailed:
			c.Failure = &junitProblem{Message: firstLine(s.Error), Type: s.Status, Text: s.Error}
			suite.Failures++
		case journal.StatusInterrupted, journal.StatusCancelled:
			c.Error = &junitProblem{Message: status + " " + firstLine(s.Error), Type: s.Status, Text: s.Error}
			suite.Errors++
		case journal.StatusSkipped, StatusNotRun:
			c.Skipped = &junitSkipped{Message: strings.TrimSpace(status + " " + s.Reason)}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
	}
	if rec := r.Summary.Recovery; rec != nil {
		c := junitCase{Name: l.T("rto"), Classname: r.Cover.Runbook + ".summary", Time: "0.000"}
		text := recoveryText(r, l)
		c.SystemOut = text
		switch {
		case rec.Measured == nil:
			c.Failure = &junitProblem{Message: l.T("not_recovered"), Type: DevNotRecovered, Text: text}
			suite.Failures++
		case rec.Met != nil && !*rec.Met:
			c.Failure = &junitProblem{Message: l.T("rto_missed"), Type: DevRTOExceeded, Text: text}
			suite.Failures++
		}
		if rec.Measured != nil {
			c.Time = seconds(*rec.Measured)
		}
		suite.Cases = append(suite.Cases, c)
	}
	if r.Integrity.ChainChecked || r.Integrity.Signature != nil {
		c := junitCase{Name: l.T("integrity"), Classname: r.Cover.Runbook + ".summary", Time: "0.000"}
		if r.notVerified() {
			c.Failure = &junitProblem{Message: l.Enum("result", VerdictNotVerified), Type: VerdictNotVerified, Text: r.integrityProblem()}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "drbook: " + r.Cover.Runbook, Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// junitOut is a step's evidence as plain text for <system-out>.
func junitOut(s *Step, l *localizer) string {
	var b strings.Builder
	line := func(parts ...string) {
		b.WriteString(strings.Join(parts, " "))
		b.WriteByte('\n')
	}
	line(l.T("start")+":", l.ClockP(s.Start), " "+l.T("end")+":", l.ClockP(s.End), " "+l.T("status")+":", l.Enum("status", s.Status))
	if s.Target != "" {
		line(l.T("target")+":", s.Target)
	}
	if s.Expect > 0 {
		line(l.T("planned")+":", l.Dur(s.Expect), " "+l.T("duration")+":", l.Dur(s.Duration))
	}
	if len(s.ConfirmedBy) > 0 {
		line(l.T("confirmed_by")+":", strings.Join(s.ConfirmedBy, ", "))
	}
	for _, x := range s.Retries {
		line(l.T("attempt"), strconv.Itoa(x.Attempt)+":", x.Error)
	}
	for _, e := range s.Evidence {
		line("==", e.Title)
		if t := e.Table; t != nil {
			line(strings.Join(t.Columns, "\t"))
			for _, row := range t.Rows {
				line(strings.Join(row, "\t"))
			}
		}
		if d := e.Diff; d != nil {
			b.WriteString(d.Unified)
			if !strings.HasSuffix(d.Unified, "\n") {
				b.WriteByte('\n')
			}
		}
		if t := e.Transcript; t != nil {
			line("$", t.Command, "→", l.T("exit_code"), strconv.Itoa(t.ExitCode))
			b.WriteString(t.Stdout)
			if t.Stderr != "" {
				b.WriteString(t.Stderr)
			}
			if a := e.StdoutArtifact; a != nil {
				line(l.T("full_text")+":", a.Path, "SHA-256", a.SHA256)
			}
		}
		for _, f := range e.Facts {
			line(f.Key+":", f.Value)
		}
		for _, m := range e.Timeline {
			line(l.Clock(m.At), m.Label, m.Source)
		}
	}
	for _, n := range s.Notes {
		line(l.Clock(n.At), n.Text)
	}
	return b.String()
}
