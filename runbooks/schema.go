package runbooks

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// The schemas are JSON Schema draft-07, the newest draft editors' YAML
// support (VS Code's YAML extension, yaml-language-server) understands.
// They are built from the same declarations the loader decodes with: the
// step kinds' parameter structs and Doc, the loader's own lists of keys,
// and site.Site. They say what the loader accepts as closely as a schema
// can; what needs the whole runbook (expressions, ids, site names) is
// left to `drbook validate`.
const draft07 = "http://json-schema.org/draft-07/schema#"

var secretRefType = reflect.TypeOf(site.SecretRef{})

// durationPattern is a Go duration ("90s", "1m30s") as time.ParseDuration
// reads it.
const durationPattern = `^[0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h)([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))*$|^0$`

// schemaBuilder carries the language of the descriptions and, while it
// builds a kind's parameters, the kind's OneOf groups.
type schemaBuilder struct {
	lang  string
	oneOf [][]string
	// plain leaves out interpolations: site files have none.
	plain bool
}

// withExpr lets a value also be an interpolation, decoded when the step
// runs.
func (b schemaBuilder) withExpr(v map[string]any) map[string]any {
	if b.plain {
		return v
	}
	return map[string]any{"anyOf": []any{v, ref("expression")}}
}

func (b schemaBuilder) say(en, zhTW string) string {
	if b.lang == "zh-TW" && zhTW != "" {
		return zhTW
	}
	return en
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/definitions/" + name} }

func describe(s map[string]any, d string) map[string]any {
	if d != "" {
		s["description"] = d
	}
	return s
}

// Schema returns the JSON Schema of the runbook format with every kind's
// parameters, described in lang ("en" or "zh-TW"), for editors' completion
// and checking.
func Schema(reg *steps.Registry, lang string) map[string]any {
	b := schemaBuilder{lang: lang}
	defs := b.commonDefs()
	stepProps := b.stepFields()
	monitorProps := map[string]any{
		"name":  describe(map[string]any{"type": "string"}, b.say("The monitor's name in the report.", "監控於報告中之名稱。")),
		"every": describe(ref("duration"), b.say("How often the probe runs; 1s by default.", "探測之間隔；預設為 1s。")),
	}
	var kindOneOf, monitorOneOf []any
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		defs["kind."+name] = b.kindSchema(k)
		stepProps[name] = ref("kind." + name)
		kindOneOf = append(kindOneOf, map[string]any{"required": []any{name}})
		if !k.Traits().ChangesState {
			monitorProps[name] = ref("kind." + name)
			monitorOneOf = append(monitorOneOf, map[string]any{"required": []any{name}})
		}
	}
	defs["step"] = map[string]any{
		"type":                 "object",
		"description":          b.say("A step: an id, one kind with its parameters (or parallel: steps), and common fields.", "步驟：id、一種步驟類型及其參數（或 parallel: 步驟清單），以及共通欄位。"),
		"properties":           stepProps,
		"additionalProperties": false,
		"oneOf":                append(kindOneOf, map[string]any{"required": []any{"parallel"}}),
	}
	defs["monitor"] = map[string]any{
		"type":                 "object",
		"description":          b.say("A probe that runs in the background for the whole run and records outage windows; its kind must only observe.", "於整個執行期間背景執行之探測，記錄中斷時段；其類型必須僅為觀察。"),
		"required":             []any{"name"},
		"properties":           monitorProps,
		"additionalProperties": false,
		"oneOf":                monitorOneOf,
	}
	stepList := map[string]any{"type": "array", "items": ref("step")}
	props := map[string]any{}
	for _, f := range b.topLevelFields(stepList) {
		props[f.key] = f.schema
	}
	return map[string]any{
		"$schema":              draft07,
		"$id":                  "https://drbook.dev/schema/runbook.schema.json",
		"title":                "drbook runbook",
		"description":          b.say("A drbook runbook: `drbook explain KIND` and docs/kinds/ describe each step kind.", "drbook 演練手冊：各步驟類型之說明見 `drbook explain KIND` 與 docs/kinds/。"),
		"type":                 "object",
		"required":             []any{"name", "steps"},
		"additionalProperties": false,
		"properties":           props,
		"definitions":          defs,
	}
}

