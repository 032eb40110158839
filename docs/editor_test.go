package docs_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaInYAMLLanguageServer opens the shipped runbooks and two broken
// files in yaml-language-server, the engine of VS Code's YAML extension,
// through the modeline each file starts with, and checks what the editor
// would underline: nothing in the shipped runbooks, and each defect in
// the broken ones. It needs node and the server, which come from npm
// rather than from this module, so it runs only when told where it is:
//
//	npm install --prefix /tmp/yls yaml-language-server@1
//	DRBOOK_YAML_LANGUAGE_SERVER=/tmp/yls/node_modules/yaml-language-server/bin/yaml-language-server go test ./docs -run YAMLLanguageServer
func TestSchemaInYAMLLanguageServer(t *testing.T) {
	server := os.Getenv("DRBOOK_YAML_LANGUAGE_SERVER")
	if server == "" {
		t.Skip("set DRBOOK_YAML_LANGUAGE_SERVER to yaml-language-server's bin script to check the schemas in the editor's engine")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("DRBOOK_YAML_LANGUAGE_SERVER is set but node is not on $PATH: %v", err)
	}
	schemaDir, err := filepath.Abs("schema")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, schema, body string) string {
		p := filepath.Join(dir, name)
		src := "# yaml-language-server: $schema=" + filepath.Join(schemaDir, schema) + "\n" + body
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badRunbook := write("bad.yaml", "runbook.schema.json", `name: bad
steps:
  - id: shut
    vcenter.host.shutdown: {host: esx-68, froce: true}
  - id: svc
    ssh.service: {host: ap02, name: httpd, action: enable}
  - id: edit
    ssh.edit_file: {host: ap02, path: /etc/hosts, edits: [{replace: a, with: b}]}
`)
	badSite := write("bad.site.yaml", "site.schema.json", `name: s
vcenter: {url: "https://vc/sdk", user: u, password: hunter2}
guests:
  ap01: {address: 10.0.0.65, prot: 22}
`)
	shipped, _ := filepath.Glob(filepath.Join("..", "runbooks", "*", "*.yaml"))
	if len(shipped) < 3 {
		t.Fatalf("found only %v", shipped)
	}
	args := append([]string{filepath.Join("testdata", "yamlls.js"), server}, shipped...)
	args = append(args, badRunbook, badSite)
	out, err := exec.Command(node, args...).Output()
	if err != nil {
		t.Fatalf("yamlls.js: %v\n%s", err, out)
	}
	got := map[string][]string{}
	done := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "done "); ok {
			done[rest[:strings.LastIndexByte(rest, ' ')]] = true
			continue
		}
		var d struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("yamlls.js printed %q", line)
		}
		got[d.File] = append(got[d.File], d.Message)
	}
	for _, f := range shipped {
		abs, _ := filepath.Abs(f)
		if !done[abs] {
			t.Errorf("the server published no diagnostics for %s", f)
		}
		if len(got[abs]) > 0 {
			t.Errorf("the editor would flag %s: %q", f, got[abs])
		}
	}
	want := map[string][]string{
		badRunbook: {"Property froce is not allowed.", `Value is not accepted. Valid values: "start", "stop", "restart", "reload", "status".`},
		badSite:    {"Property prot is not allowed.", `String does not match the pattern of "^(env:.+|file:.+|prompt(:.*)?)$".`},
	}
	for f, msgs := range want {
		if len(got[f]) != len(msgs) {
			t.Errorf("%s: the editor flags %q, want exactly %q", filepath.Base(f), got[f], msgs)
			continue
		}
		for _, m := range msgs {
			if !strings.Contains(strings.Join(got[f], "\n"), m) {
				t.Errorf("%s: the editor does not say %q; it says %q", filepath.Base(f), m, got[f])
			}
		}
	}
}
