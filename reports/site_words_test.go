package reports

import "testing"

// TestSiteNameSaysWhereARunWithoutASiteRan: the cover names a run given
// no site file (journaled as "none") in words, the embedded lab for a lab
// run, and a real site by its name, in both languages.
func TestSiteNameSaysWhereARunWithoutASiteRan(t *testing.T) {
	for _, c := range []struct{ name, mode, en, zh string }{
		{"none", "drill", "not given (the run used no site file)", "未指定（本次執行未使用場域檔）"},
		{"", "recovery", "not given (the run used no site file)", "未指定（本次執行未使用場域檔）"},
		{"none", ModeLab, "the embedded lab (simulated)", "內建模擬環境"},
		{"sanchong-lab", ModeLab, "sanchong-lab", "sanchong-lab"},
		{"land-office", "drill", "land-office", "land-office"},
	} {
		if got := SiteName(c.name, c.mode, LangEN); got != c.en {
			t.Errorf("SiteName(%q, %q, en) = %q, want %q", c.name, c.mode, got, c.en)
		}
		if got := SiteName(c.name, c.mode, LangZhTW); got != c.zh {
			t.Errorf("SiteName(%q, %q, zh-TW) = %q, want %q", c.name, c.mode, got, c.zh)
		}
	}
}
