package reports

// Term is the reports' fixed text for key in lang (en or zh-TW), so that
// another view of a run (the web view of `drbook serve`) names things as
// the signed report does: "Recovery time objective (RTO)", "status.ok",
// "mode.lab". A key the catalog lacks shows itself.
func Term(key, lang string) string {
	e, ok := catalog[key]
	if !ok {
		return key
	}
	if lang == LangZhTW {
		return e[1]
	}
	return e[0]
}

// HasTerm says whether the catalog words key, for callers that fall back
// to the value itself (an unknown status shows as it is).
func HasTerm(key string) bool {
	_, ok := catalog[key]
	return ok
}

// Printable makes text from a journal safe to show on any medium, as every
// report's text is: control characters become their visible pictures,
// bidirectional overrides are named, invalid UTF-8 becomes U+FFFD.
func Printable(s string) string { return printable(s) }
