package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanWithoutASiteSaysSoZhTW: `drbook plan` of a runbook given no
// site file says there is none in the reader's language, not "against
// site none" (the name the loader gives it).
func TestPlanWithoutASiteSaysSoZhTW(t *testing.T) {
	dir := t.TempDir()
	rb := filepath.Join(dir, "nosite.yaml")
	if err := os.WriteFile(rb, []byte("name: nosite\ntitle: {en: Hello, zh-TW: 問候}\nsteps:\n  - {id: hello, log: hello}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lang, cmd, want string
	}{
		{"en", "plan", "Plan for nosite (Hello), with no site file — nothing will be changed"},
		{"zh-TW", "plan", "nosite（問候）之執行計畫（未指定場域檔；不變更任何設定）"},
	} {
		var stdout, stderr bytes.Buffer
		code := runMain([]string{"--lang", c.lang, c.cmd, rb}, strings.NewReader(""), &stdout, &stderr)
		if code != 0 {
			t.Fatalf("%s %s: exit %d\n%s\n%s", c.lang, c.cmd, code, stdout.String(), stderr.String())
		}
		if out := stdout.String(); !strings.Contains(out, c.want) || strings.Contains(out, "none") {
			t.Errorf("%s %s: want %q and no \"none\":\n%s", c.lang, c.cmd, c.want, out)
		}
	}
}
