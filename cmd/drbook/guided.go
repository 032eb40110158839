package main

// The guided view is drawn with plain ANSI sequences rather than a
// terminal UI library: a full-screen frame on the alternate screen,
// redrawn whole five times a second, is all it needs, and it must share
// the terminal with the operator's prompts, Ctrl-C and secret prompts.
// bubbletea would own standard input and the signals, and the prompts of
// operator.go would have to be rewritten as its models; a hundred lines of
// escape codes keep them as they are.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// ANSI sequences the view uses.
const (
	ansiAltScreen   = "\x1b[?1049h"
	ansiMainScreen  = "\x1b[?1049l"
	ansiHome        = "\x1b[H"
	ansiClearScreen = "\x1b[2J"
	ansiClearLine   = "\x1b[K"
	ansiHideCursor  = "\x1b[?25l"
	ansiShowCursor  = "\x1b[?25h"
	ansiBold        = "\x1b[1m"
	ansiReset       = "\x1b[0m"
)

// viewStep is one declared step as the view shows it.
type viewStep struct {
	planned  journal.PlannedStep
	status   string // "", running, or a finish status
	started  time.Time
	duration time.Duration
	attempt  int
	detail   string
}

// viewMonitor is a monitor's last known state.
type viewMonitor struct {
	state string
	since time.Time
}

// guidedView is the live terminal view of a guided run. It subscribes to
// the engine as an engine.Observer and hosts the operator's prompts (it is
// the operatorUI of the terminalOperator).
type guidedView struct {
	out  io.Writer
	fd   int
	lang string
	msg  messages
	now  func() time.Time

	mu        sync.Mutex
	title     string
	where     string // site, vCenter or lab, mode
	runID     string
	operator  string
	rto       time.Duration
	steps     []*viewStep
	byID      map[string]*viewStep
	started   time.Time
	disrupted time.Time // first disruptive step's start
	recovered time.Time // all recovery steps ok
	monitors  map[string]*viewMonitor
	tails     map[string][]string // output tail per running step
	lastTail  string
	log       []string
	question  []string
	prompt    string
	input     []rune
	status    string
	answer    chan string   // the waiting prompt's answer
	interrupt chan struct{} // closed by Ctrl-C while a prompt waits
	menu      func(string)  // Ctrl-C menu answer handler, when shown
	ended     bool
	closed    bool
	siteName  string
	vcenter   string
	lab       bool
	mode      string

	stop chan struct{}
	done chan struct{}
}

// tailLines and logLines bound the output and log areas.
const (
	tailLines = 5
	logLines  = 6
)

