package steps

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/journal"
)

// Documented is implemented by kinds that document themselves for people:
// `drbook kinds`, `drbook explain`, the reference pages under docs/ and the
// descriptions in `drbook schema` all come from Doc. What the Go types
// already say (names, types, defaults) is read from NewParams and NewResult
// by reflection and never repeated here; Doc adds only what a type cannot
// say: what each field means, in English and Traditional Chinese, which
// fields are required or take a fixed set of values, what the preflight
// checks, and an example. Tests hold Doc to the code: every field must be
// described in both languages, every required field and allowed value is
// tried against Validate, and every example must load.
//
// A family keeps its kinds' Doc methods in a docs.go of its own.
type Documented interface {
	Doc() KindDoc
}

// KindDoc is what a kind says about itself beyond its Go types.
type KindDoc struct {
	// SummaryZhTW is Summary in Traditional Chinese.
	SummaryZhTW string
	// Params describes each parameter by its path below the kind's
	// mapping: "host", or "edits.replace" for a field of each item of a
	// list of mappings.
	Params map[string]FieldDoc
	// Result describes each result field by its path below
	// steps.<id>.result: "archive", or "vms.new_host" for a field of each
	// item of a list.
	Result map[string]journal.Text
	// OneOf lists groups of parameters of which exactly one must be given,
	// e.g. {"host", "guest"}. Paths are as in Params.
	OneOf [][]string
	// Shorthand names the parameter that a single value instead of a
	// mapping stands for: `wait: 30s` means {for: 30s}.
	Shorthand string
	// Preflight lists what `plan` checks, read-only, before a run; it is
	// empty exactly when the kind has no Preflight method.
	Preflight []journal.Text
	// Example is a short list of steps in YAML, as under steps:, of which
	// at least one uses the kind. It must load and validate.
	Example string
}

// FieldDoc describes one parameter.
type FieldDoc struct {
	// Text says what the parameter means.
	Text journal.Text
	// Required parameters must be given; the step is invalid without them.
	Required bool
	// Enum lists the values the parameter accepts, when it is a fixed set.
	Enum []string
}

// Param describes an optional parameter in English and Traditional Chinese.
func Param(en, zhTW string) FieldDoc { return FieldDoc{Text: journal.Text{EN: en, ZhTW: zhTW}} }

// Required describes a parameter a step must give.
func Required(en, zhTW string) FieldDoc {
	return FieldDoc{Text: journal.Text{EN: en, ZhTW: zhTW}, Required: true}
}

// Values returns d accepting only the given values.
func (d FieldDoc) Values(v ...string) FieldDoc {
	d.Enum = v
	return d
}

// Text is a description in English and Traditional Chinese.
func Text(en, zhTW string) journal.Text { return journal.Text{EN: en, ZhTW: zhTW} }

// Summary returns a kind's one-line purpose in both languages.
func Summary(k Kind) journal.Text {
	t := journal.Text{EN: k.Summary()}
	if d, ok := k.(Documented); ok {
		t.ZhTW = d.Doc().SummaryZhTW
	}
	return t
}

// DocOf returns a kind's documentation; the zero KindDoc when it has none.
func DocOf(k Kind) KindDoc {
	if d, ok := k.(Documented); ok {
		return d.Doc()
	}
	return KindDoc{}
}

// Family is the part of a kind's name before its first dot ("ssh" for
// "ssh.exec"), or "control" for the kinds without one (wait, manual …) and
// for exec.local, which is documented with them.
func Family(name string) string {
	fam, _, ok := strings.Cut(name, ".")
	if !ok || fam == "exec" {
		return "control"
	}
	return fam
}

// Shape is the kind of value a field holds.
type Shape string

// The shapes of field values.
const (
	ShapeString   Shape = "string"
	ShapeInt      Shape = "integer"
	ShapeNumber   Shape = "number"
	ShapeBool     Shape = "boolean"
	ShapeDuration Shape = "duration"
	ShapeText     Shape = "text"
	ShapeTime     Shape = "time"
	ShapeList     Shape = "list"
	ShapeMap      Shape = "map"
	ShapeObject   Shape = "object"
	ShapeAny      Shape = "any"
)

