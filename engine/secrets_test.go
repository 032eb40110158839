package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// loadWithSite loads src against a site file written next to it.
func (f *fixture) loadWithSite(src, siteSrc string) *runbooks.Runbook {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, "site.yaml"), []byte(siteSrc), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "rb.yaml"), []byte(src), 0o600); err != nil {
		f.t.Fatal(err)
	}
	rb, err := runbooks.Load(filepath.Join(f.dir, "rb.yaml"), runbooks.Options{Registry: f.reg, SitePath: filepath.Join(f.dir, "site.yaml")})
	if err != nil {
		f.t.Fatalf("load: %v", err)
	}
	return rb
}

const secretsSite = `name: s
vcenter:
  url: https://vc.example.test/sdk
  user: admin
  password: env:DRBOOK_T_VC
guests:
  ap01:
    address: 127.0.0.1
    password: env:DRBOOK_T_AP01
  ap02:
    address: 127.0.0.1
    key_file: /nonexistent/id
    key_passphrase: env:DRBOOK_T_UNSET
`

// TestASecretIsHiddenBeforeItsFirstUse: a secret of the site printed by
// a step that does not use it (here before any step logged in anywhere)
// was journaled in full, since secrets were registered only when a kind
// asked for them.
func TestASecretIsHiddenBeforeItsFirstUse(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_T_VC", "another-long-secret")
	t.Setenv("DRBOOK_T_AP01", secret)
	t.Setenv("DRBOOK_T_UNSET", "third-long-secret")
	f := newFixture(t)
	seen := &eventRecorder{}
	cfg := f.config()
	cfg.Observer = seen
	res, err := engine.Start(context.Background(), f.loadWithSite(`
name: t
steps:
  - id: show
    exec.local: {shell: 'printf "password is %s\n" "$DRBOOK_T_AP01"'}
`, secretsSite), cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	if strings.Contains(string(data), secret) || strings.Contains(seen.text(), secret) {
		t.Fatalf("the secret reached the journal or the observer:\n%s", data)
	}
	if !strings.Contains(string(data), "password is [redacted]") {
		t.Fatalf("the output should show where the secret was hidden:\n%s", data)
	}
}

// TestGovcPasswordIsHiddenBeforeItsFirstUse: a site without a vcenter
// section reaches vCenter through govc's GOVC_* environment; its password
// was registered only when the first vCenter step logged in, so a step
// printing it earlier journaled it in full.
func TestGovcPasswordIsHiddenBeforeItsFirstUse(t *testing.T) {
	const secret = "Govc-7xR2#pL9!wZ4"
	t.Setenv("GOVC_PASSWORD", secret)
	t.Setenv("DRBOOK_T_AP01", "long-enough-secret")
	f := newFixture(t)
	res, err := engine.Start(context.Background(), f.loadWithSite(`
name: t
steps:
  - id: show
    exec.local: {shell: 'printf "password is %s\n" "$GOVC_PASSWORD"'}
`, "name: s\nguests:\n  ap01:\n    address: 127.0.0.1\n    password: env:DRBOOK_T_AP01\n"), f.config())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	if strings.Contains(string(data), secret) || !strings.Contains(string(data), "password is [redacted]") {
		t.Fatalf("GOVC_PASSWORD was not hidden from the start:\n%s", data)
	}
}

// TestAnUnusableSecretStopsTheRunBeforeAnything: an unset env: secret
// used to be found when a step needed it, after state-changing steps had
// run. Now the run does not start: no run directory, the first step's
// side effect never happens, and the error names the reference's
// file:line:col and what to do, for every unusable secret at once.
func TestAnUnusableSecretStopsTheRunBeforeAnything(t *testing.T) {
	t.Setenv("DRBOOK_T_VC", "pass")
	t.Setenv("DRBOOK_T_AP01", "long-enough-secret")
	os.Unsetenv("DRBOOK_T_UNSET")
	f := newFixture(t)
	marker := filepath.Join(f.dir, "changed")
	rb := f.loadWithSite(`
name: t
steps:
  - id: change
    exec.local: {command: [touch, `+marker+`]}
  - id: ssh
    probe: {key: a, secret: DRBOOK_T_UNSET}
`, secretsSite)
	res, err := engine.Start(context.Background(), rb, f.config())
	var se *engine.SecretError
	if !errors.As(err, &se) || res != nil {
		t.Fatalf("err %v, result %+v; want a *SecretError and no run", err, res)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the first step ran although a secret was missing")
	}
	if entries, _ := os.ReadDir(filepath.Join(f.dir, "runs")); len(entries) > 0 {
		t.Fatalf("a run directory was left: %v", entries)
	}
	site := filepath.Join(f.dir, "site.yaml")
	msg := err.Error()
	for _, want := range []string{
		site + ":5:13: vcenter.password: the secret is only 4 characters long",
		site + ":13:21: guests.ap02.key_passphrase: passphrase of /nonexistent/id: environment variable DRBOOK_T_UNSET is not set (export it",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "pass\"") || strings.Contains(msg, "long-enough-secret") {
		t.Errorf("the error shows a secret:\n%s", msg)
	}
	if !strings.Contains(se.Hint(), "nothing was run") {
		t.Errorf("hint %q", se.Hint())
	}
}

// countingPrompter answers every prompt and counts them.
type countingPrompter struct{ labels []string }

func (c *countingPrompter) PromptSecret(label string) (string, error) {
	c.labels = append(c.labels, label)
	return "typed-" + label, nil
}

// TestPromptsAreAskedOnceUpFront: every prompt of the site is asked
// before the run begins, once each; a named prompt used twice is one
// secret; a kind asking later gets the answer already given.
func TestPromptsAreAskedOnceUpFront(t *testing.T) {
	f := newFixture(t)
	p := &countingPrompter{}
	cfg := f.config()
	cfg.Prompter = p
	res, err := engine.Start(context.Background(), f.loadWithSite(`
name: t
steps:
  - {id: a, log: hi}
`, `name: s
guests:
  ap01: {address: 127.0.0.1, password: prompt}
  ap02: {address: 127.0.0.1, password: prompt}
  ap03: {address: 127.0.0.1, password: "prompt:ops"}
  ap04: {address: 127.0.0.1, password: "prompt:ops"}
`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.labels) != 3 {
		t.Fatalf("asked %d times (%q), want 3: ap01, ap02 and the shared ops prompt", len(p.labels), p.labels)
	}
	log := readLog(t, res.RunDir)
	for _, ev := range log.Events {
		if ev.Type == journal.TypeNote && strings.Contains(ev.Note.Text, "typed-") {
			t.Errorf("a prompted secret reached the journal: %s", ev.Note.Text)
		}
	}
}

// leakyPreflight is a kind whose preflight fails with the secret it read
// in its error, as a careless login error would.
type leakyPreflight struct{ probe }

func (leakyPreflight) Name() string { return "leaky" }
func (leakyPreflight) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	v, err := rt.Secret(site.SecretRef{Source: "env", Name: "DRBOOK_T_PLAN"}, "test")
	if err != nil {
		return err
	}
	return fmt.Errorf("login refused with password %s", v)
}

// TestPlanHidesSecretsInPreflightErrors: plan prints each preflight's
// error, often into a ticket or a CI log.
func TestPlanHidesSecretsInPreflightErrors(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_T_PLAN", secret)
	f := newFixture(t)
	f.reg = steps.NewRegistry(append(control.Kinds(), &leakyPreflight{probe{calls: map[string]int{}, mu: &sync.Mutex{}}})...)
	plan, _ := engine.Plan(context.Background(), f.load("name: t\nsteps:\n  - {id: a, leaky: {key: a}}\n"), f.config(), true)
	if len(plan) != 1 || plan[0].Preflight == nil {
		t.Fatalf("plan %+v, want the preflight's failure", plan)
	}
	if msg := plan[0].Preflight.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, "password [redacted]") {
		t.Fatalf("plan shows %q", msg)
	}
}