type keyedSchema struct {
	key    string
	schema map[string]any
}

// topLevelFields are the runbook's own fields, in the loader's order
// (topLevelKeys).
func (b schemaBuilder) topLevelFields(stepList map[string]any) []keyedSchema {
	byKey := map[string]map[string]any{
		"name":        describe(map[string]any{"type": "string", "pattern": namePattern.String()}, b.say("The runbook's short name: lower case letters, digits, '-', '_' or '.'.", "演練手冊之簡稱：小寫字母、數字、'-'、'_' 或 '.'。")),
		"title":       describe(ref("text"), b.say("The title, in en and zh-TW; ${{ params.x }} shows this run's value.", "標題（en 與 zh-TW）；${{ params.x }} 顯示本次執行之值。")),
		"description": describe(ref("text"), b.say("What the drill does, in en and zh-TW.", "演練內容說明（en 與 zh-TW）。")),
		"owner":       describe(map[string]any{"type": "string"}, b.say("Who owns the runbook.", "負責單位或人員。")),
		"version":     describe(map[string]any{"type": []any{"string", "number"}}, b.say("The runbook's version, e.g. \"2026.1\".", "版本，例如 \"2026.1\"。")),
		"site":        describe(map[string]any{"type": "string"}, b.say("The site file, relative to the runbook; --site or --lab override it.", "site 檔路徑（相對於演練手冊）；--site 或 --lab 可覆寫。")),
		"rto":         describe(ref("duration"), b.say("The recovery time objective the report measures against.", "報告據以比較之復原時間目標（RTO）。")),
		"params": describe(map[string]any{"type": "object", "additionalProperties": ref("param"), "propertyNames": map[string]any{"pattern": idPattern.String()}},
			b.say("Parameters, set with --var name=value; used as ${{ params.name }}.", "參數，以 --var name=value 設定；以 ${{ params.name }} 引用。")),
		"monitors":   describe(map[string]any{"type": "array", "items": ref("monitor")}, b.say("Background probes that record outage windows.", "記錄中斷時段之背景探測。")),
		"steps":      describe(copyMap(stepList), b.say("The steps, in order.", "依序執行之步驟。")),
		"on_failure": describe(copyMap(stepList), b.say("Steps run when a step fails.", "步驟失敗時執行之步驟。")),
		"finally":    describe(copyMap(stepList), b.say("Steps always run at the end (power the host back on).", "最後一定執行之步驟（例如將主機重新開機）。")),
		"labels":     describe(map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}, b.say("Free-form labels, e.g. timezone: Asia/Taipei for the reports.", "自訂標籤，例如報告使用之 timezone: Asia/Taipei。")),
	}
	var out []keyedSchema
	for _, k := range topLevelKeys {
		s, ok := byKey[k]
		if !ok {
			panic("runbooks: schema: top-level key " + k + " has no schema")
		}
		out = append(out, keyedSchema{k, s})
	}
	return out
}

