package engine_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/control"
)

// opener is a kind that opens the run-wide resource named by its key.
type opener struct {
	active, peak, opened atomic.Int32
}

type openerParams struct {
	Key string `yaml:"key"`
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

func (o *opener) Name() string                    { return "opener" }
func (o *opener) Summary() string                 { return "opens a shared resource" }
func (o *opener) Traits() steps.Traits            { return steps.Traits{Idempotent: true} }
func (o *opener) NewParams() any                  { return &openerParams{} }
func (o *opener) NewResult() any                  { return &struct{}{} }
func (o *opener) Validate(any) []steps.FieldError { return nil }
func (o *opener) Describe(any) steps.Description  { return steps.Description{Action: "open"} }
func (o *opener) Execute(ctx context.Context, rt steps.Runtime, p any) (any, error) {
	_, err := rt.Shared(p.(*openerParams).Key, func() (io.Closer, error) {
		o.opened.Add(1)
		n := o.active.Add(1)
		for {
			peak := o.peak.Load()
			if n <= peak || o.peak.CompareAndSwap(peak, n) {
				break
			}
		}
		// Stay open until another open has run at the same time, so that
		// overlap does not depend on how soon a loaded machine schedules
		// the other branches; opens that never overlap give up after 5 s
		// and the peak below fails the test.
		for deadline := time.Now().Add(5 * time.Second); o.peak.Load() < 2 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		o.active.Add(-1)
		return nopCloser{}, nil
	})
	return &struct{}{}, err
}

// TestSharedResourcesOpenInParallelOncePerKey: parallel steps connect to
// different hosts at the same time, and a resource shared by several
// steps is opened once.
func TestSharedResourcesOpenInParallelOncePerKey(t *testing.T) {
	f := newFixture(t)
	op := &opener{}
	f.reg = steps.NewRegistry(append(control.Kinds(), op)...)
	_, err, _ := f.run(context.Background(), `
name: t
steps:
  - id: g
    parallel:
      - {id: a, opener: {key: host-a}}
      - {id: b, opener: {key: host-b}}
      - {id: c, opener: {key: host-c}}
      - {id: a2, opener: {key: host-a}}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := op.opened.Load(); got != 3 {
		t.Errorf("opened %d resources, want 3 (host-a once)", got)
	}
	if peak := op.peak.Load(); peak < 2 {
		t.Errorf("at most %d opens ran at once; parallel steps must not wait for each other's connections", peak)
	}
}
