package steps

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
)

// DecodeError is a parameter problem at a position in the YAML source.
type DecodeError struct {
	Line, Column int
	Field        string
	Msg          string
	// MsgZhTW is Msg in Traditional Chinese (yaml.v3's own words, which
	// are foreign text, stay as they are inside it).
	MsgZhTW string
	// Foreign is the part of Msg that is text from elsewhere (yaml.v3's
	// words), the same in both languages; empty when there is none.
	Foreign string
}

func (e DecodeError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// DecodeParams decodes node strictly into a new parameter struct of kind:
// every key must name a field (an unknown key is an error that names the
// known ones), and every value must fit its field's type. It then runs the
// kind's Validate and places each problem at the key it names.
func DecodeParams(kind Kind, node *yaml.Node) (any, []DecodeError) {
	params := kind.NewParams()
	if node == nil || (node.Kind == yaml.ScalarNode && node.Tag == "!!null") {
		node = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	errs := Strict(node, reflect.TypeOf(params), "")
	if len(errs) > 0 {
		return nil, errs
	}
	if err := node.Decode(params); err != nil {
		// yaml.v3 stops at the first bad value and places an error of a
		// custom unmarshaler (a duration, a text) at the whole mapping:
		// decode field by field to name every bad value where it is.
		if errs := fieldErrors(node, reflect.TypeOf(params), ""); len(errs) > 0 {
			return nil, errs
		}
		return nil, typeErrors(node, err)
	}
	for _, fe := range kind.Validate(params) {
		n := FindField(node, fe.Field)
		msg, zh := fe.Msg, fe.MsgZhTW
		if zh == "" {
			zh = fe.Msg
		}
		if fe.Field != "" {
			msg, zh = fe.Field+": "+fe.Msg, fe.Field+"："+zh
		}
		errs = append(errs, DecodeError{Line: n.Line, Column: n.Column, Field: fe.Field, Msg: msg, MsgZhTW: zh})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return params, nil
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
var textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()

// Strict reports every mapping key in node that has no field in t (a
// struct, pointer, slice or map type), recursively. Types with their own
// UnmarshalYAML or UnmarshalText are trusted to check themselves.
func Strict(node *yaml.Node, t reflect.Type, path string) []DecodeError {
	if node == nil {
		return nil
	}
	if node.Kind == yaml.AliasNode {
		// The anchored node is checked where it is written; following
		// aliases here could loop forever on a cyclic document.
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) ||
		reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return Strict(node, t.Elem(), path)
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return nil
		}
		var errs []DecodeError
		for i, c := range node.Content {
			errs = append(errs, Strict(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return nil
		}
		var errs []DecodeError
		for i := 0; i+1 < len(node.Content); i += 2 {
			errs = append(errs, Strict(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value))...)
		}
		return errs
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return nil
		}
		fields := yamlFields(t)
		var errs []DecodeError
		seen := map[string]bool{}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if seen[k.Value] {
				errs = append(errs, DecodeError{Line: k.Line, Column: k.Column, Field: join(path, k.Value), Msg: fmt.Sprintf("%s is given twice", join(path, k.Value)), MsgZhTW: fmt.Sprintf("%s 重複指定", join(path, k.Value))})
				continue
			}
			seen[k.Value] = true
			ft, ok := fields[k.Value]
			if !ok {
				en, zh := unknownFieldMsg(k.Value, path, fields)
				errs = append(errs, DecodeError{Line: k.Line, Column: k.Column, Field: join(path, k.Value), Msg: en, MsgZhTW: zh})
				continue
			}
			errs = append(errs, Strict(node.Content[i+1], ft, join(path, k.Value))...)
		}
		return errs
	}
	return nil
}

func unknownFieldMsg(key, path string, fields map[string]reflect.Type) (en, zh string) {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	en, zh = fmt.Sprintf("unknown field %q", join(path, key)), fmt.Sprintf("未知之欄位 %q", join(path, key))
	if best := Closest(key, names); best != "" {
		return en + fmt.Sprintf("; did you mean %q?", best), zh + fmt.Sprintf("；是否為 %q？", best)
	}
	sortStrings(names)
	return en + "; known fields: " + strings.Join(names, ", "), zh + "；已知之欄位：" + strings.Join(names, ", ")
}

// YAMLFieldNames lists the yaml keys of a struct type, for schema output.
func YAMLFieldNames(t reflect.Type) map[string]reflect.Type { return yamlFields(t) }

func yamlFields(t reflect.Type) map[string]reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// FindField returns the node of the key at a dotted path ("a.b[2].c")
// below a mapping, or the mapping itself when the path is not found.
func FindField(node *yaml.Node, path string) *yaml.Node {
	cur := node
	if path == "" {
		return node
	}
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			fmt.Sscanf(part[i+1:len(part)-1], "%d", &idx)
		}
		if cur.Kind != yaml.MappingNode {
			return cur
		}
		var val, key *yaml.Node
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == name {
				key, val = cur.Content[i], cur.Content[i+1]
			}
		}
		if val == nil {
			return cur
		}
		if idx >= 0 {
			if val.Kind == yaml.SequenceNode && idx < len(val.Content) {
				cur = val.Content[idx]
				continue
			}
			return key
		}
		if val.Kind == yaml.ScalarNode {
			return val
		}
		cur = val
		_ = key
	}
	return cur
}

