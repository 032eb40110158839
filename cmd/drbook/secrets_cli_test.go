package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/vmware/govmomi/simulator"

	"github.com/drbook/drbook/journal"
)

// leakSecret is a long random secret planted as a guest's password; the
// runbook prints it although no step logs in to that guest.
const leakSecret = "Vq7xR2pL9wZ4tB8m"

// leakRunbook prints both secrets before and after the vCenter login (the
// first use of the vCenter password) and records that the checks passed.
const leakRunbook = `name: leak
steps:
  - id: early
    exec.local: {shell: 'printf "early ap01=%s vc=%s\n" "$DRBOOK_LEAK_AP01" "$DRBOOK_LEAK_VC"'}
  - id: inventory
    vcenter.inventory: {record: placement}
  - id: late
    exec.local: {shell: 'printf "late ap01=%s vc=%s\n" "$DRBOOK_LEAK_AP01" "$DRBOOK_LEAK_VC"'}
  - id: done
    log: "all checks passed"
`

// TestSecretsInEveryPlace runs a drill against govmomi's plain VPX
// simulator over HTTPS with the vCenter password set to a short or common
// word, and counts the planted secrets in everything drbook writes or
// prints: the journal, the reports in every format, the artifacts, runs,
// history, and the CLI's own output. Before, a secret printed before its
// first use was journaled in full, a short one ("ok") never redacted, and
// one that is a word of the journal ("pass", "passed", "status") redacted
// inside the record itself: the result read "[redacted]ed". Now a secret
// too short to hide is refused before anything runs (exit 2, no run
// directory), and an accepted one is gone from every place while the
// record reads as it should.
func TestSecretsInEveryPlace(t *testing.T) {
	srvURL, thumb := startPlainVPX(t)
	type row struct {
		secret string
		place  string
		n      int
	}
	var table []row
	for _, c := range []struct {
		vc      string
		refused bool
	}{
		{"pass", true},
		{"ok", true},
		{"passed", false},
		{"status", false},
	} {
		t.Run(c.vc, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("DRBOOK_LEAK_VC", c.vc)
			t.Setenv("DRBOOK_LEAK_AP01", leakSecret)
			site := fmt.Sprintf("name: leaky\nvcenter:\n  url: %s\n  user: user\n  password: env:DRBOOK_LEAK_VC\n  thumbprints: [%q]\nguests:\n  ap01:\n    address: 127.0.0.1\n    password: env:DRBOOK_LEAK_AP01\n", srvURL, thumb)
			writeRunbook(t, dir, "site.yaml", site)
			writeRunbook(t, dir, "leak.yaml", leakRunbook)

			places := map[string]string{}
			stdout, stderr, code := runDrbook(t, dir, "run", "--yes", "--site", "site.yaml", "--runs-dir", "runs", "leak.yaml")
			places["run stdout"], places["run stderr"] = stdout, stderr
			runDir := ""
			if m := regexp.MustCompile(`(?m)^run directory: (.+)$`).FindStringSubmatch(stdout); m != nil {
				runDir = m[1]
				if !filepath.IsAbs(runDir) {
					runDir = filepath.Join(dir, runDir)
				}
			}
			if runDir != "" {
				for _, f := range []string{journal.FileName, "report.html", "report.json"} {
					b, err := os.ReadFile(filepath.Join(runDir, f))
					if err != nil || len(b) == 0 {
						t.Fatalf("%s: %v (%d bytes)", f, err, len(b))
					}
					places[f] = string(b)
				}
				arts, _ := filepath.Glob(filepath.Join(runDir, "artifacts", "*"))
				var all strings.Builder
				for _, a := range arts {
					b, _ := os.ReadFile(a)
					all.Write(b)
				}
				places["artifacts"] = all.String()
				for _, format := range []string{"md", "junit", "json", "html"} {
					out, errOut, _ := runDrbook(t, dir, "report", "--format", format, runDir)
					places["report --format "+format] = out + errOut
				}
				out, errOut, _ := runDrbook(t, dir, "runs", "--runs-dir", "runs")
				places["runs"] = out + errOut
				out, errOut, _ = runDrbook(t, dir, "history", "--runs-dir", "runs")
				places["history"] = out + errOut
			}

			if c.refused {
				if code != exitUsage || runDir != "" {
					t.Errorf("exit %d, run directory %q: want the run refused at its start (exit 2, no run)", code, runDir)
				}
				// The run's preflight names it, and so does the engine's
				// own refusal when the preflight is skipped.
				if !strings.Contains(stderr, "site.yaml:5:13: vcenter.password: the secret is only") || !strings.Contains(stderr, "drbook: hint: ") {
					t.Errorf("stderr does not name the reference and why:\n%s", stderr)
				}
				out, errOut, code := runDrbook(t, dir, "run", "--yes", "--no-preflight", "--site", "site.yaml", "--runs-dir", "runs", "leak.yaml")
				places["run --no-preflight stdout"], places["run --no-preflight stderr"] = out, errOut
				if code != exitUsage || !strings.Contains(errOut, "drbook: error: site.yaml:5:13: vcenter.password: the secret is only") || !strings.Contains(errOut, "nothing was run") {
					t.Errorf("run --no-preflight exited %d:\n%s\n%s", code, out, errOut)
				}
				if entries, _ := os.ReadDir(filepath.Join(dir, "runs")); len(entries) > 0 {
					t.Errorf("a run directory was left behind: %v", entries)
				}
			} else if code != exitOK {
				t.Errorf("exit %d, want 0:\n%s\n%s", code, stdout, stderr)
			}

			// The long secret anywhere; the vCenter password where the
			// runbook printed it ("vc=…"), as a whole word, since the
			// word itself is also drbook's vocabulary.
			leakVC := regexp.MustCompile(`vc=` + regexp.QuoteMeta(c.vc) + `\b`)
			names := make([]string, 0, len(places))
			for p := range places {
				names = append(names, p)
			}
			sort.Strings(names)
			for _, p := range names {
				text := places[p]
				nLong := strings.Count(text, leakSecret)
				nVC := len(leakVC.FindAllString(text, -1))
				nCorrupt := strings.Count(text, "[redacted]ed") + strings.Count(text, `"[redacted]":`)
				table = append(table, row{leakSecret, p + " (vc=" + c.vc + ")", nLong}, row{c.vc, p, nVC}, row{c.vc + " corrupting", p, nCorrupt})
				if nLong+nVC+nCorrupt > 0 {
					t.Errorf("%s: the long secret %d times, the vCenter password %d times, corrupted words %d times", p, nLong, nVC, nCorrupt)
				}
			}
			if runDir != "" {
				checkRecordIntact(t, runDir, c.vc, places)
				// Not counting nothing: the printed secrets are there,
				// hidden.
				if !strings.Contains(places[journal.FileName], "early ap01=[redacted] vc=[redacted]") {
					t.Errorf("the journal does not show the early step's output with its secrets hidden")
				}
			}
		})
	}
	var b strings.Builder
	for _, r := range table {
		fmt.Fprintf(&b, "%-22s | %-34s | %d\n", r.secret, r.place, r.n)
	}
	t.Logf("secret × place → occurrences:\n%s", b.String())
}

