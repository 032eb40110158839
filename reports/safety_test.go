package reports

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// hostile is step output that tries to break out of every format: an HTML
// script, the end of the inline SVG, Markdown table and fence breakers,
// terminal escapes and other control characters, an XML CDATA end, an HTML
// comment and a right-to-left override.
const hostile = "<script>alert(1)</script></svg>| a | b |\nsecond line\x1b[31mred\x07\x00 ]]> ```bad``` \u202eevil <!-- x --> & [link](javascript:alert(1))"

// plantedSecret contains characters whose JSON, HTML and XML forms differ
// from the raw text.
const plantedSecret = "Tr0ub4dor&3-<S3cret>"

// writeHostileJournal journals a run whose every free-text field carries
// hostile text, and the planted secret wherever a careless kind could
// leak it, with the secret registered before any event.
func writeHostileJournal(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	j := newJournal(t, dir)
	j.w.AddSecret(plantedSecret)
	h := hostile
	j.add(at("0s"), "", journal.Event{RunStart: &journal.RunStart{
		RunID: "hostile" + h, Runbook: "rb" + h, RunbookSHA256: "00", Title: text("T"+h, "標題"+h), Site: "site" + h,
		Operator: "op" + h, Machine: "m" + h, Mode: "drill", DrbookVersion: "v" + h, RTO: dur("1m"),
		Params: map[string]any{"password": plantedSecret, "x" + h: []any{h, map[string]any{"k": h}}},
		Labels: map[string]string{"reviewed_by": h, "auditor": plantedSecret},
		Steps: []journal.PlannedStep{
			{ID: "s" + h, Name: text("n"+h, "名"+h), Kind: "k" + h, Block: "steps", Expect: dur("1s"), Disruptive: true},
			{ID: "never", Name: text(h, h), Kind: "k", Block: "finally", Recovery: true},
		},
	}})
	id := "s" + h
	j.add(at("1s"), "", journal.Event{Monitor: &journal.Monitor{Name: "mon" + h, State: "down", Since: at("1s"), Resolution: dur("1s"), Detail: h + plantedSecret}})
	j.step(id, "k"+h, "target"+h, at("2s"), at("9s"), 2, journal.StatusFailed,
		journal.StepFinish{Error: "error " + h + " password=" + plantedSecret, Reason: h,
			Result: raw(map[string]any{"out": h, "secret": plantedSecret})},
		journal.Event{StepRetry: &journal.StepRetry{Attempt: 1, Error: h + plantedSecret, Delay: dur("1s")}},
		journal.Event{Decision: &journal.Decision{Who: "who" + h, Action: "run", Reason: h, Inputs: map[string]any{"pass": plantedSecret, h: h}}},
		journal.Event{Trust: &journal.Trust{Kind: "ssh-host-key", Endpoint: h, Fingerprint: h, Source: "accepted-new"}},
		journal.Event{Artifact: &journal.Artifact{Name: "out" + h, Path: "artifacts/" + h, SHA256: h}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceTable, Title: h, Table: &journal.Table{Columns: []string{h, "c2"}, Rows: [][]string{{h, plantedSecret}, {"x"}}}}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceDiff, Title: h, Diff: &journal.Diff{Path: h, Unified: "-" + h + "\n+" + plantedSecret + "\n"}}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceTranscript, Title: h, Transcript: &journal.Transcript{
			Target: h, Command: "echo " + plantedSecret + h, ExitCode: 1, Stdout: h + "\n" + plantedSecret, Stderr: h, StdoutArtifact: "out" + h}}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceFacts, Title: h, Facts: []journal.Fact{{Key: h, Value: h}, {Key: "password", Value: plantedSecret}}}},
		journal.Event{Evidence: &journal.Evidence{Kind: journal.EvidenceTimeline, Title: h, Timeline: []journal.Moment{{At: at("3s"), Label: h, Source: h}}}},
		journal.Event{Note: &journal.Note{Level: "warn", Text: h + " " + plantedSecret}},
	)
	j.add(at("10s"), "", journal.Event{Note: &journal.Note{Level: "info", Text: h}})
	j.add(at("10s"), "", journal.Event{Decision: &journal.Decision{Who: h, Action: "abort", Reason: plantedSecret}})
	j.add(at("11s"), "", journal.Event{RunEnd: &journal.RunEnd{Result: "failed", Error: h + plantedSecret}})
	j.close()
	return dir
}

// secretForms are the ways the secret could appear once a format has
// encoded it.
func secretForms() []string {
	js, _ := json.Marshal(plantedSecret)
	var x bytes.Buffer
	xml.EscapeText(&x, []byte(plantedSecret))
	return []string{plantedSecret, string(js[1 : len(js)-1]), html.EscapeString(plantedSecret), x.String(), md(plantedSecret),
		"Tr0ub4dor&amp;3", "Tr0ub4dor\\u00263", "S3cret"}
}

