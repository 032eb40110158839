package engine

import (
	"context"
	"sync"
	"time"

	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
)

// monitors runs the runbook's background probes for the whole session and
// journals each change of state, so that outage windows are known to the
// probe interval.
type monitors struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (r *run) startMonitors(ctx context.Context) *monitors {
	ctx, cancel := context.WithCancel(ctx)
	m := &monitors{cancel: cancel}
	for _, mon := range r.rb.Monitors {
		m.wg.Add(1)
		go func(mon *runbooks.Monitor) {
			defer m.wg.Done()
			r.monitor(ctx, mon)
		}(mon)
	}
	return m
}

func (m *monitors) stop() {
	m.cancel()
	m.wg.Wait()
}

func (r *run) monitor(ctx context.Context, mon *runbooks.Monitor) {
	rt := &stepRuntime{run: r, id: "monitor:" + mon.Name}
	quiet := &quietRuntime{stepRuntime: rt}
	state := ""
	tick := time.NewTicker(mon.Every)
	defer tick.Stop()
	for {
		at := r.cfg.now()
		pctx, cancel := context.WithTimeout(ctx, mon.Every)
		_, err := mon.Kind.Execute(pctx, quiet, mon.Params)
		cancel()
		if ctx.Err() != nil {
			return
		}
		now, detail := "up", ""
		if err != nil {
			now, detail = "down", oneLine(err.Error())
		}
		if now != state {
			state = now
			r.append(journal.Event{Type: journal.TypeMonitor, Monitor: &journal.Monitor{Name: mon.Name, State: now, Since: at.UTC(), Resolution: journal.Duration(mon.Every), Detail: detail}})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// quietRuntime keeps a probe's per-poll evidence out of the journal: only
// state changes matter for a monitor.
type quietRuntime struct{ *stepRuntime }

func (q *quietRuntime) Evidence(journal.Evidence) {}
func (q *quietRuntime) Note(string, string)       {}
func (q *quietRuntime) Progress(string, ...any)   {}
func (q *quietRuntime) Trust(t journal.Trust)     { q.stepRuntime.Trust(t) }
