package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
)

// Monitor states as journaled. Unknown is a probe that got no answer by
// its own means (its vCenter login or API call failed or was slow, or the
// probe overran its interval): it says nothing about the service, so it
// never opens an outage window.
const (
	monitorUp      = "up"
	monitorDown    = "down"
	monitorUnknown = "unknown"
)

// errProbeOverran is the cause of a probe's context when the probe took
// longer than its monitor's interval.
var errProbeOverran = i18n.New("the probe took longer than the monitor's interval", "探測耗時超過監控之間隔")

// monitors runs the runbook's background probes for the whole session and
// journals each change of state, so that outage windows are known to the
// probe interval.
type monitors struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// monitorBoard is what the run knows of its monitors now: the last state
// of each, and whether the disruption has begun. Events journaled before
// the first disruptive step starts carry baseline: true, so that a
// failure that was there before the drill is not counted as its outage.
type monitorBoard struct {
	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	state     map[string]monitorReading
	disrupted bool
}

type monitorReading struct {
	state  string
	detail journal.Text
}

func (b *monitorBoard) init() {
	b.changed = make(chan struct{})
	b.state = map[string]monitorReading{}
}

func (b *monitorBoard) set(name string, r monitorReading) {
	b.mu.Lock()
	b.state[name] = r
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func (b *monitorBoard) isDisrupted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.disrupted
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
	last := ""
	tick := time.NewTicker(mon.Every)
	defer tick.Stop()
	for {
		at := r.cfg.now()
		now, detail := probeMonitor(ctx, quiet, mon, mon.Every)
		if ctx.Err() != nil {
			return
		}
		// The board and the journal change together, so that the event
		// that marks the disruption never misses or repeats a change.
		r.board.mu.Lock()
		if now != last {
			last = now
			r.append(journal.Event{Type: journal.TypeMonitor, Monitor: &journal.Monitor{Name: mon.Name, State: now, Since: at.UTC(),
				Resolution: journal.Duration(mon.Every), Detail: detail.EN, DetailZhTW: detail.ZhTW, Baseline: !r.board.disrupted}})
		}
		r.board.mu.Unlock()
		r.board.set(mon.Name, monitorReading{state: now, detail: detail})
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeMonitor runs one probe, bounded by limit, and judges its answer.
func probeMonitor(ctx context.Context, rt steps.Runtime, mon *runbooks.Monitor, limit time.Duration) (state string, detail journal.Text) {
	pctx, cancel := context.WithTimeoutCause(ctx, limit, errProbeOverran)
	defer cancel()
	_, err := mon.Kind.Execute(pctx, rt, mon.Params)
	switch {
	case err == nil:
		return monitorUp, journal.Text{}
	case noAnswer(mon.KindName, pctx, err):
		if errors.Is(context.Cause(pctx), errProbeOverran) {
			err = i18n.Errorf("no answer within %s (the monitor's interval): %w", "%s 內未回應（監控之間隔）：%w", limit, err)
		}
		return monitorUnknown, oneLineText(i18n.TextOf(err))
	}
	return monitorDown, oneLineText(i18n.TextOf(err))
}

// oneLineText is t with each language on one line.
func oneLineText(t journal.Text) journal.Text {
	t.EN = oneLine(t.EN)
	if t.ZhTW != "" {
		t.ZhTW = oneLine(t.ZhTW)
	}
	return t
}

// noAnswer reports whether a probe's failure is the probe's own (it could
// not ask) rather than the service's (it asked and the service failed).
// A probe that overran its interval got no answer. A vcenter.* probe
// sees its service (a VM) through vCenter: failing to log in or to reach
// vCenter's API says nothing of the VM. A check.* probe's transport is
// the service itself, so its connection errors are the service's.
func noAnswer(kind string, pctx context.Context, err error) bool {
	if errors.Is(err, steps.ErrNoAnswer) || errors.Is(context.Cause(pctx), errProbeOverran) {
		return true
	}
	if !strings.HasPrefix(kind, "vcenter.") {
		return false
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"NotAuthenticated", "not authenticated", "InvalidLogin", "log in to vCenter", "login", "ServerFaultCode", "connection refused", "EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// markDisrupted journals, when the first disruptive step is about to
// start, every monitor's state at that moment without the baseline flag:
// the outage of the drill is measured from here.
func (r *run) markDisrupted() {
	r.board.mu.Lock()
	defer r.board.mu.Unlock()
	if r.board.disrupted {
		return
	}
	r.board.disrupted = true
	now := r.cfg.now().UTC()
	for _, mon := range r.rb.Monitors {
		if rd, ok := r.board.state[mon.Name]; ok {
			r.append(journal.Event{Type: journal.TypeMonitor, Monitor: &journal.Monitor{Name: mon.Name, State: rd.state, Since: now,
				Resolution: journal.Duration(mon.Every), Detail: "state when the first disruptive step started", DetailZhTW: "第一個破壞性步驟開始時之狀態"}})
		}
	}
}

// waitBaseline waits until every monitor is up, so that the outage a
// disruptive step causes can be told from one that was there before. It
// gives each monitor some probes to come up and then names those that did
// not.
func (r *run) waitBaseline(ctx context.Context) error {
	if len(r.rb.Monitors) == 0 {
		return nil
	}
	limit := r.cfg.BaselineWait
	if limit <= 0 {
		limit = 10 * time.Second
		for _, m := range r.rb.Monitors {
			limit = max(limit, 20*m.Every)
		}
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		r.board.mu.Lock()
		var bad, badZh []string
		for _, m := range r.rb.Monitors {
			rd, ok := r.board.state[m.Name]
			switch {
			case !ok:
				bad, badZh = append(bad, m.Name+" has not answered yet"), append(badZh, m.Name+" 尚未回應")
			case rd.state != monitorUp:
				bad = append(bad, fmt.Sprintf("%s is %s (%s)", m.Name, rd.state, rd.detail.EN))
				badZh = append(badZh, fmt.Sprintf("%s 為「%s」（%s）", m.Name, monitorStateZhTW[rd.state], rd.detail.In("zh-TW")))
			}
		}
		changed := r.board.changed
		r.board.mu.Unlock()
		if len(bad) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return i18n.Errorf("%w: %s; every monitor must be up before a disruptive step starts, or its outage cannot be measured (bring the service up, then retry)",
				"%w：%s；破壞性步驟開始前所有監控皆須為正常，否則無法量測其停機時間（請先恢復服務再重試）", ErrNoBaseline, i18n.New(strings.Join(bad, "; "), strings.Join(badZh, "；")))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ErrNoBaseline means a disruptive step was not started because a
// monitor was not up.
var ErrNoBaseline = i18n.New("no baseline", "無基準狀態")

// monitorStateZhTW words a monitor's state in Chinese, as the reports do.
var monitorStateZhTW = map[string]string{monitorUp: "正常", monitorDown: "停機", monitorUnknown: "未知（無回應）"}

// quietRuntime keeps a probe's per-poll evidence out of the journal: only
// state changes matter for a monitor.
type quietRuntime struct{ *stepRuntime }

func (q *quietRuntime) Evidence(journal.Evidence)     {}
func (q *quietRuntime) Note(string, string)           {}
func (q *quietRuntime) Progress(string, ...any)       {}
func (q *quietRuntime) ProgressText(journal.Text)     {}
func (q *quietRuntime) NoteText(string, journal.Text) {}
func (q *quietRuntime) Trust(t journal.Trust)         { q.stepRuntime.Trust(t) }
