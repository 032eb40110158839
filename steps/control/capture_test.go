package control

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/steptest"
)

// TestExecLocalCapKeepsNoHalfSecret: a secret printed across max_output
// left its first bytes in the result and the transcript.
func TestExecLocalCapKeepsNoHalfSecret(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_CAP_SECRET", secret)
	rt := steptest.NewRuntime(t, nil)
	if _, err := rt.Secret(site.SecretRef{Source: "env", Name: "DRBOOK_CAP_SECRET"}, "test"); err != nil {
		t.Fatal(err)
	}
	k := kind("exec.local")
	const limit = 100
	p := steptest.Decode(t, k, `{shell: "head -c `+strconv.Itoa(limit-6)+` /dev/zero | tr '\\0' x; printf '%s tail' \"$DRBOOK_CAP_SECRET\"; printf '%s' \"$DRBOOK_CAP_SECRET\" >&2", max_output: `+strconv.Itoa(limit)+`}`)
	res, err := k.Execute(context.Background(), rt, p)
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*ExecLocalResult)
	tr := rt.Evidences[len(rt.Evidences)-1].Transcript
	for what, s := range map[string]string{"result stdout": r.Stdout, "result stderr": r.Stderr, "transcript stdout": tr.Stdout, "transcript stderr": tr.Stderr} {
		if strings.Contains(s, secret[:3]) {
			t.Errorf("%s %q keeps part of the secret", what, s)
		}
	}
	if r.Stderr != "[redacted]" || !tr.Truncated || len(r.Stdout) > limit {
		t.Errorf("stdout %d bytes, stderr %q, truncated %v", len(r.Stdout), r.Stderr, tr.Truncated)
	}
}
