package runbooks

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Problem is one thing wrong with a runbook or site file.
type Problem struct {
	Pos  Pos
	Msg  string
	Hint string
	// Secret is set when the source line holds a secret: it is then never
	// printed.
	Secret bool
}

// ErrorList is every problem found in one load, in source order.
type ErrorList struct {
	Problems []Problem
	sources  map[string][]string
}

func (l *ErrorList) add(pos Pos, msg, hint string) {
	l.Problems = append(l.Problems, Problem{Pos: pos, Msg: msg, Hint: hint})
}

func (l *ErrorList) addSource(file string, src []byte) {
	if l.sources == nil {
		l.sources = map[string][]string{}
	}
	l.sources[file] = strings.Split(string(src), "\n")
}

func (l *ErrorList) err() error {
	if len(l.Problems) == 0 {
		return nil
	}
	sort.SliceStable(l.Problems, func(i, j int) bool {
		a, b := l.Problems[i].Pos, l.Problems[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	// Drop exact duplicates (one bad name used twice on a line is one problem).
	out := l.Problems[:0]
	for i, p := range l.Problems {
		if i > 0 && p == l.Problems[i-1] {
			continue
		}
		out = append(out, p)
	}
	l.Problems = out
	return l
}

// Error lists every problem as file:line:col: message, one per line, each
// followed by its hint.
func (l *ErrorList) Error() string { return l.Format(false) }

// Format renders the problems; with source, each is followed by the
// offending line and a caret under the column.
func (l *ErrorList) Format(source bool) string {
	var b strings.Builder
	for i, p := range l.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Pos.String())
		b.WriteString(": ")
		b.WriteString(p.Msg)
		if source && !p.Secret {
			if lines := l.sources[p.Pos.File]; p.Pos.Line > 0 && p.Pos.Line <= len(lines) {
				if line := excerptLine(printable(strings.TrimSuffix(lines[p.Pos.Line-1], "\r"))); line == hiddenLine {
					fmt.Fprintf(&b, "\n  %4d | %s", p.Pos.Line, line)
				} else {
					fmt.Fprintf(&b, "\n  %4d | %s\n       | %s^", p.Pos.Line, line, caretPad(line, p.Pos.Column))
				}
			}
		}
		if p.Hint != "" {
			b.WriteString("\n  hint: ")
			b.WriteString(p.Hint)
		}
	}
	return b.String()
}

// printable replaces control characters and invalid UTF-8 in a source line
// with U+FFFD, one for one, so that echoing a hostile file cannot drive the
// terminal and the caret still lines up.
func printable(line string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0) {
			return utf8.RuneError
		}
		return r
	}, line)
}

func (p Pos) String() string {
	file := p.File
	if file == "" {
		file = "<input>"
	}
	if p.Line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d:%d", file, p.Line, p.Column)
}

// readSource reads a file for loading, with an actionable error.
func readSource(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		l := &ErrorList{}
		switch {
		case os.IsNotExist(err):
			l.add(Pos{File: path}, "no such file", "check the path; the shipped runbooks are under runbooks/")
		case os.IsPermission(err):
			l.add(Pos{File: path}, "permission denied", "check the file's permissions")
		default:
			l.add(Pos{File: path}, err.Error(), "")
		}
		return nil, l
	}
	return b, nil
}
