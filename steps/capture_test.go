package steps_test

import (
	"strings"
	"testing"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/steptest"
)

// capSecret is a secret the tests make the run know.
const capSecret = "Vq7-xR2#pL9!wZ4$"

func runtimeWithSecret(t *testing.T) *steptest.Runtime {
	t.Helper()
	t.Setenv("DRBOOK_CAP_SECRET", capSecret)
	rt := steptest.NewRuntime(t, nil)
	if _, err := rt.Secret(site.SecretRef{Source: "env", Name: "DRBOOK_CAP_SECRET"}, "test"); err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestCapTextNeverLeavesHalfASecret puts the secret across the cut at
// every offset: cut first and redacted after, the kept text ended with
// the secret's first bytes, which no redaction recognises.
func TestCapTextNeverLeavesHalfASecret(t *testing.T) {
	rt := runtimeWithSecret(t)
	const limit = 40
	for before := limit - len(capSecret); before <= limit; before++ {
		out := strings.Repeat("x", before) + capSecret + " and more output"
		got, cut := steps.CapText(rt, out, limit)
		if !cut || len(got) > limit {
			t.Errorf("secret at %d: kept %d bytes (cut %v), want at most %d and cut", before, len(got), cut, limit)
		}
		for n := 3; n <= len(capSecret); n++ {
			if strings.Contains(got, capSecret[:n]) {
				t.Errorf("secret at %d: the kept text %q holds the secret's first %d bytes", before, got, n)
				break
			}
		}
		if strings.Contains(got, "[") && !strings.Contains(got, "[redacted]") {
			t.Errorf("secret at %d: the kept text %q holds a broken marker", before, got)
		}
	}
	// Short text is kept whole, redacted.
	if got, cut := steps.CapText(rt, "pw="+capSecret, 100); cut || got != "pw=[redacted]" {
		t.Errorf("short text: %q, %v", got, cut)
	}
	// A cut never splits a UTF-8 character.
	if got, _ := steps.CapText(rt, "秘密秘密", 4); got != "秘" {
		t.Errorf("cut inside a character: %q", got)
	}
}
