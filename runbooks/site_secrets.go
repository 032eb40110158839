package runbooks

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drbook/drbook/site"
)

// checkSecretShapes catches secrets written in a shape the reference
// check on scalars does not see: a mapping or list where a reference
// belongs (`password: {value: …}`, which used to decode as no password at
// all), and private-key material pasted where a key file's path belongs.
// None of these problems shows its source line.
func checkSecretShapes(path string, root *yaml.Node, errs *ErrorList) {
	walkPairs(root, "", func(key, val *yaml.Node, p string) {
		switch {
		case secretKeys[key.Value]:
			if val.Kind != yaml.ScalarNode {
				bad := problem(posOf(path, val),
					say(`%s: a secret must be a reference written as text: "env:NAME", "file:PATH" or "prompt", not a %s`, `%s：機敏資料須為以文字寫成之參照："env:NAME"、"file:PATH" 或 "prompt"，不可為%s`, p, nodeKindWords(val).spaced()),
					say("e.g. password: env:DRBOOK_VC_PASSWORD; the value is never written in the site file", "例如 password: env:DRBOOK_VC_PASSWORD；機敏資料之值絕不寫在場域檔中"))
				bad.Secret = true
				errs.Problems = append(errs.Problems, bad)
			}
		case key.Value == "key_file":
			if val.Kind == yaml.ScalarNode && looksLikeKeyMaterial(val.Value) {
				bad := problem(posOf(path, val),
					say("%s: this is private-key material, not the path of a key file (it is not shown here)", "%s：此為私密金鑰內容，而非金鑰檔之路徑（此處不顯示）", p),
					say("save the key in a file only you can read (chmod 600), set key_file to its path, and remove the key from the site file and its history",
						"請將金鑰存於僅本人可讀之檔案（chmod 600），將 key_file 設為其路徑，並自場域檔及其版本歷史中刪除該金鑰"))
				bad.Secret = true
				errs.Problems = append(errs.Problems, bad)
			}
		}
	})
}

// secretKeys are the site file's keys whose values are secret references
// (password, key_passphrase, bmc_password, …), read from the site's types
// so that a secret field added there is checked here too.
var secretKeys = func() map[string]bool {
	keys := map[string]bool{}
	ref := reflect.TypeOf(site.SecretRef{})
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			walk(t.Elem())
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if f.Type == ref {
					keys[strings.Split(f.Tag.Get("yaml"), ",")[0]] = true
				} else {
					walk(f.Type)
				}
			}
		}
	}
	walk(reflect.TypeOf(site.Site{}))
	return keys
}()

// looksLikeKeyMaterial reports whether a key_file value is a key itself.
func looksLikeKeyMaterial(v string) bool {
	return strings.Contains(v, "-----BEGIN") || strings.Contains(v, "PRIVATE KEY") || strings.ContainsAny(v, "\n\r")
}

func nodeKindWords(n *yaml.Node) words {
	switch n.Kind {
	case yaml.MappingNode:
		return say("mapping", "對應（mapping）")
	case yaml.SequenceNode:
		return say("list", "清單")
	case yaml.AliasNode:
		return say("YAML alias", "YAML 別名")
	}
	return say("value", "值")
}

// walkPairs calls fn for every key and value of every mapping under n,
// with the value's dotted path.
func walkPairs(n *yaml.Node, path string, fn func(key, val *yaml.Node, path string)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			fn(n.Content[i], n.Content[i+1], p)
			walkPairs(n.Content[i+1], p, fn)
		}
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			walkPairs(c, path, fn)
		}
	}
}

// placeSecretRefs records in each secret reference of s where the site
// file writes it, so that a secret that cannot be read at run start is
// reported at its file:line:col.
func placeSecretRefs(path string, root *yaml.Node, s *site.Site) {
	at := func(n *yaml.Node) string { return posOf(path, n).String() }
	if s.VCenter != nil {
		if n := valueAt(root, "vcenter", "password"); n != nil {
			s.VCenter.Password.At = at(n)
		}
	}
	for name, h := range s.Hosts {
		if n := valueAt(root, "hosts", name, "bmc_password"); n != nil {
			h.BMCPassword.At = at(n)
		}
		s.Hosts[name] = h
	}
	for name, g := range s.Guests {
		if n := valueAt(root, "guests", name, "password"); n != nil {
			g.Password.At = at(n)
		}
		if n := valueAt(root, "guests", name, "key_passphrase"); n != nil {
			g.KeyPassphrase.At = at(n)
		}
		s.Guests[name] = g
	}
}

// valueAt follows keys from a mapping node; nil when one is missing.
func valueAt(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}