// checkRecordIntact: the run passed, and every place says so in drbook's
// own words, whatever the secrets were (one is "passed" itself).
func checkRecordIntact(t *testing.T, runDir, secret string, places map[string]string) {
	t.Helper()
	log, err := journal.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range log.Events {
		if ev.Type == journal.TypeStepFinish && ev.StepFinish.Status != journal.StatusOK {
			t.Errorf("step %s finished %q, want ok", ev.Step, ev.StepFinish.Status)
		}
		if ev.Type == journal.TypeRunEnd && ev.RunEnd.Result != "passed" {
			t.Errorf("run.end result %q, want passed", ev.RunEnd.Result)
		}
	}
	var rep struct {
		Cover struct {
			Result string `json:"result"`
		} `json:"cover"`
	}
	if err := json.Unmarshal([]byte(places["report.json"]), &rep); err != nil || rep.Cover.Result != "passed" {
		t.Errorf("report.json result %q (%v), want passed", rep.Cover.Result, err)
	}
	// Free text is redacted as it must be: drbook cannot tell the secret
	// word in "all checks passed" from the secret printed.
	logged := "all checks passed"
	if secret == "passed" {
		logged = "all checks [redacted]"
	}
	// Markdown escapes the brackets of the note it prints.
	for place, want := range map[string]string{"run stdout": "result: passed", "runs": "passed", "history": "passed", "report --format md": strings.NewReplacer("[", `\[`, "]", `\]`).Replace(logged)} {
		if !strings.Contains(places[place], want) {
			t.Errorf("%s does not say %q:\n%s", place, want, places[place])
		}
	}
}

// startPlainVPX serves govmomi's VPX model as it ships (its login takes
// any user and password) over HTTPS on loopback, and returns its URL and
// certificate thumbprint.
func startPlainVPX(t *testing.T) (string, string) {
	t.Helper()
	m := simulator.VPX()
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	srv := m.Service.NewServer()
	t.Cleanup(func() { srv.Close(); m.Remove() })
	u := *srv.URL
	u.User = nil
	return u.String(), srv.CertificateInfo().ThumbprintSHA256
}

// TestPlanChecksTheSiteSecrets: plan tells before the drill that a
// secret the run would refuse is missing or too short, with its place.
func TestPlanChecksTheSiteSecrets(t *testing.T) {
	dir := t.TempDir()
	writeRunbook(t, dir, "site.yaml", "name: s\nvcenter:\n  url: https://vc.example.test/sdk\n  user: admin\n  password: env:DRBOOK_PLAN_VC\nguests:\n  ap01: {address: 127.0.0.1, password: prompt}\n")
	writeRunbook(t, dir, "p.yaml", "name: p\nsteps:\n  - {id: a, log: hi}\n")
	t.Setenv("DRBOOK_PLAN_VC", "pass")
	stdout, _, code := runDrbook(t, dir, "plan", "--site", "site.yaml", "p.yaml")
	// Nothing ran: a failed preflight is exit 2, like a site that does not fit.
	if code != exitUsage || !strings.Contains(stdout, "secrets: FAILED") || !strings.Contains(stdout, "site.yaml:5:13: vcenter.password: the secret is only 4 characters long") {
		t.Errorf("plan with a short secret exited %d:\n%s", code, stdout)
	}
	t.Setenv("DRBOOK_PLAN_VC", "long-enough")
	stdout, _, code = runDrbook(t, dir, "plan", "--site", "site.yaml", "p.yaml")
	if code != exitOK || !strings.Contains(stdout, "secrets: ok (1 read from the environment or files, 1 asked for at the terminal when the run starts)") {
		t.Errorf("plan with usable secrets exited %d:\n%s", code, stdout)
	}
}
