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
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps/ssh"
	"github.com/drbook/drbook/steps/ssh/internal/sshdrig"
	"github.com/drbook/drbook/steps/ssh/transport"
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

// Like for like with OpenSSH: the peer is forced to drbook's algorithms
// (x/crypto's client against OpenSSH 9.2 negotiates curve25519-sha256 and
// aes128-gcm@openssh.com, whose MAC is the cipher's own), so the comparison
// measures the clients, not the key exchange or the cipher.
const (
	peerKex    = "curve25519-sha256"
	peerCipher = "aes128-gcm@openssh.com"
)

// sshArgs are ssh(1)'s arguments reaching g with extra options, forced to
// drbook's algorithms unless defaults is set.
func sshArgs(g *sshdrig.Guest, kh string, defaults bool, cmd ...string) []string {
	args := g.OpenSSHArgs(kh)
	dest := args[len(args)-1]
	args = args[: len(args)-1 : len(args)-1]
	if !defaults {
		args = append(args, "-o", "KexAlgorithms="+peerKex, "-c", peerCipher)
	}
	return append(append(args, dest), cmd...)
}

// reportRatios reports min, median and max over the iterations of
// num/den, each iteration's pair measured side by side.
func reportRatios(b *testing.B, name string, num, den []time.Duration) {
	r := make([]float64, len(num))
	for i := range num {
		r[i] = num[i].Seconds() / den[i].Seconds()
	}
	slices.Sort(r)
	b.ReportMetric(r[0], name+"-min")
	b.ReportMetric(r[len(r)/2], name+"-median")
	b.ReportMetric(r[len(r)-1], name+"-max")
}

func shellArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// cpuTime is user+system CPU of this process (self) or of its waited-for
// children (the OpenSSH clients a benchmark ran).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// negotiated is the algorithms line drbook journaled for its connections.
func negotiated(rt *steptest.Runtime) string {
	for _, tr := range rt.Trusts {
		if tr.Kind == transport.TrustAlgorithms {
			return tr.Fingerprint
		}
	}
	return "(not recorded)"
}

// variant is one side of an interleaved comparison.
type variant struct {
	name      string
	run       func() error
	childCPU  bool // the CPU is the OpenSSH processes', not this one's
	took, cpu time.Duration
	sshd      time.Duration // the guests' sshd CPU
	// Each iteration's wall time and client CPU, for ratios taken within
	// one iteration (neighbours in time) rather than of the sums.
	tooks, cpus []time.Duration
}

// interleave runs every variant once per iteration, rotating which goes
// first, so that a busy spell on the shared machine falls on all of them.
// It reports each one's time and client CPU, and the guests' sshd CPU.
func interleave(b *testing.B, guests []*sshdrig.Guest, vs []*variant) {
	sshd := func() time.Duration {
		var sum time.Duration
		for _, g := range guests {
			sum += g.CPU()
		}
		return sum
	}
	for i := 0; i < b.N; i++ {
		for k := range vs {
			v := vs[(k+i)%len(vs)]
			who := syscall.RUSAGE_SELF
			if v.childCPU {
				who = syscall.RUSAGE_CHILDREN
			}
			s0 := sshd()
			c0, t0 := cpuTime(who), time.Now()
			var err error
			// The label lets a CPU profile tell the variants apart
			// (go tool pprof -tagfocus variant=drbook).
			pprof.Do(context.Background(), pprof.Labels("variant", v.name), func(context.Context) { err = v.run() })
			if err != nil {
				b.Fatalf("%s: %v", v.name, err)
			}
			took, cpu := time.Since(t0), cpuTime(who)-c0
			v.took += took
			v.cpu += cpu
			v.tooks, v.cpus = append(v.tooks, took), append(v.cpus, cpu)
			v.sshd += sshd() - s0
		}
	}
	for _, v := range vs {
		b.ReportMetric(v.took.Seconds()/float64(b.N), v.name+"-s/op")
		b.ReportMetric(v.cpu.Seconds()/float64(b.N), v.name+"-cpu-s/op")
		b.ReportMetric(v.sshd.Seconds()/float64(b.N), v.name+"-sshd-cpu-s/op")
	}
}

