package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/runbooks"
	"github.com/drbook/drbook/steps"
)

// ErrPreflightFailed means a read-only check before the run found that the
// run cannot succeed (a typo in a host name, a missing file, a monitor
// down before the disruption): nothing was run.
var ErrPreflightFailed = i18n.New("the preflight failed; nothing was run", "執行前檢查未通過；未執行任何步驟")

// Preflight results of one check.
const (
	CheckOK         = "ok"
	CheckFailed     = "failed"
	CheckSkipped    = "skipped"     // the step will not run (when: false)
	CheckNotChecked = "not-checked" // the kind has no preflight, or its values come at run time
)

// Check is one line of a preflight: a step (or monitor) and what its
// read-only check found.
type Check struct {
	Step  string
	Block string
	Kind  string
	Name  journal.Text
	// What says what was looked at; WhatZhTW is it in Traditional
	// Chinese when it is words (a step without a target is named by its
	// action).
	What, WhatZhTW string
	// Result is one of the Check… constants.
	Result string
	// Detail is the failure, the reason for a skip, or what the check
	// left to the run ("produced by step transfer").
	Detail string
	// DetailZhTW is Detail in Traditional Chinese when drbook wrote it;
	// a failure's own error has none.
	DetailZhTW string
	// Hint says how to fix a failure; HintZhTW is it in Traditional
	// Chinese when drbook has the words.
	Hint, HintZhTW string
}

// HintIn returns how to fix the check's failure, in lang.
func (c Check) HintIn(lang string) string {
	if lang == "zh-TW" && c.HintZhTW != "" {
		return c.HintZhTW
	}
	return c.Hint
}

// DetailIn returns the check's detail in lang.
func (c Check) DetailIn(lang string) string {
	if lang == "zh-TW" && c.DetailZhTW != "" {
		return c.DetailZhTW
	}
	return c.Detail
}

// WhatIn returns what the check looked at, in lang.
func (c Check) WhatIn(lang string) string {
	if lang == "zh-TW" && c.WhatZhTW != "" {
		return c.WhatZhTW
	}
	return c.What
}

// checkResultZhTW words the Check… results in Traditional Chinese, as
// `drbook preflight` does.
var checkResultZhTW = map[string]string{CheckOK: "通過", CheckFailed: "未通過", CheckSkipped: "略過", CheckNotChecked: "未檢查"}

func orText(s, or string) string {
	if s != "" {
		return s
	}
	return or
}

// PreflightReport is the whole preflight of a runbook.
type PreflightReport struct {
	Checks []Check
	Trusts []journal.Trust
	// Plan is the plan the checks were made on.
	Plan []PlannedStep
}

// Evidence is the preflight as a table for the journal.
func (p *PreflightReport) Evidence() journal.Evidence {
	t := &journal.Table{Columns: []string{"step", "kind", "check", "result", "detail"}, ColumnsZhTW: []string{"步驟", "類型", "檢查對象", "結果", "說明"}}
	for _, c := range p.Checks {
		t.Rows = append(t.Rows, []string{c.Step, c.Kind, c.What, c.Result, c.Detail})
		t.RowsZhTW = append(t.RowsZhTW, []string{c.Step, c.Kind, orText(c.WhatZhTW, c.What), checkResultZhTW[c.Result], c.DetailIn("zh-TW")})
	}
	return journal.Evidence{Kind: journal.EvidenceTable, Title: "Preflight before the first step", TitleZhTW: "第一個步驟前之執行前檢查", Table: t}
}

// Failed counts the failed checks.
func (p *PreflightReport) Failed() int {
	n := 0
	for _, c := range p.Checks {
		if c.Result == CheckFailed {
			n++
		}
	}
	return n
}

