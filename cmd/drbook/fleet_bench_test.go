package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/fleet"
)

// BenchmarkFleetLabSites runs the HA drill (runbooks/sanchong/
// ha-host-failure.yaml, every step journaled and fsync'd) at one lab site
// and then at nine lab sites at once from this one process, each lab a
// whole simulated site (a vCenter with 3 hosts and 30 VMs, SSH guests,
// BMCs) on its own loopback block, and reports:
//
//   - wall-s/1-site and wall-s/9-sites: the fleet run's wall time;
//   - wall-ratio: nine sites' wall time over one site's (1 would be
//     perfect concurrency; 9 no concurrency at all);
//   - peak-RSS-MiB/1-site and /9-sites: the process's peak resident set
//     during each (Linux VmHWM, reset before each by /proc/self/clear_refs);
//   - rss-ratio: nine sites' peak over one site's (bounded: well under 9
//     means the state is about one site's worth per site, no more).
//
// Run with: go test ./cmd/drbook -run '^$' -bench FleetLabSites -benchtime 1x
func BenchmarkFleetLabSites(b *testing.B) {
	rb := mustAbsB(b, "../../runbooks/sanchong/ha-host-failure.yaml")
	run := func(n int) (time.Duration, float64) {
		dir := filepath.Join(b.TempDir(), "fleet")
		runtime.GC()
		resetPeakRSS(b)
		start := time.Now()
		out, errOut, code := fleetCLIB(b, "fleet", "run", "--lab-sites", strconv.Itoa(n), "--yes", "--fleet-dir", dir, rb)
		wall := time.Since(start)
		peak := peakRSSMiB(b)
		if code != exitOK {
			b.Fatalf("fleet run --lab-sites %d exited %d\n%s\n%s", n, code, out, errOut)
		}
		m, err := fleet.ReadManifest(dir)
		if err != nil || len(m.Sites) != n {
			b.Fatalf("manifest: %v %+v", err, m)
		}
		for _, s := range m.Sites {
			if s.Verdict != "passed" {
				b.Fatalf("site %s: %s %s", s.Name, s.Verdict, s.Error)
			}
		}
		return wall, peak
	}
	var w1, w9 time.Duration
	var r1, r9 float64
	for i := 0; i < b.N; i++ {
		w, r := run(1)
		w1, r1 = w1+w, max(r1, r)
		w, r = run(9)
		w9, r9 = w9+w, max(r9, r)
	}
	b.ReportMetric(w1.Seconds()/float64(b.N), "wall-s/1-site")
	b.ReportMetric(w9.Seconds()/float64(b.N), "wall-s/9-sites")
	b.ReportMetric(float64(w9)/float64(w1), "wall-ratio")
	b.ReportMetric(r1, "peak-RSS-MiB/1-site")
	b.ReportMetric(r9, "peak-RSS-MiB/9-sites")
	b.ReportMetric(r9/r1, "rss-ratio")
	b.ReportMetric(0, "ns/op")
}

func fleetCLIB(b *testing.B, args ...string) (string, string, int) {
	var stdout, stderr bytes.Buffer
	code := runMain(args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

func mustAbsB(b *testing.B, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// resetPeakRSS resets the process's VmHWM (Linux 4.0+: "5" to clear_refs).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o200); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSSMiB is VmHWM from /proc/self/status.
func peakRSSMiB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Skip("no VmHWM in /proc/self/status")
	return 0
}
