package runbooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// Expr is a compiled expression.
type Expr struct {
	Source string
	Pos    Pos
	// Dynamic is true when the expression reads run-time values (step
	// results, the loop item, the current result or attempt).
	Dynamic bool
	program *vm.Program
	scope   *stepScope
}

// Raw marks a value that must not be shell-quoted when interpolated into a
// command; runbooks write raw(value) to opt out explicitly.
type Raw string

// Template is a YAML scalar with ${{ … }} interpolations.
type Template struct {
	// Parts alternate literal text and expressions.
	Parts []TemplatePart
	// Whole is true when the scalar is exactly one expression: its value
	// keeps its type (a list stays a list, a number a number).
	Whole bool
	// Shell is true when the scalar is a shell command: each interpolated
	// value is quoted for where it stands in the command (see shellslot.go)
	// unless wrapped in raw().
	Shell bool
	Node  *yaml.Node
}

// TemplatePart is literal text or an expression.
type TemplatePart struct {
	Literal string
	Expr    *Expr
	// slot is how a shell field writes the value, decided at load time.
	slot shellSlot
}

// dynamicNames are the variables whose values exist only at run time.
// $env is the whole environment, steps and vars among it.
var dynamicNames = map[string]bool{"steps": true, "vars": true, "item": true, "result": true, "attempt": true, "$env": true}

// scope is the runbook-wide part of the expression environment.
type scope struct {
	paramsType reflect.Type
	siteType   reflect.Type
	stepsType  reflect.Type
	varsType   reflect.Type
	params     reflect.Value
	site       reflect.Value
	// stepField maps a step id to its field index in stepsType.
	stepField map[string]int
	varField  map[string]int
	// order is each step's position in declaration order.
	order map[string]int
	// siteState says whether site names can be checked; firstSiteRef is
	// the first expression that reads site hosts, guests or services.
	siteState    siteState
	firstSiteRef *siteRef
	// failures counts expressions that did not compile, reported or
	// (for a site reference without a site) reported once at the end.
	failures int
	// envs caches the step environments by shape.
	envs map[envKey]*stepEnv
	// static is the environment with no step outcomes, built once.
	static     *Env
	staticOnce sync.Once
	// words names the environment's Go types in an author's terms.
	words *typeWords
	// paramNames, guestNames … feed did-you-mean hints.
	paramNames, guestNames, hostNames, serviceNames, stepNames, varNames []string
}

// stepScope is what one step's expressions see.
type stepScope struct {
	*scope
	step *Step
	env  *stepEnv
	// itemType is the loop variable's type (any when unknown).
	itemType reflect.Type
}

var stepViewTypes sync.Map // reflect.Type (result) -> reflect.Type (view)

func stepViewType(result reflect.Type) reflect.Type {
	if result == nil {
		result = reflect.TypeOf((*struct{})(nil))
	}
	if t, ok := stepViewTypes.Load(result); ok {
		return t.(reflect.Type)
	}
	t := reflect.StructOf([]reflect.StructField{
		{Name: "Status", Type: reflect.TypeOf(""), Tag: `expr:"status" json:"status"`},
		{Name: "Result", Type: result, Tag: `expr:"result" json:"result"`},
		{Name: "Results", Type: reflect.SliceOf(result), Tag: `expr:"results" json:"results"`},
		{Name: "Error", Type: reflect.TypeOf(""), Tag: `expr:"error" json:"error"`},
		{Name: "Attempts", Type: reflect.TypeOf(0), Tag: `expr:"attempts" json:"attempts"`},
		{Name: "Duration", Type: reflect.TypeOf(time.Duration(0)), Tag: `expr:"duration" json:"duration"`},
		// Happened and DoneByHand: see Outcome.
		{Name: "Happened", Type: reflect.TypeOf(false), Tag: `expr:"happened" json:"happened"`},
		{Name: "DoneByHand", Type: reflect.TypeOf(false), Tag: `expr:"done_by_hand" json:"done_by_hand"`},
	})
	stepViewTypes.Store(result, t)
	return t
}

