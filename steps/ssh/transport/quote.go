package transport

import "strings"

// Quote returns s as one word for a POSIX shell (sh, bash, busybox ash):
// unchanged when it holds only characters no shell treats specially,
// otherwise wrapped in single quotes, inside which nothing is special, with
// each embedded single quote written as '"'"'. It is the only way drbook
// puts a value into a remote command line, so that a path, host name or
// pattern taken from a runbook can never become shell syntax.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isPlainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// QuoteAll quotes each word with Quote and joins them with spaces.
func QuoteAll(words ...string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = Quote(w)
	}
	return strings.Join(quoted, " ")
}

// isPlainWord reports whether s needs no quoting: letters, digits and a few
// punctuation marks that no POSIX shell expands in any position. '=' and
// '~' are left out because they are special at the start of a word.
func isPlainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == ',' || c == '+' || c == '@' || c == '%':
		default:
			return false
		}
	}
	return true
}
