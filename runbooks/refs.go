package runbooks

import (
	"github.com/expr-lang/expr/ast"
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/steps"
)

// StepRefs returns the ids of the steps whose outcome x reads
// (steps.X.…), in order of first use.
func (x *Expr) StepRefs() []string {
	if x == nil || x.program == nil {
		return nil
	}
	v := &stepRefs{seen: map[string]bool{}}
	node := x.program.Node()
	ast.Walk(&node, v)
	return v.ids
}

type stepRefs struct {
	ids  []string
	seen map[string]bool
}

func (v *stepRefs) Visit(n *ast.Node) {
	m, ok := (*n).(*ast.MemberNode)
	if !ok {
		return
	}
	root, ok := m.Node.(*ast.IdentifierNode)
	prop, ok2 := m.Property.(*ast.StringNode)
	if ok && ok2 && root.Value == "steps" && !v.seen[prop.Value] {
		v.seen[prop.Value] = true
		v.ids = append(v.ids, prop.Value)
	}
}

// StepRefs returns the steps st depends on: those whose outcome its
// parameters, its when condition or its until condition read. A group
// depends on what its branches depend on.
func (st *Step) StepRefs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(x *Expr) {
		for _, id := range x.StepRefs() {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	add(st.When)
	if st.Until != nil {
		add(st.Until.Cond)
	}
	if st.ForEach != nil {
		add(st.ForEach.Items)
	}
	walkScalars(st.ParamsNode, "", func(n *yaml.Node, _ string) {
		if t := st.Templates[n]; t != nil {
			for _, p := range t.Parts {
				add(p.Expr)
			}
		}
	})
	for _, child := range st.Parallel {
		for _, id := range child.StepRefs() {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// PreflightParams decodes st's parameters for a read-only check before the
// run: every value known at load time is rendered, and a value computed
// from earlier steps is left as its ${{ }} text (a list as an empty
// list). Pending maps each such text to the steps it reads, so that a
// preflight can say which step produces it. It returns nil params when
// the kind cannot take the text in place of a value.
func (rb *Runbook) PreflightParams(st *Step) (params any, pending map[string][]string) {
	if st.Kind == nil {
		return nil, nil
	}
	if st.Static {
		return st.Params, nil
	}
	if st.ForEach != nil {
		// Each instance's values come with its item: checked as it runs.
		return nil, nil
	}
	env := rb.StaticEnv()
	pending = map[string][]string{}
	failed := false
	node := substitute(st.ParamsNode, func(orig *yaml.Node) *yaml.Node {
		t := st.Templates[orig]
		if t == nil || failed {
			return nil
		}
		var refs []string
		dynamic := false
		for _, p := range t.Parts {
			if p.Expr != nil && p.Expr.Dynamic {
				dynamic = true
				refs = append(refs, p.Expr.StepRefs()...)
			}
		}
		if dynamic && len(refs) == 0 {
			// vars, item, result or attempt: nothing earlier to name.
			failed = true
			return nil
		}
		if !dynamic {
			n, err := t.render(env, Vars{})
			if err != nil {
				failed = true
				return nil
			}
			return n
		}
		n := placeholderNode(t, orig)
		if n.Kind == yaml.ScalarNode {
			pending[n.Value] = refs
		}
		return n
	})
	if failed {
		return nil, nil
	}
	params, errs := steps.DecodeParams(st.Kind, node)
	if len(errs) > 0 {
		return nil, nil
	}
	return params, pending
}
