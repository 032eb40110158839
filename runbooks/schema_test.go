package runbooks_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

// compileSchema compiles a schema with a real JSON Schema validator, as an
// editor would load it.
func compileSchema(t *testing.T, name string, schema map[string]any) *jsonschema.Schema {
	t.Helper()
	raw, err := runbooks.EncodeSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// yamlInstance reads a YAML file as the JSON value an editor validates.
func yamlInstance(t *testing.T, path string) (any, error) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

func yamlFiles(t *testing.T, root string, skipTestdata bool) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skipTestdata && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func isSite(path string) bool { return strings.HasSuffix(path, ".site.yaml") }

// TestSchemaAcceptsShippedRunbooks validates every runbook and site file
// that ships under runbooks/ against the schemas of the full registry
// with a real JSON Schema validator, as VS Code's YAML extension would:
// a schema stricter than the loader would flag correct runbooks.
func TestSchemaAcceptsShippedRunbooks(t *testing.T) {
	rb := compileSchema(t, "runbook.schema.json", runbooks.Schema(all.Registry(), "en"))
	st := compileSchema(t, "site.schema.json", runbooks.SiteSchema("en"))
	files := yamlFiles(t, ".", true)
	if len(files) == 0 {
		t.Fatal("no runbooks ship under runbooks/")
	}
	for _, f := range files {
		sch := rb
		if isSite(f) {
			sch = st
		}
		inst, err := yamlInstance(t, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate against the schema:\n%v", f, err)
		}
	}
}

// TestSchemaAcceptsValidTestdata does the same for the loader's valid test
// runbooks and sites, with the schema of the registry they are written for.
func TestSchemaAcceptsValidTestdata(t *testing.T) {
	rb := compileSchema(t, "runbook.schema.json", runbooks.Schema(testRegistry(), "en"))
	st := compileSchema(t, "site.schema.json", runbooks.SiteSchema("en"))
	files := append(yamlFiles(t, filepath.Join("testdata", "valid"), false), yamlFiles(t, filepath.Join("testdata", "sites"), false)...)
	if len(files) < 3 {
		t.Fatalf("found only %v under testdata/valid and testdata/sites", files)
	}
	for _, f := range files {
		sch := rb
		if isSite(f) || strings.Contains(f, "sites") {
			sch = st
		}
		inst, err := yamlInstance(t, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not validate against the schema:\n%v", f, err)
		}
	}
}

// TestSchemaRejectsInvalid checks a sample of the loader's invalid test
// runbooks and sites whose defect a schema can express (the others need
// the whole runbook: expressions, duplicate ids, site names). Each must be
// rejected, and for its defect: the validator's error names the place.
func TestSchemaRejectsInvalid(t *testing.T) {
	rb := compileSchema(t, "runbook.schema.json", runbooks.Schema(testRegistry(), "en"))
	full := compileSchema(t, "runbook.schema.json", runbooks.Schema(all.Registry(), "en"))
	st := compileSchema(t, "site.schema.json", runbooks.SiteSchema("en"))
	cases := []struct {
		file string
		full bool   // validated with the full registry (the defect is in a documented kind)
		at   string // the instance location the error must name
	}{
		{"as_renamed.yaml", false, "'/steps/0/as'"},
		{"bad_duration.yaml", false, "'/rto'"},
		{"bad_id.yaml", false, "'/steps/0/id'"},
		{"bad_name.yaml", false, "'/name'"},
		{"bad_retry.yaml", false, "'/steps/0/retry/attempts'"},
		{"bool_fields.yaml", false, "'/steps/0/confirm'"},
		{"concurrency_zero.yaml", false, "'/steps/0/concurrency'"},
		{"exec_local_both.yaml", false, "'/steps/0/exec.local'"},
		{"for_each_mapping.yaml", false, "'/steps/0/for_each'"},
		{"kind_unknown_param.yaml", false, "additional properties 'froce'"},
		{"kind_validate.yaml", true, "'/steps/0/vcenter.host.shutdown': missing property 'host'"},
		{"kind_validate.yaml", true, "'/steps/1/log/level'"},
		{"labels_not_map.yaml", false, "'/labels'"},
		{"missing_name.yaml", false, "missing property 'name'"},
		{"missing_steps.yaml", false, "missing property 'steps'"},
		{"monitor_state_changing.yaml", true, "additional properties 'vcenter.host.shutdown' not allowed"},
		{"monitor_unknown_kind.yaml", false, "additional properties 'check.htp'"},
		{"parallel_empty.yaml", false, "'/steps/0/parallel'"},
		{"param_unknown_type.yaml", false, "'/params/failed_host/type'"},
		{"register_bad.yaml", false, "'/steps/0/register'"},
		{"step_no_kind.yaml", false, "'/steps/0': 'oneOf' failed, none matched"},
		{"two_kinds.yaml", false, "'/steps/0': 'oneOf' failed"},
		{"title_bad_lang.yaml", false, "additional properties 'ja'"},
		{"unknown_kind.yaml", false, "additional properties 'vcenter.host.shutdwon'"},
		// The validator lists unknown properties in no fixed order.
		{"unknown_step_field.yaml", false, "'retires'"},
		{"unknown_step_field.yaml", false, "'timout'"},
		{"until_no_condition.yaml", false, "missing property 'condition'"},
		{"literal_password.site.yaml", false, "'/vcenter/password'"},
		{"site_guest_no_address.site.yaml", false, "missing property 'address'"},
		{"site_no_name.site.yaml", false, "missing property 'name'"},
		{"site_unknown_field.site.yaml", false, "additional properties 'prot'"},
		{"site_wrong_types.site.yaml", false, "'/guests/ap01/port'"},
		{"vcenter_http.site.yaml", false, "missing property 'user'"},
	}
	for _, c := range cases {
		path := filepath.Join("testdata", "invalid", c.file)
		inst, err := yamlInstance(t, path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		sch := rb
		switch {
		case isSite(c.file):
			sch = st
		case c.full:
			sch = full
		}
		err = sch.Validate(inst)
		if err == nil {
			t.Errorf("%s validates against the schema, but its defect (%s) is one a schema can express", path, c.at)
			continue
		}
		if !strings.Contains(err.Error(), c.at) {
			t.Errorf("%s is rejected, but not for its defect at %s:\n%v", path, c.at, err)
		}
	}
}

// TestShippedRunbooksNameTheSchema checks that every shipped runbook and
// site file starts with the yaml-language-server line pointing at the
// committed schema (docs/schema/), so VS Code checks it as it is edited.
func TestShippedRunbooksNameTheSchema(t *testing.T) {
	for _, f := range yamlFiles(t, ".", true) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(src), "\n")
		want := "runbook.schema.json"
		if isSite(f) {
			want = "site.schema.json"
		}
		ref, ok := strings.CutPrefix(first, "# yaml-language-server: $schema=")
		if !ok {
			t.Errorf("%s: the first line must be `# yaml-language-server: $schema=…/docs/schema/%s`, not %q", f, want, first)
			continue
		}
		target := filepath.Join(filepath.Dir(f), filepath.FromSlash(ref))
		abs, _ := filepath.Abs(target)
		wantAbs, _ := filepath.Abs(filepath.Join("..", "docs", "schema", want))
		if abs != wantAbs {
			t.Errorf("%s: the schema line points at %s, want docs/schema/%s", f, ref, want)
		} else if _, err := os.Stat(target); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSiteSchemaDescribesEveryField: every field of a site file (site.Site)
// is described in English and Traditional Chinese in runbooks/sitedocs.go,
// and nothing there describes a field that is gone.
func TestSiteSchemaDescribesEveryField(t *testing.T) {
	steps.WalkFields(runbooks.SiteFields(), func(f steps.Field) {
		if strings.TrimSpace(f.Doc.Text.EN) == "" || strings.TrimSpace(f.Doc.Text.ZhTW) == "" {
			t.Errorf("site field %q is not described in both en and zh-TW: add it to siteDocs in runbooks/sitedocs.go", f.Path)
		}
	})
	for _, p := range runbooks.SiteDocPaths() {
		t.Errorf("runbooks/sitedocs.go describes %q, which is not a field of site.Site", p)
	}
}

// TestShorthandsAreDocumented: a kind whose parameters the loader also
// takes as a single value (its own UnmarshalYAML, or one bare-expression
// parameter) names, in Doc().Shorthand, the parameter that value is; and
// a kind that names one takes it. The schema's shorthand is that field's.
func TestShorthandsAreDocumented(t *testing.T) {
	reg := all.Registry()
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		short := steps.DocOf(k).Shorthand
		if got := runbooks.AcceptsShorthand(k); got != (short != "") {
			t.Errorf("kind %s: the loader takes a single value: %v, but Doc().Shorthand is %q", name, got, short)
		}
	}
}
