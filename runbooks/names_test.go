package runbooks_test

import (
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/control"
)

// TestStepNamesTakeInterpolation: a step name's (or the title's) ${{ }}
// that reads params is rendered at load with this run's --var, in each
// language; one that reads the loop item is rendered per instance by
// StepName; text without ${{ is left as written.
func TestStepNamesTakeInterpolation(t *testing.T) {
	src := `name: names
title: {en: "Fail ${{ params.failed_host }}", zh-TW: "主機 ${{ params.failed_host }}"}
params:
  failed_host: {type: host, default: esx-68}
steps:
  - id: shutdown
    name: {en: "Shut down host ${{ params.failed_host }}", zh-TW: "將主機 ${{ params.failed_host }} 關機"}
    vcenter.host.shutdown: {host: "${{ params.failed_host }}"}
  - id: plain
    name: "Host ${{ params.failed_host }} is down"
    log: x
  - id: each
    name: {en: "Check ${{ item }} after ${{ params.failed_host }}", zh-TW: "檢查 ${{ item }}"}
    for_each: [ap01, ap02]
    log: x
  - id: literal
    name: "costs $5 {not an expression}"
    log: x
`
	rb, err := runbooks.Parse("inline.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{"failed_host": "esx-70"}})
	if err != nil {
		t.Fatal(err)
	}
	if w := (journal.Text{EN: "Fail esx-70", ZhTW: "主機 esx-70"}); rb.Title != w {
		t.Errorf("title %+v, want %+v", rb.Title, w)
	}
	want := []journal.Text{
		{EN: "Shut down host esx-70", ZhTW: "將主機 esx-70 關機"},
		{EN: "Host esx-70 is down", ZhTW: "Host esx-70 is down"},
	}
	for i, w := range want {
		if got := rb.Steps[i].Name; got != w {
			t.Errorf("step %s: name %+v, want %+v", rb.Steps[i].ID, got, w)
		}
	}
	each := rb.Steps[2]
	if got, w := rb.StepName(each, rb.NewEnv(), runbooks.Vars{Item: "ap02"}), (journal.Text{EN: "Check ap02 after esx-70", ZhTW: "檢查 ap02"}); got != w {
		t.Errorf("for_each instance name %+v, want %+v", got, w)
	}
	// The group as a whole has no item: its name stays as written.
	if got, w := rb.StepName(each, rb.NewEnv(), runbooks.Vars{}), (journal.Text{EN: "Check ${{ item }} after ${{ params.failed_host }}", ZhTW: "檢查 ${{ item }}"}); got != w {
		t.Errorf("for_each group name %+v, want %+v", got, w)
	}
	if got := rb.Steps[3].Name.EN; got != "costs $5 {not an expression}" {
		t.Errorf("literal name %q", got)
	}
}

// TestManualTextsTakeInterpolation: a manual step's instructions and
// checklist are plain text templates: rendered with --var (not shell
// quoted), and a typo in them fails the load at the expression.
func TestManualTextsTakeInterpolation(t *testing.T) {
	src := `name: manual-texts
params:
  failed_host: {type: host, default: esx-68}
steps:
  - id: power_on
    manual:
      en: "Power ${{ params.failed_host }} on; it's in rack A2"
      zh-TW: "將主機 ${{ params.failed_host }} 開機"
      checklist: ["${{ params.failed_host }} shows the ESXi console"]
`
	rb, err := runbooks.Parse("inline.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{"failed_host": "esx-70"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := rb.ResolveParams(rb.Steps[0], rb.NewEnv(), runbooks.Vars{})
	if err != nil {
		t.Fatal(err)
	}
	m := p.(*control.ManualParams)
	if m.EN != "Power esx-70 on; it's in rack A2" || m.ZhTW != "將主機 esx-70 開機" || len(m.Checklist) != 1 || m.Checklist[0].EN != "esx-70 shows the ESXi console" {
		t.Errorf("manual texts %+v", m)
	}
	list := parseProblems(t, strings.Replace(src, `"${{ params.failed_host }} shows`, `"${{ params.faild_host }} shows`, 1))
	if len(list.Problems) != 1 || list.Problems[0].Pos.Line != 9 || list.Problems[0].Pos.Column != 24 {
		t.Errorf("want one problem at 9:24, got:\n%s", list.Error())
	}
}
