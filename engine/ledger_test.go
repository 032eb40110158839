package engine_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// ledgerKind journals a mark as evidence, then checks that the run's
// ledger (steps.Recorded) holds every mark it expects.
type ledgerKind struct{}

type ledgerParams struct {
	Mark   string   `yaml:"mark"`
	Expect []string `yaml:"expect"`
}

func (ledgerKind) Name() string                    { return "ledger" }
func (ledgerKind) Summary() string                 { return "journal a mark and read the ledger" }
func (ledgerKind) Traits() steps.Traits            { return steps.Traits{Idempotent: true} }
func (ledgerKind) NewParams() any                  { return &ledgerParams{} }
func (ledgerKind) NewResult() any                  { return &struct{}{} }
func (ledgerKind) Validate(any) []steps.FieldError { return nil }
func (ledgerKind) Describe(any) steps.Description  { return steps.Description{Action: "ledger"} }
func (ledgerKind) Execute(_ context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*ledgerParams)
	if p.Mark != "" {
		rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "mark", Facts: []journal.Fact{{Key: "mark", Value: p.Mark}}})
	}
	var seen []string
	for _, r := range steps.Recorded(rt) {
		if r.Evidence.Title == "mark" {
			seen = append(seen, r.Step+"="+r.Evidence.Facts[0].Value)
		}
	}
	for _, want := range p.Expect {
		if !slices.Contains(seen, want) {
			return nil, fmt.Errorf("the ledger lacks %s (it has %v)", want, seen)
		}
	}
	return &struct{}{}, nil
}

// TestLedgerSpansSessions: evidence journaled before a run was
// interrupted is in the ledger of the session that resumes it, with the
// step that journaled it, and this session's is added as it is written.
func TestLedgerSpansSessions(t *testing.T) {
	f := newFixture(t)
	f.reg = steps.NewRegistry(append(control.Kinds(), f.probe, f.safe, ledgerKind{})...)
	src := `
name: t
params: {nap: {type: duration, default: 10s}}
steps:
  - {id: a, ledger: {mark: one, expect: [a=one]}}
  - {id: slow, probe.safe: {key: slow, sleep: "${{ params.nap }}"}}
  - {id: c, ledger: {mark: two, expect: [a=one, c=two]}}
`
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.probe.count("slow") == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	res, err := engine.Start(ctx, f.load(src), f.config())
	if !errors.Is(err, engine.ErrInterrupted) {
		t.Fatalf("first session: %v", err)
	}
	rb, err := runbooks.Load(filepath.Join(f.dir, "rb.yaml"), runbooks.Options{Registry: f.reg, Vars: map[string]string{"nap": "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := engine.Resume(context.Background(), res.RunDir, rb, f.config(), engine.ResumeOptions{})
	if err != nil || res2.Outcome != "passed" {
		t.Fatalf("resume: %v %+v", err, res2)
	}
	if fin := finishes(readLog(t, res.RunDir))["c"]; fin == nil || fin.Status != journal.StatusOK {
		t.Fatalf("c, which reads the first session's mark: %+v", fin)
	}
}
