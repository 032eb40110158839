package runbooks_test

import (
	"context"
	"errors"
	"fmt"
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