func paramGoType(typ string) reflect.Type {
	switch typ {
	case "int":
		return reflect.TypeOf(0)
	case "bool":
		return reflect.TypeOf(false)
	case "duration":
		return reflect.TypeOf(time.Duration(0))
	case "list":
		return reflect.TypeOf([]string(nil))
	}
	return reflect.TypeOf("")
}

// structOf builds a struct type with one field per name, tagged so that
// expressions use the name as written.
func structOf(names []string, typeOf func(string) reflect.Type) (reflect.Type, map[string]int) {
	fields := make([]reflect.StructField, 0, len(names))
	index := map[string]int{}
	for i, n := range names {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", i),
			Type: typeOf(n),
			Tag:  reflect.StructTag(fmt.Sprintf(`expr:%q json:%q`, n, n)),
		})
		index[n] = i
	}
	return reflect.StructOf(fields), index
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// siteEnv builds the typed view of a site that expressions see: named
// hosts, guests and services become fields, so a misspelt name is caught
// when the runbook is loaded.
func siteEnv(s *site.Site) (reflect.Type, reflect.Value) {
	hostT, hostIdx := structOf(sortedKeys(s.Hosts), func(string) reflect.Type { return reflect.TypeOf(site.Host{}) })
	guestT, guestIdx := structOf(sortedKeys(s.Guests), func(string) reflect.Type { return reflect.TypeOf(site.Guest{}) })
	svcT, svcIdx := structOf(sortedKeys(s.Services), func(string) reflect.Type { return reflect.TypeOf(site.Service{}) })
	t := reflect.StructOf([]reflect.StructField{
		{Name: "Name", Type: reflect.TypeOf(""), Tag: `expr:"name"`},
		{Name: "Lab", Type: reflect.TypeOf(false), Tag: `expr:"lab"`},
		{Name: "VCenter", Type: reflect.TypeOf(site.VCenter{}), Tag: `expr:"vcenter"`},
		{Name: "Hosts", Type: hostT, Tag: `expr:"hosts"`},
		{Name: "Guests", Type: guestT, Tag: `expr:"guests"`},
		{Name: "Services", Type: svcT, Tag: `expr:"services"`},
	})
	v := reflect.New(t).Elem()
	v.Field(0).SetString(s.Name)
	v.Field(1).SetBool(s.Lab)
	if s.VCenter != nil {
		v.Field(2).Set(reflect.ValueOf(*s.VCenter))
	}
	for n, h := range s.Hosts {
		v.Field(3).Field(hostIdx[n]).Set(reflect.ValueOf(h))
	}
	for n, g := range s.Guests {
		v.Field(4).Field(guestIdx[n]).Set(reflect.ValueOf(g))
	}
	for n, sv := range s.Services {
		v.Field(5).Field(svcIdx[n]).Set(reflect.ValueOf(sv))
	}
	return t, v
}

// envKey identifies one shape of step environment: the runbook-wide part
// is the same for every step, so steps differ only in these two types.
type envKey struct{ item, result reflect.Type }

var (
	anyType     = reflect.TypeOf((*any)(nil)).Elem()
	nothingType = reflect.TypeOf((*struct{})(nil))
	// baseKey is the shape of an expression that does not read result
	// (nor an item of a type other than any): the one shape it needs,
	// whatever its step's kind.
	baseKey = envKey{anyType, nothingType}
)

