package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/drbook/drbook/durable"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
)

// temporalOptions are the flags that name a Temporal server and queue.
type temporalOptions struct {
	Address   string
	Namespace string
	TaskQueue string
}

func (t *temporalOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&t.Address, "temporal", "", "run on the Temporal server at HOST:PORT (durable execution: the run survives this machine)")
	f.StringVar(&t.Namespace, "namespace", "default", "with --temporal: the Temporal namespace")
	f.StringVar(&t.TaskQueue, "task-queue", "", "with --temporal: the task queue of the site's worker (default drbook-SITE)")
}

// dial connects to the Temporal server; the SDK's own log lines go to
// stderr at warning level and above only.
func (t *temporalOptions) dial(stderr io.Writer) (client.Client, error) {
	c, err := client.Dial(client.Options{HostPort: t.Address, Namespace: t.Namespace,
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		return nil, usage(text("start the server (e.g. `temporal server start-dev --ip 127.0.0.1 --port 7233 --headless`) or correct --temporal HOST:PORT", "請啟動伺服器（如 `temporal server start-dev --ip 127.0.0.1 --port 7233 --headless`）或更正 --temporal HOST:PORT"),
			i18n.Errorf("cannot reach the Temporal server at %s (namespace %s): %v", "無法連線 %s 之 Temporal 伺服器（命名空間 %s）：%v", t.Address, t.Namespace, err))
	}
	return c, nil
}

// queueFor is the task queue for a site: --task-queue, else drbook-SITE.
func (t *temporalOptions) queueFor(site string) string {
	if t.TaskQueue != "" {
		return t.TaskQueue
	}
	return durable.TaskQueue(site)
}

func newWorkerCommand(g *globalOptions) *cobra.Command {
	opts := &runOptions{}
	var topts temporalOptions
	cmd := &cobra.Command{
		Use:   "worker --temporal HOST:PORT (--site FILE | --lab)",
		Short: "Run a site's steps for runs started with `drbook run --temporal`; the journal is written here",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorker(cmd.Context(), g, opts, &topts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Site, "site", "", "the site file this worker serves (its secrets are resolved here, never sent)")
	f.BoolVar(&opts.Lab, "lab", false, "serve drbook's embedded lab: each run gets its own lab in its run directory")
	f.Float64Var(&opts.LabSpeed, "lab-speed", 30, "with --lab: how many times faster than real time the lab runs")
	f.BoolVar(&opts.AcceptNew, "accept-new", false, "pin unknown SSH host keys and TLS certificates (recorded in the journal)")
	f.StringVar(&opts.KnownHosts, "known-hosts", defaultKnownHosts(), "known_hosts file for SSH host keys")
	f.StringVar(&opts.RunsDir, "runs-dir", "runs", "where this worker keeps its run directories (a standby worker must share it)")
	topts.AddFlags(f)
	return cmd
}

func runWorker(ctx context.Context, g *globalOptions, opts *runOptions, topts *temporalOptions) error {
	if topts.Address == "" {
		return usage(text("pass --temporal HOST:PORT", "請指定 --temporal HOST:PORT"), i18n.New("a worker needs the Temporal server's address", "worker 須指定 Temporal 伺服器之位址"))
	}
	if opts.Site == "" && !opts.Lab {
		return usage(text("pass --site FILE (the site this worker serves) or --lab", "請指定 --site FILE（本 worker 服務之場域）或 --lab"), i18n.New("a worker serves one site", "一個 worker 服務一處場域"))
	}
	siteName := labSiteShape().Name
	if !opts.Lab {
		s, _, err := runbooks.LoadSite(opts.Site)
		if err != nil {
			return usage(text("check the site file", "請檢查場域檔"), err)
		}
		siteName = s.Name
	}
	c, err := topts.dial(g.stderr)
	if err != nil {
		return err
	}
	defer c.Close()
	queue := topts.queueFor(siteName)
	identity := fmt.Sprintf("%s@%s pid %d", g.Operator, machineName(), os.Getpid())
	runsDir, err := filepath.Abs(opts.RunsDirOrDefault())
	if err != nil {
		return err
	}
	acts := &durable.Activities{RunsDir: runsDir, Identity: identity,
		Site: &workerSite{g: g, opts: opts, root: context.WithoutCancel(ctx)},
		AfterEnd: func(runDir string) {
			if _, err := writeReports(runDir, g.Lang); err != nil {
				m := messagesFor(g.Lang)
				fmt.Fprintln(g.stderr, m.Tf("warn.line", m.Tf("warn.reports", err, runDir)))
			}
		}}
	w := worker.New(c, queue, worker.Options{Identity: identity})
	acts.Register(w)
	if err := w.Start(); err != nil {
		return i18n.Errorf("the worker could not start on task queue %s at %s: %w", "worker 無法於 %[2]s 之工作佇列 %[1]s 上啟動：%[3]w", queue, topts.Address, err)
	}
	m := messagesFor(g.Lang)
	fmt.Fprintln(g.stdout, m.Tf("temporal.worker_ready", siteName, queue, topts.Address, runsDir))
	<-ctx.Done()
	w.Stop()
	acts.Close()
	fmt.Fprintln(g.stdout, m.T("temporal.worker_stopped"))
	return nil
}

// workerSite loads a run's runbook against the worker's site file, or
// starts the run's own lab in its run directory (restoring the world
// saved there when the run continues after a restart).
type workerSite struct {
	g    *globalOptions
	opts *runOptions
	root context.Context
}

func (s *workerSite) Prepare(ctx context.Context, runDir, file string, in durable.RunInput) (*durable.Prepared, error) {
	o := *s.opts
	o.Yes = true // answers come from the workflow, never from this terminal
	o.Mode = in.Mode
	cfg, err := o.baseConfig(s.g)
	if err != nil {
		return nil, err
	}
	vars := maps.Clone(in.Vars)
	if vars == nil {
		vars = map[string]string{}
	}
	if o.Lab {
		rl, err := startRunLab(s.root, &o.siteOptions, runDir, s.g.stderr)
		if err != nil {
			return nil, err
		}
		rb, err := o.loadLabRunbook(rl, file, vars)
		if err != nil {
			rl.close()
			return nil, err
		}
		cfg.BeforeFinish = rl.beforeFinish(s.g.stderr)
		return &durable.Prepared{Runbook: rb, Config: cfg, Close: rl.close}, nil
	}
	rb, closeLab, err := o.loadRunbook(s.root, file, vars)
	if err != nil {
		return nil, err
	}
	return &durable.Prepared{Runbook: rb, Config: cfg, Close: closeLab}, nil
}

// temporalCatalog holds the Temporal commands' texts, merged into the
// operator catalog.
var temporalCatalog = map[string][2]string{
	"temporal.worker_ready":   {"worker for site %s on task queue %s at %s; run directories in %s (Ctrl-C stops it; runs continue at the next worker)", "場域 %s 之執行者已就緒（工作佇列 %s，伺服器 %s）；執行目錄位於 %s（Ctrl-C 停止；演練由下一個執行者接續）"},
	"temporal.worker_stopped": {"worker stopped; its runs continue when a worker serves the queue again", "執行者已停止；工作佇列再有執行者時，演練將接續"},
	"temporal.started":        {"run %s started on Temporal at %s (task queue %s); it goes on if this command stops", "演練 %s 已於 Temporal（%s，工作佇列 %s）啟動；本指令結束不影響演練"},
	"temporal.step":           {"%s %s %s", "%s %s %s"},
	"temporal.waiting":        {"⏳ step %s (%s) waits for a %s answer: drbook decide %s %s --temporal %s --yes|--no [--as NAME]", "⏳ 步驟 %s（%s）等待回覆（%s）：drbook decide %s %s --temporal %s --yes|--no [--as 姓名]"},
	"temporal.why":            {"   %s", "   %s"},
	"temporal.answered":       {"✔ %s answered %s for step %s from %s", "✔ %s 已回覆步驟 %s（%s），來自 %s"},
	"temporal.ended":          {"run %s ended: %s", "演練 %s 結束：%s"},
	"temporal.where":          {"journal and reports at worker %s: %s", "紀錄檔與報告位於執行者 %s：%s"},
	"temporal.detached":       {"stopped following; run %s goes on (drbook decide %s --temporal %s shows it)", "已停止追蹤；演練 %s 繼續進行（drbook decide %s --temporal %s 可查看）"},
	"temporal.decided":        {"%s", "%s"},
	"temporal.status":         {"run %s · phase %s · worker %s · run directory %s", "演練 %s · 階段 %s · 執行者 %s · 執行目錄 %s"},
	"temporal.no_worker":      {"run %s does not answer (%s): is `drbook worker` running for its site? The run waits for it", "演練 %s 無回應（%s）：該場域之 `drbook worker` 是否執行中？演練將等候執行者"},
	"temporal.no_wait":        {"nothing waits for an answer", "目前無待回覆事項"},
}

func init() {
	maps.Copy(operatorCatalog, temporalCatalog)
}
