// Package i18n holds drbook's errors worded in both of its languages.
//
// An error drbook writes itself (a kind that cannot reach its condition, a
// command given the wrong arguments, a site file that names nothing) is
// made with Errorf, in English and in Traditional Chinese over the same
// arguments. Whoever shows it to a person (the screen, the report) asks for
// it in that person's language with In; the journal keeps both. Errors from
// elsewhere (the network, vCenter, a guest) keep their own words: they are
// evidence, and are never translated.
package i18n

import (
	"errors"
	"fmt"
	"strings"

	"github.com/drbook/drbook/journal"
)

// Error is an error in both languages. It wraps what its formats wrapped
// with %w.
type Error struct {
	Text journal.Text
	errs []error
}

// Errorf formats en and zhTW over the same args, like fmt.Errorf (%w wraps;
// both formats must use the same verbs in the same order).
func Errorf(en, zhTW string, args ...any) error {
	w := fmt.Errorf(en, args...)
	e := &Error{Text: journal.Text{EN: w.Error(), ZhTW: fmt.Sprintf(noWrap(zhTW), zhArgs(args)...)}}
	switch u := w.(type) {
	case interface{ Unwrap() error }:
		e.errs = []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		e.errs = u.Unwrap()
	}
	return e
}

// Textf formats en and zhTW over the same args (Sprintf verbs, no %w),
// each bilingual error among args in the text's own language: a progress
// line or a note that names a reason drbook worded.
func Textf(en, zhTW string, args ...any) journal.Text {
	return journal.Text{EN: fmt.Sprintf(en, args...), ZhTW: fmt.Sprintf(zhTW, zhArgs(args)...)}
}

// Wrap is err shown as t: its Error() is t.EN, In gives t.ZhTW, and
// errors.Is and errors.As see err. It is for text computed from err's own
// (the engine's redaction of secrets in both languages).
func Wrap(t journal.Text, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Text: t, errs: []error{err}}
}

// New is Errorf without arguments.
func New(en, zhTW string) error { return &Error{Text: journal.Text{EN: en, ZhTW: zhTW}} }

func (e *Error) Error() string   { return e.Text.EN }
func (e *Error) Unwrap() []error { return e.errs }

// inChinese is an error argument of Errorf as the Chinese text shows it:
// a bilingual error inside it in Chinese, a foreign one as it is.
type inChinese struct{ err error }

func (c inChinese) Error() string { return In(c.err, "zh-TW") }

// zhArgs is args as the Chinese text takes them: each error as inChinese.
func zhArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok {
			a = inChinese{err}
		}
		out[i] = a
	}
	return out
}

// noWrap turns %w into %v, which Sprintf takes.
func noWrap(format string) string { return strings.ReplaceAll(format, "%w", "%v") }

// In is err's text in lang ("en" or "zh-TW"). In English it is
// err.Error(). In Chinese, every bilingual error in err's chain has its
// English words replaced by its Chinese ones, outermost first, so that an
// English wrapper around a bilingual error ("step shut: …") keeps its
// frame and a bilingual error around a foreign one keeps the foreign words.
func In(err error, lang string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if lang != "zh-TW" {
		return s
	}
	if e, ok := err.(*Error); ok && e.Text.ZhTW != "" {
		return e.Text.ZhTW
	}
	var e *Error
	if errors.As(err, &e) && e.Text.ZhTW != "" && e.Text.EN != "" {
		if i := strings.Index(s, e.Text.EN); i >= 0 {
			return s[:i] + e.Text.ZhTW + s[i+len(e.Text.EN):]
		}
	}
	return s
}

// TextOf is err in both languages, for the journal: ZhTW is empty when
// nothing in err was worded in Chinese.
func TextOf(err error) journal.Text {
	if err == nil {
		return journal.Text{}
	}
	t := journal.Text{EN: err.Error()}
	if zh := In(err, "zh-TW"); zh != t.EN {
		t.ZhTW = zh
	}
	return t
}
