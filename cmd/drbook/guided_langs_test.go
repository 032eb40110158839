package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drbook/drbook/journal"
)

// The guided traps' pty tests run each scenario once per trapRun: in
// English, and in Traditional Chinese in a narrow (80×24) and a wide
// (120×40) terminal. A scenario is written once; what it expects on the
// screen comes from its screenWords, one set per language, and its
// single-letter answers are the same in both. After the runs, each
// non-English run must end as the English one did: the same exit code
// and the same journal (statuses, decisions, reasons, result), because
// the language is display, never data.

// trapRun is one run of a scenario: a language and a terminal size.
type trapRun struct {
	lang       string
	cols, rows uint16
}

var trapRuns = []trapRun{{"en", 120, 40}, {"zh-TW", 80, 24}, {"zh-TW", 120, 40}}

func (r trapRun) String() string { return fmt.Sprintf("%s_%dx%d", r.lang, r.cols, r.rows) }

// start runs drbook ARGS (args[0] the command) in r's language on a
// terminal of r's size. When the test ends, every line the live view
// drew must have fitted the terminal.
func (r trapRun) start(t *testing.T, dir string, args ...string) *ptyDrbook {
	t.Helper()
	args = append([]string{args[0], "--lang", r.lang}, args[1:]...)
	p := startPTYSized(t, dir, r.cols, r.rows, args...)
	t.Cleanup(func() { checkDrawnLines(t, p, int(r.cols)) })
	return p
}

// screenWords are a scenario's screen texts by language, each under a
// key saying what it is ("confirm", "reason"…).
type screenWords map[string]map[string]string

// trapOutcome is what must not depend on the language.
type trapOutcome struct {
	code  int
	facts []string
}

// processIDs are the process ids a stopped command's error names (pid
// 4242, process group 4242): ids, which differ from run to run.
var processIDs = regexp.MustCompile(`\b(pid|process group) [0-9]+`)

// outcomeOf is a run's exit code and its journal's decisions, step
// outcomes and result, without times, ids, hashes or monitor polls.
func outcomeOf(code int, log *journal.Log) trapOutcome {
	o := trapOutcome{code: code}
	for _, ev := range log.Events {
		switch {
		case ev.StepFinish != nil:
			f := ev.StepFinish
			o.facts = append(o.facts, fmt.Sprintf("finish %s %s reason=%q error=%q", ev.Step, f.Status, f.Reason, processIDs.ReplaceAllString(f.Error, "$1 N")))
		case ev.Decision != nil:
			d := ev.Decision
			o.facts = append(o.facts, fmt.Sprintf("decision %s %s by %s reason=%q inputs=%v", ev.Step, d.Action, d.Who, d.Reason, d.Inputs))
		case ev.RunEnd != nil:
			o.facts = append(o.facts, "end "+ev.RunEnd.Result)
		}
	}
	return o
}

// runTraps runs scenario once per trapRun, in parallel, giving it the
// words of the run's language (say fails the test on a key the language
// lacks), then compares each run's outcome with the English run's.
func runTraps(t *testing.T, words screenWords, scenario func(t *testing.T, r trapRun, say func(key string) string) trapOutcome) {
	t.Helper()
	outcomes := make([]*trapOutcome, len(trapRuns))
	t.Run("runs", func(t *testing.T) {
		for i, r := range trapRuns {
			t.Run(r.String(), func(t *testing.T) {
				t.Parallel()
				say := func(key string) string {
					t.Helper()
					s, ok := words[r.lang][key]
					if !ok {
						t.Fatalf("the scenario has no %s text %q", r.lang, key)
					}
					return s
				}
				o := scenario(t, r, say)
				outcomes[i] = &o
			})
		}
	})
	en := outcomes[0]
	for i, o := range outcomes[1:] {
		if en == nil || o == nil {
			continue // a run failed, and said why
		}
		r := trapRuns[i+1]
		if o.code != en.code {
			t.Errorf("%s exited %d, %s %d", r, o.code, trapRuns[0], en.code)
		}
		if !slices.Equal(o.facts, en.facts) {
			t.Errorf("the journal of %s differs from %s's:\n%s:\n%s\n%s:\n%s", r, trapRuns[0],
				trapRuns[0], strings.Join(en.facts, "\n"), r, strings.Join(o.facts, "\n"))
		}
	}
}

// checkDrawnLines fails on a line the live view drew that does not fit a
// terminal cols columns wide, or that was cut inside a character. Every
// line of a frame ends in clip's reset and clear-line codes; the width is
// counted by columnsOf (wide characters two), not by the view's own
// go-runewidth.
func checkDrawnLines(t *testing.T, p *ptyDrbook, cols int) {
	t.Helper()
	select {
	case <-p.read:
	default:
		return // still running: the test failed before it ended
	}
	p.mu.Lock()
	raw := p.raw.String()
	p.mu.Unlock()
	end := ansiReset + ansiClearLine
	n := 0
	segs := strings.Split(raw, end)
	for _, seg := range segs[:len(segs)-1] {
		line := seg[strings.LastIndexByte(seg, '\n')+1:]
		line = strings.TrimPrefix(ansiEscape.ReplaceAllString(line, ""), "\r")
		n++
		switch {
		case !utf8.ValidString(line) || strings.ContainsRune(line, utf8.RuneError):
			t.Errorf("a drawn line was cut inside a character: %q", line)
			return
		case columnsOf(line) > cols:
			t.Errorf("a drawn line is %d columns wide in a %d-column terminal: %q", columnsOf(line), cols, line)
			return
		}
	}
	if n == 0 {
		t.Errorf("the view drew no line")
	}
}
