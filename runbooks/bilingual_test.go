package runbooks

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/drbook/drbook/i18n"
)

// TestEveryProblemIsWordedInBothLanguages reads the loader's and the
// kinds' parameter checks as Go source and fails on a problem that has no
// Chinese text, so that a new message cannot be English alone:
//   - say(en, zh, …) and steps.Fieldf(field, en, zh, …) take literal
//     formats; a zh with no Chinese where en has English words, or with
//     other verbs than en, is a finding;
//   - pair and foreign take computed text only (a literal is drbook's own
//     words, which go through say);
//   - a Problem, DecodeError or FieldError literal that sets Msg sets
//     MsgZhTW too, and words{…} is written only by its constructors.
func TestEveryProblemIsWordedInBothLanguages(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.go", "../steps/*.go", "../steps/*/*.go", "../steps/*/*/*.go", "../site/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	fset := token.NewFileSet()
	checked, says := 0, 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		findings, n := bilingualFindings(fset, file)
		for _, msg := range findings {
			t.Error(msg)
		}
		checked++
		says += n
	}
	if checked < 30 || says < 200 {
		t.Fatalf("checked %d files and %d bilingual texts; the globs found too little", checked, says)
	}
	t.Logf("%d files, %d texts worded in both languages", checked, says)
}

