package ssh

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// BackupParams are ssh.backup's parameters, modelled on bkap.sh.
type BackupParams struct {
	Target `yaml:",inline"`
	// Paths are archived with their absolute names (tar strips the leading
	// "/", so the archive restores with -C /).
	Paths []string `yaml:"paths"`
	// Dir receives the archive; bkap.sh's BK_PATH, /APBACKUP by default.
	Dir string `yaml:"dir"`
	// Name is the archive's name: {host} is the guest's name in the site,
	// {date} the date formatted with DateFormat. bkap.sh's
	// ${HOST_NAME}bk.tar.$(date +%m%d).tgz by default.
	Name string `yaml:"name"`
	// DateFormat is a strftime subset (%Y %m %d %H %M %S); "%m%d" by default.
	DateFormat string `yaml:"date_format"`
	// RetentionDays deletes archives in Dir matching PrunePattern older than
	// this many days before the backup (bkap.sh's BK_DAYS); 0 keeps all.
	RetentionDays int `yaml:"retention_days"`
	// PrunePattern is the file-name glob retention applies to; "*.tgz".
	PrunePattern string `yaml:"prune_pattern"`
	// AllowMissing skips paths that do not exist on the guest (bkap.sh's
	// list names directories not every server has); on by default.
	AllowMissing bool `yaml:"allow_missing"`
}

// BackupResult is what ssh.backup returns.
type BackupResult struct {
	Archive string   `json:"archive" expr:"archive"`
	Size    int64    `json:"size" expr:"size"`
	SHA256  string   `json:"sha256" expr:"sha256"`
	Files   int      `json:"files" expr:"files"`
	Missing []string `json:"missing" expr:"missing"`
	Pruned  []string `json:"pruned" expr:"pruned"`
}

type backup struct{}

var _ steps.Kind = (*backup)(nil)
var _ steps.Preflighter = (*backup)(nil)

func (*backup) Name() string { return "ssh.backup" }
func (*backup) Summary() string {
	return "archive a list of paths on a guest into a dated .tgz (like bkap.sh), pruning old archives"
}
func (*backup) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*backup) NewParams() any {
	return &BackupParams{Dir: "/APBACKUP", Name: "{host}bk.tar.{date}.tgz", DateFormat: "%m%d", RetentionDays: 7, PrunePattern: "*.tgz", AllowMissing: true}
}
func (*backup) NewResult() any { return &BackupResult{} }

func (*backup) Validate(params any) []steps.FieldError {
	p := params.(*BackupParams)
	errs := p.Target.validate()
	if len(p.Paths) == 0 {
		errs = append(errs, steps.Fieldf("paths", "list the paths to archive", "請列出要封存之路徑"))
	}
	for i, q := range p.Paths {
		if !strings.HasPrefix(q, "/") {
			errs = append(errs, steps.Fieldf(fmt.Sprintf("paths[%d]", i), "%q must be absolute, so the archive restores in place", "%q 須為絕對路徑，備份檔方能還原至原處", q))
		}
	}
	errs = append(errs, needPath("dir", p.Dir)...)
	if p.Name == "" || strings.Contains(p.Name, "/") {
		errs = append(errs, steps.Fieldf("name", "must be a file name without \"/\"", "須為不含 \"/\" 之檔名"))
	}
	if _, err := strftime(p.DateFormat, time.Now()); err != nil {
		errs = append(errs, steps.Fieldf("date_format", "%v", "%v", err))
	}
	if p.RetentionDays < 0 {
		errs = append(errs, steps.Fieldf("retention_days", "must be 0 (keep all) or more", "須為 0（全部保留）或以上"))
	}
	if p.RetentionDays > 0 && (p.PrunePattern == "" || strings.Contains(p.PrunePattern, "/")) {
		errs = append(errs, steps.Fieldf("prune_pattern", "must be a file-name glob such as *.tgz", "須為檔名萬用字元樣式，例如 *.tgz"))
	}
	return errs
}

// strftime formats t with the few conversions backup names use.
func strftime(format string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			b.WriteByte(format[i])
			continue
		}
		if i+1 == len(format) {
			return "", i18n.Errorf("%q ends with a lone %%", "%q 以單獨之 %% 結尾", format)
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case '%':
			b.WriteByte('%')
		default:
			return "", i18n.Errorf("%%%c is not supported in %q; use %%Y %%m %%d %%H %%M %%S", "%[2]q 中不支援 %%%[1]c；請使用 %%Y %%m %%d %%H %%M %%S", format[i], format)
		}
	}
	if strings.Contains(b.String(), "/") {
		return "", i18n.Errorf("%q must not produce a \"/\"", "%q 不得產生「/」", format)
	}
	return b.String(), nil
}

