package runbooks

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// typeWords names the Go types of the expression environment the way a
// runbook author knows them ("the result of exec.local", "site.hosts"), so
// that expr's messages never show "control.ExecLocalResult" or a struct
// generated for the site.
type typeWords struct {
	names map[reflect.Type]string
	// zh is names in Traditional Chinese.
	zh map[reflect.Type]string
	// fields lists a struct type's expression field names, for hints.
	fields map[string][]string
	// types is every type reachable from the environment; sorted holds
	// those with a Go name, longest name first, once a message needs it.
	types, sorted []reflect.Type
}

func newTypeWords(sc *scope, all []*Step) *typeWords {
	w := &typeWords{names: map[reflect.Type]string{}, zh: map[reflect.Type]string{}, fields: map[string][]string{}}
	name := func(t reflect.Type, en, zh string) {
		if t == nil {
			return
		}
		if _, ok := w.names[t]; !ok {
			w.names[t], w.zh[t] = en, zh
		}
	}
	name(sc.paramsType, "params", "params")
	name(sc.siteType, "site", "site")
	name(sc.stepsType, "steps", "steps")
	name(sc.varsType, "vars", "vars")
	if sc.siteType != nil {
		for i, n := range []string{"", "", "site.vcenter", "site.hosts", "site.guests", "site.services"} {
			if n != "" {
				name(sc.siteType.Field(i).Type, n, n)
			}
		}
	}
	name(reflect.TypeOf(site.Host{}), "a host of the site", "場域之主機")
	name(reflect.TypeOf(site.Guest{}), "a guest of the site", "場域之客體")
	name(reflect.TypeOf(site.Service{}), "a service of the site", "場域之服務")
	name(reflect.TypeOf(site.VCenter{}), "the site's vcenter", "場域之 vcenter")
	name(reflect.TypeOf((*struct{})(nil)), "nothing", "空值")
	for _, st := range all {
		if t := st.ResultType(); t != nil {
			name(t, "the result of "+st.KindName, st.KindName+" 之結果")
			name(t.Elem(), "the result of "+st.KindName, st.KindName+" 之結果")
			name(stepViewType(t), "a step", "步驟")
		}
	}
	// Everything reachable from the environment gets words, so no Go
	// type name is left in a message.
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t.Elem())
		case reflect.Struct:
			var fs []string
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				walk(f.Type)
				if n, _, _ := strings.Cut(f.Tag.Get("expr"), ","); n != "" && n != "-" {
					fs = append(fs, n)
				} else if n == "" && f.IsExported() {
					fs = append(fs, f.Name)
				}
			}
			sort.Strings(fs)
			w.fields[w.describe(t)] = fs
		}
	}
	for _, t := range []reflect.Type{sc.paramsType, sc.siteType, sc.stepsType, sc.varsType} {
		walk(t)
	}
	for _, st := range all {
		walk(st.ResultType())
	}
	for t := range seen {
		w.types = append(w.types, t)
	}
	return w
}

// replace rewrites every Go type name in msg. It runs only for a
// message, so the type texts (the steps struct's is as long as the
// runbook) are compared then, not indexed for every load.
func (w *typeWords) replace(msg string) string {
	if !strings.ContainsAny(msg, ".{") {
		return msg
	}
	if w.sorted == nil {
		w.sorted = make([]reflect.Type, 0, len(w.types))
		for _, t := range w.types {
			if strings.ContainsAny(t.String(), ".{") {
				w.sorted = append(w.sorted, t)
			}
		}
		// Longest first, so that a struct's text is replaced before the
		// names inside it.
		sort.Slice(w.sorted, func(i, j int) bool { return len(w.sorted[i].String()) > len(w.sorted[j].String()) })
	}
	for _, t := range w.sorted {
		if s := t.String(); len(s) <= len(msg) && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, w.describe(t))
		}
	}
	return msg
}

// describe returns the words for t.
func (w *typeWords) describe(t reflect.Type) string {
	if n, ok := w.names[t]; ok {
		return n
	}
	switch t {
	case reflect.TypeOf(""):
		return "text"
	case reflect.TypeOf(0), reflect.TypeOf(int64(0)):
		return "a whole number"
	case reflect.TypeOf(0.0):
		return "a number"
	case reflect.TypeOf(false):
		return "true or false"
	case reflect.TypeOf(time.Duration(0)):
		return "a duration"
	case reflect.TypeOf(time.Time{}):
		return "a time"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return w.describe(t.Elem())
	case reflect.Slice, reflect.Array:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(w.describe(t.Elem()), "a "), "an ")
	case reflect.Map:
		return "a mapping of names to " + strings.TrimPrefix(w.describe(t.Elem()), "a ")
	case reflect.Interface:
		return "any value"
	case reflect.Struct:
		return "a record"
	case reflect.String:
		return "text"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	}
	return t.Kind().String()
}

