package runbooks

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// render evaluates the template and returns the node to decode.
func (t *Template) render(env *Env, v Vars) (*yaml.Node, error) {
	if t.Whole {
		val, err := env.Eval(t.Parts[0].Expr, v)
		if err != nil {
			return nil, err
		}
		if t.Shell {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: shellWord(val, t.Parts[0].slot), Line: t.Node.Line, Column: t.Node.Column}, nil
		}
		return valueNode(val, t.Node)
	}
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Expr == nil {
			b.WriteString(p.Literal)
			continue
		}
		val, err := env.Eval(p.Expr, v)
		if err != nil {
			return nil, err
		}
		if t.Shell {
			b.WriteString(shellWord(val, p.slot))
		} else {
			b.WriteString(plainText(val))
		}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: b.String(), Line: t.Node.Line, Column: t.Node.Column}, nil
}

// Render evaluates a template to text (for plan output).
func (t *Template) Render(env *Env, v Vars) (string, error) {
	n, err := t.render(env, v)
	if err != nil {
		return "", err
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value, nil
	}
	b, _ := yaml.Marshal(n)
	return strings.TrimSpace(string(b)), nil
}

// shellText quotes a value as words outside quotes; raw() opts out.
func shellText(v any) string {
	if r, ok := v.(Raw); ok {
		return string(r)
	}
	if list, ok := v.([]string); ok {
		q := make([]string, len(list))
		for i, s := range list {
			q[i] = steps.ShellQuote(s)
		}
		return strings.Join(q, " ")
	}
	return steps.ShellQuote(plainText(v))
}

func plainText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case Raw:
		return string(x)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	case int, int64, float64, bool:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func valueNode(v any, at *yaml.Node) (*yaml.Node, error) {
	scalar := func(tag, val string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val, Line: at.Line, Column: at.Column}
	}
	switch x := v.(type) {
	case nil:
		return scalar("!!null", "null"), nil
	case string:
		return scalar("!!str", x), nil
	case Raw:
		return scalar("!!str", string(x)), nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(x)), nil
	case int:
		return scalar("!!int", strconv.Itoa(x)), nil
	case int64:
		return scalar("!!int", strconv.FormatInt(x, 10)), nil
	case float64:
		return scalar("!!float", strconv.FormatFloat(x, 'g', -1, 64)), nil
	case time.Duration:
		return scalar("!!str", x.String()), nil
	}
	// Lists and structures go through JSON so that results keep the field
	// names runbooks use (the json tags).
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot use a %T here: %v", v, err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := n.Encode(generic); err != nil {
		return nil, err
	}
	setPos(&n, at)
	return &n, nil
}

func setPos(n *yaml.Node, at *yaml.Node) {
	n.Line, n.Column = at.Line, at.Column
	for _, c := range n.Content {
		setPos(c, at)
	}
}

// ResolveParams interpolates a step's parameters with the run's current
// state and decodes them into the kind's struct, validated.
func (rb *Runbook) ResolveParams(st *Step, env *Env, v Vars) (any, error) {
	if st.Kind == nil {
		return nil, nil
	}
	if len(st.Templates) == 0 && st.Params != nil && st.ForEach == nil {
		return st.Params, nil
	}
	var firstErr error
	node := substitute(st.ParamsNode, func(orig *yaml.Node) *yaml.Node {
		t := st.Templates[orig]
		if t == nil || firstErr != nil {
			return nil
		}
		n, err := t.render(env, v)
		if err != nil {
			firstErr = err
			return nil
		}
		return n
	})
	if firstErr != nil {
		return nil, firstErr
	}
	params, errs := steps.DecodeParams(st.Kind, node)
	if len(errs) > 0 {
		en, zh := make([]string, len(errs)), make([]string, len(errs))
		for i, e := range errs {
			w := decodeWords(e)
			en[i] = fmt.Sprintf("%s:%d:%d: %s: %s", rb.Path, e.Line, e.Column, st.KindName, w.en)
			zh[i] = fmt.Sprintf("%s:%d:%d: %s：%s", rb.Path, e.Line, e.Column, st.KindName, w.zh)
		}
		return nil, &i18n.Error{Text: journal.Text{EN: strings.Join(en, "\n"), ZhTW: strings.Join(zh, "\n")}}
	}
	return params, nil
}

// Items evaluates a for_each list.
func (rb *Runbook) Items(st *Step, env *Env) ([]any, error) {
	if st.ForEach == nil {
		return nil, nil
	}
	if st.ForEach.Items == nil {
		return st.ForEach.List, nil
	}
	v, err := env.Eval(st.ForEach.Items, Vars{})
	if err != nil {
		return nil, err
	}
	rv := reflect.ValueOf(v)
	if v == nil {
		return nil, nil
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, i18n.Errorf("%s: for_each gave %T, not a list", "%s: for_each 之結果為 %T，而非清單", st.ForEach.Items.Pos, v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

// PlaceholderParams decodes a step's parameters with every interpolation
// left as written, for showing a step whose values are known only at run
// time. It returns nil when the kind cannot take the text in place of a
// value.
func (rb *Runbook) PlaceholderParams(st *Step) any {
	if st.Kind == nil {
		return nil
	}
	params, errs := steps.DecodeParams(st.Kind, st.ParamsNode)
	if len(errs) > 0 {
		return nil
	}
	return params
}
