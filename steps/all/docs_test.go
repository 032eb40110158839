package all_test

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// docsFile names the file a kind's documentation lives in, for messages.
func docsFile(k steps.Kind) string {
	t := reflect.TypeOf(k)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.TrimPrefix(t.PkgPath(), "github.com/drbook/drbook/") + "/docs.go"
}

func bilingual(t journal.Text) bool {
	return strings.TrimSpace(t.EN) != "" && strings.TrimSpace(t.ZhTW) != ""
}

// TestEveryKindIsDocumented holds each kind's Doc to its Go types: every
// parameter and result field the types declare is described in English
// and Traditional Chinese, no description names a field that is gone, a
// kind with a Preflight method says what it checks (and one without says
// nothing), and the example uses the kind. Whoever adds a kind or a field
// sees this test name it.
func TestEveryKindIsDocumented(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		file := docsFile(k)
		if _, ok := k.(steps.Documented); !ok {
			t.Errorf("kind %s has no Doc method: add one in %s (see steps.Documented)", name, file)
			continue
		}
		doc := steps.DocOf(k)
		if !bilingual(steps.Summary(k)) {
			t.Errorf("kind %s: Summary() or Doc().SummaryZhTW is empty (%s)", name, file)
		}
		steps.WalkFields(steps.ParamFields(k), func(f steps.Field) {
			if !bilingual(f.Doc.Text) {
				t.Errorf("kind %s: parameter %q is not described in both en and zh-TW: add it to Doc().Params in %s", name, f.Path, file)
			}
			if f.Doc.Required && f.Default != nil {
				t.Errorf("kind %s: parameter %q is marked required but has the default %s", name, f.Path, f.DefaultText())
			}
		})
		steps.WalkFields(steps.ResultFields(k), func(f steps.Field) {
			if _, ok := doc.Result[f.Path]; !ok || !bilingual(doc.Result[f.Path]) {
				t.Errorf("kind %s: result field %q is not described in both en and zh-TW: add it to Doc().Result in %s", name, f.Path, file)
			}
		})
		stale, staleRes := steps.DocPaths(k)
		for _, p := range stale {
			t.Errorf("kind %s: Doc().Params describes %q, which is not a parameter (renamed or removed?) in %s", name, p, file)
		}
		for _, p := range staleRes {
			t.Errorf("kind %s: Doc().Result describes %q, which is not a result field in %s", name, p, file)
		}
		_, preflights := k.(steps.Preflighter)
		if preflights != (len(doc.Preflight) > 0) {
			t.Errorf("kind %s: has a Preflight method: %v, but documents %d preflight checks (%s)", name, preflights, len(doc.Preflight), file)
		}
		for i, p := range doc.Preflight {
			if !bilingual(p) {
				t.Errorf("kind %s: preflight check %d is not described in both languages (%s)", name, i, file)
			}
		}
		if doc.Shorthand != "" && !hasParam(k, doc.Shorthand) {
			t.Errorf("kind %s: Shorthand %q is not a parameter (%s)", name, doc.Shorthand, file)
		}
		for _, g := range doc.OneOf {
			for _, p := range g {
				if !hasParam(k, p) {
					t.Errorf("kind %s: OneOf names %q, which is not a parameter (%s)", name, p, file)
				}
			}
		}
		if _, err := exampleParams(k); err != nil {
			t.Errorf("kind %s: %v (%s)", name, err, file)
		}
	}
}

func hasParam(k steps.Kind, path string) bool {
	found := false
	steps.WalkFields(steps.ParamFields(k), func(f steps.Field) { found = found || f.Path == path })
	return found
}

// exampleParams returns the parameter mapping of the first step in the
// kind's example that uses it.
func exampleParams(k steps.Kind) (*yaml.Node, error) {
	var list yaml.Node
	if err := yaml.Unmarshal([]byte(steps.DocOf(k).Example), &list); err != nil {
		return nil, fmt.Errorf("the example is not YAML: %v", err)
	}
	if len(list.Content) == 0 || list.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("the example must be a list of steps, as under steps:")
	}
	for _, st := range list.Content[0].Content {
		for i := 0; i+1 < len(st.Content); i += 2 {
			if st.Content[i].Value == k.Name() {
				return st.Content[i+1], nil
			}
		}
	}
	return nil, fmt.Errorf("no step of the example uses %s", k.Name())
}

// indexRE strips list indices from a parameter path: edits[1].with → edits.with.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// errorsOn decodes params for k and returns the problems reported on path.
func errorsOn(k steps.Kind, params *yaml.Node, path string) (on []string, all []steps.DecodeError) {
	_, errs := steps.DecodeParams(k, params)
	for _, e := range errs {
		f := indexRE.ReplaceAllString(e.Field, "")
		if f == path || strings.HasPrefix(e.Msg, path+":") || strings.HasPrefix(indexRE.ReplaceAllString(e.Msg, ""), path+":") {
			on = append(on, e.Msg)
		}
	}
	return on, errs
}

// mappingAt returns the mapping that holds the keys of a parameter path's
// last element in params: params itself for "host", the first item of
// edits for "edits.replace". It returns nil when the path's list is absent.
func mappingAt(params *yaml.Node, path string) *yaml.Node {
	parts := strings.Split(path, ".")
	cur := params
	for _, p := range parts[:len(parts)-1] {
		v := valueOf(cur, p)
		if v == nil {
			return nil
		}
		if v.Kind == yaml.SequenceNode {
			if len(v.Content) == 0 {
				return nil
			}
			v = v.Content[0]
		}
		cur = v
	}
	if cur.Kind != yaml.MappingNode {
		return nil
	}
	return cur
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func without(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// deepCopy copies a YAML node tree so a test can change it.
func deepCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = deepCopy(ch)
	}
	return &c
}

