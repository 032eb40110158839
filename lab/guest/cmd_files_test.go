package guest

import "testing"

// TestMoveAndCopyOperands checks the operand rule mv and cp (and, for
// several targets, ln) share with coreutils: the last operand is the destination, a directory receives each
// source under its base name, several sources need a directory, and too few
// operands is a usage error.
func TestMoveAndCopyOperands(t *testing.T) {
	g := startTestGuest(t, Config{}, apSeed(8080))
	c := g.dial(t, "root")
	must(t, c, `mkdir -p /w/d && cd /w && echo a > a && echo b > b`)
	cases := []shellCase{
		{cmd: "cd /w && cp a b d && ls d", out: "a\nb\n"},
		{cmd: "cd /w && cp a c && cat c", out: "a\n"},
		{cmd: "cd /w && mv c d && ls d", out: "a\nb\nc\n"},
		{cmd: "cd /w && mv d/c e && cat e && test ! -e d/c", out: "a\n"},
		{cmd: "cd /w && cp a b e", stderr: "cp: target `e' is not a directory\n", code: 1},
		{cmd: "cd /w && mv a b e", stderr: "mv: target `e' is not a directory\n", code: 1},
		{cmd: "cp a", stderr: "cp: missing file operand\nTry `cp --help' for more information.\n", code: 1},
		{cmd: "cd /w && ln -s a b f", stderr: "ln: target `f' is not a directory\n", code: 1},
		{cmd: "cd /w && test ! -e f && test ! -h f && mkdir l && ln -s /w/a /w/b l && readlink l/a l/b", out: "/w/a\n/w/b\n"},
		{cmd: "mv", stderr: "mv: missing file operand\nTry `mv --help' for more information.\n", code: 1},
	}
	checkShellCases(t, c, cases)
}
