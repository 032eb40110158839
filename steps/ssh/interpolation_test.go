package ssh_test

// Interpolation into every shell field, executed for real: a hostile value
// put into each quoting context of each field (exec.local shell, the
// script of an exec.local [sh, -c, …] argument vector, ssh.exec command and
// script, on a guest reached directly and on one with become: sudo, and on
// OpenSSH sshd under DRBOOK_E2E) must arrive as literal text, byte for
// byte, or the runbook must be refused at load time with the position of
// its ${{. Each payload would create a marker file if the shell ever read
// it as code; the test fails when one appears.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/drbook/drbook/lab/guest"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/steptest"
)

// interpPayloads are the hostile values; MARK is replaced by a file that
// must never be created.
var interpPayloads = []struct{ name, text string }{
	{"single-quote", `'; touch MARK; '`},
	{"double-quote", `"; touch MARK; "`},
	{"dollar-paren", `$(touch MARK)`},
	{"backtick", "`touch MARK`"},
	{"newline", "x\ntouch MARK\n"},
	{"semicolon", `; touch MARK`},
	{"and-and", `&& touch MARK`},
	{"backslash", `\"; touch MARK; : \`},
	{"dollar-var", `$HOME${IFS}$0`},
	{"glob", `* /*`},
	{"arith-index", `a[$(touch MARK)]`},
	{"heredoc-end", "x\nEOF\ntouch MARK\n"},
	{"mixed", `x'$(touch MARK)'"$(touch MARK)"` + "`touch MARK`"},
	{"dash", `-n`},
}

// interpContext is one way of writing an interpolation in a command. want
// is the output for a value v, or "" when the context must be refused.
type interpContext struct {
	name string
	cmd  string
	want func(v string) string
}

const interpV = "${{ params.v }}"

var interpContexts = []interpContext{
	{"bare", "printf '[%s]' " + interpV, bracket},
	{"glued", "printf '[%s]' pre" + interpV + "post", func(v string) string { return "[pre" + v + "post]" }},
	{"double-quoted", "printf '[%s]' \"d=" + interpV + "\"", func(v string) string { return "[d=" + v + "]" }},
	{"dollar-paren", "printf '[%s]' \"$(printf '%s.' " + interpV + ")\"", func(v string) string { return "[" + v + ".]" }},
	{"double-in-dollar-paren", "printf '[%s]' \"$(printf '%s.' \"" + interpV + "\")\"", func(v string) string { return "[" + v + ".]" }},
	{"assignment", "x=" + interpV + "; printf '[%s]' \"$x\"", bracket},
	{"for-list", "for w in " + interpV + "; do printf '[%s]' \"$w\"; done", bracket},
	{"comment", "printf '[%s]' ok # " + interpV, func(string) string { return "[ok]" }},
	{"step-output", "printf '[%s]' \"${{ steps.src.result.stdout }}\"", bracket},
	{"step-output-bare", "printf '[%s]' ${{ steps.src.result.stdout }}", bracket},
	{"single-quoted", "printf '[%s]' 'q=" + interpV + "'", nil},
	{"heredoc", "cat <<EOF\n" + interpV + "\nEOF", nil},
	{"quoted-heredoc", "cat <<'EOF'\n" + interpV + "\nEOF", nil},
	{"backquotes", "printf '[%s]' \"`printf %s " + interpV + "`\"", nil},
	{"arithmetic", "printf '[%s]' $(( " + interpV + " + 1 ))", nil},
	{"command-name", interpV + " x", nil},
	{"eval", "eval printf %s " + interpV, nil},
	{"sh-c", "sh -c \"printf %s " + interpV + "\"", nil},
	{"param-default", "printf '[%s]' \"${UNSET_X:-" + interpV + "}\"", nil},
	{"backslash-before", "printf '[%s]' \\" + interpV, nil},
}

func bracket(v string) string { return "[" + v + "]" }

// interpField is one shell field: step renders the step's YAML (the
// command as a block scalar at the given indentation), stdout reads a
// result.
type interpField struct {
	name string
	step func(cmd string) string
}

func blockScalar(cmd, indent string) string {
	return "|-\n" + indent + strings.ReplaceAll(cmd, "\n", "\n"+indent)
}

func interpFields(guests ...string) []interpField {
	fields := []interpField{
		{"exec.local shell", func(cmd string) string {
			return "    exec.local:\n      shell: " + blockScalar(cmd, "        ")
		}},
		{"exec.local [sh, -c]", func(cmd string) string {
			return "    exec.local:\n      command:\n        - sh\n        - -c\n        - " + blockScalar(cmd, "          ")
		}},
	}
	for _, g := range guests {
		g := g
		fields = append(fields,
			interpField{"ssh.exec command@" + g, func(cmd string) string {
				return "    ssh.exec:\n      guest: " + g + "\n      command: " + blockScalar(cmd, "        ")
			}},
			interpField{"ssh.exec script@" + g, func(cmd string) string {
				return "    ssh.exec:\n      guest: " + g + "\n      script: " + blockScalar(cmd, "        ")
			}})
	}
	return fields
}

// interpRunner runs one field's steps: mark is the marker path as the
// command sees it, and markDir where the test looks for it.
type interpRunner struct {
	rt      *steptest.Runtime
	site    *site.Site
	mark    func(name string) string
	markDir string
}

func interpRegistry() *steps.Registry {
	return steps.NewRegistry(append(control.Kinds(), ssh.Kinds()...)...)
}

type interpOutcome int

const (
	outcomeLiteral  interpOutcome = iota // ran, value arrived as text, nothing created
	outcomeRefused                       // refused at load time
	outcomeExecuted                      // a marker appeared: the value ran as code
	outcomeAltered                       // ran, nothing created, but the value did not arrive intact
)

func (o interpOutcome) String() string {
	return [...]string{"literal", "refused", "EXECUTED", "altered"}[o]
}

// separator ends each payload's output in a batch; no payload holds it.
const separator = "\x1e"

// runInterp loads and runs one field and context with every payload: the
// command holds the context once per payload (params.vN, steps.srcN),
// each followed by a separator, so that one execution tells each payload's
// outcome. It returns the outcome and a detail per payload.
func runInterp(t *testing.T, r interpRunner, f interpField, c interpContext, payloads []string) ([]interpOutcome, []string) {
	t.Helper()
	outcomes, details := make([]interpOutcome, len(payloads)), make([]string, len(payloads))
	os.RemoveAll(r.markDir)
	if err := os.MkdirAll(r.markDir, 0o777); err != nil {
		t.Fatal(err)
	}
	var src, cmd strings.Builder
	src.WriteString("name: interp\nparams:\n")
	vars := map[string]string{}
	for i, p := range payloads {
		fmt.Fprintf(&src, "  v%d: {type: string, default: x}\n", i)
		vars[fmt.Sprintf("v%d", i)] = p
		one := strings.ReplaceAll(c.cmd, "params.v ", fmt.Sprintf("params.v%d ", i))
		one = strings.ReplaceAll(one, "steps.src.", fmt.Sprintf("steps.src%d.", i))
		fmt.Fprintf(&cmd, "%s\nprintf '\\036'\n", one)
	}
	src.WriteString("steps:\n")
	for i := range payloads {
		fmt.Fprintf(&src, "  - id: src%d\n    exec.local: {shell: 'true'}\n", i)
	}
	src.WriteString("  - id: under_test\n" + f.step(cmd.String()) + "\n")
	rb, err := runbooks.Parse("interp.yaml", []byte(src.String()), runbooks.Options{Registry: interpRegistry(), Site: r.site, Vars: vars})
	if err != nil {
		for i := range outcomes {
			outcomes[i] = outcomeRefused
		}
		if problem := checkRefusals(src.String(), err, len(payloads)); problem != "" {
			details[0] = problem
		}
		return outcomes, details
	}
	env := rb.NewEnv()
	var st *runbooks.Step
	for _, s := range rb.AllSteps() {
		var i int
		if _, err := fmt.Sscanf(s.ID, "src%d", &i); err == nil {
			// The earlier step printed the payload: its output is as
			// hostile as --var.
			env.Record(s, runbooks.Outcome{Status: "ok", Result: &control.ExecLocalResult{Stdout: payloads[i]}})
		}
		if s.ID == "under_test" {
			st = s
		}
	}
	params, err := rb.ResolveParams(st, env, runbooks.Vars{})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := st.Kind.Execute(ctx, r.rt, params)
	created := map[string]bool{}
	if entries, _ := os.ReadDir(r.markDir); len(entries) > 0 {
		for _, e := range entries {
			created[e.Name()] = true
		}
	}
	out := ""
	if res != nil {
		out = reflect.ValueOf(res).Elem().FieldByName("Stdout").String()
	}
	parts := strings.Split(out, separator)
	for i, p := range payloads {
		name := interpPayloads[i].name
		got := ""
		if i < len(parts) {
			got = parts[i]
		}
		switch {
		case created[name]:
			outcomes[i], details[i] = outcomeExecuted, "created "+name
		case err != nil || c.want == nil || got != c.want(p):
			outcomes[i], details[i] = outcomeAltered, fmt.Sprintf("printed %q (error %v)", got, err)
		}
	}
	return outcomes, details
}

// checkRefusals checks that a load error is drbook's refusal of each of
// the step's n interpolations, each placed at its ${{ in the source,
// found by hand; it returns "" or what is wrong.
func checkRefusals(src string, err error, n int) string {
	l, ok := err.(*runbooks.ErrorList)
	if !ok || len(l.Problems) == 0 {
		return fmt.Sprintf("not a list of problems: %v", err)
	}
	at := strings.Index(src, "- id: under_test")
	lines := strings.Split(src, "\n")
	k := 0
	for i := strings.Count(src[:at], "\n"); i < len(lines); i++ {
		from := 0
		for {
			col := strings.Index(lines[i][from:], "${{")
			if col < 0 {
				break
			}
			col += from
			if k >= len(l.Problems) {
				return fmt.Sprintf("%d refusals for %d interpolations", len(l.Problems), n)
			}
			p := l.Problems[k]
			if !strings.Contains(p.Msg, "cannot be put into this") || p.Hint == "" {
				return fmt.Sprintf("unexpected problem: %s (hint %q)", p.Msg, p.Hint)
			}
			if p.Pos.Line != i+1 || p.Pos.Column != col+1 {
				return fmt.Sprintf("refusal at %d:%d, want %d:%d (%s)", p.Pos.Line, p.Pos.Column, i+1, col+1, p.Msg)
			}
			k++
			from = col + 3
		}
	}
	if k != n || len(l.Problems) != n {
		return fmt.Sprintf("%d refusals, %d interpolations found, want %d", len(l.Problems), k, n)
	}
	return ""
}

// interpMatrix runs every field × context × payload and fails on anything
// but a literal arrival or a placed refusal where one is expected. It logs
// the table the closing note reports.
func interpMatrix(t *testing.T, r interpRunner, fields []interpField) {
	type key struct{ field, ctx string }
	table := map[key]map[interpOutcome][]string{}
	payloads := make([]string, len(interpPayloads))
	for i, p := range interpPayloads {
		payloads[i] = strings.ReplaceAll(p.text, "MARK", r.mark(p.name))
	}
	for _, f := range fields {
		for _, c := range interpContexts {
			got, details := runInterp(t, r, f, c, payloads)
			k := key{f.name, c.name}
			table[k] = map[interpOutcome][]string{}
			want := outcomeLiteral
			if c.want == nil {
				want = outcomeRefused
			}
			for i, p := range interpPayloads {
				table[k][got[i]] = append(table[k][got[i]], p.name)
				if got[i] != want || details[i] != "" {
					t.Errorf("%s, %s, payload %s %q: %s, want %s; %s", f.name, c.name, p.name, payloads[i], got[i], want, details[i])
				}
			}
		}
	}
	var rows []string
	for k, v := range table {
		var cells []string
		for _, o := range []interpOutcome{outcomeExecuted, outcomeAltered, outcomeRefused, outcomeLiteral} {
			if len(v[o]) == len(interpPayloads) {
				cells = append(cells, o.String()+": all")
			} else if len(v[o]) > 0 {
				cells = append(cells, o.String()+": "+strings.Join(v[o], ","))
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |", k.field, k.ctx, strings.Join(cells, "; ")))
	}
	sort.Strings(rows)
	t.Logf("field | context | outcome by payload\n%s", strings.Join(rows, "\n"))
}

// TestInterpolationNeverRunsAsCode covers exec.local on this machine's
// /bin/sh and ssh.exec on in-process guests (real /bin/sh), one of them
// with become: sudo through a stand-in sudo that runs its command.
func TestInterpolationNeverRunsAsCode(t *testing.T) {
	if _, err := exec.LookPath("touch"); err != nil {
		t.Skip("no touch")
	}
	bin := t.TempDir()
	// sudo -n -- sh -c CMD: the stand-in drops the options and runs the rest.
	os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\nwhile [ \"$1\" != -- ]; do shift; done\nshift\nexec \"$@\"\n"), 0o755)
	l := newLabWith(t, bin)
	g := l.rt.SiteVal.Guests["ap02"]
	g.Become = "sudo"
	l.rt.SiteVal.Guests["ap02"] = g
	markDir := filepath.Join(t.TempDir(), "marks")
	r := interpRunner{rt: l.rt, site: l.rt.SiteVal, markDir: markDir,
		mark: func(name string) string { return filepath.Join(markDir, name) }}
	interpMatrix(t, r, interpFields("ap01", "ap02"))
}

// TestE2EInterpolationNeverRunsAsCode is the same against OpenSSH sshd,
// whose root login shell is bash and whose scripts run with busybox sh.
func TestE2EInterpolationNeverRunsAsCode(t *testing.T) {
	rig := sshdrig.New(t)
	g := rig.Start("ap01", sshdrig.Options{Host: 71})
	rt := e2eRuntime(t, map[string]site.Guest{"ap01": g.Site()})
	markDir := g.Path("/tmp/marks")
	r := interpRunner{rt: rt, site: rt.SiteVal, markDir: markDir,
		mark: func(name string) string { return "/tmp/marks/" + name }}
	var fields []interpField
	for _, f := range interpFields("ap01") {
		if strings.HasPrefix(f.name, "ssh.") {
			fields = append(fields, f)
		}
	}
	// exec.local running OpenSSH's client: ssh joins the arguments after
	// the destination into one line for the guest's login shell.
	knownHosts := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(knownHosts, []byte(g.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var argv strings.Builder
	for _, a := range g.OpenSSHArgs(knownHosts) {
		fmt.Fprintf(&argv, "        - %q\n", a)
	}
	fields = append(fields, interpField{"exec.local [ssh … HOST, CMD]", func(cmd string) string {
		return "    exec.local:\n      command:\n        - ssh\n" + argv.String() + "        - " + blockScalar(cmd, "          ")
	}})
	interpMatrix(t, r, fields)
}

// TestLabGuestInterpolationNeverRunsAsCode is the same against the lab's
// simulated guests (mvdan.cc/sh's interpreter), as root and as an operator
// login with become: sudo.
func TestLabGuestInterpolationNeverRunsAsCode(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(priv, "")
	keyFile := filepath.Join(t.TempDir(), "id")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	signer, _ := gossh.NewSignerFromKey(priv)
	root := t.TempDir()
	g, err := guest.Start(guest.Config{Hostname: "lab1", Address: "127.77.0.65", Root: root, AuthorizedKeys: []gossh.PublicKey{signer.PublicKey()}, Operator: "op"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	os.MkdirAll(filepath.Join(root, "tmp"), 0o1777)
	at := func(user, become string) site.Guest {
		return site.Guest{Address: g.Address(), Port: g.SSHPort(), User: user, Become: become, KeyFile: keyFile, HostKeys: []string{g.HostKeyLine()}}
	}
	rt := steptest.NewRuntime(t, &site.Site{Name: "lab", Guests: map[string]site.Guest{"lab1": at("root", ""), "lab2": at("op", "sudo")}})
	markDir := filepath.Join(root, "tmp", "marks")
	r := interpRunner{rt: rt, site: rt.SiteVal, markDir: markDir, mark: func(name string) string { return "/tmp/marks/" + name }}
	var fields []interpField
	for _, f := range interpFields("lab1", "lab2") {
		if strings.HasPrefix(f.name, "ssh.") {
			fields = append(fields, f)
		}
	}
	interpMatrix(t, r, fields)
}