// TestResumeResolvesSecretsFirst: a resumed run reads the site's secrets
// before it appends anything, so an unset one leaves the journal as it was.
func TestResumeResolvesSecretsFirst(t *testing.T) {
	t.Setenv("DRBOOK_T_VC", "long-enough-vc")
	t.Setenv("DRBOOK_T_AP01", "long-enough-ap01")
	t.Setenv("DRBOOK_T_UNSET", "long-enough-unset")
	f := newFixture(t)
	src := "name: t\nsteps:\n  - {id: a, log: hi}\n"
	res, err := engine.Start(context.Background(), f.loadWithSite(src, secretsSite), f.config())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(res.RunDir, journal.FileName))
	os.Unsetenv("DRBOOK_T_UNSET")
	_, err = engine.Resume(context.Background(), res.RunDir, f.loadWithSite(src, secretsSite), f.config(), engine.ResumeOptions{From: "a"})
	var se *engine.SecretError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "guests.ap02.key_passphrase") {
		t.Fatalf("resume: %v, want a *SecretError naming guests.ap02.key_passphrase", err)
	}
	if after, _ := os.ReadFile(filepath.Join(res.RunDir, journal.FileName)); string(after) != string(before) {
		t.Fatalf("the refused resume appended to the journal:\n%s", after[len(before):])
	}
}

