package steps

import "strings"

// ShellQuote returns s as one word for a POSIX shell (sh, bash, busybox
// ash): unchanged when it holds only characters no shell treats specially,
// otherwise wrapped in single quotes, inside which nothing is special, with
// each embedded single quote written as '"'"'. `; rm -rf /`, `$(…)`,
// backticks, quotes and newlines all arrive as literal text. It is the one
// quoting function for values put into remote and local commands.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if isPlainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
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
