package runbooks

import (
	"crypto/sha256"
	"encoding/hex"

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
	doc, bad := decodeOne(path, say("site", "場域"), src, newSourceText(src))
	if bad != nil {
		errs.Problems = append(errs.Problems, *bad)
		return nil, errs.err()
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		errs.add(Pos{File: path, Line: 1, Column: 1}, say("a site file must be a mapping with name:, vcenter:, hosts:, guests: …", "場域檔須為含 name:、vcenter:、hosts:、guests: 等欄位之對應（mapping）"), noHint)
		return nil, errs.err()
	}
	root := doc.Content[0]
	for _, e := range steps.Strict(root, reflect.TypeOf(site.Site{}), "") {
		errs.add(Pos{File: path, Line: e.Line, Column: e.Column}, say("site: %s", "場域：%s", decodeWords(e)), noHint)
	}
	// Secrets must be references: catch a literal password early, with
	// its position, and never echo it back.
	walkScalars(root, "", func(n *yaml.Node, p string) {
		last := p[strings.LastIndexByte(p, '.')+1:]
		if secretKeys[last] {
			if _, err := site.ParseSecretRef(n.Value); err != nil {
				bad := problem(posOf(path, n), say("%s: %s", "%s：%s", p, err), say("e.g. password: env:DRBOOK_VC_PASSWORD", "例如 password: env:DRBOOK_VC_PASSWORD"))
				bad.Secret = true
				errs.Problems = append(errs.Problems, bad)
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
			errs.add(Pos{File: path, Line: e.Line, Column: e.Column}, say("site: %s", "場域：%s", decodeWords(e)), noHint)
		}
		return nil, errs.err()
	}
	if s.Name == "" {
		errs.add(posOf(path, root), say("the site needs a name", "場域須有名稱"), say("e.g. name: sanchong", "例如 name: sanchong"))
	}
	checkSiteValues(path, root, &s, &errs)
	if s.VCenter != nil {
		vn := steps.FindField(root, "vcenter")
		if !strings.HasPrefix(s.VCenter.URL, "https://") {
			errs.add(posOf(path, steps.FindField(vn, "url")), say("vcenter url %q must start with https://", "vcenter url %q 須以 https:// 開頭", s.VCenter.URL), say("drbook only talks to vCenter over verified TLS", "drbook 僅透過經驗證之 TLS 連線 vCenter"))
		}
		if s.VCenter.User == "" {
			errs.add(posOf(path, vn), say("vcenter needs a user", "vcenter 須有 user（帳號）"), noHint)
		}
	}
	for name, g := range s.Guests {
		gn := steps.FindField(root, "guests."+name)
		if g.Address == "" {
			errs.add(posOf(path, gn), say("guest %s needs an address", "客體 %s 須有 address（位址）", name), noHint)
		}
		if g.Become != "" && g.Become != "sudo" {
			errs.add(posOf(path, steps.FindField(gn, "become")), say("guest %s: become must be sudo or empty", "客體 %s：become 須為 sudo 或空白", name), noHint)
		}
		if g.Jump != "" {
			if _, ok := s.Guests[g.Jump]; !ok {
				errs.add(posOf(path, steps.FindField(gn, "jump")), say("guest %s: jump host %q is not a guest of this site", "客體 %s：跳板主機（jump）%q 不是本場域之客體", name, g.Jump), hintFor(g.Jump, sortedKeys(s.Guests), say("guests", "客體")))
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
