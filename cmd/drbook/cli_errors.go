package main

import (
	"errors"
	"regexp"
	"strings"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
)

// cobraWordings frame cobra's and pflag's own errors (a flag or an
// argument count the command does not take) in Traditional Chinese; what
// the person typed and the flag's name are kept as they are ($1…). The
// English is cobra's, unchanged. cobra words these with fmt.Errorf, so
// their text is all there is to go by; an error none of them matches
// stays English.
var cobraWordings = []struct {
	re *regexp.Regexp
	zh string
}{
	{regexp.MustCompile(`^unknown flag: (--\S+)$`), "不明之選項：$1"},
	{regexp.MustCompile(`^unknown shorthand flag: ('.+') in (-\S+)$`), "不明之簡寫選項：$1（於 $2）"},
	{regexp.MustCompile(`^flag needs an argument: ('.+') in (-\S+)$`), "選項 $1（於 $2）須指定值"},
	{regexp.MustCompile(`^flag needs an argument: (--\S+)$`), "選項 $1 須指定值"},
	{regexp.MustCompile(`(?s)^invalid argument (".*") for "(.+)" flag: (.*)$`), "選項 $2 之值 $1 無效：$3"},
	{regexp.MustCompile(`^bad flag syntax: (.*)$`), "選項語法錯誤：$1"},
	{regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`), "須提供 $1 個引數，但收到 $2 個"},
	{regexp.MustCompile(`^accepts at most (\d+) arg\(s\), received (\d+)$`), "最多接受 $1 個引數，但收到 $2 個"},
	{regexp.MustCompile(`^requires at least (\d+) arg\(s\), only received (\d+)$`), "至少須提供 $1 個引數，但僅收到 $2 個"},
	{regexp.MustCompile(`^accepts between (\d+) and (\d+) arg\(s\), received (\d+)$`), "須提供 $1 至 $2 個引數，但收到 $3 個"},
	{regexp.MustCompile(`(?s)^unknown command (".*?") for (".*?")(?:\n\nDid you mean this\?\n(.*))?$`), "$2 無此指令：$1"},
}

// cobraError is cobra's err in both languages (an *i18n.Error whose
// English is err's text), or err itself when it is not one of cobra's.
func cobraError(err error) error {
	if err == nil {
		return nil
	}
	var bi *i18n.Error
	if errors.As(err, &bi) {
		return err
	}
	en := err.Error()
	for _, w := range cobraWordings {
		m := w.re.FindStringSubmatchIndex(en)
		if m == nil {
			continue
		}
		zh := string(w.re.ExpandString(nil, w.zh, en, m))
		// cobra's suggestions ("Did you mean this?"), one per line.
		if i := strings.Index(en, "\n\nDid you mean this?\n"); i >= 0 {
			zh += "\n\n您要執行的是否為：\n" + en[i+len("\n\nDid you mean this?\n"):]
		}
		return &i18n.Error{Text: journal.Text{EN: en, ZhTW: zh}}
	}
	return err
}

// text is a fixed text in both languages (a hint, a line).
func text(en, zhTW string) journal.Text { return journal.Text{EN: en, ZhTW: zhTW} }
