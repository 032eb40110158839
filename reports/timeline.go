package reports

import (
	"strconv"
	"time"

	"github.com/drbook/drbook/journal"
)

// The timeline is drawn in a fixed coordinate space (the SVG viewBox) and
// scaled by the page, so it fits the screen and an A4 sheet alike.
const (
	tlWidth     = 1000.0
	tlLabelW    = 170.0
	tlRight     = 990.0
	tlRowH      = 16.0
	tlBarH      = 11.0
	tlTop       = 38.0
	tlMaxLabels = 60 // beyond this many steps, steps are packed into lanes without labels
	tlMaxLanes  = 40
)

// timeline is the SVG picture's geometry, computed in Go so the template
// only places ready-made shapes.
type timeline struct {
	Width, Height string
	Rows          []tlRow
	Bars          []tlBar
	Bands         []tlBand
	Marks         []tlMark
	Ticks         []tlTick
	ChartTop      string
	ChartBottom   string
	LabelX        string
	ChartLeft     string
	ChartRight    string
	// Packed is set when the steps were packed into lanes (many steps).
	Packed       bool
	Steps, Lanes int
}

type tlRow struct{ Y, Label, Class string }

type tlBar struct{ X, Y, W, H, Class, Title string }

type tlBand struct{ X, W, Y, H, Title string }

type tlMark struct{ X, Y1, Y2, LabelY, Label, Class, Anchor string }

