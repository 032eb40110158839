package journal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SignatureFileName is the signature's name inside a run directory.
const SignatureFileName = "journal.sig"

// signatureHeader opens a signature file; it names the format so a later
// version can change what is signed without old files being misread.
const signatureHeader = "drbook-journal-signature: v1"

// Signature is a parsed journal.sig. The hash chain alone cannot show that
// lines were cut off the end of a journal (or that the last line was
// rewritten), because no later line vouches for them; the signature covers
// the final hash and the line count, so it can.
type Signature struct {
	// Lines is how many journal lines the signature covers.
	Lines int
	// Head is the hex SHA-256 of the last covered line (the final hash).
	Head string
	// PublicKey is the key that made the signature, carried in the file so
	// that a report can name it; whether it is the right key is for the
	// verifier to say (VerifyRun with a trusted key).
	PublicKey ed25519.PublicKey
	// Fingerprint is the key's OpenSSH SHA256 fingerprint.
	Fingerprint string
	// Sig is the ed25519 signature over every line of the file before the
	// "signature:" line, so nothing shown in the file is unsigned.
	Sig []byte
	// signed is the exact byte string that was signed.
	signed []byte
}

// SignatureError says why a signature does not vouch for a journal. Line is
// the first journal line concerned, when one can be named (0 otherwise).
type SignatureError struct {
	Line   int
	Reason string
}

func (e *SignatureError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("journal line %d: %s", e.Line, e.Reason)
	}
	return "journal signature: " + e.Reason
}

// Sign verifies the run's journal chain and writes journal.sig, an ed25519
// signature over its final hash and line count. Re-signing after a resume
// replaces the file. A torn last line is not covered (it is not part of the
// journal) and is left as it is.
func Sign(runDir string, key ed25519.PrivateKey) (*Signature, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("journal: sign: the key is not an ed25519 private key")
	}
	path := filepath.Join(runDir, FileName)
	head, lines, err := verifyFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not signing a journal that does not verify: %w", path, err)
	}
	pub := key.Public().(ed25519.PublicKey)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("journal: sign: %w", err)
	}
	var body bytes.Buffer
	fmt.Fprintf(&body, "%s\nlines: %d\nhead: %s\nkey: %s\nkey-fingerprint: %s\n",
		signatureHeader, lines, head,
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))), ssh.FingerprintSHA256(sshPub))
	signed := append([]byte(nil), body.Bytes()...)
	sig := ed25519.Sign(key, signed)
	fmt.Fprintf(&body, "signature: %s\n", base64.StdEncoding.EncodeToString(sig))

	sigPath := filepath.Join(runDir, SignatureFileName)
	tmp := sigPath + ".tmp"
	if err := os.WriteFile(tmp, body.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("journal: write signature: %w", err)
	}
	if err := os.Rename(tmp, sigPath); err != nil {
		return nil, fmt.Errorf("journal: write signature: %w", err)
	}
	return &Signature{Lines: lines, Head: head, PublicKey: pub, Fingerprint: ssh.FingerprintSHA256(sshPub), Sig: sig, signed: signed}, nil
}

