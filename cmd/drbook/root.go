package main

import (
	"io"
	"os"
	"os/user"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// globalOptions are flags every command takes.
type globalOptions struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	Lang     string
	Operator string
}

// AddFlags registers the global flags.
func (g *globalOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&g.Lang, "lang", defaultLang(), "language of messages and reports: en or zh-TW")
	f.StringVar(&g.Operator, "operator", defaultOperator(), "who runs the drill (recorded in the journal)")
}

func defaultLang() string {
	if v := os.Getenv("DRBOOK_LANG"); v != "" {
		return v
	}
	return "en"
}

func defaultOperator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "drbook",
		Short:         "Run disaster-recovery drills and guided recoveries from YAML runbooks",
		Long:          "drbook runs disaster-recovery runbooks over vCenter and SSH, times every step,\nmeasures the real downtime and writes drill reports an auditor can sign.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if g.Lang != "en" && g.Lang != "zh-TW" {
				return usage(text("use --lang en or --lang zh-TW", "請使用 --lang en 或 --lang zh-TW"), i18n.Errorf("unknown language %q", "不支援之語言 %q", g.Lang))
			}
			return nil
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usage(seeHelp(c), cobraError(err))
	})
	g.AddFlags(root.PersistentFlags())
	root.RegisterFlagCompletionFunc("lang", completeFixed("en", "zh-TW"))
	root.AddCommand(
		newValidateCommand(g),
		newPlanCommand(g),
		newPreflightCommand(g),
		newRunCommand(g),
		newResumeCommand(g),
		newWorkerCommand(g), newDecideCommand(g),
		newReportCommand(g),
		newVerifyCommand(g),
		newHistoryCommand(g),
		newRunsCommand(g),
		newServeCommand(g),
		newLabCommand(g),
		newSchemaCommand(g),
		newKindsCommand(g),
		newExplainCommand(g),
		newNewCommand(g),
		newInitCommand(g),
		newVersionCommand(g),
		newFleetCommand(g),
	)
	usageArgs(root)
	return root
}

func machineName() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

func defaultKnownHosts() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ssh", "known_hosts")
}

// seeHelp is the hint of a bad invocation of c.
func seeHelp(c *cobra.Command) journal.Text {
	return text("see `"+c.CommandPath()+" --help`", "用法請見 `"+c.CommandPath()+" --help`")
}

// usageArgs makes every command's argument-count errors usage errors
// (exit 2), like flag errors: a wrong invocation is not a failed drill.
func usageArgs(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usage(seeHelp(cmd), cobraError(err))
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}
