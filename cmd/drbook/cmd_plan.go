package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/engine"
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
	fmt.Fprintf(g.stdout, "Plan for %s (%s) against site %s — nothing will be changed\n", rb.Name, rb.Title.In(g.Lang), rb.Site.Name)
	if rb.RTO > 0 {
		fmt.Fprintf(g.stdout, "RTO objective: %s\n", rb.RTO)
	}
	for _, c := range rep.Checks {
		if c.Block != "monitors" {
			continue
		}
		if c.Result == engine.CheckFailed {
			fmt.Fprintf(g.stdout, "%s (%s): preflight: FAILED: %s\n", c.Step, c.Kind, c.Detail)
		} else {
			fmt.Fprintf(g.stdout, "%s (%s): preflight: %s\n", c.Step, c.Kind, c.Result)
		}
	}
	printPlan(g.stdout, rep.Plan, g.Lang, "", "")
	if !opts.NoPreflight {
		printSecretCheck(g.stdout, engine.CheckSecrets(rb.Site))
	}
	for _, t := range rep.Trusts {
		fmt.Fprintf(g.stdout, "trust: %s %s %s (%s)\n", t.Kind, t.Endpoint, t.Fingerprint, t.Source)
	}
	// A failed preflight is not a failed run: nothing ran.
	return preflightError(messagesFor(g.Lang), rep)
}

func printPlan(w io.Writer, plan []engine.PlannedStep, lang, indent, block string) int {
	failed := 0
	for i, p := range plan {
		if p.Block != block && indent == "" {
			block = p.Block
			fmt.Fprintf(w, "\n%s:\n", block)
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
			fmt.Fprintf(w, "%s      %s\n", indent, screenBlock(p.Description.Action, indent+"      "))
		}
		if p.Description.Target != "" {
			fmt.Fprintf(w, "%s      target: %s\n", indent, screenText(oneLine(p.Description.Target)))
		}
		if p.Description.Command != "" {
			fmt.Fprintf(w, "%s      command: %s\n", indent, strings.ReplaceAll(screenText(p.Description.Command), "\n", "\n"+indent+"               "))
		}
		if p.When != "" {
			fmt.Fprintf(w, "%s      when: %s\n", indent, p.When)
		}
		if p.ForEach != "" {
			fmt.Fprintf(w, "%s      for each: %s\n", indent, p.ForEach)
		}
		if p.Confirm {
			fmt.Fprintf(w, "%s      asks the operator to confirm\n", indent)
		}
		if p.Skip != "" {
			fmt.Fprintf(w, "%s      skipped: %s\n", indent, p.Skip)
		}
		if p.PreflightRan {
			if p.Preflight != nil {
				failed++
				fmt.Fprintf(w, "%s      preflight: FAILED: %s\n", indent, screenBlock(p.Preflight.Error(), indent+"      "))
			} else {
				fmt.Fprintf(w, "%s      preflight: ok\n", indent)
			}
			for _, n := range p.Notes {
				fmt.Fprintf(w, "%s      preflight note: %s\n", indent, n)
			}
		}
		failed += printPlan(w, p.Children, lang, indent+"    ", p.Block)
	}
	return failed
}

// printSecretCheck says whether the run will be able to read the site's
// secrets at its start, and returns 1 when it will not.
func printSecretCheck(w io.Writer, c engine.SecretCheck) int {
	if len(c.Problems) == 0 {
		if c.Readable+c.Prompted > 0 {
			fmt.Fprintf(w, "\nsecrets: ok (%d read from the environment or files, %d asked for at the terminal when the run starts)\n", c.Readable, c.Prompted)
		}
		return 0
	}
	fmt.Fprintf(w, "\nsecrets: FAILED: the run would stop before its first step:\n")
	for _, p := range c.Problems {
		at := ""
		if p.At != "" {
			at = p.At + ": "
		}
		fmt.Fprintf(w, "  %s%s: %s\n", at, p.Field, p.Msg)
	}
	return 1
}
