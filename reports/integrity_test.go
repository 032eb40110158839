package reports

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

func TestReportShowsSignatureAndTampering(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dir := writeDrillJournal(t)
	sig, err := journal.Sign(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	r := buildRun(t, dir)
	s := r.Integrity.Signature
	if s == nil || !s.Valid || s.KeyFingerprint != sig.Fingerprint || s.Head != r.Integrity.FinalHash {
		t.Fatalf("signature status %+v", s)
	}
	var html bytes.Buffer
	if err := Render(&html, r, FormatHTML, LangEN); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{strings.ReplaceAll(sig.Fingerprint, "+", "&#43;"), r.Integrity.FinalHash, "valid ed25519 signature"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}

	// Cut the last line (the run.end): the chain alone is fine with it,
	// the signature is not, and the report says so.
	path := filepath.Join(dir, journal.FileName)
	data, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(data, []byte("\n"))
	os.WriteFile(path, bytes.Join(lines[:len(lines)-2], nil), 0o600)
	r = buildRun(t, dir)
	if !r.Integrity.ChainVerified || r.Integrity.Signature == nil || r.Integrity.Signature.Valid ||
		!strings.Contains(r.Integrity.Signature.Problem, "deleted from the end") {
		t.Fatalf("truncated journal: %+v %+v", r.Integrity, r.Integrity.Signature)
	}
	if d := r.Summary.Deviations[len(r.Summary.Deviations)-1]; d.Kind != DevIntegrity {
		t.Errorf("no integrity deviation: %+v", d)
	}

	// Edit a middle line: the chain breaks at the next line.
	os.WriteFile(path, bytes.Replace(data, []byte("esx-68"), []byte("esx-69"), 1), 0o600)
	r = buildRun(t, dir)
	if r.Integrity.ChainVerified || !strings.Contains(r.Integrity.ChainError, "hash chain broken") {
		t.Fatalf("edited journal: %+v", r.Integrity)
	}
}

func TestHistoryComparesRunsOfOneRunbook(t *testing.T) {
	runs := t.TempDir()
	mk := func(name, runbook string, start time.Time, down time.Duration) {
		dir := filepath.Join(runs, name)
		os.Mkdir(dir, 0o755)
		j := newJournal(t, dir)
		j.add(start, "", journal.Event{RunStart: &journal.RunStart{RunID: name, Runbook: runbook, RTO: dur("5m"),
			Steps: []journal.PlannedStep{{ID: "cut", Kind: "k", Disruptive: true}}}})
		j.add(start, "", journal.Event{Monitor: &journal.Monitor{Name: "ap-web", State: "up", Since: start, Resolution: dur("500ms")}})
		j.step("cut", "k", "", start.Add(time.Second), start.Add(2*time.Second), 1, journal.StatusOK, journal.StepFinish{})
		j.add(start.Add(3*time.Second), "", journal.Event{Monitor: &journal.Monitor{Name: "ap-web", State: "down", Since: start.Add(3 * time.Second), Resolution: dur("500ms")}})
		j.add(start.Add(3*time.Second+down), "", journal.Event{Monitor: &journal.Monitor{Name: "ap-web", State: "up", Since: start.Add(3*time.Second + down), Resolution: dur("500ms")}})
		j.add(start.Add(5*time.Minute), "", journal.Event{RunEnd: &journal.RunEnd{Result: "passed"}})
		j.close()
	}
	mk("2026-drill", "ha-host-failure", drillStart, 58400*time.Millisecond)
	mk("2025-drill", "ha-host-failure", drillStart.AddDate(-1, 0, 0), 2*time.Minute)
	mk("2026-restore", "ap-restore", drillStart.Add(time.Hour), time.Minute)
	os.Mkdir(filepath.Join(runs, "not-a-run"), 0o755)
	os.Mkdir(filepath.Join(runs, "broken"), 0o755)
	os.WriteFile(filepath.Join(runs, "broken", journal.FileName), []byte("{not json}\n"), 0o600)

	h, err := History(runs, "ha-host-failure")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 {
		t.Fatalf("%d entries: %+v", len(h), h)
	}
	// Oldest first; the unreadable run is listed with its problem.
	if h[0].Problem == "" || h[1].RunID != "2025-drill" || h[2].RunID != "2026-drill" {
		t.Fatalf("order: %+v", h)
	}
	if got := h[1].Downtime[0].Total.D(); got != 2*time.Minute {
		t.Errorf("2025 downtime %v", got)
	}
	if got := h[2].Downtime[0].Total.D(); got != 58400*time.Millisecond || !h[2].Verified || *h[2].RTOMeasured != dur("1m0.4s") {
		t.Errorf("2026: %+v", h[2])
	}

	r := buildRun(t, filepath.Join(runs, "2026-drill"))
	r.History = h
	var md bytes.Buffer
	if err := Render(&md, r, FormatMD, LangZhTW); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "本演練手冊歷次執行比較") || !strings.Contains(md.String(), "ap-web: 2 分鐘 (±0.5 秒)") {
		t.Errorf("history section missing:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "ap-web: 2 分鐘 (±0.5 秒)") {
		t.Errorf("history section lacks the 2025 downtime")
	}
	// A report's history is what preceded its run: not the run itself, not
	// a later run, not another runbook's, not an unreadable one. Given
	// with a trailing slash (as shell completion writes it) it is the same.
	mk("2027-drill", "ha-host-failure", drillStart.AddDate(1, 0, 0), time.Minute)
	ho, err := r.HistoryOf(filepath.Join(runs, "2026-drill") + "/")
	if err != nil || len(ho) != 1 || ho[0].RunID != "2025-drill" {
		t.Errorf("HistoryOf: %v, %+v", err, ho)
	}
	if _, err := History(filepath.Join(runs, "nope"), ""); err == nil {
		t.Error("missing runs folder accepted")
	}
}

// Every fixed text a renderer asks for exists in the catalog.
func TestEveryCatalogKeyUsedExists(t *testing.T) {
	re := regexp.MustCompile(`(?:\bT|\.T|Tf|\.Tf)\(?\s*"([a-z_]+)"`)
	files, _ := filepath.Glob("*.go")
	files = append(files, "templates/report.html.tmpl")
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			found++
			if _, ok := catalog[m[1]]; !ok {
				t.Errorf("%s uses text %q that the catalog lacks", f, m[1])
			}
		}
	}
	if found < 100 {
		t.Errorf("found only %d uses of fixed text: is the pattern still right?", found)
	}
}
