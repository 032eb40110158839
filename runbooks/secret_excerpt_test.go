package runbooks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/drbook/drbook/runbooks"
)

// excerptSecret is planted in site files and runbooks next to other
// mistakes; no error text may show any of it.
const excerptSecret = "Hunter2-Excerpt-77"

// TestErrorExcerptsNeverShowASecret: an error about something else on a
// secret's line (a misspelt key, a YAML syntax error) printed the line,
// secret and all, under the caret. Each case must be an error that says
// where, and whose text, source lines included, holds no secret.
func TestErrorExcerptsNeverShowASecret(t *testing.T) {
	const key = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
	siteHead := "name: s\nvcenter:\n  url: https://vc.example.test/sdk\n  user: admin\n"
	cases := []struct {
		name, file, src string
		line            int
	}{
		{"misspelt key, block style", "site", siteHead + "  pasword: " + excerptSecret + "\n", 5},
		{"misspelt key, flow style", "site", "name: s\nvcenter: {url: https://vc.example.test/sdk, user: admin, passwd: " + excerptSecret + ", thumbprint: x}\n", 2},
		{"another key's typo on the password's line", "site", "name: s\nvcenter: {url: https://vc.example.test/sdk, usr: admin, password: " + excerptSecret + "}\n", 2},
		{"YAML syntax error on the line", "site", siteHead + "  password: " + excerptSecret + ": x\n", 5},
		{"unterminated quote", "site", siteHead + "  password: \"" + excerptSecret + "\n", 5},
		{"password as a mapping", "site", siteHead + "  password: {value: " + excerptSecret + "}\n", 5},
		{"password as a list", "site", siteHead + "  password: [" + excerptSecret + "]\n", 5},
		{"BMC password as a mapping", "site", "name: s\nhosts:\n  esx-68:\n    bmc: https://imm-68.example.test/redfish/v1/Systems/1\n    bmc_password: {value: " + excerptSecret + "}\n", 5},
		{"BMC password literal", "site", "name: s\nhosts:\n  esx-68:\n    bmc_password: " + excerptSecret + "\n", 4},
		{"key material in key_file", "site", "name: s\nguests:\n  ap01:\n    address: 10.0.0.1\n    key_file: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n      " + key + excerptSecret + "\n      -----END OPENSSH PRIVATE KEY-----\n", 5},
		{"key material and a typo near it", "site", "name: s\nguests:\n  ap01:\n    address: 10.0.0.1\n    key_fil: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n      " + key + excerptSecret + "\n", 5},
		{"runbook: secret-like key misspelt", "runbook", "name: r\nsteps:\n  - {id: a, log: hi, pssword: " + excerptSecret + "}\n", 3},
		{"runbook: syntax error on a secret's line", "runbook", "name: r\nsteps:\n  - id: a\n    log: hi\n    password: " + excerptSecret + ": x\n", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.file == "site" {
				_, err = runbooks.ParseSite("site.yaml", []byte(c.src))
			} else {
				_, err = runbooks.Parse("rb.yaml", []byte(c.src), runbooks.Options{Registry: testRegistry(), Site: labSite(t)})
			}
			var list *runbooks.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("want an *ErrorList, got %v", err)
			}
			text := list.Format(true) + "\n" + list.Error()
			for _, leak := range []string{excerptSecret, "Hunter2", key[:20], "BEGIN OPENSSH"} {
				if strings.Contains(text, leak) {
					t.Errorf("the error shows %q:\n%s", leak, text)
				}
			}
			if list.Problems[0].Pos.Line != c.line {
				t.Errorf("first problem on line %d, want %d:\n%s", list.Problems[0].Pos.Line, c.line, text)
			}
		})
	}
}

// TestExcerptsStillShowOrdinaryLines: hiding is for lines that may hold a
// secret; a reference, a host key pin or a thumbprint stays visible.
func TestExcerptsStillShowOrdinaryLines(t *testing.T) {
	for _, src := range []string{
		"name: s\nvcenter: {url: https://vc.example.test/sdk, usr: admin, password: env:VC_PW}\n",
		"name: s\nguests:\n  ap01: {address: 10.0.0.1, hostkeys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb9ECeO7nKtXXY0Mdr/PyTq1YfDhoyl7Sp3KcDc5nYN\"]}\n",
		"name: s\nvcenter: {url: https://vc.example.test/sdk, user: admin, thumbprint: 1B:9F:2A}\n",
	} {
		_, err := runbooks.ParseSite("site.yaml", []byte(src))
		var list *runbooks.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("want an *ErrorList, got %v", err)
		}
		line := strings.Split(src, "\n")[list.Problems[0].Pos.Line-1]
		if !strings.Contains(list.Format(true), line) {
			t.Errorf("the excerpt of %q is hidden:\n%s", line, list.Format(true))
		}
	}
}

// TestSecretReferencesKnowWhereTheyAre: each reference of a loaded site
// carries its file:line:col, so that a run refusing it can say where.
func TestSecretReferencesKnowWhereTheyAre(t *testing.T) {
	s, err := runbooks.ParseSite("site.yaml", []byte("name: s\nvcenter:\n  url: https://vc.example.test/sdk\n  user: admin\n  password: env:A\nhosts:\n  esx-68: {bmc_password: env:B}\nguests:\n  ap01:\n    address: 10.0.0.1\n    password: prompt\n    key_passphrase: file:/k\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, sec := range s.Secrets() {
		got[sec.Field] = sec.Ref.At
	}
	want := map[string]string{"vcenter.password": "site.yaml:5:13", "hosts.esx-68.bmc_password": "site.yaml:7:26",
		"guests.ap01.password": "site.yaml:11:15", "guests.ap01.key_passphrase": "site.yaml:12:21"}
	for f, at := range want {
		if got[f] != at {
			t.Errorf("%s at %q, want %q", f, got[f], at)
		}
	}
	if len(got) != len(want) {
		t.Errorf("secrets %v, want %v", got, want)
	}
}
