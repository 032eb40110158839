package ssh

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/pkg/sftp"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// EditFileParams are ssh.edit_file's parameters.
type EditFileParams struct {
	Target `yaml:",inline"`
	// Path is the file to edit.
	Path string `yaml:"path"`
	// Edits are applied in order.
	Edits []Edit `yaml:"edits"`
	// Backup keeps a copy (PATH.drbook-YYYYMMDD-HHMMSS) before writing; on
	// by default.
	Backup bool `yaml:"backup"`
	// AllowNotFound turns "pattern not found" into a note for every edit.
	AllowNotFound bool `yaml:"allow_not_found"`
}

// Edit is one change. Exactly one of Replace, Regex, SetLine, InsertLine
// and SetKey is given.
type Edit struct {
	// Replace replaces every occurrence of this literal text with With.
	Replace string `yaml:"replace"`
	// Regex replaces every match of this RE2 expression with With ($1 refers
	// to groups).
	Regex string `yaml:"regex"`
	With  string `yaml:"with"`
	// SetLine replaces every line matching Match with this line, or appends
	// it when none matches.
	SetLine string `yaml:"set_line"`
	Match   string `yaml:"match"`
	// InsertLine inserts this line after the first line matching After (or
	// before the first matching Before; at the end when neither is given),
	// unless the file already has it.
	InsertLine string `yaml:"insert_line"`
	After      string `yaml:"after"`
	Before     string `yaml:"before"`
	// SetKey sets KEY<Separator>Value, replacing the key's line or appending
	// it (e.g. HOSTNAME=ap02 in /etc/sysconfig/network).
	SetKey    string `yaml:"set_key"`
	Value     string `yaml:"value"`
	Separator string `yaml:"separator"`
	// AllowNotFound lets this edit find nothing without failing the step.
	AllowNotFound bool `yaml:"allow_not_found"`
}

// EditFileResult is what ssh.edit_file returns.
type EditFileResult struct {
	Changed bool   `json:"changed" expr:"changed"`
	Backup  string `json:"backup" expr:"backup"`
	Applied int    `json:"applied" expr:"applied"`
	Diff    string `json:"diff" expr:"diff"`
}

func (e Edit) op() string {
	var ops []string
	for name, v := range map[string]string{"replace": e.Replace, "regex": e.Regex, "set_line": e.SetLine, "insert_line": e.InsertLine, "set_key": e.SetKey} {
		if v != "" {
			ops = append(ops, name)
		}
	}
	if len(ops) != 1 {
		return strings.Join(ops, "+")
	}
	return ops[0]
}

func (e Edit) validate(field string) []steps.FieldError {
	var errs []steps.FieldError
	bad := func(f, en, zh string, args ...any) { errs = append(errs, steps.Fieldf(field+f, en, zh, args...)) }
	re := func(f, expr string) {
		if expr == "" {
			return
		}
		if _, err := regexp.Compile(expr); err != nil {
			bad(f, "invalid regular expression: %v", "正規表示式無效：%v", err)
		}
	}
	switch e.op() {
	case "replace":
	case "regex":
		re(".regex", e.Regex)
	case "set_line":
		if e.Match == "" {
			bad(".match", "set_line needs match: the regular expression of the line to replace", "set_line 須有 match：要取代之行之正規表示式")
		}
		re(".match", e.Match)
	case "insert_line":
		if e.After != "" && e.Before != "" {
			bad(".before", "give after or before, not both", "請提供 after 或 before，不可兩者皆給")
		}
		re(".after", e.After)
		re(".before", e.Before)
	case "set_key":
		if strings.ContainsAny(e.SetKey, "\n") {
			bad(".set_key", "must be one line", "須為單行")
		}
	case "":
		bad("", "give one of replace, regex, set_line, insert_line or set_key", "請提供 replace、regex、set_line、insert_line 或 set_key 其中之一")
	default:
		bad("", "give only one of replace, regex, set_line, insert_line or set_key, found %s", "replace、regex、set_line、insert_line 與 set_key 只能給一個，卻有 %s", e.op())
	}
	op := e.op()
	if (e.With != "") && op != "replace" && op != "regex" {
		bad(".with", "with goes with replace or regex", "with 須搭配 replace 或 regex")
	}
	if e.Match != "" && op != "set_line" {
		bad(".match", "match goes with set_line", "match 須搭配 set_line")
	}
	if (e.After != "" || e.Before != "") && op != "insert_line" {
		bad(".after", "after and before go with insert_line", "after 與 before 須搭配 insert_line")
	}
	if (e.Value != "" || e.Separator != "") && op != "set_key" {
		bad(".value", "value and separator go with set_key", "value 與 separator 須搭配 set_key")
	}
	return errs
}

