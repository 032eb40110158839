package guest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUmaskBuiltin checks bash 3.2's umask: printing in its three forms,
// octal and symbolic settings, errors and their statuses, and the
// process-like scoping (a subshell's or pipeline element's change stays
// there; a child shell inherits the mask).
func TestUmaskBuiltin(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	cases := []shellCase{
		{cmd: "umask", out: "0022\n"},
		{cmd: "umask -S", out: "u=rwx,g=rx,o=rx\n"},
		{cmd: "umask -p", out: "umask 0022\n"},
		{cmd: "umask -p -S", out: "umask -S u=rwx,g=rx,o=rx\n"},
		{cmd: "umask 077; umask", out: "0077\n"},
		{cmd: "umask 7; umask", out: "0007\n"},
		{cmd: "umask 0027 && umask -S", out: "u=rwx,g=rx,o=\n"},
		{cmd: "umask u=rwx,g=,o=; umask", out: "0077\n"},
		{cmd: "umask g+w; umask", out: "0002\n"},
		{cmd: "umask -S 027", out: "u=rwx,g=rx,o=\n"},
		{cmd: "(umask 077); umask", out: "0022\n"},
		{cmd: "umask 077 | cat; umask", out: "0022\n"},
		{cmd: "echo $(umask 077; umask) $(umask)", out: "0077 0022\n"},
		{cmd: "umask 027; sh -c umask", out: "0027\n"},
		{cmd: "umask 027; bash -c 'umask 077'; umask", out: "0027\n"},
		{cmd: "builtin umask 066; command umask", out: "0066\n"},
		{cmd: "umask 8", stderr: "bash: umask: 8: octal number out of range\n", code: 1},
		{cmd: "umask 1777", stderr: "bash: umask: 1777: octal number out of range\n", code: 1},
		{cmd: "umask u=rwz", stderr: "bash: umask: `z': invalid symbolic mode character\n", code: 1},
		{cmd: "umask ux", stderr: "bash: umask: `x': invalid symbolic mode operator\n", code: 1},
		{cmd: "umask -x", stderr: "bash: umask: -x: invalid option\numask: usage: umask [-p] [-S] [mode]\n", code: 2},
		{cmd: "set -e; umask 9; echo not reached", stderr: "bash: umask: 9: octal number out of range\n", code: 1},
		{cmd: "umask > /tmp/m; cat /tmp/m", out: "0022\n"},
	}
	checkShellCases(t, c, cases)
}

// TestUmaskAppliesToCreatedFiles checks that everything the guest creates
// gets the requested mode less the shell's mask, exactly (the host's own
// umask must not leak in), and that existing files keep their mode.
func TestUmaskAppliesToCreatedFiles(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	must(t, c, `set -e; mkdir /w; cd /w
umask 077
echo x > redirect; touch touched; mkdir dir; mkdir -p parent/child; echo y | tee teed >/dev/null
cp /etc/hosts copied; cp -r /etc/security sec; tar -czf archive.tgz /etc/hosts 2>/dev/null; mkdir -m 751 exact
umask 002
echo x > redirect002; mkdir dir002; mkdir -p p002/c002
umask 000
echo x > redirect000
chmod 644 redirect; umask 077; echo again >> redirect; echo again > redirect
`)
	want := map[string]fs.FileMode{
		"redirect": 0o644, "touched": 0o600, "dir": 0o700, "parent": 0o700, "parent/child": 0o700,
		"teed": 0o600, "copied": 0o600, "archive.tgz": 0o600, "exact": 0o751,
		"redirect002": 0o664, "dir002": 0o775, "p002": 0o775, "p002/c002": 0o775,
		"sec": 0o700, "sec/limits.conf": 0o600, "redirect000": 0o666,
	}
	for name, mode := range want {
		fi, err := os.Lstat(filepath.Join(g.Root(), "w", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := fi.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %04o, want %04o", name, got, mode)
		}
	}
	// mkdir -p gives missing parents u+wx even under a mask that removes it.
	must(t, c, "cd /w && umask 0333 && mkdir -p deep/er")
	for name, mode := range map[string]fs.FileMode{"deep": 0o744, "deep/er": 0o444} {
		fi, err := os.Lstat(filepath.Join(g.Root(), "w", name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s under umask 0333: %v, want mode %04o", name, fi, mode)
		}
	}
}

// TestCommandLookupSearchesTheGuest checks "command -v" and "command -V"
// against the guest's PATH and programs (RHEL 5's locations), never the
// host's: the service kind detects the service manager with them.
func TestCommandLookupSearchesTheGuest(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	cases := []struct {
		cmd, out string
		code     int
	}{
		{cmd: "command -v service", out: "/sbin/service\n"},
		{cmd: "command -v tar sha256sum", out: "/bin/tar\n/usr/bin/sha256sum\n"},
		{cmd: "command -v systemctl", code: 1},
		{cmd: "command -v go gcc python3", code: 1},
		{cmd: "command -v cd umask if", out: "cd\numask\nif\n"},
		{cmd: "command -v /etc/init.d/httpd", out: "/etc/init.d/httpd\n"},
		{cmd: "command -v /etc/hosts", code: 1},
		{cmd: "command -V sha256sum echo", out: "sha256sum is /usr/bin/sha256sum\necho is a shell builtin\n"},
		{cmd: "PATH=/bin; command -v service", code: 1},
		{cmd: "PATH=/bin:/usr/bin:/sbin; command -v service >/dev/null 2>&1 && echo found", out: "found\n"},
	}
	for _, tc := range cases {
		out, stderr, code := run(t, c, tc.cmd)
		if out != tc.out || code != tc.code {
			t.Errorf("%s: got %q exit %d (stderr %q), want %q exit %d", tc.cmd, out, code, stderr, tc.out, tc.code)
		}
	}
	if _, stderr, _ := run(t, c, "command -V nosuch"); !strings.Contains(stderr, "nosuch: not found") {
		t.Errorf("command -V nosuch: stderr %q, want a not-found message", stderr)
	}
}
