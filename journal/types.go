package journal

import (
	"encoding/json"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration that reads and writes as text ("1m30s") in
// JSON and YAML, and accepts plain numbers of seconds in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads text or nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return err
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// UnmarshalYAML reads "90s", "1m30s" or a bare number of seconds.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("a duration must be text such as 30s, 5m or 1h30m")
	}
	if v, err := time.ParseDuration(n.Value); err == nil {
		if v < 0 {
			return fmt.Errorf("duration %q is negative", n.Value)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := n.Decode(&secs); err == nil && n.Tag != "!!str" {
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	return fmt.Errorf("%q is not a duration; write it like 30s, 5m or 1h30m", n.Value)
}

// MarshalYAML writes the duration as text.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Text is a string in English and Traditional Chinese. In YAML it is either
// a plain string (the same for every language) or {en: …, zh-TW: …}.
type Text struct {
	EN   string `json:"en,omitempty"`
	ZhTW string `json:"zh-TW,omitempty"`
}

// IsZero reports whether no text is set.
func (t Text) IsZero() bool { return t.EN == "" && t.ZhTW == "" }

// In returns the text in lang ("en" or "zh-TW"), falling back to the other.
func (t Text) In(lang string) string {
	if lang == "zh-TW" && t.ZhTW != "" {
		return t.ZhTW
	}
	if t.EN != "" {
		return t.EN
	}
	return t.ZhTW
}

// UnmarshalYAML accepts a plain string or a map of languages.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		t.EN, t.ZhTW = n.Value, n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: text in %s must be a string", v.Line, k.Value)
			}
			switch k.Value {
			case "en":
				t.EN = v.Value
			case "zh-TW", "zh_TW", "zh-tw":
				t.ZhTW = v.Value
			default:
				return fmt.Errorf("line %d: unknown language %q; use en or zh-TW", k.Line, k.Value)
			}
		}
		return nil
	}
	return fmt.Errorf("text must be a string or {en: …, zh-TW: …}")
}
