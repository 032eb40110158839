package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/journal"
)

// fleetView is the live view of a fleet run on a terminal: one line per
// site (its state, current step, how long it has run, and its RTO clock),
// redrawn in place under the lines printed above it. While the operator
// answers a site's question the view holds still, and it draws afresh
// under the answered question.
type fleetView struct {
	out  io.Writer
	fd   int
	lang string
	msg  messages
	now  func() time.Time

	mu     sync.Mutex
	rows   []*fleetRow
	byName map[string]*fleetRow
	drawn  int // lines of the last frame, to draw over
	held   string
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// fleetRow is one site's line.
type fleetRow struct {
	name      string
	state     string
	detail    string
	step      string
	stepName  string
	stepStart time.Time
	started   time.Time
	ended     time.Time
	rto       time.Duration
	planned   map[string]journal.PlannedStep
	status    map[string]string
	disrupted time.Time
	recovered time.Time
}

func newFleetView(out *os.File, lang string, sites []string) *fleetView {
	v := &fleetView{out: out, fd: int(out.Fd()), lang: lang, msg: messagesFor(lang), now: time.Now,
		byName: map[string]*fleetRow{}, stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range sites {
		r := &fleetRow{name: s, state: "pending", planned: map[string]journal.PlannedStep{}, status: map[string]string{}}
		v.rows = append(v.rows, r)
		v.byName[s] = r
	}
	return v
}

// start redraws every 250 ms until close.
func (v *fleetView) start() {
	fmt.Fprint(v.out, ansiHideCursor)
	go redrawEvery(250*time.Millisecond, v.redraw, v.stop, v.done)
}

// close draws the last frame and gives the cursor back.
func (v *fleetView) close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	close(v.stop)
	<-v.done
	v.redraw()
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	fmt.Fprint(v.out, ansiShowCursor)
}

// hold stops redrawing while site's question is asked below the view.
func (v *fleetView) hold(site string) {
	v.mu.Lock()
	v.held, v.drawn = site, 0
	if r := v.byName[site]; r != nil {
		r.detail = v.msg.T("fleet.view_waiting")
	}
	v.mu.Unlock()
	fmt.Fprint(v.out, ansiShowCursor)
}

// release redraws under the answered question.
func (v *fleetView) release() {
	v.mu.Lock()
	if r := v.byName[v.held]; r != nil && r.detail == v.msg.T("fleet.view_waiting") {
		r.detail = ""
	}
	v.held = ""
	v.mu.Unlock()
	fmt.Fprint(v.out, ansiHideCursor)
	v.redraw()
}

// printAbove prints a line above the view (a site's end, an error).
func (v *fleetView) printAbove(line string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.held != "" || v.closed {
		io.WriteString(v.out, line)
		return
	}
	v.eraseLocked()
	io.WriteString(v.out, line)
	v.drawLocked()
}

func (v *fleetView) setState(site, state, detail string) {
	v.mu.Lock()
	if r := v.byName[site]; r != nil {
		r.state, r.detail = state, screenText(detail)
		now := v.now()
		if state == "preflight" && r.started.IsZero() {
			r.started = now
		}
		if state != "preflight" && state != "running" && state != "pending" {
			r.ended = now
		}
	}
	v.mu.Unlock()
}

// site is the engine.Observer of one site's run.
func (v *fleetView) site(name string) engine.Observer { return fleetRowObserver{v: v, name: name} }

type fleetRowObserver struct {
	v    *fleetView
	name string
}

func (o fleetRowObserver) Event(ev journal.Event) {
	o.v.mu.Lock()
	defer o.v.mu.Unlock()
	r := o.v.byName[o.name]
	if r == nil {
		return
	}
	switch ev.Type {
	case journal.TypeRunStart:
		r.rto = ev.RunStart.RTO.D()
		for _, p := range ev.RunStart.Steps {
			r.planned[p.ID] = p
		}
	case journal.TypeStepStart:
		r.step, r.stepName, r.stepStart = ev.Step, screenText(oneLine(ev.StepStart.Name.In(o.v.lang))), ev.Time
		if p, ok := r.planned[ev.Step]; ok && p.Disruptive && r.disrupted.IsZero() {
			r.disrupted = ev.Time
		}
	case journal.TypeStepFinish:
		r.status[ev.Step] = ev.StepFinish.Status
		if ev.StepFinish.Status != journal.StatusOK && ev.StepFinish.Status != journal.StatusSkipped {
			r.detail = screenText(oneLine(ev.Step + ": " + o.v.msg.Enum("status", ev.StepFinish.Status)))
		}
		if !r.disrupted.IsZero() && r.recovered.IsZero() {
			any, all := false, true
			for id, p := range r.planned {
				if p.Recovery {
					any = true
					if st := r.status[id]; st != journal.StatusOK && st != journal.StatusManual {
						all = false
					}
				}
			}
			if any && all {
				r.recovered = ev.Time
			}
		}
	case journal.TypeDecision:
		if ev.Decision.Action == "abort" {
			r.detail = screenText(oneLine(o.v.msg.Enum("action", "abort") + ": " + ev.Decision.Reason))
		}
	}
}

func (o fleetRowObserver) Progress(step, text string) {}

func (v *fleetView) redraw() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.held != "" {
		return
	}
	v.eraseLocked()
	v.drawLocked()
}