func newGuidedView(out *os.File, lang string) *guidedView {
	return &guidedView{out: out, fd: int(out.Fd()), lang: lang, msg: messagesFor(lang), now: time.Now,
		byID: map[string]*viewStep{}, monitors: map[string]*viewMonitor{}, tails: map[string][]string{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// start enters the alternate screen and redraws until close.
func (v *guidedView) start() {
	fmt.Fprint(v.out, ansiAltScreen+ansiHideCursor)
	go redrawEvery(200*time.Millisecond, v.redraw, v.stop, v.done)
}

// close leaves the alternate screen and prints the final frame on the
// main screen, so the terminal's scrollback keeps the run's last state.
func (v *guidedView) close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	v.mu.Unlock()
	close(v.stop)
	<-v.done
	v.mu.Lock()
	defer v.mu.Unlock()
	v.question, v.prompt, v.menu = nil, "", nil
	w, _ := v.sizeLocked()
	frame := v.frameLocked(w, 0)
	for i, line := range frame {
		frame[i] = clip(line, w)
	}
	fmt.Fprint(v.out, ansiMainScreen+ansiShowCursor+strings.Join(frame, "\n")+"\n")
}

// Event follows the journal (engine.Observer).
func (v *guidedView) Event(ev journal.Event) {
	v.mu.Lock()
	v.applyLocked(ev)
	v.mu.Unlock()
	v.redraw()
}

// Progress keeps the running step's output tail (engine.Observer).
func (v *guidedView) Progress(step, text string) {
	v.mu.Lock()
	t := append(v.tails[step], screenText(oneLine(text)))
	if len(t) > tailLines {
		t = t[len(t)-tailLines:]
	}
	v.tails[step] = t
	v.lastTail = step
	v.mu.Unlock()
}

// replay feeds an earlier session's events (resume) into the view without
// drawing.
func (v *guidedView) replay(events []journal.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, ev := range events {
		v.applyLocked(ev)
	}
	v.log = nil
}

func (v *guidedView) applyLocked(ev journal.Event) {
	at := ev.Time
	switch ev.Type {
	case journal.TypeRunStart:
		s := ev.RunStart
		v.title = screenText(oneLine(s.Runbook + " — " + s.Title.In(v.lang)))
		v.runID, v.operator, v.rto, v.started = s.RunID, screenText(oneLine(s.Operator)), s.RTO.D(), at
		v.setWhereLocked(s.Site, s.Mode)
		v.steps, v.byID = nil, map[string]*viewStep{}
		for _, p := range s.Steps {
			vs := &viewStep{planned: p}
			v.steps = append(v.steps, vs)
			v.byID[p.ID] = vs
		}
	case journal.TypeRunResume:
		v.operator = screenText(oneLine(ev.RunResume.Operator))
		v.ended = false
		v.addLogLocked(at, v.msg.Tf("log.resumed", ev.RunResume.Operator))
	case journal.TypeStepStart:
		vs := v.stepLocked(ev.Step, ev.StepStart)
		vs.status, vs.started, vs.attempt, vs.detail = "running", at, ev.StepStart.Attempt, ""
		delete(v.tails, ev.Step)
		if vs.planned.Disruptive && v.disrupted.IsZero() {
			v.disrupted = at
		}
	case journal.TypeStepRetry:
		if vs := v.byID[ev.Step]; vs != nil {
			vs.detail = v.msg.Tf("view.retrying", ev.StepRetry.Attempt)
		}
		v.addLogLocked(at, v.msg.Tf("log.retry", ev.Step, ev.StepRetry.Attempt, oneLine(ev.StepRetry.ErrorIn(v.msg.Lang()))))
	case journal.TypeStepFinish:
		f := ev.StepFinish
		vs := v.stepLocked(ev.Step, nil)
		vs.status, vs.duration = f.Status, f.Duration.D()
		if f.Status == journal.StatusManual && vs.planned.Disruptive && v.disrupted.IsZero() {
			// Done by hand: the disruption happened when the operator
			// said it did, and the RTO clock runs from then.
			v.disrupted = f.Started
			if v.disrupted.IsZero() {
				v.disrupted = at
			}
		}
		vs.detail = screenText(oneLine(f.ErrorIn(v.msg.Lang())))
		if vs.detail == "" {
			vs.detail = screenText(oneLine(f.ReasonIn(v.msg.Lang())))
		}
		if f.Status != journal.StatusOK {
			v.addLogLocked(at, v.msg.Tf("log.finish", statusGlyph(f.Status), ev.Step, v.msg.Enum("status", f.Status), vs.detail))
		}
		v.checkRecoveredLocked(at)
	case journal.TypeDecision:
		d := ev.Decision
		on := ""
		if ev.Step != "" {
			on = v.msg.Tf("log.decision_on", ev.Step)
		}
		v.addLogLocked(at, v.msg.Tf("log.decision", d.Who, on, v.msg.Enum("action", d.Action), journal.Text{EN: d.Reason, ZhTW: d.ReasonZhTW}.In(v.msg.Lang())))
	case journal.TypeNote:
		v.addLogLocked(at, v.msg.Tf("log.note", v.msg.Enum("level", ev.Note.Level), oneLine(ev.Note.TextIn(v.msg.Lang()))))
	case journal.TypeMonitor:
		m := ev.Monitor
		v.monitors[m.Name] = &viewMonitor{state: m.State, since: m.Since}
	case journal.TypeRunEnd:
		v.ended = true
		v.addLogLocked(at, v.msg.Tf("log.run_end", v.msg.Enum("result", ev.RunEnd.Result)))
	}
}

// setSite tells the view where the run happens: the site, its vCenter
// (or the lab) and the mode, shown under the title.
func (v *guidedView) setSite(name, vcenter string, lab bool) {
	v.mu.Lock()
	v.siteName, v.vcenter, v.lab = name, vcenter, lab
	v.setWhereLocked(name, v.mode)
	v.mu.Unlock()
}

func (v *guidedView) setWhereLocked(site, mode string) {
	if site != "" {
		v.siteName = site
	}
	if mode != "" {
		v.mode = mode
	}
	vc := v.vcenter
	if v.lab || v.mode == "lab" {
		vc = v.msg.T("view.lab")
	}
	if vc == "" {
		vc = "-"
	}
	v.where = screenText(oneLine(v.msg.Tf("view.where", v.siteName, vc, v.msg.Enum("mode", v.mode))))
}

// stepLocked finds a step instance, adding fan-out instances and steps
// unknown to the plan where they appear.
func (v *guidedView) stepLocked(id string, ss *journal.StepStart) *viewStep {
	if vs := v.byID[id]; vs != nil {
		return vs
	}
	p := journal.PlannedStep{ID: id}
	if ss != nil {
		p.Kind, p.Name, p.Block = ss.Kind, ss.Name, ss.Block
	}
	vs := &viewStep{planned: p}
	v.byID[id] = vs
	// An instance "id[3]" goes after its fan-out step and earlier siblings.
	at := len(v.steps)
	if i := strings.IndexByte(id, '['); i > 0 {
		for j, s := range v.steps {
			if s.planned.ID == id[:i] || strings.HasPrefix(s.planned.ID, id[:i]+"[") {
				at = j + 1
			}
		}
	}
	v.steps = append(v.steps[:at], append([]*viewStep{vs}, v.steps[at:]...)...)
	return vs
}

// checkRecoveredLocked stops the RTO clock once every recovery step
// finished ok after the disruption.
func (v *guidedView) checkRecoveredLocked(at time.Time) {
	if v.disrupted.IsZero() || !v.recovered.IsZero() {
		return
	}
	any := false
	for _, s := range v.steps {
		if s.planned.Recovery {
			any = true
			if s.status != journal.StatusOK && s.status != journal.StatusManual {
				return
			}
		}
	}
	if any {
		v.recovered = at
	}
}

// addLogLocked adds a worded line to the log area under its time.
// Lines after the first of a multi-line text are marked as continuations.
func (v *guidedView) addLogLocked(at time.Time, text string) {
	for i, line := range strings.Split(screenBlock(strings.TrimSpace(text), ""), "\n") {
		if i == 0 {
			line = at.Local().Format("15:04:05") + " " + line
		} else {
			line = "         " + line
		}
		v.log = append(v.log, line)
	}
	if len(v.log) > 50 {
		v.log = v.log[len(v.log)-50:]
	}
}

// setStatus shows a line under the header (pause pending, aborting…).
func (v *guidedView) setStatus(s string) {
	v.mu.Lock()
	v.status = s
	v.mu.Unlock()
	v.redraw()
}

func (v *guidedView) redraw() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	w, h := v.sizeLocked()
	frame := v.frameLocked(w, h)
	var b strings.Builder
	b.WriteString(ansiHideCursor + ansiHome + ansiClearScreen)
	for i, line := range frame {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(clip(line, w))
	}
	if v.prompt != "" || v.menu != nil {
		b.WriteString(ansiShowCursor)
	}
	io.WriteString(v.out, b.String())
}

// sizeLocked is the terminal's size, or 80×24 when it cannot be read.
func (v *guidedView) sizeLocked() (width, height int) {
	w, h, err := term.GetSize(v.fd)
	if err != nil || w <= 0 || h <= 0 {
		return 80, 24
	}
	return w, h
}

// Step list columns, in terminal columns: the status glyph, then the id
// and the name, padded so the duration column lines up whatever the
// script of the names; a name too long for the terminal is cut with "…"
// before the duration is pushed off screen.
const (
	idColumnMin   = 8
	idColumnMax   = 28
	nameColumnMin = 10
	nameColumnMax = 60
	timeColumn    = 10 // "1:23.4", "1.503s"; a retry's attempt may run over
)

// stepColumns chooses the id and name columns' widths for the steps and a
// terminal width columns wide (0: unbounded).
func stepColumns(steps []*viewStep, lang string, width int) (idW, nameW int) {
	idW, nameW = idColumnMin, nameColumnMin
	for _, s := range steps {
		idW = max(idW, screenWidth.StringWidth(s.planned.ID))
		nameW = max(nameW, screenWidth.StringWidth(s.planned.Name.In(lang)))
	}
	idW, nameW = min(idW, idColumnMax), min(nameW, nameColumnMax)
	// glyph (3) + id + space + name + space + time
	if fixed := 3 + idW + 1 + 1 + timeColumn; width > 0 && fixed+nameW > width {
		nameW = max(width-fixed, nameColumnMin)
	}
	return idW, nameW
}

// stepLine is one step of the list. The glyph takes two columns, so a wide
// one (✋) keeps the id where a narrow one (✔) leaves it.
func stepLine(glyph, id, name, elapsed string, idW, nameW int) string {
	g := glyph
	if gw := screenWidth.StringWidth(glyph); gw < 2 {
		g = strings.Repeat(" ", 2-gw) + glyph
	}
	line := g + " " + padRight(id, idW) + " " + padRight(name, nameW)
	if elapsed != "" {
		line += " " + elapsed
	}
	return strings.TrimRight(line, " ")
}

// frameLocked renders the view for a terminal width columns wide (0:
// unbounded) and height lines high (0: unbounded).
func (v *guidedView) frameLocked(width, height int) []string {
	now := v.now()
	m := v.msg
	var head, body, foot []string
	head = append(head, ansiBold+"drbook · "+v.title+ansiReset)
	elapsed := time.Duration(0)
	if !v.started.IsZero() {
		elapsed = now.Sub(v.started)
	}
	if v.where != "" {
		head = append(head, v.where)
	}
	head = append(head, m.Tf("view.run_line", v.runID, v.operator, clock(elapsed)))
	head = append(head, v.rtoLineLocked(now))
	if v.status != "" {
		head = append(head, ansiBold+v.status+ansiReset)
	}
	rule := strings.Repeat("─", 60)
	if width > 0 {
		rule = strings.Repeat("─", min(60, width))
	}
	head = append(head, rule)

	idW, nameW := stepColumns(v.steps, v.lang, width)
	current := -1
	block := ""
	for _, s := range v.steps {
		if s.planned.Block != block && s.planned.Block != "" && s.planned.Block != "steps" {
			block = s.planned.Block
			body = append(body, "  "+m.Tf("view.block", m.Enum("block", block)))
		}
		if s.status == "running" && current < 0 {
			current = len(body)
		}
		t := ""
		switch {
		case s.status == "running":
			t = clock(now.Sub(s.started))
			if s.attempt > 1 {
				t += m.Tf("view.attempt", s.attempt)
			}
		case s.status != "":
			t = s.duration.Round(time.Millisecond).String()
		}
		line := stepLine(statusGlyph(s.status), screenText(s.planned.ID), screenText(oneLine(s.planned.Name.In(v.lang))), t, idW, nameW)
		if s.detail != "" && s.status != journal.StatusOK && s.status != "running" {
			line += " · " + s.detail
		}
		if s.status == "running" {
			line = ansiBold + line + ansiReset
		}
		body = append(body, line)
	}

	if len(v.monitors) > 0 {
		var parts []string
		for _, name := range slices.Sorted(maps.Keys(v.monitors)) {
			mon := v.monitors[name]
			glyph := "▲"
			switch mon.state {
			case "down":
				glyph = "▼"
			case "unknown":
				glyph = "?"
			}
			parts = append(parts, m.Tf("view.monitor", glyph, name, m.Enum("monitor", mon.state), clock(now.Sub(mon.since))))
		}
		foot = append(foot, m.T("view.monitors")+strings.Join(parts, " · "))
	}
	running := ""
	for _, s := range v.steps {
		if s.status == "running" {
			running = s.planned.ID
			break
		}
	}
	if running == "" {
		running = v.lastTail
	}
	if t := v.tails[running]; len(t) > 0 {
		foot = append(foot, m.Tf("view.output_of", running))
		for _, l := range t {
			foot = append(foot, "   "+l)
		}
	}
	if len(v.log) > 0 {
		foot = append(foot, m.T("view.log"))
		l := v.log
		if len(l) > logLines {
			l = l[len(l)-logLines:]
		}
		foot = append(foot, l...)
	}
	// The question and the prompt wrap rather than being cut: the operator
	// must read all of it and see what they type.
	var ask []string
	if len(v.question) > 0 || v.prompt != "" {
		ask = append(ask, rule)
		for _, q := range v.question {
			ask = append(ask, wrapLine(q, width)...)
		}
	}
	if v.prompt != "" {
		ask = append(ask, wrapLine(v.prompt+string(v.input), width)...)
	} else if v.menu != nil {
		ask = append(ask, wrapLine("   > "+string(v.input), width)...)
	}

	// Keep the prompt and the running step on screen when space is short.
	if height > 0 {
		room := height - len(head) - len(ask)
		if room < len(foot) {
			foot = foot[:max(room-3, 0)]
		}
		room -= len(foot)
		if room < len(body) {
			room = max(room, 1)
			first := 0
			if current >= 0 {
				first = min(max(current-room/3, 0), len(body)-room)
			}
			body = body[first : first+room]
		}
	}
	out := append(head, body...)
	out = append(out, foot...)
	return append(out, ask...)
}

func (v *guidedView) rtoLineLocked(now time.Time) string {
	m := v.msg
	objective := m.T("view.no_objective")
	if v.rto > 0 {
		objective = m.Tf("view.objective", v.rto)
	}
	switch {
	case v.disrupted.IsZero():
		return m.Tf("view.rto_idle", objective)
	case !v.recovered.IsZero():
		d := v.recovered.Sub(v.disrupted)
		verdict := ""
		if v.rto > 0 {
			verdict = m.T("view.rto_met")
			if d > v.rto {
				verdict = m.T("view.rto_missed")
			}
		}
		return m.Tf("view.rto_done", d.Round(100*time.Millisecond), objective, verdict)
	}
	d := now.Sub(v.disrupted)
	over := ""
	if v.rto > 0 && d > v.rto {
		over = m.T("view.rto_over")
	}
	return m.Tf("view.rto_running", clock(d), v.disrupted.Local().Format("15:04:05"), objective, over)
}

// The view is the terminalOperator's UI in guided mode.

func (v *guidedView) say(line string) {
	v.mu.Lock()
	v.question = append(v.question, strings.Split(screenBlock(line, "   "), "\n")...)
	v.mu.Unlock()
	v.redraw()
}

func (v *guidedView) settle() {
	v.mu.Lock()
	v.question, v.prompt = nil, ""
	v.mu.Unlock()
	v.redraw()
}

func (v *guidedView) ask(ctx context.Context, prompt string) (string, error) {
	answer := make(chan string, 1)
	interrupt := make(chan struct{})
	v.mu.Lock()
	v.prompt, v.input, v.answer, v.interrupt = prompt, nil, answer, interrupt
	v.mu.Unlock()
	v.redraw()
	defer func() {
		v.mu.Lock()
		if v.answer == answer {
			v.prompt, v.answer, v.interrupt = "", nil, nil
		}
		v.mu.Unlock()
	}()
	select {
	case a, ok := <-answer:
		if !ok {
			return "", i18n.New("no answer from the terminal: it was closed", "終端機無回應：已關閉")
		}
		v.mu.Lock()
		v.question = append(v.question, prompt+a)
		v.mu.Unlock()
		return strings.TrimSpace(a), nil
	case <-interrupt:
		return "", errPromptInterrupted
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// interruptPrompt hands a Ctrl-C to the waiting prompt, if there is one.
func (v *guidedView) interruptPrompt() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.interrupt == nil {
		return false
	}
	close(v.interrupt)
	v.interrupt, v.answer, v.prompt, v.input = nil, nil, "", nil
	return true
}

// showMenu shows the Ctrl-C menu; onAnswer gets the line typed while no
// prompt waits. hideMenu removes it.
func (v *guidedView) showMenu(lines []string, onAnswer func(string)) {
	v.mu.Lock()
	v.question, v.menu, v.input = lines, onAnswer, nil
	v.mu.Unlock()
	v.redraw()
}

func (v *guidedView) hideMenu() {
	v.mu.Lock()
	if v.menu != nil {
		v.question, v.menu = nil, nil
	}
	v.mu.Unlock()
	v.redraw()
}

// key edits the input line: printable runes, backspace, Ctrl-U, Enter.
func (v *guidedView) key(r rune) {
	v.mu.Lock()
	var deliver chan string
	var menu func(string)
	line := ""
	switch {
	case r == '\r' || r == '\n':
		line = string(v.input)
		v.input = nil
		if v.answer != nil {
			deliver = v.answer
			v.answer, v.interrupt = nil, nil
		} else {
			menu = v.menu
		}
	case r == 0x7f || r == 0x08:
		if len(v.input) > 0 {
			v.input = v.input[:len(v.input)-1]
		}
	case r == 0x15: // Ctrl-U
		v.input = nil
	case r >= 0x20 && r != 0x7f:
		v.input = append(v.input, r)
	}
	v.mu.Unlock()
	if deliver != nil {
		deliver <- line
	}
	if menu != nil {
		menu(strings.TrimSpace(line))
	}
	v.redraw()
}

// endInput tells a waiting prompt that the terminal is gone.
func (v *guidedView) endInput() {
	v.mu.Lock()
	if v.answer != nil {
		close(v.answer)
		v.answer = nil
	}
	v.mu.Unlock()
}

func statusGlyph(status string) string {
	switch status {
	case "":
		return "·"
	case "running":
		return "▶"
	case journal.StatusOK:
		return "✔"
	case journal.StatusFailed:
		return "✘"
	case journal.StatusSkipped:
		return "–"
	case journal.StatusManual:
		return "✋"
	}
	return "⏸" // cancelled, interrupted
}

// clock formats a running time as m:ss.t (or h:mm:ss).
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d >= time.Hour {
		return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d:%02d.%d", int(d.Minutes()), int(d.Seconds())%60, int(d.Milliseconds()/100)%10)
}

// clip cuts a line to the terminal's width. Escape codes take no column;
// wide characters (CJK, ✋) take two, as the terminal draws them.
func clip(s string, width int) string {
	var b strings.Builder
	cols := 0
	for s != "" {
		if s[0] == 0x1b {
			j := strings.IndexAny(s, "mHJKhl")
			if j < 0 {
				break
			}
			b.WriteString(s[:j+1])
			s = s[j+1:]
			continue
		}
		text := s
		if j := strings.IndexByte(s, 0x1b); j >= 0 {
			text = s[:j]
		}
		s = s[len(text):]
		tw := screenWidth.StringWidth(text)
		if cols+tw > width {
			b.WriteString(screenWidth.Truncate(text, width-cols, ""))
			break
		}
		cols += tw
		b.WriteString(text)
	}
	return b.String() + ansiReset + ansiClearLine
}

// wrapLine breaks a line of plain text into lines at most width columns
// wide (0: no limit), counting wide characters as two.
func wrapLine(s string, width int) []string {
	if width <= 0 || screenWidth.StringWidth(s) <= width {
		return []string{s}
	}
	return strings.Split(screenWidth.Wrap(s, width), "\n")
}

// redrawEvery calls redraw at once and then every d until stop is
// closed, and closes done when it returns: the live views' frame loop.
func redrawEvery(d time.Duration, redraw func(), stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		redraw()
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