// describe is one line saying what the edit does.
func (e Edit) describe() string {
	switch e.op() {
	case "replace":
		return fmt.Sprintf("replace %q with %q", e.Replace, e.With)
	case "regex":
		return fmt.Sprintf("replace /%s/ with %q", e.Regex, e.With)
	case "set_line":
		return fmt.Sprintf("set lines matching /%s/ to %q", e.Match, e.SetLine)
	case "insert_line":
		where := "at the end"
		if e.After != "" {
			where = "after /" + e.After + "/"
		} else if e.Before != "" {
			where = "before /" + e.Before + "/"
		}
		return fmt.Sprintf("insert %q %s", e.InsertLine, where)
	case "set_key":
		return fmt.Sprintf("set %s%s%s", e.SetKey, e.sep(), e.Value)
	}
	return "invalid edit"
}

// describeZhTW is describe in Traditional Chinese.
func (e Edit) describeZhTW() string {
	switch e.op() {
	case "replace":
		return fmt.Sprintf("將 %q 替換為 %q", e.Replace, e.With)
	case "regex":
		return fmt.Sprintf("將符合 /%s/ 者替換為 %q", e.Regex, e.With)
	case "set_line":
		return fmt.Sprintf("將符合 /%s/ 之行設為 %q", e.Match, e.SetLine)
	case "insert_line":
		where := "於檔案結尾"
		if e.After != "" {
			where = "於 /" + e.After + "/ 之後"
		} else if e.Before != "" {
			where = "於 /" + e.Before + "/ 之前"
		}
		return fmt.Sprintf("%s插入 %q", where, e.InsertLine)
	case "set_key":
		return fmt.Sprintf("設定 %s%s%s", e.SetKey, e.sep(), e.Value)
	}
	return "無效之修改"
}

func (e Edit) sep() string {
	if e.Separator == "" {
		return "="
	}
	return e.Separator
}

// errNotFound is an edit that found nothing to act on.
type errNotFound struct{ what, whatZhTW string }

func (e errNotFound) Error() string { return e.what }

// apply performs one edit on the text.
func (e Edit) apply(text string) (string, error) {
	switch e.op() {
	case "replace":
		if !strings.Contains(text, e.Replace) {
			return text, errNotFound{fmt.Sprintf("%q not found", e.Replace), fmt.Sprintf("找不到 %q", e.Replace)}
		}
		return strings.ReplaceAll(text, e.Replace, e.With), nil
	case "regex":
		re := regexp.MustCompile(e.Regex)
		if !re.MatchString(text) {
			return text, errNotFound{fmt.Sprintf("/%s/ matches nothing", e.Regex), fmt.Sprintf("/%s/ 無相符內容", e.Regex)}
		}
		return re.ReplaceAllString(text, e.With), nil
	case "set_line":
		re := regexp.MustCompile(e.Match)
		lines, final := splitLines(text)
		found := false
		for i, l := range lines {
			if re.MatchString(l) {
				lines[i], found = e.SetLine, true
			}
		}
		if !found {
			lines = append(lines, e.SetLine)
		}
		return joinLines(lines, final || !found), nil
	case "insert_line":
		lines, final := splitLines(text)
		for _, l := range lines {
			if l == e.InsertLine {
				return text, nil
			}
		}
		anchor, after := e.After, true
		if e.Before != "" {
			anchor, after = e.Before, false
		}
		if anchor == "" {
			return joinLines(append(lines, e.InsertLine), true), nil
		}
		re := regexp.MustCompile(anchor)
		for i, l := range lines {
			if re.MatchString(l) {
				at := i
				if after {
					at = i + 1
				}
				lines = append(lines[:at], append([]string{e.InsertLine}, lines[at:]...)...)
				return joinLines(lines, final || at == len(lines)-1), nil
			}
		}
		return text, errNotFound{fmt.Sprintf("no line matches /%s/", anchor), fmt.Sprintf("沒有符合 /%s/ 之行", anchor)}
	case "set_key":
		re := regexp.MustCompile(`^\s*` + regexp.QuoteMeta(e.SetKey) + `\s*` + regexp.QuoteMeta(strings.TrimSpace(e.sep())))
		want := e.SetKey + e.sep() + e.Value
		lines, final := splitLines(text)
		found := false
		for i, l := range lines {
			if re.MatchString(l) {
				lines[i], found = want, true
			}
		}
		if !found {
			lines = append(lines, want)
		}
		return joinLines(lines, final || !found), nil
	}
	return text, i18n.Errorf("invalid edit", "無效之修改")
}

