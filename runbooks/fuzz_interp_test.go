package runbooks_test

// FuzzInterpolation puts arbitrary text, with or without ${{ … }}, into a
// log message, a shell command and a for_each step, loads the runbook and
// resolves the parameters as a run would. Nothing may panic; every problem
// must be on the line of the text that causes it, at a column on that
// line. Seeds are in testdata/fuzz/FuzzInterpolation and run with
// `go test ./runbooks`; fuzz for longer with
//
//	go test ./runbooks -run '^$' -fuzz FuzzInterpolation -fuzztime 60s

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drbook/drbook/runbooks"
)

func FuzzInterpolation(f *testing.F) {
	for _, s := range []string{
		"plain text",
		"${{ params.host }}",
		"a ${{ params.host }} b ${{ steps.first.result.exit_code }}",
		"${{ raw(item) }} and ${{ item }}",
		"${{ }}",
		"${{ params.nope",
		"漢字 ${{ params.hots }} 漢字",
		"${{ site.guests.ap01.address }}:${{ site.guests.ap02.port }}",
		"${{ steps.first.result.stdout | upper() }}",
		"'; rm -rf / #${{ params.host }}",
		"${{ 1/0 }}",
		"${{ \"${{\" }}",
	} {
		f.Add(s)
	}
	site := labSite(f)
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, s string) {
		q, _ := json.Marshal(s) // a valid YAML double-quoted scalar
		src := fmt.Sprintf(`name: fuzz
params:
  host: {type: host, default: esx-68}
steps:
  - id: first
    exec.local: {shell: "true"}
  - id: msg
    log: %s
  - id: cmd
    ssh.exec: {guest: ap01, command: %s}
  - id: loop
    for_each: [x, y]
    log: %s
`, q, q, q)
		templateLines := map[int]bool{8: true, 10: true, 13: true}
		rb, err := runbooks.Parse("fuzz.yaml", []byte(src), runbooks.Options{Registry: reg, Site: site})
		if err != nil {
			list, ok := err.(*runbooks.ErrorList)
			if !ok {
				t.Fatalf("Parse returned %T: %v", err, err)
			}
			lines := strings.Split(src, "\n")
			for _, p := range list.Problems {
				if !templateLines[p.Pos.Line] {
					t.Errorf("problem on line %d, not on a line holding the text: %s: %s\n%s", p.Pos.Line, p.Pos, p.Msg, src)
					continue
				}
				if n := utf8.RuneCountInString(lines[p.Pos.Line-1]); p.Pos.Column < 1 || p.Pos.Column > n+1 {
					t.Errorf("column %d outside line %d (%d characters): %s", p.Pos.Column, p.Pos.Line, n, p.Msg)
				}
			}
			_ = list.Format(true)
			return
		}
		env := rb.NewEnv()
		for _, st := range rb.AllSteps() {
			if st.ID == "first" {
				continue
			}
			_, _ = rb.ResolveParams(st, env, runbooks.Vars{Item: "x"})
		}
	})
}