// TestBilingualFindingsFindEnglishAlone keeps the checker honest.
func TestBilingualFindingsFindEnglishAlone(t *testing.T) {
	const src = `package runbooks
func f() {
	l.errs.add(pos, say("unknown thing %q", "", name), noHint)
	l.errs.add(pos, say("unknown thing %q", "unknown thing %q", name), noHint)
	l.errs.add(pos, say("unknown thing %q", "未知之項目 %d", name), noHint)
	l.errs.add(pos, foreign("drbook's own words"), pair("a", "b"))
	l.errs.add(pos, foreign(fmt.Sprintf("no %s", x)), foreign("x: "+err.Error()))
	_ = Problem{Pos: pos, Msg: "english only"}
	_ = steps.FieldError{Field: "x", Msg: "must be set"}
	_ = steps.Fieldf("x", "must be set", "must be set")
	_ = words{en: "a", zh: "b"}
	_ = i18n.Errorf("no such %s", "no such %s", x)
	l.errs.add(pos, say("%s: %s", "%s：%s", a, b), say("did you mean %q?", "是否為 %q？", best))
	_ = i18n.Errorf("%s: edit %d", "%[1]s：第 %[3]d 項", file, n, nZh)
}
func (s *X) UnmarshalYAML(n *yaml.Node) error { return fmt.Errorf("bad %s", n.Value) }`
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "bad.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := bilingualFindings(fset, file)
	if len(got) != 14 {
		t.Fatalf("want 14 findings (lines 3 to 12, 14, 16), got %d:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, g := range got {
		if strings.Contains(g, "bad.go:13:") {
			t.Errorf("a bilingual line was flagged: %s", g)
		}
	}
}

// isPkg reports whether fun is a function of the package imported as pkg.
func isPkg(fun ast.Expr, pkg string) bool {
	s, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := s.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// ownWords reports whether e is text drbook writes: a string literal, a
// Sprintf of one or a sum holding one.
func ownWords(e ast.Expr, lit func(ast.Expr) (string, bool)) bool {
	switch x := e.(type) {
	case *ast.BasicLit:
		_, ok := lit(x)
		return ok
	case *ast.BinaryExpr:
		return ownWords(x.X, lit) || ownWords(x.Y, lit)
	case *ast.CallExpr:
		if s, ok := x.Fun.(*ast.SelectorExpr); ok && strings.HasSuffix(s.Sel.Name, "printf") && len(x.Args) > 0 {
			return ownWords(x.Args[0], lit)
		}
	case *ast.ParenExpr:
		return ownWords(x.X, lit)
	}
	return false
}

var (
	goVerb      = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z%]`)
	inBackticks = regexp.MustCompile("`[^`]*`")
	// englishWord is a word of two letters or more that is not a key,
	// a kind or a value written in the runbook (those are kept in zh-TW).
	englishWord = regexp.MustCompile(`\b[A-Za-z]{2,}\b`)
)

// bilingualFindings lists what in file is worded in English alone, and
// counts the texts worded in both.
func bilingualFindings(fset *token.FileSet, file *ast.File) (findings []string, texts int) {
	at := func(n ast.Node) string { return fset.Position(n.Pos()).String() }
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	// checkPair checks an English and a Chinese format over nargs
	// arguments (-1: not known, args...). The Chinese may leave out an
	// argument or use one of its own (numbered verbs); an argument both
	// use, both format alike. computedOK: the
	// texts may be computed (i18n.New of two texts made elsewhere;
	// TestKindAndEngineErrorsAreBilingual in steps/all judges the kinds'
	// errors), else they must be literals.
	checkPair := func(call ast.Node, enE, zhE ast.Expr, computedOK bool, nargs int) {
		if a, ok := enE.(*ast.Ident); ok {
			if b, ok := zhE.(*ast.Ident); ok && a.Name == "en" && b.Name == "zh" {
				return // a wrapper passing its own en, zh on: checked where it is called
			}
		}
		en, ok1 := lit(enE)
		zh, ok2 := lit(zhE)
		if !ok1 || !ok2 {
			if !computedOK {
				findings = append(findings, at(call)+": the English and Chinese formats must be literals")
			}
			return
		}
		texts++
		words := englishWord.FindAllString(goVerb.ReplaceAllString(inBackticks.ReplaceAllString(en, ""), ""), -1)
		if len(words) > 0 && !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			// A frame of names only ("check.http %s: %w", "BMC %s: %w",
			// "assert: %w") is the same in Chinese but for its
			// punctuation: names (with a dot or underscore, capitals
			// inside, or all capitals) and at most one plain word (a
			// command's name), each kept in the Chinese.
			plain := 0
			for _, tok := range strings.Fields(goVerb.ReplaceAllString(inBackticks.ReplaceAllString(en, ""), "")) {
				tok = strings.Trim(tok, ":;,()→")
				if !englishWord.MatchString(tok) {
					continue
				}
				if !strings.Contains(zh, tok) {
					plain = 2
					break
				}
				if !strings.ContainsAny(tok, "._") && strings.ToLower(tok) == tok {
					plain++
				}
			}
			if plain > 1 {
				findings = append(findings, fmt.Sprintf("%s: %q has no Chinese text (got %q)", at(call), en, zh))
				return
			}
		}
		a, b := argVerbs(en), argVerbs(zh)
		for i := range min(len(a), len(b)) {
			if a[i] != "" && b[i] != "" && a[i] != b[i] {
				findings = append(findings, fmt.Sprintf("%s: %q and %q format argument %d otherwise (%s / %s)", at(call), en, zh, i+1, a[i], b[i]))
				return
			}
		}
		// fmt appends "%!(EXTRA …)" to a format that leaves arguments
		// unused and numbers none of its verbs.
		if nargs >= 0 {
			for _, f := range []string{en, zh} {
				if !argIndex.MatchString(f) && len(argVerbs(f)) < nargs {
					findings = append(findings, fmt.Sprintf("%s: %q uses %d of its %d arguments without numbering its verbs: fmt prints %%!(EXTRA …)", at(call), f, len(argVerbs(f)), nargs))
					return
				}
			}
		}
	}
	constructors := map[string]bool{"say": true, "foreign": true, "errWords": true, "pair": true, "problemWords": true}
	var fn string
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.FuncDecl:
			fn = x.Name.Name
		case *ast.CallExpr:
			name := ""
			switch f := x.Fun.(type) {
			case *ast.Ident:
				name = f.Name
			case *ast.SelectorExpr:
				name = f.Sel.Name
			}
			switch {
			case strings.HasPrefix(fn, "Unmarshal") && (name == "Errorf" || name == "New") && !isPkg(x.Fun, "i18n"):
				// A parameter's own decoding error is shown as it is
				// (Problem.Quoted) unless it is bilingual.
				findings = append(findings, at(x)+": "+fn+" returns an English-only error; use i18n.Errorf or i18n.New")
			case isPkg(x.Fun, "i18n") && name == "Errorf" && len(x.Args) >= 2, isPkg(x.Fun, "i18n") && name == "New" && len(x.Args) == 2:
				checkPair(x, x.Args[0], x.Args[1], true, nargs(x, 2))
			case name == "say" && len(x.Args) >= 2:
				checkPair(x, x.Args[0], x.Args[1], false, nargs(x, 2))
			case (name == "Fieldf" || name == "bad") && len(x.Args) >= 3:
				checkPair(x, x.Args[1], x.Args[2], false, nargs(x, 3))
			case (name == "pair" || name == "foreign") && len(x.Args) >= 1:
				for _, a := range x.Args {
					if ownWords(a, lit) {
						findings = append(findings, at(x)+": "+name+" of drbook's own words (a literal, Sprintf or a sum with one): they go through say")
						break
					}
				}
			}
		case *ast.CompositeLit:
			typ := ""
			switch tt := x.Type.(type) {
			case *ast.Ident:
				typ = tt.Name
			case *ast.SelectorExpr:
				typ = tt.Sel.Name
			}
			switch typ {
			case "words":
				if !constructors[fn] && len(x.Elts) > 0 {
					findings = append(findings, at(x)+": words{…} outside its constructors; use say, pair or foreign")
				}
			case "Problem", "DecodeError", "FieldError":
				has := map[string]bool{}
				for _, el := range x.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok {
							has[k.Name] = true
						}
					}
				}
				if has["Msg"] && !has["MsgZhTW"] {
					findings = append(findings, at(x)+": "+typ+" with Msg but no MsgZhTW")
				}
			}
		}
		return true
	})
	return findings, texts
}

