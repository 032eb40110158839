package steps

import (
	"context"
	"strconv"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// Errors a kind's failure may match (errors.Is) to tell the engine that
// running the step again is not a decision drbook can make by itself.
var (
	// ErrOutcomeUnknown marks a failure after which nobody knows whether
	// the step took effect: the connection to a guest was lost while its
	// command ran. The engine retries such a step only when its kind is
	// idempotent; otherwise it stops the run as it would for an
	// interrupted step, and a person decides (exit 3, `drbook resume
	// --rerun-interrupted`).
	ErrOutcomeUnknown = i18n.New("whether the step took effect is unknown", "無法確定此步驟是否已生效")
	// ErrMayStillRun marks a step that was stopped (timeout, Ctrl-C, lost
	// connection) while drbook could not confirm that its remote command
	// ended. Nothing runs the step again, whatever its kind, until a person
	// has checked: a second copy would run alongside the first.
	ErrMayStillRun = i18n.New("the stopped command may still be running", "已停止之指令可能仍在執行")
)

// RemoteStop is what drbook did to end a step's remote command when the
// step stopped before the command finished, and whether it saw the command
// gone. An error that carries one (it has a RemoteStop() RemoteStop method,
// found with errors.As) is journaled by the engine as evidence.
type RemoteStop struct {
	// Target names the guest and its endpoint, e.g. "ap01 (10.0.0.65:22)".
	Target string
	// Command is the first line of the command that was stopped.
	Command string
	// PID and PGID are the command's process and process group on the
	// guest; 0 when drbook never learned them.
	PID, PGID int
	// PIDFile is the guest file that records them.
	PIDFile string
	// Confirmed is true when drbook saw that no process of the command
	// is left (or that it never started).
	Confirmed bool
	// Outcome says what happened in words, e.g. "ended by SIGTERM".
	Outcome string
	// OutcomeZhTW is Outcome in Traditional Chinese; empty where the
	// outcome is only worded in English.
	OutcomeZhTW string
	// Local is true for a command on the operator's machine (exec.local)
	// rather than on a guest.
	Local bool
}

// Evidence is the stop as key/value facts for the journal and the report.
func (s RemoteStop) Evidence() journal.Evidence {
	confirmed, zh := "no: the command may still be running", "否：指令可能仍在執行"
	if s.Confirmed {
		confirmed, zh = "yes", "是"
	}
	facts := []journal.Fact{
		{Key: "target", KeyZhTW: "對象", Value: s.Target},
		{Key: "command", KeyZhTW: "指令", Value: s.Command},
		{Key: "outcome", KeyZhTW: "結果", Value: s.Outcome, ValueZhTW: s.OutcomeZhTW},
		{Key: "stop confirmed", KeyZhTW: "已確認停止", Value: confirmed, ValueZhTW: zh},
	}
	if s.PID > 0 {
		facts = append(facts, journal.Fact{Key: "pid", KeyZhTW: "程序編號（PID）", Value: strconv.Itoa(s.PID)})
	}
	if s.PGID > 0 {
		facts = append(facts, journal.Fact{Key: "process group", KeyZhTW: "程序群組（PGID）", Value: strconv.Itoa(s.PGID)})
	}
	if s.PIDFile != "" {
		facts = append(facts, journal.Fact{Key: "pid file", KeyZhTW: "PID 檔", Value: s.PIDFile})
	}
	if s.Local {
		return journal.Evidence{Kind: journal.EvidenceFacts, Title: "local command stopped", TitleZhTW: "本機指令已停止", Facts: facts}
	}
	return journal.Evidence{Kind: journal.EvidenceFacts, Title: "remote command stopped", TitleZhTW: "遠端指令已停止", Facts: facts}
}

type runStepKey struct{}

// runStep names one step instance of one run, across its sessions.
type runStep struct{ run, step string }

// WithRunStep returns ctx carrying the run's id and the step instance's
// id, which the engine sets for each attempt: a kind may use them to find
// what an earlier attempt of the same step left running (after a crash, a
// resumed run has the same run id).
func WithRunStep(ctx context.Context, runID, stepID string) context.Context {
	return context.WithValue(ctx, runStepKey{}, runStep{runID, stepID})
}

// RunStepFrom returns the ids WithRunStep put in ctx.
func RunStepFrom(ctx context.Context) (runID, stepID string, ok bool) {
	rs, ok := ctx.Value(runStepKey{}).(runStep)
	return rs.run, rs.step, ok
}
