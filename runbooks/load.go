package runbooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// Options control a load.
type Options struct {
	// Registry holds the step kinds; required.
	Registry *steps.Registry
	// Vars are --var overrides, as text, by parameter name.
	Vars map[string]string
	// Site, when set, is used instead of any site file (e.g. the lab).
	Site *site.Site
	// SitePath overrides the runbook's own `site:` entry.
	SitePath string
	// Values are typed parameter values (as a journal holds them, after a
	// JSON round trip) applied before Vars; resume uses them so that a
	// run continues with exactly the values it started with.
	Values map[string]any
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

var topLevelKeys = []string{"name", "title", "description", "owner", "version", "site", "rto", "params", "monitors", "steps", "on_failure", "finally", "labels"}
var stepKeys = []string{"id", "name", "when", "timeout", "retry", "until", "register", "continue_on_error", "confirm", "expect", "disruptive", "recovery", "parallel", "concurrency", "for_each", "as"}
var paramTypes = []string{"string", "int", "bool", "duration", "list", "host", "guest"}

// Load reads, decodes and validates a runbook. The error, when not nil, is
// an *ErrorList holding every problem found, or a file error.
func Load(path string, opts Options) (*Runbook, error) {
	return LoadContext(context.Background(), path, opts)
}

// LoadContext is Load that stops when ctx is done (Ctrl-C during the
// validation of a long runbook); the error then wraps ctx's error.
func LoadContext(ctx context.Context, path string, opts Options) (*Runbook, error) {
	src, err := readSource(path)
	if err != nil {
		return nil, err
	}
	return ParseContext(ctx, path, src, opts)
}

// Parse is Load for a runbook already in memory.
func Parse(path string, src []byte, opts Options) (*Runbook, error) {
	return ParseContext(context.Background(), path, src, opts)
}

// ParseContext is Parse that stops when ctx is done.
func ParseContext(ctx context.Context, path string, src []byte, opts Options) (*Runbook, error) {
	if err := ctx.Err(); err != nil {
		return nil, loadingStopped(path, err)
	}
	l := &loader{file: path, reg: opts.Registry, src: newSourceText(src), ctx: ctx}
	l.errs.addSource(path, src)
	sum := sha256.Sum256(src)
	rb := &Runbook{Path: path, Source: src, SHA256: hex.EncodeToString(sum[:]), Values: map[string]any{}}
	doc, bad := decodeOne(path, say("runbook", "演練手冊"), src, l.src)
	if bad != nil {
		l.errs.Problems = append(l.errs.Problems, *bad)
		return nil, l.errs.err()
	}
	if len(doc.Content) == 0 {
		l.errs.add(Pos{File: path, Line: 1, Column: 1}, say("the runbook is empty", "演練手冊內容為空"), say("a runbook needs at least `name:` and `steps:`", "演練手冊至少須有 `name:` 與 `steps:`"))
		return nil, l.errs.err()
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		l.errs.add(posOf(path, root), say("a runbook must be a mapping with name:, steps: and so on", "演練手冊須為含 name:、steps: 等欄位之對應（mapping）"), noHint)
		return nil, l.errs.err()
	}
	fields := l.mapping(root, topLevelKeys, say("top-level field", "最上層欄位"))
	if n := fields["name"]; n == nil {
		l.errs.add(posOf(path, root), say("missing `name:`", "缺少 `name:`"), say("give the runbook a short name such as ha-host-failure", "請為演練手冊取一個簡短名稱，例如 ha-host-failure"))
	} else if l.scalar(n, &rb.Name) && !namePattern.MatchString(rb.Name) {
		l.errs.add(posOf(path, n), say("name %q must be lower case letters, digits, '-', '_' or '.'", "名稱 %q 僅能使用小寫英文字母、數字、'-'、'_' 或 '.'", rb.Name), noHint)
	}
	l.text(fields["title"], &rb.Title)
	l.text(fields["description"], &rb.Summary)
	l.scalar(fields["owner"], &rb.Owner)
	l.scalar(fields["version"], &rb.Version)
	l.scalar(fields["site"], &rb.SitePath)
	if n := fields["rto"]; n != nil {
		rb.RTO = l.duration(n)
	}
	if n := fields["labels"]; n != nil {
		if err := n.Decode(&rb.Labels); err != nil {
			l.errs.add(posOf(path, n), say("labels must be a mapping of text to text", "labels 須為文字對文字之對應（mapping）"), noHint)
		}
	}

	// The site comes first: parameters of type host or guest and
	// expressions over site.* are checked against it.
	switch {
	case opts.Site != nil:
		rb.Site = opts.Site
	case opts.SitePath != "" || rb.SitePath != "":
		sp := opts.SitePath
		if sp == "" {
			sp = filepath.Join(filepath.Dir(path), rb.SitePath)
		}
		s, sum, err := LoadSite(sp)
		if err != nil {
			if el, ok := err.(*ErrorList); ok && len(el.Problems) == 1 && el.Problems[0].Pos.Line == 0 {
				// The file itself is missing or unreadable: say so where
				// the runbook names it.
				l.errs.add(posOf(path, fields["site"]), say("%s: %s", "%s：%s", sp, problemWords(el.Problems[0])), hintSiteFile)
			} else if ok {
				l.errs.Problems = append(l.errs.Problems, el.Problems...)
				for f, lines := range el.sources {
					l.errs.addSource(f, []byte(strings.Join(lines, "\n")))
				}
			} else {
				l.errs.add(posOf(path, fields["site"]), errWords(err), hintSiteFile)
			}
			s = &site.Site{}
			l.site = siteBroken
		}
		rb.Site, rb.SiteSHA256, rb.SiteFile = s, sum, sp
		if abs, err := filepath.Abs(sp); err == nil {
			// Journaled as the run's site: resume, from any directory,
			// must read the same file.
			rb.SiteFile = abs
		}
	default:
		rb.Site = &site.Site{Name: "none"}
		l.site = siteNone
	}

	rb.Params = l.params(fields["params"])
	l.values(rb, opts.Values, opts.Vars, fields["params"])

	if fields["steps"] == nil {
		l.errs.add(posOf(path, root), say("missing `steps:`", "缺少 `steps:`"), say("a runbook needs at least one step", "演練手冊至少須有一個步驟"))
	}
	rb.Steps = l.stepList(fields["steps"], BlockSteps)
	if n := fields["steps"]; n != nil && n.Kind == yaml.SequenceNode && len(n.Content) == 0 {
		l.errs.add(posOf(path, n), say("steps is empty: a runbook needs at least one step", "steps 為空：演練手冊至少須有一個步驟"), say("add a step, e.g. `- log: hello`", "請新增步驟，例如 `- log: hello`"))
	}
	rb.OnFailure = l.stepList(fields["on_failure"], BlockOnFailure)
	rb.Finally = l.stepList(fields["finally"], BlockFinally)
	rb.Monitors = l.monitors(fields["monitors"])
	if err := ctx.Err(); err != nil {
		return nil, loadingStopped(path, err)
	}

	// Expressions and parameters are checked even when the structure had
	// problems, so that one run of validate shows everything it can.
	// A repeated step id is reported once, where it is repeated; the
	// expression scope keeps the first step of each id, so every other
	// problem is still found.
	l.buildScope(rb)
	l.compileRunbookTexts(rb, fields)
	for _, st := range rb.AllSteps() {
		if err := ctx.Err(); err != nil {
			return nil, loadingStopped(path, err)
		}
		l.compileStep(rb, st)
	}
	for _, m := range rb.Monitors {
		if m.Kind != nil {
			l.compileMonitor(rb, m)
		}
	}
	if ref := rb.scope.firstSiteRef; ref != nil {
		l.noteSiteRef(rb, ref.pos, ref.text)
	}
	if ref := l.firstSiteRef; ref != nil && l.site == siteNone {
		l.errs.add(ref.pos, say("`%s` names something in the site, but no site was given (and the runbook names no site file)", "`%s` 指向場域中之項目，但未指定場域（演練手冊亦未指定場域檔）", ref.text),
			say("validate with --site FILE or --lab; to check a runbook once for every site, give it `site: FILE`", "請加 --site FILE 或 --lab 再執行 validate；若要一次依各場域檢查演練手冊，請於手冊中寫 `site: FILE`"))
	}
	if err := l.errs.err(); err != nil {
		return nil, err
	}
	return rb, nil
}

type loader struct {
	ctx context.Context
	// site says whether names can be checked against a site;
	// firstSiteRef is the first site name met when there is none.
	site         siteState
	firstSiteRef *siteRef
	file         string
	src          *sourceText
	reg          *steps.Registry
	errs         ErrorList
	ids          map[string]*Step
	// stepNodes keeps each step's mapping for the second pass.
	stepNodes map[*Step]map[string]*yaml.Node
	counter   map[string]int
}

// mapping returns a mapping's values by key, reporting unknown and
// repeated keys. Keys not in known are reported unless known is nil.
func (l *loader) mapping(n *yaml.Node, known []string, what words) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		l.errs.add(posOf(l.file, n), say("expected a mapping (key: value lines)", "此處應為對應（mapping，即「key: value」各行）"), noHint)
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := out[k.Value]; dup {
			l.errs.add(posOf(l.file, k), say("%q is given twice", "%q 重複指定", k.Value), say("remove one of them", "請刪除其中之一"))
			continue
		}
		if known != nil && !contains(known, k.Value) {
			l.errs.add(posOf(l.file, k), say("unknown %s %q", "未知之%s %q", what.spaced(), k.Value), hintFor(k.Value, known, say("%ss", "%s", what)))
			continue
		}
		out[k.Value] = v
	}
	return out
}

