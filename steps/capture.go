package steps

import (
	"strings"
	"unicode/utf8"

	"github.com/drbook/drbook/journal"
)

// CapText keeps at most limit bytes of a command's output for a step's
// result and transcript, and reports whether it cut. The run's secrets
// are redacted first, over the whole text: cut first, a secret straddling
// the limit would leave its first half behind, which no later redaction
// recognises. The cut never splits a UTF-8 character or the redaction
// marker. A limit of 0 or less keeps everything.
func CapText(rt Runtime, s string, limit int) (string, bool) {
	s = rt.Redact(s)
	if limit <= 0 || len(s) <= limit {
		return s, false
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	// A marker cut in two reads as text; keep it whole or not at all.
	if i := strings.LastIndex(s[:cut], journal.Redacted[:1]); i >= 0 && i+len(journal.Redacted) > cut && strings.HasPrefix(s[i:], journal.Redacted) {
		cut = i
	}
	return s[:cut], true
}