// argVerbs is which verb each argument of a format gets, in argument
// order ("" for one it leaves out), with explicit indexes (%[2]s)
// resolved as fmt does: the Chinese may put the arguments in another
// order, never format them otherwise.
func argVerbs(format string) []string {
	byArg := map[int]string{}
	next, last := 1, 0
	for _, v := range goVerb.FindAllString(format, -1) {
		if v == "%%" {
			continue
		}
		if m := argIndex.FindStringSubmatch(v); m != nil {
			next, _ = strconv.Atoi(m[1])
			v = strings.Replace(v, m[0], "", 1)
		}
		byArg[next] = v
		last = max(last, next)
		next++
	}
	out := make([]string, 0, last)
	for i := 1; i <= last; i++ {
		out = append(out, byArg[i])
	}
	return out
}

// nargs is the number of a call's arguments after its first skip ones, or
// -1 when they end in args....
func nargs(call *ast.CallExpr, skip int) int {
	if call.Ellipsis.IsValid() {
		return -1
	}
	return len(call.Args) - skip
}

var argIndex = regexp.MustCompile(`\[(\d+)\]`)

// TestWrappedProblemsReadInChinese: a command that wraps the loader's
// problems in its own error still shows them in Chinese through i18n.In.
func TestWrappedProblemsReadInChinese(t *testing.T) {
	_, err := ParseSite("x.site.yaml", []byte("vcenter: {url: http://vc}\n"))
	if err == nil {
		t.Fatal("want problems")
	}
	wrapped := fmt.Errorf("check the site file: %w", err)
	zh := i18n.In(wrapped, "zh-TW")
	if !strings.HasPrefix(zh, "check the site file: x.site.yaml:1:") || !strings.Contains(zh, "場域須有名稱") || strings.Contains(zh, "needs a name") {
		t.Fatalf("i18n.In = %q", zh)
	}
	if en := i18n.In(wrapped, "en"); en != wrapped.Error() || !strings.Contains(en, "the site needs a name") {
		t.Fatalf("English = %q", en)
	}
}
