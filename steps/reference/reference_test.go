package reference

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// TestExplainShowsEveryDeclaredField renders every kind in both languages
// and checks that each parameter (with its type, default and allowed
// values), each result field and each preflight check the kind declares
// is on the page, in the page's language: nothing the kind says is lost
// on the way to the reader.
func TestExplainShowsEveryDeclaredField(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		doc := steps.DocOf(k)
		for _, lang := range []string{"en", "zh-TW"} {
			var b bytes.Buffer
			if err := Explain(&b, k, lang); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			want := []string{name + " — " + steps.Summary(k).In(lang)}
			params := steps.ParamFields(k)
			steps.WalkFields(params, func(f steps.Field) {
				head := "  " + displayPath(params, f.Path) + "  (" + f.TypeName(lang)
				want = append(want, head, "      "+f.Doc.Text.In(lang)+"\n")
				if d := f.DefaultText(); d != "" {
					want = append(want, word(lang, "default")+" "+d)
				}
				if len(f.Doc.Enum) > 0 {
					want = append(want, strings.Join(f.Doc.Enum, ", "))
				}
			})
			results := steps.ResultFields(k)
			steps.WalkFields(results, func(f steps.Field) {
				want = append(want, "  "+displayPath(results, f.Path)+"  ("+f.TypeName(lang)+")\n      "+doc.Result[f.Path].In(lang)+"\n")
			})
			for _, p := range doc.Preflight {
				want = append(want, "  - "+p.In(lang)+"\n")
			}
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("explain %s (%s) lacks %q:\n%s", name, lang, w, page)
				}
			}
		}
	}
}

// TestMarkdownHasEveryKindOnItsFamilyPage checks that each kind has its
// section, with its example, on its family's page in both languages, and
// a row in the index.
func TestMarkdownHasEveryKindOnItsFamilyPage(t *testing.T) {
	reg := all.Registry()
	pages := Markdown(reg)
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		for _, lang := range []string{"en", "zh-TW"} {
			page := string(pages[PageName(steps.Family(name), lang)])
			if !strings.Contains(page, "\n## "+name+"\n") {
				t.Errorf("%s has no section on %s", name, PageName(steps.Family(name), lang))
			}
			if ex := steps.DocOf(k).Example; !strings.Contains(page, indent(ex, "  ")) {
				t.Errorf("%s's example is not on its %s page", name, lang)
			}
			index := "README.md"
			if lang == "zh-TW" {
				index = "README.zh-TW.md"
			}
			if !strings.Contains(string(pages[index]), "[`"+name+"`]("+PageName(steps.Family(name), lang)+"#"+anchor(name)+")") {
				t.Errorf("%s has no row in %s", name, index)
			}
		}
	}
}

// TestListAlignsByDisplayWidth: in Chinese, where a character takes two
// columns, the purpose column still starts at the same place on every
// line, as in English.
func TestListAlignsByDisplayWidth(t *testing.T) {
	reg := all.Registry()
	for _, lang := range []string{"en", "zh-TW"} {
		var b bytes.Buffer
		if err := List(&b, reg, lang); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		lines = lines[:len(reg.Names())+1] // the table, without the closing hint
		col := -1
		for _, l := range lines {
			name, _, _ := strings.Cut(l, " ")
			k, ok := reg.Lookup(name)
			purpose := word(lang, "purpose")
			if ok {
				purpose = steps.Summary(k).In(lang)
			}
			i := strings.LastIndex(l, purpose)
			if i < 0 {
				t.Fatalf("%s: line %q lacks %q", lang, l, purpose)
			}
			at := runewidth.StringWidth(l[:i])
			if col >= 0 && at != col {
				t.Errorf("%s: the purpose column starts at %d on %q, at %d above", lang, at, l, col)
			}
			col = at
		}
	}
}
