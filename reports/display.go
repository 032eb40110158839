package reports

import "github.com/drbook/drbook/journal"

// inLanguage returns r as the md and HTML reports show it in lang: what
// drbook journaled in both languages (step descriptions, evidence titles,
// table headings and drbook's own cell words, fact labels, timeline labels,
// notes, and the errors and skip reasons drbook worded) is put in lang. The
// journal keeps the English as its stable keys, and the JSON report both;
// text that came from elsewhere (a remote command's output, a vCenter
// event's message, the foreign part of an error) stays as it was said. r
// itself is not changed: one report renders in both languages.
func inLanguage(r *Report, lang string) *Report {
	if lang != LangZhTW {
		return r
	}
	in := func(en, zh string) string { return journal.Text{EN: en, ZhTW: zh}.In(lang) }
	notes := func(n NoteEntry) NoteEntry {
		n.Text = journal.Note{Text: n.Text, TextZhTW: n.TextZhTW}.TextIn(lang)
		return n
	}
	decisions := func(d DecisionEntry) DecisionEntry { d.Reason = in(d.Reason, d.ReasonZhTW); return d }
	outages := func(o Outage) Outage { o.Detail = in(o.Detail, o.DetailZhTW); return o }
	c := *r
	c.Steps = mapped(r.Steps, func(s Step) Step {
		s.Description = in(s.Description, s.DescriptionZhTW)
		s.Error = in(s.Error, s.ErrorZhTW)
		s.Reason = in(s.Reason, s.ReasonZhTW)
		s.Retries = mapped(s.Retries, func(x journal.StepRetry) journal.StepRetry { x.Error = x.ErrorIn(lang); return x })
		s.Evidence = evidenceIn(s.Evidence, lang)
		s.Notes = mapped(s.Notes, notes)
		s.Decisions = mapped(s.Decisions, decisions)
		return s
	})
	c.Cover.Error = in(r.Cover.Error, r.Cover.ErrorZhTW)
	c.Summary.Deviations = mapped(r.Summary.Deviations, func(d Deviation) Deviation { d.Detail = in(d.Detail, d.DetailZhTW); return d })
	c.Monitors = mapped(r.Monitors, func(m ServiceDowntime) ServiceDowntime {
		m.Windows, m.Unknown = mapped(m.Windows, outages), mapped(m.Unknown, outages)
		return m
	})
	c.Evidence = evidenceIn(r.Evidence, lang)
	c.Notes = mapped(r.Notes, notes)
	c.Decisions = mapped(r.Decisions, decisions)
	return &c
}

func evidenceIn(items []EvidenceItem, lang string) []EvidenceItem {
	return mapped(items, func(it EvidenceItem) EvidenceItem {
		it.Title = it.TitleIn(lang)
		if t := it.Table; t != nil {
			it.Table = &journal.Table{Columns: t.ColumnsIn(lang), Rows: t.RowsIn(lang)}
		}
		it.Facts = mapped(it.Facts, func(f journal.Fact) journal.Fact { return journal.Fact{Key: f.KeyIn(lang), Value: f.ValueIn(lang)} })
		it.Timeline = mapped(it.Timeline, func(m journal.Moment) journal.Moment {
			return journal.Moment{At: m.At, Label: m.LabelIn(lang), Source: m.Source}
		})
		return it
	})
}

// mapped is a new slice of f of each element of list (nil stays nil), so
// that r's own slices are never written.
func mapped[T any](list []T, f func(T) T) []T {
	if list == nil {
		return nil
	}
	out := make([]T, len(list))
	for i, x := range list {
		out[i] = f(x)
	}
	return out
}
