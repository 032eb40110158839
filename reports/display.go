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
	c := *r
	c.Steps = make([]Step, len(r.Steps))
	for i, s := range r.Steps {
		s.Description = journal.Text{EN: s.Description, ZhTW: s.DescriptionZhTW}.In(lang)
		s.Error = journal.Text{EN: s.Error, ZhTW: s.ErrorZhTW}.In(lang)
		s.Reason = journal.Text{EN: s.Reason, ZhTW: s.ReasonZhTW}.In(lang)
		if s.Retries != nil {
			retries := make([]journal.StepRetry, len(s.Retries))
			for j, x := range s.Retries {
				x.Error = x.ErrorIn(lang)
				retries[j] = x
			}
			s.Retries = retries
		}
		s.Evidence = evidenceIn(s.Evidence, lang)
		s.Notes = notesIn(s.Notes, lang)
		s.Decisions = decisionsIn(s.Decisions, lang)
		c.Steps[i] = s
	}
	c.Cover.Error = journal.Text{EN: r.Cover.Error, ZhTW: r.Cover.ErrorZhTW}.In(lang)
	if r.Summary.Deviations != nil {
		c.Summary.Deviations = make([]Deviation, len(r.Summary.Deviations))
		for i, d := range r.Summary.Deviations {
			d.Detail = journal.Text{EN: d.Detail, ZhTW: d.DetailZhTW}.In(lang)
			c.Summary.Deviations[i] = d
		}
	}
	if r.Monitors != nil {
		c.Monitors = make([]ServiceDowntime, len(r.Monitors))
		for i, m := range r.Monitors {
			m.Windows, m.Unknown = outagesIn(m.Windows, lang), outagesIn(m.Unknown, lang)
			c.Monitors[i] = m
		}
	}
	c.Evidence = evidenceIn(r.Evidence, lang)
	c.Notes = notesIn(r.Notes, lang)
	c.Decisions = decisionsIn(r.Decisions, lang)
	return &c
}

func evidenceIn(items []EvidenceItem, lang string) []EvidenceItem {
	if items == nil {
		return nil
	}
	out := make([]EvidenceItem, len(items))
	for i, it := range items {
		it.Title = it.TitleIn(lang)
		if t := it.Table; t != nil {
			it.Table = &journal.Table{Columns: t.ColumnsIn(lang), Rows: t.RowsIn(lang)}
		}
		if it.Facts != nil {
			facts := make([]journal.Fact, len(it.Facts))
			for j, f := range it.Facts {
				facts[j] = journal.Fact{Key: f.KeyIn(lang), Value: f.ValueIn(lang)}
			}
			it.Facts = facts
		}
		if it.Timeline != nil {
			tl := make([]journal.Moment, len(it.Timeline))
			for j, m := range it.Timeline {
				tl[j] = journal.Moment{At: m.At, Label: m.LabelIn(lang), Source: m.Source}
			}
			it.Timeline = tl
		}
		out[i] = it
	}
	return out
}

func notesIn(notes []NoteEntry, lang string) []NoteEntry {
	if notes == nil {
		return nil
	}
	out := make([]NoteEntry, len(notes))
	for i, n := range notes {
		n.Text = journal.Note{Text: n.Text, TextZhTW: n.TextZhTW}.TextIn(lang)
		out[i] = n
	}
	return out
}

func outagesIn(list []Outage, lang string) []Outage {
	if list == nil {
		return nil
	}
	out := make([]Outage, len(list))
	for i, o := range list {
		o.Detail = journal.Text{EN: o.Detail, ZhTW: o.DetailZhTW}.In(lang)
		out[i] = o
	}
	return out
}

func decisionsIn(list []DecisionEntry, lang string) []DecisionEntry {
	if list == nil {
		return nil
	}
	out := make([]DecisionEntry, len(list))
	for i, d := range list {
		d.Reason = journal.Text{EN: d.Reason, ZhTW: d.ReasonZhTW}.In(lang)
		out[i] = d
	}
	return out
}
