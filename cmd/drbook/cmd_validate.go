package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

type validateOptions struct {
	siteOptions
}

func newValidateCommand(g *globalOptions) *cobra.Command {
	opts := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate FILE... | validate --site SITE",
		Short: "Check runbooks (or, with --site alone, a site file) for every problem without running or contacting anything",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && opts.Site != "" {
				return nil
			}
			return cobra.MinimumNArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), g, opts, args)
		},
	}
	opts.siteOptions.AddFlags(cmd.Flags())
	return cmd
}

// runValidate loads each runbook and reports all problems together. It
// never starts the lab or contacts a site: the lab's site shape is used
// for --lab runbooks.
func runValidate(ctx context.Context, g *globalOptions, opts *validateOptions, files []string) error {
	vars, err := opts.vars()
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return validateSite(g, opts.Site)
	}
	var all_ runbooks.ErrorList
	var other []error
	for _, f := range files {
		ro := runbooks.Options{Registry: all.Registry(), Vars: vars, SitePath: opts.Site}
		if opts.Lab {
			ro.Site = labSiteShape()
		}
		rb, err := runbooks.LoadContext(ctx, f, ro)
		var el *runbooks.ErrorList
		switch {
		case errors.Is(err, context.Canceled):
			return i18n.Errorf("validate interrupted; nothing was changed: %w", "validate 執行中斷；未變更任何設定：%w", err)
		case errors.As(err, &el):
			all_.Problems = append(all_.Problems, el.Problems...)
			if !printFileProblem(g.stderr, messagesFor(g.Lang), el) {
				fmt.Fprintln(g.stderr, el.FormatIn(true, g.Lang))
			}
		case err != nil:
			other = append(other, err)
		default:
			fmt.Fprintln(g.stdout, messagesFor(g.Lang).Tf("validate.ok", f, len(rb.AllSteps())))
		}
	}
	if len(other) > 0 {
		return errors.Join(other...)
	}
	if n := len(all_.Problems); n > 0 {
		m := messagesFor(g.Lang)
		return usage(journal.Text{EN: m.T("validate.hint")}, fmt.Errorf(m.T("validate.problems"), n))
	}
	return nil
}

// validateSite checks a site file alone, as drbook init writes one.
func validateSite(g *globalOptions, path string) error {
	s, _, err := runbooks.LoadSite(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, messagesFor(g.Lang).Tf("validate.site_ok", path, s.Name, len(s.Hosts), len(s.Guests), len(s.Services)))
	return nil
}
