package runbooks

import (
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/journal"
)

// nameTemplates are the interpolations of a step's name, one per language
// (the same template twice when the name is one plain string).
type nameTemplates struct {
	en, zhTW *Template
}

// compileName type-checks the ${{ }} in a step's name against the step's
// scope. A name that reads only params and site is rendered now, so that
// plan, the journal and every report show the value of this run; one that
// reads the loop item or step results is kept for StepName.
func (l *loader) compileName(rb *Runbook, st *Step, n *yaml.Node) {
	if n == nil {
		return
	}
	var en, zh *yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		en, zh = n, n
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "en":
				en = n.Content[i+1]
			case "zh-TW", "zh_TW", "zh-tw":
				zh = n.Content[i+1]
			}
		}
	}
	compile := func(v *yaml.Node) *Template {
		if v == nil || v.Kind != yaml.ScalarNode {
			return nil
		}
		return st.scope.parseTemplate(v, l.file, l.src, false, &l.errs)
	}
	tEN := compile(en)
	tZH := tEN
	if zh != en {
		tZH = compile(zh)
	}
	env := rb.StaticEnv()
	static := func(t *Template, into *string) *Template {
		if t == nil {
			return nil
		}
		for _, p := range t.Parts {
			if p.Expr != nil && p.Expr.Dynamic {
				return t
			}
		}
		s, err := t.Render(env, Vars{})
		if err != nil {
			l.errs.add(posOf(l.file, t.Node), "step name: "+err.Error(), "")
			return nil
		}
		*into = s
		return nil
	}
	st.nameTemplates.en = static(tEN, &st.Name.EN)
	st.nameTemplates.zhTW = static(tZH, &st.Name.ZhTW)
}

// StepName is the step's name for this instance: its ${{ }} that read the
// loop item or step results rendered with the run's current state. A name
// that cannot be rendered keeps its text as written, and so does the name
// of a for_each group as a whole, which has no item to show.
func (rb *Runbook) StepName(st *Step, env *Env, v Vars) journal.Text {
	name := st.Name
	if st.ForEach != nil && v.Item == nil {
		return name
	}
	render := func(t *Template, into *string) {
		if t == nil || env == nil {
			return
		}
		if s, err := t.Render(env, v); err == nil {
			*into = s
		}
	}
	render(st.nameTemplates.en, &name.EN)
	render(st.nameTemplates.zhTW, &name.ZhTW)
	return name
}
