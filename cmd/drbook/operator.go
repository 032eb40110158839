package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/steps"
)

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// operatorUI is where the operator's questions appear: plain lines on the
// terminal, or the prompt area of the guided view.
type operatorUI interface {
	// say shows one line of the current question.
	say(line string)
	// ask shows prompt and returns the answer; in guided mode a Ctrl-C
	// while it waits returns errPromptInterrupted.
	ask(ctx context.Context, prompt string) (string, error)
	// settle ends the current question.
	settle()
}

// errPromptInterrupted means Ctrl-C was pressed while a prompt waited.
var errPromptInterrupted = errors.New("interrupted at the prompt")

// terminalOperator asks the person at the terminal. It implements
// engine.Operator over an operatorUI, so the same questions work line by
// line and inside the guided view.
type terminalOperator struct {
	g   *globalOptions
	msg messages
	mu  sync.Mutex
	ui  operatorUI
}

func newTerminalOperator(g *globalOptions, ui operatorUI) *terminalOperator {
	if ui == nil {
		ui = &linePrompts{w: g.stdout, in: newLineReader(g.stdin)}
	}
	return &terminalOperator{g: g, msg: messagesFor(g.Lang), ui: ui}
}

// readLine asks until the answer is not a Ctrl-C: in the middle of a
// failure or a manual step the pause it requested waits for the answer.
func (t *terminalOperator) readLine(ctx context.Context, prompt string) (string, error) {
	for {
		s, err := t.ui.ask(ctx, prompt)
		if errors.Is(err, errPromptInterrupted) {
			t.ui.say(t.msg.T("prompt.answer_first"))
			continue
		}
		return s, err
	}
}

// reason asks until the operator gives one; prompt is the catalog key of
// the question (prompt.reason_skip…).
func (t *terminalOperator) reason(ctx context.Context, prompt string) (string, error) {
	ask := t.msg.T(prompt)
	for {
		r, err := t.readLine(ctx, ask)
		if err != nil || r != "" {
			return r, err
		}
		// Asked again in other words, so that what the operator types
		// next answers this question, not the one just refused.
		ask = t.msg.T("prompt.reason_again") + strings.TrimLeft(t.msg.T(prompt), " ")
	}
}

// reasoned serves the answers, at a confirmation or after a failure, that
// the journal records with the operator's reason: skip, done and abort.
// The bool is false for any other answer.
func (t *terminalOperator) reasoned(ctx context.Context, answer string) (engine.Decision, bool, error) {
	var action, reason string
	var err error
	switch strings.ToLower(answer) {
	case "s", "skip":
		action = "skip"
		reason, err = t.reason(ctx, "prompt.reason_skip")
	case "d", "done":
		// The moment the operator says it is done is when it happened
		// (and, for a disruptive step, when the RTO clock starts), not
		// when they finished typing the reason.
		at := time.Now()
		reason, err = t.reason(ctx, "prompt.reason_done")
		return engine.Decision{Action: "done", Reason: reason, Who: t.g.Operator, At: at}, true, err
	case "a", "abort":
		action = "abort"
		reason, err = t.reason(ctx, "prompt.reason_abort")
	default:
		return engine.Decision{}, false, nil
	}
	return engine.Decision{Action: action, Reason: reason, Who: t.g.Operator}, true, err
}

func (t *terminalOperator) Confirm(ctx context.Context, st engine.StepInfo) (engine.Decision, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.ui.settle()
	t.ui.say(fmt.Sprintf("── %s [%s] %s", st.ID, st.Kind, st.Name.In(t.g.Lang)))
	if st.Description.Action != "" {
		t.ui.say("   " + st.Description.ActionIn(t.msg.Lang()))
	}
	if st.Description.Target != "" {
		t.ui.say(t.msg.Tf("prompt.target", st.Description.Target))
	}
	if st.Description.Command != "" {
		t.ui.say(t.msg.Tf("prompt.command", st.Description.Command))
	}
	if st.Traits.ChangesState {
		t.ui.say(t.msg.T("prompt.changes_state"))
	}
	if st.Disruptive {
		t.ui.say(t.msg.T("prompt.disruptive"))
		if len(st.Affects) > 0 {
			t.ui.say(t.msg.Tf("prompt.goes_down", strings.Join(st.Affects, ", ")))
		}
	}
	for {
		a, err := t.ui.ask(ctx, t.msg.T("prompt.confirm"))
		if errors.Is(err, errPromptInterrupted) {
			// Nothing of this step has started: pausing here is safe.
			return engine.Decision{Action: "pause", Reason: "Ctrl-C at the confirmation", Who: t.g.Operator}, nil
		}
		if err != nil {
			return engine.Decision{}, err
		}
		switch strings.ToLower(a) {
		case "r", "run":
			return engine.Decision{Action: "run", Who: t.g.Operator}, nil
		}
		if d, ok, err := t.reasoned(ctx, a); ok {
			return d, err
		}
	}
}

