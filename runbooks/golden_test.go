// Golden tests for the loader's error text.
//
// Each file under testdata/invalid/ is one malformed runbook (*.yaml) or
// site file (*.site.yaml); next to it, a .golden file holds the exact text
// the operator sees: ErrorList.Format(true), that is file:line:col, the
// message, the source line with a caret under the column, and the hint.
//
// After a deliberate change to the messages, regenerate every golden file
// with
//
//	go test ./runbooks -run TestGolden -update
//
// and review the diff before committing it.
//
// Conventions inside a test runbook:
//   - a first-line comment `# vars: name=value other=value` passes --var
//     overrides;
//   - a runbook without a top-level `site:` entry is loaded against
//     testdata/sites/lab.site.yaml; one with `site:` loads the file it names;
//     one with a line `# no site` is loaded with no site at all, as plain
//     `drbook validate FILE` does.
//
// Paths are relative (testdata/invalid/…) so the golden text is the same on
// every machine.
package runbooks_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
)

var update = flag.Bool("update", false, "rewrite the .golden files under testdata/invalid from the loader's current output")

const labSitePath = "testdata/sites/lab.site.yaml"

// labSite loads the test site once per call; it is small.
func labSite(t testing.TB) *site.Site {
	t.Helper()
	s, _, err := runbooks.LoadSite(labSitePath)
	if err != nil {
		t.Fatalf("the test site must load: %v", err)
	}
	return s
}

var varsLine = regexp.MustCompile(`(?m)\A# vars:(.*)$`)
var siteEntry = regexp.MustCompile(`(?m)^site:`)
var noSiteLine = regexp.MustCompile(`(?m)^# no site$`)

// loadTestFile loads one testdata file the way the golden and valid tests
// both do, following the conventions in the package comment.
func loadTestFile(t testing.TB, path string) (*runbooks.Runbook, error) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".site.yaml") {
		_, _, err := runbooks.LoadSite(path)
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: the loader panicked: %v", path, r)
		}
	}()
	opts := runbooks.Options{Registry: testRegistry(), Vars: map[string]string{}}
	if m := varsLine.FindSubmatch(src); m != nil {
		for _, kv := range strings.Fields(string(m[1])) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("%s: bad # vars entry %q (want name=value)", path, kv)
			}
			opts.Vars[k] = v
		}
	}
	if !siteEntry.Match(src) && !noSiteLine.Match(src) {
		opts.Site = labSite(t)
	}
	return runbooks.Load(path, opts)
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 35 {
		t.Fatalf("only %d invalid files; the suite promises at least 35", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			if reason, ok := knownBugs[name]; ok {
				t.Skip("known bug: " + reason)
			}
			_, err := loadTestFile(t, path)
			if err == nil {
				t.Fatalf("%s loaded without error; it is meant to be invalid", path)
			}
			var list *runbooks.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%s: want an *ErrorList, got %T: %v", path, err, err)
			}
			for _, p := range list.Problems {
				if p.Pos.File == "" {
					t.Errorf("problem without a file: %q", p.Msg)
				}
			}
			got := list.Format(true) + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./runbooks -run TestGolden -update` to create it)", err)
			}
			if got != string(want) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
					FromFile: golden, ToFile: "loader output", Context: 2,
				})
				t.Errorf("error text changed (if intended, run `go test ./runbooks -run TestGolden -update`):\n%s", diff)
			}
		})
	}
}

// knownBugs are invalid files whose output shows a loader bug that is
// reported, not fixed, by this suite (the loader belongs to another
// engineer); each entry says what is wrong.
var knownBugs = map[string]string{}

// TestGoldenFilesHaveInputs catches a golden file left behind when its
// input was renamed or removed.
func TestGoldenFilesHaveInputs(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/invalid/*.golden")
	for _, g := range goldens {
		if _, err := os.Stat(strings.TrimSuffix(g, ".golden") + ".yaml"); err != nil {
			t.Errorf("%s has no input file", g)
		}
	}
}
