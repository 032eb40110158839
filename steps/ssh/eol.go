package ssh

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// applyKeepingEndings performs the edit on text without changing its line
// endings. The edit sees the text with every CRLF as LF (so "$", ".*" and
// the line ops never catch or drop a CR, and a "\n" in with means a line
// break), and the result gets its endings back: a line the edit left alone,
// or replaced one for one, keeps the ending it had; a new line takes the
// file's dominant ending (CRLF when more lines end in CRLF than in LF).
// A CR that is not part of a CRLF is ordinary text and stays as it is.
func (e Edit) applyKeepingEndings(text string) (string, error) {
	plain, ends := splitEndings(text)
	if !hasCRLF(ends) {
		return e.apply(text)
	}
	// Literal text written with CRLF means the same lines in the LF view.
	e.Replace = strings.ReplaceAll(e.Replace, "\r\n", "\n")
	e.With = strings.ReplaceAll(e.With, "\r\n", "\n")
	edited, err := e.apply(plain)
	if err != nil || edited == plain {
		return text, err
	}
	dominant := dominantEnding(ends)
	old, now := linesWithEnds(plain), linesWithEnds(edited)
	trim := func(ls []string) []string {
		out := make([]string, len(ls))
		for i, l := range ls {
			out[i] = strings.TrimSuffix(l, "\n")
		}
		return out
	}
	newEnds := make([]string, len(now))
	for i := range newEnds {
		newEnds[i] = dominant
	}
	m := difflib.NewMatcherWithJunk(trim(old), trim(now), true, nil)
	for _, op := range m.GetOpCodes() {
		if op.Tag == 'e' || (op.Tag == 'r' && op.I2-op.I1 == op.J2-op.J1) {
			for k := 0; k < op.J2-op.J1; k++ {
				if end := ends[op.I1+k]; end != "" {
					newEnds[op.J1+k] = end
				}
			}
		}
	}
	var s strings.Builder
	for i, l := range now {
		if !strings.HasSuffix(l, "\n") {
			s.WriteString(l) // the last line, without a newline as the edit left it
			continue
		}
		s.WriteString(strings.TrimSuffix(l, "\n") + newEnds[i])
	}
	return s.String(), nil
}

// splitEndings is text with each CRLF turned into LF, and the ending of
// each line: "\r\n", "\n", or "" for a last line without one.
func splitEndings(text string) (string, []string) {
	lines := linesWithEnds(text)
	ends := make([]string, len(lines))
	var s strings.Builder
	for i, l := range lines {
		switch {
		case strings.HasSuffix(l, "\r\n"):
			ends[i] = "\r\n"
			s.WriteString(l[:len(l)-2] + "\n")
		case strings.HasSuffix(l, "\n"):
			ends[i] = "\n"
			s.WriteString(l)
		default:
			s.WriteString(l)
		}
	}
	return s.String(), ends
}

func hasCRLF(ends []string) bool {
	for _, e := range ends {
		if e == "\r\n" {
			return true
		}
	}
	return false
}

// dominantEnding is the ending most lines have; LF on a tie.
func dominantEnding(ends []string) string {
	crlf, lf := 0, 0
	for _, e := range ends {
		switch e {
		case "\r\n":
			crlf++
		case "\n":
			lf++
		}
	}
	if crlf > lf {
		return "\r\n"
	}
	return "\n"
}
