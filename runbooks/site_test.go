package runbooks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drbook/drbook/runbooks"
)

// TestSiteSecretNeverInErrors: a literal password in a site file is an
// error, and the error must not carry the password anywhere an operator
// might paste it (a ticket, a chat, CI logs).
func TestSiteSecretNeverInErrors(t *testing.T) {
	const path = "testdata/invalid/literal_password.site.yaml"
	secrets := []string{"S3cr3t-Hunter2", "correct horse battery staple"}
	_, _, err := runbooks.LoadSite(path)
	var list *runbooks.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an *ErrorList for literal secrets, got %v", err)
	}
	if len(list.Problems) != 2 {
		t.Errorf("want one problem per literal secret (2), got %d:\n%s", len(list.Problems), list.Error())
	}
	for _, s := range secrets {
		if strings.Contains(list.Error(), s) {
			t.Errorf("Error() contains the secret %q:\n%s", s, list.Error())
		}
		for _, p := range list.Problems {
			if strings.Contains(p.Msg, s) || strings.Contains(p.Hint, s) {
				t.Errorf("problem %v contains the secret %q", p, s)
			}
		}
	}
	t.Run("with source lines", func(t *testing.T) {
		for _, s := range secrets {
			if strings.Contains(list.Format(true), s) {
				t.Errorf("Format(true) contains the secret %q:\n%s", s, list.Format(true))
			}
		}
	})
}

// TestLabSiteLoads checks the test site itself and the defaults the loader
// fills in (port 22, user root, host names from keys), which the other
// tests rely on.
func TestLabSiteLoads(t *testing.T) {
	s, sum, err := runbooks.LoadSite(labSitePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 64 {
		t.Errorf("site SHA-256 %q is not 64 hex digits", sum)
	}
	ap01 := s.Guests["ap01"]
	if ap01.Port != 22 || ap01.User != "root" || !ap01.Legacy || ap01.Password.String() != "prompt" {
		t.Errorf("ap01 = %+v; want port 22, user root, legacy, password prompt", ap01)
	}
	if b := s.Guests["bastion"]; b.User != "ops" {
		t.Errorf("bastion user = %q, want ops (an explicit user is kept)", b.User)
	}
	if h := s.Hosts["esx-68"]; h.Name != "esx-68" || h.Address != "10.0.0.68" {
		t.Errorf("esx-68 = %+v; want its name filled from the key", h)
	}
	if s.VCenter.Password.String() != "env:DRBOOK_TEST_VC_PASSWORD" {
		t.Errorf("vcenter password ref = %q", s.VCenter.Password)
	}
}
