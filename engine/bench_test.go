package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// overheadSteps is the size of the benchmark runbook: large enough that
// the per-run cost (run directory, run.start, run.end) is noise.
const overheadSteps = 1000

// BenchmarkEngineOverhead measures what the engine adds to every step: the
// step.start, note and step.finish events, each hash-chained and (in the
// "fsync" variant) fsync'd before the run moves on. The steps are `log`,
// which does nothing but journal its note, so ms/step is the engine's own
// cost. "nosync" runs the same with Config.NoSync to show what fsync costs;
// "whole" is what `drbook run` does end to end: parse and check the
// runbook, run it (fsync'd) and write report.html, report.json and the
// history index. The variants alternate in every iteration, their order
// rotating, so that a busy spell on the shared machine falls on all of them.
//
//	go test -run '^$' -bench EngineOverhead -benchtime 3x ./engine/
func BenchmarkEngineOverhead(b *testing.B) {
	var src strings.Builder
	src.WriteString("name: overhead\nsteps:\n")
	for i := range overheadSteps {
		fmt.Fprintf(&src, "  - id: s%d\n    log: step %d\n", i, i)
	}
	parse := func() *runbooks.Runbook {
		rb, err := runbooks.Parse("overhead.yaml", []byte(src.String()), runbooks.Options{Registry: all.Registry()})
		if err != nil {
			b.Fatalf("the benchmark runbook does not load: %v", err)
		}
		return rb
	}
	rb := parse()
	if n := len(rb.AllSteps()); n != overheadSteps {
		b.Fatalf("the benchmark runbook has %d steps, want %d", n, overheadSteps)
	}
	runsDir := b.TempDir()
	cfg := engine.Config{Registry: all.Registry(), RunsDir: runsDir, OperatorName: "bench",
		Machine: "bench", Mode: "drill", Version: "bench"}
	run := func(rb *runbooks.Runbook, noSync bool) *engine.Result {
		c := cfg
		c.NoSync = noSync
		res, err := engine.Start(context.Background(), rb, c)
		if err != nil {
			b.Fatalf("run failed: %v", err)
		}
		if res.Outcome != "passed" {
			b.Fatalf("run outcome %s, want passed", res.Outcome)
		}
		return res
	}
	var last *engine.Result
	variants := []struct {
		name string
		do   func()
		took time.Duration
	}{
		{name: "fsync", do: func() { last = run(rb, false) }},
		{name: "nosync", do: func() { run(rb, true) }},
		{name: "whole", do: func() { writeReports(b, run(parse(), false).RunDir) }},
	}
	n := 0
	for b.Loop() {
		for k := range variants {
			v := &variants[(k+n)%len(variants)]
			t0 := time.Now()
			v.do()
			v.took += time.Since(t0)
		}
		n++
	}
	for _, v := range variants {
		b.ReportMetric(v.took.Seconds()*1000/float64(n*overheadSteps), "ms/step-"+v.name)
	}
	b.ReportMetric(variants[2].took.Seconds()/float64(n), "s/run-whole")
	// Events per step says how many fsyncs a step costs.
	log, err := journal.ReadFile(filepath.Join(last.RunDir, journal.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(log.Events))/overheadSteps, "events/step")
}

// writeReports does what drbook run does after the engine: read and verify
// the run, add its history, write report.html and report.json, and the
// history index.
func writeReports(b *testing.B, runDir string) {
	r, err := reports.ReadRun(runDir)
	if err != nil {
		b.Fatal(err)
	}
	if h, err := r.HistoryOf(runDir); err == nil {
		r.History = h
	}
	for file, format := range map[string]string{"report.html": reports.FormatHTML, "report.json": reports.FormatJSON} {
		f, err := os.Create(filepath.Join(runDir, file))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriter(f)
		if err := reports.Render(bw, r, format, reports.LangEN); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	if err := reports.WriteIndex(runDir, r); err != nil {
		b.Fatal(err)
	}
}

// fanOutItems is the size of the trivial fan-out in BenchmarkFanOutJournal.
const fanOutItems = 500

// BenchmarkFanOutJournal runs a for_each of 500 `log` items (each does
// nothing but journal its note: three fsync'd events) at concurrency 1 and
// 50, alternating which goes first in every iteration so both see the same
// machine. With one fsync per event under one lock, concurrency buys
// nothing; with group commit the 50 concurrent items share their fsyncs.
// c50/c1 is the ratio of the two times (lower is better).
//
//	go test -run '^$' -bench FanOutJournal -benchtime 3x ./engine/
func BenchmarkFanOutJournal(b *testing.B) {
	load := func(conc int) *runbooks.Runbook {
		var src strings.Builder
		src.WriteString("name: fanout\nsteps:\n  - id: fan\n    for_each: [")
		for i := range fanOutItems {
			if i > 0 {
				src.WriteString(", ")
			}
			fmt.Fprintf(&src, "%d", i)
		}
		fmt.Fprintf(&src, "]\n    concurrency: %d\n    log: item ${{ item }}\n", conc)
		rb, err := runbooks.Parse("fanout.yaml", []byte(src.String()), runbooks.Options{Registry: all.Registry()})
		if err != nil {
			b.Fatalf("the benchmark runbook does not load: %v", err)
		}
		return rb
	}
	variants := []struct {
		conc int
		rb   *runbooks.Runbook
		took time.Duration
	}{{conc: 1}, {conc: 50}}
	for i := range variants {
		variants[i].rb = load(variants[i].conc)
	}
	runsDir := b.TempDir()
	cfg := engine.Config{Registry: all.Registry(), RunsDir: runsDir, OperatorName: "bench",
		Machine: "bench", Mode: "drill", Version: "bench"}
	var lastDir string
	n := 0
	for b.Loop() {
		for k := range variants {
			v := &variants[(k+n)%len(variants)]
			t0 := time.Now()
			res, err := engine.Start(context.Background(), v.rb, cfg)
			v.took += time.Since(t0)
			if err != nil {
				b.Fatalf("run failed: %v", err)
			}
			if res.Outcome != "passed" {
				b.Fatalf("run outcome %s, want passed", res.Outcome)
			}
			lastDir = res.RunDir
		}
		n++
	}
	log, err := journal.ReadFile(filepath.Join(lastDir, journal.FileName))
	if err != nil {
		b.Fatal(err)
	}
	if got, want := len(log.Events), 3*fanOutItems+4; got < want {
		b.Fatalf("the fan-out journal has %d events, want at least %d", got, want)
	}
	c1, c50 := variants[0].took, variants[1].took
	b.ReportMetric(float64(c1.Milliseconds())/float64(n), "ms/run-c1")
	b.ReportMetric(float64(c50.Milliseconds())/float64(n), "ms/run-c50")
	b.ReportMetric(float64(c50)/float64(c1), "c50/c1")
}