func (l *loader) scalar(n *yaml.Node, into *string) bool {
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode {
		l.errs.add(posOf(l.file, n), say("expected a single value", "此處應為單一值"), noHint)
		return false
	}
	*into = n.Value
	return true
}

func (l *loader) text(n *yaml.Node, into *journal.Text) {
	if n == nil {
		return
	}
	if err := n.Decode(into); err != nil {
		l.errs.add(posOf(l.file, n), unmarshalerWords(strings.TrimPrefix(stripLine(err.Error()), "yaml: ")), say("write plain text, or {en: …, zh-TW: …}", "請寫純文字，或 {en: …, zh-TW: …}"))
	}
}

func stripLine(s string) string {
	return strings.TrimSpace(regexp.MustCompile(`^line \d+: `).ReplaceAllString(s, ""))
}

func (l *loader) duration(n *yaml.Node) time.Duration {
	var d journal.Duration
	if err := n.Decode(&d); err != nil {
		l.errs.add(posOf(l.file, n), unmarshalerWords(stripLine(err.Error())), noHint)
		return 0
	}
	return d.D()
}

func (l *loader) boolean(n *yaml.Node) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		l.errs.add(posOf(l.file, n), say("%q must be true or false", "%q 須為 true 或 false", n.Value), noHint)
	}
	return b
}

