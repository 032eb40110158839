package runbooks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drbook/drbook/runbooks"
)

// TestShellPlacement: where an interpolation stands in a shell command
// decides whether drbook can quote it. Accepted commands are run with a
// hostile value through /bin/sh and must print it as text and create
// nothing; refused ones must name why.
func TestShellPlacement(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "ran")
	hostile := "a'b\"c $(touch " + mark + ") `touch " + mark + "` \\\n; touch " + mark + " #"
	for _, c := range []struct {
		cmd    string
		want   string // output with v = hostile, when accepted
		refuse string // part of the refusal, when refused
	}{
		{cmd: `printf %s ${{ params.v }}`, want: hostile},
		{cmd: `printf %s "<${{ params.v }}>"`, want: "<" + hostile + ">"},
		{cmd: `printf %s "$(printf %s "${{ params.v }}")"`, want: hostile},
		{cmd: `export A=${{ params.v }}; printf %s "$A"`, want: hostile},
		{cmd: `A=${{ params.v }} sh -c 'printf %s "$A"'`, want: hostile},
		{cmd: `sh -c 'printf %s "$1"' sh ${{ params.v }}`, want: hostile},
		{cmd: `sudo -n sh -c 'printf %s "$1"' sh ${{ params.v }}`}, // a positional parameter of the script: data
		{cmd: `case ${{ params.v }} in "` + "x" + `") ;; *) printf no;; esac`, want: "no"},
		{cmd: `[ ${{ params.v }} = x ] || printf no`, want: "no"},
		{cmd: `printf %s ok # ${{ params.v }}`, want: "ok"},
		{cmd: `printf %s ${{ params.n }} '${{ params.n }}' "$(( ${{ params.n }} + 1 ))"`, want: "334"},
		{cmd: `printf %s '${{ raw(params.v) }}'`}, // raw() is the author's explicit choice: not placed
		{cmd: `bash -ec "printf %s ${{ params.v }}"`, refuse: "the script of bash -ec"},
		{cmd: `ssh -p 22 other "echo ${{ params.v }}"`, refuse: "ssh sends to another machine"},
		{cmd: `ssh other echo ${{ params.v }}`, refuse: "ssh sends to another machine"},
		{cmd: `ssh -i key root@${{ params.v }} uptime`},
		{cmd: `ssh -- ${{ params.v }} uptime`},
		{cmd: `ssh ${{ params.v }} uptime`, refuse: "read as an option"},
		{cmd: `ssh -i "${{ params.v }}" other uptime`},
		{cmd: `ssh -i key "${{ params.v }}" uptime`, refuse: "read as an option"},
		{cmd: `su - root -c "printf %s ${{ params.v }}"`, refuse: "the script of su -c"},
		{cmd: `eval "printf %s ${{ params.v }}"`, refuse: "argument of eval"},
		{cmd: `trap "rm ${{ params.v }}" EXIT`, refuse: "argument of trap"},
		{cmd: `exec ${{ params.v }}`, refuse: "command name"},
		{cmd: `command -p ${{ params.v }} x`, refuse: "command name"},
		{cmd: `A=1 ${{ params.v }}`, refuse: "command name"},
		{cmd: `sudo -u root ${{ params.v }} x`, refuse: "command name"},
		{cmd: `sudo -n -- env A=1 ${{ params.v }}`, refuse: "command name"},
		{cmd: `timeout 5s nice -n 5 ${{ params.v }}`, refuse: "command name"},
		{cmd: `nohup /usr/bin/env ${{ params.v }} &`, refuse: "command name"},
		{cmd: `sudo -u ${{ params.v }} true`},
		{cmd: `env A=${{ params.v }} true`},
		{cmd: `timeout 5 printf %s ${{ params.v }}`, want: hostile},
		{cmd: `echo $${{ params.v }}`, refuse: "inside ${…}"},
		{cmd: `echo ${X:-${{ params.v }}}`, refuse: "inside ${…}"},
		{cmd: `[[ ${{ params.v }} -eq 1 ]]`, refuse: "arithmetic comparison"},
		{cmd: `[[ -v ${{ params.v }} ]]`, refuse: "-v or -R"},
		{cmd: `a[${{ params.v }}]=1`, refuse: "variable name or array index"},
		{cmd: `unset ${{ params.v }}`, refuse: "argument of unset"},
		{cmd: `read -r ${{ params.v }} <<<x`, refuse: "argument of read"},
		{cmd: `printf -v ${{ params.v }} %s x`, refuse: "after printf -v"},
		{cmd: `[ -v ${{ params.v }} ]`, refuse: "after [ -v"},
		{cmd: `[ -n ${{ params.v }} ] && printf ok`, want: "ok"},
		{cmd: `declare ${{ params.v }}`, refuse: "variable name"},
		{cmd: `let x=${{ params.v }}`, refuse: "arithmetic"},
		{cmd: `for ((i=${{ params.v }}; i<2; i++)); do :; done`, refuse: "arithmetic"},
		{cmd: `echo \${{ params.v }}`, refuse: "backslash"},
		{cmd: `echo "\${{ params.v }}"`, refuse: "backslash"},
		{cmd: "echo `echo ${{ params.v }}`", refuse: "backquotes"},
		{cmd: `echo $'${{ params.v }}'`, refuse: "single quotes"},
		{cmd: `cat <<<${{ params.v }}`},                                                      // a here-string is a word (bash only, so not run here)
		{cmd: `cat <<${{ params.v }}` + "\nx\n" + `${{ params.v }}`, refuse: "cannot parse"}, // the delimiter differs from the line ending it,
		{cmd: `echo @(${{ params.v }})`, refuse: "extended glob"},
		{cmd: `echo "unclosed ${{ params.v }}`, refuse: "cannot parse"},
	} {
		src := "name: placement\nparams:\n  v: {type: string, default: x}\n  n: {type: int, default: 3}\nsteps:\n  - id: s\n    ssh.exec:\n      guest: ap01\n      command: |-\n        " + strings.ReplaceAll(c.cmd, "\n", "\n        ") + "\n"
		rb, err := runbooks.Parse("p.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{"v": hostile}})
		if c.refuse != "" {
			if err == nil || !strings.Contains(err.Error(), c.refuse) {
				t.Errorf("%s: want a refusal naming %q, got %v", c.cmd, c.refuse, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: refused: %v", c.cmd, err)
			continue
		}
		if c.want == "" {
			continue
		}
		cmd := resolve(t, rb, rb.NewEnv(), "s").(*guestExecParams).Command
		if got := runShellAllowFail(t, cmd); got != c.want {
			t.Errorf("%s\nran %q\nprinted %q; want %q", c.cmd, cmd, got, c.want)
		}
		if _, err := os.Stat(mark); err == nil {
			t.Fatalf("%s: ran %q and the value ran as code", c.cmd, cmd)
		}
	}
}

func runShellAllowFail(t *testing.T, cmd string) string {
	t.Helper()
	out, _ := exec.Command("/bin/sh", "-c", cmd).Output()
	return string(out)
}

// TestSSHArgvIsOneRemoteCommand: ssh joins the arguments after the
// destination with spaces and the remote login shell parses the line, so
// exec.local's [ssh, …, HOST, …] places interpolations in that line. The
// joined line is run here through /bin/sh, as the remote shell would.
func TestSSHArgvIsOneRemoteCommand(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "ran")
	hostile := "x'; touch " + mark + "; '$(touch " + mark + ")\n"
	for _, c := range []struct {
		argv   string
		remote int    // index of the first remote element, when accepted; -1: not run
		refuse string // part of the refusal
	}{
		{argv: `[ssh, host, echo, "${{ params.v }}"]`, remote: 2},
		{argv: `[ssh, -p, "22", -o, "BatchMode=yes", host, "printf %s \"<${{ params.v }}>\""]`, remote: 6},
		{argv: `[sudo, ssh, -tt, -l, root, host, printf, "%s", "${{ params.v }}"]`, remote: 6},
		{argv: `[ssh, host, "printf %s '${{ params.v }}'"]`, refuse: "single quotes"},
		{argv: `[ssh, host, "${{ params.v }}"]`, refuse: "command name"},
		{argv: `[ssh, -i, key, host, "${{ params.v }}", x]`, refuse: "command name"},
		{argv: `[ssh, host, "sh -c \"echo ${{ params.v }}\""]`, refuse: "script of sh -c"},
		{argv: `[ssh, "${{ params.v }}", uptime]`, refuse: "read as an option"},
		{argv: `[ssh, -l, "${{ params.v }}", host, uptime]`, remote: -1}, // -l's value, never an option
		{argv: `[ssh, --, "${{ params.v }}", uptime]`, remote: -1},       // after --, the destination
	} {
		src := "name: remote\nparams:\n  v: {type: string, default: x}\nsteps:\n  - id: s\n    exec.local: {command: " + c.argv + "}\n"
		rb, err := runbooks.Parse("r.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{"v": hostile}})
		if c.refuse != "" {
			if err == nil || !strings.Contains(err.Error(), c.refuse) {
				t.Errorf("%s: want a refusal naming %q, got %v", c.argv, c.refuse, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: refused: %v", c.argv, err)
			continue
		}
		argv := reflect.ValueOf(resolve(t, rb, rb.NewEnv(), "s")).Elem().FieldByName("Command").Interface().([]string)
		if c.remote < 0 {
			continue
		}
		line := strings.Join(argv[c.remote:], " ")
		out := runShellAllowFail(t, line)
		if _, err := os.Stat(mark); err == nil {
			t.Fatalf("%s: the remote line %q ran the value as code", c.argv, line)
		}
		if !strings.Contains(out, hostile) {
			t.Errorf("%s: the remote line %q printed %q; want the value as text", c.argv, line, out)
		}
	}
}

// TestShellPlacementProperty: whatever surrounds an interpolation, a
// command drbook accepts never runs the value as code, in sh or in bash.
// Every pairing of the text before and after ${{ }} below is loaded; each
// accepted one is run with a value built to break out of all of them.
func TestShellPlacementProperty(t *testing.T) {
	shells := []string{"/bin/sh"}
	if _, err := exec.LookPath("bash"); err == nil {
		shells = append(shells, "bash")
	}
	mark := filepath.Join(t.TempDir(), "ran")
	hostile := "'\"$(touch " + mark + ")`touch " + mark + "`\ntouch " + mark + ";\\${IFS}a[$(touch " + mark + ")]\nE\ntouch " + mark + "\n"
	before := []string{"", "echo ", "echo \"", "echo '", "echo $(", "echo \"$(", "echo `", "x=", "export x=", "for i in ",
		"case ", "echo ${x:-", "[ ", "[[ ", "echo $((", "cat <<E\n", "cat <<'E'\n", "eval ", "sh -c \"", "# ", "echo \\",
		"printf -v ", "echo @(", "a[", "echo $'", "echo \"${x:-", "echo $\"", "ssh ", "ssh h echo ", "echo <<<", "echo >", "f() { echo ", "echo x#"}
	after := []string{"", "\"", "'", ")", ")\"", "`", "\"`", "}", "}\"", " ]", " = x ]", " == x ]]", " -eq 1 ]]", "))", "\nE",
		"; echo", " in *) ;; esac", "]=1", " ; }; f", "\n"}
	accepted := 0
	for _, b := range before {
		for _, a := range after {
			cmd := b + "${{ params.v }}" + a
			src := "name: property\nparams:\n  v: {type: string, default: x}\nsteps:\n  - id: s\n    ssh.exec:\n      guest: ap01\n      command: |-\n        " + strings.ReplaceAll(cmd, "\n", "\n        ") + "\n"
			rb, err := runbooks.Parse("p.yaml", []byte(src), runbooks.Options{Registry: testRegistry(), Site: labSite(t), Vars: map[string]string{"v": hostile}})
			if err != nil {
				if _, ok := err.(*runbooks.ErrorList); !ok {
					t.Fatalf("%q: %v", cmd, err)
				}
				continue
			}
			accepted++
			rendered := resolve(t, rb, rb.NewEnv(), "s").(*guestExecParams).Command
			for _, sh := range shells {
				c := exec.Command(sh, "-c", rendered)
				c.Dir = t.TempDir()
				c.Run()
				if _, err := os.Stat(mark); err == nil {
					t.Errorf("%s ran the value as code in %q (rendered %q)", sh, cmd, rendered)
					os.Remove(mark)
				}
			}
		}
	}
	t.Logf("%d of %d commands accepted", accepted, len(before)*len(after))
	if accepted == 0 {
		t.Fatal("nothing was accepted: the property was not checked")
	}
}
