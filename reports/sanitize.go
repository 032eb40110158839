package reports

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// printable makes text safe to show on any medium: control characters
// (which a terminal, a Markdown viewer or an XML parser would act on or
// reject) become their visible Unicode control pictures, bidirectional
// overrides (which can make text read differently from what it is) are
// named, and invalid UTF-8 becomes U+FFFD. Newlines and tabs are kept; a
// CRLF becomes a newline.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || (r == utf8.RuneError && n == 1) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀ … ␟
		case r == 0x7f:
			b.WriteRune(0x2421) // ␡
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		case isBidiControl(r):
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// sanitizeReport applies printable to every string in the report, however
// deeply nested (parameters and inputs are free-form), so no format can
// forget one.
func sanitizeReport(r *Report) {
	sanitizeValue(reflect.ValueOf(r).Elem())
}

func sanitizeValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if s := v.String(); s != "" {
				if p := printable(s); p != s {
					v.SetString(p)
				}
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			if v.Kind() == reflect.Interface {
				// Values inside an interface are not addressable: rebuild.
				if nv, ok := sanitizedCopy(v.Elem()); ok && v.CanSet() {
					v.Set(nv)
				}
				return
			}
			sanitizeValue(v.Elem())
		}
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				sanitizeValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw JSON bytes
		}
		for i := 0; i < v.Len(); i++ {
			sanitizeValue(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		type kv struct{ k, v reflect.Value }
		var changed []kv
		iter := v.MapRange()
		for iter.Next() {
			nk, kok := sanitizedCopy(iter.Key())
			nv, vok := sanitizedCopy(iter.Value())
			if kok || vok {
				changed = append(changed, kv{iter.Key(), reflect.Value{}}, kv{nk, nv})
			}
		}
		for i := 0; i < len(changed); i += 2 {
			v.SetMapIndex(changed[i].k, reflect.Value{})
			v.SetMapIndex(changed[i+1].k, changed[i+1].v)
		}
	}
}

// sanitizedCopy returns a sanitized copy of a non-addressable value and
// whether it differs.
func sanitizedCopy(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		p := printable(v.String())
		if p == v.String() {
			return v, false
		}
		return reflect.ValueOf(p).Convert(v.Type()), true
	case reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		return sanitizedCopy(v.Elem())
	case reflect.Map, reflect.Slice, reflect.Pointer:
		// Reference types: sanitize in place, shared with the caller.
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Map || !v.IsNil() {
			if v.Kind() == reflect.Pointer {
				sanitizeValue(v.Elem())
			} else {
				sanitizeValue(v)
			}
		}
		return v, false
	}
	return v, false
}