// stepEnv is one environment type and the expr configurations compiled
// against it. A configuration is reused for every expression of that shape:
// expr caches what it learns of the types in it (each field lookup in the
// N-field steps struct), so building one per expression made loading
// quadratic in the number of steps.
//
// The type is built when an expression first needs it: its text spells
// out the whole steps struct (megabytes for 10,000 steps), and
// reflect.StructOf writes that text again for every shape, so building a
// shape per kind up front was half of a long runbook's allocations.
type stepEnv struct {
	key  envKey
	sc   *scope
	once sync.Once
	typ  reflect.Type
	// conf holds the configuration for value (false) and boolean (true)
	// expressions.
	conf [2]*conf.Config
	// programs holds what compiled in this shape, by source, for value
	// (0) and boolean (1) expressions: a program depends only on its
	// source and its configuration, and a long runbook repeats its
	// expressions (site.guests.ap01.address, params.host, item).
	programs [2]map[string]*vm.Program
}

// envType returns the environment's struct type, building it once.
func (e *stepEnv) envType() reflect.Type {
	e.once.Do(func() {
		e.typ = reflect.StructOf([]reflect.StructField{
			{Name: "Params", Type: e.sc.paramsType, Tag: `expr:"params"`},
			{Name: "Site", Type: e.sc.siteType, Tag: `expr:"site"`},
			{Name: "Steps", Type: reflect.PointerTo(e.sc.stepsType), Tag: `expr:"steps"`},
			{Name: "Vars", Type: reflect.PointerTo(e.sc.varsType), Tag: `expr:"vars"`},
			{Name: "Item", Type: e.key.item, Tag: `expr:"item"`},
			{Name: "Result", Type: e.key.result, Tag: `expr:"result"`},
			{Name: "Attempt", Type: reflect.TypeOf(0), Tag: `expr:"attempt"`},
		})
	})
	return e.typ
}

func (e *stepEnv) config(boolean bool) *conf.Config {
	i := 0
	if boolean {
		i = 1
	}
	if e.conf[i] == nil {
		c := conf.CreateNew()
		expr.Env(reflect.New(e.envType()).Elem().Interface())(c)
		rawFunc(c)
		if boolean {
			expr.AsBool()(c)
		}
		c.Check()
		e.conf[i] = c
	}
	return e.conf[i]
}

// shape returns the environment of one shape, made (not yet built) on
// first use.
func (sc *scope) shape(key envKey) *stepEnv {
	if env, ok := sc.envs[key]; ok {
		return env
	}
	env := &stepEnv{key: key, sc: sc}
	if sc.envs == nil {
		sc.envs = map[envKey]*stepEnv{}
	}
	sc.envs[key] = env
	return env
}

func (sc *scope) forStep(st *Step, itemType reflect.Type) *stepScope {
	if itemType == nil {
		itemType = anyType
	}
	resultT := st.ResultType()
	if resultT == nil {
		resultT = nothingType
	}
	return &stepScope{scope: sc, step: st, env: sc.shape(envKey{itemType, resultT}), itemType: itemType}
}

var rawFunc = expr.Function("raw", func(p ...any) (any, error) {
	return Raw(fmt.Sprint(p[0])), nil
}, new(func(any) Raw))

// compile parses and type-checks src in the step's scope. kind is "when",
// "until", "assert" (boolean) or "value".
func (ss *stepScope) compile(src string, pos Pos, boolean bool, errs *ErrorList) *Expr {
	src = strings.TrimSpace(src)
	if src == "" {
		errs.add(pos, say("empty expression", "運算式為空"), noHint)
		return nil
	}
	e := ss.compileChecked(src, pos, boolean, errs)
	if e == nil {
		ss.failures++
	}
	return e
}