// ReadSignature reads and parses runDir/journal.sig and checks that the
// signature matches the key carried in it. It returns an error wrapping
// os.ErrNotExist when the run is not signed.
func ReadSignature(runDir string) (*Signature, error) {
	path := filepath.Join(runDir, SignatureFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseSignature(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !ed25519.Verify(s.PublicKey, s.signed, s.Sig) {
		return s, &SignatureError{Reason: path + " does not verify: the signature file was altered"}
	}
	return s, nil
}

func parseSignature(data []byte) (*Signature, error) {
	s := &Signature{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	var signed bytes.Buffer
	for sc.Scan() {
		line := sc.Text()
		if first {
			if line != signatureHeader {
				return nil, fmt.Errorf("not a drbook journal signature (first line %q)", line)
			}
			first = false
			signed.WriteString(line + "\n")
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		if k != "signature" {
			signed.WriteString(line + "\n")
		}
		switch k {
		case "lines":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad line count %q", v)
			}
			s.Lines = n
		case "head":
			s.Head = v
		case "key":
			pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(v))
			if err != nil {
				return nil, fmt.Errorf("bad key: %w", err)
			}
			ck, ok := pk.(ssh.CryptoPublicKey)
			if !ok {
				return nil, errors.New("bad key: not a plain public key")
			}
			ed, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
			if !ok {
				return nil, fmt.Errorf("bad key: %s is not ed25519", pk.Type())
			}
			s.PublicKey = ed
			s.Fingerprint = ssh.FingerprintSHA256(pk)
		case "key-fingerprint":
			// Recomputed from the key; kept in the file for people reading it.
		case "signature":
			sig, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("bad signature encoding: %w", err)
			}
			s.Sig = sig
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if s.Lines == 0 || s.Head == "" || s.PublicKey == nil || s.Sig == nil {
		return nil, errors.New("incomplete signature file (needs lines, head, key and signature)")
	}
	s.signed = signed.Bytes()
	return s, nil
}

// RunVerification is what VerifyRun established about a run directory.
type RunVerification struct {
	// Head is the journal's final hash and Lines its number of whole lines.
	Head  string
	Lines int
	// TornBytes is an unterminated last line that was ignored (a crash
	// while writing), which is not tampering.
	TornBytes int64
	// Signature is set when journal.sig exists and covers the journal.
	Signature *Signature
	// KeyTrusted is true when the signature was checked against a key the
	// caller supplied, not only against the key carried in the file.
	KeyTrusted bool
}

// VerifyRun checks a run directory's journal: the hash chain (a
// *ChainError names the first line that does not follow from the one before
// it) and, when journal.sig exists, the signature (a *SignatureError says
// whether lines were deleted from or added to the end, or the last line was
// changed). With pub set, the journal must be signed by that key; with pub
// nil, an unsigned journal passes on its chain alone and a signature is
// checked against the key it carries.
func VerifyRun(runDir string, pub ed25519.PublicKey) (*RunVerification, error) {
	path := filepath.Join(runDir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	head, torn, err := Verify(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	good, _ := splitTorn(data)
	lines := bytes.Split(bytes.TrimSuffix(good, []byte{'\n'}), []byte{'\n'})
	res := &RunVerification{Head: head, Lines: len(lines), TornBytes: torn}

	sig, err := ReadSignature(runDir)
	if errors.Is(err, os.ErrNotExist) {
		if pub != nil {
			return res, &SignatureError{Reason: "the run is not signed (no " + SignatureFileName + "); sign it with `drbook sign` or verify without a key"}
		}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	if pub != nil {
		if !pub.Equal(sig.PublicKey) {
			want := "?"
			if k, err := ssh.NewPublicKey(pub); err == nil {
				want = ssh.FingerprintSHA256(k)
			}
			return res, &SignatureError{Reason: fmt.Sprintf("signed by key %s, not by the key given (%s)", sig.Fingerprint, want)}
		}
		res.KeyTrusted = true
	}
	switch {
	case len(lines) < sig.Lines:
		return res, &SignatureError{Line: len(lines) + 1, Reason: fmt.Sprintf(
			"the journal has %d lines but %d were signed: lines %d to %d were deleted from the end",
			len(lines), sig.Lines, len(lines)+1, sig.Lines)}
	case hashLine(lines[sig.Lines-1]) != sig.Head:
		if len(lines) == sig.Lines {
			return res, &SignatureError{Line: sig.Lines, Reason: "the last line was changed after signing (its hash is not the signed final hash)"}
		}
		return res, &SignatureError{Line: sig.Lines, Reason: fmt.Sprintf(
			"line %d does not carry the signed final hash: the journal was rewritten from line %d or earlier", sig.Lines, sig.Lines)}
	case len(lines) > sig.Lines:
		return res, &SignatureError{Line: sig.Lines + 1, Reason: fmt.Sprintf(
			"lines %d to %d were added after signing; re-sign the run if they are legitimate (a resumed run)", sig.Lines+1, len(lines))}
	}
	res.Signature = sig
	return res, nil
}

// verifyFile checks a journal file's chain and returns its final hash and
// number of whole lines.
func verifyFile(path string) (string, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	head, _, err := Verify(bytes.NewReader(data))
	if err != nil {
		return "", 0, err
	}
	good, _ := splitTorn(data)
	return head, bytes.Count(good, []byte{'\n'}), nil
}

// LoadSigningKey reads an ed25519 private key from an OpenSSH private key
// file or a PKCS#8 PEM file. passphrase is used only if the key is
// encrypted; it is never included in an error.
func LoadSigningKey(path string, passphrase []byte) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: not a PEM file; give an OpenSSH (ssh-keygen -t ed25519) or PKCS#8 ed25519 private key", path)
	}
	var raw any
	switch block.Type {
	case "PRIVATE KEY":
		raw, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		if len(passphrase) > 0 {
			raw, err = ssh.ParseRawPrivateKeyWithPassphrase(data, passphrase)
		} else {
			raw, err = ssh.ParseRawPrivateKey(data)
		}
	}
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("signing key %s is encrypted: a passphrase is needed", path)
	}
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, fmt.Errorf("signing key %s: wrong passphrase", path)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *ed25519.PrivateKey:
		return *k, nil
	}
	return nil, fmt.Errorf("signing key %s is a %T, not ed25519; create one with `ssh-keygen -t ed25519`", path, raw)
}

// LoadPublicKey reads an ed25519 public key for VerifyRun from an
// authorized_keys style line ("ssh-ed25519 AAAA…", as in a .pub file) or a
// PKIX PEM "PUBLIC KEY" file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("public key %s: a PEM %q block is not a public key; give the .pub file", path, block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", path, err)
		}
		ed, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key %s is a %T, not ed25519", path, k)
		}
		return ed, nil
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w; give an ssh-ed25519 .pub file or a PEM public key", path, err)
	}
	ck, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s: unsupported key", path)
	}
	ed, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s is %s, not ssh-ed25519", path, pk.Type())
	}
	return ed, nil
}