func renderAll(t *testing.T, r *Report) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, lang := range []string{LangEN, LangZhTW} {
		for _, f := range Formats {
			var buf bytes.Buffer
			if err := Render(&buf, r, f, lang); err != nil {
				t.Fatalf("%s %s: %v", f, lang, err)
			}
			out[f+"/"+lang] = buf.Bytes()
		}
	}
	return out
}

func TestPlantedSecretReachesNoOutput(t *testing.T) {
	dir := writeHostileJournal(t)
	data, err := os.ReadFile(filepath.Join(dir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	outputs := renderAll(t, buildRun(t, dir))
	outputs["journal"] = data
	for name, out := range outputs {
		for _, form := range secretForms() {
			if bytes.Contains(out, []byte(form)) {
				t.Errorf("%s contains the secret as %q", name, form)
			}
		}
	}
	if !bytes.Contains(outputs["md/en"], []byte("[redacted]")) && !bytes.Contains(outputs["md/en"], []byte(`\[redacted\]`)) {
		t.Error("the redaction marker is not shown: was the secret's event dropped instead?")
	}
}

func TestHostileOutputIsEscapedInEveryFormat(t *testing.T) {
	r := buildRun(t, writeHostileJournal(t))
	for name, out := range renderAll(t, r) {
		format, _, _ := strings.Cut(name, "/")
		t.Run(name, func(t *testing.T) {
			s := string(out)
			for i, c := range out {
				if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
					t.Fatalf("raw control character %#x at byte %d: …%q…", c, i, s[max(0, i-20):min(len(s), i+20)])
				}
			}
			if strings.Contains(s, "\u202e") {
				t.Error("right-to-left override passed through")
			}
			// Markdown code blocks show text as it is; checkMarkdownStructure
			// checks the text outside them.
			if format != FormatMD && strings.Contains(strings.ToLower(s), "<script") {
				t.Error("a <script> tag passed through")
			}
			switch format {
			case FormatHTML:
				if n := strings.Count(s, "</svg>"); n != 1 {
					t.Errorf("%d </svg> in the page; only the timeline's own may be there", n)
				}
				if strings.Contains(s, "<!--") {
					t.Error("an HTML comment passed through")
				}
				if !strings.Contains(s, "&lt;script&gt;alert(1)&lt;/script&gt;") {
					t.Error("the hostile text is not shown escaped")
				}
				if strings.Contains(s, `href="javascript`) {
					t.Error("a javascript: link was made")
				}
			case FormatMD:
				checkMarkdownStructure(t, s)
			case FormatJSON:
				var back jsonReport
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatal(err)
				}
				if got := back.Report.Steps[0].Error; !strings.Contains(got, "<script>alert(1)</script>") || !strings.Contains(got, "␛[31m") {
					t.Errorf("JSON does not carry the (printable) text: %q", got)
				}
			case FormatJUnit:
				if strings.Contains(s, "]]>") {
					t.Error("]]> passed through")
				}
				var back junitSuites
				if err := xml.Unmarshal(out, &back); err != nil {
					t.Fatalf("JUnit does not parse: %v", err)
				}
				c := back.Suites[0].Cases[0]
				if !strings.Contains(c.Name, "<script>alert(1)</script>") || c.Failure == nil || !strings.Contains(c.Failure.Text, "]]>") {
					t.Errorf("JUnit does not carry the text: %+v", c)
				}
			}
		})
	}
}

// checkMarkdownStructure checks that every table row has as many cells as
// its header, that code fences are balanced, and that outside code blocks
// no raw HTML or link survives, so no cell or output line escaped its
// place.
func checkMarkdownStructure(t *testing.T, s string) {
	t.Helper()
	cells := func(line string) int {
		n := 0
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		return n
	}
	fence := ""
	header := -1
	for i, line := range strings.Split(s, "\n") {
		if fence != "" {
			if line == fence {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
			if strings.TrimLeft(line, "`") != "" {
				t.Errorf("line %d: a fence with text after it: %q", i+1, line)
			}
			continue
		}
		for _, bad := range []string{"<script", "</svg>", "<!--"} {
			if strings.Contains(strings.ToLower(line), bad) {
				t.Errorf("line %d: %q outside a code block: %q", i+1, bad, line)
			}
		}
		if link := strings.Index(line, "](javascript"); link > 0 && line[link-1] != '\\' {
			t.Errorf("line %d: a live link outside a code block: %q", i+1, line)
		}
		if strings.HasPrefix(line, "|") {
			if header < 0 {
				header = cells(line)
			} else if n := cells(line); n != header {
				t.Errorf("line %d: %d cell borders, header has %d: %q", i+1, n, header, line)
			}
			continue
		}
		header = -1
		if strings.Contains(line, "```") {
			t.Errorf("line %d: a fence breaker outside a code block: %q", i+1, line)
		}
	}
	if fence != "" {
		t.Error("a code block is never closed")
	}
}
