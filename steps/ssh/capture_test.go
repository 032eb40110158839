package ssh_test

import (
	"strings"
	"testing"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh"
)

// TestExecCapKeepsNoHalfSecret: a secret a guest printed across
// output_cap left its first bytes in the result and the transcript.
func TestExecCapKeepsNoHalfSecret(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_CAP_SECRET", secret)
	l := newLab(t)
	if _, err := l.rt.Secret(site.SecretRef{Source: "env", Name: "DRBOOK_CAP_SECRET"}, "test"); err != nil {
		t.Fatal(err)
	}
	k := kind(t, "ssh.exec")
	// 994 bytes of x, then the secret across the 1000-byte cap.
	res := mustExecute(t, l.rt, k, `{host: ap01, command: "head -c 994 /dev/zero | tr '\\0' x; printf '`+secret+` tail'; printf '`+secret+`' >&2", output_cap: 1000}`).(*ssh.ExecResult)
	tr := l.rt.Evidences[len(l.rt.Evidences)-1].Transcript
	for what, s := range map[string]string{"result stdout": res.Stdout, "result stderr": res.Stderr, "transcript stdout": tr.Stdout, "transcript stderr": tr.Stderr} {
		if strings.Contains(s, secret[:3]) {
			t.Errorf("%s %q keeps part of the secret", what, s[max(0, len(s)-30):])
		}
	}
	if !res.Truncated || len(res.Stdout) > 1000 || res.Stderr != "[redacted]" {
		t.Errorf("stdout %d bytes, stderr %q, truncated %v", len(res.Stdout), res.Stderr, res.Truncated)
	}
}
