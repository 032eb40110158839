package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
)

// guidedSession is a guided run's terminal: the live view, the keyboard
// and Ctrl-C. The terminal keeps generating SIGINT for Ctrl-C (ISIG) but
// stops echoing and editing lines itself, so that the view can redraw the
// operator's half-typed answer with the rest of the frame.
type guidedSession struct {
	g     *globalOptions
	view  *guidedView
	steer *engine.Steering
	in    *os.File
	saved *unix.Termios

	mu       sync.Mutex
	cancel   context.CancelFunc
	ctrlC    int
	sigs     chan os.Signal
	stopOnce sync.Once
}

// startGuided takes over the terminal. Close gives it back.
func startGuided(g *globalOptions) (*guidedSession, error) {
	in, inOK := g.stdin.(*os.File)
	out, outOK := g.stdout.(*os.File)
	if !inOK || !outOK {
		return nil, i18n.New("guided mode needs a terminal", "引導模式須於終端機執行")
	}
	s := &guidedSession{g: g, view: newGuidedView(out, g.Lang), steer: engine.NewSteering(), in: in}
	if t, err := unix.IoctlGetTermios(int(in.Fd()), unix.TCGETS); err == nil {
		saved := *t
		s.saved = &saved
		t.Lflag &^= unix.ICANON | unix.ECHO
		t.Lflag |= unix.ISIG
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		if err := unix.IoctlSetTermios(int(in.Fd()), unix.TCSETS, t); err != nil {
			return nil, i18n.Errorf("cannot set up the terminal for guided mode: %w (use --guided=false for line-by-line prompts)", "無法為引導模式設定終端機：%w（請改用 --guided=false 逐行詢問）", err)
		}
	}
	// Ctrl-C is the operator's to decide on: the first one asks instead of
	// cancelling. main's handler (which cancels at once) is taken off
	// SIGINT here; SIGTERM from a service manager still cancels the run.
	s.sigs = make(chan os.Signal, 4)
	signal.Reset(os.Interrupt)
	signal.Notify(s.sigs, os.Interrupt)
	go s.readKeys()
	s.view.start()
	return s, nil
}

// context returns the run's context: cancelled by a second Ctrl-C or by
// the command's own context (SIGTERM).
func (s *guidedSession) context(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	go s.watchSignals(ctx)
	return ctx
}

// observer is what the engine reports to.
func (s *guidedSession) observer() engine.Observer { return s.view }

// prompter suspends nothing: secrets are asked for on standard error, and
// the view's next frame redraws over the prompt once it is answered.
func (s *guidedSession) prompter() site.Prompter { return terminalPrompter{s.g} }

// replay shows an earlier session's steps (resume).
func (s *guidedSession) replay(events []journal.Event) { s.view.replay(events) }

func (s *guidedSession) readKeys() {
	r := bufio.NewReader(s.in)
	for {
		c, _, err := r.ReadRune()
		if err != nil {
			s.view.endInput()
			return
		}
		if c == 0x1b {
			// An escape sequence (arrow keys…): skip it whole.
			if n, _ := r.Peek(1); len(n) == 1 && (n[0] == '[' || n[0] == 'O') {
				r.ReadByte()
				for {
					b, err := r.ReadByte()
					if err != nil || (b >= 0x40 && b <= 0x7e) {
						break
					}
				}
			}
			continue
		}
		s.view.key(c)
	}
}

// watchSignals turns Ctrl-C into the operator's choice. Once: pause after
// the current step (journaled), with a menu to stop the running step now
// or to go on. Twice: abort, as [a]bort at a prompt does (the step is
// journaled cancelled, finally is offered, the run ends aborted, exit 4).
// A third Ctrl-C leaves at once, in case something does not honour
// cancellation.
func (s *guidedSession) watchSignals(ctx context.Context) {
	who := s.g.Operator
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.sigs:
		}
		s.mu.Lock()
		s.ctrlC++
		n := s.ctrlC
		s.mu.Unlock()
		switch n {
		case 1:
			s.steer.RequestPause(who, "Ctrl-C")
			s.view.setStatus(s.view.msg.T("ctrlc.pausing"))
			if s.view.interruptPrompt() {
				continue
			}
			s.view.showMenu([]string{s.view.msg.T("ctrlc.menu"), s.view.msg.T("ctrlc.choices")}, s.menuAnswer)
		case 2:
			// Abort, as [a]bort at a prompt: the running step stops, and
			// the recovery (finally) is offered before the run ends.
			s.view.hideMenu()
			s.view.setStatus(s.view.msg.T("ctrlc.aborting"))
			s.steer.Abort(who, "Ctrl-C twice")
			s.view.interruptPrompt()
		default:
			s.close()
			fmt.Fprintln(s.g.stderr, s.view.msg.T("ctrlc.third"))
			os.Exit(exitInterrupted)
		}
	}
}

func (s *guidedSession) menuAnswer(a string) {
	who := s.g.Operator
	switch a {
	case "c", "C":
		s.view.hideMenu()
		s.view.setStatus(s.view.msg.T("ctrlc.stopping"))
		s.steer.CancelRunning(who, "the operator stopped the running step after Ctrl-C")
	case "g", "G":
		s.view.hideMenu()
		s.view.setStatus("")
		s.steer.GoOn(who, "the operator withdrew the pause")
		s.mu.Lock()
		s.ctrlC = 0
		s.mu.Unlock()
	case "":
		s.view.hideMenu()
	}
}

// close gives the terminal back: main screen, echo and line editing.
func (s *guidedSession) close() {
	s.stopOnce.Do(func() {
		s.view.close()
		if s.saved != nil {
			unix.IoctlSetTermios(int(s.in.Fd()), unix.TCSETS, s.saved)
		}
	})
}