// BenchmarkTransfer256MiB copies 256 MiB guest to guest with ssh.transfer
// (verify off and on) and with `ssh A cat FILE | ssh B 'cat > FILE'` (with
// and without sha256sum on both ends afterwards, and once more on
// OpenSSH's default algorithms), on the same sshd pair. Every clock is the
// whole job: both connections with their handshakes, the SFTP sessions,
// the copy and the hangups. CPU is the client's: getrusage of this process
// around ssh.transfer, of the finished OpenSSH processes around the pipe.
//
// The machine may be shared: run many iterations (each runs every variant
// once, rotating the order) and read the per-iteration min/median/max.
//
//	go test ./steps/ssh/ -run '^$' -bench Transfer -benchtime 9x
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
	algos := ""
	streamed := map[bool]time.Duration{}
	drbook := func(verify bool) func() error {
		params := steptest.Decode(b, k, fmt.Sprintf("{from: a, to: b, src: /root/big.tgz, dest: /root/drbook.tgz, verify: %v}", verify))
		return func() error {
			rt := steptest.NewRuntime(b, &site.Site{Guests: map[string]site.Guest{"a": a.Site(), "b": z.Site()}})
			res, err := k.Execute(context.Background(), rt, params)
			rt.Close()
			if err != nil {
				return err
			}
			if r := res.(*ssh.TransferResult); r.Bytes != 256<<20 || r.Verified != verify {
				return fmt.Errorf("result %+v", r)
			}
			algos = negotiated(rt)
			streamed[verify] += time.Duration(res.(*ssh.TransferResult).Seconds * float64(time.Second))
			return nil
		}
	}
	pipe := func(defaults, verify bool) func() error {
		script := fmt.Sprintf("ssh %s | ssh %s", shellArgs(sshArgs(a, kh, defaults, "cat /root/big.tgz")), shellArgs(sshArgs(z, kh, defaults, "cat > /root/openssh.tgz")))
		if verify {
			script = fmt.Sprintf(`set -e; %s; t=$(mktemp -d); ssh %s > $t/a & ssh %s > $t/b & wait; [ "$(cut -d' ' -f1 $t/a)" = "$(cut -d' ' -f1 $t/b)" ] && [ -s $t/a ]; rm -r $t`,
				script, shellArgs(sshArgs(a, kh, defaults, "sha256sum /root/big.tgz")), shellArgs(sshArgs(z, kh, defaults, "sha256sum /root/openssh.tgz")))
		}
		return func() error {
			if out, err := exec.Command("/bin/sh", "-c", script).CombinedOutput(); err != nil {
				return fmt.Errorf("%v %s", err, out)
			}
			if fi, err := os.Stat(z.Path("/root/openssh.tgz")); err != nil || fi.Size() != 256<<20 {
				return fmt.Errorf("openssh copy incomplete: %v", err)
			}
			return nil
		}
	}
	nv := &variant{name: "drbook", run: drbook(false)}
	v := &variant{name: "drbook-verify", run: drbook(true)}
	gcm := &variant{name: "pipe-gcm", run: pipe(false, false), childCPU: true}
	gcmV := &variant{name: "pipe-gcm-sha256sum", run: pipe(false, true), childCPU: true}
	def := &variant{name: "pipe-default", run: pipe(true, false), childCPU: true}
	interleave(b, []*sshdrig.Guest{a, z}, []*variant{nv, gcm, v, gcmV, def})
	b.Logf("drbook negotiated: %s; the pipe-gcm peer: -o KexAlgorithms=%s -c %s; pipe-default: OpenSSH's own choice", algos, peerKex, peerCipher)
	// Throughput ratios (the inverse of the times) and CPU ratios, of the
	// sums and, per iteration, min/median/max.
	b.ReportMetric(gcm.took.Seconds()/nv.took.Seconds(), "drbook/pipe-gcm-throughput")
	b.ReportMetric(def.took.Seconds()/nv.took.Seconds(), "drbook/pipe-default-throughput")
	b.ReportMetric(nv.cpu.Seconds()/gcm.cpu.Seconds(), "drbook/pipe-gcm-cpu")
	reportRatios(b, "drbook/pipe-gcm-throughput", gcm.tooks, nv.tooks)
	reportRatios(b, "drbook-verify/pipe-gcm-sha256sum-throughput", gcmV.tooks, v.tooks)
	reportRatios(b, "drbook/pipe-gcm-cpu", nv.cpus, gcm.cpus)
	reportRatios(b, "drbook-verify/pipe-gcm-sha256sum-cpu", v.cpus, gcmV.cpus)
	// The copy alone, from the first byte read to the last written.
	b.ReportMetric(streamed[false].Seconds()/float64(b.N), "drbook-stream-s/op")
	b.ReportMetric(streamed[true].Seconds()/float64(b.N), "drbook-verify-stream-s/op")
	// What verification adds, drbook's against the pipe's.
	b.ReportMetric((v.took-nv.took).Seconds()/float64(b.N), "drbook-verify-extra-s/op")
	b.ReportMetric((gcmV.took-gcm.took).Seconds()/float64(b.N), "pipe-verify-extra-s/op")
}

