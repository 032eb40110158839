// Package journal is the durable record of one run: an append-only file of
// JSON lines, each carrying the SHA-256 of the line before it, fsync'd as it
// is written. The engine writes it, resume and the reports read it, and
// nothing else is needed to know what happened during a run.
//
// Step kinds emit their evidence as the generic types in this package
// (tables, diffs, transcripts, facts, timelines) so that a renderer never
// needs to know a kind.
package journal

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version of the journal's event format.
const SchemaVersion = 1

// Event types.
const (
	TypeRunStart   = "run.start"
	TypeRunResume  = "run.resume"
	TypeRunEnd     = "run.end"
	TypeStepStart  = "step.start"
	TypeStepRetry  = "step.retry"
	TypeStepFinish = "step.finish"
	TypeEvidence   = "evidence"
	TypeNote       = "note"
	TypeDecision   = "decision"
	TypeTrust      = "trust"
	TypeMonitor    = "monitor"
	TypeArtifact   = "artifact"
)

// Step statuses.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusInterrupted = "interrupted"
	StatusCancelled   = "cancelled"
	StatusManual      = "done-by-hand"
)

// Event is one line of the journal. Exactly one payload pointer is set,
// matching Type.
type Event struct {
	Seq  int64     `json:"seq"`
	Type string    `json:"type"`
	Time time.Time `json:"time"`
	// Elapsed is the monotonic time since the run (or resumed session) began.
	Elapsed Duration `json:"elapsed"`
	// Step is the step instance the event belongs to, if any.
	Step string `json:"step,omitempty"`

	RunStart   *RunStart   `json:"run_start,omitempty"`
	RunResume  *RunResume  `json:"run_resume,omitempty"`
	RunEnd     *RunEnd     `json:"run_end,omitempty"`
	StepStart  *StepStart  `json:"step_start,omitempty"`
	StepRetry  *StepRetry  `json:"step_retry,omitempty"`
	StepFinish *StepFinish `json:"step_finish,omitempty"`
	Evidence   *Evidence   `json:"evidence,omitempty"`
	Note       *Note       `json:"note,omitempty"`
	Decision   *Decision   `json:"decision,omitempty"`
	Trust      *Trust      `json:"trust,omitempty"`
	Monitor    *Monitor    `json:"monitor,omitempty"`
	Artifact   *Artifact   `json:"artifact,omitempty"`

	// Prev is the hex SHA-256 of the previous line ("" on the first line).
	Prev string `json:"prev"`
}

