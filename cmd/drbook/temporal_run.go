package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/drbook/drbook/durable"
	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// runTemporal starts the runbook as a workflow on the Temporal server and
// follows it. The workflow goes on when this process stops: the steps run
// at the site's worker, which keeps the journal.
func runTemporal(ctx context.Context, g *globalOptions, opts *runOptions, file string) error {
	t := &opts.Temporal
	if opts.Step || opts.Guided || opts.Sign != "" || opts.RerunInterrupted {
		return usage(text("drop --step, --guided, --sign and --rerun-interrupted with --temporal: people answer with `drbook decide`, and `drbook verify`/`drbook report` read the worker's journal",
			"使用 --temporal 時請勿加 --step、--guided、--sign 及 --rerun-interrupted：由人員以 `drbook decide` 回覆，`drbook verify`／`drbook report` 讀取 worker 之紀錄檔"),
			i18n.New("--temporal runs the steps at the site's worker", "--temporal 由場域之 worker 執行步驟"))
	}
	vars, err := opts.vars()
	if err != nil {
		return err
	}
	source, err := os.ReadFile(file)
	if err != nil {
		return usage(text("give the runbook's path", "請指定演練手冊之路徑"), i18n.Errorf("cannot read the runbook: %v", "無法讀取演練手冊：%v", err))
	}
	// The runbook is checked here, against the site's shape, before it
	// goes anywhere; the worker loads it again against its own site.
	var rb *runbooks.Runbook
	if opts.Lab {
		rb, err = runbooks.Load(file, runbooks.Options{Registry: all.Registry(), Vars: vars, Site: labSiteShape()})
	} else {
		var closeLab func()
		if rb, closeLab, err = opts.loadRunbook(ctx, file, vars); err == nil {
			closeLab()
		}
	}
	if err != nil {
		return err
	}
	siteName := ""
	if rb.Site != nil {
		siteName = rb.Site.Name
	}
	mode := opts.Mode
	if opts.Lab {
		mode = "lab"
	}
	in := durable.RunInput{RunID: engine.RunDirName(time.Now(), rb.Name), File: filepath.Base(file), Source: string(source), Vars: vars,
		Operator: g.Operator, Machine: machineName(), Mode: mode, Yes: opts.Yes, NoPreflight: opts.NoPreflight}
	c, err := t.dial(g.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	queue := t.queueFor(siteName)
	_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: in.RunID, TaskQueue: queue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, durable.WorkflowName, in)
	if err != nil {
		return i18n.Errorf("cannot start run %s on Temporal at %s: %w", "無法於 %[2]s 之 Temporal 上開始執行 %[1]s：%[3]w", in.RunID, t.Address, err)
	}
	m := messagesFor(g.Lang)
	fmt.Fprintln(g.stdout, m.Tf("temporal.started", in.RunID, t.Address, queue))
	return followTemporal(ctx, g, c, t, in.RunID)
}

