package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/lab"
)

func newLabCommand(g *globalOptions) *cobra.Command {
	var speed float64
	var siteFile string
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the embedded simulated site until Ctrl-C, for govc and `drbook run --site`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLab(cmd.Context(), g, speed, siteFile)
		},
	}
	cmd.Flags().Float64Var(&speed, "speed", 30, "how many times faster than real time the lab runs (1 = real timings)")
	cmd.Flags().StringVar(&siteFile, "write-site", "lab-site.yaml", "write a site file for the running lab here")
	return cmd
}

func runLab(ctx context.Context, g *globalOptions, speed float64, siteFile string) error {
	l, err := lab.Start(ctx, lab.Options{Speed: speed})
	if err != nil {
		return i18n.Errorf("cannot start the lab: %w", "無法啟動模擬環境：%w", err)
	}
	defer l.Close()
	s, err := labSite(l)
	if err != nil {
		return err
	}
	s.Lab = false // a site file written out is used like a real site
	data, err := yaml.Marshal(s)
	if err != nil {
		return err
	}
	header := "# drbook lab site, valid while `drbook lab` runs\n"
	// Written whole and renamed into place: whoever waits for the file (a
	// script, a test) never reads half of it.
	tmp := siteFile + ".tmp"
	if err := os.WriteFile(tmp, append([]byte(header), data...), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, siteFile); err != nil {
		os.Remove(tmp)
		return err
	}
	vcURL := l.VCenter.URL.String()
	m := messagesFor(g.Lang)
	fmt.Fprintf(g.stdout, m.T("lab.running"), speed, vcURL, l.VCenter.User, l.VCenter.Password, s.VCenter.Password.Name, l.VCenter.ThumbprintSHA256, l.VCenter.ThumbprintSHA1,
		vcURL, l.VCenter.User, l.VCenter.Password, "lab-known-hosts", l.VCenter.URL.Host, l.VCenter.ThumbprintSHA1, l.KeyFile)
	for _, name := range labGuests {
		gs := s.Guests[name]
		fmt.Fprintf(g.stdout, "  %s  %s  ssh -i %s -p %d %s@%s  (%s)\n", name, gs.VM, l.KeyFile, gs.Port, gs.User, gs.Address, l.Guests[name].HostKeyFingerprint)
	}
	fmt.Fprint(g.stdout, m.T("lab.bmcs"))
	for _, h := range labHosts {
		fmt.Fprintf(g.stdout, "  %s  curl -X POST -H 'Content-Type: application/json' -d '{\"ResetType\": \"On\"}' %s/Actions/ComputerSystem.Reset\n", h, s.Hosts[h].BMC)
	}
	fmt.Fprintf(g.stdout, m.T("lab.site_file"), siteFile, siteFile)
	<-ctx.Done()
	fmt.Fprintln(g.stdout, m.T("lab.stopped"))
	return nil
}
