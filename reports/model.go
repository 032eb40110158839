// Package reports turns a run's journal into the drill report an auditor
// reads and signs: a single-file HTML document with an inline SVG timeline,
// Markdown, JSON (schema drbook.report/v1) and JUnit XML, in English and
// Traditional Chinese.
//
// It has two halves. Build reads journal events, and nothing else, into a
// language-neutral Report: measured recovery time, outage windows per
// monitored service, deviations from the plan, the step table and each
// step's evidence. Render writes that model in one format and language. A
// renderer never decides an exit code and never knows a step kind: kinds
// emit their evidence as the generic types of package journal.
package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // reports name times in the site's zone (Asia/Taipei) on any machine

	"github.com/drbook/drbook/journal"
)

// Schema names the JSON report format; it changes only with an
// incompatible change to the JSON shape.
const Schema = "drbook.report/v1"

// Step statuses the report adds to the journal's own.
const (
	// StatusNotRun is a planned step that never started.
	StatusNotRun = "not-run"
)

// ModeLab is the run mode (journal RunStart.Mode) of a run against
// drbook's simulated site.
const ModeLab = "lab"

// Run results the report adds to the journal's own (passed, failed, aborted,
// interrupted).
const (
	// ResultIncomplete is a run whose journal has no run.end: still running,
	// or the machine died.
	ResultIncomplete = "incomplete"
)

// Limits that keep a report readable on paper; the full text is in the
// run's artifacts, named with their SHA-256 next to the trimmed text.
const (
	maxTranscriptLines = 40
	maxTranscriptBytes = 4000
	maxResultBytes     = 2000
)

// Report is everything a drill report shows, independent of format and
// language: text that exists in both languages is a journal.Text, and
// fixed wording is chosen by the renderer.
type Report struct {
	Schema   string  `json:"schema"`
	TimeZone string  `json:"time_zone"`
	Cover    Cover   `json:"cover"`
	Summary  Summary `json:"summary"`
	// Steps lists planned steps in plan order, each for_each instance
	// ("fix[0]") under its step, then any step not in the plan.
	Steps    []Step            `json:"steps"`
	Monitors []ServiceDowntime `json:"monitors"`
	Trust    []TrustEntry      `json:"trust"`
	// Run-level records, not tied to one step.
	Evidence  []EvidenceItem  `json:"evidence,omitempty"`
	Notes     []NoteEntry     `json:"notes,omitempty"`
	Decisions []DecisionEntry `json:"decisions,omitempty"`
	Sessions  []Session       `json:"sessions"`
	SignOff   SignOff         `json:"sign_off"`
	Integrity Integrity       `json:"integrity"`
	// History is filled by the caller (see History) to compare this run
	// with earlier runs of the same runbook.
	History []HistoryEntry `json:"history,omitempty"`

	loc *time.Location
}

