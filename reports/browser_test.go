package reports

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium (apt-get install -y chromium); the PDF
// text is read with pdftotext (apt-get install -y poppler-utils).
const chromiumPath = "/usr/bin/chromium"

// TestBrowserPrintsReport renders HTML reports in a real headless
// browser, prints them to A4 PDFs and takes PNG screenshots, and checks
// what the printed text must hold: the key sections, every page's footer
// (run id, final hash, page n of m), and for a journal that does not
// verify, NOT VERIFIED on the first page and PASSED nowhere. It runs when
// chromium is installed; with DRBOOK_E2E=1 it must run. DRBOOK_E2E_KEEP=DIR
// keeps the PDFs and PNGs there for a person to look at (pdftoppm -png).
func TestBrowserPrintsReport(t *testing.T) {
	required := os.Getenv("DRBOOK_E2E") == "1"
	if _, err := os.Stat(chromiumPath); err != nil {
		if required {
			t.Fatalf("DRBOOK_E2E=1 but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("%s not installed; apt-get install -y chromium to run this test", chromiumPath)
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil && required {
		t.Fatal("DRBOOK_E2E=1 but pdftotext is missing: apt-get install -y poppler-utils")
	}
	fixture := goldenReport(t)
	guided := buildRun(t, filepath.Join("testdata", "runs", "guided"))
	tampered := buildRun(t, filepath.Join("testdata", "runs", "tampered"))
	dir := t.TempDir()
	keep := os.Getenv("DRBOOK_E2E_KEEP")

	cases := []struct {
		name, lang  string
		r           *Report
		want        []string
		notVerified bool
	}{
		{"fixture", LangEN, fixture, []string{"Drill report", "HA drill: sudden failure of host .68", "Summary", "Recovery time objective", "1 min 20.2 s", "58.4 s", "Timeline", "Steps", "Evidence", "Sign-off", "Auditor", "Integrity", goldenHash[:32]}, false},
		{"fixture", LangZhTW, fixture, []string{"演練報告", "主機 .68 無預警停機", "摘要", "復原時間目標", "停機時間", "時間軸", "步驟", "佐證資料", "簽核", "稽核人員", "完整性驗證", goldenHash[:32]}, false},
		// The reference HA drill, guided, in the lab: its page count is
		// logged for the README and the issue.
		{"ha-guided", LangEN, guided, []string{"PASSED", "Human wait time", "Between steps and sessions"}, false},
		{"ha-guided", LangZhTW, guided, []string{"通過", "人工等待時間", "停機時段"}, false},
		{"ha-tampered", LangEN, tampered, []string{"NOT VERIFIED: this journal does not verify", "was edited"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.lang, func(t *testing.T) {
			if tc.lang == LangZhTW && !haveCJKFont() {
				if required {
					t.Fatal("DRBOOK_E2E=1 but no Traditional Chinese font: apt-get install -y fonts-noto-cjk")
				}
				t.Skip("no CJK font installed (apt-get install -y fonts-noto-cjk); the zh-TW PDF would print empty boxes")
			}
			base := tc.name + "." + tc.lang
			htmlPath := filepath.Join(dir, base+".html")
			var buf bytes.Buffer
			if err := Render(&buf, tc.r, FormatHTML, tc.lang); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(htmlPath, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			pdf := filepath.Join(dir, base+".pdf")
			png := filepath.Join(dir, base+".png")
			chromium(t, dir, "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+htmlPath)
			checkMagic(t, pdf, "%PDF-")
			if tc.name == "ha-guided" {
				// A screenshot of the screen view, for a person to look at.
				chromium(t, dir, "--window-size=1100,2400", "--screenshot="+png, "file://"+htmlPath)
				checkMagic(t, png, "\x89PNG\r\n\x1a\n")
			}
			if keep != "" {
				os.MkdirAll(keep, 0o755)
				for _, f := range []string{pdf, png} {
					b, err := os.ReadFile(f)
					if err != nil {
						continue
					}
					os.WriteFile(filepath.Join(keep, filepath.Base(f)), b, 0o644)
				}
			}
			if pdftotext == "" {
				t.Log("pdftotext not installed; PDF text not checked")
				return
			}
			out, err := exec.CommandContext(t.Context(), pdftotext, "-layout", pdf, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := string(out)
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("printed PDF lacks %q", w)
				}
			}
			pages := strings.Split(strings.TrimSuffix(text, "\f"), "\f")
			t.Logf("%s: %d A4 pages", base, len(pages))
			if len(pages) < 3 || len(pages) > 12 {
				t.Errorf("the A4 print has %d pages; a drill should take a handful", len(pages))
			}
			l, _ := newLocalizer(tc.r, tc.lang)
			for i, p := range pages {
				flat := strings.Join(strings.Fields(p), " ")
				page := l.T("footer_page_before") + strconv.Itoa(i+1) + l.T("footer_page_middle") + strconv.Itoa(len(pages))
				for _, w := range []string{tc.r.Cover.RunID, tc.r.Integrity.FinalHash[:40], strings.TrimSpace(page)} {
					if !strings.Contains(strings.ReplaceAll(flat, " ", ""), strings.ReplaceAll(w, " ", "")) {
						t.Errorf("page %d's footer lacks %q", i+1, w)
					}
				}
			}
			if tc.notVerified {
				if !strings.Contains(pages[0], "NOT VERIFIED") {
					t.Error("the first page does not say NOT VERIFIED")
				}
				if strings.Contains(text, "PASSED") {
					t.Error("the print of a journal that does not verify says PASSED")
				}
			}
		})
	}
}

// chromium runs one headless chromium job with its own profile and no
// background network traffic.
func chromium(t *testing.T, dir string, args ...string) {
	t.Helper()
	profile, err := os.MkdirTemp(dir, "profile-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile}
	cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, out)
	}
}

func checkMagic(t *testing.T, path, magic string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("browser did not produce %s: %v", filepath.Base(path), err)
	}
	if len(b) < 1000 || !strings.HasPrefix(string(b), magic) {
		t.Fatalf("%s is not a real file of its kind (%d bytes)", filepath.Base(path), len(b))
	}
}

func haveCJKFont() bool {
	out, err := exec.Command("fc-list", ":lang=zh-tw").Output()
	return err == nil && len(bytes.TrimSpace(out)) > 0
}