// secretEcho is a kind whose result is what a guest printed, whole: the
// guest's password.
type secretEcho struct{ probe }

func (secretEcho) Name() string { return "secret.echo" }
func (secretEcho) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	return &probeResult{Key: os.Getenv("DRBOOK_T_AP01")}, nil
}

// confirmRecorder grants every confirmation and keeps what it was shown.
type confirmRecorder struct {
	engine.Unattended
	shown []string
}

func (c *confirmRecorder) Ask(ctx context.Context, st engine.StepInfo, q steps.Question) (steps.Answer, error) {
	c.shown = append(c.shown, q.Text.EN+" | "+q.Text.ZhTW)
	return steps.Answer{Done: true}, nil
}

func (c *confirmRecorder) Confirm(ctx context.Context, st engine.StepInfo) (engine.Decision, error) {
	c.shown = append(c.shown, st.Description.Action+" | "+st.Description.Target+" | "+st.Description.Command)
	return engine.Decision{Action: "run"}, nil
}

// TestConfirmationHidesSecrets: a step's parameters may carry an earlier
// step's output, which the run keeps whole; the confirmation and a manual
// step's question showed it to the operator (and, line by line, to
// whatever logs the terminal).
func TestConfirmationHidesSecrets(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_T_VC", "another-long-secret")
	t.Setenv("DRBOOK_T_AP01", secret)
	t.Setenv("DRBOOK_T_UNSET", "third-long-secret")
	f := newFixture(t)
	f.reg = steps.NewRegistry(append(control.Kinds(), &secretEcho{})...)
	op := &confirmRecorder{}
	f.ops = op
	f.stepBy = true
	_, err := engine.Start(context.Background(), f.loadWithSite(`
name: t
steps:
  - id: show
    secret.echo: {}
  - id: use
    exec.local: {command: [echo, "${{ steps.show.result.key }}"]}
  - id: by_hand
    manual: {en: "type ${{ steps.show.result.key }} at the console", zh-TW: "輸入 ${{ steps.show.result.key }}"}
`, secretsSite), f.config())
	if err != nil {
		t.Fatal(err)
	}
	if len(op.shown) != 4 {
		t.Fatalf("shown %q, want 3 confirmations and a question", op.shown)
	}
	for _, s := range op.shown[1:] {
		if strings.Contains(s, secret) || !strings.Contains(s, "[redacted]") {
			t.Errorf("the operator was shown %q", s)
		}
	}
}

// TestPreflightSaysWhatToDoPerSecret: an unset secret is fixed by setting
// it, a short one by a longer password, which --no-preflight does not
// change; the preflight's hint said "set the secret" for both.
func TestPreflightSaysWhatToDoPerSecret(t *testing.T) {
	t.Setenv("DRBOOK_T_VC", "pass")
	t.Setenv("DRBOOK_T_AP01", "long-enough-secret")
	os.Unsetenv("DRBOOK_T_UNSET")
	f := newFixture(t)
	rep := engine.Preflight(context.Background(), f.loadWithSite("name: t\nsteps:\n  - {id: a, log: hi}\n", secretsSite), f.config())
	hints := map[string]string{}
	for _, c := range rep.Checks {
		if c.Step == "secrets" {
			hints[c.What[strings.LastIndex(c.What, " ")+1:]] = c.Hint
		}
	}
	if h := hints["vcenter.password"]; !strings.Contains(h, "6 characters or more") || !strings.Contains(h, "--no-preflight") {
		t.Errorf("short secret's hint %q", h)
	}
	if h := hints["guests.ap02.key_passphrase"]; !strings.Contains(h, "set the secret") {
		t.Errorf("unset secret's hint %q", h)
	}
}
