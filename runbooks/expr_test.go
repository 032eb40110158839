package runbooks_test

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/runbooks"
)

// parseInline loads a runbook held in the test against the lab site.
func parseInline(t *testing.T, src string, vars map[string]string) *runbooks.Runbook {
	t.Helper()
	rb, err := runbooks.Parse("inline.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: vars})
	if err != nil {
		if l, ok := err.(*runbooks.ErrorList); ok {
			t.Fatalf("runbook must load:\n%s", l.Format(true))
		}
		t.Fatal(err)
	}
	return rb
}

func stepByID(t *testing.T, rb *runbooks.Runbook, id string) *runbooks.Step {
	t.Helper()
	for _, s := range rb.AllSteps() {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %q", id)
	return nil
}

const resultsRunbook = `name: results
params:
  guests: {type: list, default: [ap01, ap02]}
  n: 3
steps:
  - id: shut
    register: shutdown
    vcenter.host.shutdown: {host: esx-68}
  - id: lines
    ssh.exec: {guest: ap01, command: "ls /"}
  - id: fan
    test.fan:
      hosts: "${{ steps.lines.result.lines }}"
      count: "${{ steps.shut.result.powered_on + params.n }}"
      enabled: "${{ steps.shut.status == 'ok' }}"
      pause: "${{ steps.shut.duration }}"
  - id: per_guest
    for_each: ${{ params.guests }}
    ssh.exec: {guest: "${{ item }}", command: "hostname", note: "on ${{ item }} after ${{ steps.shut.attempts }} tries"}
  - id: check
    when: vars.shutdown.host == "esx-68" && steps.per_guest.results[1].exit_code == 3
    until: result.holds && attempt < 3
    assert: len(steps.per_guest.results) == 2
`

// TestEnvRecordAndEval: outcomes recorded in the Env are what
// steps.<id>.… and vars.<name> read, with the kind's own result types.
func TestEnvRecordAndEval(t *testing.T) {
	rb := parseInline(t, resultsRunbook, nil)
	env := rb.NewEnv()
	shut, check := stepByID(t, rb, "shut"), stepByID(t, rb, "check")

	// Before the step ran (or when it was skipped) its result is nil: the
	// condition fails with an error that says where, not a panic.
	if _, err := env.EvalBool(check.When, runbooks.Vars{}); err == nil || !strings.HasPrefix(err.Error(), "inline.yaml:21:11: expression `vars.shutdown.host") {
		t.Errorf("when before any outcome: err = %v; want a positioned error", err)
	}

	env.Record(shut, runbooks.Outcome{Status: "ok", Result: &hostShutdownResult{Host: "esx-68", PoweredOn: 4}, Attempts: 2, Duration: 1500 * time.Millisecond})
	env.Record(stepByID(t, rb, "per_guest"), runbooks.Outcome{Status: "ok", Results: []any{
		&guestExecResult{ExitCode: 0}, &guestExecResult{ExitCode: 3},
	}})

	env.Record(stepByID(t, rb, "lines"), runbooks.Outcome{Status: "ok", Result: &guestExecResult{Lines: []string{"bin", "etc", "a b"}}})
	fan := stepByID(t, rb, "fan")
	for n, tp := range fan.Templates {
		got, err := env.Eval(tp.Parts[0].Expr, runbooks.Vars{})
		if err != nil {
			t.Fatalf("%s: %v", n.Value, err)
		}
		switch n.Value {
		case "${{ steps.shut.result.powered_on + params.n }}":
			if got != 7 {
				t.Errorf("%s = %#v, want 7 (an int)", n.Value, got)
			}
		case "${{ steps.shut.status == 'ok' }}":
			if got != true {
				t.Errorf("%s = %#v, want true", n.Value, got)
			}
		case "${{ steps.shut.duration }}":
			if got != 1500*time.Millisecond {
				t.Errorf("%s = %#v, want 1.5s", n.Value, got)
			}
		}
	}
	if ok, err := env.EvalBool(check.When, runbooks.Vars{}); err != nil || !ok {
		t.Errorf("when over vars.shutdown and steps.per_guest.results = %v, %v; want true", ok, err)
	}
	// until sees the current result and attempt.
	if ok, err := env.EvalBool(check.Until.Cond, runbooks.Vars{Result: &struct{ Holds bool }{true}, Attempt: 1}); err == nil && ok {
		t.Errorf("until accepted a result of the wrong type as if it held")
	}
	assertResult := check.Kind.NewResult()
	reflect.ValueOf(assertResult).Elem().Field(0).SetBool(true)
	if ok, err := env.EvalBool(check.Until.Cond, runbooks.Vars{Result: assertResult, Attempt: 1}); err != nil || !ok {
		t.Errorf("until with holds=true attempt=1 = %v, %v; want true", ok, err)
	}
	if ok, _ := env.EvalBool(check.Until.Cond, runbooks.Vars{Result: assertResult, Attempt: 3}); ok {
		t.Errorf("until with attempt=3 held; want false")
	}

	// ResolveParams: whole values keep their type (a list stays a list, a
	// number a number, a duration a duration).
	p, err := rb.ResolveParams(fan, env, runbooks.Vars{})
	if err != nil {
		t.Fatal(err)
	}
	fp := p.(*fanParams)
	if !reflect.DeepEqual(fp.Hosts, []string{"bin", "etc", "a b"}) || fp.Count != 7 || !fp.Enabled || fp.Pause.D() != 1500*time.Millisecond {
		t.Errorf("resolved fan params = %+v", fp)
	}

	// The loop item, and text interpolation of an int.
	pg := stepByID(t, rb, "per_guest")
	p, err = rb.ResolveParams(pg, env, runbooks.Vars{Item: "ap02"})
	if err != nil {
		t.Fatal(err)
	}
	if gp := p.(*guestExecParams); gp.Guest != "ap02" || gp.Note != "on ap02 after 2 tries" {
		t.Errorf("per_guest params = %+v", gp)
	}

	// A journaled result decodes back into the kind's type and can be
	// recorded again (resume rebuilds the Env this way).
	raw, _ := json.Marshal(&hostShutdownResult{Host: "esx-70", PoweredOn: 1})
	r, err := runbooks.DecodeResult(shut, raw)
	if err != nil {
		t.Fatal(err)
	}
	fresh := rb.NewEnv()
	fresh.Record(shut, runbooks.Outcome{Status: "ok", Result: r})
	tp := fan.Templates[findNode(t, fan, "${{ steps.shut.result.powered_on + params.n }}")]
	if got, err := fresh.Eval(tp.Parts[0].Expr, runbooks.Vars{}); err != nil || got != 4 {
		t.Errorf("after DecodeResult: %v, %v; want 4", got, err)
	}
}

func findNode(t *testing.T, st *runbooks.Step, value string) *yaml.Node {
	t.Helper()
	for n := range st.Templates {
		if n.Value == value {
			return n
		}
	}
	t.Fatalf("step %s has no template %q", st.ID, value)
	return nil
}

// hostileValues are values an operator might pass with --var, or a step
// might return, that a shell would otherwise split, expand or execute.
var hostileValues = []string{
	"; rm -rf /",
	"$(touch /tmp/drbook-pwned)",
	"`id`",
	`it's "quoted"`,
	"two\nlines",
	"$HOME and ${PATH}",
	"a b\tc",
	"*",
	"",
	"-n",
	`back\slash`,
	"'",
	"x'\"'\"'y",
	"| cat /etc/passwd > /dev/null &",
}

// runShell runs cmd with /bin/sh -c and returns its standard output.
func runShell(t *testing.T, cmd string) string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", cmd).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", cmd, err)
	}
	return string(out)
}

