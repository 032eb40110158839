package runbooks

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// Problem is one thing wrong with a runbook or site file, worded in
// English (Msg, Hint) and in Traditional Chinese (MsgZhTW, HintZhTW). Text
// from elsewhere (yaml.v3's syntax messages, expr's, a file system error)
// is the same in both, inside drbook's own words.
type Problem struct {
	Pos      Pos
	Msg      string
	Hint     string
	MsgZhTW  string
	HintZhTW string
	// Quoted lists the parts of the message that are text from elsewhere
	// (yaml.v3's or expr's words, an error of the file system), shown as
	// they are in both languages.
	Quoted []string
	// Secret is set when the source line holds a secret: it is then never
	// printed.
	Secret bool
}

// In is the problem's message and hint in lang ("en" or "zh-TW"); a
// Chinese text that is missing falls back to the English one.
func (p Problem) In(lang string) (msg, hint string) {
	msg, hint = p.Msg, p.Hint
	if lang == "zh-TW" {
		if p.MsgZhTW != "" {
			msg = p.MsgZhTW
		}
		if p.HintZhTW != "" {
			hint = p.HintZhTW
		}
	}
	return msg, hint
}

// words is a text drbook writes about a runbook or site, in both
// languages. It is made by say (drbook's own words, formatted in each
// language), foreign (text from elsewhere, kept as it is), pair (texts
// worded in both languages elsewhere) and errWords, so that no problem can
// be added in English alone: ErrorList.add takes only words, and
// TestEveryProblemIsWordedInBothLanguages checks every say and that
// foreign and pair never take drbook's own literal words.
type words struct {
	en, zh string
	// quoted are the foreign parts, for Problem.Quoted.
	quoted []string
}

// say formats en and zhTW over the same args, like fmt.Sprintf. An
// argument that is itself words, or an error (bilingual through package
// i18n or foreign), is put in each text in that text's language.
func say(en, zhTW string, args ...any) words {
	if len(args) == 0 {
		return words{en: en, zh: zhTW}
	}
	zargs := make([]any, len(args))
	eargs := make([]any, len(args))
	var quoted []string
	for i, a := range args {
		switch v := a.(type) {
		case words:
			eargs[i], zargs[i] = v.en, v.zh
			quoted = append(quoted, v.quoted...)
		case error:
			w := errWords(v)
			eargs[i], zargs[i] = w.en, w.zh
			quoted = append(quoted, w.quoted...)
		default:
			eargs[i], zargs[i] = a, a
		}
	}
	return words{en: fmt.Sprintf(en, eargs...), zh: fullWidthSpaces.ReplaceAllString(fmt.Sprintf(zhTW, zargs...), "$1"), quoted: quoted}
}

// fullWidthSpaces are spaces beside Chinese punctuation, which needs none
// (words.spaced puts them on both sides of Latin text).
var fullWidthSpaces = regexp.MustCompile(` *([，：（）、；。]) *`)

// pair is a text drbook worded in both languages elsewhere (a kind's
// parameter check, a problem of the site file, the words for a type).
func pair(en, zh string) words { return words{en: en, zh: zh} }

// spaced is w with its Chinese text set apart by spaces where it starts
// or ends with Latin letters, to stand inside a Chinese sentence.
func (w words) spaced() words {
	w.zh = steps.ZhSpaced(w.zh)
	return w
}

// problemWords is a problem's message, to be put inside another.
func problemWords(p Problem) words {
	zh, _ := p.In("zh-TW")
	return words{en: p.Msg, zh: zh, quoted: p.Quoted}
}

// foreign is text drbook did not write (a yaml.v3 or expr message, an
// error from the file system): both languages show it as it is.
func foreign(s string) words { return words{en: s, zh: s, quoted: []string{s}} }