// Field is one parameter or result field as the kind's Go types declare
// it, with its documentation.
type Field struct {
	// Name is the key: the yaml name for parameters, the json name for
	// results.
	Name string
	// Path is the dotted path from the kind's mapping (or result), with
	// list items left out: "edits.replace".
	Path  string
	Shape Shape
	// Elem is the shape of a list's items or a map's values.
	Elem Shape
	// OneOrList is true for a list that also takes a single value
	// (`status: 200` or `status: [200, 301]`).
	OneOrList bool
	// GoType is the field's Go type.
	GoType reflect.Type
	// Expr is true for a parameter that holds a bare expression
	// (`drbook:"expr"`); Shell for a command whose interpolated values
	// are shell-quoted (`drbook:"shell"`).
	Expr, Shell bool
	// Default is the value NewParams sets, or nil when the field starts at
	// its zero value.
	Default any
	// Doc is the field's documentation (parameters), or only its Text
	// (results).
	Doc FieldDoc
	// Fields are the fields of an object, or of a list's or map's items
	// when they are objects.
	Fields []Field
}

var (
	durationType   = reflect.TypeOf(journal.Duration(0))
	goDurationType = reflect.TypeOf(time.Duration(0))
	textType       = reflect.TypeOf(journal.Text{})
	timeType       = reflect.TypeOf(time.Time{})
	nodeUnmarshal  = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshal  = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// ParamFields returns a kind's parameters, read from NewParams, in the
// order the struct declares them, with their defaults and documentation.
func ParamFields(k Kind) []Field {
	v := reflect.ValueOf(k.NewParams())
	doc := DocOf(k)
	return structFields(v, "", "yaml", func(path string) FieldDoc { return doc.Params[path] })
}

// ResultFields returns a kind's result fields, read from NewResult, with
// their documentation.
func ResultFields(k Kind) []Field {
	v := reflect.ValueOf(k.NewResult())
	doc := DocOf(k)
	return structFields(v, "", "json", func(path string) FieldDoc { return FieldDoc{Text: doc.Result[path]} })
}

// StructFields returns the fields of a struct type read with tag ("yaml"
// or "json"), documented by docs, which maps a field's path to its
// documentation. Site files use it for their schema.
func StructFields(t reflect.Type, tag string, docs map[string]FieldDoc) []Field {
	return structFields(reflect.Zero(t), "", tag, func(p string) FieldDoc { return docs[p] })
}

func structFields(v reflect.Value, prefix, tag string, doc func(string) FieldDoc) []Field {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v = reflect.Zero(v.Type().Elem())
			continue
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get(tag), ",")
		if name == "-" {
			continue
		}
		if tag == "yaml" && strings.Contains(opts, "inline") {
			out = append(out, structFields(v.Field(i), prefix, tag, doc)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			if tag == "json" {
				name = sf.Name
			} else {
				name = strings.ToLower(sf.Name)
			}
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		f := Field{Name: name, Path: path, GoType: sf.Type, Doc: doc(path), Expr: sf.Tag.Get("drbook") == "expr", Shell: sf.Tag.Get("drbook") == "shell"}
		fv := v.Field(i)
		f.Shape, f.Elem, f.OneOrList = shapeOf(sf.Type)
		if !fv.IsZero() {
			f.Default = fv.Interface()
		}
		if st := structOf(sf.Type); st != nil {
			f.Fields = structFields(reflect.Zero(st), path, tag, doc)
		}
		out = append(out, f)
	}
	return out
}

// structOf returns the struct type whose fields a field of type t has
// below it (itself, or its items), or nil.
func structOf(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == textType || t == timeType || reflect.PointerTo(t).Implements(textUnmarshal) {
		return nil
	}
	return t
}

func shapeOf(t reflect.Type) (shape, elem Shape, oneOrList bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType || t == goDurationType:
		return ShapeDuration, "", false
	case t == textType:
		return ShapeText, "", false
	case t == timeType:
		return ShapeTime, "", false
	case t.Kind() == reflect.Struct && reflect.PointerTo(t).Implements(textUnmarshal):
		// A value written as text, such as a secret reference.
		return ShapeString, "", false
	}
	switch t.Kind() {
	case reflect.String:
		return ShapeString, "", false
	case reflect.Bool:
		return ShapeBool, "", false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ShapeInt, "", false
	case reflect.Float32, reflect.Float64:
		return ShapeNumber, "", false
	case reflect.Slice, reflect.Array:
		e, _, _ := shapeOf(t.Elem())
		return ShapeList, e, reflect.PointerTo(t).Implements(nodeUnmarshal)
	case reflect.Map:
		e, _, _ := shapeOf(t.Elem())
		return ShapeMap, e, false
	case reflect.Struct:
		return ShapeObject, "", false
	}
	return ShapeAny, "", false
}