// eraseLocked moves back over the last frame.
func (v *fleetView) eraseLocked() {
	if v.drawn > 0 {
		fmt.Fprintf(v.out, "\x1b[%dA\r", v.drawn)
	}
}

func (v *fleetView) drawLocked() {
	width := 100
	if w, _, err := term.GetSize(v.fd); err == nil && w > 20 {
		width = w
	}
	nameW := 4
	for _, r := range v.rows {
		nameW = max(nameW, screenWidth.StringWidth(r.name))
	}
	var b strings.Builder
	for _, r := range v.rows {
		b.WriteString(clip(v.rowLocked(r, nameW), width-1) + ansiClearLine + "\r\n")
	}
	b.WriteString(ansiClearLine)
	io.WriteString(v.out, b.String())
	v.drawn = len(v.rows)
}

// rowLocked words one site's line.
func (v *fleetView) rowLocked(r *fleetRow, nameW int) string {
	now := v.now()
	elapsed := "     "
	if !r.started.IsZero() {
		end := now
		if !r.ended.IsZero() {
			end = r.ended
		}
		elapsed = clock(end.Sub(r.started))
	}
	state := v.msg.Enum("fleet_state", r.state)
	step := ""
	if r.step != "" && r.ended.IsZero() {
		step = r.step
		if r.stepName != "" {
			step += " " + r.stepName
		}
	}
	detail := step
	if r.detail != "" {
		if detail != "" {
			detail += " · "
		}
		detail += r.detail
	}
	return fmt.Sprintf("%s %s  %s  %s  %s  %s", glyphOf(r.state), padRight(r.name, nameW), padRight(state, 16), elapsed, padRight(v.rtoLocked(r, now), 26), detail)
}

// rtoLocked is a site's RTO clock: idle, running (over the objective?) or
// stopped at the recovery.
func (v *fleetView) rtoLocked(r *fleetRow, now time.Time) string {
	objective := v.msg.T("view.no_objective")
	if len(r.planned) == 0 {
		objective = "–" // not known before the run starts
	}
	if r.rto > 0 {
		objective = journal.Duration(r.rto).String()
	}
	switch {
	case r.disrupted.IsZero():
		return v.msg.Tf("fleet.view_rto_idle", objective)
	case !r.recovered.IsZero():
		d := r.recovered.Sub(r.disrupted)
		mark := ""
		if r.rto > 0 && d > r.rto {
			mark = " ✘"
		} else if r.rto > 0 {
			mark = " ✔"
		}
		return v.msg.Tf("fleet.view_rto_done", d.Round(100*time.Millisecond), objective) + mark
	}
	end := now
	if !r.ended.IsZero() {
		end = r.ended
	}
	return v.msg.Tf("fleet.view_rto_running", clock(end.Sub(r.disrupted)), objective)
}

func glyphOf(state string) string {
	switch state {
	case "passed":
		return "✔"
	case "pending", "not-started":
		return "·"
	case "preflight", "running":
		return "▶"
	case "interrupted", "paused":
		return "⏸"
	}
	return "✘"
}