func (p *BackupParams) archive(now time.Time) string {
	date, _ := strftime(p.DateFormat, now)
	name := strings.ReplaceAll(strings.ReplaceAll(p.Name, "{host}", p.name()), "{date}", date)
	return path.Join(p.Dir, name)
}

func (p *BackupParams) script(archive string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "set -e\numask 077\ndir=%s\narchive=%s\nmkdir -p -- \"$dir\"\n", transport.Quote(operand(p.Dir)), transport.Quote(operand(archive)))
	if p.RetentionDays > 0 {
		fmt.Fprintf(&s, "find \"$dir\" -maxdepth 1 -type f -name %s -mtime +%d -print -exec rm -f -- {} \\; | sed 's/^/drbook-pruned: /'\n", transport.Quote(p.PrunePattern), p.RetentionDays)
	}
	fmt.Fprintf(&s, "missing=\nset --\nfor p in %s; do\n  if [ -e \"$p\" ] || [ -h \"$p\" ]; then set -- \"$@\" \"$p\"; else echo \"drbook-missing: $p\"; missing=1; fi\ndone\n", transport.QuoteAll(p.Paths...))
	if !p.AllowMissing {
		s.WriteString("[ -z \"$missing\" ] || { echo \"paths to back up are missing\" >&2; exit 4; }\n")
	}
	s.WriteString("[ $# -gt 0 ] || { echo \"none of the paths exist\" >&2; exit 3; }\n")
	s.WriteString("tar -czf \"$archive.drbook-part\" -- \"$@\"\nmv -f -- \"$archive.drbook-part\" \"$archive\"\n")
	s.WriteString("echo \"drbook-size: $(wc -c < \"$archive\")\"\n")
	s.WriteString("echo \"drbook-sha256: $(sha256sum < \"$archive\")\"\n")
	s.WriteString("echo \"drbook-files: $(tar -tzf \"$archive\" | wc -l)\"\n")
	return s.String()
}

func (*backup) Describe(params any) steps.Description {
	p := params.(*BackupParams)
	archive := p.archive(time.Now())
	action := fmt.Sprintf("archive %d paths on %s into %s", len(p.Paths), p.name(), archive)
	zh := fmt.Sprintf("將 %s 上之 %d 個路徑封存為 %s", p.name(), len(p.Paths), archive)
	if p.RetentionDays > 0 {
		action += fmt.Sprintf(", first deleting %s in %s older than %d days", p.PrunePattern, p.Dir, p.RetentionDays)
		zh = fmt.Sprintf("先刪除 %s 中超過 %d 天之 %s，再", p.Dir, p.RetentionDays, p.PrunePattern) + zh
	}
	return steps.Description{Action: action, ActionZhTW: zh, Target: p.name(), Command: "sh -c " + transport.Quote(p.script(archive))}
}

func (*backup) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*BackupParams)
	c, err := p.connect(ctx, rt)
	if err != nil || p.AllowMissing {
		// With allow_missing the backup skips what is absent: the login
		// is all there is to check.
		return err
	}
	// The same test as the backup script's, so plan and run agree on a
	// dangling symlink (archived as a link) and on names with spaces.
	var out strings.Builder
	if _, err := c.Run(ctx, "for p in "+transport.QuoteAll(p.Paths...)+"; do [ -e \"$p\" ] || [ -h \"$p\" ] || echo \"$p\"; done", nil, &out, nil); err != nil {
		return err
	}
	if missing := strings.FieldsFunc(out.String(), func(r rune) bool { return r == '\n' }); len(missing) > 0 {
		return i18n.Errorf("%s: paths to back up do not exist: %s (set allow_missing: true to skip them)", "%s：要備份之路徑不存在：%s（若要略過，請設定 allow_missing: true）", c.Target(), strings.Join(missing, ", "))
	}
	return nil
}

