package control

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

func kind(name string) steps.Kind {
	for _, k := range Kinds() {
		if k.Name() == name {
			return k
		}
	}
	panic(name)
}

func TestConformance(t *testing.T) {
	answered := steptest.NewRuntime(t, nil)
	answered.Answer = func(q steps.Question) (steps.Answer, error) {
		return steps.Answer{Who: "ann", Done: true, Inputs: map[string]any{"ticket": "INC-1"}}, nil
	}
	cases := map[string]steptest.Case{
		"wait":       {Params: "{for: 10ms}", Slow: "{for: 1m}"},
		"assert":     {Params: "{that: true}"},
		"log":        {Params: "{message: hello}"},
		"exec.local": {Params: "{command: [true]}", Slow: "{command: [sleep, '60']}"},
		"manual":     {Params: "{en: power the host on, inputs: [{name: ticket}]}", Runtime: answered},
	}
	for _, k := range Kinds() {
		c, ok := cases[k.Name()]
		if !ok {
			t.Errorf("no conformance case for %s", k.Name())
			continue
		}
		t.Run(k.Name(), func(t *testing.T) { steptest.Conformance(t, k, c) })
	}
}

func TestShorthands(t *testing.T) {
	if p := steptest.Decode(t, kind("wait"), "5s").(*WaitParams); p.For.D() != 5*time.Second {
		t.Errorf("wait: 5s gave %v", p.For)
	}
	if p := steptest.Decode(t, kind("log"), "hello").(*LogParams); p.Message.In("zh-TW") != "hello" {
		t.Errorf("log: hello gave %+v", p.Message)
	}
	for src, want := range map[string]string{
		"{}":                      "give how long to wait",
		"{for: 5 minutes}":        "not a duration",
		"{for: 1s, until: later}": `unknown field "until"`,
	} {
		_, errs := steptest.DecodeErrors(kind("wait"), src)
		if len(errs) == 0 || !strings.Contains(errs[0].Msg, want) {
			t.Errorf("wait %s: %v, want %q", src, errs, want)
		}
	}
}

func TestAssertMessageInOperatorLanguage(t *testing.T) {
	rt := steptest.NewRuntime(t, nil)
	rt.Opts.Lang = "zh-TW"
	p := steptest.Decode(t, kind("assert"), "{that: false, message: {en: not met, zh-TW: 未達成}}")
	// Both languages travel with the error: the journal keeps both, the
	// screen and the report show the run's.
	_, err := kind("assert").Execute(context.Background(), rt, p)
	if err == nil || err.Error() != "not met" || i18n.In(err, "zh-TW") != "未達成" {
		t.Fatalf("err %v (zh-TW %q)", err, i18n.In(err, "zh-TW"))
	}
}

func TestExecLocal(t *testing.T) {
	k := kind("exec.local")
	rt := steptest.NewRuntime(t, nil)
	p := steptest.Decode(t, k, `{shell: "printf 'out'; printf 'err' >&2; exit 3", exit_codes: [0, 3]}`)
	res, err := k.Execute(context.Background(), rt, p)
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*ExecLocalResult)
	if r.ExitCode != 3 || r.Stdout != "out" || r.Stderr != "err" {
		t.Fatalf("%+v", r)
	}
	if len(rt.Evidences) != 1 || rt.Evidences[0].Kind != journal.EvidenceTranscript || rt.Evidences[0].Transcript.ExitCode != 3 {
		t.Fatalf("transcript evidence: %+v", rt.Evidences)
	}
	p = steptest.Decode(t, k, `{shell: "exit 4"}`)
	if _, err := k.Execute(context.Background(), rt, p); err == nil || !strings.Contains(err.Error(), "exited with 4") {
		t.Fatalf("unexpected exit code must fail: %v", err)
	}
	// Output past the cap is kept whole in an artifact.
	p = steptest.Decode(t, k, `{shell: "head -c 5000 /dev/zero | tr '\\0' x", max_output: 100}`)
	res, err = k.Execute(context.Background(), rt, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(res.(*ExecLocalResult).Stdout); got != 100 {
		t.Fatalf("stdout kept %d bytes, want the 100-byte cap", got)
	}
	last := rt.Artifacts[len(rt.Artifacts)-2]
	if last.Size != 5000 || filepath.Base(last.Path) == "" {
		t.Fatalf("the full output is not in an artifact: %+v", rt.Artifacts)
	}
}

func TestManualUnattendedSaysWhatToDo(t *testing.T) {
	k := kind("manual")
	_, err := k.Execute(context.Background(), steptest.NewRuntime(t, nil), steptest.Decode(t, k, "{en: x}"))
	if err == nil || !strings.Contains(err.Error(), "unattended") {
		t.Fatalf("err %v", err)
	}
}
