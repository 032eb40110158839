// Package reference renders the step kinds' own declarations (their Go
// parameter and result types, Traits and steps.Documented) for people: the
// list `drbook kinds` prints, the page `drbook explain KIND` prints, and
// the Markdown reference under docs/kinds/, one page per family, in
// English and Traditional Chinese. Nothing here is written by hand about a
// kind: a new field shows up everywhere once its kind documents it.
package reference

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/drbook/drbook/steps"
)

// words are the fixed words of the renderings, by language.
var words = map[string]map[string]string{
	"en": {
		"kind": "KIND", "changes": "CHANGES STATE", "idempotent": "IDEMPOTENT", "purpose": "PURPOSE",
		"yes": "yes", "no": "no", "human": "waits for a person",
		"params": "Parameters", "result": "Result", "preflight": "Preflight (read-only, run by drbook plan)",
		"example": "Example", "required": "required", "default": "default", "oneof": "one of",
		"exactly": "give exactly one of", "short": "shorthand", "none": "none", "nopreflight": "none: plan only describes the step",
		"resultnote":    "Later steps read these as steps.<id>.result.<field>; also steps.<id>.status, .error, .attempts and .duration.",
		"resultnote.md": "Later steps read these as `steps.<id>.result.<field>`; also `steps.<id>.status`, `.error`, `.attempts` and `.duration`.",
		"name":          "Name", "type": "Type", "meaning": "Meaning", "field": "Field", "values": "Required, default, allowed values",
		"traits": "Changes state: %s · idempotent (resume may re-run it): %s",
		"title":  "%s step kinds", "generated": "Generated from the kinds' declarations by `go test ./docs -update`; do not edit.",
		"other": "Other language: [中文](%s)", "see": "See also `drbook explain KIND`.", "index": "Step kinds",
		"expr": "an expression, without ${{ }}", "shell": "interpolated values are shell-quoted",
		"hintlist": "drbook explain KIND shows a kind's parameters, result, preflight and an example.",
	},
	"zh-TW": {
		"kind": "類型", "changes": "變更狀態", "idempotent": "可重複執行", "purpose": "用途",
		"yes": "是", "no": "否", "human": "需等待人員",
		"params": "參數", "result": "結果", "preflight": "事前檢查（唯讀，由 drbook plan 執行）",
		"example": "範例", "required": "必填", "default": "預設", "oneof": "可為",
		"exactly": "下列恰給其一", "short": "簡寫", "none": "無", "nopreflight": "無：plan 僅說明此步驟",
		"resultnote":    "後續步驟以 steps.<id>.result.<欄位> 讀取；另有 steps.<id>.status、.error、.attempts 與 .duration。",
		"resultnote.md": "後續步驟以 `steps.<id>.result.<欄位>` 讀取；另有 `steps.<id>.status`、`.error`、`.attempts` 與 `.duration`。",
		"name":          "名稱", "type": "型別", "meaning": "說明", "field": "欄位", "values": "必填、預設、可用值",
		"traits": "變更狀態：%s · 可重複執行（resume 可重跑）：%s",
		"title":  "%s 步驟類型", "generated": "由各步驟類型之宣告以 `go test ./docs -update` 產生；請勿手動編輯。",
		"other": "其他語言：[English](%s)", "see": "另見 `drbook explain KIND`。", "index": "步驟類型",
		"expr": "運算式，不需 ${{ }}", "shell": "插入之值會自動加上 shell 引號",
		"hintlist": "drbook explain KIND 可顯示各類型之參數、結果、事前檢查與範例。",
	},
}

func word(lang, key string) string {
	if w, ok := words[lang][key]; ok {
		return w
	}
	return words["en"][key]
}

func yesNo(lang string, b bool) string {
	if b {
		return word(lang, "yes")
	}
	return word(lang, "no")
}

