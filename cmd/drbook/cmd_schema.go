package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

type schemaOptions struct {
	Kinds bool
	Site  bool
}

// AddFlags registers schema's flags.
func (o *schemaOptions) AddFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.Kinds, "kinds", false, "list the step kinds with one line each instead (see also drbook kinds)")
	f.BoolVar(&o.Site, "site", false, "print the schema of site files instead of runbooks")
}

func newSchemaCommand(g *globalOptions) *cobra.Command {
	opts := &schemaOptions{}
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of runbooks (or, with --site, site files), for editors",
		Long: "Print the JSON Schema (draft-07) of the runbook format with every step kind's\n" +
			"parameters, or of site files with --site. Editors use it for completion and\n" +
			"checking; the same schemas are committed as docs/schema/*.schema.json, and a\n" +
			"`# yaml-language-server: $schema=PATH` first line points VS Code's YAML\n" +
			"extension at one.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSchema(cmd.Context(), g, opts)
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// runSchema prints the requested schema, described in the operator's
// language.
func runSchema(_ context.Context, g *globalOptions, opts *schemaOptions) error {
	if opts.Kinds {
		_, err := g.stdout.Write([]byte(runbooks.KindSummary(all.Registry())))
		return err
	}
	schema := runbooks.Schema(all.Registry(), g.Lang)
	if opts.Site {
		schema = runbooks.SiteSchema(g.Lang)
	}
	out, err := runbooks.EncodeSchema(schema)
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(out)
	return err
}
