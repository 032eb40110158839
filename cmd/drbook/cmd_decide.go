package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/drbook/drbook/durable"
	"github.com/drbook/drbook/i18n"
)

// decideWait bounds how long decide waits for the run to take an answer.
const decideWait = 30 * time.Second

type decideOptions struct {
	temporal temporalOptions
	Yes, No  bool
	Abort    bool
	Inputs   []string
	As       string
	Reason   string
}

func newDecideCommand(g *globalOptions) *cobra.Command {
	opts := &decideOptions{}
	cmd := &cobra.Command{
		Use:   "decide RUN [STEP] --temporal HOST:PORT (--yes | --no | --abort) [--input k=v …] [--as NAME]",
		Short: "Answer a confirmation, manual step or interrupted step of a run on Temporal, from any seat; without STEP, show what the run waits for",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			step := ""
			if len(args) == 2 {
				step = args[1]
			}
			return runDecide(cmd.Context(), g, opts, args[0], step)
		},
	}
	f := cmd.Flags()
	opts.temporal.AddFlags(f)
	f.BoolVarP(&opts.Yes, "yes", "y", false, "run the step / the manual step is done / run the interrupted step again (you checked its target)")
	f.BoolVar(&opts.No, "no", false, "skip the step / the manual step is not done / do not run the interrupted step again (the run pauses)")
	f.BoolVar(&opts.Abort, "abort", false, "abort the run at this confirmation (finally still runs)")
	f.StringArrayVar(&opts.Inputs, "input", nil, "a manual step's input: --input name=value (repeatable)")
	f.StringVar(&opts.As, "as", "", "who answers (journaled; default --operator)")
	f.StringVar(&opts.Reason, "reason", "", "why (journaled with the answer)")
	return cmd
}

func runDecide(ctx context.Context, g *globalOptions, opts *decideOptions, runID, step string) error {
	if opts.temporal.Address == "" {
		return usage(text("pass --temporal HOST:PORT, the server the run was started on", "請以 --temporal HOST:PORT 指定開始該演練之伺服器"), i18n.New("decide answers runs on Temporal", "decide 僅回覆於 Temporal 上執行之演練"))
	}
	n := 0
	for _, b := range []bool{opts.Yes, opts.No, opts.Abort} {
		if b {
			n++
		}
	}
	if step != "" && n != 1 {
		return usage(text("pass exactly one of --yes, --no, --abort", "請於 --yes、--no、--abort 中擇一指定"), i18n.Errorf("decide %s %s needs an answer", "decide %s %s 須指定回覆", runID, step))
	}
	if step == "" && (n > 0 || len(opts.Inputs) > 0) {
		return usage(text("name the step: drbook decide RUN STEP …", "請指定步驟：drbook decide RUN STEP …"), i18n.New("an answer needs the step it answers", "回覆須指定所回覆之步驟"))
	}
	c, err := opts.temporal.dial(g.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	m := messagesFor(g.Lang)
	if step == "" {
		p, err := queryProgress(ctx, c, runID)
		if err != nil {
			return err
		}
		fmt.Fprintln(g.stdout, m.Tf("temporal.status", runID, p.Phase, p.Worker, p.RunDir))
		for _, st := range p.Steps {
			line := fmt.Sprintf("  %-9s %s", st.Status, st.ID)
			if st.Error != "" {
				line += ": " + oneLine(st.Error)
			}
			fmt.Fprintln(g.stdout, line)
		}
		if w := p.Waiting; w != nil {
			fmt.Fprintln(g.stdout, m.Tf("temporal.waiting", w.Step, w.Name, w.What, runID, w.Step, opts.temporal.Address))
			if w.Why != "" {
				fmt.Fprintln(g.stdout, m.Tf("temporal.why", oneLine(w.Why)))
			}
		} else {
			fmt.Fprintln(g.stdout, m.T("temporal.no_wait"))
		}
		return nil
	}
	a := durable.Answer{Step: step, Yes: opts.Yes, Abort: opts.Abort, Who: opts.As, Seat: machineName(), Reason: opts.Reason, Inputs: map[string]string{}}
	if a.Who == "" {
		a.Who = g.Operator
	}
	for _, kv := range opts.Inputs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usage(text("write --input name=value", "請寫成 --input 名稱=值"), i18n.Errorf("--input %q has no '='", "--input %q 缺少「=」", kv))
		}
		a.Inputs[k] = v
	}
	// The run's worker takes the answer; without one it cannot.
	uctx, cancel := context.WithTimeout(ctx, decideWait)
	defer cancel()
	h, err := c.UpdateWorkflow(uctx, client.UpdateWorkflowOptions{WorkflowID: runID, UpdateName: durable.UpdateDecide,
		Args: []any{a}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var msg string
	if err == nil {
		err = h.Get(uctx, &msg)
	}
	var timedOut *client.WorkflowUpdateServiceTimeoutOrCanceledError
	if err != nil && ctx.Err() == nil && (errors.As(err, &timedOut) || errors.Is(uctx.Err(), context.DeadlineExceeded)) {
		return i18n.Errorf("run %s did not take the answer within %s: is `drbook worker` running for its site? The server may still hand the answer to the run when a worker returns; `drbook decide %s --temporal %s` shows whether it was taken",
			"演練 %s 未於 %s 內接受回覆：該場域之 `drbook worker` 是否執行中？worker 恢復後伺服器仍可能將回覆交付演練；`drbook decide %s --temporal %s` 可顯示是否已接受",
			runID, decideWait, runID, opts.temporal.Address)
	}
	if err != nil {
		if _, qerr := queryProgress(ctx, c, runID); qerr != nil && errors.As(qerr, new(*usageError)) {
			return qerr
		}
		return usage(text("`drbook decide "+runID+" --temporal "+opts.temporal.Address+"` shows what the run waits for", "`drbook decide "+runID+" --temporal "+opts.temporal.Address+"` 可顯示演練等待之事項"), i18n.Errorf("the answer was not taken: %v", "回覆未被接受：%v", err))
	}
	fmt.Fprintln(g.stdout, m.Tf("temporal.decided", msg))
	return nil
}