func splitLines(text string) ([]string, bool) {
	if text == "" {
		return nil, false
	}
	final := strings.HasSuffix(text, "\n")
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n"), final
}

func joinLines(lines []string, final bool) string {
	s := strings.Join(lines, "\n")
	if final && len(lines) > 0 {
		s += "\n"
	}
	return s
}

type editFile struct{}

var _ steps.Kind = (*editFile)(nil)
var _ steps.Preflighter = (*editFile)(nil)

func (*editFile) Name() string { return "ssh.edit_file" }
func (*editFile) Summary() string {
	return "edit a file on a guest (replace text, set or insert lines, set key=value), keeping a backup and recording the diff"
}
func (*editFile) Traits() steps.Traits { return steps.Traits{ChangesState: true} }
func (*editFile) NewParams() any       { return &EditFileParams{Backup: true} }
func (*editFile) NewResult() any       { return &EditFileResult{} }
func (*editFile) Validate(params any) []steps.FieldError {
	p := params.(*EditFileParams)
	errs := append(p.Target.validate(), needPath("path", p.Path)...)
	if len(p.Edits) == 0 {
		errs = append(errs, steps.Fieldf("edits", "list at least one edit", "請至少列出一項編輯"))
	}
	for i, e := range p.Edits {
		errs = append(errs, e.validate(fmt.Sprintf("edits[%d]", i))...)
	}
	return errs
}

func (*editFile) Describe(params any) steps.Description {
	p := params.(*EditFileParams)
	var ds, zh []string
	for _, e := range p.Edits {
		ds = append(ds, e.describe())
		zh = append(zh, e.describeZhTW())
	}
	cmd := "sftp get " + transport.Quote(p.Path) + "; edit in drbook; "
	if p.Backup {
		cmd += "cp -p -- " + transport.QuoteAll(p.Path, p.Path+".drbook-<time>") + "; "
	}
	cmd += "sftp put " + transport.Quote(partName(p.Path)) + " (same mode and owner); mv -f -- " + transport.QuoteAll(partName(p.Path), p.Path)
	return steps.Description{Action: fmt.Sprintf("edit %s on %s: %s", p.Path, p.name(), strings.Join(ds, "; ")),
		ActionZhTW: fmt.Sprintf("修改 %s 上之 %s：%s", p.name(), p.Path, strings.Join(zh, "；")), Target: p.name(), Command: cmd}
}

func (*editFile) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*EditFileParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return err
	}
	return requireInputs(ctx, rt, c, p.name(), p.Path)
}

// maxEditSize bounds the files edit_file handles: configuration, not data.
const maxEditSize = 8 << 20

