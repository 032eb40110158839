package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// overheadSteps is the size of the benchmark runbook: large enough that
// the per-run cost (run directory, run.start, run.end) is noise.
const overheadSteps = 1000

// BenchmarkEngineOverhead measures what the engine adds to every step: the
// step.start, note and step.finish events, each hash-chained and (in the
// "fsync" case) fsync'd before the run moves on. The steps are `log`, which
// does nothing but journal its note, so ns/step is the engine's own cost.
// "nosync" runs the same with Config.NoSync to show what fsync costs.
//
//	go test -run '^$' -bench EngineOverhead -benchtime 3x ./engine/
func BenchmarkEngineOverhead(b *testing.B) {
	var src strings.Builder
	src.WriteString("name: overhead\nsteps:\n")
	for i := range overheadSteps {
		fmt.Fprintf(&src, "  - id: s%d\n    log: step %d\n", i, i)
	}
	rb, err := runbooks.Parse("overhead.yaml", []byte(src.String()), runbooks.Options{Registry: all.Registry()})
	if err != nil {
		b.Fatalf("the benchmark runbook does not load: %v", err)
	}
	if n := len(rb.AllSteps()); n != overheadSteps {
		b.Fatalf("the benchmark runbook has %d steps, want %d", n, overheadSteps)
	}
	for _, bc := range []struct {
		name   string
		noSync bool
	}{{"fsync", false}, {"nosync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			runsDir := b.TempDir()
			cfg := engine.Config{Registry: all.Registry(), RunsDir: runsDir, OperatorName: "bench",
				Machine: "bench", Mode: "drill", Version: "bench", NoSync: bc.noSync}
			var last *engine.Result
			for b.Loop() {
				res, err := engine.Start(context.Background(), rb, cfg)
				if err != nil {
					b.Fatalf("run failed: %v", err)
				}
				if res.Outcome != "passed" {
					b.Fatalf("run outcome %s, want passed", res.Outcome)
				}
				last = res
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*overheadSteps), "ns/step")
			// Events per step says how many fsyncs a step costs.
			log, err := journal.ReadFile(filepath.Join(last.RunDir, journal.FileName))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(log.Events))/overheadSteps, "events/step")
		})
	}
}