// TypeName says in words what a field holds, in lang ("en" or "zh-TW"):
// "list of strings", "duration".
func (f Field) TypeName(lang string) string {
	zh := lang == "zh-TW"
	name := func(s Shape, plural bool) string {
		if zh {
			return map[Shape]string{ShapeString: "字串", ShapeInt: "整數", ShapeNumber: "數值", ShapeBool: "布林值",
				ShapeDuration: "時間長度", ShapeText: "雙語文字", ShapeTime: "時間", ShapeObject: "物件",
				ShapeAny: "任意值", ShapeList: "清單", ShapeMap: "對照表"}[s]
		}
		if plural {
			return map[Shape]string{ShapeString: "strings", ShapeInt: "integers", ShapeNumber: "numbers", ShapeBool: "booleans",
				ShapeDuration: "durations", ShapeText: "texts", ShapeTime: "times", ShapeObject: "mappings",
				ShapeAny: "values", ShapeList: "lists", ShapeMap: "mappings"}[s]
		}
		return map[Shape]string{ShapeString: "string", ShapeInt: "integer", ShapeNumber: "number", ShapeBool: "boolean",
			ShapeDuration: "duration", ShapeText: "text", ShapeTime: "time", ShapeObject: "mapping",
			ShapeAny: "any", ShapeList: "list", ShapeMap: "mapping"}[s]
	}
	switch f.Shape {
	case ShapeList:
		switch {
		case zh && f.OneOrList:
			return name(f.Elem, false) + "或其清單"
		case zh:
			return name(f.Elem, false) + "清單"
		case f.OneOrList:
			return name(f.Elem, false) + " or list of " + name(f.Elem, true)
		}
		return "list of " + name(f.Elem, true)
	case ShapeMap:
		if zh {
			return "名稱對應" + name(f.Elem, false) + "之對照表"
		}
		return "mapping of names to " + name(f.Elem, true)
	}
	return name(f.Shape, false)
}

// DefaultText formats a field's default as a runbook would write it, or ""
// when it has none.
func (f Field) DefaultText() string {
	switch d := f.Default.(type) {
	case nil:
		return ""
	case journal.Duration:
		return d.String()
	case time.Duration:
		return d.String()
	case fmt.Stringer:
		return d.String()
	}
	v := reflect.ValueOf(f.Default)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(v.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// WalkFields calls fn for every field and, depth first, the fields below it.
func WalkFields(fields []Field, fn func(Field)) {
	for _, f := range fields {
		fn(f)
		WalkFields(f.Fields, fn)
	}
}

// DocPaths returns the paths a KindDoc documents that name no field of the
// kind, sorted: documentation left behind by a renamed or removed field.
func DocPaths(k Kind) (staleParams, staleResults []string) {
	doc := DocOf(k)
	have := map[string]bool{}
	WalkFields(ParamFields(k), func(f Field) { have[f.Path] = true })
	for p := range doc.Params {
		if !have[p] {
			staleParams = append(staleParams, p)
		}
	}
	have = map[string]bool{}
	WalkFields(ResultFields(k), func(f Field) { have[f.Path] = true })
	for p := range doc.Result {
		if !have[p] {
			staleResults = append(staleResults, p)
		}
	}
	sort.Strings(staleParams)
	sort.Strings(staleResults)
	return staleParams, staleResults
}
