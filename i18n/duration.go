package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/journal"
)

// Duration words d for people in lang ("en" or "zh-TW"), to a tenth of a
// second: 58.4 s, 6 min 7.6 s, 5 min, 1 h 5 min (in zh-TW 58.4 秒,
// 6 分 7.6 秒, 5 分鐘, 1 小時 5 分鐘); a whole number of minutes or hours
// drops the zero seconds, and under 50 ms it says milliseconds ("12 ms",
// "< 1 ms"), since a fast step is not "0.0 s". The reports, the screen
// and every text drbook words with Errorf or Textf say durations so,
// never as Go's "5m0s".
func Duration(d time.Duration, lang string) string {
	v := d
	neg := v < 0
	if neg {
		v = -v
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if v > 0 && v < 50*time.Millisecond {
		if v < 500*time.Microsecond {
			return sign + "< 1 ms"
		}
		return sign + strconv.FormatInt(int64((v+500*time.Microsecond)/time.Millisecond), 10) + " ms"
	}
	tenths := int64((v + 50*time.Millisecond) / (100 * time.Millisecond))
	h, m, st := tenths/36000, tenths/600%60, tenths%600
	sec := strconv.FormatFloat(float64(st)/10, 'f', 1, 64)
	hour, minute, second := " h", " min", " s"
	if lang == "zh-TW" {
		hour, minute, second = " 小時", " 分鐘", " 秒"
		if st != 0 {
			// "6 分 7.6 秒": 分鐘 only stands alone.
			minute = " 分"
		}
	}
	var parts []string
	if h > 0 {
		parts = append(parts, strconv.FormatInt(h, 10)+hour)
	}
	if m > 0 {
		parts = append(parts, strconv.FormatInt(m, 10)+minute)
	}
	if st != 0 || (h == 0 && m == 0) {
		parts = append(parts, sec+second)
	}
	return sign + strings.Join(parts, " ")
}

// spoken is a duration argument of Errorf or Textf: %s and %v word it for
// people in lang (Duration); any other verb (%d, %x) formats the number.
type spoken struct {
	d    time.Duration
	lang string
}

func (s spoken) Format(f fmt.State, verb rune) {
	if verb == 's' || verb == 'v' {
		fmt.Fprint(f, Duration(s.d, s.lang))
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), int64(s.d))
}

// spokenArgs is args with each duration (time.Duration, journal.Duration)
// as spoken in lang.
func spokenArgs(args []any, lang string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch d := a.(type) {
		case time.Duration:
			a = spoken{d, lang}
		case journal.Duration:
			a = spoken{d.D(), lang}
		}
		out[i] = a
	}
	return out
}

// Sprintf is fmt.Sprintf for a reader of lang ("en" or "zh-TW"): each
// duration among args is worded for people (Duration) and each bilingual
// error is in lang. The command line's message catalogues format through
// it, so that a screen never shows Go's "5m0s".
func Sprintf(lang, format string, args ...any) string {
	if lang == "zh-TW" {
		return fmt.Sprintf(format, zhArgs(args)...)
	}
	return fmt.Sprintf(format, spokenArgs(args, lang)...)
}
