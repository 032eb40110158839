package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/fleet"
	"github.com/drbook/drbook/journal"
)

// TestFleetGuidedAsksEachSiteByName: a fleet run on a terminal without
// --yes shows the live view (a line per site) and asks each site's
// confirmation in turn, naming the site; each answer is journaled at its
// own site as the operator's, not as --yes.
func TestFleetGuidedAsksEachSiteByName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRunbook(t, dir, "confirm.yaml", `name: confirm-each
steps:
  - id: go
    name: {en: "Go ahead", zh-TW: "繼續"}
    confirm: true
    log: "going at ${{ site.name }}"
`)
	fdir := filepath.Join(dir, "fleet")
	p := startPTY(t, dir, "fleet", "run", "--lab-sites", "2", "--fleet-dir", fdir, "--operator", "chen", "confirm.yaml")
	p.expect("sanchong-lab")
	p.expect("banqiao-lab")
	answered := map[string]bool{}
	for range 2 {
		// Whichever site asks first; the other waits for this answer.
		p.expect("── go [log] Go ahead")
		s := p.flat()[:p.seen]
		site := "banqiao-lab"
		if strings.LastIndex(s, "[sanchong-lab] ── go") > strings.LastIndex(s, "[banqiao-lab] ── go") {
			site = "sanchong-lab"
		}
		if answered[site] {
			t.Fatalf("%s was asked twice:\n%s", site, tail(p.screen(), 2000))
		}
		answered[site] = true
		p.expect("[" + site + "] [r]un, [s]kip, [d]one by hand, [a]bort? ")
		p.send("r\r")
	}
	p.expect("fleet: passed: 2 of 2 sites passed")
	if code := p.exitCode(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, tail(p.screen(), 3000))
	}
	m, err := fleet.ReadManifest(fdir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Unattended || m.Operator != "chen" {
		t.Errorf("manifest: unattended %v, operator %s", m.Unattended, m.Operator)
	}
	for _, s := range m.Sites {
		log := siteJournal(t, fdir, s)
		var d *journal.Decision
		for _, e := range log.Events {
			if e.Decision != nil && e.Step == "go" {
				d = e.Decision
			}
		}
		if d == nil || d.Action != "run" || d.Who != "chen" || d.Reason == "--yes" {
			t.Errorf("site %s: the confirmation is journaled as %+v, want run by chen", s.Name, d)
		}
	}
}