// RunStart opens a run.
type RunStart struct {
	Schema        int               `json:"schema"`
	RunID         string            `json:"run_id"`
	Runbook       string            `json:"runbook"`
	RunbookPath   string            `json:"runbook_path"`
	RunbookSHA256 string            `json:"runbook_sha256"`
	RunbookVer    string            `json:"runbook_version,omitempty"`
	Title         Text              `json:"title,omitempty"`
	Site          string            `json:"site,omitempty"`
	SitePath      string            `json:"site_path,omitempty"`
	SiteSHA256    string            `json:"site_sha256,omitempty"`
	DrbookVersion string            `json:"drbook_version"`
	Operator      string            `json:"operator"`
	Machine       string            `json:"machine"`
	Mode          string            `json:"mode"`
	Params        map[string]any    `json:"params,omitempty"`
	RTO           Duration          `json:"rto,omitempty"`
	Steps         []PlannedStep     `json:"steps,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	// Preflight is "passed" when the read-only preflight ran before the
	// first step and found nothing wrong, "skipped" when the operator
	// ran with --no-preflight; empty in journals older than it.
	Preflight string `json:"preflight,omitempty"`
}

// PlannedStep is a step as declared, so a report can list steps that never ran.
type PlannedStep struct {
	ID         string   `json:"id"`
	Name       Text     `json:"name,omitempty"`
	Kind       string   `json:"kind"`
	Block      string   `json:"block"` // steps, on_failure, finally
	Expect     Duration `json:"expect,omitempty"`
	Disruptive bool     `json:"disruptive,omitempty"`
	Recovery   bool     `json:"recovery,omitempty"`
}

// RunResume marks a later session continuing the same run.
type RunResume struct {
	Operator      string `json:"operator"`
	Machine       string `json:"machine"`
	RunbookSHA256 string `json:"runbook_sha256"`
	// AllowedChange is set when the runbook or the site file changed and
	// the operator allowed it.
	AllowedChange bool `json:"allowed_change,omitempty"`
	// SiteSHA256 is the site file's hash for this session; run.start
	// holds the one the run began with.
	SiteSHA256 string   `json:"site_sha256,omitempty"`
	From       string   `json:"from,omitempty"`
	Only       []string `json:"only,omitempty"`
	// Params are parameter values changed for this session (--var).
	Params        map[string]any `json:"params,omitempty"`
	DrbookVersion string         `json:"drbook_version"`
}

// RunEnd closes a run (or a session of it).
type RunEnd struct {
	Result string `json:"result"` // passed, failed, aborted, interrupted
	Error  string `json:"error,omitempty"`
	// ErrorZhTW is Error in Traditional Chinese where drbook worded it
	// (see StepFinish.ErrorZhTW).
	ErrorZhTW string   `json:"error_zh_tw,omitempty"`
	Duration  Duration `json:"duration"`
}

// ErrorIn returns the run's error in lang ("en" or "zh-TW").
func (e RunEnd) ErrorIn(lang string) string { return Text{EN: e.Error, ZhTW: e.ErrorZhTW}.In(lang) }

// StepStart is journaled (and fsync'd) before a step's side effect begins.
type StepStart struct {
	Kind        string `json:"kind"`
	Name        Text   `json:"name,omitempty"`
	Block       string `json:"block,omitempty"`
	Target      string `json:"target,omitempty"`
	Description string `json:"description,omitempty"`
	// DescriptionZhTW is Description in Traditional Chinese.
	DescriptionZhTW string   `json:"description_zh_tw,omitempty"`
	Params          any      `json:"params,omitempty"`
	Idempotent      bool     `json:"idempotent"`
	ChangesState    bool     `json:"changes_state"`
	Expect          Duration `json:"expect,omitempty"`
	Attempt         int      `json:"attempt"`
}

// StepRetry records a failed attempt that will be tried again.
type StepRetry struct {
	Attempt int    `json:"attempt"`
	Error   string `json:"error"`
	// ErrorZhTW is Error in Traditional Chinese where drbook worded it
	// (see StepFinish.ErrorZhTW).
	ErrorZhTW string   `json:"error_zh_tw,omitempty"`
	Delay     Duration `json:"delay"`
}

// ErrorIn returns the attempt's error in lang ("en" or "zh-TW").
func (e StepRetry) ErrorIn(lang string) string { return Text{EN: e.Error, ZhTW: e.ErrorZhTW}.In(lang) }

// StepFinish is journaled before the next step starts.
type StepFinish struct {
	Status   string    `json:"status"`
	Attempts int       `json:"attempts"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Duration Duration  `json:"duration"`
	// HumanWait is the part of Duration spent waiting for a person.
	HumanWait Duration `json:"human_wait,omitempty"`
	Error     string   `json:"error,omitempty"`
	// ErrorZhTW is Error in Traditional Chinese: drbook's own words (a
	// kind's, the engine's) translated, what came from elsewhere (vCenter,
	// the network, a guest) kept as it was said. It is left out when
	// nothing in the error was drbook's to translate, and journals written
	// before it have none: readers fall back to Error.
	ErrorZhTW string `json:"error_zh_tw,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ReasonZhTW is Reason in Traditional Chinese where drbook wrote it
	// ("when: … is false"); an operator's own words have none.
	ReasonZhTW string          `json:"reason_zh_tw,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	// ContinuedOnError is set when a failure did not stop the run.
	ContinuedOnError bool `json:"continued_on_error,omitempty"`
	// MayStillRun is set when the step stopped while drbook could not
	// confirm that its remote command ended: resume never re-runs it
	// without the operator's word.
	MayStillRun bool `json:"may_still_run,omitempty"`
}

