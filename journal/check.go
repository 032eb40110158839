package journal

// payloadProblem says what is wrong when an event of a known type lacks
// the payload its type promises ("" when nothing is): every reader may then
// use the payload without checking, and one bad line is an error that
// names it, not a nil dereference in resume, runs or a report. Unknown
// types are left to newer readers.
func (ev *Event) payloadProblem() string {
	var missing bool
	switch ev.Type {
	case TypeRunStart:
		missing = ev.RunStart == nil
	case TypeRunResume:
		missing = ev.RunResume == nil
	case TypeRunEnd:
		missing = ev.RunEnd == nil
	case TypeStepStart:
		missing = ev.StepStart == nil
	case TypeStepRetry:
		missing = ev.StepRetry == nil
	case TypeStepFinish:
		missing = ev.StepFinish == nil
	case TypeEvidence:
		missing = ev.Evidence == nil
	case TypeNote:
		missing = ev.Note == nil
	case TypeDecision:
		missing = ev.Decision == nil
	case TypeTrust:
		missing = ev.Trust == nil
	case TypeMonitor:
		missing = ev.Monitor == nil
	case TypeArtifact:
		missing = ev.Artifact == nil
	}
	if missing {
		return ev.Type + " event without its payload"
	}
	return ""
}