// List writes one line per kind: its name, whether it changes state,
// whether it is idempotent, and its purpose.
// Columns are padded by display width, so that Chinese (two columns a
// character) lines up as English does.
func List(w io.Writer, reg *steps.Registry, lang string) error {
	rows := [][]string{{word(lang, "kind"), word(lang, "changes"), word(lang, "idempotent"), word(lang, "purpose")}}
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		tr := k.Traits()
		rows = append(rows, []string{name, yesNo(lang, tr.ChangesState), yesNo(lang, tr.Idempotent), steps.Summary(k).In(lang)})
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c + "\n")
				break
			}
			b.WriteString(c + strings.Repeat(" ", width[i]-runewidth.StringWidth(c)+2))
		}
	}
	b.WriteString("\n" + word(lang, "hintlist") + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// fieldNotes are the short facts about a parameter, in order: required,
// default, allowed values, expression or shell quoting.
func fieldNotes(f steps.Field, lang string, code func(string) string) []string {
	var notes []string
	if f.Doc.Required {
		notes = append(notes, word(lang, "required"))
	}
	if d := f.DefaultText(); d != "" {
		notes = append(notes, word(lang, "default")+" "+code(d))
	}
	if len(f.Doc.Enum) > 0 {
		vals := make([]string, len(f.Doc.Enum))
		for i, v := range f.Doc.Enum {
			vals[i] = code(v)
		}
		notes = append(notes, word(lang, "oneof")+" "+strings.Join(vals, ", "))
	}
	if f.Expr {
		notes = append(notes, word(lang, "expr"))
	}
	if f.Shell {
		notes = append(notes, word(lang, "shell"))
	}
	return notes
}

// displayPath writes a field path as runbooks address it: edits[].replace.
func displayPath(fields []steps.Field, path string) string {
	parts := strings.Split(path, ".")
	out := make([]string, 0, len(parts))
	cur := fields
	for _, p := range parts {
		var f *steps.Field
		for i := range cur {
			if cur[i].Name == p {
				f = &cur[i]
			}
		}
		if f == nil {
			return path
		}
		seg := p
		if f.Shape == steps.ShapeList && len(f.Fields) > 0 && len(out) < len(parts)-1 {
			seg += "[]"
		}
		if f.Shape == steps.ShapeMap && len(f.Fields) > 0 && len(out) < len(parts)-1 {
			seg += ".<name>"
		}
		out = append(out, seg)
		cur = f.Fields
	}
	return strings.Join(out, ".")
}

// Explain writes what a person needs to use kind k: its purpose and
// traits, every parameter (type, default, required, allowed values,
// meaning), every result field, its preflight checks and an example.
func Explain(w io.Writer, k steps.Kind, lang string) error {
	doc := steps.DocOf(k)
	tr := k.Traits()
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s\n", k.Name(), steps.Summary(k).In(lang))
	fmt.Fprintf(&b, word(lang, "traits")+"\n", yesNo(lang, tr.ChangesState), yesNo(lang, tr.Idempotent))
	if tr.Human {
		fmt.Fprintf(&b, "%s\n", word(lang, "human"))
	}
	plain := func(s string) string { return s }
	params := steps.ParamFields(k)
	fmt.Fprintf(&b, "\n%s\n", word(lang, "params"))
	if doc.Shorthand != "" {
		fmt.Fprintf(&b, "  (%s: `%s: VALUE` = {%s: VALUE})\n", word(lang, "short"), k.Name(), doc.Shorthand)
	}
	for _, g := range doc.OneOf {
		names := make([]string, len(g))
		for i, p := range g {
			names[i] = displayPath(params, p)
		}
		fmt.Fprintf(&b, "  (%s: %s)\n", word(lang, "exactly"), strings.Join(names, ", "))
	}
	if len(params) == 0 {
		fmt.Fprintf(&b, "  %s\n", word(lang, "none"))
	}
	steps.WalkFields(params, func(f steps.Field) {
		head := fmt.Sprintf("  %s  (%s", displayPath(params, f.Path), f.TypeName(lang))
		if n := fieldNotes(f, lang, plain); len(n) > 0 {
			head += "; " + strings.Join(n, "; ")
		}
		fmt.Fprintf(&b, "%s)\n      %s\n", head, f.Doc.Text.In(lang))
	})
	results := steps.ResultFields(k)
	fmt.Fprintf(&b, "\n%s\n  %s\n", word(lang, "result"), word(lang, "resultnote"))
	steps.WalkFields(results, func(f steps.Field) {
		fmt.Fprintf(&b, "  %s  (%s)\n      %s\n", displayPath(results, f.Path), f.TypeName(lang), doc.Result[f.Path].In(lang))
	})
	fmt.Fprintf(&b, "\n%s\n", word(lang, "preflight"))
	if len(doc.Preflight) == 0 {
		fmt.Fprintf(&b, "  %s\n", word(lang, "nopreflight"))
	}
	for _, p := range doc.Preflight {
		fmt.Fprintf(&b, "  - %s\n", p.In(lang))
	}
	if doc.Example != "" {
		fmt.Fprintf(&b, "\n%s\n", word(lang, "example"))
		fmt.Fprintf(&b, "steps:\n%s", indent(doc.Example, "  "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// Families returns the families of the registry's kinds, sorted, each with
// its kinds' names in order.
func Families(reg *steps.Registry) (names []string, kinds map[string][]string) {
	kinds = map[string][]string{}
	for _, n := range reg.Names() {
		f := steps.Family(n)
		if _, ok := kinds[f]; !ok {
			names = append(names, f)
		}
		kinds[f] = append(kinds[f], n)
	}
	sort.Strings(names)
	return names, kinds
}

// PageName is the file of a family's reference page in lang, relative to
// docs/kinds/.
func PageName(family, lang string) string {
	if lang == "zh-TW" {
		return family + ".zh-TW.md"
	}
	return family + ".md"
}

// Markdown returns the reference pages: for each family and language a
// page (keyed by PageName), and README.md and README.zh-TW.md indexing
// them.
func Markdown(reg *steps.Registry) map[string][]byte {
	out := map[string][]byte{}
	fams, kinds := Families(reg)
	for _, lang := range []string{"en", "zh-TW"} {
		other := "zh-TW"
		if lang == "zh-TW" {
			other = "en"
		}
		var idx strings.Builder
		index := "README.md"
		otherIndex := "README.zh-TW.md"
		if lang == "zh-TW" {
			index, otherIndex = otherIndex, index
		}
		fmt.Fprintf(&idx, "<!-- %s -->\n\n# %s\n\n%s\n\n", word(lang, "generated"), word(lang, "index"), fmt.Sprintf(word(lang, "other"), otherIndex))
		fmt.Fprintf(&idx, "| %s | %s | %s | %s |\n| --- | --- | --- | --- |\n", word(lang, "kind"), word(lang, "changes"), word(lang, "idempotent"), word(lang, "purpose"))
		for _, fam := range fams {
			page := PageName(fam, lang)
			var p strings.Builder
			fmt.Fprintf(&p, "<!-- %s -->\n\n# %s\n\n%s · %s\n\n", word(lang, "generated"), fmt.Sprintf(word(lang, "title"), fam),
				fmt.Sprintf(word(lang, "other"), PageName(fam, other)), word(lang, "see"))
			for _, name := range kinds[fam] {
				k, _ := reg.Lookup(name)
				tr := k.Traits()
				fmt.Fprintf(&idx, "| [`%s`](%s#%s) | %s | %s | %s |\n", name, page, anchor(name), yesNo(lang, tr.ChangesState), yesNo(lang, tr.Idempotent), mdCell(steps.Summary(k).In(lang)))
				p.WriteString(kindMarkdown(k, lang))
			}
			out[page] = []byte(p.String())
		}
		site := "site.md"
		if lang == "zh-TW" {
			site = "site.zh-TW.md"
		}
		fmt.Fprintf(&idx, "\n%s\n", map[string]string{"en": "Site files (vCenter, hosts, guests, services): [" + site + "](" + site + ").", "zh-TW": "site 檔（vCenter、主機、客體、服務）：[" + site + "](" + site + ")。"}[lang])
		out[index] = []byte(idx.String())
	}
	return out
}

// anchor is GitHub's heading anchor for a kind's name.
func anchor(name string) string { return strings.ReplaceAll(name, ".", "") }

// mdText escapes prose for Markdown: "KEY<separator>value" must not
// become an HTML tag.
func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(s)
}

// mdCell is mdText fit for a table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(mdText(s))
}

func code(s string) string {
	if strings.Contains(s, "`") {
		return "``" + s + "``"
	}
	return "`" + s + "`"
}

func kindMarkdown(k steps.Kind, lang string) string {
	doc := steps.DocOf(k)
	tr := k.Traits()
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", k.Name(), mdText(steps.Summary(k).In(lang)))
	fmt.Fprintf(&b, word(lang, "traits"), yesNo(lang, tr.ChangesState), yesNo(lang, tr.Idempotent))
	if tr.Human {
		b.WriteString(" · " + word(lang, "human"))
	}
	b.WriteString("\n\n")
	params := steps.ParamFields(k)
	fmt.Fprintf(&b, "### %s\n\n", word(lang, "params"))
	if doc.Shorthand != "" {
		fmt.Fprintf(&b, "%s: `%s: VALUE` = `{%s: VALUE}`\n\n", word(lang, "short"), k.Name(), doc.Shorthand)
	}
	for _, g := range doc.OneOf {
		names := make([]string, len(g))
		for i, p := range g {
			names[i] = code(displayPath(params, p))
		}
		fmt.Fprintf(&b, "%s: %s\n\n", word(lang, "exactly"), strings.Join(names, ", "))
	}
	if len(params) == 0 {
		fmt.Fprintf(&b, "%s\n\n", word(lang, "none"))
	} else {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n| --- | --- | --- | --- |\n", word(lang, "name"), word(lang, "type"), word(lang, "values"), word(lang, "meaning"))
		steps.WalkFields(params, func(f steps.Field) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(displayPath(params, f.Path)), f.TypeName(lang),
				mdCell(strings.Join(fieldNotes(f, lang, code), "; ")), mdCell(f.Doc.Text.In(lang)))
		})
		b.WriteString("\n")
	}
	results := steps.ResultFields(k)
	fmt.Fprintf(&b, "### %s\n\n%s\n\n", word(lang, "result"), word(lang, "resultnote.md"))
	if len(results) > 0 {
		fmt.Fprintf(&b, "| %s | %s | %s |\n| --- | --- | --- |\n", word(lang, "field"), word(lang, "type"), word(lang, "meaning"))
		steps.WalkFields(results, func(f steps.Field) {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", code(displayPath(results, f.Path)), f.TypeName(lang), mdCell(doc.Result[f.Path].In(lang)))
		})
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "### %s\n\n", word(lang, "preflight"))
	if len(doc.Preflight) == 0 {
		fmt.Fprintf(&b, "%s\n\n", word(lang, "nopreflight"))
	}
	for _, p := range doc.Preflight {
		fmt.Fprintf(&b, "- %s\n", mdText(p.In(lang)))
	}
	if len(doc.Preflight) > 0 {
		b.WriteString("\n")
	}
	if doc.Example != "" {
		fmt.Fprintf(&b, "### %s\n\n```yaml\nsteps:\n%s```\n\n", word(lang, "example"), indent(doc.Example, "  "))
	}
	return b.String()
}

// SiteMarkdown returns the reference page of site files in lang (keyed
// site.md or site.zh-TW.md, beside the kinds pages) from the site's fields
// as runbooks.SiteFields reads them.
func SiteMarkdown(fields []steps.Field, lang string) (string, []byte) {
	name, other := "site.md", "site.zh-TW.md"
	if lang == "zh-TW" {
		name, other = other, name
	}
	title := map[string]string{"en": "Site files", "zh-TW": "site 檔"}[lang]
	intro := map[string]string{
		"en":    "A site file is the inventory of one place: its vCenter, ESXi hosts, SSH guests and services. One runbook serves every site; `drbook run --site FILE` picks one. Secrets are references only (`env:NAME`, `file:PATH` or `prompt`), never the secret itself. Start the file with `# yaml-language-server: $schema=…/docs/schema/site.schema.json` for checking in VS Code; `drbook schema --site` prints the same schema.",
		"zh-TW": "site 檔為一個地點之清冊：其 vCenter、ESXi 主機、SSH 客體與服務。同一演練手冊可用於各地點，以 `drbook run --site FILE` 指定。機密僅能為參照（`env:NAME`、`file:PATH` 或 `prompt`），不可為機密本身。檔案第一行寫 `# yaml-language-server: $schema=…/docs/schema/site.schema.json` 即可於 VS Code 檢查；`drbook schema --site` 輸出相同之 schema。",
	}[lang]
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- %s -->\n\n# %s\n\n%s\n\n%s\n\n", word(lang, "generated"), title, fmt.Sprintf(word(lang, "other"), other), intro)
	fmt.Fprintf(&b, "| %s | %s | %s | %s |\n| --- | --- | --- | --- |\n", word(lang, "name"), word(lang, "type"), word(lang, "values"), word(lang, "meaning"))
	steps.WalkFields(fields, func(f steps.Field) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(displayPath(fields, f.Path)), f.TypeName(lang),
			mdCell(strings.Join(fieldNotes(f, lang, code), "; ")), mdCell(f.Doc.Text.In(lang)))
	})
	return name, []byte(b.String())
}
