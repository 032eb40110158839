package all_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestEveryKindDescribesItselfInBothLanguages describes every step of each
// kind's example, as plan and the prompts do, and fails a kind whose
// description has no Traditional Chinese (Description.ActionZhTW): plan,
// the guided prompt and the zh-TW report would show its English. Whoever
// adds a kind sees this test name it.
func TestEveryKindDescribesItselfInBothLanguages(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		ex := strings.TrimSpace(steps.DocOf(k).Example)
		if ex == "" {
			continue // reported by TestEveryKindIsDocumented
		}
		src := "name: example\nsteps:\n" + indent(ex, "  ")
		rb, err := runbooks.Parse(name+".example.yaml", []byte(src), runbooks.Options{Registry: reg, Site: &site.Site{Name: "example"}})
		if err != nil {
			continue // reported by TestKindExamplesLoad
		}
		described := 0
		for _, st := range rb.AllSteps() {
			if st.KindName != name {
				continue
			}
			// Parameters known only at run time (${{ }} over earlier
			// steps) leave none decoded here: describe the defaults.
			params := st.Params
			if params == nil {
				params = k.NewParams()
			}
			d := k.Describe(params)
			described++
			if strings.TrimSpace(d.Action) == "" {
				t.Errorf("kind %s: Describe gives no Action for step %s of its example (%s)", name, st.ID, filepath.Dir(docsFile(k)))
			}
			if !hasHan(d.ActionZhTW) {
				t.Errorf("kind %s: Describe gives no Traditional Chinese for step %s of its example: set Description.ActionZhTW next to Action (%s); English: %q, zh-TW: %q", name, st.ID, filepath.Dir(docsFile(k)), d.Action, d.ActionZhTW)
			}
		}
		if described == 0 {
			t.Errorf("kind %s: no step of its example could be described", name)
		}
	}
}

// TestKindsSpeakBothLanguages reads the source of every step kind (and of
// package steps itself) and fails on text a kind would show a zh-TW reader
// in English only:
//   - rt.Progress(…) or rt.Note(…) with text of the kind's own: use
//     steps.Say / steps.SayNote with both languages;
//   - a journal.Evidence with a Title and no TitleZhTW;
//   - a journal.Fact with a Key and no KeyZhTW (or journal.Facts);
//   - a journal.Table with Columns and no ColumnsZhTW;
//   - a journal.Moment that drbook words (Source "drbook") with no
//     LabelZhTW (a vCenter event's own message is quoted as it is).
//
// It is a check of the source because these appear only when a step runs
// against a site; what a kind describes before running is checked by
// TestEveryKindDescribesItselfInBothLanguages.
func TestKindsSpeakBothLanguages(t *testing.T) {
	root := ".." // steps/
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "steptest" || d.Name() == "testdata" || d.Name() == "all") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d source files under steps/: the walk is wrong", len(files))
	}
	fset := token.NewFileSet()
	checked := map[string]int{}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		where := func(n ast.Node) string {
			p := fset.Position(n.Pos())
			return strings.TrimPrefix(filepath.ToSlash(p.Filename), "../") + ":" + strconv.Itoa(p.Line)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "rt" && (sel.Sel.Name == "Progress" || sel.Sel.Name == "Note") {
					checked["call"]++
					// say.go's fallback for a runtime without both
					// languages passes the English on as "%s".
					if filepath.Base(path) == "say.go" {
						return true
					}
					t.Errorf("steps/%s: rt.%s says English only: use steps.Say / steps.SayNote with the Traditional Chinese too", where(n), sel.Sel.Name)
				}
			case *ast.CompositeLit:
				typ := typeName(n.Type)
				if at, ok := n.Type.(*ast.ArrayType); ok {
					// []journal.Fact{{Key: …}, …}: check each element.
					if typeName(at.Elt) == "journal.Fact" {
						for _, el := range n.Elts {
							if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
								checked["journal.Fact"]++
								checkPair(t, cl, "Key", "KeyZhTW", "journal.Fact", where(cl))
							}
						}
					}
					return true
				}
				switch typ {
				case "journal.Evidence":
					checked[typ]++
					checkPair(t, n, "Title", "TitleZhTW", typ, where(n))
				case "journal.Fact":
					checked[typ]++
					checkPair(t, n, "Key", "KeyZhTW", typ, where(n))
				case "journal.Table":
					checked[typ]++
					checkPair(t, n, "Columns", "ColumnsZhTW", typ, where(n))
				case "journal.Moment":
					checked[typ]++
					if src, ok := field(n, "Source"); ok {
						if lit, ok := src.(*ast.BasicLit); ok && lit.Value == `"drbook"` {
							checkPair(t, n, "Label", "LabelZhTW", typ, where(n))
						}
					}
				}
			}
			return true
		})
	}
	// The check must have seen what it checks: the kinds journal
	// evidence, facts, tables and timelines.
	for _, typ := range []string{"journal.Evidence", "journal.Fact", "journal.Table", "journal.Moment"} {
		if checked[typ] == 0 {
			t.Errorf("no %s literal found under steps/: the source check no longer sees what kinds journal", typ)
		}
	}
}

func typeName(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name + "." + sel.Sel.Name
		}
	}
	return ""
}

func field(cl *ast.CompositeLit, name string) (ast.Expr, bool) {
	for _, el := range cl.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if id, ok := kv.Key.(*ast.Ident); ok && id.Name == name {
				return kv.Value, true
			}
		}
	}
	return nil, false
}

func checkPair(t *testing.T, cl *ast.CompositeLit, en, zh, typ, where string) {
	t.Helper()
	if _, ok := field(cl, en); !ok {
		return
	}
	if _, ok := field(cl, zh); !ok {
		t.Errorf("steps/%s: %s sets %s without %s: a zh-TW report would show it in English", where, typ, en, zh)
	}
}
