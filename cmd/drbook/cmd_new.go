package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps/all"
)

type newOptions struct {
	Output string
	Force  bool
}

// AddFlags registers new's flags.
func (o *newOptions) AddFlags(f *pflag.FlagSet) {
	f.StringVarP(&o.Output, "output", "o", "", "file to write (NAME.yaml in the current directory by default)")
	f.BoolVar(&o.Force, "force", false, "overwrite the file if it exists")
}

func newNewCommand(g *globalOptions) *cobra.Command {
	opts := &newOptions{}
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a commented skeleton runbook that validates, to start a new drill from",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNew(cmd.Context(), g, opts, args[0])
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

// schemaFile is where a drbook checkout keeps the runbook schema.
const schemaFile = "docs/schema/runbook.schema.json"

// runNew writes the skeleton for name, after loading it as validate
// would, so that what it writes is a runbook drbook accepts.
func runNew(_ context.Context, g *globalOptions, opts *newOptions, name string) error {
	out := opts.Output
	if out == "" {
		out = name + ".yaml"
	}
	src := skeleton(name, schemaLine(out))
	if _, err := runbooks.Parse(out, []byte(src), runbooks.Options{Registry: all.Registry(), Site: labSiteShape()}); err != nil {
		var el *runbooks.ErrorList
		if errors.As(err, &el) && len(el.Problems) > 0 {
			return usage(text("a name is lower case letters, digits, '-', '_' or '.', e.g. web-failover", "名稱限用小寫英文字母、數字、「-」、「_」或「.」，如 web-failover"), &i18n.Error{Text: journal.Text{
				EN:   fmt.Sprintf("cannot use %q as a runbook name: %s", name, el.Problems[0].Msg),
				ZhTW: fmt.Sprintf("無法以 %q 作為演練手冊名稱：%s", name, first(el.Problems[0].In("zh-TW"))),
			}})
		}
		return err
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if opts.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(out, flag, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return usage(text("choose another name or --output, or pass --force to overwrite it", "請改用其他名稱或 --output，或加 --force 覆寫"), i18n.Errorf("%s already exists", "%s 已存在", out))
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(src); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, messagesFor(g.Lang).Tf("new.wrote", out, out, out))
	return nil
}

// schemaLine is the first line of a new runbook: the yaml-language-server
// modeline pointing at the committed schema when the file is inside a
// drbook checkout, or the way to make one otherwise.
func schemaLine(out string) string {
	abs, err := filepath.Abs(out)
	if err == nil {
		for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, schemaFile)); err == nil {
				if rel, err := filepath.Rel(filepath.Dir(abs), filepath.Join(dir, schemaFile)); err == nil {
					return "# yaml-language-server: $schema=" + filepath.ToSlash(rel) + "\n"
				}
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "# For completion and checking in VS Code's YAML extension, run\n" +
		"# `drbook schema > runbook.schema.json` and make this the first line:\n" +
		"#   # yaml-language-server: $schema=runbook.schema.json\n"
}

// skeleton is a small runbook that shows each part of the format, with
// comments saying what each is for. It validates against the lab (--lab).
func skeleton(name, firstLine string) string {
	return firstLine + strings.ReplaceAll(`#
# NAME: a drbook runbook. `+"`drbook validate --lab NAME.yaml`"+` checks it without
# touching anything, `+"`drbook plan`"+` shows what it would do, `+"`drbook run`"+` runs it.
# `+"`drbook kinds`"+` lists the step kinds; `+"`drbook explain KIND`"+` shows a kind's
# parameters, result fields and an example (docs/kinds/ has the same reference).
name: NAME
title: {en: "NAME drill", zh-TW: "NAME 演練"}
description:
  en: "What this drill proves, for the report."
  zh-TW: "本演練所要證明之事項，供報告使用。"
owner: IT section
version: "1"
# The recovery time objective the report measures against.
rto: 30m
# The site file (vCenter, hosts, guests, services), relative to this file;
# --site FILE or --lab (the embedded lab) override it.
# site: my-office.site.yaml

# Parameters: change them with --var name=value, use them as ${{ params.name }}.
# A parameter of type guest (or host) must name one of the site's guests
# (hosts): ap02 is a guest of the lab; use one of your site's.
params:
  guest: {type: guest, default: ap02, description: {en: "the server to check", zh-TW: "要檢查之伺服器"}}

# Monitors probe in the background for the whole run and record outages.
# monitors:
#   - {name: web, every: 1s, check.http: {url: "${{ site.services.ap_web.url }}"}}

steps:
  - id: start
    name: {en: "Record the start", zh-TW: "記錄開始"}
    log: "NAME starts on ${{ params.guest }}"
  - id: httpd_status
    name: {en: "Is httpd running?", zh-TW: "httpd 是否執行中？"}
    ssh.service: {host: "${{ params.guest }}", name: httpd, action: status}
  # A step a person does by hand: guided mode shows the text and waits.
  # - id: call_desk
  #   manual: {en: "Tell the help desk the drill starts", zh-TW: "通知服務台演練開始"}
  - id: running
    name: {en: "httpd runs", zh-TW: "httpd 執行中"}
    assert:
      that: steps.httpd_status.result.active
      message: {en: "httpd is not running", zh-TW: "httpd 未執行"}

# on_failure: steps run when a step fails.
# finally: steps that always run at the end (power the host back on).
finally:
  - id: done
    log: "NAME finished"
`, "NAME", name)
}

// first is the first of two values.
func first[T any](a, _ T) T { return a }
