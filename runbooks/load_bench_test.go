package runbooks_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/drbook/drbook/runbooks"
)

// bigRunbook returns a runbook of n steps shaped like a long drill: steps
// that read earlier steps' results in `when:` and in interpolations, a
// for_each now and then, and registered results.
func bigRunbook(n int) []byte {
	var b strings.Builder
	b.WriteString("name: big\nparams:\n  host: {type: host, default: esx-68}\n  guests: [ap01, ap02]\nsteps:\n")
	for i := 0; i < n; i++ {
		switch {
		case i == 0:
			fmt.Fprintf(&b, "  - id: s%d\n    vcenter.host.shutdown: {host: \"${{ params.host }}\"}\n", i)
		case i%10 == 0:
			fmt.Fprintf(&b, "  - id: s%d\n    for_each: ${{ params.guests }}\n    ssh.exec: {guest: \"${{ item }}\", command: \"echo ${{ steps.s%d.status }}\"}\n", i, i-1)
		case i%7 == 0:
			fmt.Fprintf(&b, "  - id: s%d\n    register: r%d\n    check.http: {url: \"http://${{ site.guests.ap01.address }}/\", status: 200}\n", i, i)
		default:
			fmt.Fprintf(&b, "  - id: s%d\n    when: steps.s%d.status == \"ok\"\n    log: \"step %d after ${{ steps.s%d.status }}\"\n", i, i-1, i, i-1)
		}
	}
	return []byte(b.String())
}

// BenchmarkLoadSteps measures loading (decode, check, compile every
// expression) as the runbook grows; ns/op should grow linearly.
func BenchmarkLoadSteps(b *testing.B) {
	site := labSite(b)
	reg := testRegistry()
	for _, n := range []int{1000, 5000, 10000} {
		src := bigRunbook(n)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := runbooks.Parse("big.yaml", src, runbooks.Options{Registry: reg, Site: site}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestParseContextStops: a load whose context is done stops with an error
// that wraps the context's, not with problems or a runbook.
func TestParseContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rb, err := runbooks.ParseContext(ctx, "big.yaml", bigRunbook(10), runbooks.Options{Registry: testRegistry(), Site: labSite(t)})
	if rb != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("ParseContext after cancel = %v, %v; want nil and context.Canceled", rb, err)
	}
}

// loadCost is what one load of src allocates: objects and bytes.
func loadCost(t *testing.T, src []byte, opts runbooks.Options) (objects, bytes uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := runbooks.Parse("big.yaml", src, opts); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

// TestLoadCostGrowsLinearly: loading 10,000 steps allocates, per step,
// about what loading 1,000 does. Work done per step over all N steps (a
// struct type of every step built for each step, an environment built
// per step) makes the 10,000-step load allocate several times more per
// step, so this catches a return of a quadratic loader without timing
// anything on a shared machine.
func TestLoadCostGrowsLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 11,000 steps")
	}
	opts := runbooks.Options{Registry: testRegistry(), Site: labSite(t)}
	small, large := bigRunbook(1000), bigRunbook(10000)
	loadCost(t, small, opts) // types and caches built once per process
	so, sb := loadCost(t, small, opts)
	lo, lb := loadCost(t, large, opts)
	perObj := float64(lo) / 10000 / (float64(so) / 1000)
	perByte := float64(lb) / 10000 / (float64(sb) / 1000)
	t.Logf("per step: %d objects, %d bytes at 1,000 steps; %d objects, %d bytes at 10,000 (ratios %.2f, %.2f)",
		so/1000, sb/1000, lo/10000, lb/10000, perObj, perByte)
	// Generous bounds: the costs that grow with N once per load (the
	// steps struct's type text, maps growing) leave the ratios near 1.
	if perObj > 1.5 || perByte > 2 {
		t.Errorf("a 10,000-step load allocates %.2f× the objects and %.2f× the bytes per step of a 1,000-step one; want at most 1.5× and 2×: something is done per step over all steps", perObj, perByte)
	}
}