// Err is ErrPreflightFailed naming each failed check and what it found,
// or nil.
func (p *PreflightReport) Err() error {
	var failed, failedZh []string
	for _, c := range p.Checks {
		if c.Result != CheckFailed {
			continue
		}
		line, lineZh := c.Step+": ", c.Step+"："
		if c.What != "" && !strings.Contains(c.Detail, c.What) {
			line += c.What + ": "
			lineZh += orText(c.WhatZhTW, c.What) + "："
		}
		failed, failedZh = append(failed, line+c.Detail), append(failedZh, lineZh+c.DetailIn("zh-TW"))
	}
	if len(failed) == 0 {
		return nil
	}
	return i18n.Errorf("%w: %d check(s) failed:\n  %v", "%w：%d 項檢查未通過：\n  %v", ErrPreflightFailed, len(failed),
		i18n.New(strings.Join(failed, "\n  "), strings.Join(failedZh, "\n  ")))
}

// Preflight runs the read-only preflight of every step, as `run` does
// before its first step, and probes each monitor once: a drill that
// disrupts a service must first see it up, or its outage cannot be told
// from a failure that was there before.
func Preflight(ctx context.Context, rb *runbooks.Runbook, cfg Config) *PreflightReport {
	plan, trusts := Plan(ctx, rb, cfg, true)
	rep := &PreflightReport{Trusts: trusts, Plan: plan}
	for _, p := range CheckSecrets(rb.Site).Problems {
		what := p.Field
		if p.At != "" {
			what = p.At + ": " + p.Field
		}
		rep.Checks = append(rep.Checks, Check{Step: "secrets", Block: "site", Kind: "site", What: what, Result: CheckFailed,
			Detail: p.Msg, DetailZhTW: p.MsgZhTW, Hint: p.Hint, HintZhTW: p.HintZhTW})
	}
	rep.Checks = append(rep.Checks, monitorChecks(ctx, rb, cfg)...)
	rep.add(plan)
	return rep
}

// ChecksOf turns a plan into preflight lines.
func ChecksOf(plan []PlannedStep) []Check {
	rep := &PreflightReport{}
	rep.add(plan)
	return rep.Checks
}

func (p *PreflightReport) add(plan []PlannedStep) {
	for _, s := range plan {
		c := Check{Step: s.ID, Block: s.Block, Kind: s.Kind, Name: s.Name, What: s.Description.Target}
		if c.What == "" {
			c.What, c.WhatZhTW = s.Description.Action, s.Description.ActionZhTW
		}
		switch {
		case s.Skip != "":
			c.Result, c.Detail, c.DetailZhTW = CheckSkipped, s.Skip, s.SkipZhTW
		case s.Children != nil:
			c.Result, c.Detail, c.DetailZhTW = CheckNotChecked, "a group: its branches are checked below", "群組：其分支列於下方"
		case !s.PreflightRan:
			c.Result = CheckNotChecked
			if s.Dynamic {
				c.Detail, c.DetailZhTW = "its values come from earlier steps; checked when it runs", "其值來自先前步驟；於執行時檢查"
			} else {
				c.Detail, c.DetailZhTW = "this kind has nothing to check before the run", "此類型於執行前無可檢查之項目"
			}
		case s.Preflight != nil:
			c.Result = CheckFailed
			c.Hint, c.HintZhTW = preflightHint(s.Kind, s.Preflight)
			t := oneLineText(i18n.TextOf(s.Preflight))
			c.Detail, c.DetailZhTW = t.EN, t.ZhTW
		default:
			c.Result, c.Detail, c.DetailZhTW = CheckOK, strings.Join(s.Notes, "; "), strings.Join(s.NotesZhTW, "；")
		}
		p.Checks = append(p.Checks, c)
		p.add(s.Children)
	}
}

