package ssh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"

	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// FileResult is what ssh.upload and ssh.download return.
type FileResult struct {
	Path   string `json:"path" expr:"path"`
	Size   int64  `json:"size" expr:"size"`
	SHA256 string `json:"sha256" expr:"sha256"`
}

// UploadParams are ssh.upload's parameters.
type UploadParams struct {
	Target `yaml:",inline"`
	// Src is a file on the operator's machine.
	Src string `yaml:"src"`
	// Dest is the path on the guest; a trailing "/" means "into this
	// directory".
	Dest string `yaml:"dest"`
	// Mode is the octal file mode, e.g. "0644"; the source's when empty.
	Mode string `yaml:"mode"`
}

// DownloadParams are ssh.download's parameters.
type DownloadParams struct {
	Target `yaml:",inline"`
	// Src is the path on the guest.
	Src string `yaml:"src"`
	// Dest is where to write on the operator's machine.
	Dest string `yaml:"dest"`
}

// TransferParams are ssh.transfer's parameters.
type TransferParams struct {
	// From and To name the source and destination guests.
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Src is the file on From; Dest the path on To (a trailing "/" or an
	// existing directory means "into this directory").
	Src  string `yaml:"src"`
	Dest string `yaml:"dest"`
	// Mode is the octal mode of the copy; the source's when empty.
	Mode string `yaml:"mode"`
	// Verify runs sha256sum on both guests after the copy; on by default.
	Verify         bool             `yaml:"verify"`
	ConnectTimeout journal.Duration `yaml:"connect_timeout"`
}

// TransferResult is what ssh.transfer returns.
type TransferResult struct {
	Path        string  `json:"path" expr:"path"`
	Bytes       int64   `json:"bytes" expr:"bytes"`
	SHA256      string  `json:"sha256" expr:"sha256"`
	Seconds     float64 `json:"seconds" expr:"seconds"`
	MBPerSecond float64 `json:"mb_per_second" expr:"mb_per_second"`
	Verified    bool    `json:"verified" expr:"verified"`
}

var modePattern = regexp.MustCompile(`^0?[0-7]{3,4}$`)

func validMode(field, mode string) []steps.FieldError {
	if mode != "" && !modePattern.MatchString(mode) {
		return []steps.FieldError{steps.Fieldf(field, "%q is not an octal mode such as \"0644\"", "%q 不是八進位權限模式（例如 \"0644\"）", mode)}
	}
	return nil
}

func parseMode(mode string, fallback os.FileMode) os.FileMode {
	if mode == "" {
		return fallback.Perm()
	}
	m, _ := strconv.ParseUint(mode, 8, 32)
	return os.FileMode(m)
}

func needPath(field, p string) []steps.FieldError {
	if p == "" {
		return []steps.FieldError{steps.Fieldf(field, "a path is required", "須有路徑")}
	}
	if strings.ContainsRune(p, 0) {
		return []steps.FieldError{steps.Fieldf(field, "the path contains a NUL byte", "路徑含有 NUL 位元組")}
	}
	return nil
}

// partName is where a file is written before it is renamed into place, so
// a reader never sees half a file.
func partName(dest string) string { return dest + ".drbook-part" }

// intoDir resolves dest against the remote file system: a directory (or a
// path ending in "/") receives the file under src's base name.
func intoDir(sc *sftp.Client, dest, src string) string {
	if strings.HasSuffix(dest, "/") {
		return dest + path.Base(src)
	}
	if fi, err := sc.Stat(dest); err == nil && fi.IsDir() {
		return path.Join(dest, path.Base(src))
	}
	return dest
}

// moveIntoPlace renames the part file over dest on the guest. It prefers
// the posix-rename SFTP extension and falls back to mv, because RHEL 5's
// OpenSSH 4.3 lacks the extension and SFTP v3's rename refuses to replace.
func moveIntoPlace(ctx context.Context, c *transport.Client, sc *sftp.Client, part, dest string) error {
	if err := sc.PosixRename(part, dest); err == nil {
		return nil
	}
	return runChecked(ctx, c, journal.Text{EN: "moving " + part + " into place", ZhTW: "將 " + part + " 移至定位"}, "mv -f -- "+transport.QuoteAll(part, dest), io.Discard, journal.Text{})
}

type upload struct{}

var _ steps.Kind = (*upload)(nil)

func (*upload) Name() string { return "ssh.upload" }
func (*upload) Summary() string {
	return "copy a file from the operator's machine to a guest over SFTP"
}
func (*upload) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*upload) NewParams() any       { return &UploadParams{} }
func (*upload) NewResult() any       { return &FileResult{} }
func (*upload) Validate(params any) []steps.FieldError {
	p := params.(*UploadParams)
	errs := p.Target.validate()
	errs = append(errs, needPath("src", p.Src)...)
	errs = append(errs, needPath("dest", p.Dest)...)
	return append(errs, validMode("mode", p.Mode)...)
}
func (*upload) Describe(params any) steps.Description {
	p := params.(*UploadParams)
	return steps.Description{Action: fmt.Sprintf("upload %s to %s:%s", p.Src, p.name(), p.Dest), ActionZhTW: fmt.Sprintf("將 %s 上傳至 %s:%s", p.Src, p.name(), p.Dest), Target: p.name(), Command: "sftp put " + transport.QuoteAll(p.Src, p.Dest)}
}

