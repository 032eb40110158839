package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drbook/drbook/journal"
)

// goDuration is a duration as Go's time.Duration prints it ("5m0s",
// "1.503s", "22ms"), which no screen of drbook shows.
var goDuration = regexp.MustCompile(`\b\d+h\d+m\d|\b\d+m\d+(?:\.\d+)?s\b|\b\d+(?:\.\d+)?(?:ms|µs|s)\b`)

// TestScreenDurationsSpeakLikeTheReportsZhTW: the guided view's step
// list and RTO line (objective 5 min), the fleet view's RTO and the plain
// lines (ok in, failed after, retrying in, run ended after) say every
// duration as the reports do, in each language ("5 分鐘", "1.5 秒"),
// never as Go's "5m0s" or "1.503s".
func TestScreenDurationsSpeakLikeTheReportsZhTW(t *testing.T) {
	want := map[string][]string{
		"en":    {"objective 5 min", "1.5 s", "1 min 1.0 s", "22 ms", "ok in 1.5 s", "after 5 min", "retrying in 2.0 s", "after 6 min 7.6 s", "recovered 3.0 s/5 min"},
		"zh-TW": {"目標 5 分鐘", "1.5 秒", "1 分 1.0 秒", "22 ms", "耗時 1.5 秒", "耗時 5 分鐘", "2.0 秒 後重試", "共 6 分 7.6 秒", "已復原 3.0 秒／5 分鐘"},
	}
	for _, lang := range []string{"en", "zh-TW"} {
		v, _ := layoutView(lang)
		v.rto = 5 * time.Minute
		v.disrupted = v.now().Add(-10 * time.Second)
		v.recovered = v.now().Add(-7 * time.Second)
		screen := strings.Join(v.frameLocked(160, 0), "\n")

		var plain bytes.Buffer
		p := newPlainObserver(&plain, lang)
		t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		p.Event(journal.Event{Type: journal.TypeStepFinish, Time: t0, Step: "shut", StepFinish: &journal.StepFinish{Status: journal.StatusOK, Duration: journal.Duration(1503 * time.Millisecond)}})
		p.Event(journal.Event{Type: journal.TypeStepFinish, Time: t0, Step: "ha", StepFinish: &journal.StepFinish{Status: journal.StatusFailed, Duration: journal.Duration(5 * time.Minute), Error: "x", ErrorZhTW: "甲"}})
		p.Event(journal.Event{Type: journal.TypeStepRetry, Time: t0, Step: "ha", StepRetry: &journal.StepRetry{Attempt: 1, Error: "x", ErrorZhTW: "甲", Delay: journal.Duration(2 * time.Second)}})
		p.Event(journal.Event{Type: journal.TypeRunEnd, Time: t0, RunEnd: &journal.RunEnd{Result: "failed", Duration: journal.Duration(6*time.Minute + 7600*time.Millisecond)}})

		fv := &fleetView{lang: lang, msg: messagesFor(lang)}
		fleet := fv.rtoLocked(&fleetRow{rto: 5 * time.Minute, planned: map[string]journal.PlannedStep{"a": {}}, disrupted: t0, recovered: t0.Add(3 * time.Second)}, t0.Add(time.Minute))

		// The plain lines start with a clock (10:00:00.000), which is not a duration.
		all := screen + "\n" + regexp.MustCompile(`(?m)^\S+ `).ReplaceAllString(plain.String(), "") + "\n" + fleet
		for _, w := range want[lang] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q on the screen:\n%s", lang, w, all)
			}
		}
		if bad := goDuration.FindAllString(all, -1); len(bad) > 0 {
			t.Errorf("%s: Go durations %q on the screen:\n%s", lang, bad, all)
		}
	}
}