func last(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// TestKindDocsAgreeWithValidate tries what each Doc claims against the
// kind's own decoding and Validate, starting from its example: leaving out
// a required parameter is an error on that parameter; every allowed value
// is accepted and a value outside them rejected; of a OneOf group, the
// example gives exactly one, and none is an error.
func TestKindDocsAgreeWithValidate(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		params, err := exampleParams(k)
		if err != nil {
			continue // reported by TestEveryKindIsDocumented
		}
		if params.Kind != yaml.MappingNode {
			continue // a shorthand example: nothing to take apart
		}
		params = deepCopy(params)
		// The loader compiles a bare-expression parameter; the kind itself
		// sees its value, which the example's cannot be here.
		// Likewise a whole ${{ … }} value is known only at run time; the
		// loader decodes a placeholder of the field's type meanwhile.
		steps.WalkFields(steps.ParamFields(k), func(f steps.Field) {
			m := mappingAt(params, f.Path)
			if m == nil || valueOf(m, last(f.Path)) == nil {
				return
			}
			v := valueOf(m, last(f.Path))
			switch {
			case f.Expr:
				set(m, last(f.Path), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
			case v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, "${{") && f.Shape == steps.ShapeList:
				set(m, last(f.Path), &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{str("vm")}})
			}
		})
		if _, errs := steps.DecodeParams(k, deepCopy(params)); len(errs) > 0 {
			t.Errorf("kind %s: the example's parameters do not decode: %v", name, errs)
			continue
		}
		doc := steps.DocOf(k)
		steps.WalkFields(steps.ParamFields(k), func(f steps.Field) {
			if f.Doc.Required {
				p := deepCopy(params)
				m := mappingAt(p, f.Path)
				if m == nil || valueOf(m, last(f.Path)) == nil {
					t.Errorf("kind %s: required parameter %q is missing from the example", name, f.Path)
					return
				}
				without(m, last(f.Path))
				if on, all := errorsOn(k, p, f.Path); len(on) == 0 {
					t.Errorf("kind %s: %q is documented as required, but the example without it gives no error on it (errors: %v)", name, f.Path, all)
				}
			}
			for _, v := range f.Doc.Enum {
				p := deepCopy(params)
				m := mappingAt(p, f.Path)
				if m == nil {
					t.Errorf("kind %s: the example lacks the list holding %q", name, f.Path)
					return
				}
				set(m, last(f.Path), str(v))
				if on, _ := errorsOn(k, p, f.Path); len(on) > 0 {
					t.Errorf("kind %s: %q is documented to accept %q, but Validate says %v", name, f.Path, v, on)
				}
			}
			if len(f.Doc.Enum) > 0 {
				p := deepCopy(params)
				m := mappingAt(p, f.Path)
				set(m, last(f.Path), str("no-such-value"))
				if on, all := errorsOn(k, p, f.Path); len(on) == 0 {
					t.Errorf("kind %s: %q is documented to accept only %v, but no-such-value gives no error on it (errors: %v)", name, f.Path, f.Doc.Enum, all)
				}
			}
		})
		for _, g := range doc.OneOf {
			p := deepCopy(params)
			m := mappingAt(p, g[0])
			if m == nil {
				t.Errorf("kind %s: the example lacks the list holding %v", name, g)
				continue
			}
			var given []string
			for _, path := range g {
				if valueOf(m, last(path)) != nil {
					given = append(given, path)
				}
			}
			if len(given) != 1 {
				t.Errorf("kind %s: the example should give exactly one of %v, gives %v", name, g, given)
				continue
			}
			without(m, last(given[0]))
			if _, errs := steps.DecodeParams(k, p); len(errs) == 0 {
				t.Errorf("kind %s: the example without any of %v still validates, so they are not exactly-one-of", name, g)
			}
			p = deepCopy(params)
			m = mappingAt(p, g[0])
			for _, path := range g {
				if path != given[0] {
					set(m, last(path), deepCopy(valueOf(m, last(given[0]))))
					break
				}
			}
			if _, errs := steps.DecodeParams(k, p); len(errs) == 0 {
				t.Errorf("kind %s: the example with two of %v still validates, so they are not exactly-one-of", name, g)
			}
		}
	}
}

// TestKindExamplesLoad loads every kind's example as a runbook, with the
// loader that validate and run use: a wrong field, type or expression in
// an example fails here.
func TestKindExamplesLoad(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		ex := steps.DocOf(k).Example
		if ex == "" {
			continue // reported by TestEveryKindIsDocumented
		}
		src := "name: example\nsteps:\n" + indent(ex, "  ")
		if _, err := runbooks.Parse(name+".example.yaml", []byte(src), runbooks.Options{Registry: reg, Site: &site.Site{Name: "example"}}); err != nil {
			msg := err.Error()
			if el, ok := err.(*runbooks.ErrorList); ok {
				msg = el.Format(true)
			}
			t.Errorf("kind %s: the example does not load (%s):\n%s", name, docsFile(k), msg)
		}
	}
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
