package ssh

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pkg/sftp"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// BackupCheckParams are ssh.backup_check's parameters.
type BackupCheckParams struct {
	Target `yaml:",inline"`
	// Dir holds the archives; /APBACKUP by default.
	Dir string `yaml:"dir"`
	// Pattern is a file-name glob; "*.tgz" by default. {hostname} stands
	// for the guest's short host name (`hostname` up to the first dot, as
	// bkap.sh computes HOST_NAME), so "{hostname}bk.tar.*.tgz" matches
	// bkap.sh's archives of this server and no other's.
	Pattern string `yaml:"pattern"`
	// MaxAge is how old the newest archive may be; 26h by default (a daily
	// backup plus slack).
	MaxAge journal.Duration `yaml:"max_age"`
	// MinCount is how many matching archives must be there: a nightly job
	// whose retention keeps BK_DAYS days leaves at least BK_DAYS. 1 by
	// default.
	MinCount int `yaml:"min_count"`
	// Contains are paths every verified archive must hold (bkap.sh's list),
	// written as the backup names them (/etc/httpd/ or /etc/hosts).
	Contains []string `yaml:"contains"`
	// Verify says which archives drbook reads through: "none", "newest"
	// or "all". Reading checks the gzip stream end to end (a backup cut
	// short fails) and lists the tar members for contains. "newest" when
	// contains is given, "none" otherwise.
	Verify string `yaml:"verify"`
	// Cron, when set, is text a scheduled job's command must contain (e.g.
	// bkap.sh): a line of root's crontab (/var/spool/cron/root, or
	// crontabs/root), /etc/crontab or /etc/cron.d/* that is not a comment.
	// Archives that are there today stop coming when nothing schedules them.
	Cron string `yaml:"cron"`
}

// BackupCheckResult is what ssh.backup_check returns.
type BackupCheckResult struct {
	Archive    string    `json:"archive" expr:"archive"`
	Size       int64     `json:"size" expr:"size"`
	Modified   time.Time `json:"modified" expr:"modified"`
	AgeSeconds float64   `json:"age_seconds" expr:"age_seconds"`
	Count      int       `json:"count" expr:"count"`
	// Hostname is the guest's short host name ({hostname} in pattern);
	// empty when the pattern does not use it.
	Hostname string `json:"hostname" expr:"hostname"`
	// Schedule is the crontab line that runs Cron, and ScheduleFile the
	// file it is in; empty without cron.
	Schedule     string `json:"schedule" expr:"schedule"`
	ScheduleFile string `json:"schedule_file" expr:"schedule_file"`
	// Archives are the matching archives, newest first.
	Archives []BackupArchive `json:"archives" expr:"archives"`
}

// BackupArchive is one archive ssh.backup_check found.
type BackupArchive struct {
	Path       string    `json:"path" expr:"path"`
	Size       int64     `json:"size" expr:"size"`
	Modified   time.Time `json:"modified" expr:"modified"`
	AgeSeconds float64   `json:"age_seconds" expr:"age_seconds"`
	// Verified is true when drbook read the archive through; Entries is
	// then its number of tar members and Missing the contains paths it
	// lacks.
	Verified bool     `json:"verified" expr:"verified"`
	Entries  int      `json:"entries" expr:"entries"`
	Missing  []string `json:"missing" expr:"missing"`
}

type backupCheck struct{}

var _ steps.Kind = (*backupCheck)(nil)

func (*backupCheck) Name() string { return "ssh.backup_check" }
func (*backupCheck) Summary() string {
	return "check that a guest's backup archives exist, are recent and not empty, and hold the paths backed up"
}
func (*backupCheck) Traits() steps.Traits { return steps.Traits{Idempotent: true} }
func (*backupCheck) NewParams() any {
	return &BackupCheckParams{Dir: "/APBACKUP", Pattern: "*.tgz", MaxAge: journal.Duration(26 * time.Hour), MinCount: 1}
}
func (*backupCheck) NewResult() any { return &BackupCheckResult{} }

