// Package zhtext finds drbook's own English in text meant for a
// Traditional Chinese reader: the zh-TW tests of the command line and of
// the reports run the real thing in zh-TW and fail on English words that
// are neither names (products, protocols, ids, kinds, hosts, units) nor
// text the run quoted from elsewhere (a guest's output, vCenter's
// messages), which drbook shows as it was said.
package zhtext

import (
	"regexp"
	"sort"
	"strings"

	"github.com/drbook/drbook/journal"
)

var (
	mdEscape = regexp.MustCompile(`\\(.)`)
	wordRE   = regexp.MustCompile(`[A-Za-z][A-Za-z_]*[A-Za-z]`)
	// technical are tokens that are never words to translate: a monitor
	// reference, a URL, a path, an expression, a dotted name (a kind, a
	// host), a hash, an id with dashes, a number with its unit, an SSH
	// fingerprint, a flag.
	technical = regexp.MustCompile(`monitor:\S+|https?://\S+|(?:/[\w.\-]+)+/?|\$\{\{.*?\}\}|\b\w+(?:\.\w+)+\b|\b[0-9a-f]{16,}\b|\b\w+-\w+(?:-\w+)*\b|\b\d+[a-z]+\b|SHA256:\S+|--[a-z-]+`)
	entities  = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "<br>", " ")
)

// Untranslated returns the English words of text (plain, markdown or
// HTML-escaped) that allowed does not accept, leaving out technical
// tokens and every string of quoted. Each word is listed once, in order.
func Untranslated(text string, quoted []string, allowed func(word string) bool) []string {
	drop := func() {
		for _, q := range quoted {
			if q != "" {
				text = strings.ReplaceAll(text, q, " ")
			}
		}
	}
	// As printed or HTML-escaped, then with markdown's escapes undone.
	text = entities.Replace(text)
	drop()
	text = entities.Replace(mdEscape.ReplaceAllString(text, "$1"))
	drop()
	text = technical.ReplaceAllString(text, " ")
	var bad []string
	seen := map[string]bool{}
	for _, w := range wordRE.FindAllString(text, -1) {
		if seen[w] || allowed(w) {
			continue
		}
		seen[w] = true
		bad = append(bad, w)
	}
	return bad
}

// Where quotes text around the first whole-word use of each word, to show
// in a failure.
func Where(text string, words []string) string {
	var out []string
	for _, w := range words {
		if i := regexp.MustCompile(`\b` + regexp.QuoteMeta(w) + `\b`).FindStringIndex(text); i != nil {
			out = append(out, strings.TrimSpace(text[max(0, i[0]-80):min(len(text), i[1]+40)]))
		}
	}
	return strings.Join(out, "\n")
}

// Quoted is what a journal quotes from elsewhere and a zh-TW report shows
// as it was said: a monitor's detail with no Chinese, vCenter's event
// messages and sources, vCenter's product name, trusted fingerprints,
// commands and guests' output, an operator's reasons, and, in a text
// drbook wrote in both languages, what the two have in common (an error
// from the network or vCenter, an expression, a value). Longest first, so
// that a message is removed before a part of it.
func Quoted(log *journal.Log) []string {
	var q []string
	for _, e := range log.Events {
		switch {
		case e.Monitor != nil && e.Monitor.DetailZhTW == "":
			q = append(q, e.Monitor.Detail)
		case e.Monitor != nil:
			q = append(q, Shared(e.Monitor.Detail, e.Monitor.DetailZhTW)...)
		case e.StepFinish != nil:
			f := e.StepFinish
			q = append(q, Shared(f.Error, f.ErrorZhTW)...)
			q = append(q, Shared(f.Reason, f.ReasonZhTW)...)
		case e.Note != nil:
			q = append(q, Shared(e.Note.Text, e.Note.TextZhTW)...)
		case e.Decision != nil:
			q = append(q, e.Decision.Reason)
		case e.Evidence != nil:
			for _, m := range e.Evidence.Timeline {
				if m.LabelZhTW == "" {
					q = append(q, m.Label, m.Source)
				}
			}
			for _, f := range e.Evidence.Facts {
				if f.Key == "product" {
					q = append(q, f.Value)
				}
			}
			if tr := e.Evidence.Transcript; tr != nil {
				q = append(q, tr.Command, tr.Stdout, tr.Stderr)
			}
		case e.Trust != nil:
			q = append(q, e.Trust.Fingerprint)
		}
	}
	sort.Slice(q, func(i, j int) bool { return len(q[i]) > len(q[j]) })
	return q
}

// Shared returns the runs of at least 8 characters, with a letter in
// them, that en and zh have in common, longest first: in a text drbook
// wrote in both languages, what is the same in both came from elsewhere
// (an error, an expression, a value) and is quoted as it was said.
func Shared(en, zh string) []string {
	a, b := []rune(en), []rune(zh)
	var out []string
	for {
		// The longest common run of a and b (dynamic programming over
		// the two; the texts are a line or two).
		best, endA, endB := 0, 0, 0
		prev := make([]int, len(b)+1)
		for i := 1; i <= len(a); i++ {
			cur := make([]int, len(b)+1)
			for j := 1; j <= len(b); j++ {
				if a[i-1] == b[j-1] {
					cur[j] = prev[j-1] + 1
					if cur[j] > best {
						best, endA, endB = cur[j], i, j
					}
				}
			}
			prev = cur
		}
		run := strings.TrimSpace(string(a[endA-best : endA]))
		if best < 8 || !wordRE.MatchString(run) {
			return out
		}
		out = append(out, run)
		// Cut it out of both and look for the next.
		a = append(append([]rune{}, a[:endA-best]...), append([]rune{0}, a[endA:]...)...)
		b = append(append([]rune{}, b[:endB-best]...), append([]rune{1}, b[endB:]...)...)
	}
}
