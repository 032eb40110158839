package runbooks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

// TestRealKindsDeclareSiteNames: the shipped kinds tag the parameters that
// name a host or a guest, so validate --site/--lab checks them. VM names
// are left to preflight: "(67)apfg(04)" is a real VM beside the guest VM
// "(66)apfg(03)", so a near miss is no typo.
func TestRealKindsDeclareSiteNames(t *testing.T) {
	src := `name: real-kinds
steps:
  - vcenter.host.shutdown: {host: esx-86, force: true}
  - ssh.exec: {host: ap-01, command: "true"}
  - ssh.service: {guest: ap-02, name: httpd, action: restart}
  - vcenter.vm.power: {vm: "(67)apfg(04)", action: "off"}
  - vcenter.ha.verify_restart: {failed_host: esx-07, vms: ["(66)apfg(3)"], within: 5m}
`
	_, err := runbooks.Parse("real.yaml", []byte(src), runbooks.Options{Registry: all.Registry(), Site: labSite(t)})
	var list *runbooks.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want problems, got %v", err)
	}
	want := []string{
		`real.yaml:3:35: vcenter.host.shutdown: host: the site testlab has no host "esx-86"`,
		`real.yaml:4:22: ssh.exec: host: the site testlab has no guest "ap-01"`,
		`real.yaml:5:26: ssh.service: guest: the site testlab has no guest "ap-02"`,
		`real.yaml:7:46: vcenter.ha.verify_restart: failed_host: the site testlab has no host "esx-07"`,
	}
	got := list.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(list.Problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(list.Problems), len(want), got)
	}
}