func (l *loader) integer(n *yaml.Node, min int) int {
	var v int
	if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
		l.errs.add(posOf(l.file, n), say("%q must be a whole number", "%q 須為整數", n.Value), noHint)
		return 0
	}
	if v < min {
		l.errs.add(posOf(l.file, n), say("%d is too small; the least is %d", "%d 太小；最小為 %d", v, min), noHint)
	}
	return v
}

func (l *loader) params(n *yaml.Node) []*Param {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errs.add(posOf(l.file, n), say("params must be a mapping of name: {type, default, description}", "params 須為「名稱: {type, default, description}」之對應（mapping）"), noHint)
		return nil
	}
	var out []*Param
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := &Param{Name: k.Value, Type: "string", Pos: posOf(l.file, k)}
		if !idPattern.MatchString(p.Name) {
			l.errs.add(p.Pos, say("parameter name %q must be lower case letters, digits and '_', starting with a letter", "參數名稱 %q 僅能使用小寫英文字母、數字與 '_'，且須以字母開頭", p.Name), noHint)
		}
		var def *yaml.Node
		if v.Kind == yaml.MappingNode {
			f := l.mapping(v, []string{"type", "default", "description"}, say("parameter field", "參數欄位"))
			if t := f["type"]; t != nil {
				l.scalar(t, &p.Type)
				if !contains(paramTypes, p.Type) {
					l.errs.add(posOf(l.file, t), say("unknown parameter type %q", "未知之參數型別 %q", p.Type), hintFor(p.Type, paramTypes, say("types", "型別")))
					p.Type = "string"
				}
			}
			def = f["default"]
			l.text(f["description"], &p.Description)
		} else {
			def = v // shorthand: name: default
			switch v.Tag {
			case "!!int":
				p.Type = "int"
			case "!!bool":
				p.Type = "bool"
			case "!!seq":
				p.Type = "list"
			}
		}
		if def != nil && !(def.Kind == yaml.ScalarNode && def.Tag == "!!null") {
			val, err := decodeParamNode(p.Type, def)
			if err != nil {
				l.errs.add(posOf(l.file, def), say("default of %s: %v", "%s 之預設值：%v", p.Name, err), noHint)
				p.badDefault = true
			} else {
				p.Default, p.HasDefault, p.defaultPos = val, true, posOf(l.file, def)
			}
		}
		out = append(out, p)
	}
	return out
}

func decodeParamNode(typ string, n *yaml.Node) (any, error) {
	switch typ {
	case "list":
		var v []string
		if err := n.Decode(&v); err != nil {
			return nil, i18n.New("must be a list of text", "須為文字清單")
		}
		return v, nil
	}
	if n.Kind != yaml.ScalarNode {
		return nil, i18n.Errorf("must be a single %s", "須為單一 %s", typ)
	}
	return ParseParamValue(typ, n.Value)
}

// coerceParam converts a value decoded from JSON to the parameter's type.
func coerceParam(typ string, v any) (any, error) {
	switch typ {
	case "list":
		list, ok := v.([]any)
		if !ok {
			if ss, ok := v.([]string); ok {
				return ss, nil
			}
			return nil, i18n.New("is not a list", "不是清單")
		}
		out := make([]string, len(list))
		for i, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, i18n.Errorf("item %d is not text", "第 %d 項不是文字", i)
			}
			out[i] = s
		}
		return out, nil
	case "int":
		switch n := v.(type) {
		case float64:
			if n != float64(int(n)) {
				return nil, i18n.New("is not a whole number", "不是整數")
			}
			return int(n), nil
		case int:
			return n, nil
		}
		return nil, i18n.New("is not a whole number", "不是整數")
	case "bool":
		b, ok := v.(bool)
		if !ok {
			return nil, i18n.New("is not true or false", "不是 true 或 false")
		}
		return b, nil
	case "duration":
		if d, ok := v.(time.Duration); ok {
			return d, nil
		}
		s, ok := v.(string)
		if !ok {
			return nil, i18n.New("is not a duration", "不是時間長度")
		}
		return ParseParamValue(typ, s)
	}
	s, ok := v.(string)
	if !ok {
		return nil, i18n.New("is not text", "不是文字")
	}
	return s, nil
}

// ParseParamValue parses the text form of a parameter value (--var k=v).
func ParseParamValue(typ, s string) (any, error) {
	switch typ {
	case "int":
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, i18n.Errorf("%q is not a whole number", "%q 不是整數", s)
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, i18n.Errorf("%q is not true or false", "%q 不是 true 或 false", s)
		}
		return v, nil
	case "duration":
		v, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || v < 0 {
			return nil, i18n.Errorf("%q is not a duration such as 30s or 5m", "%q 不是時間長度（例如 30s 或 5m）", s)
		}
		return v, nil
	case "list":
		if strings.TrimSpace(s) == "" {
			return []string{}, nil
		}
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	}
	return s, nil
}

