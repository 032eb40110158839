package main

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/drbook/drbook/journal"
)

// columnsOf counts the terminal columns of plain text the way a terminal
// draws it, without go-runewidth, so the layout is checked against an
// independent count: Han characters, CJK punctuation, fullwidth forms and
// the raised hand are two columns, everything else in these tests one.
func columnsOf(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r), r >= 0x3000 && r <= 0x303f, r >= 0xff01 && r <= 0xff60, r == '✋':
			n += 2
		default:
			n++
		}
	}
	return n
}

// layoutView is a view of finished steps with mixed CJK and ASCII names,
// each with a duration no other line shows.
func layoutView(lang string) (*guidedView, map[string]string) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	v := &guidedView{lang: lang, msg: messagesFor(lang), now: func() time.Time { return t0.Add(90 * time.Second) },
		byID: map[string]*viewStep{}, monitors: map[string]*viewMonitor{}, tails: map[string][]string{}}
	steps := []struct {
		id     string
		name   journal.Text
		status string
		d      time.Duration
	}{
		{"placement_before", journal.Text{EN: "Record the normal placement of VMs", ZhTW: "記錄正常狀態之 VM 配置（圖 34）"}, journal.StatusOK, 22 * time.Millisecond},
		{"shut", journal.Text{EN: "Shut down host .68", ZhTW: "將主機 .68 關機"}, journal.StatusOK, 1503 * time.Millisecond},
		{"ha", journal.Text{EN: "Verify HA", ZhTW: "確認 HA 機制已於其他主機重新啟動 VM"}, journal.StatusOK, 61 * time.Second},
		{"ascii_only", journal.Text{EN: "An English name"}, journal.StatusOK, 7 * time.Millisecond},
		{"console", journal.Text{EN: "Read the console", ZhTW: "讀取主控台"}, journal.StatusManual, 4 * time.Second},
		{"x", journal.Text{ZhTW: "短"}, journal.StatusSkipped, 3 * time.Millisecond},
	}
	durations := map[string]string{}
	for _, s := range steps {
		vs := &viewStep{planned: journal.PlannedStep{ID: s.id, Name: s.name, Block: "steps"}, status: s.status, duration: s.d}
		v.steps = append(v.steps, vs)
		v.byID[s.id] = vs
		durations[s.id] = s.d.String()
	}
	return v, durations
}

// stepRows finds each step's line in a frame and the column its duration
// starts at.
func stepRows(t *testing.T, frame []string, durations map[string]string) map[string]int {
	t.Helper()
	cols := map[string]int{}
	for _, line := range frame {
		plain := ansiEscape.ReplaceAllString(line, "")
		for id, d := range durations {
			if !strings.Contains(plain, " "+id+" ") {
				continue
			}
			i := strings.Index(plain, " "+d)
			if i < 0 {
				t.Errorf("the line of %s does not show its duration %s: %q", id, d, plain)
				continue
			}
			cols[id] = columnsOf(plain[:i+1])
		}
	}
	if len(cols) != len(durations) {
		t.Fatalf("found the lines of %v among %d steps; the frame:\n%s", cols, len(durations), strings.Join(frame, "\n"))
	}
	return cols
}

// TestStepListAligned: with names in Chinese, English, or both, the
// duration column starts at the same terminal column on every line, in a
// wide terminal and in a narrow one, where long names are cut with "…"
// and no line runs past the terminal's width.
func TestStepListAligned(t *testing.T) {
	for _, lang := range []string{"en", "zh-TW"} {
		for _, width := range []int{160, 60} {
			v, durations := layoutView(lang)
			frame := v.frameLocked(width, 0)
			cols := stepRows(t, frame, durations)
			want := cols["shut"]
			for id, c := range cols {
				if c != want {
					t.Errorf("%s, %d columns: %s's duration starts at column %d, shut's at %d; the frame:\n%s", lang, width, id, c, want, strings.Join(frame, "\n"))
				}
			}
			for _, line := range frame {
				if w := columnsOf(ansiEscape.ReplaceAllString(clip(line, width), "")); w > width {
					t.Errorf("%s: a line %d columns wide in a %d-column terminal: %q", lang, w, width, line)
				}
			}
			if lang == "zh-TW" && width == 60 && !strings.Contains(strings.Join(frame, "\n"), "…") {
				t.Errorf("no name was cut in a 60-column terminal:\n%s", strings.Join(frame, "\n"))
			}
		}
	}
}

// TestClipCountsWideCharacters: clip keeps escape codes, counts a CJK
// character as two columns and never splits one.
func TestClipCountsWideCharacters(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  string
	}{
		{"abc", 10, "abc"},
		{"演練步驟", 5, "演練"},
		{"演練步驟", 4, "演練"},
		{ansiBold + "步驟 ok" + ansiReset + " 略過", 6, ansiBold + "步驟 o"},
		{"a演", 2, "a"},
	} {
		got := strings.TrimSuffix(clip(c.in, c.width), ansiReset+ansiClearLine)
		if got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

// TestPromptWrapsInsteadOfCut: a zh-TW question longer than the terminal
// is wrapped, every part on screen, none wider than the terminal.
func TestPromptWrapsInsteadOfCut(t *testing.T) {
	v, _ := layoutView("zh-TW")
	v.question = []string{"── shut [vcenter.host.shutdown] 將主機 .68 關機（模擬主機突發異常，圖 35）"}
	v.prompt = v.msg.T("prompt.confirm")
	v.input = []rune("r")
	frame := v.frameLocked(40, 0)
	joined := strings.Join(frame, "")
	for _, want := range []string{"將主機 .68 關機（模擬主機突發異常，圖 35）", "[r]執行 [s]略過 [d]人工完成 [a]中止？r"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the prompt area lost %q:\n%s", want, strings.Join(frame, "\n"))
		}
	}
	for _, line := range frame[len(frame)-4:] {
		if w := columnsOf(line); w > 40 {
			t.Errorf("prompt line %q is %d columns in a 40-column terminal", line, w)
		}
	}
}