// stepFields are the fields every step may have besides its kind.
func (b schemaBuilder) stepFields() map[string]any {
	retryObj := map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
		"attempts":  map[string]any{"type": "integer", "minimum": 1},
		"delay":     ref("duration"),
		"backoff":   map[string]any{"type": "number"},
		"max_delay": ref("duration"),
	}}
	untilObj := map[string]any{"type": "object", "additionalProperties": false, "required": []any{"condition"}, "properties": map[string]any{
		"condition": map[string]any{"type": "string"},
		"interval":  ref("duration"),
		"within":    ref("duration"),
		"attempts":  map[string]any{"type": "integer", "minimum": 1},
	}}
	props := map[string]any{
		"id":                describe(map[string]any{"type": "string", "pattern": idPattern.String()}, b.say("The step's id, used in expressions as steps.<id>.result.", "步驟識別碼，於運算式中以 steps.<id>.result 引用。")),
		"name":              describe(ref("text"), b.say("What the step does, in en and zh-TW, for the live view and the report; ${{ params.x }} and ${{ item }} show this run's values.", "步驟名稱（en 與 zh-TW），顯示於即時畫面與報告；${{ params.x }} 與 ${{ item }} 顯示本次執行之值。")),
		"when":              describe(map[string]any{"type": []any{"string", "boolean"}}, b.say("A condition; the step is skipped unless it holds.", "條件式；不成立時略過此步驟。")),
		"timeout":           describe(ref("duration"), b.say("Stops the step after this long.", "步驟之時限。")),
		"retry":             describe(map[string]any{"anyOf": []any{map[string]any{"type": "integer", "minimum": 1}, retryObj}}, b.say("Retry a failed step: attempts, or {attempts, delay, backoff, max_delay}.", "失敗時重試：次數，或 {attempts, delay, backoff, max_delay}。")),
		"until":             describe(map[string]any{"anyOf": []any{map[string]any{"type": "string"}, untilObj}}, b.say("Re-run the step until a condition over its result holds.", "重複執行步驟直到其結果符合條件。")),
		"register":          describe(map[string]any{"type": "string", "pattern": idPattern.String()}, b.say("Also publish the result as vars.<name>.", "另將結果發布為 vars.<name>。")),
		"continue_on_error": describe(map[string]any{"type": "boolean"}, b.say("A failure of this step does not fail the run.", "此步驟失敗不影響整體執行。")),
		"confirm":           describe(map[string]any{"type": "boolean"}, b.say("Guided mode asks the operator before the step runs.", "引導模式下，執行前需操作人員確認。")),
		"expect":            describe(ref("duration"), b.say("The planned duration, compared in the report.", "預計所需時間，於報告中比較。")),
		"disruptive":        describe(map[string]any{"type": "boolean"}, b.say("The step causes the outage the drill measures.", "此步驟造成演練所量測之中斷。")),
		"recovery":          describe(map[string]any{"type": "boolean"}, b.say("The step is part of the recovery the RTO measures.", "此步驟屬於 RTO 所量測之復原作業。")),
		"parallel":          describe(map[string]any{"type": "array", "minItems": 1, "items": ref("step")}, b.say("Steps run at the same time, instead of a kind.", "同時執行之步驟（取代步驟類型）。")),
		"concurrency":       describe(map[string]any{"type": "integer", "minimum": 1}, b.say("How many parallel or for_each steps run at once.", "parallel 或 for_each 同時執行之數量上限。")),
		"for_each":          describe(map[string]any{"type": []any{"string", "array"}}, b.say("Run the step once per item of a list (or an expression yielding one); the item is ${{ item }}.", "對清單（或產生清單之運算式）之每一項執行一次；項目以 ${{ item }} 引用。")),
		"as":                describe(map[string]any{"type": "string", "enum": []any{"item"}}, b.say("The loop variable's name, which is always item.", "迴圈變數名稱，固定為 item。")),
	}
	for _, k := range stepKeys {
		if _, ok := props[k]; !ok {
			panic("runbooks: schema: step field " + k + " has no schema")
		}
	}
	return props
}