// values settles each parameter's value from its default and --var.
func (l *loader) values(rb *Runbook, typed map[string]any, vars map[string]string, paramsNode *yaml.Node) {
	byName := map[string]*Param{}
	var names []string
	for _, p := range rb.Params {
		byName[p.Name] = p
		names = append(names, p.Name)
		if p.HasDefault {
			rb.Values[p.Name] = p.Default
		}
		if v, ok := typed[p.Name]; ok {
			cv, err := coerceParam(p.Type, v)
			if err != nil {
				l.errs.add(p.Pos, say("parameter %q: the recorded value %v: %v", "參數 %q：紀錄之值 %v：%v", p.Name, v, err), noHint)
				continue
			}
			rb.Values[p.Name] = cv
		}
	}
	keys := sortedKeys(vars)
	for _, k := range keys {
		p, ok := byName[k]
		if !ok {
			l.errs.add(Pos{File: "--var"}, say("%s: the runbook has no parameter %q", "%s：演練手冊沒有參數 %q", k, k), hintFor(k, names, say("parameters", "參數")))
			continue
		}
		v, err := ParseParamValue(p.Type, vars[k])
		if err != nil {
			l.errs.add(Pos{File: "--var"}, say("%s: %v (the parameter is of type %s)", "%s：%v（此參數之型別為 %s）", k, err, p.Type), noHint)
			continue
		}
		rb.Values[k] = v
	}
	for _, p := range rb.Params {
		v, ok := rb.Values[p.Name]
		if !ok {
			if !p.badDefault {
				l.errs.add(p.Pos, say("parameter %q has no default and no value", "參數 %q 沒有預設值，也未給值", p.Name), say("pass --var %s=VALUE", "請加 --var %s=值", p.Name))
			}
			continue
		}
		// The problem is shown where the value comes from.
		at := p.Pos
		_, fromVar := vars[p.Name]
		_, fromJournal := typed[p.Name]
		switch {
		case fromVar:
			at = Pos{File: "--var"}
		case !fromJournal && p.defaultPos.Line > 0:
			at = p.defaultPos
		}
		if (p.Type == "host" || p.Type == "guest") && l.site == siteNone {
			l.noteSiteRef(rb, at, fmt.Sprintf("%s: %v", p.Name, v))
			continue
		}
		var set map[string]site.Host
		switch p.Type {
		case "host":
			set = rb.Site.Hosts
			if _, ok := set[v.(string)]; !ok && len(set) > 0 {
				l.errs.add(at, say("parameter %q: the site has no host %q", "參數 %q：場域沒有主機 %q", p.Name, v), hintFor(v.(string), sortedKeys(set), say("hosts", "主機")))
			}
		case "guest":
			if _, ok := rb.Site.Guests[v.(string)]; !ok && len(rb.Site.Guests) > 0 {
				l.errs.add(at, say("parameter %q: the site has no guest %q", "參數 %q：場域沒有客體 %q", p.Name, v), hintFor(v.(string), sortedKeys(rb.Site.Guests), say("guests", "客體")))
			}
		}
	}
}

func (l *loader) stepList(n *yaml.Node, block string) []*Step {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.add(posOf(l.file, n), say("%s must be a list of steps (each line starting with '- ')", "%s 須為步驟清單（每行以 '- ' 開頭）", block), noHint)
		return nil
	}
	var out []*Step
	for _, c := range n.Content {
		if l.ctx.Err() != nil {
			return out // Parse reports it
		}
		if st := l.step(c, block); st != nil {
			out = append(out, st)
		}
	}
	return out
}