// TestShellQuoting: a value interpolated into a drbook:"shell" field is one
// literal word, whatever it holds; running the rendered command through
// /bin/sh proves it. The same value in a plain field is left as written.
func TestShellQuoting(t *testing.T) {
	const src = `name: quoting
params:
  v: {type: string, default: x}
  many: {type: list, default: []}
steps:
  - id: one
    ssh.exec: {guest: ap01, command: "printf '%s\n' ${{ params.v }}", note: "${{ params.v }}"}
  - id: embedded
    ssh.exec: {guest: ap01, command: "printf '%s\n' pre${{ params.v }}post"}
  - id: list
    ssh.exec: {guest: ap01, command: "printf '%s\n' ${{ params.many }}"}
  - id: local
    exec.local: {shell: "printf '%s\n' ${{ params.v }}"}
`
	for _, v := range hostileValues {
		t.Run(strings.ReplaceAll(v, "/", "∕"), func(t *testing.T) {
			rb := parseInline(t, src, map[string]string{"v": v, "many": "; ls,$(id),`id`"})
			env := rb.NewEnv()
			one := resolve(t, rb, env, "one").(*guestExecParams)
			if got := runShell(t, one.Command); got != v+"\n" {
				t.Errorf("command %q printed %q; want the value as one word %q", one.Command, got, v+"\n")
			}
			if one.Note != v {
				t.Errorf("note (not a shell field) = %q; want the value unquoted %q", one.Note, v)
			}
			emb := resolve(t, rb, env, "embedded").(*guestExecParams)
			if got := runShell(t, emb.Command); got != "pre"+v+"post\n" {
				t.Errorf("command %q printed %q; want %q", emb.Command, got, "pre"+v+"post\n")
			}
			// A shell field that is exactly one expression is the command
			// name: refused at load time (TestShellRefusals).
			list := resolve(t, rb, env, "list").(*guestExecParams)
			if got := runShell(t, list.Command); got != "; ls\n$(id)\n`id`\n" {
				t.Errorf("list command %q printed %q; want one line per element", list.Command, got)
			}
			local := resolve(t, rb, env, "local")
			if got := runShell(t, reflect.ValueOf(local).Elem().FieldByName("Shell").String()); got != v+"\n" {
				t.Errorf("exec.local shell printed %q; want %q", got, v+"\n")
			}
		})
	}
}