// typeErrors turns yaml.v3's type errors ("line 3: cannot unmarshal …")
// into positioned errors.
func typeErrors(node *yaml.Node, err error) []DecodeError {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return []DecodeError{unmarshalerError(node.Line, node.Column, "", "", err, false)}
	}
	var out []DecodeError
	for _, e := range te.Errors {
		var line int
		rest := e
		if n, _ := fmt.Sscanf(e, "line %d:", &line); n == 1 {
			rest = strings.TrimSpace(e[strings.IndexByte(e, ':')+1:])
		}
		col := findColumn(node, line)
		if line == node.Line && node.Kind != yaml.ScalarNode && node.Kind != yaml.MappingNode {
			col = node.Column // the list itself is what does not fit
		}
		en, zh := friendlyTypeError(rest)
		out = append(out, DecodeError{Line: line, Column: col, Msg: en, MsgZhTW: zh, Foreign: foreignIf(en, zh)})
	}
	return out
}

func findColumn(node *yaml.Node, line int) int {
	best := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Line == line && (n.Kind == yaml.ScalarNode) && (best == 0 || n.Column > best) {
			best = n.Column
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(node)
	if best == 0 {
		best = 1
	}
	return best
}

func friendlyTypeError(s string) (en, zh string) {
	// "cannot unmarshal !!str `abc` into int" → "`abc` is not a whole number"
	var tag, val, into string
	if i := strings.Index(s, "cannot unmarshal "); i >= 0 {
		parts := strings.SplitN(s[i+len("cannot unmarshal "):], " into ", 2)
		if len(parts) == 2 {
			into = parts[1]
			tv := strings.SplitN(parts[0], " ", 2)
			tag = tv[0]
			if len(tv) == 2 {
				val = tv[1]
			}
		}
	}
	want := map[string][2]string{"int": {"a whole number", "整數"}, "bool": {"true or false", "true 或 false"}, "float64": {"a number", "數字"},
		"string": {"text", "文字"}, "[]string": {"a list of strings", "文字清單"}}
	if w, ok := want[into]; ok {
		if val == "" {
			return fmt.Sprintf("expected %s, found %s", w[0], tagWords[tag][0]), fmt.Sprintf("此處應為%s，卻是%s", strings.TrimSpace(ZhSpaced(w[1])), tagWords[tag][1])
		}
		return fmt.Sprintf("%s must be %s", val, w[0]), fmt.Sprintf("%s 須為%s", val, strings.TrimRight(ZhSpaced(w[1]), " "))
	}
	if strings.HasPrefix(into, "[]") && tag == "!!map" {
		return "expected a list, found a mapping", "此處應為清單，卻是對應（mapping）"
	}
	if strings.HasPrefix(into, "[]") {
		return "expected a list, found " + strings.TrimPrefix(tag, "!!"), "此處應為清單，卻是 " + strings.TrimPrefix(tag, "!!")
	}
	if tag == "!!seq" {
		return "expected a single value or mapping, found a list", "此處應為單一值或對應（mapping），卻是清單"
	}
	if tag != "" {
		// into names a Go type (control.plain, map[string]site.Host): say
		// what was found instead.
		if val != "" {
			return fmt.Sprintf("%s is not accepted here", val), fmt.Sprintf("此處不接受 %s", val)
		}
		return fmt.Sprintf("%s is not accepted here", tagWords[tag][0]), fmt.Sprintf("此處不接受%s", tagWords[tag][1])
	}
	return s, s
}

// DecodeValue decodes node into the value v points to and returns every
// value that does not fit, each at its own position and in words (no Go
// type names); unknown keys are Strict's to report.
func DecodeValue(node *yaml.Node, v any) []DecodeError {
	err := node.Decode(v)
	if err == nil {
		return nil
	}
	if errs := fieldErrors(node, reflect.TypeOf(v), ""); len(errs) > 0 {
		return errs
	}
	return typeErrors(node, err)
}

// fieldErrors decodes each value of a mapping into its field's type on its
// own and returns the problem of every value that does not fit, at that
// value. Nested mappings and lists of mappings are followed.
func fieldErrors(node *yaml.Node, t reflect.Type, path string) []DecodeError {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node == nil || node.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	fields := yamlFields(t)
	var errs []DecodeError
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i].Value, node.Content[i+1]
		ft, ok := fields[key]
		if !ok {
			continue // reported by Strict
		}
		errs = append(errs, valueErrors(val, ft, join(path, key))...)
	}
	return errs
}