var _ engine.DependentsSkipper = (*terminalOperator)(nil)
var _ engine.FinallyAsker = (*terminalOperator)(nil)

// RunFinally asks, after an abort, whether to run the recovery now;
// Enter means yes, because leaving the site down must be a choice.
func (t *terminalOperator) RunFinally(ctx context.Context, finally []engine.StepInfo) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.ui.settle()
	ids := make([]string, len(finally))
	for i, f := range finally {
		ids[i] = f.ID
		if n := f.Name.In(t.g.Lang); n != "" {
			ids[i] += " (" + n + ")"
		}
	}
	t.ui.say(t.msg.Tf("prompt.finally", strings.Join(ids, ", ")))
	prompt := t.msg.T("prompt.run_finally")
	for {
		a, err := t.readLine(ctx, prompt)
		if err != nil {
			return true, err
		}
		switch strings.ToLower(a) {
		case "", "y", "yes", "是":
			return true, nil
		case "n", "no", "否":
			return false, nil
		}
		prompt = t.msg.T("prompt.yes_or_no") + strings.TrimLeft(t.msg.T("prompt.run_finally"), " ")
	}
}

// SkipDependents asks, after a skip, whether the steps that use the
// skipped step's outcome are to be skipped too.
func (t *terminalOperator) SkipDependents(ctx context.Context, skipped engine.StepInfo, deps []engine.StepInfo) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.ui.settle()
	ids := make([]string, len(deps))
	for i, d := range deps {
		ids[i] = d.ID
		if n := d.Name.In(t.g.Lang); n != "" {
			ids[i] += " (" + n + ")"
		}
	}
	t.ui.say(t.msg.Tf("prompt.dependents", skipped.ID, strings.Join(ids, ", ")))
	return t.yesNo(ctx, t.msg.T("prompt.skip_dependents"))
}

func (t *terminalOperator) Failed(ctx context.Context, st engine.StepInfo, stepErr error) (engine.Decision, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.ui.settle()
	t.ui.say(t.msg.Tf("prompt.failed", st.ID, i18n.In(stepErr, t.msg.Lang())))
	for {
		a, err := t.readLine(ctx, t.msg.T("prompt.failed_choice"))
		if err != nil {
			return engine.Decision{}, err
		}
		switch strings.ToLower(a) {
		case "r", "retry":
			return engine.Decision{Action: "retry", Who: t.g.Operator}, nil
		case "f", "fail":
			return engine.Decision{Action: "fail", Who: t.g.Operator}, nil
		}
		if d, ok, err := t.reasoned(ctx, a); ok {
			return d, err
		}
	}
}