func (b schemaBuilder) commonDefs() map[string]any {
	return map[string]any{
		"text": map[string]any{
			"description": b.say("Text: one string for every language, or {en: …, zh-TW: …}.", "文字：單一字串（各語言共用），或 {en: …, zh-TW: …}。"),
			"anyOf": []any{
				map[string]any{"type": []any{"string", "number"}},
				map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
					"en": map[string]any{"type": "string"}, "zh-TW": map[string]any{"type": "string"}}},
			},
		},
		"duration": map[string]any{
			"description": b.say("A duration such as 30s, 5m or 1h30m, or a number of seconds.", "時間長度，例如 30s、5m 或 1h30m，或秒數。"),
			"anyOf": []any{
				map[string]any{"type": "string", "pattern": durationPattern},
				map[string]any{"type": "number", "minimum": 0},
			},
		},
		"expression": map[string]any{
			"description": b.say("A value computed when the step runs: ${{ params.x }}, ${{ site.guests.ap02.address }}, ${{ steps.id.result.field }}.", "執行時計算之值：${{ params.x }}、${{ site.guests.ap02.address }}、${{ steps.id.result.field }}。"),
			"type":        "string",
			"pattern":     `\$\{\{`,
		},
		"param": map[string]any{
			"description": b.say("A parameter: {type, default, description}, or just its default.", "參數：{type, default, description}，或僅寫其預設值。"),
			"anyOf": []any{
				map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
					"type":        map[string]any{"enum": toAny(paramTypes)},
					"default":     map[string]any{},
					"description": ref("text"),
				}},
				map[string]any{"type": []any{"string", "number", "boolean", "array"}},
			},
		},
	}
}

// kindSchema is the schema of one kind's parameter mapping.
func (b schemaBuilder) kindSchema(k steps.Kind) map[string]any {
	doc := steps.DocOf(k)
	b.oneOf = doc.OneOf
	s := b.objectSchema(steps.ParamFields(k), "")
	desc := steps.Summary(k).In(b.lang)
	tr := k.Traits()
	var notes []string
	if tr.ChangesState {
		notes = append(notes, b.say("changes state", "會變更狀態"))
	} else {
		notes = append(notes, b.say("only reads", "僅讀取"))
	}
	if tr.Idempotent {
		notes = append(notes, b.say("idempotent", "可重複執行"))
	}
	desc += " (" + strings.Join(notes, ", ") + "; `drbook explain " + k.Name() + "`)"
	if acceptsShorthand(k) {
		short := map[string]any{}
		steps.WalkFields(steps.ParamFields(k), func(f steps.Field) {
			if f.Path == doc.Shorthand {
				short = b.fieldSchema(f)
			}
		})
		return describe(map[string]any{"title": k.Name(), "anyOf": []any{s, short}}, desc)
	}
	s["title"] = k.Name()
	return describe(s, desc)
}

// acceptsShorthand reports whether the loader takes a single value for
// the kind's parameters: the kind's own UnmarshalYAML does, and so does a
// kind with exactly one bare-expression parameter (decodeStatic).
func acceptsShorthand(k steps.Kind) bool {
	t := reflect.TypeOf(k.NewParams())
	if t.Implements(reflect.TypeOf((*interface{ UnmarshalYAML(func(any) error) error })(nil)).Elem()) {
		return true
	}
	return len(pathsTagged(t, "expr")) == 1
}