func valueErrors(val *yaml.Node, ft reflect.Type, path string) []DecodeError {
	err := val.Decode(reflect.New(ft).Interface())
	if err == nil {
		return nil
	}
	custom := reflect.PointerTo(ft).Implements(unmarshalerType) || reflect.PointerTo(ft).Implements(textUnmarshalerType)
	elem := ft
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	if !custom {
		switch {
		case elem.Kind() == reflect.Struct && val.Kind == yaml.MappingNode:
			if errs := fieldErrors(val, elem, path); len(errs) > 0 {
				return errs
			}
		case (elem.Kind() == reflect.Slice || elem.Kind() == reflect.Array) && val.Kind == yaml.SequenceNode:
			var errs []DecodeError
			for i, c := range val.Content {
				errs = append(errs, valueErrors(c, elem.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
			if len(errs) > 0 {
				return errs
			}
		case elem.Kind() == reflect.Map && val.Kind == yaml.MappingNode:
			var errs []DecodeError
			for i := 0; i+1 < len(val.Content); i += 2 {
				errs = append(errs, valueErrors(val.Content[i+1], elem.Elem(), join(path, val.Content[i].Value))...)
			}
			if len(errs) > 0 {
				return errs
			}
		}
	}
	te, ok := err.(*yaml.TypeError)
	if !ok {
		// A custom unmarshaler's own message says what is wrong.
		return []DecodeError{unmarshalerError(val.Line, val.Column, path, path+": ", err, true)}
	}
	var out []DecodeError
	for _, e := range te.Errors {
		line := val.Line
		rest := e
		if n, _ := fmt.Sscanf(e, "line %d:", &line); n == 1 {
			rest = strings.TrimSpace(e[strings.IndexByte(e, ':')+1:])
		}
		col := findColumn(val, line)
		if line == val.Line && val.Kind != yaml.ScalarNode {
			col = val.Column
		}
		en, zh := describeTypeError(rest, ft)
		out = append(out, DecodeError{Line: line, Column: col, Field: path, Msg: path + ": " + en, MsgZhTW: path + "：" + zh, Foreign: foreignIf(en, zh)})
	}
	return out
}

func stripLinePrefix(s string) string {
	var n int
	if k, _ := fmt.Sscanf(s, "line %d:", &n); k == 1 {
		return strings.TrimSpace(s[strings.IndexByte(s, ':')+1:])
	}
	return strings.TrimPrefix(s, "yaml: ")
}

// describeTypeError says in words what a value of type want must be; Go
// type names never reach an author.
func describeTypeError(s string, want reflect.Type) (en, zh string) {
	if !strings.HasPrefix(s, "cannot unmarshal ") {
		return friendlyTypeError(s)
	}
	_, val, _ := strings.Cut(s, "`")
	val, _, _ = strings.Cut(val, "`")
	found := [2]string{"a value", "某值"}
	if tag := strings.Fields(strings.TrimPrefix(s, "cannot unmarshal ")); len(tag) > 0 {
		found = tagWords[tag[0]]
	}
	wantEN, wantZh := typeWords(want)
	wantZh = strings.TrimRight(ZhSpaced(wantZh), " ")
	if val != "" {
		return fmt.Sprintf("`%s` must be %s", val, wantEN), fmt.Sprintf("`%s` 須為%s", val, wantZh)
	}
	return fmt.Sprintf("expected %s, found %s", wantEN, found[0]), fmt.Sprintf("此處應為%s，卻是%s", wantZh, found[1])
}

var tagWords = map[string][2]string{"!!str": {"text", "文字"}, "!!int": {"a number", "數字"}, "!!float": {"a number", "數字"},
	"!!bool": {"true or false", "true 或 false"}, "!!null": {"nothing", "空值"}, "!!seq": {"a list", "清單"}, "!!map": {"a mapping", "對應（mapping）"},
	"!!binary": {"binary data", "二進位資料"}, "!!timestamp": {"a date", "日期"}}

// typeWords describes a parameter type to an author, in English and in
// Traditional Chinese: "text", "a list of whole numbers", "a duration such
// as 30s".
func typeWords(t reflect.Type) (en, zh string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.String() {
	case "journal.Duration", "time.Duration":
		return "a duration such as 30s", "時間長度（例如 30s）"
	case "journal.Text":
		return "text, or {en: …, zh-TW: …}", "文字，或 {en: …, zh-TW: …}"
	}
	switch t.Kind() {
	case reflect.String:
		return "text", "文字"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number", "整數"
	case reflect.Float32, reflect.Float64:
		return "a number", "數字"
	case reflect.Bool:
		return "true or false", "true 或 false"
	case reflect.Slice, reflect.Array:
		en, zh := typeWords(t.Elem())
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(en, "a "), "an "), zh + "清單"
	case reflect.Map:
		return "a mapping", "對應（mapping）"
	case reflect.Struct:
		return "a mapping of its fields", "含其欄位之對應（mapping）"
	case reflect.Interface:
		return "a value", "某值"
	}
	return "a different value", "其他值"
}

// unmarshalerWords are the messages of drbook's own YAML unmarshalers
// (journal.Duration, journal.Text, which cannot use package i18n: it
// imports journal), each as a pattern and its Chinese.
var unmarshalerWords = []struct {
	en *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^a duration must be text such as 30s, 5m or 1h30m$`), "時間長度須為文字，例如 30s、5m 或 1h30m"},
	{regexp.MustCompile(`^duration ("(?:[^"\\]|\\.)*") is negative$`), "時間長度 $1 為負值"},
	{regexp.MustCompile(`^("(?:[^"\\]|\\.)*") is not a duration; write it like 30s, 5m or 1h30m$`), "$1 不是時間長度；請寫成 30s、5m 或 1h30m"},
	{regexp.MustCompile(`^(?:line \d+: )?text in (.*) must be a string$`), "$1 之文字須為字串"},
	{regexp.MustCompile(`^(?:line \d+: )?unknown language ("(?:[^"\\]|\\.)*"); use en or zh-TW$`), "未知之語言 $1；請用 en 或 zh-TW"},
	{regexp.MustCompile(`^text must be a string or \{en: …, zh-TW: …\}$`), "文字須為字串或 {en: …, zh-TW: …}"},
}

// UnmarshalerWordsZhTW is the Chinese of a message written by one of
// drbook's own YAML unmarshalers, or msg itself (foreign text, such as
// yaml.v3's) when it is none of them.
func UnmarshalerWordsZhTW(msg string) string {
	for _, w := range unmarshalerWords {
		if w.en.MatchString(msg) {
			return w.en.ReplaceAllString(msg, w.zh)
		}
	}
	return msg
}

// unmarshalerError is the problem a custom unmarshaler reported, after
// prefix ("field: "): drbook's own words in both languages, anyone else's
// as they are.
func unmarshalerError(line, col int, field, prefix string, err error, strip bool) DecodeError {
	msg, zh := err.Error(), i18n.In(err, "zh-TW")
	if strip {
		msg, zh = stripLinePrefix(msg), stripLinePrefix(zh)
	}
	own := zh != msg
	if !own {
		zh = UnmarshalerWordsZhTW(msg)
		own = zh != msg
	}
	e := DecodeError{Line: line, Column: col, Field: field, Msg: prefix + msg, MsgZhTW: strings.Replace(prefix, ": ", "：", 1) + zh}
	if !own {
		e.Foreign = msg
	}
	return e
}

// foreignIf is en when it was not translated (yaml.v3's words passed on).
func foreignIf(en, zh string) string {
	if en == zh {
		return en
	}
	return ""
}

// ZhSpaced puts a space between s and the Chinese around it where s
// starts or ends with a Latin letter or digit ("須為 true 或 false",
// "site.hosts 沒有欄位"), as Taiwanese documents set mixed text.
func ZhSpaced(s string) string {
	if s == "" {
		return s
	}
	latin := func(b byte) bool {
		return b < 0x80 && (b == '_' || b == '.' || b >= '0' && b <= '9' || b|0x20 >= 'a' && b|0x20 <= 'z')
	}
	if latin(s[0]) {
		s = " " + s
	}
	if latin(s[len(s)-1]) {
		s += " "
	}
	return s
}
