package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The command line's help in the run's language. cobra prints help before
// drbook has parsed --lang, so runMain words the commands (localizeHelp)
// from langOf(args) before executing them; English keeps cobra's own
// templates and texts byte for byte.

func init() {
	cobra.AddTemplateFunc("zhUseLine", zhUseLine)
	cobra.AddTemplateFunc("zhFlagUsages", zhFlagUsages)
}

// localizeHelp words root and every command under it in lang: Short, Long,
// Example, every flag's usage and cobra's frame (Usage:, Flags: …). It
// adds cobra's help and completion commands and the -h flags first, as
// Execute would, so that they are worded too.
func localizeHelp(root *cobra.Command, lang string) {
	if lang != "zh-TW" {
		return
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	worded := map[*pflag.Flag]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.InitDefaultHelpFlag()
		c.Short, c.Long, c.Example = zhHelp(c.Short), zhHelp(c.Long), zhHelp(c.Example)
		c.Use = strings.Replace(c.Use, " [command]", " [指令]", 1) // cobra's help command
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if !worded[f] {
				worded[f] = true
				f.Usage = zhFlagUsage(c, f)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	root.SetUsageTemplate(zhUsageTemplate)
}

// zhHelp is en's Traditional Chinese; a text without one stays as it is
// (TestEveryCommandAndFlagHasZhTWHelp keeps that from shipping).
func zhHelp(en string) string {
	if zh, ok := helpZhTW[en]; ok {
		return zh
	}
	return en
}

// zhFlagUsage words f's usage; cobra's -h flag says whose help it is.
func zhFlagUsage(c *cobra.Command, f *pflag.Flag) string {
	if f.Name == "help" && f.Usage == "help for "+c.DisplayName() {
		return "顯示 " + c.DisplayName() + " 之說明"
	}
	return zhHelp(f.Usage)
}

// zhUsageTemplate is cobra's default usage template with its frame in
// Traditional Chinese.
const zhUsageTemplate = `用法：{{if .Runnable}}
  {{zhUseLine .}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [指令]{{end}}{{if gt (len .Aliases) 0}}

別名：
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

範例：
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}

可用指令：{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

選項：
{{zhFlagUsages .LocalFlags | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

全域選項：
{{zhFlagUsages .InheritedFlags | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

其他說明主題：{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

指令之詳細說明請執行 "{{.CommandPath}} [指令] --help"。{{end}}
`

// zhUseLine is c's use line with cobra's "[flags]" worded.
func zhUseLine(c *cobra.Command) string {
	return strings.Replace(c.UseLine(), " [flags]", " [選項]", 1)
}

// zhValueNames word the value names pflag derives from a flag's type.
var zhValueNames = map[string]string{
	"string": "字串", "strings": "字串[,字串]", "stringArray": "字串",
	"int": "整數", "uint": "整數", "float": "數值", "duration": "時間長度",
}

// zhFlagUsages is pflag's FlagUsages in Traditional Chinese: the same
// columns, aligned by display width, with the value names and "(default
// …)" worded.
func zhFlagUsages(fs *pflag.FlagSet) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		name, usage := pflag.UnquoteUsage(f)
		if zh, ok := zhValueNames[name]; ok {
			name = zh
		}
		if name != "" {
			left += " " + name
		}
		if f.NoOptDefVal != "" && !(f.Value.Type() == "bool" && f.NoOptDefVal == "true") {
			left += "[=" + f.NoOptDefVal + "]"
		}
		if !zeroDefault(f) {
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf("（預設 %q）", f.DefValue)
			} else {
				usage += "（預設 " + f.DefValue + "）"
			}
		}
		if f.Deprecated != "" {
			usage += "（已停用：" + f.Deprecated + "）"
		}
		rows = append(rows, row{left, usage})
		width = max(width, screenWidth.StringWidth(left))
	})
	var b strings.Builder
	for _, r := range rows {
		pad := strings.Repeat(" ", width-screenWidth.StringWidth(r.left)+3)
		usage := strings.ReplaceAll(r.usage, "\n", "\n"+strings.Repeat(" ", width+3))
		b.WriteString(r.left + pad + usage + "\n")
	}
	return b.String()
}

// zeroDefault reports whether f's default goes unsaid, as pflag decides
// for the types drbook's flags have.
func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return true
	}
	return false
}