func (ss *stepScope) compileChecked(src string, pos Pos, boolean bool, errs *ErrorList) *Expr {
	// The parser reads only what every shape shares (functions, limits),
	// so the base shape's configuration parses for all of them.
	c := ss.shape(baseKey).config(boolean)
	tree, err := parser.ParseWithConfig(src, c)
	if err != nil {
		errs.add(exprPos(pos, err), say("expression: %s", "運算式：%s", parserWords(exprMsg(err))), noHint)
		return nil
	}
	e := &Expr{Source: src, Pos: pos, scope: ss}
	shaped, ok := ss.checkNames(&tree.Node, e, pos, errs)
	if !ok {
		return nil
	}
	if !shaped && ss.env.key != baseKey {
		// The expression reads nothing whose type is the step's own, so
		// every name has the same type in the base shape: check it there,
		// and build no environment for this step's shape.
		e.scope = &stepScope{scope: ss.scope, step: ss.step, env: ss.shape(baseKey), itemType: ss.itemType}
	} else if shaped {
		c = ss.env.config(boolean)
	}
	// The names were checked above for this step (steps.X must come
	// before it); what the type check and the compiler make of the text
	// does not depend on the step. Only programs that compiled are kept,
	// so each wrong expression is reported where it is written.
	env, b := e.scope.env, 0
	if boolean {
		b = 1
	}
	if prog := env.programs[b][src]; prog != nil {
		e.program = prog
		return e
	}
	prog, err := compileTree(c, tree)
	if err != nil {
		msg, hint := ss.words.humanize(exprMsg(err))
		errs.add(exprPos(pos, err), say("expression `%s`: %s", "運算式 `%s`：%s", src, msg), hint)
		return nil
	}
	if env.programs[b] == nil {
		// Sized for a few expressions a step, so that the map is not
		// rehashed over and over as a long runbook fills it.
		env.programs[b] = make(map[string]*vm.Program, 2*len(ss.order))
	}
	env.programs[b][src] = prog
	e.program = prog
	return e
}

// compileTree is expr.Compile of a parsed expression, with a
// configuration built once per environment shape.
func compileTree(c *conf.Config, tree *parser.Tree) (*vm.Program, error) {
	if _, err := new(checker.Checker).PatchAndCheck(tree, c); err != nil {
		return nil, err
	}
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, c); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	return compiler.Compile(tree, c)
}

func exprPos(pos Pos, err error) Pos {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line <= 1 && pos.Line > 0 {
		pos.Column += fe.Column
	}
	return pos
}

var unexpectedToken = regexp.MustCompile(`^unexpected token (.+)$`)

// parserWords is a syntax error of expr in both languages: the common
// one in drbook's words, any other as expr says it.
func parserWords(msg string) words {
	if msg == "unexpected token EOF" {
		return say("unexpected token EOF", "尚未寫完即結束")
	}
	if m := unexpectedToken.FindStringSubmatch(msg); m != nil {
		return say("unexpected token %s", "此處不應出現 %s", m[1])
	}
	return foreign(msg)
}

func exprMsg(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}

// checkNames gives precise messages for names the author can misspell:
// params.X, steps.X (which must come earlier), vars.X and site.guests.X.
// shaped is true when the expression names item or result with a type
// that depends on the step.
func (ss *stepScope) checkNames(root *ast.Node, e *Expr, pos Pos, errs *ErrorList) (shaped, ok bool) {
	v := &nameChecker{ss: ss, e: e, pos: pos, errs: errs, ok: true}
	ast.Walk(root, v)
	return v.shaped, v.ok
}

type nameChecker struct {
	// at is the node a failure is about.
	at   ast.Node
	ss   *stepScope
	e    *Expr
	pos  Pos
	errs *ErrorList
	ok   bool
	// shaped: the expression reads a name whose type depends on the
	// step: result, item when it is not of type any, or $env (the whole
	// environment).
	shaped bool
}

