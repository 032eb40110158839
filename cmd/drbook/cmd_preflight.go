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
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
)

func newPreflightCommand(g *globalOptions) *cobra.Command {
	opts := &siteOptions{}
	cmd := &cobra.Command{
		Use:   "preflight FILE",
		Short: "Run the read-only checks `run` makes before its first step, as a table; changes nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPreflight(cmd.Context(), g, opts, args[0])
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runPreflight(ctx context.Context, g *globalOptions, opts *siteOptions, file string) error {
	if opts.Site == "" && !opts.Lab {
		return usage(text("name the site to check against: --site SITE.yaml, or --lab for the embedded lab", "請指定要檢查之場域：--site SITE.yaml，或以 --lab 使用內建模擬環境"), i18n.New("preflight checks a runbook against a site", "preflight 須針對場域檢查演練手冊"))
	}
	rb, closeLab, err := opts.loadRunbook(ctx, file, nil)
	if err != nil {
		return err
	}
	defer closeLab()
	cfg := engine.Config{Registry: all.Registry(), OperatorName: g.Operator,
		Options: steps.Options{AcceptNew: opts.AcceptNew, KnownHosts: opts.KnownHosts, Lang: g.Lang}}
	rep := engine.Preflight(ctx, rb, cfg)
	m := messagesFor(g.Lang)
	fmt.Fprintln(g.stdout, m.Tf("preflight.title", rb.Name, rb.Site.Name))
	printPreflight(g.stdout, m, rep.Checks)
	for _, t := range rep.Trusts {
		fmt.Fprintln(g.stdout, m.Tf("preflight.trust", m.Word("trust_kind", t.Kind), t.Endpoint, t.Fingerprint, m.Word("trust_source", t.Source)))
	}
	return preflightError(m, rep)
}

// preflightError is a failed preflight as the command's error: nothing ran.
func preflightError(m messages, rep *engine.PreflightReport) error {
	if err := rep.Err(); err != nil {
		return &usageError{err: err, hint: journal.Text{EN: m.T("preflight.hint")}}
	}
	return nil
}

// printPreflight prints the checks as a table: step, kind, result, what
// was checked with what was found, and how to fix a failure.
func printPreflight(w io.Writer, m messages, checks []engine.Check) {
	head := []string{m.T("preflight.col_step"), m.T("preflight.col_kind"), m.T("preflight.col_result")}
	widths := []int{0, 0, 0}
	rows := make([][]string, len(checks))
	for i, c := range checks {
		rows[i] = []string{c.Step, c.Kind, m.Enum("check", c.Result)}
	}
	for _, r := range append([][]string{head}, rows...) {
		for j, cell := range r {
			widths[j] = max(widths[j], screenWidth.StringWidth(cell))
		}
	}
	line := func(cells []string, check, hint string) {
		var b strings.Builder
		for j, cell := range cells {
			b.WriteString(padRight(cell, widths[j]) + "  ")
		}
		b.WriteString(check)
		if hint != "" {
			b.WriteString("  → " + m.T("preflight.fix") + hint)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head, m.T("preflight.col_check"), "")
	for i, c := range checks {
		check, detail := c.WhatIn(m.Lang()), c.DetailIn(m.Lang())
		if detail != "" {
			if check != "" {
				check += m.T("colon")
			}
			check += detail
		}
		line(rows[i], oneLine(check), c.HintIn(m.Lang()))
	}
	failed := 0
	for _, c := range checks {
		if c.Result == engine.CheckFailed {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintln(w, m.Tf("preflight.failed", failed, len(checks)))
	} else {
		fmt.Fprintln(w, m.Tf("preflight.passed", len(checks)))
	}
}