// preflightHint says how to fix a failed check: the kind's own words when
// its error carries a hint, else what usually causes such a failure.
// The English words matched are the error's, whatever the run's language.
func preflightHint(kind string, err error) (en, zhTW string) {
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		var hz interface{ HintZhTW() string }
		if errors.As(err, &hz) {
			return h.Hint(), hz.HintZhTW()
		}
		return h.Hint(), ""
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "host key") || strings.Contains(msg, "certificate") || strings.Contains(msg, "thumbprint"):
		return "check the fingerprint with the site's administrator, then pin it in the site file (or --accept-new for this run)",
			"請與場域管理人員核對指紋後，於場域檔固定之（或本次執行加 --accept-new）"
	case strings.Contains(msg, "does not exist") || strings.Contains(msg, "no such file"):
		return "check the path; if a step creates it, that step must come before this one",
			"請檢查路徑；若由某步驟建立，該步驟須排在本步驟之前"
	case strings.Contains(msg, "not found") || strings.Contains(msg, "no host") || strings.Contains(msg, "no guest") || strings.Contains(msg, "no vm") || strings.Contains(msg, "did you mean"):
		return "check the name against the site (drbook validate --site SITE FILE)",
			"請與場域核對名稱（drbook validate --site SITE FILE）"
	case strings.Contains(msg, "login") || strings.Contains(msg, "password") || strings.Contains(msg, "permission denied") || strings.Contains(msg, "authenticat"):
		return "check the user and the secret reference in the site file",
			"請檢查場域檔中之帳號與機敏資料參照"
	case strings.Contains(msg, "refused") || strings.Contains(msg, "timeout") || strings.Contains(msg, "timed out") || strings.Contains(msg, "unreachable"):
		return "check the address and port in the site file and that the machine is up",
			"請檢查場域檔中之位址與連接埠，並確認該機器已開機"
	case strings.HasPrefix(kind, "vcenter."):
		return "check vCenter's inventory and the site's vcenter: section",
			"請檢查 vCenter 之清單及場域檔之 vcenter: 區段"
	case strings.HasPrefix(kind, "ssh."):
		return "check the guest's address, user and key in the site file",
			"請檢查場域檔中該客體之位址、帳號與金鑰"
	}
	return "fix the cause, or run with --no-preflight if you are sure (it is journaled)",
		"請排除原因；確定無誤時可加 --no-preflight 執行（將記錄於紀錄檔）"
}

// monitorChecks probes each monitor once. A probe is read-only (a kind
// that changes state cannot be a monitor's); down before the run means
// no baseline to measure an outage against.
func monitorChecks(ctx context.Context, rb *runbooks.Runbook, cfg Config) []Check {
	if len(rb.Monitors) == 0 {
		return nil
	}
	pr := &planRuntime{site: rb.Site, opts: cfg.Options, prompter: cfg.Prompter, started: time.Now(), shared: map[string]io.Closer{}}
	pr.opts.Plan = true
	defer pr.close()
	var out []Check
	for _, m := range rb.Monitors {
		c := Check{Step: "monitor:" + m.Name, Block: "monitors", Kind: m.KindName, What: m.Kind.Describe(m.Params).Target}
		if m.Kind.Traits().ChangesState {
			c.Result, c.Detail, c.DetailZhTW = CheckNotChecked, "the kind changes state; a monitor must not", "此類型會變更狀態；監控不得變更狀態"
			out = append(out, c)
			continue
		}
		state, detail := probeMonitor(ctx, pr, m, max(m.Every, 30*time.Second))
		switch state {
		case monitorUp:
			c.Result = CheckOK
		case monitorUnknown:
			c.Result, c.Detail, c.DetailZhTW = CheckFailed, "no answer: "+detail.EN, "無回應："+detail.In("zh-TW")
			c.Hint = "the probe could not reach what it asks (vCenter, the network); fix that first, or an outage cannot be measured"
			c.HintZhTW = "探測無法連上所詢問之對象（vCenter、網路）；請先排除，否則無法量測停機時間"
		default:
			c.Result, c.Detail, c.DetailZhTW = CheckFailed, "down before the drill: "+detail.EN, "演練前即已停機："+detail.In("zh-TW")
			c.Hint = "bring the service up first: an outage is measured from a baseline of every monitor up"
			c.HintZhTW = "請先恢復服務：停機時間以所有監控皆為正常之基準狀態起算"
		}
		out = append(out, c)
	}
	return out
}

var _ steps.Runtime = (*planRuntime)(nil)