func (v *nameChecker) Visit(n *ast.Node) {
	switch node := (*n).(type) {
	case *ast.IdentifierNode:
		if dynamicNames[node.Value] {
			v.e.Dynamic = true
		}
		// The loop item has the base shape's type (any) unless the step
		// gave it another.
		if node.Value == "result" || node.Value == "$env" || (node.Value == "item" && v.ss.env.key.item != anyType) {
			v.shaped = true
		}
		if node.Value == "item" && v.ss.step.ForEach == nil {
			v.at = node
			v.fail(say("`item` is only defined in a step with for_each", "`item` 僅於含 for_each 之步驟中有定義"), noHint)
		}
	case *ast.MemberNode:
		root, ok := node.Node.(*ast.IdentifierNode)
		prop, ok2 := node.Property.(*ast.StringNode)
		if ok && ok2 {
			v.at = root
			v.member(root.Value, prop.Value)
			return
		}
		inner, ok := node.Node.(*ast.MemberNode)
		if !ok || !ok2 {
			return
		}
		r, ok := inner.Node.(*ast.IdentifierNode)
		mid, ok2 := inner.Property.(*ast.StringNode)
		if !ok || !ok2 || r.Value != "site" {
			return
		}
		v.at = r
		if v.ss.siteState != siteGiven && (mid.Value == "guests" || mid.Value == "hosts" || mid.Value == "services") {
			// Without a site (or with one that failed to load, already
			// reported) a name cannot be checked: say so once, not once
			// per name.
			v.needsSite("site." + mid.Value + "." + prop.Value)
			return
		}
		var names []string
		var what words
		switch mid.Value {
		case "guests":
			names, what = v.ss.guestNames, say("guest", "客體")
		case "hosts":
			names, what = v.ss.hostNames, say("host", "主機")
		case "services":
			names, what = v.ss.serviceNames, say("service", "服務")
		default:
			return
		}
		if !contains(names, prop.Value) {
			v.fail(say("the site has no %s %q", "場域沒有%s %q", what, prop.Value), hintFor(prop.Value, names, what))
		}
	}
}

func (v *nameChecker) member(root, prop string) {
	switch root {
	case "params":
		if !contains(v.ss.paramNames, prop) {
			v.fail(say("unknown parameter %q", "未知之參數 %q", prop), hintFor(prop, v.ss.paramNames, say("parameters", "參數")))
		}
	case "vars":
		if !contains(v.ss.varNames, prop) {
			v.fail(say("no step registers %q", "沒有步驟以 register 登記 %q", prop), hintFor(prop, v.ss.varNames, say("registered names", "已登記之名稱")))
		}
	case "steps":
		idx, ok := v.ss.order[prop]
		if !ok {
			v.fail(say("unknown step %q", "未知之步驟 %q", prop), hintFor(prop, v.ss.stepNames, say("step ids", "步驟 id")))
			return
		}
		if me, ok := v.ss.order[v.ss.step.ID]; ok && idx >= me {
			v.fail(say("step %q is not run before this one, so its result is not known here", "步驟 %q 不在本步驟之前執行，此處無從得知其結果", prop),
				say("move the step, or refer to a step above this one", "請移動該步驟，或改為參照本步驟上方之步驟"))
		}
	}
}

func (v *nameChecker) needsSite(text string) {
	v.ok = false
	pos := v.pos
	if from := v.at.Location().From; from > 0 && !strings.Contains(v.e.Source, "\n") {
		pos.Column += from
	}
	if f := v.ss.firstSiteRef; f == nil || pos.Line < f.pos.Line || (pos.Line == f.pos.Line && pos.Column < f.pos.Column) {
		v.ss.firstSiteRef = &siteRef{pos: pos, text: text}
	}
}