func (l *loader) step(n *yaml.Node, block string) *Step {
	if l.ids == nil {
		l.ids = map[string]*Step{}
		l.stepNodes = map[*Step]map[string]*yaml.Node{}
		l.counter = map[string]int{}
	}
	st := &Step{Block: block, Pos: posOf(l.file, n)}
	l.counter[block]++
	if n.Kind != yaml.MappingNode {
		l.errs.add(st.Pos, say("a step must be a mapping, e.g. `- id: x` then a kind such as `log: hello`", "步驟須為對應（mapping），例如 `- id: x` 後接類型如 `log: hello`"), noHint)
		return nil
	}
	fields := map[string]*yaml.Node{}
	var kindKey *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := fields[k.Value]; dup {
			l.errs.add(posOf(l.file, k), say("%q is given twice", "%q 重複指定", k.Value), noHint)
			continue
		}
		if contains(stepKeys, k.Value) {
			fields[k.Value] = v
			continue
		}
		if kind, ok := l.reg.Lookup(k.Value); ok {
			if kindKey != nil {
				l.errs.add(posOf(l.file, k), say("a step has exactly one kind, but this one has %q and %q", "一個步驟只能有一種類型，此步驟卻有 %q 與 %q", kindKey.Value, k.Value), say("split it into two steps", "請拆成兩個步驟"))
				continue
			}
			kindKey = k
			st.kindPos = posOf(l.file, k)
			st.KindName, st.Kind, st.ParamsNode = k.Value, kind, v
			continue
		}
		if strings.Contains(k.Value, ".") || steps.Closest(k.Value, l.reg.Names()) != "" {
			l.errs.add(posOf(l.file, k), say("unknown step kind %q", "未知之步驟類型 %q", k.Value), hintFor(k.Value, l.reg.Names(), say("kinds", "類型")))
		} else {
			l.errs.add(posOf(l.file, k), say("unknown step field %q", "未知之步驟欄位 %q", k.Value), hintFor(k.Value, append(append([]string{}, stepKeys...), l.reg.Names()...), say("fields and kinds", "欄位與類型")))
		}
		fields["\x00bad"] = v
	}
	if id := fields["id"]; id != nil {
		l.scalar(id, &st.ID)
		if !idPattern.MatchString(st.ID) {
			l.errs.add(posOf(l.file, id), say("step id %q must be lower case letters, digits and '_', starting with a letter", "步驟 id %q 僅能使用小寫英文字母、數字與 '_'，且須以字母開頭", st.ID), say("ids are used in expressions such as steps.my_id.result", "id 用於運算式，例如 steps.my_id.result"))
		}
	} else {
		st.ID, st.AutoID = fmt.Sprintf("%s_%d", block, l.counter[block]), true
	}
	if prev, dup := l.ids[st.ID]; dup {
		l.errs.add(posOf(l.file, fields["id"]), say("step id %q is already used at line %d", "步驟 id %q 已於第 %d 行使用", st.ID, prev.Pos.Line), say("every step id must be unique", "每個步驟 id 須唯一"))
	} else {
		l.ids[st.ID] = st
	}
	l.text(fields["name"], &st.Name)
	if n := fields["parallel"]; n != nil {
		if kindKey != nil {
			l.errs.add(posOf(l.file, kindKey), say("a parallel group has no kind of its own; put the kind in one of its steps", "平行群組（parallel）本身沒有類型；請將類型寫在其中之步驟"), noHint)
		}
		if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
			l.errs.add(posOf(l.file, n), say("parallel must be a list of steps", "parallel 須為步驟清單"), noHint)
		}
		st.Parallel = l.stepList(n, block)
	} else if kindKey == nil && fields["\x00bad"] == nil {
		l.errs.add(st.Pos, say("step %q has no kind", "步驟 %q 沒有類型", st.ID), say("add one, e.g. `log: text`, `wait: 5s` or `vcenter.host.shutdown: {host: esx-68}`", "請加上一種類型，例如 `log: text`、`wait: 5s` 或 `vcenter.host.shutdown: {host: esx-68}`"))
	}
	if n := fields["timeout"]; n != nil {
		st.Timeout = l.duration(n)
	}
	if n := fields["expect"]; n != nil {
		st.Expect = l.duration(n)
	}
	for key, into := range map[string]*bool{"continue_on_error": &st.ContinueOnError, "confirm": &st.Confirm, "disruptive": &st.Disruptive, "recovery": &st.Recovery} {
		if n := fields[key]; n != nil {
			*into = l.boolean(n)
		}
	}
	if n := fields["register"]; n != nil {
		l.scalar(n, &st.Register)
		if !idPattern.MatchString(st.Register) {
			l.errs.add(posOf(l.file, n), say("register name %q must be lower case letters, digits and '_'", "register 名稱 %q 僅能使用小寫英文字母、數字與 '_'", st.Register), noHint)
		}
	}
	if n := fields["concurrency"]; n != nil {
		st.Concurrency = l.integer(n, 1)
	}
	if n := fields["retry"]; n != nil {
		st.Retry = l.retry(n)
	}
	if n := fields["for_each"]; n != nil {
		st.ForEach = &ForEach{As: "item"}
		if n.Kind == yaml.SequenceNode {
			if err := n.Decode(&st.ForEach.List); err != nil {
				l.errs.add(posOf(l.file, n), say("for_each list: %s", "for_each 清單：%s", foreign(stripLine(err.Error()))), noHint)
			}
		} else if n.Kind != yaml.ScalarNode {
			l.errs.add(posOf(l.file, n), say("for_each must be a list or an expression such as ${{ params.guests }}", "for_each 須為清單或運算式，例如 ${{ params.guests }}"), noHint)
		}
		if st.Parallel != nil {
			l.errs.add(posOf(l.file, n), say("for_each and parallel cannot be combined in one step", "同一步驟不可同時使用 for_each 與 parallel"), noHint)
		}
	}
	if n := fields["as"]; n != nil && fields["for_each"] == nil {
		l.errs.add(posOf(l.file, n), say("`as` names the loop variable of for_each, but this step has no for_each", "`as` 為 for_each 之迴圈變數命名，但此步驟沒有 for_each"), noHint)
	}
	l.stepNodes[st] = fields
	return st
}

func (l *loader) retry(n *yaml.Node) *Retry {
	r := &Retry{Attempts: 3, Delay: time.Second, Backoff: 1}
	if n.Kind == yaml.ScalarNode {
		r.Attempts = l.integer(n, 1)
		return r
	}
	f := l.mapping(n, []string{"attempts", "delay", "backoff", "max_delay"}, say("retry field", "重試欄位"))
	if v := f["attempts"]; v != nil {
		r.Attempts = l.integer(v, 1)
	}
	if v := f["delay"]; v != nil {
		r.Delay = l.duration(v)
	}
	if v := f["max_delay"]; v != nil {
		r.MaxDelay = l.duration(v)
	}
	if v := f["backoff"]; v != nil {
		if v.Decode(&r.Backoff) != nil || r.Backoff < 1 {
			l.errs.add(posOf(l.file, v), say("backoff must be a number of at least 1 (2 doubles the delay after each attempt)", "backoff 須為至少 1 之數字（2 表示每次嘗試後等待時間加倍）"), noHint)
		}
	}
	return r
}

func (l *loader) monitors(n *yaml.Node) []*Monitor {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errs.add(posOf(l.file, n), say("monitors must be a list", "monitors 須為清單"), noHint)
		return nil
	}
	var out []*Monitor
	seen := map[string]bool{}
	for _, c := range n.Content {
		m := &Monitor{Pos: posOf(l.file, c), Every: time.Second}
		if c.Kind != yaml.MappingNode {
			l.errs.add(m.Pos, say("a monitor must be a mapping with name:, every: and a probe kind", "監控須為含 name:、every: 與探測類型之對應（mapping）"), noHint)
			continue
		}
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			switch k.Value {
			case "name":
				l.scalar(v, &m.Name)
			case "every":
				if m.Every = l.duration(v); m.Every <= 0 {
					l.errs.add(posOf(l.file, v), say("every must be longer than 0s: it is how often the probe runs", "every 須大於 0s：即探測之間隔"), say("e.g. every: 1s", "例如 every: 1s"))
				}
			default:
				kind, ok := l.reg.Lookup(k.Value)
				if !ok {
					l.errs.add(posOf(l.file, k), say("unknown monitor field or kind %q", "未知之監控欄位或類型 %q", k.Value), hintFor(k.Value, l.reg.Names(), say("kinds", "類型")))
					continue
				}
				if m.Kind != nil {
					l.errs.add(posOf(l.file, k), say("a monitor has exactly one probe kind", "一個監控只能有一種探測類型"), noHint)
					continue
				}
				if kind.Traits().ChangesState {
					l.errs.add(posOf(l.file, k), say("%s changes state and cannot be a monitor; monitors only observe", "%s 會變更系統狀態，不可作為監控；監控僅能觀察", k.Value), say("use check.http, check.tcp or another read-only kind", "請使用 check.http、check.tcp 或其他唯讀類型"))
				}
				m.KindName, m.Kind, m.Node = k.Value, kind, v
			}
		}
		if m.Name == "" {
			l.errs.add(m.Pos, say("a monitor needs a name", "監控須有名稱"), noHint)
		} else if seen[m.Name] {
			l.errs.add(m.Pos, say("monitor name %q is used twice", "監控名稱 %q 重複使用", m.Name), noHint)
		}
		seen[m.Name] = true
		if m.Kind == nil {
			l.errs.add(m.Pos, say("a monitor needs a probe kind such as check.http", "監控須有探測類型，例如 check.http"), noHint)
		}
		if m.Every <= 0 {
			m.Every = time.Second
		}
		out = append(out, m)
	}
	return out
}