var backupVerify = []string{"none", "newest", "all"}

func (*backupCheck) Validate(params any) []steps.FieldError {
	p := params.(*BackupCheckParams)
	errs := append(p.Target.validate(), needPath("dir", p.Dir)...)
	if _, err := path.Match(strings.ReplaceAll(p.Pattern, "{hostname}", "h"), ""); err != nil || p.Pattern == "" || strings.Contains(p.Pattern, "/") {
		errs = append(errs, steps.Fieldf("pattern", "must be a file-name glob such as *.tgz or {hostname}bk.tar.*.tgz", "須為檔名萬用字元樣式，例如 *.tgz 或 {hostname}bk.tar.*.tgz"))
	}
	if p.MaxAge <= 0 {
		errs = append(errs, steps.Fieldf("max_age", "must be a positive duration such as 26h", "須為正數之時間長度，例如 26h"))
	}
	if p.MinCount < 1 {
		errs = append(errs, steps.Fieldf("min_count", "must be 1 or more", "須為 1 或以上"))
	}
	for i, c := range p.Contains {
		if !strings.HasPrefix(c, "/") || strings.Trim(c, "/") == "" {
			errs = append(errs, steps.Fieldf(fmt.Sprintf("contains[%d]", i), "%q must be an absolute path below /, as the backup names it", "%q 須為 / 以下之絕對路徑，與備份檔所列相同", c))
		}
	}
	switch {
	case p.Verify != "" && !contains(backupVerify, p.Verify):
		errs = append(errs, steps.Fieldf("verify", "must be one of %s, not %q", "須為下列之一：%s，而非 %q", strings.Join(backupVerify, ", "), p.Verify))
	case p.Verify == "none" && len(p.Contains) > 0:
		errs = append(errs, steps.Fieldf("verify", "contains needs an archive to read: use verify: newest or all", "contains 須讀取備份檔：請用 verify: newest 或 all"))
	}
	return errs
}

// verify is the resolved Verify.
func (p *BackupCheckParams) verify() string {
	if p.Verify == "" {
		if len(p.Contains) > 0 {
			return "newest"
		}
		return "none"
	}
	return p.Verify
}

func (*backupCheck) Describe(params any) steps.Description {
	p := params.(*BackupCheckParams)
	action := fmt.Sprintf("check that the newest %s in %s on %s is non-empty and younger than %s", p.Pattern, p.Dir, p.name(), p.MaxAge)
	zh := fmt.Sprintf("確認 %s 上 %s 中最新之 %s 非空檔且未超過 %s", p.name(), p.Dir, p.Pattern, p.MaxAge)
	if p.MinCount > 1 {
		action += fmt.Sprintf(", with at least %d archives", p.MinCount)
		zh += fmt.Sprintf("，且至少有 %d 個備份檔", p.MinCount)
	}
	if p.Cron != "" {
		action += fmt.Sprintf(", and that a cron job runs %s", p.Cron)
		zh += fmt.Sprintf("，並確認有排程（cron）執行 %s", p.Cron)
	}
	switch p.verify() {
	case "newest":
		action += ", reading the newest through"
		zh += "，完整讀取最新之備份檔"
	case "all":
		action += ", reading every one through"
		zh += "，完整讀取每個備份檔"
	}
	if len(p.Contains) > 0 {
		action += fmt.Sprintf(" for %d paths", len(p.Contains))
		zh += fmt.Sprintf("，確認含 %d 個路徑", len(p.Contains))
	}
	return steps.Description{Action: action, ActionZhTW: zh, Target: p.name(),
		Command: "date +%s; hostname; sftp ls " + transport.Quote(p.Dir)}
}

