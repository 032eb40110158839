package runbooks_test

import (
	"github.com/drbook/drbook/steps/control"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/drbook/drbook/runbooks"
)

// loadValid loads a runbook from testdata/valid, failing with the full
// error text when it does not load.
func loadValid(t *testing.T, name string) *runbooks.Runbook {
	t.Helper()
	rb, err := loadTestFile(t, filepath.Join("testdata/valid", name))
	if err != nil {
		if l, ok := err.(*runbooks.ErrorList); ok {
			t.Fatalf("%s must load:\n%s", name, l.Format(true))
		}
		t.Fatalf("%s must load: %v", name, err)
	}
	return rb
}

func TestValidFilesLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) < 3 {
		t.Fatalf("only %d valid runbooks", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { loadValid(t, filepath.Base(f)) })
	}
}

// TestModelOfHADrill checks the model the loader builds from a runbook that
// uses every feature: what the engine, plan and the report will read.
func TestModelOfHADrill(t *testing.T) {
	rb := loadValid(t, "ha_drill.yaml")

	if rb.Name != "ha-host-failure" || rb.Title.ZhTW != "HA 演練：主機 .68 無預警停機" || rb.Title.EN == "" ||
		rb.Summary.EN != "Shut a host down and measure how long HA takes." || rb.Owner != "ops@example.test" ||
		rb.Version != "1.2" || rb.RTO != 5*time.Minute || rb.Labels["office"] != "testlab" {
		t.Errorf("metadata: name %q title %+v summary %+v owner %q version %q rto %v labels %v",
			rb.Name, rb.Title, rb.Summary, rb.Owner, rb.Version, rb.RTO, rb.Labels)
	}
	if len(rb.SHA256) != 64 || string(rb.Source[:8]) != "# vars: " {
		t.Errorf("SHA256 %q / Source not kept", rb.SHA256)
	}

	// Parameters: declared types (long form and shorthand), defaults, and
	// the values after --var failed_host=esx-69 attempts=7 guests=ap01,ap02.
	wantParams := []struct {
		name, typ string
		def       any
	}{
		{"failed_host", "host", "esx-68"},
		{"target", "guest", "ap01"},
		{"attempts", "int", 3},
		{"force", "bool", true},
		{"pause", "duration", 2 * time.Second},
		{"guests", "list", []string{"ap01"}},
		{"ticket", "string", "CHG-1"},
		{"names", "list", []string{"a", "b"}},
	}
	if len(rb.Params) != len(wantParams) {
		t.Fatalf("%d params, want %d", len(rb.Params), len(wantParams))
	}
	for i, w := range wantParams {
		p := rb.Params[i]
		if p.Name != w.name || p.Type != w.typ || !p.HasDefault || !reflect.DeepEqual(p.Default, w.def) {
			t.Errorf("param %d = %s %s default %#v; want %s %s default %#v", i, p.Name, p.Type, p.Default, w.name, w.typ, w.def)
		}
		if p.Pos.Line != 10+i || p.Pos.Column != 3 {
			t.Errorf("param %s at %v, want line %d col 3", p.Name, p.Pos, 10+i)
		}
	}
	if rb.Params[0].Description.ZhTW != "停機主機" {
		t.Errorf("description in zh-TW lost: %+v", rb.Params[0].Description)
	}
	wantValues := map[string]any{
		"failed_host": "esx-69", "target": "ap01", "attempts": 7, "force": true, "pause": 2 * time.Second,
		"guests": []string{"ap01", "ap02"}, "ticket": "CHG-1", "names": []string{"a", "b"},
	}
	if !reflect.DeepEqual(rb.Values, wantValues) {
		t.Errorf("values\n got %#v\nwant %#v", rb.Values, wantValues)
	}

	// Steps, blocks and ids, in declaration order with parallel children.
	type want struct {
		id, block, kind string
		auto, static    bool
	}
	wantSteps := []want{
		{"placement_before", "steps", "log", false, true},
		{"shut", "steps", "vcenter.host.shutdown", false, true},
		{"services_back", "steps", "check.http", false, true},
		{"steps_4", "steps", "check.http", true, true},
		{"restarted", "steps", "check.http", false, false},
		{"per_guest", "steps", "ssh.exec", false, false},
		{"group", "steps", "", false, false},
		{"fan_static", "steps", "test.fan", false, true},
		{"steps_9", "steps", "test.fan", true, false},
		{"steps_10", "steps", "vcenter.host.wait_connected", true, false},
		{"check", "steps", "assert", false, false},
		{"on_failure_1", "on_failure", "log", true, true},
		{"power_on", "finally", "manual", false, true},
		{"finally_2", "finally", "vcenter.host.wait_connected", true, true},
	}
	all := rb.AllSteps()
	if len(all) != len(wantSteps) {
		t.Fatalf("%d steps in all, want %d", len(all), len(wantSteps))
	}
	byID := map[string]*runbooks.Step{}
	for i, w := range wantSteps {
		s := all[i]
		byID[s.ID] = s
		if s.ID != w.id || s.Block != w.block || s.KindName != w.kind || s.AutoID != w.auto || s.Static != w.static {
			t.Errorf("step %d = {%s %s %s auto=%v static=%v}; want %+v", i, s.ID, s.Block, s.KindName, s.AutoID, s.Static, w)
		}
		if s.Static && s.Kind != nil && s.Params == nil {
			t.Errorf("static step %s has no load-time params", s.ID)
		}
		if !s.Static && s.Params != nil {
			t.Errorf("dynamic step %s has load-time params %+v; they can only be known at run time", s.ID, s.Params)
		}
	}
	if len(rb.Steps) != 9 || len(rb.OnFailure) != 1 || len(rb.Finally) != 2 {
		t.Errorf("blocks: %d steps, %d on_failure, %d finally (top level); want 9, 1, 2", len(rb.Steps), len(rb.OnFailure), len(rb.Finally))
	}
	if g := byID["group"]; len(g.Parallel) != 2 || g.Parallel[0].ID != "fan_static" || g.Concurrency != 1 || g.Kind != nil {
		t.Errorf("group = %+v; want a kindless group of 2 with concurrency 1", g)
	}

	// Common fields.
	shut := byID["shut"]
	if !shut.Confirm || !shut.Disruptive || shut.Expect != time.Minute || shut.Timeout != 2*time.Minute || shut.Register != "shutdown" {
		t.Errorf("shut common fields: %+v", shut)
	}
	if p := shut.Params.(*hostShutdownParams); p.Host != "esx-69" || !p.Force {
		t.Errorf("shut params = %+v; want the --var host and the bool param kept a bool", p)
	}
	if pw := byID["power_on"]; !pw.Recovery || !pw.ContinueOnError {
		t.Errorf("power_on: recovery %v continue_on_error %v", pw.Recovery, pw.ContinueOnError)
	}
	if shut.Pos.Line != 24 || shut.Pos.Column != 5 {
		t.Errorf("shut at %v, want line 24 col 5", shut.Pos)
	}
	if n := byID["placement_before"].Name; n.EN != "Record placement" || n.ZhTW != "記錄配置" {
		t.Errorf("step name = %+v", n)
	}

	// retry: the mapping form keeps what is written; the scalar form is
	// attempts with the defaults (1s delay, no backoff); no retry is nil.
	if r := byID["services_back"].Retry; r == nil || *r != (runbooks.Retry{Attempts: 60, Delay: 2 * time.Second, Backoff: 1.5, MaxDelay: 10 * time.Second}) {
		t.Errorf("services_back retry = %+v", r)
	}
	if r := byID["steps_4"].Retry; r == nil || *r != (runbooks.Retry{Attempts: 4, Delay: time.Second, Backoff: 1}) {
		t.Errorf("scalar retry = %+v; want attempts 4 with the defaults", r)
	}
	if r := shut.Retry; r != nil {
		t.Errorf("shut has retry %+v without asking for one", r)
	}

	// until: interval defaults to 1s; without within or attempts the limit
	// is the step timeout, else 5m.
	for id, w := range map[string]runbooks.Until{
		"services_back": {Interval: time.Second, Within: 5 * time.Minute},
		"steps_4":       {Interval: 3 * time.Second, Attempts: 5},
		"restarted":     {Interval: time.Second, Within: 90 * time.Second},
	} {
		u := byID[id].Until
		if u == nil || u.Cond == nil || u.Interval != w.Interval || u.Within != w.Within || u.Attempts != w.Attempts {
			t.Errorf("%s until = %+v; want interval %v within %v attempts %d", id, u, w.Interval, w.Within, w.Attempts)
			continue
		}
		if u.Cond.Source != "result.status == 200" || !u.Cond.Dynamic {
			t.Errorf("%s until condition = %q dynamic=%v", id, u.Cond.Source, u.Cond.Dynamic)
		}
	}

	// for_each: an expression or a literal list; `when` over a register.
	pg := byID["per_guest"]
	if pg.ForEach == nil || pg.ForEach.Items == nil || pg.ForEach.As != "item" || pg.Concurrency != 2 {
		t.Fatalf("per_guest for_each = %+v", pg.ForEach)
	}
	if pg.When == nil || pg.When.Source != "vars.shutdown.powered_on == 0" || !pg.When.Dynamic {
		t.Errorf("per_guest when = %+v", pg.When)
	}
	if fe := byID["steps_10"].ForEach; fe == nil || fe.Items != nil || !reflect.DeepEqual(fe.List, []any{"esx-68", "esx-69"}) {
		t.Errorf("literal for_each = %+v", fe)
	}
	items, err := rb.Items(pg, rb.NewEnv())
	if err != nil || !reflect.DeepEqual(items, []any{"ap01", "ap02"}) {
		t.Errorf("per_guest items = %v, %v; want the --var list", items, err)
	}

	// Templates: shell marks the drbook:"shell" field only; whole marks a
	// scalar that is exactly one expression.
	marks := map[string][2]bool{}
	for _, s := range all {
		for n, tp := range s.Templates {
			marks[s.ID+" "+n.Value] = [2]bool{tp.Whole, tp.Shell}
		}
	}
	for key, w := range map[string][2]bool{
		"per_guest ${{ item }}":                           {true, false},
		"per_guest uptime # ${{ params.ticket }}":         {false, true},
		"placement_before before ${{ params.ticket }}":    {false, false},
		"fan_static ${{ params.guests }}":                 {true, false},
		"restarted http://${{ steps.shut.result.host }}/": {false, false},
	} {
		got, ok := marks[key]
		if !ok {
			t.Errorf("no template %q; have %v", key, marks)
			continue
		}
		if got != w {
			t.Errorf("template %q: whole=%v shell=%v, want whole=%v shell=%v", key, got[0], got[1], w[0], w[1])
		}
	}

	// Whole-value interpolation keeps the parameter's type at load time.
	fan := byID["fan_static"].Params.(*fanParams)
	if !reflect.DeepEqual(fan.Hosts, []string{"ap01", "ap02"}) || fan.Count != 7 || !fan.Enabled || fan.Pause.D() != 2*time.Second {
		t.Errorf("fan_static params = %+v", fan)
	}
	if lp := byID["on_failure_1"].Params.(*control.LogParams); lp.Level != "warn" || lp.Message.EN != "drill failed" {
		t.Errorf("on_failure log = %+v", lp)
	}

	// Monitors: decoded at load time, every honoured.
	if len(rb.Monitors) != 1 {
		t.Fatalf("%d monitors", len(rb.Monitors))
	}
	m := rb.Monitors[0]
	if m.Name != "ap-web" || m.KindName != "check.http" || m.Every != 500*time.Millisecond ||
		m.Params.(*httpCheckParams).URL != "http://10.0.0.65/" {
		t.Errorf("monitor = %+v params %+v", m, m.Params)
	}
}

