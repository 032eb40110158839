package runbooks

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decodeOne decodes a file that must hold exactly one YAML document. Bytes
// that are not UTF-8, control characters, syntax errors and a second
// document each come back as one problem at the character that causes it.
//
// yaml.v3 reports a syntax error at the line of the construct it was
// parsing, counted from zero for parser errors and from one for scanner
// errors, and never with a column, so its position is not used as it is:
// the line is found as the shortest prefix of the file that fails with the
// same message, and the column from what the message says is wrong.
// what names the file's role ("runbook", "site file") for messages.
func decodeOne(file string, what words, src []byte, st *sourceText) (*yaml.Node, *Problem) {
	if p := encodingProblem(file, src, st); p != nil {
		return nil, p
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		p := syntaxProblem(file, st, err)
		return nil, &p
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p := syntaxProblem(file, st, err)
		return nil, &p
	case len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null"):
		p := problem(documentStart(file, st, next.Content[0].Line),
			say("a second YAML document starts here; a %s file holds exactly one", "第二份 YAML 文件自此開始；一個%s檔只能有一份", what),
			say("remove this --- and what follows it, or move it to a %s file of its own", "請刪除此 --- 及其後內容，或移至另一個%s檔", what))
		return nil, &p
	}
	return &doc, nil
}

// documentStart finds the `---` line at or above line.
func documentStart(file string, st *sourceText, line int) Pos {
	for l := line; l >= 1; l-- {
		if strings.HasPrefix(st.line(l), "---") {
			return Pos{File: file, Line: l, Column: 1}
		}
	}
	return Pos{File: file, Line: line, Column: 1}
}

// encodingProblem reports text that is not UTF-8, or holds a character
// YAML does not allow, at that character.
func encodingProblem(file string, src []byte, st *sourceText) *Problem {
	for _, bom := range [][]byte{{0xff, 0xfe}, {0xfe, 0xff}} {
		if bytes.HasPrefix(src, bom) {
			p := problem(Pos{File: file, Line: 1, Column: 1}, say("the file is UTF-16 text; drbook reads UTF-8", "此檔為 UTF-16 文字；drbook 讀取 UTF-8"),
				say("save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8", "請另存為 UTF-8，例如 iconv -f UTF-16 -t UTF-8"))
			return &p
		}
	}
	for off := 0; off < len(src); {
		r, w := utf8.DecodeRune(src[off:])
		switch {
		case r == utf8.RuneError && w <= 1:
			p := problem(st.pos(file, off), say("byte 0x%02x is not UTF-8 text", "位元組 0x%02x 不是 UTF-8 文字", src[off]),
				say("save the file as UTF-8; a file written in Big5 converts with iconv -f BIG5 -t UTF-8", "請將檔案另存為 UTF-8；Big5 編碼之檔案可用 iconv -f BIG5 -t UTF-8 轉換"))
			return &p
		case !yamlPrintable(r) && !(r == '\ufeff' && off == 0):
			p := problem(st.pos(file, off), say("control character U+%04X is not allowed in YAML", "YAML 不允許控制字元 U+%04X", r),
				say(`remove it; inside double quotes an escape such as "\x07" writes one`, `請刪除；於雙引號內可用跳脫序列（例如 "\x07"）寫出`))
			return &p
		}
		off += w
	}
	return nil
}

// yamlPrintable is YAML 1.2's c-printable set.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7e:
		return true
	case r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// firstYAMLError parses every document of src and returns the first error.
