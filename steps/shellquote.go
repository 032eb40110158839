package steps

import "strings"

// ShellQuote quotes s for a POSIX shell so that it is always one word and
// nothing in it is expanded: `; rm -rf /`, `$(…)`, backticks, quotes and
// newlines all arrive as literal text.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
