package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
)

// leftDown is what a run left down when it ended, read from its journal:
// the targets of disruptive steps that happened while the finally steps
// that bring them back did not run, the monitors not up at the end, and
// the command that continues.
type leftDown struct {
	Disrupted []downStep
	Pending   []string
	Monitors  []downMonitor
	Continue  string
}

// downStep is a disruptive step whose recovery did not run.
type downStep struct {
	What, ID string
	Name     journal.Text
	ByHand   bool
}

// downMonitor is a monitor not up at the end.
type downMonitor struct {
	Name, State string
	Since       time.Time
}

func (l *leftDown) empty() bool {
	return len(l.Disrupted) == 0 && len(l.Monitors) == 0
}

// readLeftDown reads the run directory's journal; a journal it cannot
// read says nothing is known to be down (the report says why).
func readLeftDown(runDir string) *leftDown {
	log, err := journal.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return &leftDown{}
	}
	return leftDownOf(log, runDir)
}

func leftDownOf(log *journal.Log, runDir string) *leftDown {
	var start *journal.RunStart
	finish := map[string]*journal.StepFinish{}
	started := map[string]*journal.StepStart{}
	monitors := map[string]*journal.Monitor{}
	var monOrder []string
	result := ""
	for _, ev := range log.Events {
		switch {
		case ev.RunStart != nil:
			start = ev.RunStart
		case ev.StepStart != nil:
			started[ev.Step] = ev.StepStart
			delete(finish, ev.Step)
		case ev.StepFinish != nil:
			finish[ev.Step] = ev.StepFinish
		case ev.Monitor != nil:
			if _, ok := monitors[ev.Monitor.Name]; !ok {
				monOrder = append(monOrder, ev.Monitor.Name)
			}
			monitors[ev.Monitor.Name] = ev.Monitor
		case ev.RunEnd != nil:
			result = ev.RunEnd.Result
		case ev.RunResume != nil:
			result = ""
		}
	}
	l := &leftDown{}
	if start == nil {
		return l
	}
	for _, p := range start.Steps {
		f, ss := finish[p.ID], started[p.ID]
		if p.Block == "finally" && (f == nil || (f.Status != journal.StatusOK && f.Status != journal.StatusManual && f.Status != journal.StatusSkipped)) {
			l.Pending = append(l.Pending, p.ID)
		}
		if !p.Disruptive {
			continue
		}
		done := f != nil && (f.Status == journal.StatusOK || f.Status == journal.StatusManual)
		begun := ss != nil && (f == nil || f.Status != journal.StatusSkipped)
		if !done && !begun {
			continue
		}
		what := p.ID
		if ss != nil && ss.Target != "" {
			what = ss.Target
		}
		l.Disrupted = append(l.Disrupted, downStep{What: what, ID: p.ID, Name: p.Name, ByHand: f != nil && f.Status == journal.StatusManual})
	}
	if len(l.Pending) == 0 {
		l.Disrupted = nil
	}
	for _, name := range monOrder {
		if m := monitors[name]; m.State != "up" {
			l.Monitors = append(l.Monitors, downMonitor{Name: name, State: m.State, Since: m.Since})
		}
	}
	switch {
	case result == "" || result == "interrupted" || result == "paused":
		l.Continue = "drbook resume " + runDir
	case len(l.Pending) > 0:
		l.Continue = "drbook resume " + runDir + " --only " + strings.Join(l.Pending, ",")
	}
	return l
}

// print says plainly what is still down and how to continue.
func (l *leftDown) print(w io.Writer, m messages) {
	if l.empty() {
		return
	}
	fmt.Fprintln(w, m.T("down.title"))
	for _, d := range l.Disrupted {
		how := "drbook"
		if d.ByHand {
			how = m.T("down.by_hand")
		}
		fmt.Fprintln(w, m.Tf("down.disrupted", m.Tf("down.step", d.What, d.ID, d.Name.In(m.Lang()), how)))
	}
	if len(l.Disrupted) > 0 {
		fmt.Fprintln(w, m.Tf("down.pending", strings.Join(l.Pending, ", ")))
	}
	for _, d := range l.Monitors {
		fmt.Fprintln(w, m.Tf("down.monitor", m.Tf("down.monitor_state", d.Name, m.Enum("monitor", d.State), d.Since.Local().Format("15:04:05"))))
	}
	if l.Continue != "" {
		fmt.Fprintln(w, m.Tf("down.continue", l.Continue))
	}
}
