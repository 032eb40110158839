package engine

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/site"
	"github.com/drbook/drbook/steps"
)

// MinSecretLength is the shortest secret a run accepts, in characters.
// drbook hides secrets in the text it records (step output, errors,
// notes); a shorter one is an ordinary piece of words ("pass" is in
// "passed", "ok" in "drbook"), so hiding it would blank those words in
// the journal and reports, and not hiding it would leak it. A run refuses
// it at the start, before anything changes.
const MinSecretLength = 6

// SecretError is a run refused at its start because secrets of its site
// cannot be used: unset, unreadable, or too short to hide. Nothing ran.
type SecretError struct {
	Problems []SecretProblem
}

// SecretProblem is one secret reference that cannot be used.
type SecretProblem struct {
	// At is the reference's file:line:col, empty when it has none.
	At string
	// Field is where it sits in the site, e.g. "guests.ap02.password".
	Field string
	// Msg says what is wrong and what to do; it never holds the secret.
	// MsgZhTW is it in Traditional Chinese where drbook worded it.
	Msg, MsgZhTW string
	// Hint says how to fix it, for the preflight's table; HintZhTW in
	// Traditional Chinese.
	Hint, HintZhTW string
}

// problemOf is the SecretProblem of a secret that cannot be read (err
// from Resolve) or cannot be used (unusable, from usableSecret).
func problemOf(sec site.Secret, err error, unusable bool) SecretProblem {
	t := i18n.TextOf(err)
	p := SecretProblem{At: sec.Ref.At, Field: sec.Field, Msg: t.EN, MsgZhTW: t.ZhTW,
		Hint:     "set the secret the site file names (env:NAME or file:PATH), or use prompt to be asked when the run starts",
		HintZhTW: "請設定場域檔所指之機敏資料（env:NAME 或 file:PATH），或使用 prompt 於開始執行時輸入"}
	if unusable {
		p.Hint = fmt.Sprintf("give the account a secret of %d characters or more; the run refuses this one with or without --no-preflight", MinSecretLength)
		p.HintZhTW = fmt.Sprintf("請為該帳號設定 %d 個字元以上之機敏資料；無論是否加 --no-preflight，本次執行皆拒絕此機敏資料", MinSecretLength)
	}
	return p
}

// Error lists the problems, one a line, each at its reference.
func (e *SecretError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		if p.At != "" {
			b.WriteString(p.At + ": ")
		}
		b.WriteString(p.Field + ": " + p.Msg)
	}
	return b.String()
}

// Unwrap is the problems in both languages, for i18n.In.
func (e *SecretError) Unwrap() error {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		if p.At != "" {
			b.WriteString(p.At + "：")
		}
		msg := p.MsgZhTW
		if msg == "" {
			msg = p.Msg
		}
		b.WriteString(p.Field + "：" + msg)
	}
	return i18n.New(e.Error(), b.String())
}

// Hint says what to do besides each problem's own advice.
func (e *SecretError) Hint() string {
	return "drbook reads every secret of the site before the first step, so that none is missing half-way through a drill; nothing was run"
}

// secretStore holds the run's resolved secrets by reference, so each is
// read (and a prompt asked) once.
type secretStore struct {
	mu     sync.Mutex
	values map[secretKey]string
}

// secretKey identifies a secret: the same environment variable or file is
// one secret wherever the site names it; an unnamed prompt is one per
// place it is written.
type secretKey struct {
	source, name, at, label string
}

func keyOf(ref site.SecretRef, label string) secretKey {
	k := secretKey{source: ref.Source, name: ref.Name}
	if ref.Source == "prompt" && ref.Name == "" {
		k.at = ref.At
		if k.at == "" {
			k.label = label
		}
	}
	return k
}

func (s *secretStore) get(ref site.SecretRef, label string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[keyOf(ref, label)]
	return v, ok
}

func (s *secretStore) put(ref site.SecretRef, label, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[keyOf(ref, label)] = v
}

// all returns every resolved value.
func (s *secretStore) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for _, v := range s.values {
		out = append(out, v)
	}
	return out
}