// globEscape quotes the glob metacharacters of s, so a host name is
// matched literally.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (*backupCheck) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*BackupCheckParams)
	c, sc, done, err := p.openSFTP(ctx, rt)
	if err != nil {
		return nil, err
	}
	defer done()
	// Age is measured on the guest's clock, which wrote the mtimes; the
	// host name is the guest's own, as bkap.sh reads it.
	var out strings.Builder
	if _, err := c.Run(ctx, "date +%s; hostname", nil, &out, nil); err != nil {
		return nil, err
	}
	lines := strings.SplitN(out.String(), "\n", 3)
	now, err := strconv.ParseInt(strings.TrimSpace(lines[0]), 10, 64)
	if err != nil {
		return nil, i18n.Errorf("%s: cannot read the guest's clock: %q", "%s：無法讀取客體之時鐘：%q", c.Target(), out.String())
	}
	res := &BackupCheckResult{}
	pattern := p.Pattern
	if strings.Contains(pattern, "{hostname}") {
		host := ""
		if len(lines) > 1 {
			host, _, _ = strings.Cut(strings.TrimSpace(lines[1]), ".")
		}
		if host == "" {
			return nil, i18n.Errorf("%s: the pattern %s names {hostname}, but the guest's hostname command printed nothing", "%s：樣式 %s 含 {hostname}，但客體之 hostname 指令未輸出任何內容", c.Target(), p.Pattern)
		}
		res.Hostname = host
		pattern = strings.ReplaceAll(pattern, "{hostname}", globEscape(host))
	}
	glob := strings.ReplaceAll(p.Pattern, "{hostname}", res.Hostname)
	var problems []error
	if p.Cron != "" {
		file, line, searched := findCronJob(sc, p.Cron)
		res.Schedule, res.ScheduleFile = line, file
		if line == "" {
			problems = append(problems, i18n.Errorf("no cron job runs %s (searched %s): the backups stop coming; add it back to root's crontab",
				"沒有 cron 工作執行 %s（已搜尋 %s）：備份將不再產生；請將其加回 root 之 crontab", shown(p.Cron), strings.Join(searched, ", ")))
		}
	}
	entries, err := sc.ReadDir(p.Dir)
	if err != nil {
		problems = append(problems, i18n.Errorf("cannot list %s: %w; check that the backup directory exists (bkap.sh's BK_PATH)",
			"無法列出 %s：%w；請確認備份目錄存在（bkap.sh 之 BK_PATH）", p.Dir, sftpErr(err)))
		return res, problemsOf(c.Target(), problems)
	}
	for _, e := range entries {
		if ok, _ := path.Match(pattern, e.Name()); !ok || !e.Mode().IsRegular() {
			continue
		}
		age := time.Unix(now, 0).Sub(e.ModTime())
		res.Archives = append(res.Archives, BackupArchive{Path: path.Join(p.Dir, e.Name()), Size: e.Size(), Modified: e.ModTime(), AgeSeconds: age.Seconds()})
	}
	sort.SliceStable(res.Archives, func(i, j int) bool { return res.Archives[i].Modified.After(res.Archives[j].Modified) })
	res.Count = len(res.Archives)
	if res.Count == 0 {
		problems = append(problems, i18n.Errorf("no backup archive matching %s in %s; the backup job has not run here (check its crontab) or writes elsewhere (check dir and pattern)",
			"%[2]s 中沒有符合 %[1]s 之備份封存檔；備份作業未於此執行（請檢查其 crontab）或寫至他處（請檢查 dir 與 pattern）", shown(glob), p.Dir))
		return res, problemsOf(c.Target(), problems)
	}
	newest := res.Archives[0]
	res.Archive, res.Size, res.Modified, res.AgeSeconds = newest.Path, newest.Size, newest.Modified, newest.AgeSeconds

	age := time.Duration(newest.AgeSeconds * float64(time.Second))
	if age > p.MaxAge.D() {
		problems = append(problems, i18n.Errorf("the newest backup %s is %s old, more than the allowed %s; the backup job may have stopped (check its crontab and log)",
			"最新之備份 %s 已有 %s，超過容許之 %s；備份作業可能已停止（請檢查其 crontab 與紀錄）", shown(newest.Path), age.Round(time.Minute), p.MaxAge))
	}
	if res.Count < p.MinCount {
		problems = append(problems, i18n.Errorf("only %d archive(s) matching %s in %s, want at least %d: nights were missed or retention deletes too much",
			"%[3]s 中符合 %[2]s 之封存檔僅 %[1]d 個，至少須 %[4]d 個：有些夜間備份未執行，或保留設定刪除過多", res.Count, shown(glob), p.Dir, p.MinCount))
	}
	for i := range res.Archives {
		a := &res.Archives[i]
		if a.Size == 0 {
			problems = append(problems, i18n.Errorf("the backup %s is empty (0 bytes): the archive was never written (disk full, or tar failed)",
				"備份 %s 是空的（0 位元組）：封存檔從未寫入（磁碟已滿，或 tar 失敗）", shown(a.Path)))
			continue
		}
		if v := p.verify(); v == "none" || (v == "newest" && i > 0) {
			continue
		}
		if err := readArchive(ctx, sc, a, p.Contains); err != nil {
			if ctx.Err() != nil {
				return res, i18n.Errorf("%s: reading %s: %w", "%s：讀取 %s：%w", c.Target(), shown(a.Path), context.Cause(ctx))
			}
			problems = append(problems, err)
			continue
		}
		if len(a.Missing) > 0 {
			problems = append(problems, i18n.Errorf("the backup %s lacks %s: the backup's path list or the server changed",
				"備份 %s 缺少 %s：備份之路徑清單或伺服器已變更", shown(a.Path), strings.Join(a.Missing, ", ")))
		}
	}
	rt.Evidence(backupEvidence(res, p))
	if len(problems) > 0 {
		return res, problemsOf(c.Target(), problems)
	}
	return res, nil
}