// followTemporal prints the run's progress as the workflow reports it
// until it ends or this process is stopped (which leaves the run going).
func followTemporal(ctx context.Context, g *globalOptions, c client.Client, t *temporalOptions, runID string) error {
	m := messagesFor(g.Lang)
	seen := map[string]string{}
	answers := 0
	waiting := ""
	failures := 0
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second) // a query waits for a worker; keep saying so
		p, err := queryProgress(qctx, c, runID)
		cancel()
		if err != nil && ctx.Err() == nil && !isTransient(err) {
			return err
		}
		if err != nil && ctx.Err() == nil {
			if failures++; failures == 3 {
				// Queries, like the run itself, are served by the site's
				// worker.
				why := err.Error()
				if errors.Is(qctx.Err(), context.DeadlineExceeded) {
					why = "no answer within 5 s"
				}
				fmt.Fprintln(g.stdout, m.Tf("temporal.no_worker", runID, why))
			}
		} else {
			failures = 0
		}
		if err == nil {
			for _, st := range p.Steps {
				key := st.Status + "|" + st.Error
				if seen[st.ID] == key || st.Status == "pending" || st.Status == "waiting" {
					continue
				}
				seen[st.ID] = key
				line := m.Tf("temporal.step", time.Now().Format("15:04:05"), statusMark(st.Status), st.ID)
				if st.Replayed {
					line += " (journaled earlier, not run again)"
				}
				if st.Error != "" {
					line += ": " + oneLine(st.Error)
				}
				fmt.Fprintln(g.stdout, line)
			}
			for ; answers < len(p.Answers); answers++ {
				a := p.Answers[answers]
				fmt.Fprintln(g.stdout, m.Tf("temporal.answered", a.Who, yesNo(a), a.Step, a.Seat))
			}
			if w := p.Waiting; w != nil && waiting != w.Step+w.What {
				waiting = w.Step + w.What
				fmt.Fprintln(g.stdout, m.Tf("temporal.waiting", w.Step, w.Name, w.What, runID, w.Step, t.Address))
				if w.Why != "" {
					fmt.Fprintln(g.stdout, m.Tf("temporal.why", oneLine(w.Why)))
				}
			} else if p.Waiting == nil {
				waiting = ""
			}
			if p.Phase == "ended" {
				return temporalEnded(ctx, g, c, runID, p)
			}
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(g.stdout, m.Tf("temporal.detached", runID, runID, t.Address))
			return nil
		case <-tick.C:
		}
	}
}

// temporalEnded reports the run's end with the exit code of a local run.
func temporalEnded(ctx context.Context, g *globalOptions, c client.Client, runID string, p *durable.Progress) error {
	m := messagesFor(g.Lang)
	var res durable.Result
	if err := c.GetWorkflow(ctx, runID, "").Get(ctx, &res); err != nil {
		return fmt.Errorf("run %s: %w", runID, err)
	}
	fmt.Fprintln(g.stdout, m.Tf("temporal.ended", runID, m.Enum("result", res.Outcome)))
	fmt.Fprintln(g.stdout, m.Tf("temporal.where", p.Worker, res.RunDir))
	if res.Head != "" {
		fmt.Fprintln(g.stdout, m.Tf("summary.hash", res.Head))
	}
	switch res.Outcome {
	case "passed":
		return nil
	case "aborted":
		return fmt.Errorf("%w: %s", engine.ErrAborted, res.Cause)
	case "paused":
		return fmt.Errorf("%w: %s", engine.ErrNeedsDecision, res.Cause)
	}
	return fmt.Errorf("%w: %s", engine.ErrStepFailed, res.Cause)
}

func queryProgress(ctx context.Context, c client.Client, runID string) (*durable.Progress, error) {
	v, err := c.QueryWorkflow(ctx, runID, "", durable.QueryProgress)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, usage(text("give the run id `drbook run --temporal` printed", "請指定 `drbook run --temporal` 所列出之執行編號"), i18n.Errorf("no run %s on this Temporal server: %v", "此 Temporal 伺服器上無執行編號 %s：%v", runID, err))
		}
		return nil, err
	}
	var p durable.Progress
	if err := v.Get(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// isTransient says whether a query may succeed when tried again: the
// workflow's first task has not run yet, or no worker is there to answer
// queries right now.
func isTransient(err error) bool {
	var ue *usageError
	if errors.As(err, &ue) {
		return false
	}
	return true
}

func statusMark(s string) string {
	switch s {
	case "running":
		return "▶"
	case engine.OutcomeOK:
		return "✔"
	case engine.OutcomeNeedsDecision:
		return "⏸"
	case engine.OutcomeAborted:
		return "✘ aborted"
	}
	return "✘ " + s
}

func yesNo(a durable.Answer) string {
	switch {
	case a.Abort:
		return "abort"
	case a.Yes:
		return "yes"
	}
	return "no"
}
