package runbooks_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/drbook/drbook/runbooks"
)

// zhGoldens are the invalid files whose zh-TW text is kept as a golden
// file under testdata/zh-TW/, one of each family of message: YAML syntax
// and encoding, structure, parameters and --var, expressions, the shell
// slots, kinds' parameters and checks, and the site file. The text was read
// by hand when it was written; regenerate it with
//
//	go test ./runbooks -run TestGoldenZhTW -update
//
// and read the diff before committing it.
var zhGoldens = []string{
	"tabs", "yaml_unclosed_brace", "yaml_second_document", "encoding_not_utf8", "many_problems",
	"unknown_step_field", "two_kinds", "param_no_value", "var_wrong_type", "bad_duration",
	"expr_later_step", "expr_unknown_result_field", "for_each_not_list", "shell_interp_unsafe",
	"kind_unknown_param", "kind_wrong_param_type", "kind_validate", "monitor_state_changing",
	"site_needed", "literal_password.site", "site_wrong_types.site", "vcenter_http.site",
	"go_type_names", "until_not_bool", "expr_syntax",
}

func TestGoldenZhTW(t *testing.T) {
	for _, name := range zhGoldens {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata/invalid", name+".yaml")
			_, err := loadTestFile(t, path)
			var list *runbooks.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%s: want an *ErrorList, got %v", path, err)
			}
			got := list.FormatIn(true, "zh-TW") + "\n"
			// The positions and source lines are the English ones.
			if a, b := framing(list.Format(true)), framing(got); a != b {
				t.Errorf("positions or source lines differ from the English text:\n%s\n---\n%s", a, b)
			}
			golden := filepath.Join("testdata/zh-TW", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run `go test ./runbooks -run TestGoldenZhTW -update` to create it)", err)
			}
			if got != string(want) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got),
					FromFile: golden, ToFile: "loader output", Context: 2,
				})
				t.Errorf("zh-TW error text changed (if intended, run `go test ./runbooks -run TestGoldenZhTW -update`):\n%s", diff)
			}
		})
	}
}

// framing is a problem list's positions and source excerpts, without its
// words.
func framing(text string) string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if pos, _, ok := strings.Cut(line, ": "); ok && (strings.HasPrefix(line, "testdata/") || strings.HasPrefix(line, "--var")) {
			out = append(out, pos)
		} else if strings.HasPrefix(line, "     ") || strings.HasPrefix(line, "    ") && strings.Contains(line, " | ") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