// ErrorIn returns the step's error in lang ("en" or "zh-TW").
func (f StepFinish) ErrorIn(lang string) string { return Text{EN: f.Error, ZhTW: f.ErrorZhTW}.In(lang) }

// SetError sets Error and ErrorZhTW from t (i18n.TextOf of the error).
func (f *StepFinish) SetError(t Text) { f.Error, f.ErrorZhTW = t.EN, t.ZhTW }

// ReasonIn returns why the step was not run, in lang ("en" or "zh-TW").
func (f StepFinish) ReasonIn(lang string) string {
	return Text{EN: f.Reason, ZhTW: f.ReasonZhTW}.In(lang)
}

// SetReason sets Reason and ReasonZhTW from t.
func (f *StepFinish) SetReason(t Text) { f.Reason, f.ReasonZhTW = t.EN, t.ZhTW }

// Note is a free-form line recorded by the `log` kind or by the engine.
type Note struct {
	Level string `json:"level"` // info, warn
	Text  string `json:"text"`
	// TextZhTW is Text in Traditional Chinese when drbook wrote it (a
	// kind's or the engine's note; a log step's own text has both or
	// neither).
	TextZhTW string `json:"text_zh_tw,omitempty"`
}

// TextIn returns the note in lang ("en" or "zh-TW").
func (n Note) TextIn(lang string) string { return Text{EN: n.Text, ZhTW: n.TextZhTW}.In(lang) }

// Decision records a choice made by the operator or by drbook on their behalf.
type Decision struct {
	Who    string `json:"who"`
	Action string `json:"action"` // run, skip, done-by-hand, abort, retry, pause, accept-new, rerun-interrupted
	Reason string `json:"reason,omitempty"`
	// ReasonZhTW is Reason in Traditional Chinese when drbook wrote it
	// ("--rerun-interrupted: the operator checked the target"); a
	// person's own reason has none.
	ReasonZhTW string `json:"reason_zh_tw,omitempty"`
	// Inputs holds typed values a person entered (manual steps).
	Inputs map[string]any `json:"inputs,omitempty"`
}

// Trust records a host key or TLS certificate that drbook relied on.
type Trust struct {
	Kind        string `json:"kind"` // ssh-host-key, tls-certificate
	Endpoint    string `json:"endpoint"`
	Fingerprint string `json:"fingerprint"`
	// Source says why it was trusted: pinned, known_hosts, ca, accepted-new.
	Source string `json:"source"`
}

// Monitor records a background probe's state change.
type Monitor struct {
	Name string `json:"name"`
	// State is "up", "down" or "unknown". Unknown means the probe got no
	// answer by its own means (its vCenter login or API call failed or
	// was slow, or it overran its interval): it says nothing about the
	// service, so it neither opens nor closes an outage window.
	State string `json:"state"`
	// Baseline is set on states seen before the first disruptive step
	// started: a failure then was there before the drill and is not its
	// outage. When that step starts, every monitor's state is journaled
	// again without it.
	Baseline bool `json:"baseline,omitempty"`
	// Since is when the state began (the first probe that saw it).
	Since time.Time `json:"since"`
	// Resolution is the probe interval: the window edges are known to this precision.
	Resolution Duration `json:"resolution"`
	Detail     string   `json:"detail,omitempty"`
	// DetailZhTW is Detail in Traditional Chinese when drbook wrote it
	// (not a probe's own error).
	DetailZhTW string `json:"detail_zh_tw,omitempty"`
}

// Artifact names a file stored in the run's artifacts folder.
type Artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"` // relative to the run directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}
