package ssh

import (
	"fmt"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"
)

// unifiedContext is the number of unchanged lines around each change, as
// GNU diff -u prints by default.
const unifiedContext = 3

// diffTime is how GNU diff -u writes a file's time in the headers.
const diffTime = "2006-01-02 15:04:05.000000000 -0700"

// unifiedDiff is the GNU unified diff (diff -u) turning before into after,
// byte for byte what GNU patch applies without fuzz: hunk ranges in GNU's
// "start,count" form (a one-line range is just "start", an empty one names
// the line before it), every line with its own ending (a CRLF file shows its
// CR), and "\ No newline at end of file" after a last line that lacks one.
// The headers name the file, quoted as GNU diff quotes a name that holds a
// tab, newline, quote, backslash or control byte (a guest may name its files
// anything), and give the times of the two versions in GNU's format. It is
// "" when the texts are equal.
//
// go-difflib's own unified writer is not used: it adds a newline to the
// last line of each side (a phantom blank line when the file ends in one,
// a wrong line when it does not) and has no no-newline marker.
func unifiedDiff(before, after, name string, beforeTime, afterTime time.Time) string {
	if before == after {
		return ""
	}
	a, b := linesWithEnds(before), linesWithEnds(after)
	// Autojunk (lines in over 1% of a file of 200 or more, like blank lines,
	// anchor no match) keeps the matcher from going quadratic: with it off a
	// 20,000-line file took seconds. The hunks stay a valid edit script.
	m := difflib.NewMatcherWithJunk(a, b, true, nil)
	var s strings.Builder
	s.WriteString("--- " + diffLabel(name) + "\t" + beforeTime.Format(diffTime) + "\n")
	s.WriteString("+++ " + diffLabel(name) + "\t" + afterTime.Format(diffTime) + "\n")
	for _, group := range m.GetGroupedOpCodes(unifiedContext) {
		first, last := group[0], group[len(group)-1]
		fmt.Fprintf(&s, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, op := range group {
			if op.Tag == 'e' {
				writeHunkLines(&s, ' ', a[op.I1:op.I2])
				continue
			}
			if op.Tag == 'r' || op.Tag == 'd' {
				writeHunkLines(&s, '-', a[op.I1:op.I2])
			}
			if op.Tag == 'r' || op.Tag == 'i' {
				writeHunkLines(&s, '+', b[op.J1:op.J2])
			}
		}
	}
	return s.String()
}

// linesWithEnds splits text after each "\n", keeping the endings, so that
// "x" and "x\n" (a last line with and without its newline) differ, as they
// do for GNU diff. The last element lacks "\n" only if the text does.
func linesWithEnds(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// hunkRange formats the 0-based half-open range [lo, hi) the way GNU diff
// does: 1-based start and count, the count left out when it is 1, and an
// empty range placed after line lo (so "0,0" before the first line).
func hunkRange(lo, hi int) string {
	switch n := hi - lo; n {
	case 1:
		return fmt.Sprint(lo + 1)
	case 0:
		return fmt.Sprintf("%d,0", lo)
	default:
		return fmt.Sprintf("%d,%d", lo+1, n)
	}
}

func writeHunkLines(s *strings.Builder, mark byte, lines []string) {
	for _, l := range lines {
		s.WriteByte(mark)
		s.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			s.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// diffLabel quotes a header name as GNU diff does when it holds a byte that
// would end or confuse the header line: in double quotes with C escapes,
// octal for the rest, which GNU patch reads back.
func diffLabel(name string) string {
	if !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' }) {
		return name
	}
	var q strings.Builder
	q.WriteByte('"')
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '"', '\\':
			q.WriteByte('\\')
			q.WriteByte(c)
		case '\t':
			q.WriteString(`\t`)
		case '\n':
			q.WriteString(`\n`)
		case '\r':
			q.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&q, `\%03o`, c)
			} else {
				q.WriteByte(c)
			}
		}
	}
	q.WriteByte('"')
	return q.String()
}
