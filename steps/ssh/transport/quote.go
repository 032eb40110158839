package transport

import (
	"strings"

	"github.com/drbook/drbook/steps"
)

// Quote returns s as one word for a POSIX shell (sh, bash, busybox ash):
// unchanged when it holds only characters no shell treats specially,
// otherwise wrapped in single quotes, inside which nothing is special, with
// each embedded single quote written as '"'"'. It is the only way drbook
// puts a value into a remote command line, so that a path, host name or
// pattern taken from a runbook can never become shell syntax.
func Quote(s string) string { return steps.ShellQuote(s) }

// QuoteAll quotes each word with Quote and joins them with spaces.
func QuoteAll(words ...string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = Quote(w)
	}
	return strings.Join(quoted, " ")
}
