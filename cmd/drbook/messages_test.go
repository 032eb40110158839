package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drbook/drbook/journal"
)

// printfVerb matches a format verb (%s, %d, %[2]s…) but not a literal %%.
var printfVerb = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[a-zA-Z%]`)

// verbs lists a format's verbs with %q taken as %s: a Chinese text quotes
// with 「」 where the English one uses %q, and both take the same string.
func verbs(format string) []string {
	var out []string
	for _, v := range printfVerb.FindAllString(format, -1) {
		if v == "%%" {
			continue
		}
		out = append(out, strings.Replace(v, "q", "s", 1))
	}
	return out
}

// TestOperatorCatalog: every text of the operator's catalog exists in both
// languages, and both take the same arguments in the same order, so a
// zh-TW screen never shows an empty line or "%!s(MISSING)".
func TestOperatorCatalog(t *testing.T) {
	for key, e := range operatorCatalog {
		if strings.TrimSpace(e[0]) == "" || strings.TrimSpace(e[1]) == "" {
			t.Errorf("%s: en %q, zh-TW %q: both languages need a text", key, e[0], e[1])
		}
		if en, zh := verbs(e[0]), verbs(e[1]); !slices.Equal(en, zh) {
			t.Errorf("%s: en takes %v, zh-TW takes %v", key, en, zh)
		}
		// Prompts keep their answer keys in both languages.
		for _, k := range regexp.MustCompile(`\[[a-z]\]`).FindAllString(e[0], -1) {
			if !strings.Contains(e[1], k) {
				t.Errorf("%s: zh-TW text %q lacks the answer key %s of the English one", key, e[1], k)
			}
		}
	}
}

// catalogUse finds catalog keys given as string literals to the catalog's
// readers (T, Tf, the plain observer's line, the operator's reason).
var catalogUse = regexp.MustCompile(`(?:\.Tf?\(|\.line\([^,]+, |\.reason\(ctx, )"([a-z_.]+)"`)

// TestOperatorCatalogKeysUsed: every key the code asks for is in the
// catalog (a missing one would show the key itself on the screen), and
// every key of the catalog is used or is a journaled value's wording.
func TestOperatorCatalogKeysUsed(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range catalogUse.FindAllSubmatch(b, -1) {
			key := string(m[1])
			used[key] = true
			if _, ok := operatorCatalog[key]; !ok {
				t.Errorf("%s asks for %q, which the catalog lacks", f, key)
			}
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d catalog keys in the code: the pattern no longer matches how it reads the catalog", len(used))
	}
	enumPrefixes := []string{"status.", "result.", "action.", "monitor.", "level.", "mode.", "block.", "input.", "check.", "fleet_state."}
	for key := range operatorCatalog {
		enum := slices.ContainsFunc(enumPrefixes, func(p string) bool { return strings.HasPrefix(key, p) })
		if !used[key] && !enum {
			t.Errorf("catalog key %q is never used", key)
		}
	}
}

// TestOperatorCatalogWordsJournalValues: every status and result the
// journal can hold has its zh-TW wording, and English shows the journaled
// value itself (scripts and the English tests read it).
func TestOperatorCatalogWordsJournalValues(t *testing.T) {
	en, zh := messagesFor("en"), messagesFor("zh-TW")
	values := map[string][]string{
		"status":  {journal.StatusOK, journal.StatusFailed, journal.StatusSkipped, journal.StatusInterrupted, journal.StatusCancelled, journal.StatusManual},
		"result":  {"passed", "failed", "aborted", "interrupted", "paused"},
		"action":  {"run", "skip", "done-by-hand", "abort", "retry", "fail", "pause", "go-on", "cancel-step", "interrupt", "accept-new", "rerun-interrupted", "skip-dependents", "run-dependents", "skip-finally"},
		"monitor": {"up", "down", "unknown"},
		"level":   {"info", "warn"},
		"mode":    {"lab", "drill", "recovery"},
	}
	for prefix, vs := range values {
		for _, v := range vs {
			if got := en.Enum(prefix, v); got != v {
				t.Errorf("en words %s %q as %q; English shows the journaled value", prefix, v, got)
			}
			if got := zh.Enum(prefix, v); got == v {
				t.Errorf("zh-TW has no wording for %s %q", prefix, v)
			}
		}
	}
	if got := zh.Enum("status", "something-new"); got != "something-new" {
		t.Errorf("an unknown value shows as %q, want itself", got)
	}
}

// TestSecretPromptWithoutTerminalSaysWhatToDo: a prompt: secret in a run
// whose input is not a terminal names the secret and the alternatives.
func TestSecretPromptWithoutTerminalSaysWhatToDo(t *testing.T) {
	_, err := terminalPrompter{g: &globalOptions{stdin: strings.NewReader("")}}.PromptSecret("vCenter password")
	if err == nil || !strings.Contains(err.Error(), "vCenter password") || !strings.Contains(err.Error(), "env:NAME or file:PATH") {
		t.Fatalf("err %v, want the secret's label and what to use instead", err)
	}
}
