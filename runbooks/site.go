package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// LoadSite reads and validates a site file, returning it with its SHA-256.
// Problems come back together as an *ErrorList.
func LoadSite(path string) (*site.Site, string, error) {
	src, err := readSource(path)
	if err != nil {
		return nil, "", err
	}
	s, err := ParseSite(path, src)
	sum := sha256.Sum256(src)
	return s, hex.EncodeToString(sum[:]), err
}

// ParseSite is LoadSite for a site already in memory.
func ParseSite(path string, src []byte) (*site.Site, error) {
	var errs ErrorList
	errs.addSource(path, src)
	doc, problem := decodeOne(path, "site", src, newSourceText(src))
	if problem != nil {
		errs.Problems = append(errs.Problems, *problem)
		return nil, errs.err()
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		errs.add(Pos{File: path, Line: 1, Column: 1}, "a site file must be a mapping with name:, vcenter:, hosts:, guests: …", "")
		return nil, errs.err()
	}
	root := doc.Content[0]
	for _, e := range steps.Strict(root, reflect.TypeOf(site.Site{}), "") {
		errs.add(Pos{File: path, Line: e.Line, Column: e.Column}, "site: "+e.Msg, "")
	}
	// Secrets must be references: catch a literal password early, with
	// its position, and never echo it back.
	walkScalars(root, "", func(n *yaml.Node, p string) {
		last := p[strings.LastIndexByte(p, '.')+1:]
		if secretKeys[last] {
			if _, err := site.ParseSecretRef(n.Value); err != nil {
				errs.Problems = append(errs.Problems, Problem{Pos: posOf(path, n), Msg: p + ": " + err.Error(), Hint: "e.g. password: env:DRBOOK_VC_PASSWORD", Secret: true})
			}
		}
	})
	checkSecretShapes(path, root, &errs)
	if len(errs.Problems) > 0 {
		return nil, errs.err()
	}
	var s site.Site
	if derrs := steps.DecodeValue(root, &s); len(derrs) > 0 {
		for _, e := range derrs {
			errs.add(Pos{File: path, Line: e.Line, Column: e.Column}, "site: "+e.Msg, "")
		}
		return nil, errs.err()
	}
	if s.Name == "" {
		errs.add(posOf(path, root), "the site needs a name", "e.g. name: sanchong")
	}
	checkSiteValues(path, root, &s, &errs)
	if s.VCenter != nil {
		vn := steps.FindField(root, "vcenter")
		if !strings.HasPrefix(s.VCenter.URL, "https://") {
			errs.add(posOf(path, steps.FindField(vn, "url")), fmt.Sprintf("vcenter url %q must start with https://", s.VCenter.URL), "drbook only talks to vCenter over verified TLS")
		}
		if s.VCenter.User == "" {
			errs.add(posOf(path, vn), "vcenter needs a user", "")
		}
	}
	for name, g := range s.Guests {
		gn := steps.FindField(root, "guests."+name)
		if g.Address == "" {
			errs.add(posOf(path, gn), fmt.Sprintf("guest %s needs an address", name), "")
		}
		if g.Become != "" && g.Become != "sudo" {
			errs.add(posOf(path, steps.FindField(gn, "become")), fmt.Sprintf("guest %s: become must be sudo or empty", name), "")
		}
		if g.Jump != "" {
			if _, ok := s.Guests[g.Jump]; !ok {
				errs.add(posOf(path, steps.FindField(gn, "jump")), fmt.Sprintf("guest %s: jump host %q is not a guest of this site", name, g.Jump), hintFor(g.Jump, sortedKeys(s.Guests), "guests"))
			}
		}
		if g.Port == 0 {
			g.Port = 22
		}
		if g.User == "" {
			g.User = "root"
		}
		s.Guests[name] = g
	}
	placeSecretRefs(path, root, &s)
	for name, h := range s.Hosts {
		if h.Name == "" {
			h.Name = name
			s.Hosts[name] = h
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &s, nil
}