type tlTick struct{ X, Y, Label string }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// buildTimeline lays out monitors (one row each, outages as red segments
// and as bands across the chart) and steps (a row each, or lanes when there
// are too many to label).
func buildTimeline(r *Report, l *localizer) *timeline {
	t0 := r.Cover.Start
	t1 := t0
	if r.Cover.End != nil {
		t1 = *r.Cover.End
	}
	for _, s := range r.Steps {
		if s.End != nil && s.End.After(t1) {
			t1 = *s.End
		}
	}
	span := t1.Sub(t0)
	if span <= 0 {
		span = time.Second
	}
	chartW := tlRight - tlLabelW
	x := func(t time.Time) float64 {
		v := tlLabelW + chartW*float64(t.Sub(t0))/float64(span)
		return min(max(v, tlLabelW), tlRight)
	}
	tl := &timeline{LabelX: f1(tlLabelW - 6), ChartLeft: f1(tlLabelW), ChartRight: f1(tlRight), Steps: len(r.Steps)}

	y := tlTop
	for _, m := range r.Monitors {
		tl.Rows = append(tl.Rows, tlRow{Y: f1(y + tlBarH - 2), Label: m.Name, Class: "mon"})
		tl.Bars = append(tl.Bars, tlBar{X: f1(tlLabelW), Y: f1(y), W: f1(chartW), H: f1(tlBarH), Class: "up",
			Title: m.Name})
		for _, w := range m.Windows {
			end := t1
			if w.End != nil {
				end = *w.End
			}
			x0, x1 := x(w.Start), x(end)
			title := m.Name + " " + l.Clock(w.Start) + " → " + l.ClockP(w.End) + " (" + l.Dur(w.Duration) + " ±" + l.Dur(m.Resolution)
			if lab := l.LabShort(w.Duration); lab != "" {
				title += "; " + lab
			}
			title += ")"
			tl.Bars = append(tl.Bars, tlBar{X: f1(x0), Y: f1(y), W: f1(max(x1-x0, 1.5)), H: f1(tlBarH), Class: "down", Title: title})
			tl.Bands = append(tl.Bands, tlBand{X: f1(x0), W: f1(max(x1-x0, 1.5)), Title: title})
		}
		y += tlRowH
	}
	if len(r.Monitors) > 0 {
		y += 4
	}

	status := func(s *Step) string {
		switch s.Status {
		case journal.StatusOK:
			return "ok"
		case journal.StatusFailed, journal.StatusCancelled:
			return "failed"
		case journal.StatusManual:
			return "manual"
		case journal.StatusInterrupted:
			return "interrupted"
		}
		return "skipped"
	}
	barOf := func(s *Step, y float64) (tlBar, bool) {
		if s.Start == nil {
			return tlBar{}, false
		}
		end := t1
		if s.End != nil {
			end = *s.End
		}
		x0, x1 := x(*s.Start), x(end)
		title := s.ID + " · " + l.StepName(s) + " · " + l.Enum("status", s.Status) + " · " + l.Dur(s.Duration)
		return tlBar{X: f1(x0), Y: f1(y), W: f1(max(x1-x0, 1)), H: f1(tlBarH), Class: "st " + status(s), Title: title}, true
	}
	if len(r.Steps) <= tlMaxLabels {
		for i := range r.Steps {
			s := &r.Steps[i]
			label, cut := trimBytes(s.ID, 25)
			if cut {
				label += "…"
			}
			cls := "step"
			if s.Status == StatusNotRun {
				cls = "step notrun"
			}
			tl.Rows = append(tl.Rows, tlRow{Y: f1(y + tlBarH - 2), Label: label, Class: cls})
			if b, ok := barOf(s, y); ok {
				tl.Bars = append(tl.Bars, b)
			}
			y += tlRowH
		}
	} else {
		// Greedy interval packing: a sequential run needs one lane, a
		// for_each fan-out as many as ran at once.
		tl.Packed = true
		var laneEnd []time.Time
		for i := range r.Steps {
			s := &r.Steps[i]
			if s.Start == nil {
				continue
			}
			lane := -1
			for j, e := range laneEnd {
				if !s.Start.Before(e) {
					lane = j
					break
				}
			}
			if lane < 0 {
				if len(laneEnd) < tlMaxLanes {
					laneEnd = append(laneEnd, time.Time{})
					lane = len(laneEnd) - 1
				} else {
					lane = len(laneEnd) - 1
				}
			}
			end := t1
			if s.End != nil {
				end = *s.End
			}
			laneEnd[lane] = end
			if b, ok := barOf(s, y+float64(lane)*tlRowH); ok {
				tl.Bars = append(tl.Bars, b)
			}
		}
		tl.Lanes = len(laneEnd)
		for j := range laneEnd {
			tl.Rows = append(tl.Rows, tlRow{Y: f1(y + float64(j)*tlRowH + tlBarH - 2), Label: l.T("steps") + " " + strconv.Itoa(j+1), Class: "step"})
		}
		y += float64(len(laneEnd)) * tlRowH
	}
	bottom := y + 2
	for i := range tl.Bands {
		tl.Bands[i].Y, tl.Bands[i].H = f1(tlTop-4), f1(bottom-tlTop+4)
	}
	tl.ChartTop, tl.ChartBottom = f1(tlTop-4), f1(bottom)

	// Time axis: about six ticks at a round step. A span far longer than
	// the largest round step (a journal with a missing or wild time) still
	// gets about six, not one a day.
	stepD := niceStep(span / 6)
	if span/stepD > 12 {
		stepD = span / 6
	}
	first := t0.Truncate(stepD)
	if first.Before(t0) {
		first = first.Add(stepD)
	}
	// Ticks under a second apart carry tenths, so no two read the same.
	tickFormat := "15:04:05"
	if stepD < time.Second {
		tickFormat = "15:04:05.0"
	}
	for tk := first; !tk.After(t1) && len(tl.Ticks) < 12; tk = tk.Add(stepD) {
		tl.Ticks = append(tl.Ticks, tlTick{X: f1(x(tk)), Y: f1(bottom + 12), Label: tk.In(l.loc).Format(tickFormat)})
	}
	if rec := r.Summary.Recovery; rec != nil {
		// A label runs away from the chart's nearer edge so that it is
		// never cut off by the picture's border: the disruption's to the
		// left of its line unless that would cross into the row labels,
		// recovery's to the right unless it would run past the end. When
		// both marks are close, recovery's label goes one line higher.
		fromX := x(rec.From)
		dAnchor := "end"
		if fromX-tlLabelW < labelWidth(l.T("disruption")) {
			dAnchor = "start"
		}
		tl.Marks = append(tl.Marks, tlMark{X: f1(fromX), Y1: f1(tlTop - 10), Y2: f1(bottom), LabelY: f1(tlTop - 13), Label: l.T("disruption"), Class: "disrupt", Anchor: dAnchor})
		if rec.To != nil {
			toX, label := x(*rec.To), recoveredLabel(l, *rec.Measured)
			rAnchor, labelY := "start", tlTop-13
			if toX+labelWidth(label) > tlWidth-2 {
				rAnchor = "end"
			}
			if toX-fromX < labelWidth(label)+labelWidth(l.T("disruption")) {
				labelY = tlTop - 23
			}
			tl.Marks = append(tl.Marks, tlMark{X: f1(toX), Y1: f1(labelY + 3), Y2: f1(bottom), LabelY: f1(labelY), Label: label, Class: "recover", Anchor: rAnchor})
		}
	}
	tl.Width, tl.Height = f1(tlWidth), f1(bottom+20)
	return tl
}

// labelWidth estimates how wide text is in the timeline's 10-unit font:
// about 5.6 units a Latin character and 10 a CJK one, on the generous side.
func labelWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 10
		} else {
			w += 5.6
		}
	}
	return w
}

// niceStep rounds a tick interval up to 1, 2, 5, 10, 15 or 30 of a unit.
func niceStep(d time.Duration) time.Duration {
	for _, s := range []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	} {
		if s >= d {
			return s
		}
	}
	return 24 * time.Hour
}

// recoveredLabel marks recovery on the timeline with the measured time and,
// for a lab run, its simulated equivalent.
func recoveredLabel(l *localizer, d journal.Duration) string {
	label := l.T("recovered") + " " + l.Dur(d)
	if lab := l.LabShort(d); lab != "" {
		label += " (" + lab + ")"
	}
	return label
}