func (*backup) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*BackupParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	archive := p.archive(time.Now())
	stdout, stderr, code, err := runScript(ctx, rt, c, steps.Text("backup of "+p.name(), "備份 "+p.name()), "sh -c "+transport.Quote(p.script(archive)), 64<<10)
	if err != nil {
		return nil, err
	}
	m := markers(stdout.String())
	res := &BackupResult{Archive: archive, Missing: m["missing"], Pruned: m["pruned"]}
	if len(res.Missing) > 0 && !p.AllowMissing {
		return res, i18n.Errorf("%s: paths to back up do not exist: %s (set allow_missing: true to skip them)", "%s：要備份之路徑不存在：%s（若要略過，請設定 allow_missing: true）", c.Target(), strings.Join(res.Missing, ", "))
	}
	if code != 0 {
		return res, commandFailed(rt, c, journal.Text{EN: "backup into " + archive, ZhTW: "備份至 " + archive}, code, stderr.String())
	}
	res.Size, _ = strconv.ParseInt(strings.TrimSpace(first(m, "size")), 10, 64)
	res.SHA256 = strings.Fields(first(m, "sha256") + " ")[0]
	res.Files, _ = strconv.Atoi(strings.TrimSpace(first(m, "files")))
	if res.Size == 0 || len(res.SHA256) != 64 {
		return res, i18n.Errorf("%s: the archive %s looks wrong (size %d, sha256 %q); output: %s", "%s：封存檔 %s 看來有誤（大小 %d，sha256 %q）；輸出：%s", c.Target(), archive, res.Size, res.SHA256, tail(stdout.String()))
	}
	facts := []journal.Fact{{Key: "archive", KeyZhTW: "備份檔", Value: archive}, {Key: "size", KeyZhTW: "大小（位元組）", Value: strconv.FormatInt(res.Size, 10)}, {Key: "sha256", KeyZhTW: "SHA-256", Value: res.SHA256}, {Key: "entries", KeyZhTW: "檔案數", Value: strconv.Itoa(res.Files)}}
	if len(res.Missing) > 0 {
		facts = append(facts, journal.Fact{Key: "skipped (missing)", KeyZhTW: "略過（不存在）", Value: strings.Join(res.Missing, " ")})
	}
	if len(res.Pruned) > 0 {
		facts = append(facts, journal.Fact{Key: "pruned", KeyZhTW: "已刪除之舊備份", Value: strings.Join(res.Pruned, " ")})
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceFacts, Title: "backup archive", TitleZhTW: "備份檔", Facts: facts})
	return res, nil
}

// RestoreTarParams are ssh.restore_tar's parameters.
type RestoreTarParams struct {
	Target `yaml:",inline"`
	// Archive is the .tgz on the guest.
	Archive string `yaml:"archive"`
	// Dest is where to extract; "/" by default, as the drill does.
	Dest string `yaml:"dest"`
}

// RestoreTarResult is what ssh.restore_tar returns.
type RestoreTarResult struct {
	Files int `json:"files" expr:"files"`
}

type restoreTar struct{}

var _ steps.Kind = (*restoreTar)(nil)
var _ steps.Preflighter = (*restoreTar)(nil)
var _ steps.Producer = (*restoreTar)(nil)

func (*restoreTar) Name() string         { return "ssh.restore_tar" }
func (*restoreTar) Summary() string      { return "extract a .tgz archive on a guest at a destination" }
func (*restoreTar) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*restoreTar) NewParams() any       { return &RestoreTarParams{Dest: "/"} }
func (*restoreTar) NewResult() any       { return &RestoreTarResult{} }
func (*restoreTar) Validate(params any) []steps.FieldError {
	p := params.(*RestoreTarParams)
	return append(append(p.Target.validate(), needPath("archive", p.Archive)...), needPath("dest", p.Dest)...)
}
func (p *RestoreTarParams) command() string {
	return "tar -xzvf " + transport.Quote(operand(p.Archive)) + " -C " + transport.Quote(operand(p.Dest))
}
func (*restoreTar) Describe(params any) steps.Description {
	p := params.(*RestoreTarParams)
	return steps.Description{Action: fmt.Sprintf("extract %s on %s into %s", p.Archive, p.name(), p.Dest), ActionZhTW: fmt.Sprintf("於 %s 將 %s 解壓縮至 %s", p.name(), p.Archive, p.Dest), Target: p.name(), Command: p.command()}
}

func (*restoreTar) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*RestoreTarParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return err
	}
	return requireInputs(ctx, rt, c, p.name(), p.Archive, p.Dest)
}

// Produces says the archive's contents appear below dest.
func (*restoreTar) Produces(params any) []steps.Product {
	p := params.(*RestoreTarParams)
	return []steps.Product{{Guest: p.name(), Path: p.Dest, Tree: true}}
}

func (*restoreTar) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*RestoreTarParams)
	c, err := p.connect(ctx, rt)
	if err != nil {
		return nil, err
	}
	stdout, stderr, code, err := runScript(ctx, rt, c, steps.Text("restore of "+p.Archive, "還原 "+p.Archive), p.command(), 16<<10)
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, commandFailed(rt, c, journal.Text{EN: "extracting " + p.Archive, ZhTW: "解開 " + p.Archive}, code, stderr.String())
	}
	n := 0
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return &RestoreTarResult{Files: n}, nil
}
