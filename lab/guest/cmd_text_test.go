package guest

import "testing"

// TestHeadTailBanners checks head's and tail's "==> name <==" lines as
// coreutils prints them: between several files, forced by -v, suppressed
// by -q, and naming stdin "standard input".
func TestHeadTailBanners(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	must(t, c, `mkdir /w && printf '1\n2\n' > /w/a && printf '3\n4\n' > /w/b`)
	cases := []struct{ cmd, out string }{
		{"head -1 /w/a /w/b", "==> /w/a <==\n1\n\n==> /w/b <==\n3\n"},
		{"tail -n 1 /w/a /w/b", "==> /w/a <==\n2\n\n==> /w/b <==\n4\n"},
		{"head -q -n 1 /w/a /w/b", "1\n3\n"},
		{"tail -q -n 1 /w/a /w/b", "2\n4\n"},
		{"head -v -n 1 /w/a", "==> /w/a <==\n1\n"},
		{"cat /w/b | tail -v -n 1", "==> standard input <==\n4\n"},
		{"head -n 1 /w/a", "1\n"},
	}
	for _, tc := range cases {
		if out := must(t, c, tc.cmd); out != tc.out {
			t.Errorf("%s: got %q, want %q", tc.cmd, out, tc.out)
		}
	}
}
