package runbooks

import (
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// siteState says what the loader knows of the site.
type siteState int

const (
	// siteGiven: names are checked against the site.
	siteGiven siteState = iota
	// siteNone: no site was given; a runbook that reads site names is
	// told, once, to validate with --site or --lab.
	siteNone
	// siteBroken: the site file had problems, reported already; names
	// are not checked, so that no false follow-on error appears.
	siteBroken
)

// siteRef is an expression's reference to a site name.
type siteRef struct {
	pos  Pos
	text string
}

// siteNameTags are the `drbook:"…"` tags of kind parameters that hold the
// name of something in the site.
var siteNameTags = []string{"host", "guest", "vm", "service"}

// siteNames caches siteNamePaths by parameter type.
var siteNames sync.Map // reflect.Type -> map[string]string

// siteNamePaths maps each parameter path of t that holds a site name to
// its tag, computed once per type. The map is shared: callers must not
// change it.
func siteNamePaths(t reflect.Type) map[string]string {
	if m, ok := siteNames.Load(t); ok {
		return m.(map[string]string)
	}
	paths := map[string]string{}
	for _, tag := range siteNameTags {
		for p := range pathsTagged(t, tag) {
			paths[p] = tag
		}
	}
	v, _ := siteNames.LoadOrStore(t, paths)
	return v.(map[string]string)
}

// checkSiteNames checks each literal site name in a step's parameters (a
// field tagged drbook:"host", "guest" or "service") against the site, at
// the name, with a did-you-mean. Values written as ${{ … }} are
// checked where they come from (a parameter of type host or guest, or a
// site.* expression).
func (l *loader) checkSiteNames(rb *Runbook, st *Step) {
	if l.site == siteBroken || st.ParamsNode == nil {
		return
	}
	paths := siteNamePaths(reflect.TypeOf(st.Kind.NewParams()))
	if len(paths) == 0 {
		return
	}
	s := rb.Site
	walkScalars(st.ParamsNode, "", func(n *yaml.Node, path string) {
		tag := paths[path]
		name := n.Value
		if tag == "" || tag == "vm" || name == "" || strings.Contains(name, "${{") || n.Kind != yaml.ScalarNode {
			// A VM is not checked: a site lists the VMs it logs in to (its
			// guests), not every VM in vCenter, and a site's VM names are
			// alike ((66)apfg(03) beside (67)apfg(04)), so a near miss is
			// no sign of a typo. Preflight checks VM names against vCenter.
			return
		}
		if l.site == siteNone {
			l.noteSiteRef(rb, posOf(l.file, n), path+": "+name)
			return
		}
		var known []string
		switch tag {
		case "host":
			// A host is known by its site name or its inventory name; a
			// site that lists no hosts leaves them to vCenter.
			if len(s.Hosts) == 0 {
				return
			}
			for k, h := range s.Hosts {
				if k == name || h.Name == name {
					return
				}
				known = append(known, k)
			}
		case "guest":
			// As for parameters of type guest, a site that lists no
			// guests is not checked against.
			if _, ok := s.Guests[name]; ok || len(s.Guests) == 0 {
				return
			}
			known = sortedKeys(s.Guests)
		case "service":
			if _, ok := s.Services[name]; ok || len(s.Services) == 0 {
				return
			}
			known = sortedKeys(s.Services)
		}
		what := map[string]words{"host": say("host", "主機"), "guest": say("guest", "客體"), "service": say("service", "服務")}[tag]
		l.errs.add(posOf(l.file, n), say("%s: %s: the site %s has no %s %q", "%s：%s：場域 %s 沒有%s %q", st.KindName, path, siteLabel(rb), what, name),
			hintFor(name, sortedUnique(known), what))
	})
}

func siteLabel(rb *Runbook) words {
	if rb.Site.Name == "" {
		return say("file", "檔")
	}
	return pair(rb.Site.Name, rb.Site.Name)
}

func sortedUnique(list []string) []string {
	m := map[string]bool{}
	for _, s := range list {
		m[s] = true
	}
	return sortedKeys(m)
}

// noteSiteRef keeps the earliest reference to a site name made while no
// site was given; Parse reports it once.
func (l *loader) noteSiteRef(rb *Runbook, pos Pos, text string) {
	f := &l.firstSiteRef
	if rb.scope != nil && rb.scope.firstSiteRef != nil && (*f == nil || before(rb.scope.firstSiteRef.pos, (*f).pos)) {
		*f = rb.scope.firstSiteRef
	}
	if *f == nil || before(pos, (*f).pos) {
		*f = &siteRef{pos: pos, text: text}
	}
}

func before(a, b Pos) bool {
	return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
}