// buildScope makes the types expressions are checked against.
func (l *loader) buildScope(rb *Runbook) {
	sc := &scope{order: map[string]int{}}
	pnames := make([]string, 0, len(rb.Params))
	ptypes := map[string]reflect.Type{}
	for _, p := range rb.Params {
		pnames = append(pnames, p.Name)
		ptypes[p.Name] = paramGoType(p.Type)
	}
	var pidx map[string]int
	sc.paramsType, pidx = structOf(pnames, func(n string) reflect.Type { return ptypes[n] })
	sc.params = reflect.New(sc.paramsType).Elem()
	for n, v := range rb.Values {
		if i, ok := pidx[n]; ok {
			sc.params.Field(i).Set(reflect.ValueOf(v))
		}
	}
	sc.paramNames = pnames
	sc.siteType, sc.site = siteEnv(rb.Site)
	sc.siteState = l.site
	sc.guestNames = sortedKeys(rb.Site.Guests)
	sc.hostNames = sortedKeys(rb.Site.Hosts)
	sc.serviceNames = sortedKeys(rb.Site.Services)

	all := rb.AllSteps()
	var ids []string
	byID := map[string]*Step{}
	regType := map[string]reflect.Type{}
	var regNames []string
	for i, st := range all {
		if _, dup := byID[st.ID]; dup {
			continue // reported where it is repeated; the first one counts
		}
		ids = append(ids, st.ID)
		byID[st.ID] = st
		sc.order[st.ID] = i
		if st.Register != "" && st.Kind != nil {
			if _, dup := regType[st.Register]; dup {
				l.errs.add(st.Pos, say("register name %q is used by two steps", "register 名稱 %q 被兩個步驟使用", st.Register), noHint)
			}
			regType[st.Register] = st.ResultType()
			regNames = append(regNames, st.Register)
		}
	}
	sc.stepsType, sc.stepField = structOf(ids, func(id string) reflect.Type { return stepViewType(byID[id].ResultType()) })
	sc.varsType, sc.varField = structOf(regNames, func(n string) reflect.Type { return regType[n] })
	sc.words = newTypeWords(sc, all)
	sc.stepNames, sc.varNames = ids, regNames
	sort.Strings(sc.stepNames)
	rb.scope = sc
}

// exprPos is where the bare expression text, taken from scalar n, starts
// in the source: past a quote, a ${{ and spaces.
func (l *loader) exprPos(n *yaml.Node, text string) Pos {
	text = strings.TrimSpace(text)
	first, _, _ := strings.Cut(text, "\n")
	if off := l.src.offset(n.Line, n.Column); off >= 0 && first != "" {
		if k := strings.Index(l.src.text[off:], first); k >= 0 && k <= 8 {
			return l.src.pos(l.file, off+k)
		}
	}
	return posOf(l.file, n)
}

// condition reads a bare expression, also accepting one ${{ … }} around it.
func condition(n *yaml.Node) string {
	s := strings.TrimSpace(n.Value)
	if strings.HasPrefix(s, "${{") && strings.HasSuffix(s, "}}") && strings.Count(s, "${{") == 1 {
		s = s[3 : len(s)-2]
	}
	return s
}

func (l *loader) compileStep(rb *Runbook, st *Step) {
	fields := l.stepNodes[st]
	var itemType reflect.Type
	if st.ForEach != nil && st.ForEach.List != nil {
		itemType = reflect.TypeOf((*any)(nil)).Elem()
	}
	if fe := fields["for_each"]; fe != nil && fe.Kind == yaml.ScalarNode {
		pre := rb.scope.forStep(st, nil)
		pos := l.exprPos(fe, condition(fe))
		st.ForEach.Items = pre.compile(condition(fe), pos, false, &l.errs)
		if x := st.ForEach.Items; x != nil {
			if t := x.program.Node().Type(); t != nil && !listType(t) {
				l.errs.add(pos, say("for_each needs a list, but `%s` is %s", "for_each 須為清單，但 `%s` 為%s", x.Source, rb.scope.typeWordsIn(t).spaced()), say("give a list such as [a, b], or an expression such as ${{ params.guests }}", "請提供清單，例如 [a, b]，或運算式，例如 ${{ params.guests }}"))
				st.ForEach.Items = nil
			}
		}
	}
	if as := fields["as"]; as != nil && st.ForEach != nil {
		l.scalar(as, &st.ForEach.As)
		if st.ForEach.As != "item" {
			l.errs.add(posOf(l.file, as), say("the loop variable is always called `item`", "迴圈變數一律稱為 `item`"), say("remove `as:` and write item in expressions", "請刪除 `as:`，並於運算式中寫 item"))
		}
	}
	ss := rb.scope.forStep(st, itemType)
	st.scope = ss
	l.compileName(rb, st, fields["name"])
	if n := fields["when"]; n != nil {
		st.When = ss.compile(condition(n), l.exprPos(n, condition(n)), true, &l.errs)
	}
	if n := fields["until"]; n != nil {
		st.Until = l.until(ss, n, st)
	}
	if st.Kind == nil {
		return
	}
	l.decodeStatic(rb, st)
	l.checkSiteNames(rb, st)
}

