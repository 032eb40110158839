package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// invalidDir holds the loader's invalid runbooks and site files, each
// with the golden English text next to it (runbooks/golden_test.go).
const invalidDir = "../../runbooks/testdata/invalid"

// validateArgs are the arguments of `drbook validate` that load path the
// way runbooks' golden test does: a `# vars:` first line gives --var, a
// runbook without `site:` or `# no site` is checked against the test
// site, a site file is validated alone.
func validateArgs(t *testing.T, path string) (args []string, opts runbooks.Options) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".site.yaml") {
		return []string{"validate", "--site", path}, opts
	}
	opts = runbooks.Options{Registry: all.Registry(), Vars: map[string]string{}}
	if m := regexp.MustCompile(`(?m)\A# vars:(.*)$`).FindSubmatch(src); m != nil {
		for _, kv := range strings.Fields(string(m[1])) {
			k, v, _ := strings.Cut(kv, "=")
			opts.Vars[k] = v
			args = append(args, "--var", kv)
		}
	}
	if !regexp.MustCompile(`(?m)^site:`).Match(src) && !regexp.MustCompile(`(?m)^# no site$`).Match(src) {
		opts.SitePath = "../../runbooks/testdata/sites/lab.site.yaml"
		args = append(args, "--site", opts.SitePath)
	}
	return append(append([]string{"validate"}, args...), path), opts
}

// problemsOf loads path as the command does and returns its problems.
func problemsOf(t *testing.T, path string, opts runbooks.Options) []runbooks.Problem {
	t.Helper()
	var err error
	if opts.Registry == nil {
		_, _, err = runbooks.LoadSite(path)
	} else {
		_, err = runbooks.Load(path, opts)
	}
	var el *runbooks.ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("%s: want problems, got %v", path, err)
	}
	return el.Problems
}