// describeZhTW is describe in Traditional Chinese.
func (w *typeWords) describeZhTW(t reflect.Type) string {
	if n, ok := w.zh[t]; ok {
		return n
	}
	switch t {
	case reflect.TypeOf(""):
		return "文字"
	case reflect.TypeOf(0), reflect.TypeOf(int64(0)):
		return "整數"
	case reflect.TypeOf(0.0):
		return "數字"
	case reflect.TypeOf(false):
		return "true 或 false"
	case reflect.TypeOf(time.Duration(0)):
		return "時間長度"
	case reflect.TypeOf(time.Time{}):
		return "時間"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return w.describeZhTW(t.Elem())
	case reflect.Slice, reflect.Array:
		return w.describeZhTW(t.Elem()) + "清單"
	case reflect.Map:
		return "名稱對應至" + w.describeZhTW(t.Elem()) + "之對應（mapping）"
	case reflect.Interface:
		return "任意值"
	case reflect.Struct:
		return "紀錄"
	case reflect.String:
		return "文字"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "整數"
	}
	return t.Kind().String()
}

// typeWordsIn describes a type for a message in both languages; nil-safe.
func (sc *scope) typeWordsIn(t reflect.Type) words {
	if t == nil {
		return say("nothing", "空值")
	}
	if sc == nil || sc.words == nil {
		return say("a value", "某值")
	}
	return pair(sc.words.describe(t), sc.words.describeZhTW(t))
}

// typeWords describes a type for a message; nil-safe.
func (sc *scope) typeWords(t reflect.Type) string {
	if t == nil {
		return "nothing"
	}
	if sc == nil || sc.words == nil {
		return "a value"
	}
	return sc.words.describe(t)
}

var noField = regexp.MustCompile(`^type (.+) has no field (\S+)$`)

// goBasic are Go's names for the basic types as expr prints them.
var goBasic = regexp.MustCompile(`\b(int|int64|float64|bool|string|interface \{\}|time\.Duration)\b`)

var basicWords = map[string]string{"int": "a whole number", "int64": "a whole number", "float64": "a number",
	"bool": "true or false", "string": "text", "interface {}": "any value", "time.Duration": "a duration"}

var (
	mismatched   = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+)\)$`)
	expectedType = regexp.MustCompile(`^expected (\S+), but got (.+)$`)
)

// basicZhTW are basicWords in Traditional Chinese.
var basicZhTW = map[string]string{"int": "整數", "int64": "整數", "float64": "數字", "bool": "true 或 false", "string": "文字",
	"interface {}": "任意值", "time.Duration": "時間長度"}

// goType is the words for a type as expr prints it, when it is a basic
// type or one of the environment's.
func (w *typeWords) goType(s string) (words, bool) {
	if en, ok := basicWords[s]; ok {
		return pair(en, basicZhTW[s]), true
	}
	for _, t := range w.types {
		if t.String() == s {
			return pair(w.describe(t), w.describeZhTW(t)), true
		}
	}
	return words{}, false
}

// humanize rewrites an expr message in an author's terms and returns a
// hint when it can list what exists.
//
// expr's own sentences are foreign text: in Chinese they stay as expr
// wrote them, except a missing field, which drbook words itself.
func (w *typeWords) humanize(msg string) (words, words) {
	if w == nil {
		return foreign(msg), noHint
	}
	if m := mismatched.FindStringSubmatch(msg); m != nil {
		// The types may hold " and " themselves: split where both sides
		// are types of the environment.
		for i := strings.Index(m[2], " and "); i >= 0; {
			if a, ok := w.goType(m[2][:i]); ok {
				if b, ok := w.goType(m[2][i+5:]); ok {
					return say("invalid operation: %s (mismatched types %s and %s)", "無效之運算：%s（型別不符：%s與%s）", m[1], a.spaced(), b.spaced()), noHint
				}
			}
			j := strings.Index(m[2][i+5:], " and ")
			if j < 0 {
				break
			}
			i += 5 + j
		}
	}
	if m := expectedType.FindStringSubmatch(msg); m != nil {
		a, ok1 := w.goType(m[1])
		b, ok2 := w.goType(m[2])
		if ok1 && ok2 {
			return say("expected %s, but got %s", "應為%s，卻是%s", a.spaced(), b.spaced()), noHint
		}
	}
	if m := noField.FindStringSubmatch(msg); m != nil {
		for _, t := range w.types {
			if t.String() == m[1] {
				hint := noHint
				if fs := w.fields[w.describe(t)]; len(fs) > 0 {
					hint = hintFor(m[2], fs, say("fields", "欄位"))
				}
				return say("%s has no field %s", "%s沒有欄位 %s", pair(w.describe(t), strings.TrimLeft(steps.ZhSpaced(w.describeZhTW(t)), " ")), m[2]), hint
			}
		}
	}
	msg = w.replace(msg)
	msg = goBasic.ReplaceAllStringFunc(msg, func(n string) string { return basicWords[n] })
	if m := noField.FindStringSubmatch(msg); m != nil {
		hint := noHint
		if fs := w.fields[m[1]]; len(fs) > 0 {
			hint = hintFor(m[2], fs, say("fields", "欄位"))
		}
		return say("%s has no field %s", "%s 沒有欄位 %s", foreign(m[1]), m[2]), hint
	}
	return foreign(msg), noHint
}

// listType reports whether a value of type t can be looped over (any is
// checked when the run has the value).
func listType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Interface:
		return true
	}
	return false
}