// cronFiles are where a root cron job is written on RHEL and Debian.
var cronFiles = []string{"/var/spool/cron/root", "/var/spool/cron/crontabs/root", "/etc/crontab"}

// findCronJob returns the first crontab line, not a comment, whose text
// contains job, with its file, and the files it searched.
func findCronJob(sc *sftp.Client, job string) (file, line string, searched []string) {
	files := append([]string(nil), cronFiles...)
	if entries, err := sc.ReadDir("/etc/cron.d"); err == nil {
		for _, e := range entries {
			if e.Mode().IsRegular() {
				files = append(files, "/etc/cron.d/"+e.Name())
			}
		}
	}
	for _, f := range files {
		searched = append(searched, f)
		r, err := sc.Open(f)
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(r, 1<<20))
		r.Close()
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "#") && strings.Contains(l, job) {
				return f, l, searched
			}
		}
	}
	if len(searched) == len(cronFiles) {
		searched = append(searched, "/etc/cron.d/*")
	}
	return "", "", searched
}

// readArchive reads a gzip'd tar through over SFTP, counting its members
// and noting which of want it lacks. The members are parsed here from the
// tar headers, not from a tar -t listing on the guest, so a member whose
// name holds a newline cannot print a line that looks like another path.
func readArchive(ctx context.Context, sc *sftp.Client, a *BackupArchive, want []string) error {
	f, err := sc.Open(a.Path)
	if err != nil {
		return i18n.Errorf("cannot open %s: %w", "無法開啟 %s：%w", shown(a.Path), sftpErr(err))
	}
	defer f.Close()
	// The SFTP client reads ahead concurrently through WriteTo; the pipe
	// hands the bytes to the parser as they come.
	pr, pw := io.Pipe()
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, err := f.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	defer func() { pr.Close(); <-copied }()
	found := make([]bool, len(want))
	wantNames := make([]string, len(want))
	for i, w := range want {
		wantNames[i] = path.Clean(strings.Trim(w, "/"))
	}
	var unsafe []string
	zr, err := gzip.NewReader(ctxReader{ctx, pr})
	if err != nil {
		return i18n.Errorf("the backup %s is not a gzip file (%v): it is not what tar -czf writes", "備份 %s 不是 gzip 檔（%v）：並非 tar -czf 所產生", shown(a.Path), err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return i18n.Errorf("the backup %s is damaged after %d entries (%v): the backup was cut short (disk full?) or the file was changed", "備份 %s 於第 %d 個項目後損毀（%v）：備份未完整寫入（磁碟已滿？）或檔案已遭變更", shown(a.Path), a.Entries, err)
		}
		a.Entries++
		name := strings.TrimPrefix(h.Name, "/")
		if name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(name, "/..") {
			unsafe = append(unsafe, strconv.Quote(h.Name))
			continue
		}
		clean := path.Clean(name)
		for i, w := range wantNames {
			if !found[i] && (clean == w || strings.HasPrefix(clean, w+"/")) {
				found[i] = true
			}
		}
	}
	// The gzip trailer's CRC and length are checked only at its end.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return i18n.Errorf("the backup %s is damaged (%v): the backup was cut short (disk full?) or the file was changed", "備份 %s 已損毀（%v）：備份未完整寫入（磁碟已滿？）或檔案已遭變更", shown(a.Path), err)
	}
	a.Verified = true
	if len(unsafe) > 0 {
		if len(unsafe) > 3 {
			unsafe = append(unsafe[:3], "…")
		}
		return i18n.Errorf("the backup %s holds %d member(s) whose names leave the restore directory (%s); it was not written by the backup job, and tar -x would refuse them", "備份 %s 含 %d 個名稱會離開還原目錄之成員（%s）；其並非備份作業所寫入，tar -x 亦會拒絕", shown(a.Path), len(unsafe), strings.Join(unsafe, ", "))
	}
	for i, ok := range found {
		if !ok {
			a.Missing = append(a.Missing, want[i])
		}
	}
	return nil
}

