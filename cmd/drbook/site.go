package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/all"
)

// siteOptions choose the site a runbook runs against and how its keys and
// certificates are trusted.
type siteOptions struct {
	Site       string
	Lab        bool
	AcceptNew  bool
	KnownHosts string
	Vars       []string
	LabSpeed   float64
	// LabStaleBackups: with --lab, the AP server's nightly backup job
	// stopped this long ago (lab.Options.StaleBackups).
	LabStaleBackups time.Duration
	// values are typed parameter values from a journal (resume).
	values map[string]any
	// labFailRestart names the lab VMs whose HA restart fails
	// (lab.Options.FailRestart): `fleet run --lab-fail-restart`.
	labFailRestart []string
}

// AddFlags registers the site flags.
func (o *siteOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVar(&o.Site, "site", "", "site file (overrides the runbook's site:)")
	f.BoolVar(&o.Lab, "lab", false, "run against drbook's embedded simulated lab site")
	f.BoolVar(&o.AcceptNew, "accept-new", false, "pin unknown SSH host keys and TLS certificates for this run (recorded in the journal)")
	f.StringVar(&o.KnownHosts, "known-hosts", defaultKnownHosts(), "known_hosts file for SSH host keys")
	f.StringArrayVar(&o.Vars, "var", nil, "set a runbook parameter: --var name=value (repeatable)")
	f.Float64Var(&o.LabSpeed, "lab-speed", 30, "with --lab: how many times faster than real time the lab runs (1 = real timings)")
	f.DurationVar(&o.LabStaleBackups, "lab-stale-backups", 0, "with --lab: the AP server's nightly bkap.sh job stopped this long ago (e.g. 72h), to rehearse a failed backup drill")
}

func (o *siteOptions) vars() (map[string]string, error) {
	out := map[string]string{}
	for _, v := range o.Vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, usage(text("write --var name=value", "請寫成 --var 名稱=值"), i18n.Errorf("--var %q has no '='", "--var %q 缺少「=」", v))
		}
		out[k] = val
	}
	return out, nil
}

// loadRunbook loads a runbook against the chosen site. The returned close
// function stops the lab when one was started.
func (o *siteOptions) loadRunbook(ctx context.Context, path string, vars map[string]string) (*runbooks.Runbook, func(), error) {
	if vars == nil {
		var err error
		if vars, err = o.vars(); err != nil {
			return nil, nil, err
		}
	}
	opts := runbooks.Options{Registry: all.Registry(), Vars: vars, Values: o.values, SitePath: o.Site}
	closeFn := func() {}
	if o.Lab {
		s, stop, err := startLab(ctx, o)
		if err != nil {
			return nil, nil, err
		}
		opts.Site, closeFn = s, stop
	}
	rb, err := runbooks.Load(path, opts)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	return rb, closeFn, nil
}

// startLab starts the embedded lab (see labsite.go).
var startLab func(ctx context.Context, o *siteOptions) (*site.Site, func(), error)
