package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/all"
	"github.com/drbook/drbook/steps/reference"
)

func newKindsCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "kinds",
		Short: "List the step kinds: what each does, whether it changes state, whether it is idempotent",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKinds(cmd.Context(), g)
		},
	}
}

// runKinds lists every built-in kind in the operator's language.
func runKinds(_ context.Context, g *globalOptions) error {
	return reference.List(g.stdout, all.Registry(), g.Lang)
}

func newExplainCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "explain KIND",
		Short: "Show a step kind's parameters, result fields, preflight checks and an example",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return all.Registry().Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), g, args[0])
		},
	}
}

// runExplain prints one kind's reference; an unknown name is a usage
// error that suggests the nearest kind.
func runExplain(_ context.Context, g *globalOptions, name string) error {
	reg := all.Registry()
	k, ok := reg.Lookup(name)
	if !ok {
		hint := text("`drbook kinds` lists them", "`drbook kinds` 可列出所有步驟類型")
		var starts []string
		for _, n := range reg.Names() {
			if strings.HasPrefix(n, name) {
				starts = append(starts, n)
			}
		}
		if best := steps.Closest(name, reg.Names()); best != "" {
			starts = []string{best}
		}
		if len(starts) > 0 && len(starts) <= 5 {
			hint = text("did you mean "+strings.Join(starts, ", ")+"? (`drbook kinds` lists them all)", "您指的是否為 "+strings.Join(starts, "、")+"？（`drbook kinds` 可列出所有步驟類型）")
		}
		return usage(hint, i18n.Errorf("no step kind is called %q", "無名為 %q 之步驟類型", name))
	}
	return reference.Explain(g.stdout, k, g.Lang)
}