func (v *nameChecker) fail(msg, hint words) {
	v.ok = false
	pos := v.pos
	if v.at != nil {
		// At the name, when the expression is on one line.
		if from := v.at.Location().From; from > 0 && !strings.Contains(v.e.Source, "\n") {
			pos.Column += from
		}
	}
	v.errs.add(pos, say("expression `%s`: %s", "運算式 `%s`：%s", v.e.Source, msg), hint)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hintFor suggests the name nearest to word, or lists the names (what,
// in the plural in English).
func hintFor(word string, names []string, what words) words {
	if best := steps.Closest(word, names); best != "" {
		return say("did you mean %q?", "是否為 %q？", best)
	}
	if len(names) == 0 {
		return say("there are no %s", "沒有任何%s", what.spaced())
	}
	if len(names) > 12 {
		names = names[:12]
	}
	return say("known %s: %s", "已知之%s：%s", what.spaced(), strings.Join(names, ", "))
}

// parseTemplate finds ${{ … }} in a scalar and compiles each expression.
// It returns nil when the scalar has none.
func (ss *stepScope) parseTemplate(n *yaml.Node, file string, srcText *sourceText, shell bool, errs *ErrorList) *Template {
	s := n.Value
	if !strings.Contains(s, "${{") {
		return nil
	}
	t := &Template{Shell: shell, Node: n}
	pos := posOf(file, n)
	// Each ${{ is found again in the source text, so that quotes, escapes,
	// wide characters and block scalars do not shift the reported column.
	srcOff := -1
	if srcText != nil {
		srcOff = srcText.offset(n.Line, n.Column)
	}
	rest := s
	offset := 0
	failed := false
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				t.Parts = append(t.Parts, TemplatePart{Literal: rest})
			}
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			errs.add(pos, say("unterminated ${{ … }}: add the closing }}", "${{ … }} 沒有結束：請補上結尾之 }}"), noHint)
			return nil
		}
		if i > 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: rest[:i]})
		}
		src := rest[i+3 : i+j]
		lead := len(src) - len(strings.TrimLeft(src, " \t\n\r"))
		epos := pos
		if srcOff >= 0 {
			if k := strings.Index(srcText.text[srcOff:], "${{"); k >= 0 {
				start := srcText.advance(srcOff+k+3, utf8.RuneCountInString(src[:lead]))
				epos = srcText.pos(file, start)
				srcOff = srcOff + k + 3
			} else {
				srcOff = -1
			}
		}
		if srcOff < 0 {
			epos.Column += utf8.RuneCountInString(s[:offset+i+3+lead])
			if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
				epos.Column++ // the opening quote
			}
		}
		e := ss.compile(src, epos, false, errs)
		if e == nil {
			failed = true
		}
		t.Parts = append(t.Parts, TemplatePart{Expr: e})
		offset += i + j + 2
		rest = rest[i+j+2:]
	}
	if failed {
		return nil
	}
	t.Whole = len(t.Parts) == 1 && t.Parts[0].Expr != nil
	if shell && !placeShellTemplate(t, file, errs) {
		return nil
	}
	return t
}

// Env is the run-time state expressions read: parameter values, the site,
// and the outcomes of steps that have run. It is safe for concurrent use.
type Env struct {
	mu    sync.RWMutex
	sc    *scope
	steps reflect.Value // pointer to stepsType
	vars  reflect.Value // pointer to varsType
}

// Outcome is what a finished step contributes to the environment.
type Outcome struct {
	Status   string
	Result   any // pointer of the kind's result type, or nil
	Results  []any
	Error    string
	Attempts int
	Duration time.Duration
	// Happened (steps.X.happened) is true when the step's action may be in
	// effect: it ran (ok, or failed or was stopped after it began acting)
	// or the operator did it by hand. It is false for a skipped step and
	// one never reached. Guards of recovery steps use it: `when:
	// steps.shut.happened` powers the host back on also when the operator
	// shut it down by hand.
	Happened bool
	// DoneByHand (steps.X.done_by_hand) is true when the operator did the
	// step by hand instead of drbook (status "done-by-hand").
	DoneByHand bool
}

// NewEnv returns an empty run-time environment for rb.
func (rb *Runbook) NewEnv() *Env {
	return &Env{sc: rb.scope, steps: reflect.New(rb.scope.stepsType), vars: reflect.New(rb.scope.varsType)}
}

