package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/engine"
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/reports"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

type planOptions struct {
	siteOptions
	NoPreflight bool
}

func newPlanCommand(g *globalOptions) *cobra.Command {
	opts := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "Print the resolved steps and run the read-only preflight; changes nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlan(cmd.Context(), g, opts, args[0])
		},
	}
	opts.siteOptions.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&opts.NoPreflight, "no-preflight", false, "only print the steps; contact nothing")
	return cmd
}

func runPlan(ctx context.Context, g *globalOptions, opts *planOptions, file string) error {
	rb, closeLab, err := opts.loadRunbook(ctx, file, nil)
	if err != nil {
		return err
	}
	defer closeLab()
	cfg := engine.Config{Registry: all.Registry(), OperatorName: g.Operator,
		Options: steps.Options{AcceptNew: opts.AcceptNew, KnownHosts: opts.KnownHosts, Lang: g.Lang}}
	rep := &engine.PreflightReport{}
	if opts.NoPreflight {
		rep.Plan, rep.Trusts = engine.Plan(ctx, rb, cfg, false)
	} else {
		rep = engine.Preflight(ctx, rb, cfg)
	}
	m := messagesFor(g.Lang)
	fmt.Fprintln(g.stdout, m.Tf("plan.title", rb.Name, rb.Title.In(g.Lang), rb.Site.Name))
	if rb.RTO > 0 {
		fmt.Fprintln(g.stdout, m.Tf("plan.rto", reports.Duration(journal.Duration(rb.RTO), g.Lang)))
	}
	for _, c := range rep.Checks {
		if c.Block != "monitors" {
			continue
		}
		if c.Result == engine.CheckFailed {
			fmt.Fprintln(g.stdout, m.Tf("plan.monitor_failed", c.Step, c.Kind, c.DetailIn(g.Lang)))
		} else {
			fmt.Fprintln(g.stdout, m.Tf("plan.monitor", c.Step, c.Kind, m.Enum("check", c.Result)))
		}
	}
	printPlan(g.stdout, rep.Plan, g.Lang, "", "")
	if !opts.NoPreflight {
		printSecretCheck(g.stdout, m, engine.CheckSecrets(rb.Site))
	}
	for _, t := range rep.Trusts {
		fmt.Fprintln(g.stdout, m.Tf("preflight.trust", m.Word("trust_kind", t.Kind), t.Endpoint, t.Fingerprint, m.Word("trust_source", t.Source)))
	}
	// A failed preflight is not a failed run: nothing ran.
	return preflightError(messagesFor(g.Lang), rep)
}

func printPlan(w io.Writer, plan []engine.PlannedStep, lang, indent, block string) int {
	failed := 0
	m := messagesFor(lang)
	for i, p := range plan {
		if p.Block != block && indent == "" {
			block = p.Block
			fmt.Fprintf(w, "\n%s\n", m.Tf("view.block", m.Enum("block", block)))
		}
		mark := "  "
		if p.Traits.ChangesState {
			mark = "! "
		}
		name := p.Name.In(lang)
		if name == "" {
			name = p.ID
		}
		fmt.Fprintf(w, "%s%s%2d. %s [%s] %s\n", indent, mark, i+1, name, p.Kind, p.ID)
		if p.Description.Action != "" {
			fmt.Fprintf(w, "%s      %s\n", indent, screenBlock(p.Description.ActionIn(lang), indent+"      "))
		}
		if p.Description.Target != "" {
			fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.target", screenText(oneLine(p.Description.Target))))
		}
		if p.Description.Command != "" {
			label := m.Tf("plan.command", "")
			fmt.Fprintf(w, "%s      %s%s\n", indent, label, strings.ReplaceAll(screenText(p.Description.Command), "\n", "\n"+indent+"      "+strings.Repeat(" ", screenWidth.StringWidth(label))))
		}
		if p.When != "" {
			fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.when", p.When))
		}
		if p.ForEach != "" {
			fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.for_each", p.ForEach))
		}
		if p.Confirm {
			fmt.Fprintf(w, "%s      %s\n", indent, m.T("plan.confirm"))
		}
		if p.Skip != "" {
			fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.skipped", journal.Text{EN: p.Skip, ZhTW: p.SkipZhTW}.In(lang)))
		}
		if p.PreflightRan {
			if p.Preflight != nil {
				failed++
				fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.preflight_failed", screenBlock(i18n.In(p.Preflight, lang), indent+"      ")))
			} else {
				fmt.Fprintf(w, "%s      %s\n", indent, m.T("plan.preflight_ok"))
			}
			notes := p.Notes
			if lang == "zh-TW" && len(p.NotesZhTW) == len(p.Notes) {
				notes = p.NotesZhTW
			}
			for _, n := range notes {
				fmt.Fprintf(w, "%s      %s\n", indent, m.Tf("plan.note", n))
			}
		}
		failed += printPlan(w, p.Children, lang, indent+"    ", p.Block)
	}
	return failed
}

// printSecretCheck says whether the run will be able to read the site's
// secrets at its start, and returns 1 when it will not.
func printSecretCheck(w io.Writer, m messages, c engine.SecretCheck) int {
	if len(c.Problems) == 0 {
		if c.Readable+c.Prompted > 0 {
			fmt.Fprintf(w, "\n%s\n", m.Tf("plan.secrets_ok", c.Readable, c.Prompted))
		}
		return 0
	}
	fmt.Fprintf(w, "\n%s\n", m.T("plan.secrets_failed"))
	for _, p := range c.Problems {
		at := ""
		if p.At != "" {
			at = p.At + ": "
		}
		fmt.Fprintf(w, "  %s%s: %s\n", at, p.Field, p.Msg)
	}
	return 1
}