// resolveSecrets reads every secret reference of the site: those from the
// environment and files first, and only when all of them are usable the
// prompts, so that an operator is not asked for a password of a run that
// cannot start. Every problem is reported together.
func resolveSecrets(s *site.Site, p site.Prompter) (*secretStore, error) {
	store := &secretStore{values: map[secretKey]string{}}
	refs := s.Secrets()
	var problems []SecretProblem
	resolve := func(sec site.Secret) {
		if _, done := store.get(sec.Ref, sec.Label); done {
			return
		}
		v, err := sec.Ref.Resolve(sec.Label, p)
		if err != nil {
			problems = append(problems, problemOf(sec, err, false))
			return
		}
		if err := usableSecret(v); err != nil {
			problems = append(problems, problemOf(sec, err, true))
			return
		}
		store.put(sec.Ref, sec.Label, v)
	}
	for _, sec := range refs {
		if sec.Ref.Source != "prompt" {
			resolve(sec)
		}
	}
	if len(problems) == 0 {
		for _, sec := range refs {
			if sec.Ref.Source == "prompt" {
				resolve(sec)
			}
		}
	}
	if len(problems) > 0 {
		return nil, &SecretError{Problems: problems}
	}
	return store, nil
}

// usableSecret refuses a secret drbook could not keep out of what it
// records.
func usableSecret(v string) error {
	switch n := utf8.RuneCountInString(v); {
	case n == 0:
		return i18n.New("the secret is empty (an unset password is written by leaving the field out)", "機敏資料是空的（不設密碼時請省略該欄位）")
	case n < MinSecretLength:
		return i18n.Errorf("the secret is only %d characters long; drbook refuses secrets shorter than %d: one that short is part of ordinary words, which hiding it would blank all over the journal and reports; give the account a longer password",
			"機敏資料僅 %d 個字元；drbook 拒絕短於 %d 個字元之機敏資料：如此之短會出現在一般字詞中，遮蔽時將使紀錄檔與報告處處空白；請為該帳號設定較長之密碼", n, MinSecretLength)
	}
	return nil
}

// SecretCheck is what CheckSecrets found.
type SecretCheck struct {
	// Readable counts the secrets read from the environment and files.
	Readable int
	// Prompted counts the secrets a run will ask for at its start.
	Prompted int
	// Problems are the secrets a run would refuse.
	Problems []SecretProblem
}

// CheckSecrets reads the site's secrets from the environment and files as
// a run does at its start, without asking for the prompted ones, so that
// plan can tell before the drill that one is missing or too short.
func CheckSecrets(s *site.Site) SecretCheck {
	var c SecretCheck
	seen := map[secretKey]bool{}
	for _, sec := range s.Secrets() {
		if sec.Ref.Source == "prompt" {
			c.Prompted++
			continue
		}
		k := keyOf(sec.Ref, sec.Label)
		v, err := sec.Ref.Resolve(sec.Label, nil)
		uerr := err
		if err == nil {
			uerr = usableSecret(v)
		}
		switch {
		case uerr != nil:
			c.Problems = append(c.Problems, problemOf(sec, uerr, err == nil))
		case !seen[k]:
			c.Readable++
		}
		seen[k] = true
	}
	return c
}

// redactedDescription hides the run's secrets in what the operator is
// shown before a step: its parameters may carry an earlier step's output,
// which the journal holds redacted but the run keeps whole.
func (r *run) redactedDescription(d steps.Description) steps.Description {
	d.Action, d.ActionZhTW, d.Target, d.Command = r.w.Scrub(d.Action), r.w.Scrub(d.ActionZhTW), r.w.Scrub(d.Target), r.w.Scrub(d.Command)
	return d
}

// redactedQuestion is redactedDescription for a manual step's question.
func (r *run) redactedQuestion(q steps.Question) steps.Question {
	text := func(t journal.Text) journal.Text {
		return journal.Text{EN: r.w.Scrub(t.EN), ZhTW: r.w.Scrub(t.ZhTW)}
	}
	q.Text = text(q.Text)
	list := make([]journal.Text, len(q.Checklist))
	for i, c := range q.Checklist {
		list[i] = text(c)
	}
	q.Checklist = list
	return q
}
