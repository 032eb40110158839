package site

import (
	"fmt"
	"reflect"
	"testing"
)

// TestSecretsListsEverySecretField sets every SecretRef field of a site,
// found from the types, and requires Secrets to list each: a secret field
// added to the site but missing there would be neither read at run start
// nor hidden from the journal until a step asked for it.
func TestSecretsListsEverySecretField(t *testing.T) {
	s := &Site{VCenter: &VCenter{}, Hosts: map[string]Host{"h": {}}, Guests: map[string]Guest{"g": {}}}
	n := 0
	set := func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).Type() == reflect.TypeOf(SecretRef{}) {
				n++
				v.Field(i).Set(reflect.ValueOf(SecretRef{Source: "env", Name: fmt.Sprint("S", n)}))
			}
		}
	}
	set(reflect.ValueOf(s).Elem())
	set(reflect.ValueOf(s.VCenter).Elem())
	h, g := s.Hosts["h"], s.Guests["g"]
	set(reflect.ValueOf(&h).Elem())
	set(reflect.ValueOf(&g).Elem())
	s.Hosts["h"], s.Guests["g"] = h, g
	for _, typ := range []reflect.Type{reflect.TypeOf(Site{}), reflect.TypeOf(VCenter{}), reflect.TypeOf(Host{}), reflect.TypeOf(Guest{}), reflect.TypeOf(Service{})} {
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(SecretRef{}) {
				t.Errorf("%s.%s is a struct this test does not look into", typ.Name(), f.Name)
			}
		}
	}
	got := s.Secrets()
	seen := map[string]bool{}
	for _, sec := range got {
		seen[sec.Ref.Name] = true
	}
	for i := 1; i <= n; i++ {
		if !seen[fmt.Sprint("S", i)] {
			t.Errorf("Secrets() = %+v misses a secret field (S%d of %d)", got, i, n)
		}
	}
	if n < 4 {
		t.Fatalf("found %d secret fields, want at least vcenter, bmc, guest password and passphrase", n)
	}
}
