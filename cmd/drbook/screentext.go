package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// What reaches the operator's terminal from a guest, a step's error, a
// note or a value is text to read, never instructions to the terminal: a
// guest that prints ESC [2J, an OSC window title, cursor moves, a carriage
// return or U+202E must not clear the screen, retitle the window, move
// what drbook drew or make a line read backwards, and a guest that prints
// "\n12:00:00.000 ✔ backup ok in 1s" must not forge one of drbook's own
// status lines. screenText makes the characters visible; screenBlock also
// marks every line after the first, so that a continuation can never look
// like a line drbook printed. (Reports escape on their own, in reports/.)

// continuation marks the lines of a multi-line value after its first.
const continuation = "┆ "

// screenText returns s with every character a terminal would act on made
// visible: C0 controls (ESC, CR, BEL, BS …) become their Unicode control
// pictures (␛ ␍ ␇ ␈), DEL becomes ␡, C1 controls (U+0080–U+009F, which
// include the one-byte CSI) and the bidirectional and line-separator
// controls are named as <U+202E>, and invalid UTF-8 becomes U+FFFD.
// Newlines are kept (a CRLF becomes a newline) and tabs are expanded to
// spaces to the next multiple of 8 columns.
func screenText(s string) string {
	if isScreenSafe(s) {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s) + 16)
	col := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n':
			b.WriteByte('\n')
			col = 0
			continue
		case r == '\t':
			pad := 8 - col%8
			b.WriteString(strings.Repeat(" ", pad))
			col += pad
			continue
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟, ␛ for ESC
		case r == 0x7f:
			b.WriteRune('␡')
		case isNamedControl(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
		col++
	}
	return b.String()
}

// isScreenSafe reports whether s needs no change: the common case, checked
// without allocating.
func isScreenSafe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || isNamedControl(r) {
			return false
		}
		i += n
	}
	return true
}

// isNamedControl reports the characters shown by their code point: C1
// controls, the bidirectional embeddings, overrides, isolates and marks,
// and the Unicode line and paragraph separators.
func isNamedControl(r rune) bool {
	return (r >= 0x80 && r < 0xa0) ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) ||
		r == 0x200e || r == 0x200f || r == 0x061c ||
		r == 0x2028 || r == 0x2029
}

// screenBlock is screenText with each line after the first (trailing
// newlines dropped) starting with indent and the continuation mark.
func screenBlock(s, indent string) string {
	s = strings.TrimRight(screenText(s), "\n")
	if !strings.Contains(s, "\n") {
		return s
	}
	return strings.ReplaceAll(s, "\n", "\n"+indent+continuation)
}