func (l *loader) until(ss *stepScope, n *yaml.Node, st *Step) *Until {
	u := &Until{Interval: time.Second}
	var cond *yaml.Node
	if n.Kind == yaml.ScalarNode {
		cond = n
	} else {
		f := l.mapping(n, []string{"condition", "interval", "within", "attempts"}, say("until field", "until 欄位"))
		cond = f["condition"]
		if v := f["interval"]; v != nil {
			if u.Interval = l.duration(v); u.Interval <= 0 {
				l.errs.add(posOf(l.file, v), say("interval must be longer than 0s: it is the wait between two polls", "interval 須大於 0s：即兩次輪詢之間隔"), say("e.g. interval: 2s", "例如 interval: 2s"))
			}
		}
		if v := f["within"]; v != nil {
			u.Within = l.duration(v)
		}
		if v := f["attempts"]; v != nil {
			u.Attempts = l.integer(v, 1)
		}
	}
	if cond == nil {
		l.errs.add(posOf(l.file, n), say("until needs a condition", "until 須有條件"), say("e.g. until: {condition: result.status == 200, interval: 2s, within: 5m}", "例如 until: {condition: result.status == 200, interval: 2s, within: 5m}"))
		return nil
	}
	if u.Within == 0 && u.Attempts == 0 {
		u.Within = st.Timeout
		if u.Within == 0 {
			u.Within = 5 * time.Minute
		}
	}
	u.Cond = ss.compile(condition(cond), l.exprPos(cond, condition(cond)), true, &l.errs)
	return u
}

// taggedPaths lists the parameter paths tagged `drbook:"<tag>"`: "shell"
// fields are commands whose interpolated values are shell-quoted, "argv"
// fields argument vectors (a shell script among them is treated as a
// "shell" field), "expr" fields hold a bare expression.
func taggedPaths(t reflect.Type, prefix, tag string, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			taggedPaths(f.Type, prefix, tag, out)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		if f.Tag.Get("drbook") == tag {
			out[prefix+name] = true
		}
		taggedPaths(f.Type, prefix+name+".", tag, out)
	}
}

// pathsKey names one (parameter type, tag) pair in tagged.
type pathsKey struct {
	t   reflect.Type
	tag string
}

// tagged caches taggedPaths by parameter type and tag: the answer depends
// only on the Go type, and walking the type's fields for every step was a
// tenth of a 10,000-step load.
var tagged sync.Map // pathsKey -> map[string]bool

// pathsTagged is taggedPaths from the start of t, computed once per type
// and tag. The map is shared: callers must not change it.
func pathsTagged(t reflect.Type, tag string) map[string]bool {
	k := pathsKey{t, tag}
	if m, ok := tagged.Load(k); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	taggedPaths(t, "", tag, m)
	v, _ := tagged.LoadOrStore(k, m)
	return v.(map[string]bool)
}

// decodeStatic compiles the step's interpolations and decodes its
// parameters with what is known at load time.
func (l *loader) decodeStatic(rb *Runbook, st *Step) {
	before, failures := len(l.errs.Problems), rb.scope.failures
	pt := reflect.TypeOf(st.Kind.NewParams())
	shell, exprs := pathsTagged(pt, "shell"), pathsTagged(pt, "expr")
	if n := st.ParamsNode; n != nil && n.Kind == yaml.ScalarNode && len(exprs) == 1 {
		// Shorthand: `assert: EXPR` means {that: EXPR}.
		for path := range exprs {
			st.ParamsNode = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column,
				Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: path, Line: n.Line, Column: n.Column}, n}}
		}
	}
	st.Templates = map[*yaml.Node]*Template{}
	scripts, remote := argvScripts(st.ParamsNode, pt)
	walkScalars(st.ParamsNode, "", func(n *yaml.Node, path string) {
		if exprs[path] && !strings.Contains(n.Value, "${{") {
			// A bare expression field: the whole text is one expression.
			e := st.scope.compile(n.Value, l.exprPos(n, n.Value), false, &l.errs)
			if e != nil {
				st.Templates[n] = &Template{Parts: []TemplatePart{{Expr: e}}, Whole: true, Node: n}
			}
			return
		}
		if t := st.scope.parseTemplate(n, l.file, l.src, shell[path] || scripts[n], &l.errs); t != nil {
			st.Templates[n] = t
		}
	})
	for _, ra := range remote {
		placeRemoteArgv(ra, st.Templates, l.file, &l.errs)
	}
	if len(l.errs.Problems) > before || rb.scope.failures > failures {
		// An expression is wrong, so values cannot be decoded; unknown
		// fields can still be named now rather than after the next fix.
		for _, e := range steps.Strict(st.ParamsNode, pt, "") {
			l.errs.add(Pos{File: l.file, Line: e.Line, Column: e.Column}, say("%s: %s", "%s：%s", st.KindName, decodeWords(e)), schemaHint(st.KindName))
		}
		return
	}
	env := rb.StaticEnv()
	st.Static = true
	placeholders := map[int]bool{}
	node := substitute(st.ParamsNode, func(orig *yaml.Node) *yaml.Node {
		t := st.Templates[orig]
		if t == nil {
			return nil
		}
		dynamic := false
		for _, p := range t.Parts {
			if p.Expr != nil && p.Expr.Dynamic {
				dynamic = true
			}
		}
		if !dynamic {
			n, err := t.render(env, Vars{})
			if err == nil {
				return n
			}
			l.errs.add(posOf(l.file, orig), errWords(err), noHint)
			return nil
		}
		st.Static = false
		placeholders[orig.Line] = true
		return placeholderNode(t, orig)
	})
	params, errs := steps.DecodeParams(st.Kind, node)
	for _, e := range errs {
		if !st.Static && (placeholders[e.Line] || strings.Contains(e.Msg, "${{")) {
			continue // a value known only at run time; checked then
		}
		if !st.Static && e.Line == 0 {
			continue
		}
		pos := Pos{File: l.file, Line: e.Line, Column: e.Column}
		if e.Line == 0 {
			pos = posOf(l.file, st.ParamsNode)
		}
		if n := st.ParamsNode; n != nil && n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle == 0 &&
			e.Field != "" && e.Line == n.Line && e.Column == n.Column && steps.FindField(n, e.Field) == n && st.kindPos.Line > 0 {
			// A field that is missing is placed by DecodeParams at its
			// mapping, which in block style is the first key given, an
			// unrelated one: say it at the kind's name instead.
			pos = st.kindPos
		}
		l.errs.add(pos, say("%s: %s", "%s：%s", st.KindName, decodeWords(e)), l.paramHint(st, e))
	}
	if st.Static {
		st.Params = params
	}
}

