package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAuditCatalog: every text of verify, runs and history exists in both
// languages with the same format verbs, and every key the code asks for
// is in the catalog.
func TestAuditCatalog(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-z]`)
	for key, e := range auditCatalog {
		if e[0] == "" || e[1] == "" {
			t.Errorf("%s lacks a language: %q", key, e)
		}
		if a, b := verbs.FindAllString(e[0], -1), verbs.FindAllString(e[1], -1); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%s: format verbs differ: %v vs %v", key, a, b)
		}
	}
	src, err := os.ReadFile("cmd_audit.go")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`\.Say\("([a-z_.-]+)"[,)]`).FindAllSubmatch(src, -1)
	if len(uses) < 20 {
		t.Fatalf("found only %d uses of the catalog", len(uses))
	}
	for _, u := range uses {
		if _, ok := auditCatalog[string(u[1])]; !ok {
			t.Errorf("cmd_audit.go asks for %q, which the catalog lacks", u[1])
		}
	}
}