// yamlNames are the names of a runbook or site file an author wrote
// (keys, ids, names: scalars that are one token, and the names inside its
// expressions and --var overrides), which messages name as they are.
func yamlNames(path string, args []string) []string {
	src, _ := os.ReadFile(path)
	ident := regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	var out []string
	for _, a := range args {
		k, _, _ := strings.Cut(a, "=")
		out = append(out, ident.FindAllString(k, -1)...)
	}
	for _, e := range regexp.MustCompile(`(?s)\$\{\{.*?\}\}|(?m)(?:when|condition|that|until|for_each|assert):.*$`).FindAllString(string(src), -1) {
		out = append(out, ident.FindAllString(e, -1)...)
	}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil {
		return out
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && !strings.ContainsAny(n.Value, " \n") {
			out = append(out, ident.FindAllString(n.Value, -1)...)
		}
		if n.Kind == yaml.AliasNode {
			out = append(out, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	return out
}

// schemaNames are every name a runbook's schema holds: the top-level,
// step, parameter and site keys, every kind and every field of its
// parameters and result.
func schemaNames() []string {
	names := []string{"name", "title", "description", "owner", "version", "site", "rto", "params", "monitors", "steps",
		"on_failure", "finally", "labels", "id", "when", "timeout", "retry", "until", "register", "continue_on_error",
		"confirm", "expect", "disruptive", "recovery", "parallel", "concurrency", "for_each", "as", "item", "result",
		"type", "default", "attempts", "delay", "backoff", "max_delay", "condition", "interval", "within", "every",
		"string", "int", "bool", "duration", "list", "host", "guest", "params", "vars", "en", "zh", "TW"}
	seen := map[reflect.Type]bool{}
	var fields func(t reflect.Type)
	fields = func(t reflect.Type) {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for n, ft := range steps.YAMLFieldNames(t) {
			names = append(names, n)
			fields(ft)
		}
		for i := 0; i < t.NumField(); i++ {
			if n, _, _ := strings.Cut(t.Field(i).Tag.Get("expr"), ","); n != "" {
				names = append(names, n)
			}
		}
	}
	reg := all.Registry()
	for _, k := range reg.Names() {
		names = append(names, strings.Split(k, ".")...)
		kind, _ := reg.Lookup(k)
		fields(reflect.TypeOf(kind.NewParams()))
		if r := kind.NewResult(); r != nil {
			rt := reflect.TypeOf(r)
			fields(rt)
		}
	}
	fields(reflect.TypeOf(site.Site{}))
	return names
}

// zhValidateAllowed are the ASCII words a zh-TW reader of validate's
// problems sees on purpose: names of formats, tools and commands the hint
// tells to type, and the marker every drbook error line starts with.
var zhValidateAllowed = []string{
	"YAML", "UTF", "BIG", "Big", "iconv", "Tab", "TCP", "SSH", "TLS", "vCenter", "vcenter", "url", "user", "address",
	"become", "sudo", "jump", "env", "NAME", "FILE", "PATH", "prompt", "password", "DRBOOK_VC_PASSWORD", "chmod",
	"key_file", "raw", "awk", "sed", "sh", "bash", "echo", "export", "declare", "local", "readonly", "test", "printf",
	"ssh", "exec", "eval", "coprocess", "root", "EOF", "id", "my_id", "schema", "validate", "lab", "true", "false",
	"drbook", "error", "hint", "mapping", "here", "document", "extended", "glob", "labels", "text", "hello",
	"sanchong", "log", "wait", "shutdown", "esx", "x", "v", "abc", "def", "cmd", "CMD", "oProxyCommand", "guests",
	"mailserver", "failed_host", "status", "ProxyCommand", "info", "warn", "newest", "all", "auto", "systemctl", "service", "initd", "create", "unset", "read", "mapfile", "readarray", "let", "trap",
}

// quotesForeign are the invalid files whose problems quote text from
// elsewhere (Problem.Quoted), each with whose words they are; the common
// yaml.v3 and expr messages are worded by drbook.
var quotesForeign = map[string]string{
	"yaml_foreign_message": "yaml.v3's \"did not find expected key\", which drbook does not word itself",
}

// TestValidateInZhTWHasNoUntranslatedEnglish runs `drbook validate` over
// every invalid runbook and site file of the loader's tests, in English and
// in zh-TW, through the real command. Both report the same problems at the
// same file:line:col with the same exit code, and the zh-TW text has no
// English word outside names (keys, kinds, fields, the file's own ids and
// values), quoted values, the source excerpt and what the problem quotes
// from elsewhere (yaml.v3's and expr's messages, Problem.Quoted).
func TestValidateInZhTWHasNoUntranslatedEnglish(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(invalidDir, "*.yaml"))
	if len(files) < 100 {
		t.Fatalf("only %d invalid files under %s", len(files), invalidDir)
	}
	names := append(schemaNames(), zhValidateAllowed...)
	excerpt := regexp.MustCompile(`(?m)^ +(\d+ )?\| .*$|^ +\|\s*\^?$`)
	positionLine := regexp.MustCompile(`(?m)^(?:drbook: error: )?(\S+?:\d+:\d+|\S+\.yaml|--var): `)
	quotedValue := regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`|'[^'\\s]*'")
	knownList := regexp.MustCompile(`(?m)已知之[^：\n]*：.*$`)
	// Hexadecimal bytes, code points, anchors and aliases, names with
	// digits (ap01) and URL schemes are tokens, not words.
	tokens := regexp.MustCompile(`\b0x[0-9a-fA-F]+\b|U\+[0-9A-F]{4,}|[*&][A-Za-z_]\w*|\b[A-Za-z_]*\d\w*\b|\bhttps?://`)
	checked := 0
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			args, opts := validateArgs(t, path)
			run := func(args ...string) (string, int) {
				var out, errb bytes.Buffer
				code := runMain(args, strings.NewReader(""), &out, &errb)
				return out.String() + errb.String(), code
			}
			en, enCode := run(args...)
			zh, zhCode := run(append([]string{"--lang", "zh-TW"}, args...)...)
			if enCode != zhCode || enCode == 0 {
				t.Fatalf("exit codes: en %d, zh-TW %d (want the same, not 0)\n%s\n%s", enCode, zhCode, en, zh)
			}
			problems := problemsOf(t, path, opts)
			validated := en
			posOf := func(s string) []string {
				var out []string
				for _, m := range positionLine.FindAllStringSubmatch(excerpt.ReplaceAllString(s, ""), -1) {
					out = append(out, m[1])
				}
				return out
			}
			if opts.Registry != nil {
				// plan and preflight load the runbook first and report
				// its problems the same way, before contacting anything.
				for _, cmd := range []string{"plan", "preflight"} {
					enOut, enCode := run(append([]string{cmd}, args[1:]...)...)
					zhOut, zhCode := run(append([]string{"--lang", "zh-TW", cmd}, args[1:]...)...)
					if enCode != zhCode || zhCode == 0 {
						t.Fatalf("%s exit codes: en %d, zh-TW %d\n%s", cmd, enCode, zhCode, zhOut)
					}
					if len(posOf(zhOut)) == 0 {
						// preflight of a runbook without a site stops
						// before loading it: a command-line error,
						// not a problem of the file.
						continue
					}
					en, zh = en+enOut, zh+zhOut
				}
			}
			enPos, zhPos := posOf(en), posOf(zh)
			if strings.Join(enPos, " ") != strings.Join(zhPos, " ") || len(posOf(validated)) != len(problems) {
				t.Fatalf("positions differ: en %v, zh-TW %v, problems %d\n%s\n%s", enPos, zhPos, len(problems), en, zh)
			}
			var quoted []string
			for _, p := range problems {
				if p.Pos.String() != enPos[0] && !contains(enPos, p.Pos.String()) {
					t.Errorf("problem at %s is not in the output", p.Pos)
				}
				quoted = append(quoted, p.Quoted...)
				if len(p.Quoted) > 0 && quotesForeign[name] == "" {
					// Quoted text is left out of the check below: make
					// sure it really is someone else's words.
					t.Errorf("%s quotes %q as foreign text; if it is yaml.v3's, expr's or the system's, list the file in quotesForeign with the reason, else word it with say", p.Pos, p.Quoted)
				}
			}
			sort.Slice(quoted, func(i, j int) bool { return len(quoted[i]) > len(quoted[j]) })
			text := excerpt.ReplaceAllString(zh, "")
			text = positionLine.ReplaceAllString(text, "")
			for _, q := range quoted {
				text = strings.ReplaceAll(text, q, " ")
			}
			text = knownList.ReplaceAllString(quotedValue.ReplaceAllString(text, " "), " ")
			text = tokens.ReplaceAllString(text, " ")
			known := append(names, yamlNames(path, args)...)
			// And the names of the site it is checked against.
			known = append(known, yamlNames("../../runbooks/testdata/sites/lab.site.yaml", nil)...)
			if src, _ := os.ReadFile(path); regexp.MustCompile(`(?m)^site: (\S+)`).Match(src) {
				sf := regexp.MustCompile(`(?m)^site: (\S+)`).FindSubmatch(src)[1]
				known = append(known, yamlNames(filepath.Join(filepath.Dir(path), string(sf)), nil)...)
			}
			if bad := untranslated(text, nil, known); len(bad) > 0 {
				t.Errorf("zh-TW shows English %q:\n%s", bad, zh)
			}
			checked++
		})
	}
	if checked == 0 {
		t.Fatal("nothing was checked")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestValidateOKInZhTW checks the lines of the shipped runbooks and a
// site file, which pass: `validate` says so in Chinese, with the step count English shows.
func TestValidateOKInZhTW(t *testing.T) {
	// The shipped runbooks (testdata/valid uses the loader tests' own
	// kinds) and the test site.
	files, _ := filepath.Glob("../../runbooks/*/*.yaml")
	files = append(files, "../../runbooks/testdata/sites/lab.site.yaml")
	if len(files) < 10 {
		t.Fatalf("only %d valid files", len(files))
	}
	okLine := regexp.MustCompile(`^\S+：通過（(共 \d+ 個步驟|場域 \S+：主機 \d+ 台、客體 \d+ 台、服務 \d+ 項)）$`)
	enLine := regexp.MustCompile(`^\S+: ok \((\d+) steps|site \S+: (\d+) host`)
	for _, path := range files {
		args, _ := validateArgs(t, path)
		if !strings.Contains(path, "testdata") {
			args = []string{"validate", "--lab", path}
		}
		var en, zh, errb bytes.Buffer
		if code := runMain(args, strings.NewReader(""), &en, &errb); code != 0 {
			t.Fatalf("%v exited %d\n%s", args, code, errb.String())
		}
		if code := runMain(append([]string{"--lang", "zh-TW"}, args...), strings.NewReader(""), &zh, &errb); code != 0 {
			t.Fatalf("zh-TW %v exited %d\n%s", args, code, errb.String())
		}
		got := strings.TrimSpace(zh.String())
		if !okLine.MatchString(got) {
			t.Errorf("%s: zh-TW says %q", path, got)
		}
		if m := enLine.FindStringSubmatch(en.String()); m == nil || !strings.Contains(got, " "+m[1]+m[2]+" ") {
			t.Errorf("%s: counts differ: en %q, zh-TW %q", path, en.String(), got)
		}
	}
}
