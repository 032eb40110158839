package i18n

import (
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

func TestDurationSpeaksAsTheReports(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		en, zh string
	}{
		{5 * time.Minute, "5 min", "5 分鐘"},
		{6*time.Minute + 7600*time.Millisecond, "6 min 7.6 s", "6 分 7.6 秒"},
		{58400 * time.Millisecond, "58.4 s", "58.4 秒"},
		{time.Hour + 5*time.Minute, "1 h 5 min", "1 小時 5 分鐘"},
		{12 * time.Millisecond, "12 ms", "12 ms"},
		{100 * time.Microsecond, "< 1 ms", "< 1 ms"},
		{0, "0.0 s", "0.0 秒"},
		{-90 * time.Second, "-1 min 30.0 s", "-1 分 30.0 秒"},
	} {
		if got := Duration(c.d, "en"); got != c.en {
			t.Errorf("Duration(%d, en) = %q, want %q", c.d, got, c.en)
		}
		if got := Duration(c.d, "zh-TW"); got != c.zh {
			t.Errorf("Duration(%d, zh-TW) = %q, want %q", c.d, got, c.zh)
		}
	}
}

// TestErrorfAndTextfSayDurationsForPeople: a duration given to Errorf or
// Textf reads "5 min" / "5 分鐘" in its language, never Go's "5m0s"; a
// verb other than %s or %v still formats the number.
func TestErrorfAndTextfSayDurationsForPeople(t *testing.T) {
	err := Errorf("timed out after %s", "逾時：已超過 %s", 5*time.Minute)
	if got, want := err.Error(), "timed out after 5 min"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := In(err, "zh-TW"), "逾時：已超過 5 分鐘"; got != want {
		t.Errorf("In(zh-TW) = %q, want %q", got, want)
	}
	tx := Textf("waited %v (%d ns)", "已等待 %v（%d 奈秒）", journal.Duration(90*time.Second), 3*time.Nanosecond)
	if want := (journal.Text{EN: "waited 1 min 30.0 s (3 ns)", ZhTW: "已等待 1 分 30.0 秒（3 奈秒）"}); tx != want {
		t.Errorf("Textf = %+v, want %+v", tx, want)
	}
}