func firstYAMLError(src string) error {
	dec := yaml.NewDecoder(strings.NewReader(src))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)(?::(\d+))?`)

// yamlErrMsg is a yaml.v3 error's message without its "yaml: line N:".
func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return strings.TrimLeft(yamlLine.ReplaceAllString(s, ""), ": ")
}

// syntaxProblem places a yaml.v3 syntax error at its line and column.
func syntaxProblem(file string, st *sourceText, err error) Problem {
	msg := yamlErrMsg(err)
	prefix := func(k int) string {
		if k >= len(st.lineStart) {
			return st.text
		}
		return st.text[:st.lineStart[k]]
	}
	fails := func(k int) bool {
		e := firstYAMLError(prefix(k))
		return e != nil && yamlErrMsg(e) == msg
	}
	// The smallest k whose first k lines fail alike: the error is on line k.
	lo, hi := 1, len(st.lineStart)
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	line := lo
	col, text, hint := describeSyntax(msg, st.line(line))
	return problem(Pos{File: file, Line: line, Column: col}, say("YAML syntax: %s", "YAML 語法：%s", text), hint)
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// describeSyntax finds the column a yaml.v3 message is about on its line
// and says what is wrong in words an author acts on.
func describeSyntax(msg, line string) (col int, text, hint words) {
	col = firstNonSpace(line)
	text, hint = foreign(msg), say("check indentation and quoting on or just above this line", "請檢查本行或上一行之縮排與引號")
	brackets, quote := scanFlow(line)
	switch {
	case strings.Contains(msg, "tab character"):
		if i := strings.IndexByte(line, '\t'); i >= 0 {
			col = utf8.RuneCountInString(line[:i]) + 1
		}
		text, hint = say("a tab character indents this line; YAML indents with spaces only", "本行以 Tab 字元縮排；YAML 僅能以空格縮排"), say("replace the tab with spaces", "請將 Tab 改為空格")
	case msg == "did not find expected ',' or '}'" || msg == "did not find expected ',' or ']'":
		open, closer := '{', "}"
		if strings.HasSuffix(msg, "']'") {
			open, closer = '[', "]"
		}
		for i := len(brackets) - 1; i >= 0; i-- {
			if brackets[i].r == open {
				col = brackets[i].col
				break
			}
		}
		text = say("this %c is not closed by a %s, or two of its entries have no ',' between them", "此 %c 沒有以 %s 結束，或其中兩個項目之間缺少 ','", open, closer)
		hint = say("close it with %s; entries inside %c … %s are separated by commas", "請以 %s 結束；%c … %s 內之項目以逗號分隔", closer, open, closer)
	case msg == "found unexpected end of stream" && quote > 0:
		col, text, hint = quote, say("this quoted text is never closed", "此引號內之文字沒有結束引號"), say("add the closing quote", "請補上結束引號")
	case unknownAnchor.MatchString(msg):
		name := unknownAnchor.FindStringSubmatch(msg)[1]
		if i := strings.Index(line, "*"+name); i >= 0 {
			col = utf8.RuneCountInString(line[:i]) + 1
		}
		text = say("*%s refers to no anchor: &%s is not defined above it", "*%s 未指向任何錨點：其上方沒有定義 &%s", name, name)
		hint = say("mark the value to repeat with &%s before using *%s, or remove the *", "請先以 &%s 標示要重複使用之值再使用 *%s，或刪除 *", name, name)
	case msg == "mapping values are not allowed in this context":
		if first := strings.Index(line, ": "); first >= 0 {
			if second := strings.Index(line[first+2:], ":"); second >= 0 {
				col = utf8.RuneCountInString(line[:first+2+second]) + 1
			}
		}
		hint = say(`a value that holds ": " must be quoted, e.g. "a: b"`, `含有 ": " 之值須加引號，例如 "a: b"`)
	case msg == "found character that cannot start any token":
		if i := strings.IndexAny(line, "@`"); i >= 0 {
			col = utf8.RuneCountInString(line[:i]) + 1
		}
		hint = say("quote the value: @ and ` cannot start plain text in YAML", "請為此值加引號：YAML 之純文字不可以 @ 或 ` 開頭")
	}
	return col, text, hint
}

func firstNonSpace(line string) int {
	for i, r := range line {
		if r != ' ' {
			return utf8.RuneCountInString(line[:i]) + 1
		}
	}
	return 1
}

type bracketAt struct {
	r   rune
	col int
}

// scanFlow reads one line as YAML flow text: it returns the brackets left
// open at its end and the column of a quote left open (0 when none).
func scanFlow(line string) (open []bracketAt, quote int) {
	var inQuote rune
	prev := rune(0) // the last character outside quotes that is not a space
	col := 0
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		col = i + 1
		switch {
		case inQuote == '"':
			if r == '\\' {
				i++
			} else if r == '"' {
				inQuote, quote = 0, 0
			}
			continue
		case inQuote == '\'':
			if r == '\'' {
				if i+1 < len(rs) && rs[i+1] == '\'' {
					i++
				} else {
					inQuote, quote = 0, 0
				}
			}
			continue
		}
		switch r {
		case '#':
			if i == 0 || rs[i-1] == ' ' || rs[i-1] == '\t' {
				return open, 0
			}
		case '"', '\'':
			if strings.ContainsRune("\x00:[{,-?", prev) {
				inQuote, quote = r, col
			}
		case '{', '[':
			open = append(open, bracketAt{r, col})
		case '}', ']':
			if n := len(open); n > 0 {
				open = open[:n-1]
			}
		}
		if r != ' ' && r != '\t' {
			prev = r
		}
	}
	return open, quote
}