// Record stores a step's outcome (and its registered name).
func (e *Env) Record(st *Step, o Outcome) {
	e.mu.Lock()
	defer e.mu.Unlock()
	idx, ok := e.sc.stepField[st.ID]
	if !ok {
		return
	}
	f := e.steps.Elem().Field(idx)
	f.Field(0).SetString(o.Status)
	if o.Result != nil && reflect.TypeOf(o.Result).AssignableTo(f.Field(1).Type()) {
		f.Field(1).Set(reflect.ValueOf(o.Result))
		if st.Register != "" {
			e.vars.Elem().Field(e.sc.varField[st.Register]).Set(reflect.ValueOf(o.Result))
		}
	}
	if o.Results != nil {
		list := reflect.MakeSlice(f.Field(2).Type(), 0, len(o.Results))
		for _, r := range o.Results {
			rv := reflect.Zero(f.Field(2).Type().Elem())
			if r != nil && reflect.TypeOf(r).AssignableTo(rv.Type()) {
				rv = reflect.ValueOf(r)
			}
			list = reflect.Append(list, rv)
		}
		f.Field(2).Set(list)
	}
	f.Field(3).SetString(o.Error)
	f.Field(4).SetInt(int64(o.Attempts))
	f.Field(5).SetInt(int64(o.Duration))
	f.Field(6).SetBool(o.Happened)
	f.Field(7).SetBool(o.DoneByHand)
}

// DecodeResult decodes a journaled result into st's result type.
func DecodeResult(st *Step, raw []byte) (any, error) {
	if st.Kind == nil || len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	r := st.Kind.NewResult()
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Vars are the per-evaluation variables.
type Vars struct {
	Item    any
	Result  any
	Attempt int
}

func (e *Env) value(ss *stepScope, v Vars) any {
	env := reflect.New(ss.env.envType()).Elem()
	env.Field(0).Set(ss.params)
	env.Field(1).Set(ss.site)
	env.Field(2).Set(e.steps)
	env.Field(3).Set(e.vars)
	if v.Item != nil {
		iv := reflect.ValueOf(v.Item)
		if iv.Type().AssignableTo(env.Field(4).Type()) {
			env.Field(4).Set(iv)
		}
	}
	if v.Result != nil {
		rv := reflect.ValueOf(v.Result)
		if rv.Type().AssignableTo(env.Field(5).Type()) {
			env.Field(5).Set(rv)
		}
	}
	env.Field(6).SetInt(int64(v.Attempt))
	return env.Interface()
}

// Eval evaluates x with the current state and per-evaluation variables.
func (e *Env) Eval(x *Expr, v Vars) (any, error) {
	e.mu.RLock()
	env := e.value(x.scope, v)
	e.mu.RUnlock()
	out, err := expr.Run(x.program, env)
	if err != nil {
		msg, _ := x.scope.words.humanize(exprMsg(err))
		at := fmt.Sprintf("%s:%d:%d", x.Pos.File, x.Pos.Line, x.Pos.Column)
		return nil, &i18n.Error{Text: journal.Text{EN: fmt.Sprintf("%s: expression `%s`: %s", at, x.Source, msg.en), ZhTW: fmt.Sprintf("%s: 運算式 `%s`：%s", at, x.Source, msg.zh)}}
	}
	return out, nil
}

// EvalBool evaluates a condition.
func (e *Env) EvalBool(x *Expr, v Vars) (bool, error) {
	out, err := e.Eval(x, v)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		w := x.scope.typeWordsIn(reflect.TypeOf(out))
		at := fmt.Sprintf("%s:%d:%d", x.Pos.File, x.Pos.Line, x.Pos.Column)
		return false, &i18n.Error{Text: journal.Text{EN: fmt.Sprintf("%s: expression `%s` gave %s, not true or false", at, x.Source, w.en),
			ZhTW: fmt.Sprintf("%s: 運算式 `%s` 之結果為%s，而非 true 或 false", at, x.Source, w.spaced().zh)}}
	}
	return b, nil
}

// StaticEnv is an environment with no step outcomes, for plan and
// validate: dynamic expressions evaluate against zero values.
// It is built once: nothing records outcomes into it.
func (rb *Runbook) StaticEnv() *Env {
	rb.scope.staticOnce.Do(func() { rb.scope.static = rb.NewEnv() })
	return rb.scope.static
}
