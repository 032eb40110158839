package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/drbook/drbook/lab"
	"github.com/drbook/drbook/lab/vc"
	"github.com/drbook/drbook/site"
)

// The lab site's names, as runbooks see them. labSiteShape and labSite
// build from the same lists so that validate --lab and run --lab agree.
var (
	labHosts    = []string{"esx-68", "esx-69", "esx-70"}
	labGuests   = []string{"ap02", "ap03"}
	labServices = []string{"ap_web", "ap_standby"}
)

// labSiteShape is the lab's site as validate sees it: the names of its
// hosts, guests and services, without starting anything.
func labSiteShape() *site.Site {
	s := &site.Site{Name: "sanchong-lab", Lab: true, VCenter: &site.VCenter{URL: "https://lab/sdk"},
		Hosts: map[string]site.Host{}, Guests: map[string]site.Guest{}, Services: map[string]site.Service{}}
	for _, h := range labHosts {
		s.Hosts[h] = site.Host{Name: h}
	}
	for g, vm := range map[string]string{"ap02": lab.SourceVM, "ap03": lab.TargetVM} {
		s.Guests[g] = site.Guest{VM: vm, Address: "lab", Port: 22, User: "root"}
	}
	for _, sv := range labServices {
		s.Services[sv] = site.Service{URL: "http://lab/"}
	}
	return s
}

// labSite describes a running lab as a site: every secret is a file
// reference, every key and certificate pinned.
func labSite(l *lab.Lab) (*site.Site, error) {
	pwFile := filepath.Join(l.Dir, "vcenter-password")
	if err := os.WriteFile(pwFile, []byte(l.VCenter.Password+"\n"), 0o600); err != nil {
		return nil, err
	}
	s := labSiteShape()
	s.VCenter = &site.VCenter{URL: l.VCenter.URL.String(), User: l.VCenter.User,
		Password: site.SecretRef{Source: "file", Name: pwFile}, Thumbprints: []string{l.VCenter.ThumbprintSHA256},
		Datacenter: vc.DatacenterName}
	for _, h := range labHosts {
		n, _ := strconv.Atoi(h[len(h)-2:])
		s.Hosts[h] = site.Host{Name: h, Address: l.VCenter.Options().HostIP(n)}
	}
	for _, name := range labGuests {
		g, ok := l.Guests[name]
		if !ok {
			return nil, fmt.Errorf("the lab has no guest %s", name)
		}
		s.Guests[name] = site.Guest{VM: g.VM, Address: g.Address, Port: g.Port, User: g.User, KeyFile: l.KeyFile,
			HostKeys: []string{g.HostKey}, Legacy: g.Legacy}
	}
	s.Services["ap_web"] = site.Service{URL: fmt.Sprintf("http://%s:%d/moiland/", l.Guests["ap02"].Address, lab.HTTPPort)}
	s.Services["ap_standby"] = site.Service{URL: fmt.Sprintf("http://%s:%d/moiland/", l.Guests["ap03"].Address, lab.HTTPPort)}
	return s, nil
}

func init() {
	startLab = func(ctx context.Context, o *siteOptions) (*site.Site, func(), error) {
		l, err := lab.Start(ctx, lab.Options{Speed: o.LabSpeed})
		if err != nil {
			return nil, nil, fmt.Errorf("cannot start the lab: %w", err)
		}
		s, err := labSite(l)
		if err != nil {
			l.Close()
			return nil, nil, err
		}
		return s, l.Close, nil
	}
}
