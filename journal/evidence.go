package journal

import "time"

// Evidence is what a step shows an auditor. Exactly one of the payload
// fields is set; Kind names which.
type Evidence struct {
	Kind  string `json:"kind"` // table, diff, transcript, facts, timeline
	Title string `json:"title"`
	// TitleZhTW is Title in Traditional Chinese. The English title stays
	// the stable key (tests and tools match it); reports show this one in
	// zh-TW. Empty in journals written before drbook said it.
	TitleZhTW  string      `json:"title_zh_tw,omitempty"`
	Table      *Table      `json:"table,omitempty"`
	Diff       *Diff       `json:"diff,omitempty"`
	Transcript *Transcript `json:"transcript,omitempty"`
	Facts      []Fact      `json:"facts,omitempty"`
	Timeline   []Moment    `json:"timeline,omitempty"`
}

// Evidence kinds.
const (
	EvidenceTable      = "table"
	EvidenceDiff       = "diff"
	EvidenceTranscript = "transcript"
	EvidenceFacts      = "facts"
	EvidenceTimeline   = "timeline"
)

// Table is rows of text under column headings.
type Table struct {
	Columns []string `json:"columns"`
	// ColumnsZhTW are the column headings in Traditional Chinese, one per
	// column, or none.
	ColumnsZhTW []string   `json:"columns_zh_tw,omitempty"`
	Rows        [][]string `json:"rows"`
	// RowsZhTW are the rows in Traditional Chinese, row for row and cell
	// for cell, when some cells are drbook's words ("yes", "restarted")
	// rather than names or values; none otherwise.
	RowsZhTW [][]string `json:"rows_zh_tw,omitempty"`
}

// Diff is a unified diff of one file.
type Diff struct {
	Path    string `json:"path"`
	Unified string `json:"unified"`
}

// Transcript is a command and what it printed, trimmed; the full text is in
// the named artifacts.
type Transcript struct {
	Target         string `json:"target,omitempty"`
	Command        string `json:"command"`
	ExitCode       int    `json:"exit_code"`
	Stdout         string `json:"stdout,omitempty"`
	Stderr         string `json:"stderr,omitempty"`
	Truncated      bool   `json:"truncated,omitempty"`
	StdoutArtifact string `json:"stdout_artifact,omitempty"`
	StderrArtifact string `json:"stderr_artifact,omitempty"`
}

// Fact is one labelled value.
type Fact struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// KeyZhTW is Key in Traditional Chinese, for reports.
	KeyZhTW string `json:"key_zh_tw,omitempty"`
	// ValueZhTW is Value in Traditional Chinese when the value is
	// drbook's word ("yes", "on") rather than a name or a number.
	ValueZhTW string `json:"value_zh_tw,omitempty"`
}

// Moment is a timestamped happening, e.g. a vCenter event.
type Moment struct {
	At    time.Time `json:"at"`
	Label string    `json:"label"`
	// LabelZhTW is Label in Traditional Chinese when drbook wrote the
	// label; a label quoted from elsewhere (a vCenter event's message)
	// has none.
	LabelZhTW string `json:"label_zh_tw,omitempty"`
	Source    string `json:"source,omitempty"`
}

// TitleIn returns the evidence's title in lang ("en" or "zh-TW").
func (e Evidence) TitleIn(lang string) string {
	return Text{EN: e.Title, ZhTW: e.TitleZhTW}.In(lang)
}

// ColumnsIn returns the table's headings in lang.
func (t Table) ColumnsIn(lang string) []string {
	if lang == "zh-TW" && len(t.ColumnsZhTW) == len(t.Columns) {
		return t.ColumnsZhTW
	}
	return t.Columns
}

// RowsIn returns the table's rows in lang.
func (t Table) RowsIn(lang string) [][]string {
	if lang == "zh-TW" && len(t.RowsZhTW) == len(t.Rows) {
		return t.RowsZhTW
	}
	return t.Rows
}

// YesNo words b for a table cell: {"yes", "是"} or {"no", "否"}.
func YesNo(b bool) (en, zhTW string) {
	if b {
		return "yes", "是"
	}
	return "no", "否"
}

// KeyIn returns the fact's label in lang.
func (f Fact) KeyIn(lang string) string { return Text{EN: f.Key, ZhTW: f.KeyZhTW}.In(lang) }

// ValueIn returns the fact's value in lang.
func (f Fact) ValueIn(lang string) string {
	return Text{EN: f.Value, ZhTW: f.ValueZhTW}.In(lang)
}

// LabelIn returns the moment's label in lang.
func (m Moment) LabelIn(lang string) string { return Text{EN: m.Label, ZhTW: m.LabelZhTW}.In(lang) }

// Facts builds facts from {English key, Traditional Chinese key, value}
// triples, so a kind says each label in both languages where it sets it.
func Facts(kv ...[3]string) []Fact {
	out := make([]Fact, len(kv))
	for i, f := range kv {
		out[i] = Fact{Key: f[0], KeyZhTW: f[1], Value: f[2]}
	}
	return out
}
