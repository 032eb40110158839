package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/steps"
)

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalOperator asks the person at the terminal, line by line.
type terminalOperator struct {
	g  *globalOptions
	mu sync.Mutex
	in *bufio.Reader
}

func newTerminalOperator(g *globalOptions) *terminalOperator {
	return &terminalOperator{g: g, in: bufio.NewReader(g.stdin)}
}

// readLine reads one answer; it gives up when ctx ends.
func (t *terminalOperator) readLine(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(t.g.stdout, prompt)
	type answer struct {
		s   string
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		s, err := t.in.ReadString('\n')
		ch <- answer{strings.TrimSpace(s), err}
	}()
	select {
	case a := <-ch:
		if a.err != nil && a.s == "" {
			return "", fmt.Errorf("no answer from the terminal: %w", a.err)
		}
		return a.s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (t *terminalOperator) reason(ctx context.Context, what string) (string, error) {
	for {
		r, err := t.readLine(ctx, "  reason for "+what+" (required): ")
		if err != nil || r != "" {
			return r, err
		}
	}
}

func (t *terminalOperator) Confirm(ctx context.Context, st engine.StepInfo) (engine.Decision, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.g.stdout
	fmt.Fprintf(out, "\n── %s [%s] %s\n", st.ID, st.Kind, st.Name.In(t.g.Lang))
	if st.Description.Action != "" {
		fmt.Fprintf(out, "   %s\n", st.Description.Action)
	}
	if st.Description.Target != "" {
		fmt.Fprintf(out, "   target:  %s\n", st.Description.Target)
	}
	if st.Description.Command != "" {
		fmt.Fprintf(out, "   command: %s\n", st.Description.Command)
	}
	if st.Traits.ChangesState {
		fmt.Fprintln(out, "   this step CHANGES STATE")
	}
	for {
		a, err := t.readLine(ctx, "   [r]un, [s]kip, [d]one by hand, [a]bort? ")
		if err != nil {
			return engine.Decision{}, err
		}
		switch strings.ToLower(a) {
		case "r", "run":
			return engine.Decision{Action: "run", Who: t.g.Operator}, nil
		case "s", "skip":
			r, err := t.reason(ctx, "skipping")
			return engine.Decision{Action: "skip", Reason: r, Who: t.g.Operator}, err
		case "d", "done":
			r, err := t.reason(ctx, "marking it done by hand")
			return engine.Decision{Action: "done", Reason: r, Who: t.g.Operator}, err
		case "a", "abort":
			r, err := t.reason(ctx, "aborting")
			return engine.Decision{Action: "abort", Reason: r, Who: t.g.Operator}, err
		}
	}
}

func (t *terminalOperator) Failed(ctx context.Context, st engine.StepInfo, stepErr error) (engine.Decision, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.g.stdout, "\n✘ %s failed: %v\n", st.ID, stepErr)
	for {
		a, err := t.readLine(ctx, "   [r]etry, [s]kip, [d]one by hand, [a]bort, or [f]ail (the runbook's on_failure)? ")
		if err != nil {
			return engine.Decision{}, err
		}
		switch strings.ToLower(a) {
		case "r", "retry":
			return engine.Decision{Action: "retry", Who: t.g.Operator}, nil
		case "f", "fail":
			return engine.Decision{Action: "fail", Who: t.g.Operator}, nil
		case "s", "skip":
			r, err := t.reason(ctx, "skipping")
			return engine.Decision{Action: "skip", Reason: r, Who: t.g.Operator}, err
		case "d", "done":
			r, err := t.reason(ctx, "marking it done by hand")
			return engine.Decision{Action: "done", Reason: r, Who: t.g.Operator}, err
		case "a", "abort":
			r, err := t.reason(ctx, "aborting")
			return engine.Decision{Action: "abort", Reason: r, Who: t.g.Operator}, err
		}
	}
}

func (t *terminalOperator) Ask(ctx context.Context, st engine.StepInfo, q steps.Question) (steps.Answer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.g.stdout
	fmt.Fprintf(out, "\n✋ %s — by hand:\n   %s\n", st.ID, q.Text.In(t.g.Lang))
	for i, c := range q.Checklist {
		fmt.Fprintf(out, "   [%d] %s\n", i+1, c.In(t.g.Lang))
	}
	ans := steps.Answer{Who: t.g.Operator, Inputs: map[string]any{}}
	for _, in := range q.Inputs {
		for {
			label := in.Label.In(t.g.Lang)
			if label == "" {
				label = in.Name
			}
			s, err := t.readLine(ctx, fmt.Sprintf("   %s (%s): ", label, in.Type))
			if err != nil {
				return ans, err
			}
			if s == "" && !in.Required {
				break
			}
			v, err := parseInput(in.Type, s)
			if err != nil {
				fmt.Fprintf(out, "   %v\n", err)
				continue
			}
			ans.Inputs[in.Name] = v
			break
		}
	}
	a, err := t.readLine(ctx, "   done? [y]es / [n]o: ")
	if err != nil {
		return ans, err
	}
	ans.Done = strings.HasPrefix(strings.ToLower(a), "y")
	return ans, nil
}

func parseInput(typ, s string) (any, error) {
	switch typ {
	case "int":
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", s)
		}
		return v, nil
	case "bool":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", s)
		}
		return v, nil
	case "duration":
		v, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration such as 58s or 1m30s", s)
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
		return "", fmt.Errorf("%s: no terminal to prompt on", label)
	}
	fmt.Fprintf(p.g.stderr, "%s: ", label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(p.g.stderr)
	return string(b), err
}