// TestSiteFromRunbook: a runbook's own `site:` entry is resolved relative to
// the runbook (SiteFile is absolute, as the journal records it for resume),
// hashed, and its defaults (port 22) are what expressions see.
func TestSiteFromRunbook(t *testing.T) {
	rb := loadValid(t, "with_site_file.yaml")
	wantFile, _ := filepath.Abs(filepath.Join("testdata", "sites", "lab.site.yaml"))
	if rb.Site == nil || rb.Site.Name != "testlab" || rb.SiteFile != wantFile || len(rb.SiteSHA256) != 64 {
		t.Fatalf("site %v file %q sha %q", rb.Site, rb.SiteFile, rb.SiteSHA256)
	}
	p := rb.Steps[0].Params.(*httpCheckParams)
	if p.URL != "http://10.0.0.66:22/" {
		t.Errorf("url = %q; want the site's address and default port", p.URL)
	}
}

// TestMinimalDefaults: what the loader fills in for a bare runbook.
func TestMinimalDefaults(t *testing.T) {
	rb := loadValid(t, "minimal.yaml")
	s := rb.Steps[0]
	if s.ID != "steps_1" || !s.AutoID || s.Retry != nil || s.Until != nil || s.When != nil || s.Timeout != 0 || !s.Static {
		t.Errorf("bare step = %+v", s)
	}
	if len(rb.Params) != 0 || len(rb.Values) != 0 || rb.RTO != 0 || len(rb.Monitors) != 0 {
		t.Errorf("bare runbook has params %v values %v rto %v monitors %v", rb.Params, rb.Values, rb.RTO, rb.Monitors)
	}
	if _, ok := rb.Steps[0].Kind.(interface{ Name() string }); !ok || rb.Steps[0].ResultType().String() != "*control.LogResult" {
		t.Errorf("result type = %v", rb.Steps[0].ResultType())
	}
}

// TestVarsOverrideEveryType: each parameter type parses its --var text.
func TestVarsOverrideEveryType(t *testing.T) {
	src := []byte(`name: vars
params:
  n: 1
  b: false
  d: {type: duration, default: 1s}
  l: {type: list, default: []}
  h: {type: host, default: esx-68}
  g: {type: guest, default: ap01}
  s: text
steps:
  - log: hi
`)
	rb, err := runbooks.Parse("vars.yaml", src, runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{
		"n": " 42", "b": "true", "d": "1m30s", "l": "a, b ,c", "h": "esx-70", "g": "bastion", "s": "x=y z",
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"n": 42, "b": true, "d": 90 * time.Second, "l": []string{"a", "b", "c"}, "h": "esx-70", "g": "bastion", "s": "x=y z"}
	if !reflect.DeepEqual(rb.Values, want) {
		t.Errorf("values\n got %#v\nwant %#v", rb.Values, want)
	}
}
