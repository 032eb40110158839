package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

func newSchemaCommand(g *globalOptions) *cobra.Command {
	var kinds bool
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the runbook format, for editors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if kinds {
				_, err := g.stdout.Write([]byte(runbooks.KindSummary(all.Registry())))
				return err
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(runbooks.Schema(all.Registry()))
		},
	}
	cmd.Flags().BoolVar(&kinds, "kinds", false, "list the step kinds with one line each instead")
	return cmd
}
