package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drbook/drbook/journal"
)

// TestMain lets the test binary double as the drbook command: testscript
// installs a copy named "drbook" on $PATH, and when the binary is started
// under that name it runs the real CLI. The Go tests that need a real
// process (interrupt, crash) start that same copy.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"drbook": func() { os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the whole-CLI scripts in testdata/script. Each script
// runs in its own $WORK, and every run directory is made under it.
//
// Besides testscript's own commands, scripts have:
//
//	exits N CMD ARGS...      run CMD and require exit status N exactly
//	rundir VAR               set $VAR to the "run directory:" the last command printed
//	journal DIR              verify DIR's journal chain and print one line per event
//	waitjournal DIR RE VAR   wait (10 s at most) for a journal under DIR to match RE; set $VAR to its run directory
//	jsonvalid FILE           require FILE to hold one JSON value
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			// Messages are asserted in English whatever the machine says.
			env.Setenv("DRBOOK_LANG", "en")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       cmdExits,
			"rundir":      cmdRunDir,
			"journal":     cmdJournal,
			"waitjournal": cmdWaitJournal,
			"jsonvalid":   cmdJSONValid,
		},
	})
}

// cmdExits runs a program and checks its exact exit status: the exit
// codes are a contract that `! exec` cannot tell apart.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not a number", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

var runDirLine = regexp.MustCompile(`(?m)^run directory: (.+)$`)

func cmdRunDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: rundir VAR")
	}
	m := runDirLine.FindStringSubmatch(ts.ReadFile("stdout"))
	if m == nil {
		ts.Fatalf("the last command printed no \"run directory:\" line")
	}
	dir := strings.TrimSpace(m[1])
	if !filepath.IsAbs(dir) {
		dir = ts.MkAbs(dir)
	}
	ts.Setenv(args[0], dir)
}

// cmdJournal verifies a run's journal and prints it one event a line:
//
//	seq type [step] [status or result] [detail]
//
// so that scripts can assert the order of events with stdout.
func cmdJournal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: journal RUN_DIR")
	}
	path := filepath.Join(ts.MkAbs(args[0]), journal.FileName)
	data, err := os.ReadFile(path)
	ts.Check(err)
	if _, torn, err := journal.Verify(bytes.NewReader(data)); err != nil {
		ts.Fatalf("%s does not verify: %v", path, err)
	} else if torn > 0 {
		ts.Fatalf("%s has a torn last line (%d bytes) after a clean exit", path, torn)
	}
	log, err := journal.Read(bytes.NewReader(data))
	ts.Check(err)
	for _, ev := range log.Events {
		fmt.Fprintln(ts.Stdout(), eventLine(ev))
	}
}

// eventLine is the one-line form of an event that scripts match.
func eventLine(ev journal.Event) string {
	parts := []string{strconv.FormatInt(ev.Seq, 10), ev.Type}
	if ev.Step != "" {
		parts = append(parts, ev.Step)
	}
	switch {
	case ev.StepFinish != nil:
		parts = append(parts, ev.StepFinish.Status)
		if ev.StepFinish.Error != "" {
			parts = append(parts, "error="+oneLine(ev.StepFinish.Error))
		}
	case ev.RunEnd != nil:
		parts = append(parts, ev.RunEnd.Result)
	case ev.Note != nil:
		parts = append(parts, ev.Note.Level+": "+ev.Note.Text)
	case ev.Decision != nil:
		parts = append(parts, ev.Decision.Action, "by="+ev.Decision.Who)
	case ev.RunResume != nil && ev.RunResume.AllowedChange:
		parts = append(parts, "allowed_change")
	case ev.RunStart != nil:
		parts = append(parts, ev.RunStart.Runbook, "mode="+ev.RunStart.Mode)
		for _, k := range slices.Sorted(maps.Keys(ev.RunStart.Params)) {
			parts = append(parts, fmt.Sprintf("%s=%v", k, ev.RunStart.Params[k]))
		}
	}
	return strings.Join(parts, " ")
}

func cmdWaitJournal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitjournal RUNS_DIR REGEXP VAR")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	// A hang guard, not a speed bound: the script's drbook may be many
	// times slower on a busy machine than on a quiet one.
	const guard = 5 * time.Minute
	deadline := time.Now().Add(guard)
	for time.Now().Before(deadline) {
		paths, _ := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), "*", journal.FileName))
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil && re.Match(data) {
				ts.Setenv(args[2], filepath.Dir(p))
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("no journal under %s matched %s within %s (hang guard)", args[0], args[1], guard)
}

func cmdJSONValid(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonvalid FILE")
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile(args[0])))
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("%s is not JSON: %v", args[0], err)
	}
	if dec.More() {
		ts.Fatalf("%s holds more than one JSON value", args[0])
	}
}
