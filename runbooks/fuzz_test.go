package runbooks_test

// FuzzLoad feeds arbitrary bytes to the runbook and site parsers.
//
// Its seed corpus is every file under testdata/ (valid and invalid
// runbooks, site files) plus a few inline inputs and the crashers kept in
// testdata/fuzz/FuzzLoad; `go test ./runbooks` runs them all as a normal
// test. To fuzz for longer:
//
//	go test ./runbooks -run '^$' -fuzz FuzzLoad -fuzztime 5m
//
// A new crasher lands in testdata/fuzz/FuzzLoad; commit it so that it stays
// a regression test.

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/runbooks"
)

func FuzzLoad(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join("testdata", "fuzz") {
			return filepath.SkipDir // the fuzzing engine reads its own corpus
		}
		if d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f.Add(src)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"",
		"name: x\nsteps: [{log: hi}]\n",
		"name: x\nsteps:\n  - for_each: ${{ params.l }}\n    log: ${{ item }}\nparams: {l: [a]}\n",
		"name: x\nsteps:\n  - parallel: [{parallel: [{log: a}]}]\n",
		"name: x\nsteps: [{log: \"${{ steps }}\"}]\n",
		"name: x\nsteps: [&s {log: a}, *s]\n",
		"name: x\nsteps: [{test.fan: {hosts: &h [a], count: 1}}, {test.fan: {hosts: *h}}]\n",
		"\xff\xfe",
		"name: x\nsteps: [{ssh.exec: {guest: ap01, command: \"${{ raw(site.guests.ap01.address) }}\"}}]\n",
	} {
		f.Add([]byte(s))
	}
	site := labSite(f)
	reg := testRegistry()

	f.Fuzz(func(t *testing.T, src []byte) {
		defer func() {
			if r := recover(); r != nil {
				stack := string(debug.Stack())
				t.Fatalf("panic: %v\n%s\ninput:\n%q", r, stack, src)
			}
		}()
		var doc yaml.Node
		isYAML := yaml.Unmarshal(src, &doc) == nil

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rb, err := runbooks.Parse("fuzz.yaml", src, runbooks.Options{Registry: reg, Site: site})
		runtime.ReadMemStats(&after)
		if n := after.Mallocs - before.Mallocs; n > allocLimit(len(src)) {
			t.Errorf("Parse made %d allocations on a %d-byte input; validate must stay cheap", n, len(src))
		}
		checkProblems(t, "Parse", err, isYAML, src)
		if err == nil {
			env := rb.NewEnv()
			for _, st := range rb.AllSteps() {
				// Run-time resolution against an empty environment may fail
				// (results are unknown), but it must not panic.
				_, _ = rb.ResolveParams(st, env, runbooks.Vars{Item: "x"})
			}
		}
		_, err = runbooks.ParseSite("fuzz.site.yaml", src)
		checkProblems(t, "ParseSite", err, isYAML, src)
	})
}

// checkProblems asserts that every problem of a YAML input has a line.
func checkProblems(t *testing.T, what string, err error, isYAML bool, src []byte) {
	t.Helper()
	if err == nil {
		return
	}
	list, ok := err.(*runbooks.ErrorList)
	if !ok {
		t.Fatalf("%s returned %T, not an *ErrorList: %v", what, err, err)
	}
	if len(list.Problems) == 0 {
		t.Fatalf("%s returned an empty ErrorList", what)
	}
	_ = list.Format(true)
	if !isYAML {
		return
	}
	for _, p := range list.Problems {
		if p.Pos.Line < 1 {
			t.Errorf("%s: problem without a line: %s: %s\ninput:\n%q", what, p.Pos, p.Msg, src)
		}
	}
}

// allocLimit is far above what loading an input of n bytes needs (the
// syntax error search parses a few prefixes), so that only a blow-up (an
// alias expanded, a loop) is reported; counted in allocations, not time,
// so a busy machine cannot fail it.
func allocLimit(n int) uint64 { return uint64(2000*n + 200000) }
