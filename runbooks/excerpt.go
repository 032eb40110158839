package runbooks

import (
	"regexp"
	"strings"
)

// hiddenLine replaces a source line in an error's excerpt when the line
// may hold a secret. An error about something else on the same line (a
// misspelt key, a YAML syntax error) would otherwise print the secret
// next to the caret, into a terminal, a ticket or a CI log.
const hiddenLine = "(line not shown: it may hold a secret)"

// excerptLine is line as an error excerpt shows it.
func excerptLine(line string) string {
	if mayHoldSecret(line) {
		return hiddenLine
	}
	return line
}

// keyValue finds "key: value" pairs in block and flow YAML, the key
// possibly quoted.
var keyValue = regexp.MustCompile(`["']?([A-Za-z0-9_.-]+)["']?\s*:(?:\s+|$)("[^"]*"?|'[^']*'?|[^,}\]#]*)`)

// mayHoldSecret reports whether a line looks like it holds a secret: key
// material, a lone base64 blob, or a value under a key named like a
// password (misspellings included) that is not a secret reference.
func mayHoldSecret(line string) bool {
	if strings.Contains(line, "-----BEGIN") || strings.Contains(line, "PRIVATE KEY") {
		return true
	}
	if isBlob(strings.Trim(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), `"'`)) {
		return true
	}
	for _, m := range keyValue.FindAllStringSubmatch(line, -1) {
		if secretLikeKey(m[1]) && !isReference(m[2]) {
			return true
		}
	}
	return false
}

// isBlob reports whether s is one long token of base64, as the lines of
// a pasted private key or an access token are; hex (a thumbprint, a
// hash) is public and stays visible.
func isBlob(s string) bool {
	if len(s) < 40 {
		return false
	}
	hex := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f', r >= 'A' && r <= 'F':
		case r >= 'g' && r <= 'z', r >= 'G' && r <= 'Z', r == '+', r == '/', r == '=', r == '-', r == '_':
			hex = false
		default:
			return false
		}
	}
	return !hex
}

// secretLikeKey reports whether a key names a secret, or is a misspelling
// of one that the loader would reject as unknown while its value is still
// the secret.
func secretLikeKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer("_", "", "-", "", ".", "").Replace(k))
	if k == "pw" {
		return true
	}
	for _, part := range []string{"pass", "pwd", "secret", "token", "credential", "privatekey", "apikey", "phrase"} {
		if strings.Contains(k, part) {
			return true
		}
	}
	for _, name := range []string{"password", "passphrase", "keypassphrase"} {
		if editDistance(k, name) <= 2 {
			return true
		}
	}
	return false
}

// isReference reports whether a YAML value is a secret reference, an
// expression, or empty: nothing secret to hide.
func isReference(v string) bool {
	v = strings.Trim(strings.TrimSpace(v), `"'`)
	switch {
	case v == "", v == "prompt", v == "|", v == ">", v == "~", v == "null",
		strings.HasPrefix(v, "prompt:"), strings.HasPrefix(v, "env:"), strings.HasPrefix(v, "file:"),
		strings.HasPrefix(v, "${{"), strings.HasPrefix(v, "{"), strings.HasPrefix(v, "["):
		return true
	}
	return false
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