// TestRawOptsOut: raw() is the explicit way to let the shell see a value
// as shell text.
func TestRawOptsOut(t *testing.T) {
	rb := parseInline(t, `name: raw
params:
  v: {type: string, default: "a b $(echo c)"}
steps:
  - id: raw
    ssh.exec: {guest: ap01, command: "printf '%s\n' ${{ raw(params.v) }}"}
  - id: quoted
    ssh.exec: {guest: ap01, command: "printf '%s\n' ${{ params.v }}"}
`, nil)
	env := rb.NewEnv()
	raw := resolve(t, rb, env, "raw").(*guestExecParams)
	if raw.Command != "printf '%s\n' a b $(echo c)" {
		t.Errorf("raw command = %q; want the value inserted as written", raw.Command)
	}
	if got := runShell(t, raw.Command); got != "a\nb\nc\n" {
		t.Errorf("raw command printed %q; want the shell to split and expand it", got)
	}
	quoted := resolve(t, rb, env, "quoted").(*guestExecParams)
	if got := runShell(t, quoted.Command); got != "a b $(echo c)\n" {
		t.Errorf("quoted command printed %q", got)
	}
}

// TestRenderForPlan: Template.Render gives plan the text a step would
// run; a whole list renders as YAML, a shell field as the quoted command.
func TestRenderForPlan(t *testing.T) {
	rb := parseInline(t, `name: render
params:
  hosts: {type: list, default: [esx-68, esx-69]}
  who: "O'Brien"
steps:
  - id: a
    test.fan: {hosts: "${{ params.hosts }}"}
  - id: b
    ssh.exec: {guest: ap01, command: "echo ${{ params.who }}"}
`, nil)
	env := rb.StaticEnv()
	for id, want := range map[string]string{"a": "- esx-68\n- esx-69", "b": `echo 'O'"'"'Brien'`} {
		st := stepByID(t, rb, id)
		if len(st.Templates) != 1 {
			t.Fatalf("step %s has %d templates", id, len(st.Templates))
		}
		for _, tp := range st.Templates {
			got, err := tp.Render(env, runbooks.Vars{})
			if err != nil || got != want {
				t.Errorf("render %s = %q, %v; want %q", id, got, err, want)
			}
		}
	}
}

func resolve(t *testing.T, rb *runbooks.Runbook, env *runbooks.Env, id string) any {
	t.Helper()
	p, err := rb.ResolveParams(stepByID(t, rb, id), env, runbooks.Vars{})
	if err != nil {
		t.Fatalf("resolve %s: %v", id, err)
	}
	return p
}