func (*editFile) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*EditFileParams)
	c, sc, done, err := p.openSFTP(ctx, rt)
	if err != nil {
		return nil, err
	}
	defer done()
	file := p.Path
	// Edit the file a symlink points at, not the link.
	if fi, err := sc.Lstat(file); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if target, err := sc.ReadLink(file); err == nil {
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(file), target)
			}
			file = target
		}
	}
	fi, err := sc.Stat(file)
	if err != nil {
		return nil, i18n.Errorf("%s: cannot edit %s: %w", "%s：無法修改 %s：%w", c.Target(), file, sftpErr(err))
	}
	if fi.Size() > maxEditSize {
		return nil, i18n.Errorf("%s: %s is %s; ssh.edit_file edits configuration files up to 8 MiB", "%s：%s 大小為 %s；ssh.edit_file 僅修改 8 MiB 以內之設定檔", c.Target(), file, mib(fi.Size()))
	}
	f, err := sc.Open(file)
	if err != nil {
		return nil, i18n.Errorf("%s: cannot read %s: %w", "%s：無法讀取 %s：%w", c.Target(), file, sftpErr(err))
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, i18n.Errorf("%s: reading %s: %w", "%s：讀取 %s：%w", c.Target(), file, err)
	}
	before := string(raw)
	after := before
	res := &EditFileResult{}
	for i, e := range p.Edits {
		next, err := e.applyKeepingEndings(after)
		if nf, ok := err.(errNotFound); ok {
			if p.AllowNotFound || e.AllowNotFound {
				steps.SayNote(rt, "warn", "%[1]s: edit %[2]d (%[3]s): %[5]s; allowed, nothing changed", "%[1]s：第 %[2]d 項修改（%[4]s）：%[6]s；設定為允許，未變更", file, i+1, e.describe(), e.describeZhTW(), nf.what, nf.whatZhTW)
				continue
			}
			return res, i18n.Errorf("%[1]s: %[2]s: edit %[3]d (%[4]s): %[5]s; the file is unchanged (set allow_not_found: true if this is expected)",
				"%[1]s：%[2]s：第 %[3]d 項修改（%[6]s）：%[7]s；檔案未變更（若屬預期，請設定 allow_not_found: true）", c.Target(), file, i+1, e.describe(), nf.what, e.describeZhTW(), nf.whatZhTW)
		}
		if err != nil {
			return res, err
		}
		if next != after {
			res.Applied++
		}
		after = next
	}
	if after == before {
		steps.SayNote(rt, "info", "%s on %s already as wanted; not written", "%s（%s）已符合設定；未寫入", file, c.Target())
		return res, nil
	}
	diff := unifiedDiff(before, after, file, fi.ModTime(), time.Now())
	res.Diff, res.Changed = diff, true
	if p.Backup {
		res.Backup = file + ".drbook-" + time.Now().Format("20060102-150405")
		if err := runChecked(ctx, c, journal.Text{EN: "backup copy of " + file, ZhTW: "備份複製 " + file}, "cp -p -- "+transport.QuoteAll(file, res.Backup), io.Discard, journal.Text{}); err != nil {
			return res, err
		}
	}
	if err := writeKeeping(ctx, c, sc, file, fi, after); err != nil {
		return res, err
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceDiff, Title: "edit of " + file + " on " + p.name(), TitleZhTW: "修改 " + p.name() + " 上之 " + file, Diff: &journal.Diff{Path: file, Unified: diff}})
	return res, nil
}

// writeKeeping replaces file atomically with text, keeping its mode and
// owner: written beside it, given the same attributes, renamed over it.
func writeKeeping(ctx context.Context, c *transport.Client, sc *sftp.Client, file string, fi os.FileInfo, text string) error {
	part := partName(file)
	f, err := sc.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return i18n.Errorf("%s: cannot write beside %s: %w", "%s：無法於 %s 旁寫入：%w", c.Target(), file, sftpErr(err))
	}
	_, err = f.Write([]byte(text))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = sc.Chmod(part, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*sftp.FileStat); ok && err == nil {
		if cerr := sc.Chown(part, int(st.UID), int(st.GID)); cerr != nil {
			// Only root may give a file away; a file we own already has the
			// right owner, so failing is an error only if it differs.
			if pst, perr := sc.Stat(part); perr != nil || pst.Sys().(*sftp.FileStat).UID != st.UID || pst.Sys().(*sftp.FileStat).GID != st.GID {
				err = i18n.Errorf("cannot keep owner %d:%d: %v", "無法保留擁有者 %d:%d：%v", st.UID, st.GID, cerr)
			}
		}
	}
	if err == nil {
		err = moveIntoPlace(ctx, c, sc, part, file)
	}
	if err != nil {
		sc.Remove(part)
		return i18n.Errorf("%s: writing %s: %w", "%s：寫入 %s：%w", c.Target(), file, sftpErr(err))
	}
	return nil
}
