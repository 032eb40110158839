package lab

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Generating a 2048-bit RSA key takes tens of milliseconds, more on a busy
// machine, and a lab needs three (the client key and two RHEL 5 guests'
// host keys): they were most of a lab's start-up. So each key is made once
// per lab directory, kept there (a resumed run's lab meets the same keys),
// and once per process, so labs in fresh temporary directories, as tests
// start them by the dozen, reuse the process's keys. Nothing about the
// lab's behaviour depends on a key being new.

// keyReuse is the process-wide store; the benchmark turns it off to
// measure the cost it saves.
var keyReuse = struct {
	sync.Mutex
	off  bool
	keys map[string]crypto.Signer
}{keys: map[string]crypto.Signer{}}

// labKey returns the private key called name in dir, creating it (RSA
// 2048 when rsaKey, else ed25519) when dir has none, as a PEM file of mode
// 0600.
func labKey(dir, name string, rsaKey bool) (crypto.Signer, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, perr := parseKey(b)
		if perr != nil {
			return nil, fmt.Errorf("lab: %s is not a private key this lab wrote (%v); delete it to have a new one made", path, perr)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("lab: reading the key %s: %w", path, err)
	}
	k, err := processKey(name, rsaKey)
	if err != nil {
		return nil, fmt.Errorf("lab: generating the key %s: %w", name, err)
	}
	// RSA keys as PKCS #1, the form OpenSSH of RHEL 5's time reads.
	block := &pem.Block{Type: "PRIVATE KEY"}
	if rk, ok := k.(*rsa.PrivateKey); ok {
		block.Type, block.Bytes = "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)
	} else if block.Bytes, err = x509.MarshalPKCS8PrivateKey(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: creating %s: %w", dir, err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, fmt.Errorf("lab: writing the key %s: %w", path, err)
	}
	return k, nil
}

func processKey(name string, rsaKey bool) (crypto.Signer, error) {
	keyReuse.Lock()
	defer keyReuse.Unlock()
	id := fmt.Sprintf("%s/%t", name, rsaKey)
	if k, ok := keyReuse.keys[id]; ok && !keyReuse.off {
		return k, nil
	}
	var k crypto.Signer
	var err error
	if rsaKey {
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	if !keyReuse.off {
		keyReuse.keys[id] = k
	}
	return k, nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T is not a signing key", k)
	}
	return s, nil
}

// hostKeySigner is labKey as an SSH host key.
func hostKeySigner(dir, guest string, legacy bool) (ssh.Signer, error) {
	k, err := labKey(filepath.Join(dir, "keys"), "ssh_host_"+guest+map[bool]string{true: "_rsa_key", false: "_ed25519_key"}[legacy], legacy)
	if err != nil {
		return nil, err
	}
	return ssh.NewSignerFromSigner(k)
}
