package lab

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKeysKeptPerLabDirectory: a second lab in the same directory (a
// resumed run's) meets the same client key and host keys, read from files
// only its user can read; a lab elsewhere gets its own files.
func TestKeysKeptPerLabDirectory(t *testing.T) {
	dir := t.TempDir()
	first := startLab(t, Options{Dir: dir})
	client, host := first.PublicKey, first.Guests["ap02"].HostKey
	first.Close()
	for _, f := range []string{"id_rsa", filepath.Join("keys", "ssh_host_ap02_rsa_key"), filepath.Join("keys", "ssh_host_ap03_rsa_key")} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	second := startLab(t, Options{Dir: dir, KeepGuests: true, Block: first.Block})
	if second.PublicKey != client || second.Guests["ap02"].HostKey != host {
		t.Fatal("the lab in the same directory made new keys")
	}
	if c, err := dial(t, second, second.Guests["ap02"]); err != nil {
		t.Fatalf("ssh with the kept keys: %v", err)
	} else {
		c.Close()
	}
	if other := startLab(t, Options{}); other.KeyFile == second.KeyFile {
		t.Fatal("two lab directories share a key file")
	}
}

// BenchmarkLabStart compares a lab's start-up with keys generated afresh
// (as before keys.go) against keys reused, interleaved in the same run:
//
//	go test ./lab -run '^$' -bench LabStart -benchtime 10x
func BenchmarkLabStart(b *testing.B) {
	start := func(fresh bool) time.Duration {
		keyReuse.Lock()
		keyReuse.off = fresh
		keyReuse.Unlock()
		defer func() {
			keyReuse.Lock()
			keyReuse.off = false
			keyReuse.Unlock()
		}()
		began := time.Now()
		l, err := Start(context.Background(), Options{})
		took := time.Since(began)
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
		return took
	}
	start(false) // the process's keys exist from here on
	var fresh, reused time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			fresh += start(true)
			reused += start(false)
		} else {
			reused += start(false)
			fresh += start(true)
		}
	}
	b.ReportMetric(float64(fresh.Microseconds())/1000/float64(b.N), "ms/start-fresh-keys")
	b.ReportMetric(float64(reused.Microseconds())/1000/float64(b.N), "ms/start-reused-keys")
	b.ReportMetric(float64(reused)/float64(fresh), "ratio-reused/fresh")
}
