package reports

import (
	"bufio"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"reflect"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Formats Render writes.
const (
	FormatHTML  = "html"
	FormatMD    = "md"
	FormatJSON  = "json"
	FormatJUnit = "junit"
)

// Formats lists the formats in the order `drbook report --help` shows them.
var Formats = []string{FormatHTML, FormatMD, FormatJSON, FormatJUnit}

// Render writes r in format (html, md, json, junit) and lang (en, zh-TW).
func Render(w io.Writer, r *Report, format, lang string) error {
	if r == nil {
		return fmt.Errorf("report: nothing to render (nil report)")
	}
	l, err := newLocalizer(r, lang)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case FormatHTML:
		err = renderHTML(bw, inLanguage(r, lang), l)
	case FormatMD:
		err = renderMarkdown(bw, inLanguage(r, lang), l)
	case FormatJSON:
		err = renderJSON(bw, r, l)
	case FormatJUnit:
		err = renderJUnit(bw, r, l)
	default:
		return fmt.Errorf("report: unknown format %q; use one of %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("report: render %s: %w", format, err)
	}
	return bw.Flush()
}

//go:embed templates/report.html.tmpl
var templateFS embed.FS

var (
	htmlOnce sync.Once
	htmlTmpl *template.Template
	htmlErr  error
)

// htmlView is what the HTML template sees: the report, its timeline and the
// localizer's methods (T, Dur, Clock, …).
type htmlView struct {
	*localizer
	R  *Report
	TL *timeline
	// Rows is the step table with its text already localized: a template
	// method call costs about a microsecond through reflection, and a
	// 10,000-step report would make a hundred thousand of them.
	Rows []stepRow
}

// stepRow is one line of the step table, ready to print.
type stepRow struct {
	S                                      *Step
	Name, Start, End, Dur, Planned, Status string
	Confirmed                              string
	Detail                                 bool
}

func stepRows(r *Report, l *localizer) []stepRow {
	rows := make([]stepRow, len(r.Steps))
	for i := range r.Steps {
		s := &r.Steps[i]
		dur := "–"
		if s.Start != nil {
			dur = l.Dur(s.Duration)
		}
		rows[i] = stepRow{S: s, Name: l.StepName(s), Start: l.ClockP(s.Start), End: l.ClockP(s.End), Dur: dur,
			Planned: l.DurOpt(s.Expect), Status: l.Enum("status", s.Status), Confirmed: strings.Join(s.ConfirmedBy, ", "),
			Detail: stepHasDetail(s)}
	}
	return rows
}

// NotVerified says whether the report's journal does not verify.
func (v *htmlView) NotVerified() bool { return v.R.notVerified() }

// NotVerifiedText is the cover's warning for a journal that does not verify.
func (v *htmlView) NotVerifiedText() string { return v.localizer.NotVerifiedText(v.R) }

// VerdictText explains a verdict that differs from the recorded result.
func (v *htmlView) VerdictText() string { return v.localizer.VerdictText(v.R) }

// ChainProblem words a broken chain in the report's language.
func (v *htmlView) ChainProblem() string { return v.localizer.integrityProblemIn(v.R) }

// FooterLeft is the printed pages' footer text.
func (v *htmlView) FooterLeft() string { return v.localizer.FooterLeft(v.R) }

// pairOf lets a sub-template receive the view and one value.
type pairOf struct {
	V *htmlView
	X any
}

var htmlFuncs = template.FuncMap{
	"pair": func(v *htmlView, x any) pairOf { return pairOf{v, x} },
	"keys": mapKeys,
	"join": strings.Join,
	"jsonv": func(x any) string {
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	},
	"deref": func(x any) any {
		v := reflect.ValueOf(x)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			return v.Elem().Interface()
		}
		return x
	},
	"diffLines": diffLines,
	// short says a cell is a word or a name ("esx-68", "已重新啟動"): it
	// is kept on one line, so a narrow column of an A4 page does not
	// break it a character or a hyphen at a time.
	"short": func(s string) bool {
		return utf8.RuneCountInString(s) <= 16 && !strings.Contains(s, " ") || utf8.RuneCountInString(s) <= 8
	},
	"wbr": wordBreaks,
}

// wordBreaks escapes s and lets a narrow table column break it after dots
// and slashes (kind names, URLs) instead of anywhere.
func wordBreaks(s string) template.HTML {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '.' || r == '/' || r == '_' {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

// stepHasDetail says whether a step gets a section in the evidence part.
func stepHasDetail(s *Step) bool {
	return len(s.Evidence) > 0 || len(s.Notes) > 0 || len(s.Decisions) > 0 || len(s.Retries) > 0 ||
		len(s.Artifacts) > 0 || s.Result != "" || s.Error != "" || s.Reason != "" || s.Description != ""
}

func renderHTML(w io.Writer, r *Report, l *localizer) error {
	htmlOnce.Do(func() {
		htmlTmpl, htmlErr = template.New("report.html.tmpl").Funcs(htmlFuncs).ParseFS(templateFS, "templates/report.html.tmpl")
	})
	if htmlErr != nil {
		return htmlErr
	}
	return htmlTmpl.Execute(w, &htmlView{localizer: l, R: r, TL: buildTimeline(r, l), Rows: stepRows(r, l)})
}

// mapKeys returns a map's string keys sorted, for deterministic output.
func mapKeys(m any) []string {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return nil
	}
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	return keys
}

// diffLine is one line of a unified diff with its role for colouring.
type diffLine struct{ Class, Text string }

func diffLines(unified string) []diffLine {
	lines := strings.Split(strings.TrimSuffix(unified, "\n"), "\n")
	out := make([]diffLine, 0, len(lines))
	for _, ln := range lines {
		c := ""
		switch {
		case strings.HasPrefix(ln, "+++"), strings.HasPrefix(ln, "---"):
			c = "hdr"
		case strings.HasPrefix(ln, "@@"):
			c = "hunk"
		case strings.HasPrefix(ln, "+"):
			c = "add"
		case strings.HasPrefix(ln, "-"):
			c = "del"
		}
		out = append(out, diffLine{c, ln})
	}
	return out
}

// jsonReport is the JSON document: the model plus the language the
// localized fields are in.
type jsonReport struct {
	*Report
	Lang string `json:"lang"`
	// TitleText is the cover title in Lang, for consumers that want one string.
	TitleText string `json:"title_text"`
}

func renderJSON(w io.Writer, r *Report, l *localizer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// HTML escaping stays on: a JSON report pasted into a web page must not
	// carry a live </script>.
	enc.SetEscapeHTML(true)
	return enc.Encode(jsonReport{Report: r, Lang: l.lang, TitleText: l.Title(r)})
}