// objectSchema is a mapping of fields at the parameter path prefix; of
// each of the kind's OneOf groups at that path exactly one is given.
func (b schemaBuilder) objectSchema(fields []steps.Field, prefix string) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range fields {
		props[f.Name] = b.fieldSchema(f)
		if f.Doc.Required {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	var groups []any
	for _, g := range b.oneOf {
		var alts []any
		for _, p := range g {
			dir, name := "", p
			if i := strings.LastIndexByte(p, '.'); i >= 0 {
				dir, name = p[:i], p[i+1:]
			}
			if dir == prefix {
				alts = append(alts, map[string]any{"required": []any{name}})
			}
		}
		if len(alts) > 0 {
			groups = append(groups, map[string]any{"oneOf": alts})
		}
	}
	switch len(groups) {
	case 0:
	case 1:
		s["oneOf"] = groups[0].(map[string]any)["oneOf"]
	default:
		s["allOf"] = groups
	}
	return s
}

// fieldSchema is one parameter's schema. A scalar parameter may also hold
// an interpolation (${{ … }}), decoded when the step runs.
func (b schemaBuilder) fieldSchema(f steps.Field) map[string]any {
	var s map[string]any
	switch {
	case f.GoType == secretRefType:
		// Only a reference, as ParseSite insists: never the secret itself.
		s = map[string]any{"type": "string", "pattern": `^(env:.+|file:.+|prompt(:.*)?)$`}
	case f.Expr:
		s = map[string]any{"type": []any{"string", "boolean"}}
	case len(f.Doc.Enum) > 0:
		s = b.withExpr(map[string]any{"enum": toAny(f.Doc.Enum)})
	default:
		s = b.shapeSchema(f, f.Shape)
	}
	if f.Default != nil {
		if raw, err := json.Marshal(f.Default); err == nil {
			var v any
			if json.Unmarshal(raw, &v) == nil {
				s["default"] = v
			}
		}
	}
	return describe(s, f.Doc.Text.In(b.lang))
}

func (b schemaBuilder) shapeSchema(f steps.Field, shape steps.Shape) map[string]any {
	switch shape {
	case steps.ShapeString:
		return map[string]any{"type": []any{"string", "number"}}
	case steps.ShapeInt:
		return b.withExpr(map[string]any{"type": "integer"})
	case steps.ShapeNumber:
		return b.withExpr(map[string]any{"type": "number"})
	case steps.ShapeBool:
		return b.withExpr(map[string]any{"type": "boolean"})
	case steps.ShapeDuration:
		return b.withExpr(ref("duration"))
	case steps.ShapeText:
		return ref("text")
	case steps.ShapeTime:
		return map[string]any{"type": "string", "format": "date-time"}
	case steps.ShapeObject:
		return b.objectSchema(f.Fields, f.Path)
	case steps.ShapeList:
		item := b.itemSchema(f)
		list := map[string]any{"type": "array", "items": item}
		if f.OneOrList {
			return b.withExpr(map[string]any{"anyOf": []any{item, list}})
		}
		return b.withExpr(list)
	case steps.ShapeMap:
		return b.withExpr(map[string]any{"type": "object", "additionalProperties": b.itemSchema(f)})
	}
	return map[string]any{}
}

// itemSchema is the schema of a list's items or a map's values.
func (b schemaBuilder) itemSchema(f steps.Field) map[string]any {
	if f.Elem == steps.ShapeObject {
		return b.objectSchema(f.Fields, f.Path)
	}
	return b.shapeSchema(steps.Field{Path: f.Path}, f.Elem)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// KindSummary is "name: summary", for listings.
func KindSummary(reg *steps.Registry) string {
	var b strings.Builder
	for _, n := range reg.Names() {
		k, _ := reg.Lookup(n)
		b.WriteString(n + ": " + k.Summary() + "\n")
	}
	return b.String()
}

// SiteSchema returns the JSON Schema of a site file, described in lang.
func SiteSchema(lang string) map[string]any {
	b := schemaBuilder{lang: lang, plain: true}
	s := b.objectSchema(SiteFields(), "")
	s["$schema"] = draft07
	s["$id"] = "https://drbook.dev/schema/site.schema.json"
	s["title"] = "drbook site"
	s["description"] = b.say("A drbook site file: the vCenter, ESXi hosts, SSH guests and services of one place. Secrets are references only: env:NAME, file:PATH or prompt.",
		"drbook site 檔：一個地點之 vCenter、ESXi 主機、SSH 客體與服務。機密僅能為參照：env:NAME、file:PATH 或 prompt。")
	return s
}

// EncodeSchema writes a schema as `drbook schema` prints it and as
// docs/schema/ holds it: indented JSON, ending in a newline.
func EncodeSchema(schema map[string]any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(schema); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