func (*upload) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*UploadParams)
	src, err := os.Open(p.Src)
	if err != nil {
		return nil, i18n.Errorf("ssh.upload: cannot read the local file: %w", "ssh.upload：無法讀取本機檔案：%w", err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	c, sc, done, err := p.openSFTP(ctx, rt)
	if err != nil {
		return nil, err
	}
	defer done()
	dest := intoDir(sc, p.Dest, filepath.ToSlash(p.Src))
	h := sha256.New()
	n, err := writeRemote(ctx, c, sc, dest, parseMode(p.Mode, fi.Mode()), io.TeeReader(src, h))
	if err != nil {
		return nil, err
	}
	return &FileResult{Path: dest, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// writeRemote writes r to dest on the guest through a part file.
func writeRemote(ctx context.Context, c *transport.Client, sc *sftp.Client, dest string, mode os.FileMode, r io.Reader) (int64, error) {
	part := partName(dest)
	f, err := sc.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return 0, i18n.Errorf("%s: cannot create %s: %w", "%s：無法建立 %s：%w", c.Target(), part, sftpErr(err))
	}
	n, err := f.ReadFromWithConcurrency(r, 0)
	cerr := f.Close()
	if err == nil {
		err = cerr
	}
	if err == nil {
		err = sc.Chmod(part, mode)
	}
	if err == nil {
		err = moveIntoPlace(ctx, c, sc, part, dest)
	}
	if err != nil {
		sc.Remove(part)
		if ctx.Err() != nil {
			return n, i18n.Errorf("%s: writing %s cancelled: %w", "%s：寫入 %s 已取消：%w", c.Target(), dest, context.Cause(ctx))
		}
		return n, i18n.Errorf("%s: writing %s: %w", "%s：寫入 %s：%w", c.Target(), dest, sftpErr(err))
	}
	return n, nil
}

func sftpErr(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		return fmt.Errorf("%s", se.Error())
	}
	return err
}

type download struct{}

var _ steps.Kind = (*download)(nil)

func (*download) Name() string { return "ssh.download" }
func (*download) Summary() string {
	return "copy a file from a guest to the operator's machine over SFTP"
}
func (*download) Traits() steps.Traits { return steps.Traits{ChangesState: false, Idempotent: true} }
func (*download) NewParams() any       { return &DownloadParams{} }
func (*download) NewResult() any       { return &FileResult{} }
func (*download) Validate(params any) []steps.FieldError {
	p := params.(*DownloadParams)
	errs := p.Target.validate()
	errs = append(errs, needPath("src", p.Src)...)
	return append(errs, needPath("dest", p.Dest)...)
}
func (*download) Describe(params any) steps.Description {
	p := params.(*DownloadParams)
	return steps.Description{Action: fmt.Sprintf("download %s:%s to %s", p.name(), p.Src, p.Dest), ActionZhTW: fmt.Sprintf("將 %s:%s 下載至 %s", p.name(), p.Src, p.Dest), Target: p.name(), Command: "sftp get " + transport.QuoteAll(p.Src, p.Dest)}
}

func (*download) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*DownloadParams)
	c, sc, done, err := p.openSFTP(ctx, rt)
	if err != nil {
		return nil, err
	}
	defer done()
	src, err := sc.Open(p.Src)
	if err != nil {
		return nil, i18n.Errorf("%s: cannot open %s: %w", "%s：無法開啟 %s：%w", c.Target(), p.Src, sftpErr(err))
	}
	defer src.Close()
	dest := p.Dest
	if fi, err := os.Stat(dest); err == nil && fi.IsDir() {
		dest = filepath.Join(dest, path.Base(p.Src))
	}
	tmp := dest + ".drbook-part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, i18n.Errorf("ssh.download: cannot write locally: %w", "ssh.download：無法寫入本機：%w", err)
	}
	h := sha256.New()
	n, err := src.WriteTo(io.MultiWriter(out, h))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dest)
	}
	if err != nil {
		os.Remove(tmp)
		if ctx.Err() != nil {
			return nil, i18n.Errorf("%s: download of %s cancelled: %w", "%s：下載 %s 已取消：%w", c.Target(), p.Src, context.Cause(ctx))
		}
		return nil, i18n.Errorf("%s: download of %s: %w", "%s：下載 %s：%w", c.Target(), p.Src, sftpErr(err))
	}
	return &FileResult{Path: dest, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type transfer struct{}

var _ steps.Kind = (*transfer)(nil)
var _ steps.Preflighter = (*transfer)(nil)
var _ steps.Producer = (*transfer)(nil)

func (*transfer) Name() string { return "ssh.transfer" }
func (*transfer) Summary() string {
	return "stream a file from one guest to another through drbook, verifying SHA-256 on both ends"
}
func (*transfer) Traits() steps.Traits { return steps.Traits{ChangesState: true, Idempotent: true} }
func (*transfer) NewParams() any       { return &TransferParams{Verify: true} }
func (*transfer) NewResult() any       { return &TransferResult{} }
func (*transfer) Validate(params any) []steps.FieldError {
	p := params.(*TransferParams)
	var errs []steps.FieldError
	if p.From == "" {
		errs = append(errs, steps.Fieldf("from", "name the source guest", "請指定來源客體"))
	}
	if p.To == "" {
		errs = append(errs, steps.Fieldf("to", "name the destination guest", "請指定目的客體"))
	}
	errs = append(errs, needPath("src", p.Src)...)
	errs = append(errs, needPath("dest", p.Dest)...)
	if p.From != "" && p.From == p.To && p.Src == p.Dest {
		errs = append(errs, steps.Fieldf("dest", "source and destination are the same file", "來源與目的為同一檔案"))
	}
	return append(errs, validMode("mode", p.Mode)...)
}

func (p *TransferParams) verifyCommand(file string) string {
	return "sha256sum -- " + transport.Quote(file)
}

func (*transfer) Describe(params any) steps.Description {
	p := params.(*TransferParams)
	cmd := fmt.Sprintf("sftp %s:%s → %s:%s", p.From, transport.Quote(p.Src), p.To, transport.Quote(p.Dest))
	if p.Verify {
		cmd += "; on both: " + p.verifyCommand("FILE")
	}
	return steps.Description{Action: fmt.Sprintf("copy %s:%s to %s:%s through drbook", p.From, p.Src, p.To, p.Dest), ActionZhTW: fmt.Sprintf("經由 drbook 將 %s:%s 複製至 %s:%s", p.From, p.Src, p.To, p.Dest), Target: p.From + " → " + p.To, Command: cmd}
}

func (*transfer) Preflight(ctx context.Context, rt steps.Runtime, params any) error {
	p := params.(*TransferParams)
	a, err := transport.ForGuest(ctx, rt, p.From, p.ConnectTimeout.D())
	if err != nil {
		return err
	}
	if _, err := transport.ForGuest(ctx, rt, p.To, p.ConnectTimeout.D()); err != nil {
		return err
	}
	return requireInputs(ctx, rt, a, p.From, p.Src)
}

// Produces says the copy appears at dest on the destination guest.
func (*transfer) Produces(params any) []steps.Product {
	p := params.(*TransferParams)
	return []steps.Product{{Guest: p.To, Path: p.Dest}}
}

// countingWriter counts bytes for the progress line.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

func (*transfer) Execute(ctx context.Context, rt steps.Runtime, params any) (any, error) {
	p := params.(*TransferParams)
	a, err := transport.ForGuest(ctx, rt, p.From, p.ConnectTimeout.D())
	if err != nil {
		return nil, err
	}
	b, err := transport.ForGuest(ctx, rt, p.To, p.ConnectTimeout.D())
	if err != nil {
		return nil, err
	}
	sa, doneA, err := a.SFTP(ctx)
	if err != nil {
		return nil, err
	}
	defer doneA()
	sb, doneB, err := b.SFTP(ctx)
	if err != nil {
		return nil, err
	}
	defer doneB()
	fi, err := sa.Stat(p.Src)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", a.Target(), p.Src, sftpErr(err))
	}
	src, err := sa.Open(p.Src)
	if err != nil {
		return nil, i18n.Errorf("%s: cannot open %s: %w", "%s：無法開啟 %s：%w", a.Target(), p.Src, sftpErr(err))
	}
	defer src.Close()
	dest := intoDir(sb, p.Dest, p.Src)

	// The file flows A → pipe → B in memory, nothing touching the
	// operator's disk, and nothing but the progress counter looking at it
	// on the way: verification is each guest hashing its own copy.
	var count countingWriter
	pr, pw := io.Pipe()
	go func() {
		_, err := src.WriteTo(&countedPipe{pw: pw, n: &count})
		pw.CloseWithError(err)
	}()
	stopProgress := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				n := count.n.Load()
				steps.Say(rt, "%s:%s → %s: %s of %s (%.0f%%)", "%s:%s → %s：已傳送 %s／%s（%.0f%%）", p.From, p.Src, p.To, mib(n), mib(fi.Size()), 100*float64(n)/float64(max(fi.Size(), 1)))
			}
		}
	}()
	n, err := writeRemote(ctx, b, sb, dest, parseMode(p.Mode, fi.Mode()), pr)
	close(stopProgress)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return nil, i18n.Errorf("ssh.transfer %s:%s → %s:%s: %w", "ssh.transfer %s:%s → %s:%s：%w", p.From, p.Src, p.To, dest, err)
	}
	took := time.Since(start)
	res := &TransferResult{Path: dest, Bytes: n, Seconds: seconds(took)}
	if took > 0 {
		res.MBPerSecond = float64(n) / (1 << 20) / took.Seconds()
	}
	if n != fi.Size() {
		return res, i18n.Errorf("ssh.transfer: copied %d bytes but %s:%s has %d; the source changed during the copy", "ssh.transfer：已複製 %d 位元組，但 %s:%s 為 %d；來源於複製期間已變更", n, p.From, p.Src, fi.Size())
	}
	if !p.Verify {
		steps.SayNote(rt, "info", "copied %s from %s:%s to %s:%s in %.1fs (%.1f MiB/s), not verified (verify: false)", "已複製 %s：%s:%s → %s:%s，耗時 %.1f 秒（%.1f MiB/s），未驗證（verify: false）", mib(n), p.From, p.Src, p.To, dest, took.Seconds(), res.MBPerSecond)
		return res, nil
	}
	// Both guests hash their copy at the same time, one read of the file
	// at each end: equal sums mean the copy is the source, byte for byte.
	sides := []struct {
		c    *transport.Client
		name string
		file string
	}{{a, p.From, p.Src}, {b, p.To, dest}}
	sums, errs := make([]string, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i, side := range sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = remoteSHA256(ctx, side.c, side.file)
		}()
	}
	wg.Wait()
	for i := range sides {
		if errs[i] != nil {
			return res, errs[i]
		}
	}
	if sums[0] != sums[1] {
		return res, i18n.Errorf("ssh.transfer: SHA-256 mismatch: %s:%s has %s but the copy %s:%s has %s; the copy is damaged or the source changed after it, run the step again", "ssh.transfer：SHA-256 不符：%s:%s 為 %s，而複本 %s:%s 為 %s；複本已損毀或來源於複製後已變更，請再次執行此步驟", p.From, p.Src, sums[0], p.To, dest, sums[1])
	}
	res.SHA256, res.Verified = sums[0], true
	steps.SayNote(rt, "info", "copied %s from %s:%s to %s:%s in %.1fs (%.1f MiB/s), sha256 %s on both", "已複製 %s：%s:%s → %s:%s，耗時 %.1f 秒（%.1f MiB/s），兩端 SHA-256 皆為 %s", mib(n), p.From, p.Src, p.To, dest, took.Seconds(), res.MBPerSecond, res.SHA256)
	return res, nil
}

// countedPipe feeds the transfer's pipe and counts for the progress line.
type countedPipe struct {
	pw *io.PipeWriter
	n  *countingWriter
}

func (w *countedPipe) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	w.n.n.Add(int64(n))
	return n, err
}

func remoteSHA256(ctx context.Context, c *transport.Client, file string) (string, error) {
	var out strings.Builder
	if err := runChecked(ctx, c, journal.Text{EN: "sha256sum " + file, ZhTW: "sha256sum " + file}, "sha256sum -- "+transport.Quote(file), &out,
		journal.Text{EN: " (set verify: false if the guest has no sha256sum)", ZhTW: "（若客體沒有 sha256sum，請設定 verify: false）"}); err != nil {
		return "", err
	}
	sum, _, _ := strings.Cut(strings.TrimSpace(out.String()), " ")
	return strings.TrimPrefix(sum, "\\"), nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
