package control

import (
	"context"
	"fmt"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
)

// ManualParams describe work a person does by hand: instructions in both
// languages (`manual: {en: …, zh-TW: …}`), an optional checklist and typed
// inputs the person enters, which are journaled.
type ManualParams struct {
	EN        string         `yaml:"en"`
	ZhTW      string         `yaml:"zh-TW"`
	Checklist []journal.Text `yaml:"checklist"`
	Inputs    []ManualInput  `yaml:"inputs"`
}

// ManualInput is a value the person enters.
type ManualInput struct {
	Name     string       `yaml:"name"`
	Label    journal.Text `yaml:"label"`
	Type     string       `yaml:"type"`
	Required bool         `yaml:"required"`
}

// ManualResult holds who did it and what they entered.
type ManualResult struct {
	Who    string         `json:"who" expr:"who"`
	Inputs map[string]any `json:"inputs" expr:"inputs"`
}

type manualKind struct{}

var _ steps.Kind = manualKind{}

func (manualKind) Name() string { return "manual" }
func (manualKind) Summary() string {
	return "a step a person does by hand, with instructions and recorded inputs"
}
func (manualKind) Traits() steps.Traits {
	return steps.Traits{ChangesState: true, Human: true}
}
func (manualKind) NewParams() any { return &ManualParams{} }
func (manualKind) NewResult() any { return &ManualResult{} }
func (manualKind) Validate(p any) []steps.FieldError {
	mp := p.(*ManualParams)
	var errs []steps.FieldError
	if mp.EN == "" && mp.ZhTW == "" {
		errs = append(errs, steps.Fieldf("en", "a manual step needs instructions (en and/or zh-TW)", "manual 步驟須有操作說明（en 及／或 zh-TW）"))
	}
	seen := map[string]bool{}
	for i, in := range mp.Inputs {
		f := fmt.Sprintf("inputs[%d]", i)
		if in.Name == "" || seen[in.Name] {
			errs = append(errs, steps.Fieldf(f+".name", "each input needs a unique name", "每個輸入項須有唯一名稱"))
		}
		seen[in.Name] = true
		switch in.Type {
		case "", "string", "int", "duration", "bool":
		default:
			errs = append(errs, steps.Fieldf(f+".type", "type %q must be string, int, duration or bool", "type %q 須為 string、int、duration 或 bool", in.Type))
		}
	}
	return errs
}
func (manualKind) Describe(p any) steps.Description {
	mp := p.(*ManualParams)
	t := journal.Text{EN: mp.EN, ZhTW: mp.ZhTW}
	return steps.Description{Action: "by hand: " + t.In("en"), ActionZhTW: "手動作業：" + t.In("zh-TW")}
}
func (manualKind) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	mp := p.(*ManualParams)
	q := steps.Question{Text: journal.Text{EN: mp.EN, ZhTW: mp.ZhTW}, Checklist: mp.Checklist}
	for _, in := range mp.Inputs {
		t := in.Type
		if t == "" {
			t = "string"
		}
		q.Inputs = append(q.Inputs, steps.Input{Name: in.Name, Label: in.Label, Type: t, Required: in.Required})
	}
	ans, err := rt.Ask(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(q.Checklist) > 0 {
		rt.Evidence(checklistEvidence(q.Checklist, ans))
		for i := range q.Checklist {
			if i >= len(ans.Checked) || ans.Checked[i].IsZero() {
				return &ManualResult{Who: ans.Who, Inputs: ans.Inputs}, i18n.Errorf("%s did not confirm checklist item %d (%s)", "%s 未確認檢核項目第 %d 項（%s）", ans.Who, i+1, q.Checklist[i].In("en"))
			}
		}
	}
	for _, in := range q.Inputs {
		if v, ok := ans.Inputs[in.Name]; in.Required && (!ok || v == "") {
			return &ManualResult{Who: ans.Who, Inputs: ans.Inputs}, i18n.Errorf("the required input %q was not entered", "必填欄位 %q 未輸入", in.Name)
		}
	}
	if !ans.Done {
		return &ManualResult{Who: ans.Who, Inputs: ans.Inputs}, i18n.Errorf("%s did not confirm the manual step as done", "%s 未確認已完成此人工步驟", ans.Who)
	}
	return &ManualResult{Who: ans.Who, Inputs: ans.Inputs}, nil
}

// checklistEvidence is the checklist as the auditor sees it: each item,
// whether the person confirmed it, and when.
func checklistEvidence(items []journal.Text, ans steps.Answer) journal.Evidence {
	t := &journal.Table{Columns: []string{"#", "item", "confirmed", "by", "at (UTC)"}, ColumnsZhTW: []string{"#", "項目", "已確認", "確認人員", "時間（UTC）"}}
	for i, it := range items {
		ok := i < len(ans.Checked) && !ans.Checked[i].IsZero()
		at := ""
		if ok {
			at = ans.Checked[i].UTC().Format(time.RFC3339)
		}
		confirmed, zh := journal.YesNo(ok)
		text := it.In("en")
		if zh := it.In("zh-TW"); zh != text {
			text += " / " + zh
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(i + 1), text, confirmed, ans.Who, at})
		t.RowsZhTW = append(t.RowsZhTW, []string{fmt.Sprint(i + 1), it.In("zh-TW"), zh, ans.Who, at})
	}
	return journal.Evidence{Kind: journal.EvidenceTable, Title: "Checklist confirmed by the operator", TitleZhTW: "操作人員逐項確認之檢查清單", Table: t}
}
