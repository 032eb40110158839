package steps

import (
	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// What a kind says while it runs (progress lines, notes) it says in both
// languages through Say and SayNote; the runtime shows the operator's
// language and journals both. Runtime.Progress and Runtime.Note remain for
// text that has no translation (a remote command's own words), and
// TestKindsSpeakBothLanguages in steps/all fails a kind that calls them
// with text of its own.

// Bilingual is implemented by runtimes that take text in both languages;
// the engine's, plan's and steptest's do. A runtime without it gets the
// English text.
type Bilingual interface {
	ProgressText(t journal.Text)
	NoteText(level string, t journal.Text)
}

// Say reports a progress line for the live view in both languages. en and
// zhTW are formats over the same args.
func Say(rt Runtime, en, zhTW string, args ...any) {
	t := Textf(en, zhTW, args...)
	if b, ok := rt.(Bilingual); ok {
		b.ProgressText(t)
		return
	}
	rt.Progress("%s", t.EN)
}

// SayNote journals a note in both languages. en and zhTW are formats over
// the same args.
func SayNote(rt Runtime, level, en, zhTW string, args ...any) {
	t := Textf(en, zhTW, args...)
	if b, ok := rt.(Bilingual); ok {
		b.NoteText(level, t)
		return
	}
	rt.Note(level, t.EN)
}

// Textf formats en and zhTW over the same args; an error drbook worded in
// both languages (i18n) among them is put in each text's language.
func Textf(en, zhTW string, args ...any) journal.Text { return i18n.Textf(en, zhTW, args...) }
