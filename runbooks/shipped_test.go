package runbooks_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/all"
)

// siteNameProblem matches the problems a runbook written for a site it does
// not name (the embedded lab, chosen with --lab) has when loaded without
// that site: it refers to hosts, guests or services by name.
var siteNameProblem = regexp.MustCompile(`the site has no (host|guest|service) "`)

// TestShippedRunbooksLoad loads every runbook and site file that ships
// under runbooks/ (everything outside testdata/) with the full registry of
// kinds, so that a renamed kind or field breaks this test, not a drill.
//
// A runbook with a `site:` entry is loaded against that file. A runbook
// without one is meant for `--lab`; the lab's site is built by
// cmd/drbook (package main, labSiteShape) when the lab starts, so it cannot
// be reached from here. Such a runbook is loaded against referenceShape, a
// copy of the lab's names; if its only problems are names that copy lacks,
// the test is skipped and says which names, rather than guessing them.
func TestShippedRunbooksLoad(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no runbooks ship under runbooks/; the README's example must be here")
	}
	reg := all.Registry()
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]yaml.Node
			if err := yaml.Unmarshal(src, &top); err != nil {
				t.Fatalf("%s is not a YAML mapping: %v", path, err)
			}
			_, hasSteps := top["steps"]
			_, hasSite := top["site"]
			_, hasGuests := top["guests"]
			_, hasHosts := top["hosts"]
			_, hasVC := top["vcenter"]
			switch {
			case hasSteps:
				opts := runbooks.Options{Registry: reg}
				if !hasSite {
					opts.Site = referenceShape()
				}
				rb, err := runbooks.Load(path, opts)
				var list *runbooks.ErrorList
				if errors.As(err, &list) && !hasSite {
					var names []string
					spurious := false
					for _, p := range list.Problems {
						switch {
						case siteNameProblem.MatchString(p.Msg):
							name := p.Msg[strings.Index(p.Msg, "the site has no "):]
							if !slices.Contains(names, name) {
								names = append(names, name)
							}
						case p.Msg == monitorNotStatic:
							spurious = true // see TestMonitorWithBadSiteNameIsOneProblem
						default:
							t.Fatalf("%s does not load:\n%s", path, list.Format(true))
						}
					}
					if len(names) == 0 && spurious {
						t.Fatalf("%s does not load:\n%s", path, list.Format(true))
					}
					t.Skipf("%s is written for the lab's site, which cmd/drbook builds and this package cannot reach; names used: %s",
						path, strings.Join(names, "; "))
				}
				if err != nil {
					if list != nil {
						t.Fatalf("%s does not load:\n%s", path, list.Format(true))
					}
					t.Fatalf("%s does not load: %v", path, err)
				}
				if len(rb.Steps) == 0 {
					t.Errorf("%s has no steps", path)
				}
			case hasGuests || hasHosts || hasVC:
				if _, _, err := runbooks.LoadSite(path); err != nil {
					if list, ok := err.(*runbooks.ErrorList); ok {
						t.Fatalf("site %s does not load:\n%s", path, list.Format(true))
					}
					t.Fatalf("site %s does not load: %v", path, err)
				}
			default:
				t.Errorf("%s is neither a runbook (steps:) nor a site (vcenter:, hosts:, guests:)", path)
			}
		})
	}
}

// monitorNotStatic is the loader's message for a monitor reading step
// results; it is also (wrongly) added when a monitor's expression fails to
// compile for another reason.
const monitorNotStatic = "a monitor's parameters may use params and site, but not step results"

// referenceShape mirrors cmd/drbook's labSiteShape (package main, so not
// importable): the names of the lab's hosts (DOMAIN.md's cluster), guests
// and services, copied from cmd/drbook/labsite.go. If the lab gains a name
// this copy lacks, a runbook using it is skipped (and says so), not failed.
func referenceShape() *site.Site {
	s := &site.Site{Name: "sanchong-lab", Lab: true, VCenter: &site.VCenter{URL: "https://lab/sdk"},
		Hosts: map[string]site.Host{}, Guests: map[string]site.Guest{}, Services: map[string]site.Service{}}
	for _, h := range []string{"esx-68", "esx-69", "esx-70"} {
		s.Hosts[h] = site.Host{Name: h}
	}
	for g, vm := range map[string]string{"ap02": "(65)apfg(02)", "ap03": "(66)apfg(03)"} {
		s.Guests[g] = site.Guest{VM: vm, Address: "lab", Port: 22, User: "root"}
	}
	for _, sv := range []string{"ap_web", "ap_standby"} {
		s.Services[sv] = site.Service{URL: "http://lab/"}
	}
	return s
}

// TestMonitorWithBadSiteNameIsOneProblem: a monitor whose URL names a
// service the site lacks has one problem, the unknown name.
func TestMonitorWithBadSiteNameIsOneProblem(t *testing.T) {
	_, err := runbooks.Parse("monitor.yaml", []byte(`name: m
monitors:
  - name: web
    check.http: {url: "${{ site.services.ap_web.url }}"}
steps:
  - log: hi
`), runbooks.Options{Registry: testRegistry(), Site: labSite(t)})
	var list *runbooks.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an *ErrorList, got %v", err)
	}
	found := false
	for _, p := range list.Problems {
		if siteNameProblem.MatchString(p.Msg) && p.Hint == `did you mean "ap-web"?` && p.Pos.Line == 4 {
			found = true
		}
	}
	if !found {
		t.Errorf("no problem names the unknown service on line 4 with a hint:\n%s", list.Error())
	}
	if len(list.Problems) != 1 {
		t.Fatal("known bug: load.go compileMonitor reports \"" + monitorNotStatic + "\" whenever decodeStatic " +
			"returned early because of an expression error (st.Static stays false), so a misspelt site name in a monitor " +
			"gives a second, misleading problem: " + list.Error())
	}
}
