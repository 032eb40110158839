package runbooks

import (
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// sourceText maps between byte offsets in a source file and the
// line:column positions drbook prints. Columns count characters (runes),
// 1-based, as yaml.v3 does, so that a position computed here agrees with
// one taken from a yaml.Node.
type sourceText struct {
	text string
	// lineStart holds the byte offset of each line's first byte.
	lineStart []int
}

func newSourceText(src []byte) *sourceText {
	s := &sourceText{text: string(src), lineStart: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			s.lineStart = append(s.lineStart, i+1)
		}
	}
	return s
}

// line returns line n (1-based) without its line break, or "".
func (s *sourceText) line(n int) string {
	if n < 1 || n > len(s.lineStart) {
		return ""
	}
	start := s.lineStart[n-1]
	end := len(s.text)
	if n < len(s.lineStart) {
		end = s.lineStart[n] - 1
	}
	return strings.TrimSuffix(s.text[start:end], "\r")
}

// offset returns the byte offset of line:col, or -1 when it is outside the
// text.
func (s *sourceText) offset(line, col int) int {
	if line < 1 || line > len(s.lineStart) || col < 1 {
		return -1
	}
	off := s.lineStart[line-1]
	for c := 1; c < col; c++ {
		if off >= len(s.text) || s.text[off] == '\n' {
			return -1
		}
		_, w := utf8.DecodeRuneInString(s.text[off:])
		off += w
	}
	return off
}

// pos returns the line:col of a byte offset.
func (s *sourceText) pos(file string, off int) Pos {
	if off < 0 {
		off = 0
	}
	if off > len(s.text) {
		off = len(s.text)
	}
	line := 1
	lo, hi := 0, len(s.lineStart)-1
	for lo <= hi { // the last line starting at or before off
		mid := (lo + hi) / 2
		if s.lineStart[mid] <= off {
			line, lo = mid+1, mid+1
		} else {
			hi = mid - 1
		}
	}
	return Pos{File: file, Line: line, Column: utf8.RuneCountInString(s.text[s.lineStart[line-1]:off]) + 1}
}

// advance returns the offset n runes after off.
func (s *sourceText) advance(off, n int) int {
	for ; n > 0 && off < len(s.text); n-- {
		_, w := utf8.DecodeRuneInString(s.text[off:])
		off += w
	}
	return off
}

// caretPad is the text to print before a caret under column col of line:
// tabs are kept so the terminal expands them alike, and every other
// character is replaced by as many spaces as it is wide on screen (two for
// 漢, none for a combining mark).
func caretPad(line string, col int) string {
	var b strings.Builder
	c := 1
	for _, r := range line {
		if c >= col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteString(strings.Repeat(" ", runewidth.RuneWidth(r)))
		}
		c++
	}
	if c < col { // past the end of the line (the end of the file)
		b.WriteString(strings.Repeat(" ", col-c))
	}
	return b.String()
}