// TestEnvReadThroughDollarEnv: an expression that reads the loop item or
// the current result only through $env (the whole environment) is still
// checked and run against its own step's types, not the shape shared by
// expressions that read neither.
func TestEnvReadThroughDollarEnv(t *testing.T) {
	rb := parseInline(t, `name: dollar-env
params:
  guests: {type: list, default: [ap01, ap02]}
steps:
  - id: check
    assert: "true"
    until: $env.result.holds && $env.attempt < 3
  - id: per_guest
    for_each: ${{ params.guests }}
    ssh.exec: {guest: "${{ $env.item }}", command: "hostname"}
`, nil)
	check := stepByID(t, rb, "check")
	held := check.Kind.NewResult()
	reflect.ValueOf(held).Elem().Field(0).SetBool(true)
	if ok, err := rb.NewEnv().EvalBool(check.Until.Cond, runbooks.Vars{Result: held, Attempt: 1}); err != nil || !ok {
		t.Errorf("until over $env.result with holds=true = %v, %v; want true", ok, err)
	}
	p, err := rb.ResolveParams(stepByID(t, rb, "per_guest"), rb.NewEnv(), runbooks.Vars{Item: "ap02"})
	if err != nil {
		t.Fatal(err)
	}
	if gp := p.(*guestExecParams); gp.Guest != "ap02" {
		t.Errorf("guest from $env.item = %q, want ap02", gp.Guest)
	}
}

// TestSameExpressionInManySteps: an expression written in several steps
// is compiled once per environment shape, yet each copy is judged where it
// stands: a type error at every place it is written, a step result read
// before the step runs only there, and a result field that one kind has
// and another lacks only in the step of the other kind.
func TestSameExpressionInManySteps(t *testing.T) {
	list := parseProblems(t, `name: repeated
params:
  n: 3
steps:
  - id: a
    when: params.n == "three"
    log: a
  - id: b
    when: params.n == "three"
    log: b
  - id: c
    ssh.exec: {guest: ap01, command: "true"}
    until: result.exit_code == 0
  - id: d
    assert: "true"
    until: result.exit_code == 0
  - id: e
    ssh.exec: {guest: ap01, command: "true"}
    until: result.exit_code == 0
  - id: f
    when: steps.g.status == "ok"
    log: f
  - id: g
    log: g
  - id: h
    when: steps.g.status == "ok"
    log: h
`)
	want := []string{
		"inline.yaml:6:20: expression `params.n == \"three\"`",
		"inline.yaml:9:20: expression `params.n == \"three\"`",
		"inline.yaml:16:19: expression `result.exit_code == 0`: the result of assert has no field exit_code",
		"inline.yaml:21:11: expression `steps.g.status == \"ok\"`: step \"g\" is not run before this one",
	}
	if len(list.Problems) != len(want) {
		t.Fatalf("%d problems, want %d:\n%s", len(list.Problems), len(want), list.Error())
	}
	for i, p := range list.Problems {
		if got := p.Pos.String() + ": " + p.Msg; !strings.HasPrefix(got, want[i]) {
			t.Errorf("problem %d = %s\nwant it to start with %s", i, got, want[i])
		}
	}
}

// TestDollarEnvStepsIsReadAtRunTime: ${{ $env.steps.a.status }} is the
// same as ${{ steps.a.status }}: read when the step runs, not rendered at
// load with no outcome yet (which made a log step "need text").
func TestDollarEnvStepsIsReadAtRunTime(t *testing.T) {
	rb := parseInline(t, `name: dollar-env-steps
steps:
  - id: a
    log: "first"
  - id: b
    log: "${{ $env.steps.a.status }}"
`, nil)
	env := rb.NewEnv()
	env.Record(stepByID(t, rb, "a"), runbooks.Outcome{Status: "ok"})
	b := stepByID(t, rb, "b")
	if len(b.Templates) != 1 {
		t.Fatalf("step b has %d templates, want the one of its log text", len(b.Templates))
	}
	for _, tp := range b.Templates {
		got, err := env.Eval(tp.Parts[0].Expr, runbooks.Vars{})
		if err != nil || got != "ok" {
			t.Errorf("$env.steps.a.status after a = %#v, %v; want \"ok\"", got, err)
		}
	}
}