// errWords is err in both languages: its Chinese words where err (or an
// error it wraps) was made with package i18n, else as it is.
func errWords(err error) words {
	var e *i18n.Error
	if errors.As(err, &e) {
		w := words{en: err.Error(), zh: i18n.In(err, "zh-TW")}
		if e.Error() != w.en {
			// A foreign frame around drbook's words: the frame is quoted.
			if i := strings.Index(w.en, e.Error()); i >= 0 {
				w.quoted = nonEmpty(w.en[:i], w.en[i+len(e.Error()):])
			}
		}
		return w
	}
	return foreign(err.Error())
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// noHint is a problem without a hint.
var noHint = words{}

// ErrorList is every problem found in one load, in source order.
type ErrorList struct {
	Problems []Problem
	sources  map[string][]string
}

func (l *ErrorList) add(pos Pos, msg, hint words) {
	l.Problems = append(l.Problems, problem(pos, msg, hint))
}

// problem is a Problem at pos in both languages.
func problem(pos Pos, msg, hint words) Problem {
	return Problem{Pos: pos, Msg: msg.en, MsgZhTW: msg.zh, Hint: hint.en, HintZhTW: hint.zh, Quoted: append(msg.quoted, hint.quoted...)}
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
		if i > 0 && sameProblem(p, l.Problems[i-1]) {
			continue
		}
		out = append(out, p)
	}
	l.Problems = out
	return l
}

// sameProblem reports whether a and b say the same at the same place.
func sameProblem(a, b Problem) bool {
	return a.Pos == b.Pos && a.Msg == b.Msg && a.Hint == b.Hint && a.MsgZhTW == b.MsgZhTW && a.HintZhTW == b.HintZhTW && a.Secret == b.Secret
}

// Error lists every problem as file:line:col: message, one per line, each
// followed by its hint.
func (l *ErrorList) Error() string { return l.Format(false) }

// Unwrap is the list in both languages as an i18n error, so that
// i18n.In and i18n.TextOf word a wrapped list (a command's "check the site
// file: %w") in the reader's language too. The English is Error's.
func (l *ErrorList) Unwrap() error {
	return &i18n.Error{Text: journal.Text{EN: l.Error(), ZhTW: l.FormatIn(false, "zh-TW")}}
}

// Format renders the problems; with source, each is followed by the
// offending line and a caret under the column.
func (l *ErrorList) Format(source bool) string { return l.FormatIn(source, "en") }

// FormatIn is Format in lang ("en" or "zh-TW"): the positions and the
// source lines are the same in both.
func (l *ErrorList) FormatIn(source bool, lang string) string {
	hintLabel := "\n  hint: "
	if lang == "zh-TW" {
		hintLabel = "\n  提示："
	}
	var b strings.Builder
	for i, p := range l.Problems {
		msg, hint := p.In(lang)
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Pos.String())
		b.WriteString(": ")
		b.WriteString(msg)
		if source && !p.Secret {
			if lines := l.sources[p.Pos.File]; p.Pos.Line > 0 && p.Pos.Line <= len(lines) {
				if line := excerptLine(printable(strings.TrimSuffix(lines[p.Pos.Line-1], "\r"))); line == hiddenLine {
					fmt.Fprintf(&b, "\n  %4d | %s", p.Pos.Line, line)
				} else {
					fmt.Fprintf(&b, "\n  %4d | %s\n       | %s^", p.Pos.Line, line, caretPad(line, p.Pos.Column))
				}
			}
		}
		if hint != "" {
			b.WriteString(hintLabel)
			b.WriteString(hint)
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
			l.add(Pos{File: path}, say("no such file", "檔案不存在"), say("check the path; the shipped runbooks are under runbooks/", "請檢查路徑；隨附之演練手冊位於 runbooks/"))
		case os.IsPermission(err):
			l.add(Pos{File: path}, say("permission denied", "權限不足，無法讀取"), say("check the file's permissions", "請檢查檔案權限"))
		default:
			l.add(Pos{File: path}, errWords(err), noHint)
		}
		return nil, l
	}
	return b, nil
}