// Cover is the first page: what was run, where, by whom and with what result.
type Cover struct {
	Title          journal.Text `json:"title"`
	Site           string       `json:"site,omitempty"`
	SitePath       string       `json:"site_path,omitempty"`
	SiteSHA256     string       `json:"site_sha256,omitempty"`
	Runbook        string       `json:"runbook"`
	RunbookPath    string       `json:"runbook_path,omitempty"`
	RunbookVersion string       `json:"runbook_version,omitempty"`
	RunbookSHA256  string       `json:"runbook_sha256"`
	RunID          string       `json:"run_id"`
	Mode           string       `json:"mode"`
	Operator       string       `json:"operator"`
	Machine        string       `json:"machine"`
	DrbookVersion  string       `json:"drbook_version"`
	Start          time.Time    `json:"start"`
	End            *time.Time   `json:"end,omitempty"`
	// Result is the report's verdict (see Verdict), the one result every
	// renderer prints; RecordedResult is what the journal's last run.end
	// says (incomplete when there is none).
	Result         string `json:"result"`
	RecordedResult string `json:"recorded_result"`
	Error          string `json:"error,omitempty"`
	// ErrorZhTW is Error in Traditional Chinese (journal.RunEnd).
	ErrorZhTW string            `json:"error_zh_tw,omitempty"`
	Params    map[string]any    `json:"params,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	// LabSpeed is how many times faster than real time the simulated site
	// ran, for a run in lab mode whose journal recorded it (label
	// lab_speed); 0 otherwise. Every duration in the report stays real
	// elapsed time: multiplied by LabSpeed it is the simulated site's time,
	// so a lab figure is never read as one measured on a real site.
	LabSpeed float64 `json:"lab_speed,omitempty"`
}

// Summary is the page an auditor reads first.
type Summary struct {
	// Passed is Verdict == "passed".
	Passed bool `json:"passed"`
	// Verdict is the run's one result (see Verdict) and VerdictReasons
	// why it is not the journal's recorded result, when it is not.
	Verdict        string   `json:"verdict"`
	VerdictReasons []string `json:"verdict_reasons,omitempty"`
	// RTO is the runbook's objective (0: none stated).
	RTO      journal.Duration `json:"rto,omitempty"`
	Recovery *Recovery        `json:"recovery,omitempty"`
	// WallClock runs from the run's start to its end (or last event).
	WallClock journal.Duration `json:"wall_clock"`
	// WallClock = Automated + HumanWait + Gaps. StepTime is the sum of
	// step durations. HumanWait is every wait for a person the engine
	// measured: confirmations (before a step starts, so outside its
	// duration), manual steps and failure prompts (inside it). Automated
	// is the time steps ran (the union of their intervals, so parallel
	// steps count once) less the human waits inside them; Gaps is the rest:
	// between steps, and between the sessions of a paused run.
	StepTime   journal.Duration `json:"step_time"`
	HumanWait  journal.Duration `json:"human_wait"`
	Automated  journal.Duration `json:"automated"`
	Gaps       journal.Duration `json:"gaps"`
	Counts     map[string]int   `json:"counts"`
	Deviations []Deviation      `json:"deviations"`
}

// Recovery is the measured recovery time: from the start of the first step
// marked disruptive until every monitor is up again and every step marked
// recovery is done.
type Recovery struct {
	From     time.Time `json:"from"`
	FromStep string    `json:"from_step"`
	// To and Measured are unset when recovery was not reached.
	To       *time.Time        `json:"to,omitempty"`
	Measured *journal.Duration `json:"measured,omitempty"`
	// Until names what recovered last: "monitor:NAME" or "step:ID".
	Until string `json:"until,omitempty"`
	// Resolution is how precisely To is known (the coarsest probe interval
	// of the monitors involved).
	Resolution journal.Duration `json:"resolution,omitempty"`
	// Met is set when an objective exists and recovery was reached.
	Met *bool `json:"met,omitempty"`
	// Pending lists what had not recovered by the end of the run
	// ("monitor:NAME", "step:ID"), or "none-declared" when the runbook
	// declares neither monitors nor recovery steps to measure against.
	Pending []string `json:"pending,omitempty"`
}

// ServiceDowntime is one monitored service's outage windows. Each edge is
// the first probe that saw the new state, so it is known to Resolution.
type ServiceDowntime struct {
	Name       string           `json:"name"`
	Resolution journal.Duration `json:"resolution"`
	Windows    []Outage         `json:"windows"`
	Total      journal.Duration `json:"total"`
	// Observed is the span the monitor ran, from ObservedFrom (its first
	// event) to the end of the run. Availability is the percentage of the
	// observed time, less the unknown time, that the service was up; it is
	// stated only over a window of at least MinAvailabilityWindow (nil
	// otherwise: over a few seconds a percentage means nothing).
	ObservedFrom time.Time        `json:"observed_from"`
	Observed     journal.Duration `json:"observed"`
	Availability *float64         `json:"availability,omitempty"`
	DownAtEnd    bool             `json:"down_at_end,omitempty"`
	// Unknown lists the windows outside outages in which the probe could
	// not tell (its own transport failed, not the service): neither up nor
	// downtime. During an outage an unknown state changes nothing: the
	// outage lasts until the service is seen up.
	Unknown      []Outage         `json:"unknown,omitempty"`
	UnknownTotal journal.Duration `json:"unknown_total,omitempty"`
	UnknownAtEnd bool             `json:"unknown_at_end,omitempty"`
}

// MinAvailabilityWindow is the shortest observed window over which a
// report states an availability percentage.
const MinAvailabilityWindow = journal.Duration(time.Minute)

// Monitor states as journaled; StateUnknown is a probe that could not
// answer because of its own transport, which is not the service down.
const (
	StateUp      = "up"
	StateDown    = "down"
	StateUnknown = "unknown"
)

// Outage is one window in which a monitor saw its service down. End is nil
// when the service was still down when the journal ends; Duration then
// runs to the end of the run.
type Outage struct {
	Start    time.Time        `json:"start"`
	End      *time.Time       `json:"end,omitempty"`
	Duration journal.Duration `json:"duration"`
	Detail   string           `json:"detail,omitempty"`
	// DetailZhTW is Detail in Traditional Chinese where drbook worded it
	// (journal.Monitor.DetailZhTW).
	DetailZhTW string `json:"detail_zh_tw,omitempty"`
}

// Deviation is something that did not go as planned. Kind selects the
// wording (see the renderers' catalog); the other fields fill it in.
type Deviation struct {
	Kind    string           `json:"kind"`
	Step    string           `json:"step,omitempty"`
	Actual  journal.Duration `json:"actual,omitempty"`
	Planned journal.Duration `json:"planned,omitempty"`
	Detail  string           `json:"detail,omitempty"`
	// DetailZhTW is Detail in Traditional Chinese where drbook worded it
	// (a step's error or skip reason).
	DetailZhTW string `json:"detail_zh_tw,omitempty"`
	// Pending lists what had not recovered (not-recovered only).
	Pending []string `json:"pending,omitempty"`
	// At and Who place a pause or a resume.
	At  *time.Time `json:"at,omitempty"`
	Who string     `json:"who,omitempty"`
}

// Deviation kinds.
const (
	DevOverExpect       = "over-expect"
	DevSkipped          = "skipped"
	DevDoneByHand       = "done-by-hand"
	DevFailed           = "failed"
	DevInterrupted      = "interrupted"
	DevCancelled        = "cancelled"
	DevNotRun           = "not-run"
	DevRetried          = "retried"
	DevContinuedOnError = "continued-on-error"
	DevRTOExceeded      = "rto-exceeded"
	DevNotRecovered     = "not-recovered"
	DevAcceptedNewKey   = "accepted-new-key"
	DevRunbookChanged   = "runbook-changed"
	DevTornJournal      = "torn-journal"
	DevIntegrity        = "integrity"
	DevPaused           = "paused"
	DevResumed          = "resumed"
)

// Step is one row of the step table with everything recorded about it.
type Step struct {
	ID          string       `json:"id"`
	Name        journal.Text `json:"name,omitempty"`
	Kind        string       `json:"kind"`
	Block       string       `json:"block"`
	Target      string       `json:"target,omitempty"`
	Description string       `json:"description,omitempty"`
	// DescriptionZhTW is Description in Traditional Chinese.
	DescriptionZhTW string           `json:"description_zh_tw,omitempty"`
	Disruptive      bool             `json:"disruptive,omitempty"`
	Recovery        bool             `json:"recovery,omitempty"`
	Start           *time.Time       `json:"start,omitempty"`
	End             *time.Time       `json:"end,omitempty"`
	Duration        journal.Duration `json:"duration"`
	Expect          journal.Duration `json:"expect,omitempty"`
	OverExpect      bool             `json:"over_expect,omitempty"`
	HumanWait       journal.Duration `json:"human_wait,omitempty"`
	// WaitBefore is the part of HumanWait spent before the step started
	// (its confirmation), so outside Duration. The journal records only
	// the total: this part is the time from the event before the
	// confirmation prompt to the decision, at most HumanWait.
	WaitBefore journal.Duration `json:"wait_before,omitempty"`
	Attempts   int              `json:"attempts"`
	Status     string           `json:"status"`
	Error      string           `json:"error,omitempty"`
	// ErrorZhTW is Error in Traditional Chinese (journal.StepFinish).
	ErrorZhTW string `json:"error_zh_tw,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ReasonZhTW is Reason in Traditional Chinese where drbook wrote it.
	ReasonZhTW string `json:"reason_zh_tw,omitempty"`
	// ContinuedOnError is set when a failure did not stop the run.
	ContinuedOnError bool `json:"continued_on_error,omitempty"`
	// ConfirmedBy lists who decided to run (or did by hand) this step.
	ConfirmedBy []string            `json:"confirmed_by,omitempty"`
	Retries     []journal.StepRetry `json:"retries,omitempty"`
	Evidence    []EvidenceItem      `json:"evidence,omitempty"`
	Notes       []NoteEntry         `json:"notes,omitempty"`
	Decisions   []DecisionEntry     `json:"decisions,omitempty"`
	Artifacts   []journal.Artifact  `json:"artifacts,omitempty"`
	// Result is the kind's typed result as JSON, trimmed for print.
	Result          string `json:"result,omitempty"`
	ResultTruncated bool   `json:"result_truncated,omitempty"`
}

