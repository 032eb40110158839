package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Redacted replaces a secret wherever drbook hides one.
const Redacted = "[redacted]"

// vocabulary lists the string fields of an event whose values drbook
// itself writes from a fixed vocabulary (types, statuses, results, modes),
// or computes (times, durations, hashes, fingerprints), or takes from the
// runbook as identifiers that resume matches (step ids). A secret can only
// equal such a value by coincidence, and replacing it would corrupt the
// record ("passed" read back as "[redacted]ed", a step id resume no longer
// finds, a broken hash chain), so redaction leaves them alone. Paths are
// the JSON keys from the event's top, "*" standing for any array element.
var vocabulary = map[string]bool{
	"type": true, "time": true, "elapsed": true, "step": true, "prev": true,

	"run_start.run_id": true, "run_start.runbook_sha256": true, "run_start.site_sha256": true,
	"run_start.mode": true, "run_start.rto": true, "run_start.drbook_version": true,
	"run_start.steps.*.id": true, "run_start.steps.*.kind": true, "run_start.steps.*.block": true,
	"run_start.steps.*.expect": true,

	"run_resume.runbook_sha256": true, "run_resume.drbook_version": true,
	"run_end.result": true, "run_end.duration": true,
	"step_start.kind": true, "step_start.block": true, "step_start.expect": true,
	"step_retry.delay":   true,
	"step_finish.status": true, "step_finish.started": true, "step_finish.finished": true,
	"step_finish.duration": true, "step_finish.human_wait": true,
	"note.level":      true,
	"decision.action": true,
	"trust.kind":      true, "trust.source": true, "trust.fingerprint": true,
	"monitor.state": true, "monitor.since": true, "monitor.resolution": true,
	"evidence.kind":   true,
	"artifact.sha256": true,
}

// redactor replaces registered secrets in text. Its methods are called
// with the Writer's lock held.
type redactor struct {
	// forms are the forms of each registered secret to replace: the raw
	// text and, when it differs, its JSON-escaped form (text that itself
	// holds JSON, such as a command's output, carries that form).
	forms []string
}

func (r *redactor) add(s string) bool {
	if s == "" {
		return false
	}
	for _, f := range r.forms {
		if f == s {
			return false
		}
	}
	r.forms = append(r.forms, s)
	if q, _ := json.Marshal(s); len(q) > 2 && string(q[1:len(q)-1]) != s {
		r.forms = append(r.forms, string(q[1:len(q)-1]))
	}
	// Longest first, so that a secret containing another is replaced
	// whole rather than leaving its remainder next to the marker.
	slices.SortStableFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	return true
}

// text replaces every registered secret in s.
func (r *redactor) text(s string) string {
	for _, f := range r.forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// mentions reports whether b holds any form of a registered secret.
func (r *redactor) mentions(b []byte) bool {
	for _, f := range r.forms {
		if bytes.Contains(b, []byte(f)) {
			return true
		}
	}
	return false
}

// line redacts one event's JSON line value by value: every string value
// outside the vocabulary fields has its secrets replaced, while keys,
// numbers, the structure and the vocabulary values stay exactly as they
// were. Keys and order are kept, so a line with nothing to redact comes
// back byte for byte.
func (r *redactor) line(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	out.Grow(len(b))
	type frame struct {
		object bool
		n      int    // elements (object: keys) written so far
		key    string // the object's current key
		path   string // the path of this container
	}
	var stack []frame
	// pathOf is the path of the value about to be written.
	pathOf := func() string {
		top := stack[len(stack)-1]
		seg := "*"
		if top.object {
			seg = top.key
		}
		if top.path == "" {
			return seg
		}
		return top.path + "." + seg
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		// A key of an object, or a value.
		isKey := false
		path := ""
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.object && top.n%2 == 0:
				isKey = true
				if top.n > 0 {
					out.WriteByte(',')
				}
			case top.object:
				out.WriteByte(':')
			case top.n > 0:
				out.WriteByte(',')
			}
			if !isKey {
				path = pathOf()
			}
			top.n++
			if isKey {
				top.key = tok.(string)
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			stack = append(stack, frame{object: v == '{', path: path})
			out.WriteByte(byte(v))
		case string:
			if !isKey && !vocabulary[path] {
				v = r.text(v)
			}
			q, err := json.Marshal(v)
			if err != nil {
				return nil, err
			}
			out.Write(q)
		case json.Number:
			out.WriteString(v.String())
		case bool:
			fmt.Fprint(&out, v)
		case nil:
			out.WriteString("null")
		default:
			return nil, fmt.Errorf("unexpected JSON token %T", tok)
		}
	}
	if len(stack) != 0 {
		return nil, errors.New("unbalanced JSON")
	}
	return out.Bytes(), nil
}