// shown is a guest file or member name as messages and the report show
// it: quoted when it holds a newline or another control character, so it
// cannot pass for two names or forge a line.
func shown(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
		return strconv.Quote(name)
	}
	return name
}

// ctxReader ends a read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(b)
}

// backupEvidence is the archives as a table for the report.
func backupEvidence(res *BackupCheckResult, p *BackupCheckParams) journal.Evidence {
	t := &journal.Table{Columns: []string{"archive", "size", "modified", "age", "entries", "missing"},
		ColumnsZhTW: []string{"備份檔", "大小（位元組）", "修改時間", "已存在時間", "檔案數", "缺少之路徑"}}
	for _, a := range res.Archives {
		entries, missing := "not read", ""
		if a.Verified {
			entries = strconv.Itoa(a.Entries)
			missing = strings.Join(a.Missing, " ")
			if len(p.Contains) > 0 && missing == "" {
				missing = "none"
			}
		}
		t.Rows = append(t.Rows, []string{shown(a.Path), strconv.FormatInt(a.Size, 10), a.Modified.UTC().Format(time.RFC3339),
			(time.Duration(a.AgeSeconds) * time.Second).Round(time.Second).String(), entries, missing})
	}
	return journal.Evidence{Kind: journal.EvidenceTable, Title: "backup archives", TitleZhTW: "備份檔", Table: t}
}

// problemsOf is a guest's problems as one error, each in both languages.
func problemsOf(target string, problems []error) error {
	en, zh := make([]string, len(problems)), make([]string, len(problems))
	for i, p := range problems {
		en[i], zh[i] = p.Error(), i18n.In(p, "zh-TW")
	}
	return i18n.Errorf("%s: %v", "%s：%v", target, i18n.New(strings.Join(en, "; "), strings.Join(zh, "；")))
}
