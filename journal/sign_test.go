package journal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// signedRun writes a five-line journal in a fresh run directory and signs it.
func signedRun(t *testing.T, key ed25519.PrivateKey) string {
	t.Helper()
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	w.NoSync = true
	_, _ = w.Append(Event{Type: TypeRunStart, RunStart: &RunStart{Schema: SchemaVersion, RunID: "r1", Runbook: "rb"}})
	for _, id := range []string{"a", "b", "c"} {
		_, _ = w.Append(Event{Type: TypeNote, Step: id, Note: &Note{Level: "info", Text: "step " + id}})
	}
	if _, err := w.Append(Event{Type: TypeRunEnd, RunEnd: &RunEnd{Result: "passed"}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if key != nil {
		if _, err := Sign(dir, key); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func journalLines(t *testing.T, dir string) [][]byte {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
}

func writeLines(t *testing.T, dir string, lines [][]byte) {
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		if !bytes.HasSuffix(l, []byte{'\n'}) {
			b = append(b, '\n')
		}
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRunDetectsTampering(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name     string
		tamper   func([][]byte) [][]byte
		wantLine int
		chain    bool // caught by the hash chain, not only by the signature
		reason   string
	}{
		{"edited middle line", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("step b"), []byte("step B"), 1)
			return l
		}, 3, true, "line 3 was edited"},
		{"edited last line", func(l [][]byte) [][]byte {
			l[4] = bytes.Replace(l[4], []byte("passed"), []byte("failed"), 1)
			return l
		}, 5, false, "last line was changed"},
		{"deleted middle line", func(l [][]byte) [][]byte {
			return append(l[:2:2], l[3:]...)
		}, 3, true, "1 line(s) deleted before line 3"},
		{"deleted last line", func(l [][]byte) [][]byte { return l[:4] }, 5, false, "deleted from the end"},
		{"reordered lines", func(l [][]byte) [][]byte {
			l[1], l[2] = l[2], l[1]
			return l
		}, 2, true, "line 2 does not follow line 1 (sequence number 3 after 1"},
		{"appended line", func(l [][]byte) [][]byte {
			prev := hashLine(bytes.TrimSuffix(l[4], []byte{'\n'}))
			return append(l, []byte(`{"seq":6,"type":"note","prev":"`+prev+`"}`))
		}, 6, false, "added after signing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := signedRun(t, key)
			if _, err := VerifyRun(dir, pub); err != nil {
				t.Fatalf("untouched journal: %v", err)
			}
			writeLines(t, dir, tc.tamper(journalLines(t, dir)))
			_, err := VerifyRun(dir, pub)
			if err == nil {
				t.Fatal("tampering not detected")
			}
			var ce *ChainError
			var se *SignatureError
			switch {
			case errors.As(err, &ce):
				if !tc.chain || ce.Line != tc.wantLine {
					t.Fatalf("chain error at line %d (%v); want line %d, chain=%v", ce.Line, err, tc.wantLine, tc.chain)
				}
			case errors.As(err, &se):
				if tc.chain || se.Line != tc.wantLine {
					t.Fatalf("signature error at line %d (%v); want line %d, chain=%v", se.Line, err, tc.wantLine, tc.chain)
				}
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q does not say %q", err, tc.reason)
			}
		})
	}
}

// The chain alone cannot see a line cut off the end: this is why the
// signature (and the final hash printed in the report) exists.
func TestChainAloneMissesDeletedLastLine(t *testing.T) {
	dir := signedRun(t, nil)
	l := journalLines(t, dir)
	writeLines(t, dir, l[:len(l)-1])
	res, err := VerifyRun(dir, nil)
	if err != nil {
		t.Fatalf("unsigned truncated journal: %v", err)
	}
	if res.Lines != 4 || res.Signature != nil {
		t.Fatalf("got %+v", res)
	}
}

func TestVerifyRunKeys(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	dir := signedRun(t, key)

	res, err := VerifyRun(dir, nil)
	if err != nil || res.Signature == nil || res.KeyTrusted {
		t.Fatalf("embedded-key verification: %+v, %v", res, err)
	}
	if _, err := VerifyRun(dir, other); err == nil || !strings.Contains(err.Error(), "not by the key given") {
		t.Fatalf("wrong key accepted: %v", err)
	}
	// An attacker who rewrites the journal and the head in journal.sig
	// cannot re-sign it without the key.
	sigPath := filepath.Join(dir, SignatureFileName)
	data, _ := os.ReadFile(sigPath)
	os.WriteFile(sigPath, bytes.Replace(data, []byte("lines: 5"), []byte("lines: 4"), 1), 0o644)
	if _, err := VerifyRun(dir, nil); err == nil || !strings.Contains(err.Error(), "altered") {
		t.Fatalf("altered signature file accepted: %v", err)
	}
	unsigned := signedRun(t, nil)
	if _, err := VerifyRun(unsigned, other); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned run accepted with a required key: %v", err)
	}
}

func TestLoadKeys(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	blk, err := ssh.MarshalPrivateKey(key, "drill key")
	if err != nil {
		t.Fatal(err)
	}
	openssh := write("id_ed25519", pem.EncodeToMemory(blk))
	encBlk, err := ssh.MarshalPrivateKeyWithPassphrase(key, "", []byte("hunter22"))
	if err != nil {
		t.Fatal(err)
	}
	encrypted := write("id_enc", pem.EncodeToMemory(encBlk))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs8 := write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	sshPub, _ := ssh.NewPublicKey(pub)
	pubFile := write("id_ed25519.pub", ssh.MarshalAuthorizedKey(sshPub))
	pkix, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}))

	for _, p := range []string{openssh, pkcs8} {
		k, err := LoadSigningKey(p, nil)
		if err != nil || !k.Equal(key) {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if _, err := LoadSigningKey(encrypted, nil); err == nil || !strings.Contains(err.Error(), "passphrase is needed") {
		t.Fatalf("encrypted key without passphrase: %v", err)
	}
	if _, err := LoadSigningKey(encrypted, []byte("wrong")); err == nil || strings.Contains(err.Error(), "wrong\"") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if k, err := LoadSigningKey(encrypted, []byte("hunter22")); err != nil || !k.Equal(key) {
		t.Fatalf("encrypted key: %v", err)
	}
	for _, p := range []string{pubFile, pubPEM} {
		k, err := LoadPublicKey(p)
		if err != nil || !k.Equal(pub) {
			t.Fatalf("%s: %v", p, err)
		}
	}
}