func (l *loader) paramHint(st *Step, e steps.DecodeError) words {
	if strings.Contains(e.Msg, "unknown field") {
		return schemaHint(st.KindName)
	}
	return noHint
}

// schemaHint points at the fields of a kind.
func schemaHint(kind string) words {
	return say("see `drbook schema` for the fields of %s", "%s 之欄位請見 `drbook schema`", kind)
}

// decodeWords is a parameter problem in both languages.
func decodeWords(e steps.DecodeError) words {
	if e.MsgZhTW == "" {
		return foreign(e.Msg)
	}
	w := pair(e.Msg, e.MsgZhTW)
	if e.Foreign != "" {
		w.quoted = []string{e.Foreign}
	}
	return w
}

// hintSiteFile is the hint of a site file that cannot be read.
var hintSiteFile = say("pass --site FILE, or --lab for the embedded lab", "請加 --site FILE，或以 --lab 使用內建模擬環境")

func (l *loader) compileMonitor(rb *Runbook, m *Monitor) {
	st := &Step{ID: "monitor_" + m.Name, KindName: m.KindName, Kind: m.Kind, ParamsNode: m.Node, Pos: m.Pos}
	st.scope = rb.scope.forStep(st, nil)
	before, failures := len(l.errs.Problems), rb.scope.failures
	l.decodeStatic(rb, st)
	l.checkSiteNames(rb, st)
	if !st.Static && len(l.errs.Problems) == before && rb.scope.failures == failures {
		l.errs.add(m.Pos, say("a monitor's parameters may use params and site, but not step results", "監控之參數可使用 params 與 site，但不可使用步驟結果"), noHint)
	}
	m.Params = st.Params
}

func walkScalars(n *yaml.Node, path string, fn func(n *yaml.Node, path string)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		fn(n, path)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			walkScalars(n.Content[i+1], p, fn)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			walkScalars(c, path, fn)
		}
	case yaml.DocumentNode:
		for _, c := range n.Content {
			walkScalars(c, path, fn)
		}
	}
}

// substitute deep-copies n, replacing each node for which repl returns a
// non-nil node.
func substitute(n *yaml.Node, repl func(orig *yaml.Node) *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if r := repl(n); r != nil {
		return r
	}
	if n.Kind == yaml.AliasNode {
		// An alias is shared, not copied: copying would let a small file
		// expand exponentially (or forever, for a cycle).
		return n
	}
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, ch := range n.Content {
		c.Content[i] = substitute(ch, repl)
	}
	return &c
}

func placeholderNode(t *Template, orig *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: orig.Line, Column: orig.Column, Tag: "!!str", Value: orig.Value}
	if !t.Whole {
		return n
	}
	typ := t.Parts[0].Expr.program.Node().Type()
	if typ == nil {
		return n
	}
	switch typ.Kind() {
	case reflect.Int, reflect.Int32, reflect.Float64, reflect.Uint:
		n.Tag, n.Value = "!!int", "0"
	case reflect.Int64:
		n.Tag, n.Value = "!!str", "0s"
	case reflect.Bool:
		n.Tag, n.Value = "!!bool", "false"
	case reflect.Slice, reflect.Array:
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: orig.Line, Column: orig.Column}
	}
	return n
}

// loadingStopped is the error of a load that ctx ended.
func loadingStopped(path string, err error) error {
	return i18n.Errorf("%s: loading stopped: %w", "%s: 載入已中止：%w", path, err)
}

// unmarshalerWords is a problem of a duration or a text (the messages of
// journal.Duration and journal.Text, or yaml.v3's) in both languages.
func unmarshalerWords(msg string) words {
	if zh := steps.UnmarshalerWordsZhTW(msg); zh != msg {
		return pair(msg, zh)
	}
	return foreign(msg)
}
