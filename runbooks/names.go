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
	st.nameTemplates = l.compileText(rb, st.scope, n, &st.Name, "step name")
}

// compileRunbookTexts renders the ${{ }} in the runbook's title and
// description with its params and site, which is all they can read: they
// head the plan and the report before any step has run.
func (l *loader) compileRunbookTexts(rb *Runbook, fields map[string]*yaml.Node) {
	ss := rb.scope.forStep(&Step{}, nil)
	for key, into := range map[string]*journal.Text{"title": &rb.Title, "description": &rb.Summary} {
		left := l.compileText(rb, ss, fields[key], into, key)
		for _, t := range []*Template{left.en, left.zhTW} {
			if t == nil {
				continue
			}
			for _, p := range t.Parts {
				if p.Expr != nil && p.Expr.Dynamic {
					l.errs.add(p.Expr.Pos, say("the %s can read only params and site, not `%s`", "%s 僅能讀取 params 與 site，不可讀取 `%s`", textWhat(key), p.Expr.Source),
						say("name the value in a step instead", "請改於步驟中為該值命名"))
					break
				}
			}
			break
		}
	}
}

// compileText compiles a text's interpolations in ss and renders into into
// those that read only params and site; it returns the others.
func (l *loader) compileText(rb *Runbook, ss *stepScope, n *yaml.Node, into *journal.Text, what string) nameTemplates {
	if n == nil {
		return nameTemplates{}
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
		return ss.parseTemplate(v, l.file, l.src, false, &l.errs)
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
			l.errs.add(posOf(l.file, t.Node), say("%s: %s", "%s：%s", textWhat(what), err), noHint)
			return nil
		}
		*into = s
		return nil
	}
	return nameTemplates{en: static(tEN, &into.EN), zhTW: static(tZH, &into.ZhTW)}
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

// textWhat names a runbook's text (a key of compileText) in both
// languages.
func textWhat(what string) words {
	switch what {
	case "step name":
		return say("step name", "步驟名稱")
	case "title":
		return say("title", "標題（title）")
	case "description":
		return say("description", "說明（description）")
	}
	return foreign(what)
}