// EvidenceItem is one piece of evidence as journaled, with transcripts
// trimmed for print and their full-text artifacts resolved to name and
// SHA-256.
type EvidenceItem struct {
	journal.Evidence
	At             time.Time         `json:"at"`
	StdoutArtifact *journal.Artifact `json:"stdout_artifact_ref,omitempty"`
	StderrArtifact *journal.Artifact `json:"stderr_artifact_ref,omitempty"`
}

// NoteEntry is a journaled note.
type NoteEntry struct {
	At    time.Time `json:"at"`
	Step  string    `json:"step,omitempty"`
	Level string    `json:"level"`
	Text  string    `json:"text"`
	// TextZhTW is Text in Traditional Chinese when drbook wrote it.
	TextZhTW string `json:"text_zh_tw,omitempty"`
}

// DecisionEntry is a journaled decision.
type DecisionEntry struct {
	At     time.Time `json:"at"`
	Step   string    `json:"step,omitempty"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
	// ReasonZhTW is Reason in Traditional Chinese when drbook wrote it.
	ReasonZhTW string         `json:"reason_zh_tw,omitempty"`
	Inputs     map[string]any `json:"inputs,omitempty"`
}

// TrustEntry is a host key or certificate drbook relied on.
type TrustEntry struct {
	At          time.Time `json:"at"`
	Step        string    `json:"step,omitempty"`
	Kind        string    `json:"kind"`
	Endpoint    string    `json:"endpoint"`
	Fingerprint string    `json:"fingerprint"`
	Source      string    `json:"source"`
}

// Session is one sitting of the run: the first, then one per resume.
type Session struct {
	Start         time.Time  `json:"start"`
	End           *time.Time `json:"end,omitempty"`
	Result        string     `json:"result,omitempty"`
	Operator      string     `json:"operator"`
	Machine       string     `json:"machine"`
	DrbookVersion string     `json:"drbook_version"`
	Resumed       bool       `json:"resumed,omitempty"`
	AllowedChange bool       `json:"allowed_change,omitempty"`
	From          string     `json:"from,omitempty"`
	Only          []string   `json:"only,omitempty"`
}

// SignOff is the block people sign on the printed copy. Names come from
// the run's labels prepared_by (default: the operator), reviewed_by and
// auditor; blanks are left for a pen.
type SignOff struct {
	PreparedBy string `json:"prepared_by"`
	ReviewedBy string `json:"reviewed_by,omitempty"`
	Auditor    string `json:"auditor,omitempty"`
	Date       string `json:"date,omitempty"`
}

// Integrity is what the reader can check the report against.
type Integrity struct {
	// FinalHash is the SHA-256 of the journal's last line; with the line
	// count it pins the whole journal, including its end.
	FinalHash string `json:"final_hash"`
	Lines     int    `json:"lines"`
	TornBytes int64  `json:"torn_bytes,omitempty"`
	// ChainChecked is false when Build was given no run directory.
	ChainChecked  bool   `json:"chain_checked"`
	ChainVerified bool   `json:"chain_verified"`
	ChainError    string `json:"chain_error,omitempty"`
	// ChainLine and ChainKind place and classify a broken chain (see
	// journal.ChainError), so it can be worded in the report's language.
	ChainLine int              `json:"chain_line,omitempty"`
	ChainKind string           `json:"chain_kind,omitempty"`
	Signature *SignatureStatus `json:"signature,omitempty"`
}

// SignatureStatus describes journal.sig as found in the run directory.
type SignatureStatus struct {
	KeyFingerprint string `json:"key_fingerprint"`
	Lines          int    `json:"lines"`
	Head           string `json:"head"`
	// Valid is true when the signature verifies with the key it carries
	// and covers this journal exactly. Whether the key is the right one
	// is checked with `drbook verify --key`.
	Valid   bool   `json:"valid"`
	Problem string `json:"problem,omitempty"`
}

// Build reads a journal into a Report. runDir is the directory the journal
// was read from; the chain and any journal.sig there are verified. With
// runDir "" nothing is verified and the report says so.
func Build(log *journal.Log, runDir string) (*Report, error) {
	if log == nil || len(log.Events) == 0 {
		return nil, errors.New("report: the journal is empty; there is nothing to report")
	}
	first := log.Events[0]
	if first.Type != journal.TypeRunStart || first.RunStart == nil {
		return nil, errors.New("report: the journal does not begin with run.start; is this a drbook journal?")
	}
	b := newBuilder(first.RunStart, first.Time)
	for i := range log.Events {
		b.add(&log.Events[i])
	}
	r := b.finish(log)
	// Everything from the journal is copied by now, so cleaning the copy
	// leaves the caller's log as it was.
	sanitizeReport(r)
	r.Integrity = integrity(log, runDir)
	if r.Integrity.TornBytes > 0 {
		r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevTornJournal, Detail: itoa(int(r.Integrity.TornBytes))})
	}
	if r.Integrity.ChainChecked && !r.Integrity.ChainVerified {
		r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevIntegrity, Detail: r.Integrity.ChainError})
	}
	if s := r.Integrity.Signature; s != nil && !s.Valid {
		r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevIntegrity, Detail: s.Problem})
	}
	r.setVerdict()
	return r, nil
}

type builder struct {
	r                  *Report
	start              *journal.RunStart
	planned            map[string]journal.PlannedStep
	steps              map[string]*Step
	order              []string // step instance ids in order of first appearance
	artByName          map[string]journal.Artifact
	pendingTranscripts []*EvidenceItem
	monitors           map[string]*monitorState
	monOrder           []string
	last               time.Time
	ended              bool
	// running holds the step instances started and not yet finished;
	// lastAnchor is the time of the last event that is not a monitor's,
	// and waitBefore the time from it to a step's pre-start decision.
	running    map[string]bool
	lastAnchor time.Time
	waitBefore map[string]time.Duration
}

type monitorState struct {
	sd      *ServiceDowntime
	first   time.Time
	down    *Outage
	unknown *Outage
}

func newBuilder(rs *journal.RunStart, at time.Time) *builder {
	r := &Report{
		Schema: Schema,
		Cover: Cover{
			Title: rs.Title, Site: rs.Site, SitePath: rs.SitePath, SiteSHA256: rs.SiteSHA256,
			Runbook: rs.Runbook, RunbookPath: rs.RunbookPath, RunbookVersion: rs.RunbookVer,
			RunbookSHA256: rs.RunbookSHA256, RunID: rs.RunID, Mode: rs.Mode, Operator: rs.Operator,
			Machine: rs.Machine, DrbookVersion: rs.DrbookVersion, Start: at, Result: ResultIncomplete, RecordedResult: ResultIncomplete,
			Params: cloneMap(rs.Params), Labels: rs.Labels,
		},
		Steps:    []Step{},
		Monitors: []ServiceDowntime{},
		Trust:    []TrustEntry{},
		Sessions: []Session{{Start: at, Operator: rs.Operator, Machine: rs.Machine, DrbookVersion: rs.DrbookVersion}},
	}
	if rs.Mode == ModeLab {
		r.Cover.LabSpeed = parseLabSpeed(rs.Labels["lab_speed"])
	}
	r.Summary.RTO = rs.RTO
	r.loc = time.UTC
	r.TimeZone = "UTC"
	if tz := rs.Labels["timezone"]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			r.loc, r.TimeZone = loc, tz
		}
	}
	r.SignOff = SignOff{PreparedBy: rs.Operator, ReviewedBy: rs.Labels["reviewed_by"], Auditor: rs.Labels["auditor"], Date: rs.Labels["sign_date"]}
	if p := rs.Labels["prepared_by"]; p != "" {
		r.SignOff.PreparedBy = p
	}
	b := &builder{r: r, start: rs, planned: map[string]journal.PlannedStep{}, steps: map[string]*Step{},
		artByName: map[string]journal.Artifact{}, monitors: map[string]*monitorState{}, last: at,
		running: map[string]bool{}, waitBefore: map[string]time.Duration{}, lastAnchor: at}
	for _, p := range rs.Steps {
		b.planned[p.ID] = p
	}
	return b
}

// LabelledZone is the zone r shows its times in when the run's labels
// named one (timezone: Asia/Taipei) that could be loaded, else "" (r then
// shows UTC).
func (r *Report) LabelledZone() string {
	if tz := r.Cover.Labels["timezone"]; tz != "" && tz == r.TimeZone {
		return tz
	}
	return ""
}

// parseLabSpeed reads the lab_speed label ("30", "2.5"); anything that is
// not a positive finite number counts as not recorded.
func parseLabSpeed(label string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(label), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return v
}

// baseID maps a for_each instance "fix[0]" to its planned step "fix".
func baseID(id string) string {
	if i := strings.IndexByte(id, '['); i > 0 && strings.HasSuffix(id, "]") {
		return id[:i]
	}
	return id
}

func (b *builder) step(id string) *Step {
	if s, ok := b.steps[id]; ok {
		return s
	}
	s := &Step{ID: id, Status: StatusNotRun}
	if p, ok := b.planned[baseID(id)]; ok {
		s.Name, s.Kind, s.Block, s.Expect = p.Name, p.Kind, p.Block, p.Expect
		s.Disruptive, s.Recovery = p.Disruptive, p.Recovery
	}
	b.steps[id] = s
	b.order = append(b.order, id)
	return s
}

func tp(t time.Time) *time.Time { return &t }

func (b *builder) add(ev *journal.Event) {
	if ev.Time.After(b.last) {
		b.last = ev.Time
	}
	if ev.Type != journal.TypeMonitor {
		defer func() { b.lastAnchor = ev.Time }()
	}
	r := b.r
	switch ev.Type {
	case journal.TypeRunResume:
		if rr := ev.RunResume; rr != nil {
			r.Sessions = append(r.Sessions, Session{Start: ev.Time, Operator: rr.Operator, Machine: rr.Machine,
				DrbookVersion: rr.DrbookVersion, Resumed: true, AllowedChange: rr.AllowedChange, From: rr.From, Only: rr.Only})
			r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevResumed, At: tp(ev.Time), Who: rr.Operator})
			if rr.AllowedChange {
				r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevRunbookChanged, Detail: rr.RunbookSHA256})
			}
			b.ended = false
		}
	case journal.TypeRunEnd:
		if re := ev.RunEnd; re != nil {
			r.Cover.RecordedResult, r.Cover.Error, r.Cover.ErrorZhTW, r.Cover.End = re.Result, re.Error, re.ErrorZhTW, tp(ev.Time)
			s := &r.Sessions[len(r.Sessions)-1]
			s.End, s.Result = tp(ev.Time), re.Result
			b.ended = true
		}
	case journal.TypeStepStart:
		if ss := ev.StepStart; ss != nil {
			s := b.step(ev.Step)
			if s.Start == nil || ss.Attempt <= 1 {
				s.Start = tp(ev.Time)
			}
			if ss.Kind != "" {
				s.Kind = ss.Kind
			}
			if !ss.Name.IsZero() {
				s.Name = ss.Name
			}
			if ss.Block != "" {
				s.Block = ss.Block
			}
			if ss.Expect != 0 {
				s.Expect = ss.Expect
			}
			s.Target, s.Description, s.DescriptionZhTW = ss.Target, ss.Description, ss.DescriptionZhTW
			s.Attempts = max(s.Attempts, ss.Attempt)
			b.running[ev.Step] = true
			// Started and not (yet) finished: if the journal ends here the
			// step was interrupted.
			s.Status = journal.StatusInterrupted
			s.End = nil
		}
	case journal.TypeStepRetry:
		if sr := ev.StepRetry; sr != nil {
			s := b.step(ev.Step)
			s.Retries = append(s.Retries, *sr)
			s.Attempts = max(s.Attempts, sr.Attempt+1)
		}
	case journal.TypeStepFinish:
		if sf := ev.StepFinish; sf != nil {
			s := b.step(ev.Step)
			s.Status, s.Attempts, s.Error, s.Reason = sf.Status, max(sf.Attempts, s.Attempts), sf.Error, sf.Reason
			s.ErrorZhTW, s.ReasonZhTW = sf.ErrorZhTW, sf.ReasonZhTW
			if !sf.Started.IsZero() {
				s.Start = tp(sf.Started)
			}
			if !sf.Finished.IsZero() {
				s.End = tp(sf.Finished)
			} else {
				s.End = tp(ev.Time)
			}
			s.Duration, s.HumanWait, s.ContinuedOnError = sf.Duration, sf.HumanWait, sf.ContinuedOnError
			// The confirmation wait is outside the step's duration: all
			// of HumanWait for a step decided at its prompt and never
			// started (skipped, done by hand, aborted), and otherwise
			// the wait up to its pre-start decision.
			s.WaitBefore = 0
			if w, ok := b.waitBefore[ev.Step]; ok {
				s.WaitBefore = journal.Duration(min(w, sf.HumanWait.D()))
			}
			if !b.running[ev.Step] {
				s.WaitBefore = sf.HumanWait
			}
			delete(b.waitBefore, ev.Step)
			delete(b.running, ev.Step)
			if len(sf.Result) > 0 && string(sf.Result) != "null" {
				s.Result, s.ResultTruncated = prettyJSON(sf.Result)
			}
		}
	case journal.TypeEvidence:
		if e := ev.Evidence; e != nil {
			item := EvidenceItem{Evidence: cloneEvidence(e), At: ev.Time}
			if lab, speed := labEndpoint(e); lab && r.Cover.Mode != ModeLab {
				r.Cover.Mode, r.Cover.LabSpeed = ModeLab, speed
			}
			if t := item.Transcript; t != nil {
				var cut1, cut2 bool
				t.Stdout, cut1 = trimText(t.Stdout)
				t.Stderr, cut2 = trimText(t.Stderr)
				t.Truncated = t.Truncated || cut1 || cut2
			}
			if ev.Step == "" {
				r.Evidence = append(r.Evidence, item)
			} else {
				s := b.step(ev.Step)
				s.Evidence = append(s.Evidence, item)
			}
		}
	case journal.TypeNote:
		if n := ev.Note; n != nil {
			ne := NoteEntry{At: ev.Time, Step: ev.Step, Level: n.Level, Text: n.Text, TextZhTW: n.TextZhTW}
			if ev.Step == "" {
				r.Notes = append(r.Notes, ne)
			} else {
				s := b.step(ev.Step)
				s.Notes = append(s.Notes, ne)
			}
		}
	case journal.TypeDecision:
		if d := ev.Decision; d != nil {
			de := DecisionEntry{At: ev.Time, Step: ev.Step, Who: d.Who, Action: d.Action, Reason: d.Reason, ReasonZhTW: d.ReasonZhTW, Inputs: cloneMap(d.Inputs)}
			if ev.Step == "" {
				r.Decisions = append(r.Decisions, de)
				if d.Action == "pause" {
					r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevPaused, Detail: d.Reason, DetailZhTW: d.ReasonZhTW, At: tp(ev.Time), Who: d.Who})
				}
				break
			}
			s := b.step(ev.Step)
			s.Decisions = append(s.Decisions, de)
			if !b.running[ev.Step] {
				b.waitBefore[ev.Step] = max(0, ev.Time.Sub(b.lastAnchor))
			}
			if d.Action == "pause" {
				r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevPaused, Step: ev.Step, Detail: d.Reason, DetailZhTW: d.ReasonZhTW, At: tp(ev.Time), Who: d.Who})
			}
			switch d.Action {
			case "run", "done-by-hand", "rerun-interrupted", "retry", "skip":
				if d.Who != "" && !contains(s.ConfirmedBy, d.Who) {
					s.ConfirmedBy = append(s.ConfirmedBy, d.Who)
				}
			}
		}
	case journal.TypeTrust:
		if t := ev.Trust; t != nil {
			r.Trust = append(r.Trust, TrustEntry{At: ev.Time, Step: ev.Step, Kind: t.Kind, Endpoint: t.Endpoint, Fingerprint: t.Fingerprint, Source: t.Source})
			if t.Source == "accepted-new" {
				r.Summary.Deviations = append(r.Summary.Deviations, Deviation{Kind: DevAcceptedNewKey, Step: ev.Step, Detail: t.Endpoint + " " + t.Fingerprint})
			}
		}
	case journal.TypeMonitor:
		if m := ev.Monitor; m != nil {
			b.monitor(m, ev.Time)
		}
	case journal.TypeArtifact:
		if a := ev.Artifact; a != nil {
			b.artByName[a.Name] = *a
			if ev.Step != "" {
				s := b.step(ev.Step)
				s.Artifacts = append(s.Artifacts, *a)
			}
		}
	}
}

func (b *builder) monitor(m *journal.Monitor, at time.Time) {
	ms, ok := b.monitors[m.Name]
	since := m.Since
	if since.IsZero() {
		since = at
	}
	if !ok {
		ms = &monitorState{sd: &ServiceDowntime{Name: m.Name, Windows: []Outage{}}, first: since}
		b.monitors[m.Name] = ms
		b.monOrder = append(b.monOrder, m.Name)
	}
	ms.sd.Resolution = max(ms.sd.Resolution, m.Resolution)
	closeUnknown := func() {
		if ms.unknown != nil {
			ms.unknown.End = tp(since)
			ms.unknown.Duration = journal.Duration(since.Sub(ms.unknown.Start))
			ms.unknown = nil
		}
	}
	switch m.State {
	case StateDown:
		closeUnknown()
		if m.Baseline {
			// Down before the first disruptive step: there before the
			// drill, not its outage. The engine journals the state again
			// when that step starts.
			break
		}
		if ms.down == nil {
			ms.sd.Windows = append(ms.sd.Windows, Outage{Start: since, Detail: m.Detail, DetailZhTW: m.DetailZhTW})
			ms.down = &ms.sd.Windows[len(ms.sd.Windows)-1]
		} else if m.Detail != "" && ms.down.Detail == "" {
			ms.down.Detail, ms.down.DetailZhTW = m.Detail, m.DetailZhTW
		}
	case StateUp:
		closeUnknown()
		if ms.down != nil {
			ms.down.End = tp(since)
			ms.down.Duration = journal.Duration(since.Sub(ms.down.Start))
			ms.down = nil
		}
	case StateUnknown:
		// The probe got no answer by its own means: that says nothing
		// about the service, so it neither opens nor closes an outage.
		// Outside one, the time is listed apart, neither up nor down.
		if ms.unknown != nil || ms.down != nil {
			break
		}
		ms.sd.Unknown = append(ms.sd.Unknown, Outage{Start: since, Detail: m.Detail, DetailZhTW: m.DetailZhTW})
		ms.unknown = &ms.sd.Unknown[len(ms.sd.Unknown)-1]
	}
}

func (b *builder) finish(log *journal.Log) *Report {
	r := b.r
	end := b.last
	if r.Cover.End != nil {
		end = *r.Cover.End
	}
	r.Summary.WallClock = journal.Duration(end.Sub(r.Cover.Start))

	// Monitors: close windows still open at the end of the run.
	for _, name := range b.monOrder {
		ms := b.monitors[name]
		sd := ms.sd
		if ms.down != nil {
			ms.down.Duration = journal.Duration(end.Sub(ms.down.Start))
			sd.DownAtEnd = true
		}
		if ms.unknown != nil {
			ms.unknown.Duration = journal.Duration(end.Sub(ms.unknown.Start))
			sd.UnknownAtEnd = true
		}
		for _, w := range sd.Windows {
			sd.Total += w.Duration
		}
		for _, w := range sd.Unknown {
			sd.UnknownTotal += w.Duration
		}
		sd.ObservedFrom = ms.first
		sd.Observed = journal.Duration(end.Sub(ms.first))
		if known := sd.Observed - sd.UnknownTotal; sd.Observed >= MinAvailabilityWindow && known > 0 {
			a := 100 * (1 - float64(sd.Total)/float64(known))
			sd.Availability = &a
		}
		r.Monitors = append(r.Monitors, *sd)
	}

	// Steps in plan order, instances under their planned step.
	byBase := map[string][]string{}
	for _, id := range b.order {
		byBase[baseID(id)] = append(byBase[baseID(id)], id)
	}
	seen := map[string]bool{}
	var ordered []string
	for _, p := range b.start.Steps {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		ids := byBase[p.ID]
		if len(ids) == 0 {
			b.step(p.ID)
			ids = []string{p.ID}
		}
		ordered = append(ordered, ids...)
	}
	for _, id := range b.order {
		if !seen[baseID(id)] {
			ordered = append(ordered, id)
		}
	}
	r.Summary.Counts = map[string]int{}
	sum := &r.Summary
	var ran []interval
	var inSteps time.Duration
	for _, id := range ordered {
		s := b.steps[id]
		for i := range s.Evidence {
			b.resolveArtifacts(&s.Evidence[i])
		}
		if s.Status == journal.StatusInterrupted && s.End == nil && s.Start != nil {
			s.Duration = journal.Duration(end.Sub(*s.Start))
		}
		sum.Counts[s.Status]++
		sum.StepTime += s.Duration
		sum.HumanWait += s.HumanWait
		if s.Start != nil && s.Duration > 0 {
			ran = append(ran, interval{*s.Start, s.Start.Add(s.Duration.D())})
		}
		inSteps += min(max(0, (s.HumanWait-s.WaitBefore).D()), s.Duration.D())
		s.OverExpect = s.Expect > 0 && s.Duration > s.Expect && s.Status != StatusNotRun
		b.stepDeviations(s)
		r.Steps = append(r.Steps, *s)
	}
	for i := range r.Evidence {
		b.resolveArtifacts(&r.Evidence[i])
	}
	sum.Automated = journal.Duration(max(0, unionLength(ran)-inSteps))
	sum.Gaps = journal.Duration(max(0, (sum.WallClock - sum.Automated - sum.HumanWait).D()))
	sum.Recovery = b.recovery(end)
	if rec := sum.Recovery; rec != nil {
		if rec.Measured == nil {
			sum.Deviations = append(sum.Deviations, Deviation{Kind: DevNotRecovered, Pending: rec.Pending})
		} else if rec.Met != nil && !*rec.Met {
			sum.Deviations = append(sum.Deviations, Deviation{Kind: DevRTOExceeded, Actual: *rec.Measured, Planned: sum.RTO})
		}
	}
	return r
}

// interval is a span of time during which something ran.
type interval struct{ from, to time.Time }

// unionLength is how long at least one of the intervals was running.
func unionLength(iv []interval) time.Duration {
	sort.Slice(iv, func(i, j int) bool { return iv[i].from.Before(iv[j].from) })
	var total time.Duration
	var cur interval
	for i, x := range iv {
		switch {
		case i == 0:
			cur = x
		case !x.from.After(cur.to):
			if x.to.After(cur.to) {
				cur.to = x.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = x
		}
	}
	if len(iv) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

func (b *builder) stepDeviations(s *Step) {
	d := &b.r.Summary.Deviations
	switch s.Status {
	case journal.StatusSkipped:
		*d = append(*d, Deviation{Kind: DevSkipped, Step: s.ID, Detail: s.Reason, DetailZhTW: s.ReasonZhTW})
	case journal.StatusManual:
		*d = append(*d, Deviation{Kind: DevDoneByHand, Step: s.ID, Detail: s.Reason, DetailZhTW: s.ReasonZhTW})
	case journal.StatusFailed:
		kind := DevFailed
		if s.ContinuedOnError {
			kind = DevContinuedOnError
		}
		*d = append(*d, Deviation{Kind: kind, Step: s.ID, Detail: s.Error, DetailZhTW: s.ErrorZhTW})
	case journal.StatusInterrupted:
		*d = append(*d, Deviation{Kind: DevInterrupted, Step: s.ID, Detail: s.Error, DetailZhTW: s.ErrorZhTW})
	case journal.StatusCancelled:
		*d = append(*d, Deviation{Kind: DevCancelled, Step: s.ID, Detail: s.Error, DetailZhTW: s.ErrorZhTW})
	case StatusNotRun:
		// on_failure steps not running is the normal case.
		if s.Block != "on_failure" {
			*d = append(*d, Deviation{Kind: DevNotRun, Step: s.ID})
		}
	}
	if s.Attempts > 1 {
		*d = append(*d, Deviation{Kind: DevRetried, Step: s.ID, Detail: itoa(s.Attempts)})
	}
	if s.OverExpect {
		*d = append(*d, Deviation{Kind: DevOverExpect, Step: s.ID, Actual: s.Duration, Planned: s.Expect})
	}
}

func (b *builder) resolveArtifacts(e *EvidenceItem) {
	if e.Transcript == nil {
		return
	}
	if a, ok := b.artByName[e.Transcript.StdoutArtifact]; ok {
		e.StdoutArtifact = &a
	}
	if a, ok := b.artByName[e.Transcript.StderrArtifact]; ok {
		e.StderrArtifact = &a
	}
}

// recovery measures from the start of the first disruptive step that was
// not skipped until every monitor is up again and every recovery step is
// done.
func (b *builder) recovery(end time.Time) *Recovery {
	r := b.r
	var from *Step
	for i := range r.Steps {
		s := &r.Steps[i]
		// A skipped disruptive step disrupted nothing; one done by hand
		// did, and starts the clock like one drbook ran.
		if s.Disruptive && s.Start != nil && s.Status != journal.StatusSkipped && s.Status != StatusNotRun && (from == nil || s.Start.Before(*from.Start)) {
			from = s
		}
	}
	if from == nil {
		return nil
	}
	rec := &Recovery{From: *from.Start, FromStep: from.ID}
	to := rec.From
	criteria := false
	for _, m := range r.Monitors {
		criteria = true
		if m.DownAtEnd {
			rec.Pending = append(rec.Pending, "monitor:"+m.Name)
			continue
		}
		for _, w := range m.Windows {
			if w.End != nil && w.End.After(rec.From) && w.End.After(to) {
				to, rec.Until = *w.End, "monitor:"+m.Name
			}
			if w.End != nil && w.End.After(rec.From) {
				rec.Resolution = max(rec.Resolution, m.Resolution)
			}
		}
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		if !s.Recovery {
			continue
		}
		criteria = true
		if (s.Status != journal.StatusOK && s.Status != journal.StatusManual) || s.End == nil {
			rec.Pending = append(rec.Pending, "step:"+s.ID)
			continue
		}
		if s.End.After(to) {
			to, rec.Until = *s.End, "step:"+s.ID
		}
	}
	if !criteria {
		rec.Pending = append(rec.Pending, "none-declared")
	}
	if len(rec.Pending) > 0 {
		return rec
	}
	d := journal.Duration(to.Sub(rec.From))
	rec.To, rec.Measured = tp(to), &d
	if b.r.Summary.RTO > 0 {
		met := d <= b.r.Summary.RTO
		rec.Met = &met
	}
	return rec
}

func integrity(log *journal.Log, runDir string) Integrity {
	in := Integrity{FinalHash: log.Head, Lines: len(log.Events), TornBytes: log.TornBytes}
	if runDir == "" {
		return in
	}
	in.ChainChecked = true
	res, err := journal.VerifyRun(runDir, nil)
	var ce *journal.ChainError
	switch {
	case errors.As(err, &ce) || res == nil:
		in.ChainError = errString(err)
		if ce != nil {
			in.ChainLine, in.ChainKind = ce.Line, ce.Kind
		}
		return in
	default:
		in.ChainVerified = true
		if res.Head != log.Head {
			in.ChainVerified = false
			in.ChainError = "the journal in " + runDir + " is not the one this report was built from (final hashes differ)"
		}
	}
	sig, sigErr := journal.ReadSignature(runDir)
	if sig == nil && errors.Is(sigErr, os.ErrNotExist) {
		return in
	}
	st := &SignatureStatus{}
	if sig != nil {
		st.KeyFingerprint, st.Lines, st.Head = sig.Fingerprint, sig.Lines, sig.Head
	}
	switch {
	case sigErr != nil:
		st.Problem = sigErr.Error()
	case err != nil:
		st.Problem = err.Error()
	case sig.Head != log.Head || sig.Lines != len(log.Events):
		st.Problem = "the signature covers a different journal"
	default:
		st.Valid = true
	}
	in.Signature = st
	return in
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func prettyJSON(raw json.RawMessage) (string, bool) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	return trimBytes(buf.String(), maxResultBytes)
}

// trimText keeps the first lines of a transcript stream for print.
func trimText(s string) (string, bool) {
	cut, lines := false, 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\n' {
			continue
		}
		if lines++; lines == maxTranscriptLines {
			if i+1 < len(s) {
				s, cut = s[:i+1], true
			}
			break
		}
	}
	t, cut2 := trimBytes(s, maxTranscriptBytes)
	return t, cut || cut2
}

// trimBytes cuts s to at most n bytes on a UTF-8 boundary.
func trimBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n], true
}

// cloneEvidence deep-copies evidence so the report never shares (and
// sanitizing never alters) the journal's own slices.
func cloneEvidence(e *journal.Evidence) journal.Evidence {
	c := *e
	if e.Table != nil {
		t := journal.Table{Columns: append([]string(nil), e.Table.Columns...), Rows: cloneRows(e.Table.Rows)}
		if e.Table.ColumnsZhTW != nil {
			t.ColumnsZhTW = append([]string(nil), e.Table.ColumnsZhTW...)
		}
		if e.Table.RowsZhTW != nil {
			t.RowsZhTW = cloneRows(e.Table.RowsZhTW)
		}
		c.Table = &t
	}
	if e.Diff != nil {
		d := *e.Diff
		c.Diff = &d
	}
	if e.Transcript != nil {
		t := *e.Transcript
		c.Transcript = &t
	}
	c.Facts = append([]journal.Fact(nil), e.Facts...)
	c.Timeline = append([]journal.Moment(nil), e.Timeline...)
	return c
}

func cloneRows(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, row := range rows {
		out[i] = append([]string(nil), row...)
	}
	return out
}

// cloneMap deep-copies free-form JSON-like values.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return map[string]any{"error": "unprintable value"}
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return map[string]any{"error": "unprintable value"}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ReadRun reads and builds the report of a run directory.
func ReadRun(runDir string) (*Report, error) {
	log, err := journal.ReadFile(filepath.Join(runDir, journal.FileName))
	if err != nil {
		return nil, fmt.Errorf("report: %w; give a run directory (it holds %s)", err, journal.FileName)
	}
	r, err := Build(log, runDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", runDir, err)
	}
	return r, nil
}
