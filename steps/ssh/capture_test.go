package ssh_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshtest"
	"github.com/drbook/drbook/steps/ssh/transport"
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

// TestCommandErrorKeepsNoHalfSecret: a failed service action's error
// quotes 600 bytes of what the guest printed; a secret across that cut
// left its first bytes in the error, which the journal then recorded.
func TestCommandErrorKeepsNoHalfSecret(t *testing.T) {
	const secret = "Vq7-xR2#pL9!wZ4$"
	t.Setenv("DRBOOK_CAP_SECRET", secret)
	l := newLab(t)
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "service"), []byte("#!/bin/sh\nhead -c 594 /dev/zero | tr '\\0' x >&2\nprintf '%s tail' \"$DRBOOK_CAP_SECRET\" >&2\nexit 1\n"), 0o755)
	srv := sshtest.Start(t, sshtest.Options{PathPrefix: bin, Password: "service-pw"})
	t.Setenv("DRBOOK_SVC_PW", "service-pw")
	l.rt.SiteVal.Guests["svc"] = site.Guest{Address: srv.Host, Port: srv.Port, Password: site.SecretRef{Source: "env", Name: "DRBOOK_SVC_PW"}, HostKeys: []string{transport.SiteLine(srv.HostKey.PublicKey())}}
	if _, err := l.rt.Secret(site.SecretRef{Source: "env", Name: "DRBOOK_CAP_SECRET"}, "test"); err != nil {
		t.Fatal(err)
	}
	_, err := execute(t, l.rt, kind(t, "ssh.service"), "{host: svc, name: httpd, action: restart, manager: service}")
	if err == nil || !strings.Contains(err.Error(), "xxxx") {
		t.Fatalf("err %v, want the failed restart with its error output", err)
	}
	if strings.Contains(err.Error(), secret[:3]) {
		t.Fatalf("the error keeps part of the secret: …%s", err.Error()[max(0, len(err.Error())-40):])
	}
}
