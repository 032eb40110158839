package journal

import "time"

// Evidence is what a step shows an auditor. Exactly one of the payload
// fields is set; Kind names which.
type Evidence struct {
	Kind       string      `json:"kind"` // table, diff, transcript, facts, timeline
	Title      string      `json:"title"`
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
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
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
}

// Moment is a timestamped happening, e.g. a vCenter event.
type Moment struct {
	At     time.Time `json:"at"`
	Label  string    `json:"label"`
	Source string    `json:"source,omitempty"`
}
