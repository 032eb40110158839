// Package docs holds drbook's generated reference: docs/kinds/ (one page
// per family of step kinds, and one of site files, in English and
// Traditional Chinese) and
// docs/schema/ (the JSON Schemas of runbooks and site files, which shipped
// runbooks name on their first line for VS Code's YAML extension). Every
// file is generated from the kinds' own declarations; this package's test
// fails when one is out of date and rewrites them with -update:
//
//	go test ./docs -update
package docs_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
	"github.com/drbook/drbook/steps/reference"
)

var update = flag.Bool("update", false, "rewrite the generated files under docs/")

const regenerate = "go test ./docs -update"

// generated returns every file under docs/ that is generated, by path
// relative to docs/.
func generated(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for name, b := range reference.Markdown(all.Registry()) {
		out[filepath.Join("kinds", name)] = b
	}
	for _, lang := range []string{"en", "zh-TW"} {
		name, b := reference.SiteMarkdown(runbooks.SiteFields(), lang)
		out[filepath.Join("kinds", name)] = b
	}
	rb, err := runbooks.EncodeSchema(runbooks.Schema(all.Registry(), "en"))
	if err != nil {
		t.Fatal(err)
	}
	out[filepath.Join("schema", "runbook.schema.json")] = rb
	sb, err := runbooks.EncodeSchema(runbooks.SiteSchema("en"))
	if err != nil {
		t.Fatal(err)
	}
	out[filepath.Join("schema", "site.schema.json")] = sb
	return out
}

// TestGeneratedDocsUpToDate compares docs/kinds/ and docs/schema/ with
// what the kinds' declarations generate now, so that a new kind or field
// (documented, as steps/all's tests insist) reaches the reference.
func TestGeneratedDocsUpToDate(t *testing.T) {
	want := generated(t)
	if *update {
		for _, dir := range []string{"kinds", "schema"} {
			old, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range old {
				if _, keep := want[f]; !keep {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for name, b := range want {
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(name)
		switch {
		case os.IsNotExist(err):
			t.Errorf("docs/%s is missing; generate it with: %s", name, regenerate)
		case err != nil:
			t.Fatal(err)
		case !bytes.Equal(got, want[name]):
			t.Errorf("docs/%s is out of date with the kinds' declarations; regenerate it with: %s", name, regenerate)
		}
	}
	for _, dir := range []string{"kinds", "schema"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			if _, ok := want[f]; !ok {
				t.Errorf("docs/%s is not generated any more (a family or schema was removed?); %s deletes it", f, regenerate)
			}
		}
	}
}
