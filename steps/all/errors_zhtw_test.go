package all_test

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// internalErrors are the fmt.Errorf / errors.New calls of the kinds and the
// engine whose English is allowed in a zh-TW run, keyed by file (from the
// repository's root) and the call's format (or its first argument's source
// when that is not a literal), each with the reason. A new entry needs a
// reason a reviewer accepts: an error the operator can read belongs in
// i18n.Errorf.
var internalErrors = map[string]string{
	// The in-process and OpenSSH test servers are test rigs: what they
	// say never reaches an operator.
	"steps/ssh/internal/sshtest/*": "a test SSH server",
	"steps/ssh/internal/sshdrig/*": "a test rig around OpenSSH sshd",
	// The conformance suite and its fake runtime say things to a test.
	"steps/steptest/*": "the kinds' conformance suite, for tests",
	// The host key probe's sentinel ends a handshake on purpose and is
	// replaced by the refusal it leads to; nobody reads it.
	"steps/ssh/transport/hostkey.go: drbook: host key probe": "errProbed, the probe handshake's own stop",
}

// verbs matches a fmt verb with its flags, width and precision.
var verbs = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?(\d+|\*)?(\.(\d+|\*))?[a-zA-Z%]`)

// englishWord matches a run of two letters or more: a word of the
// operator's language, once the verbs are gone.
var englishWord = regexp.MustCompile(`[A-Za-z]{2,}`)

// TestKindAndEngineErrorsAreBilingual reads every non-test Go file of the
// step kinds (steps/…) and the engine and fails on an fmt.Errorf or
// errors.New whose text has English words and that is not given straight
// to i18n.Errorf (whose frame translates it): such an error reaches the
// operator's screen and the zh-TW report in English. Words come from the
// format; an error whose text is not a literal is named too, as nothing
// can say what it holds. Foreign errors (vCenter's, the network's, a
// guest's) are wrapped with %w and never pass through here.
func TestKindAndEngineErrorsAreBilingual(t *testing.T) {
	root := filepath.Join("..", "..")
	var files []string
	for _, dir := range []string{"steps", "engine"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fset := token.NewFileSet()
	checked, used := 0, map[string]bool{}
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if dirKey := filepath.ToSlash(filepath.Dir(rel)) + "/*"; internalErrors[dirKey] != "" {
			used[dirKey] = true
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		// Calls given straight to i18n.Errorf as an argument: its Chinese
		// frame stands around them.
		framed := map[ast.Node]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && isCall(c, "i18n", "Errorf") {
				for _, a := range c.Args[2:] {
					framed[a] = true
				}
			}
			return true
		})
		ast.Inspect(f, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if ok && (isCall(c, "i18n", "Errorf") || isCall(c, "i18n", "New")) {
				checked++
			}
			if !ok || !(isCall(c, "fmt", "Errorf") || isCall(c, "errors", "New")) || len(c.Args) == 0 {
				return true
			}
			checked++
			text, literal := "", false
			if lit, ok := c.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				text, _ = strconv.Unquote(lit.Value)
				literal = true
			} else {
				text = source(fset, c.Args[0])
			}
			key := rel + ": " + text
			if internalErrors[key] != "" {
				used[key] = true
				return true
			}
			if framed[c] || (literal && !englishWord.MatchString(verbs.ReplaceAllString(text, ""))) {
				return true
			}
			t.Errorf("%s: %s(%q) is English in a zh-TW run: make it i18n.Errorf (or i18n.New) in both languages, or add %q to internalErrors with the reason",
				fset.Position(c.Pos()), source(fset, c.Fun), text, key)
			return true
		})
	}
	if checked < 100 {
		t.Fatalf("only %d error calls found under steps/ and engine/: is the walk looking in the right place?", checked)
	}
	for key := range internalErrors {
		if !used[key] {
			t.Errorf("internalErrors[%q] names nothing any more: remove it", key)
		}
	}
}

func isCall(c *ast.CallExpr, pkg, name string) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

func source(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	printer.Fprint(&b, fset, e)
	return b.String()
}
