// Command drbook runs disaster-recovery runbooks: drills and guided
// recoveries over vCenter and SSH, with a durable journal and reports an
// auditor can sign.
//
// Exit codes (a contract; scripts rely on them):
//
//	0   success
//	1   a step or the drill failed (the report's verdict: also a missed RTO),
//	    or verify found the journal NOT VERIFIED or INCOMPLETE
//	2   invalid usage, runbook or site file, or a failed preflight (nothing ran)
//	3   the run is paused: an interrupted step needs the operator's decision
//	4   aborted by the operator (at a prompt, or Ctrl-C twice in guided mode)
//	130 interrupted (Ctrl-C); `drbook resume RUN_DIR` continues it
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitPaused      = 3
	exitAborted     = 4
	exitInterrupted = 130
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// runMain runs the CLI and returns the exit code; tests call it directly.
func runMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second Ctrl-C while the first is being handled ends at once.
		<-ctx.Done()
		stop()
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		<-ch
		fmt.Fprintln(stderr, messagesFor(langOf(args)).T("ctrlc.second"))
		os.Exit(exitInterrupted)
	}()
	root := newRootCommand(stdin, stdout, stderr)
	localizeHelp(root, langOf(args))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = &usageError{err: cobraError(err), hint: text(messagesFor("en").T("hint.help"), messagesFor("zh-TW").T("hint.help"))}
	}
	return report(stderr, err, messagesFor(langOf(args)))
}

// langOf is the language the command was given (--lang, or DRBOOK_LANG),
// for the error printed after the command has ended; an unknown one is
// English (the root command refuses it).
func langOf(args []string) string {
	lang := defaultLang()
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--lang="); ok {
			lang = v
		} else if a == "--lang" && i+1 < len(args) {
			lang = args[i+1]
		}
	}
	return lang
}

// usageError marks bad invocations (exit 2).
type usageError struct {
	err  error
	hint journal.Text
}

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// usage is a bad invocation (exit 2): err says what is wrong (worded in
// both languages with i18n.Errorf), hint what to do.
func usage(hint journal.Text, err error) error {
	return &usageError{err: err, hint: hint}
}

// report prints err the way people can act on and maps it to an exit code.
func report(stderr io.Writer, err error, m messages) int {
	if err == nil {
		return exitOK
	}
	var el *runbooks.ErrorList
	var ue *usageError
	var se *engine.SecretError
	var he *hintedError
	code := exitFailed
	var hint journal.Text
	switch {
	case errors.As(err, &el):
		if !printFileProblem(stderr, m, el) {
			fmt.Fprintf(stderr, "%s\n%s\n", el.FormatIn(true, m.Lang()), m.Tf("error.line", m.Tf("error.problems", len(el.Problems))))
		}
		return exitUsage
	case errors.As(err, &ue):
		code, hint = exitUsage, ue.hint
	case errors.As(err, &se):
		// A site secret that cannot be used: the site or the
		// environment is wrong, and nothing ran.
		code, hint = exitUsage, journal.Text{EN: se.Hint()}
	case errors.As(err, &he):
		hint = he.hint
	case errors.Is(err, engine.ErrInterrupted):
		code, hint = exitInterrupted, journal.Text{EN: m.Tf("hint.resume", resumeDir(err))}
	case errors.Is(err, engine.ErrAborted):
		code = exitAborted
	case errors.Is(err, engine.ErrNeedsDecision):
		code = exitPaused
		if errors.Is(err, engine.ErrPaused) {
			hint = journal.Text{EN: m.Tf("hint.resume", resumeDir(err))}
		}
	case errors.Is(err, engine.ErrStepFailed):
		code = exitFailed
	case errors.Is(err, context.Canceled):
		code = exitInterrupted // Ctrl-C before anything ran
	}
	fmt.Fprintln(stderr, m.Tf("error.line", screenBlock(i18n.In(err, m.Lang()), "  ")))
	if h := hint.In(m.Lang()); h != "" {
		fmt.Fprintln(stderr, m.Tf("hint.line", h))
	}
	return code
}

// printFileProblem prints a problem with a whole file (missing,
// unreadable) as one error line and its hint; it reports whether el was
// such a problem.
func printFileProblem(stderr io.Writer, m messages, el *runbooks.ErrorList) bool {
	if len(el.Problems) != 1 || el.Problems[0].Pos.Line != 0 || el.Problems[0].Pos.File == "--var" {
		return false
	}
	p := el.Problems[0]
	msg, hint := p.In(m.Lang())
	fmt.Fprintln(stderr, m.Tf("error.line", fmt.Sprintf("%s: %s", p.Pos, msg)))
	if hint != "" {
		fmt.Fprintln(stderr, m.Tf("hint.line", hint))
	}
	return true
}

// resumeDir names the run directory of a resumable error for hints.
func resumeDir(err error) string {
	var r *resumableError
	if errors.As(err, &r) {
		return r.runDir
	}
	return "RUN_DIR"
}
