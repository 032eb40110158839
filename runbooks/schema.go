package runbooks

import (
	"reflect"
	"sort"
	"strings"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// Schema returns a JSON Schema (draft 2020-12) of the runbook format with
// every kind's parameters, for editors' completion and checking.
func Schema(reg *steps.Registry) map[string]any {
	text := map[string]any{"oneOf": []any{
		map[string]any{"type": "string"},
		map[string]any{"type": "object", "properties": map[string]any{"en": map[string]any{"type": "string"}, "zh-TW": map[string]any{"type": "string"}}, "additionalProperties": false},
	}}
	duration := map[string]any{"type": []any{"string", "number"}, "description": "a duration such as 30s, 5m or 1h30m"}
	common := map[string]any{
		"id":                map[string]any{"type": "string", "pattern": idPattern.String()},
		"name":              text,
		"when":              map[string]any{"type": "string", "description": "an expr condition"},
		"timeout":           duration,
		"retry":             map[string]any{"oneOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "object", "properties": map[string]any{"attempts": map[string]any{"type": "integer"}, "delay": duration, "backoff": map[string]any{"type": "number"}, "max_delay": duration}, "additionalProperties": false}}},
		"until":             map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "object", "properties": map[string]any{"condition": map[string]any{"type": "string"}, "interval": duration, "within": duration, "attempts": map[string]any{"type": "integer"}}, "additionalProperties": false}}},
		"register":          map[string]any{"type": "string"},
		"continue_on_error": map[string]any{"type": "boolean"},
		"confirm":           map[string]any{"type": "boolean"},
		"expect":            duration,
		"disruptive":        map[string]any{"type": "boolean"},
		"recovery":          map[string]any{"type": "boolean"},
		"parallel":          map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/step"}},
		"concurrency":       map[string]any{"type": "integer", "minimum": 1},
		"for_each":          map[string]any{"type": []any{"string", "array"}},
		"as":                map[string]any{"type": "string"},
	}
	var kinds []any
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		props := map[string]any{}
		for key, v := range common {
			props[key] = v
		}
		ps := typeSchema(reflect.TypeOf(k.NewParams()), text, duration)
		ps["description"] = k.Summary()
		props[name] = ps
		kinds = append(kinds, map[string]any{"type": "object", "required": []any{name}, "properties": props, "additionalProperties": false})
	}
	kinds = append(kinds, map[string]any{"type": "object", "required": []any{"parallel"}, "properties": common, "additionalProperties": false})
	stepList := map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/step"}}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://drbook.dev/schema/runbook.json",
		"title":                "drbook runbook",
		"type":                 "object",
		"required":             []any{"name", "steps"},
		"additionalProperties": false,
		"properties": map[string]any{
			"name": map[string]any{"type": "string"}, "title": text, "description": text,
			"owner": map[string]any{"type": "string"}, "version": map[string]any{"type": "string"},
			"site": map[string]any{"type": "string"}, "rto": duration,
			"labels":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
			"params":   map[string]any{"type": "object", "additionalProperties": map[string]any{}},
			"monitors": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
			"steps":    stepList, "on_failure": stepList, "finally": stepList,
		},
		"$defs": map[string]any{"step": map[string]any{"oneOf": kinds}},
	}
}

var durationType = reflect.TypeOf(journal.Duration(0))
var textType = reflect.TypeOf(journal.Text{})

func typeSchema(t reflect.Type, text, duration map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return copyMap(duration)
	case t == textType:
		return copyMap(text)
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": []any{"boolean", "string"}}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": []any{"integer", "string"}}
	case reflect.Float64, reflect.Float32:
		return map[string]any{"type": []any{"number", "string"}}
	case reflect.Slice:
		return map[string]any{"type": []any{"array", "string"}, "items": typeSchema(t.Elem(), text, duration)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem(), text, duration)}
	case reflect.Struct:
		props := map[string]any{}
		fields := steps.YAMLFieldNames(t)
		names := make([]string, 0, len(fields))
		for n := range fields {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			props[n] = typeSchema(fields[n], text, duration)
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if reflect.PointerTo(t).Implements(reflect.TypeOf((*interface{ UnmarshalYAML(func(any) error) error })(nil)).Elem()) {
			// Kinds with a shorthand also take a single value.
			return map[string]any{"oneOf": []any{s, map[string]any{"type": []any{"string", "number"}}}}
		}
		return s
	}
	return map[string]any{}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// KindSummary is "name: summary", for listings.
func KindSummary(reg *steps.Registry) string {
	var b strings.Builder
	for _, n := range reg.Names() {
		k, _ := reg.Lookup(n)
		b.WriteString(n + ": " + k.Summary() + "\n")
	}
	return b.String()
}