// BenchmarkFanOut50 runs one command on 50 sshd endpoints, ten at a time,
// with ssh.exec and with parallel OpenSSH clients forced to drbook's
// algorithms (see peerKex), interleaved; it reports the time, the client
// CPU, the guests' sshd CPU and drbook's peak heap. This is the kind in
// one process; bench/fanout.sh compares whole processes.
//
//	go test ./steps/ssh/ -run '^$' -bench FanOut -benchtime 3x
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
	var peakHeap uint64
	algos := ""
	drbook := &variant{name: "drbook", run: func() error {
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
		err := fanOut(gs, limit, func(g *sshdrig.Guest) error {
			res, err := k.Execute(context.Background(), rt, steptest.Decode(b, k, "{host: "+g.Name+", command: 'echo ok'}"))
			if err == nil && !strings.HasPrefix(fmt.Sprint(res), "&{0 ok") {
				err = fmt.Errorf("unexpected %+v", res)
			}
			return err
		})
		close(stop)
		if p := peak.Load(); p > base.HeapInuse && p-base.HeapInuse > peakHeap {
			peakHeap = p - base.HeapInuse
		}
		rt.Close()
		algos = negotiated(rt)
		return err
	}}
	openssh := func(defaults bool) func() error {
		return func() error {
			return fanOut(gs, limit, func(g *sshdrig.Guest) error {
				out, err := exec.Command("ssh", sshArgs(g, kh, defaults, "echo ok")...).CombinedOutput()
				if err != nil || string(out) != "ok\n" {
					return fmt.Errorf("openssh %s: %v %s", g.Name, err, out)
				}
				return nil
			})
		}
	}
	same := &variant{name: "openssh", run: openssh(false), childCPU: true}
	def := &variant{name: "openssh-default", run: openssh(true), childCPU: true}
	interleave(b, gs, []*variant{drbook, same, def})
	b.Logf("drbook negotiated: %s; the openssh peer: -o KexAlgorithms=%s -c %s; openssh-default: OpenSSH's own choice", algos, peerKex, peerCipher)
	b.ReportMetric(drbook.took.Seconds()/same.took.Seconds(), "drbook/openssh")
	b.ReportMetric(drbook.took.Seconds()/def.took.Seconds(), "drbook/openssh-default")
	b.ReportMetric(drbook.cpu.Seconds()/same.cpu.Seconds(), "drbook/openssh-cpu")
	b.ReportMetric(drbook.sshd.Seconds()/same.sshd.Seconds(), "drbook/openssh-sshd-cpu")
	b.ReportMetric(float64(peakHeap)/(1<<20), "drbook-peak-heap-MiB")
}

func fanOut(gs []*sshdrig.Guest, limit int, do func(*sshdrig.Guest) error) error {
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
	return <-errs
}