func (t *terminalOperator) Ask(ctx context.Context, st engine.StepInfo, q steps.Question) (steps.Answer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.ui.settle()
	t.ui.say(t.msg.Tf("prompt.manual", st.ID))
	t.ui.say("   " + q.Text.In(t.g.Lang))
	ans := steps.Answer{Who: t.g.Operator, Inputs: map[string]any{}}
	// Each checklist item is confirmed on its own, and when: the journal
	// keeps the list as evidence. A "no" ends the step as not done.
	for i, c := range q.Checklist {
		yes, err := t.yesNo(ctx, t.msg.Tf("prompt.checklist_item", i+1, len(q.Checklist), c.In(t.g.Lang)))
		if err != nil {
			return ans, err
		}
		if !yes {
			return ans, nil
		}
		ans.Checked = append(ans.Checked, time.Now())
	}
	for _, in := range q.Inputs {
		again := ""
		for {
			label := in.Label.In(t.g.Lang)
			if label == "" {
				label = in.Name
			}
			typ := in.Type
			if typ == "" {
				typ = "string"
			}
			prompt := t.msg.Tf("prompt.input", label, t.msg.Enum("input", typ))
			if in.Required {
				prompt = t.msg.Tf("prompt.input_required", label, t.msg.Enum("input", typ))
			}
			if again != "" {
				prompt = again + strings.TrimLeft(prompt, " ")
			}
			s, err := t.readLine(ctx, prompt)
			if err != nil {
				return ans, err
			}
			if s == "" {
				if !in.Required {
					break
				}
				again = t.msg.T("input.required")
				continue
			}
			v, err := parseInput(t.msg, in.Type, s)
			if err != nil {
				again = "   " + err.Error() + " — "
				continue
			}
			ans.Inputs[in.Name] = v
			break
		}
	}
	done, err := t.yesNo(ctx, t.msg.T("prompt.manual_done"))
	ans.Done = done
	return ans, err
}

// yesNo asks until the answer is y(es) or n(o): anything else, an empty
// line included, is asked again rather than taken as a no.
func (t *terminalOperator) yesNo(ctx context.Context, prompt string) (bool, error) {
	ask := prompt
	for {
		a, err := t.readLine(ctx, ask)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(a) {
		case "y", "yes", "是":
			return true, nil
		case "n", "no", "否":
			return false, nil
		}
		// The question asked again says why, in its own line, so that
		// the answer goes to the new question, not to the old one.
		ask = t.msg.T("prompt.yes_or_no") + strings.TrimLeft(prompt, " ")
	}
}

// linePrompts asks line by line on a plain terminal.
type linePrompts struct {
	w  io.Writer
	in *lineReader
}

func (l *linePrompts) say(line string) { fmt.Fprintln(l.w, screenBlock(line, "   ")) }
func (l *linePrompts) settle()         {}
func (l *linePrompts) ask(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(l.w, prompt)
	return l.in.next(ctx)
}

// lineReader reads answers in one goroutine, so that a prompt given up
// (its context ended) does not leave a reader behind to swallow the next
// answer.
type lineReader struct {
	once  sync.Once
	in    *bufio.Reader
	lines chan lineResult
}

type lineResult struct {
	s   string
	err error
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{in: bufio.NewReader(r), lines: make(chan lineResult)}
}

func (l *lineReader) next(ctx context.Context) (string, error) {
	l.once.Do(func() {
		go func() {
			for {
				s, err := l.in.ReadString('\n')
				l.lines <- lineResult{strings.TrimSpace(s), err}
				if err != nil {
					close(l.lines)
					return
				}
			}
		}()
	})
	select {
	case a, ok := <-l.lines:
		if !ok {
			return "", i18n.New("no answer from the terminal: it was closed", "終端機無回應：已關閉")
		}
		if a.err != nil && a.s == "" {
			return "", i18n.Errorf("no answer from the terminal: %w", "終端機無回應：%w", a.err)
		}
		return a.s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// parseInput reads a manual step's typed input; its error is worded for
// the operator in m's language.
func parseInput(m messages, typ, s string) (any, error) {
	switch typ {
	case "int":
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, errors.New(m.Tf("input.not_int", s))
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New(m.Tf("input.not_bool", s))
		}
		return v, nil
	case "duration":
		v, err := time.ParseDuration(s)
		if err != nil {
			return nil, errors.New(m.Tf("input.not_duration", s))
		}
		return v.String(), nil
	}
	return s, nil
}

// terminalPrompter reads secrets without echo.
type terminalPrompter struct{ g *globalOptions }

func (p terminalPrompter) PromptSecret(label string) (string, error) {
	f, ok := p.g.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", i18n.Errorf("%s: the site asks to prompt for this secret, but standard input is not a terminal (use env:NAME or file:PATH in the site file for unattended runs)", "%s：場域檔要求於終端機輸入此機敏資料，但標準輸入不是終端機（無人值守執行時請於場域檔使用 env:NAME 或 file:PATH）", label)
	}
	fmt.Fprintf(p.g.stderr, "%s: ", label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.g.stderr)
	return string(b), err
}
