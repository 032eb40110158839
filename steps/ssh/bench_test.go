package ssh_test

// Benchmarks against OpenSSH on the same sshd processes, gated like the
// e2e tests (they skip without root and the Debian packages):
//
//	go test -run '^$' -bench . -benchtime 1x ./steps/ssh/
//
// Each reports drbook's and OpenSSH's wall time and their ratio; the
// fan-out one also reports drbook's peak heap.

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/steptest"
)

func knownHostsFor(b *testing.B, guests ...*sshdrig.Guest) string {
	var lines []string
	for _, g := range guests {
		lines = append(lines, g.KnownHostsLine())
	}
	f := b.TempDir() + "/known_hosts"
	os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	return f
}

// BenchmarkTransfer256MiB copies 256 MiB guest to guest with ssh.transfer
// and with `ssh A cat FILE | ssh B 'cat > FILE'` on the same sshd pair.
func BenchmarkTransfer256MiB(b *testing.B) {
	rig := sshdrig.New(b)
	a := rig.Start("a", sshdrig.Options{Host: 10})
	z := rig.Start("b", sshdrig.Options{Host: 11})
	f, err := os.Create(a.Path("/root/big.tgz"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, 256<<20); err != nil {
		b.Fatal(err)
	}
	f.Close()
	kh := knownHostsFor(b, a, z)
	k := kind(b, "ssh.transfer")
	params := steptest.Decode(b, k, "{from: a, to: b, src: /root/big.tgz, dest: /root/drbook.tgz}")
	var drbook, streamed, openssh time.Duration
	for i := 0; i < b.N; i++ {
		rt := steptest.NewRuntime(b, &site.Site{Guests: map[string]site.Guest{"a": a.Site(), "b": z.Site()}})
		start := time.Now()
		res, err := k.Execute(context.Background(), rt, params)
		if err != nil {
			b.Fatal(err)
		}
		drbook += time.Since(start)
		streamed += time.Duration(res.(*ssh.TransferResult).Seconds * float64(time.Second))
		rt.Close()

		start = time.Now()
		pipeline := fmt.Sprintf("ssh %s cat /root/big.tgz | ssh %s 'cat > /root/openssh.tgz'", strings.Join(a.OpenSSHArgs(kh), " "), strings.Join(z.OpenSSHArgs(kh), " "))
		if out, err := exec.Command("/bin/sh", "-c", pipeline).CombinedOutput(); err != nil {
			b.Fatalf("openssh: %v %s", err, out)
		}
		openssh += time.Since(start)
	}
	if fi, err := os.Stat(z.Path("/root/openssh.tgz")); err != nil || fi.Size() != 256<<20 {
		b.Fatalf("openssh copy incomplete: %v", err)
	}
	b.ReportMetric(drbook.Seconds()/float64(b.N), "drbook-s/op")
	b.ReportMetric(openssh.Seconds()/float64(b.N), "openssh-s/op")
	b.ReportMetric(drbook.Seconds()/openssh.Seconds(), "drbook/openssh")
	// The copy alone, without the two sha256sum runs that verify it.
	b.ReportMetric(streamed.Seconds()/float64(b.N), "drbook-stream-s/op")
	b.ReportMetric(streamed.Seconds()/openssh.Seconds(), "stream/openssh")
}

// BenchmarkFanOut50 runs one command on 50 sshd endpoints, ten at a time,
// with ssh.exec and with parallel OpenSSH clients.
func BenchmarkFanOut50(b *testing.B) {
	const endpoints, limit = 50, 10
	rig := sshdrig.New(b)
	tree := rig.NewTree("shared")
	var gs []*sshdrig.Guest
	guests := map[string]site.Guest{}
	for i := 0; i < endpoints; i++ {
		g := rig.Start(fmt.Sprintf("g%02d", i), sshdrig.Options{Host: 20 + i, Root: tree})
		gs = append(gs, g)
		guests[g.Name] = g.Site()
	}
	kh := knownHostsFor(b, gs...)
	k := kind(b, "ssh.exec")
	var drbook, openssh time.Duration
	var peakHeap uint64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		var peak atomic.Uint64
		go func() {
			var m runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}()
		rt := steptest.NewRuntime(b, &site.Site{Guests: guests})
		start := time.Now()
		fanOut(b, gs, limit, func(g *sshdrig.Guest) error {
			res, err := k.Execute(context.Background(), rt, steptest.Decode(b, k, "{host: "+g.Name+", command: 'echo ok'}"))
			if err == nil && !strings.HasPrefix(fmt.Sprint(res), "&{0 ok") {
				err = fmt.Errorf("unexpected %+v", res)
			}
			return err
		})
		drbook += time.Since(start)
		close(stop)
		if p := peak.Load(); p > base.HeapInuse && p-base.HeapInuse > peakHeap {
			peakHeap = p - base.HeapInuse
		}
		rt.Close()

		start = time.Now()
		fanOut(b, gs, limit, func(g *sshdrig.Guest) error {
			out, err := exec.Command("ssh", append(g.OpenSSHArgs(kh), "echo ok")...).CombinedOutput()
			if err != nil || string(out) != "ok\n" {
				return fmt.Errorf("openssh %s: %v %s", g.Name, err, out)
			}
			return nil
		})
		openssh += time.Since(start)
	}
	b.ReportMetric(drbook.Seconds()/float64(b.N), "drbook-s/op")
	b.ReportMetric(openssh.Seconds()/float64(b.N), "openssh-s/op")
	b.ReportMetric(drbook.Seconds()/openssh.Seconds(), "drbook/openssh")
	b.ReportMetric(float64(peakHeap)/(1<<20), "drbook-peak-heap-MiB")
}

func fanOut(b *testing.B, gs []*sshdrig.Guest, limit int, do func(*sshdrig.Guest) error) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	errs := make(chan error, len(gs))
	for _, g := range gs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := do(g); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
