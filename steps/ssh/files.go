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
	cmd := fmt.Sprintf("%s: cat -- %s | %s: cat > %s.drbook-part, then rename into place", p.From, transport.Quote(p.Src), p.To, transport.Quote(p.Dest))
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
	dest := intoDir(sb, p.Dest, p.Src)
	part := partName(dest)

	var count countingWriter
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
	n, err := stream(ctx, a, b, p.Src, part, &count)
	close(stopProgress)
	if err == nil && n != fi.Size() {
		err = i18n.Errorf("copied %d bytes but %s:%s has %d; the source changed during the copy, or the login shell on %s prints something (its startup files must print nothing for a non-interactive command); run the step again",
			"已複製 %d 位元組，但 %s:%s 有 %d 位元組；來源於複製期間遭變更，或 %s 之登入 shell 有輸出（其啟動檔對非互動指令不得輸出任何內容）；請再次執行此步驟", n, p.From, p.Src, fi.Size(), p.From)
	}
	if err == nil {
		err = placeCopy(ctx, b, sb, part, dest, n, parseMode(p.Mode, fi.Mode()))
	}
	if err != nil {
		sb.Remove(part)
		return nil, i18n.Errorf("ssh.transfer %s:%s → %s:%s: %w", "ssh.transfer %s:%s → %s:%s：%w", p.From, p.Src, p.To, dest, err)
	}
	took := time.Since(start)
	res := &TransferResult{Path: dest, Bytes: n, Seconds: seconds(took)}
	if took > 0 {
		res.MBPerSecond = float64(n) / (1 << 20) / took.Seconds()
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
		role string
	}{{a, p.From, p.Src, "src-sum"}, {b, p.To, dest, "dest-sum"}}
	sums, errs := make([]string, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i, side := range sides {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = remoteSHA256(roleContext(ctx, side.role), side.c, side.file)
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

// placeCopy checks that the part file holds the n bytes sent, gives it its
// mode and renames it over dest.
func placeCopy(ctx context.Context, b *transport.Client, sb *sftp.Client, part, dest string, n int64, mode os.FileMode) error {
	fi, err := sb.Stat(part)
	if err != nil {
		return i18n.Errorf("%s: %s: %w", "%s：%s：%w", b.Target(), part, sftpErr(err))
	}
	if fi.Size() != n {
		return i18n.Errorf("%s: %s has %d bytes after %d were sent; the guest's cat or its file system lost some, run the step again",
			"%s：%s 有 %d 位元組，但已送出 %d 位元組；客體之 cat 或其檔案系統遺失部分資料，請再次執行此步驟", b.Target(), part, fi.Size(), n)
	}
	if err := sb.Chmod(part, mode); err != nil {
		return i18n.Errorf("%s: chmod %s: %w", "%s：chmod %s：%w", b.Target(), part, sftpErr(err))
	}
	return moveIntoPlace(ctx, b, sb, part, dest)
}

// stream copies src on a to part on b: cat reads it on a, cat writes it
// on b, and the bytes pass through drbook between the two sessions'
// channels, in the SSH connections' own packets. Neither end runs an SFTP
// server for the data, so each guest pays what ssh a cat | ssh b 'cat >'
// costs it, and drbook decrypts and re-encrypts without re-framing
// (SFTP's 32 KiB requests cost two SSH packets each, and an SFTP server on
// both guests). Both commands run in transport's wrapper, so a cancelled
// or lost transfer stops them on the guests. What a shell's startup files
// print on a would reach the copy: the caller compares the count with the
// source's size, before the copy is moved into place.
func stream(ctx context.Context, a, b *transport.Client, src, part string, count *countingWriter) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	br := newBridge(count)
	read := make(chan error, 1)
	go func() {
		var stderr strings.Builder
		code, err := a.Run(roleContext(ctx, "src"), "cat -- "+transport.Quote(src), nil, br, &stderr)
		if err == nil && code != 0 {
			err = commandFailed(nil, a, journal.Text{EN: "reading " + src, ZhTW: "讀取 " + src}, code, stderr.String())
		}
		// b's cat sees the end of its input either way; a's error is the
		// one to report.
		br.sourceDone()
		read <- err
	}()
	var stderr strings.Builder
	code, err := b.Run(roleContext(ctx, "dest"), "cat > "+transport.Quote(part), br.sink(), io.Discard, &stderr)
	if err == nil && code != 0 {
		err = commandFailed(nil, b, journal.Text{EN: "writing " + part, ZhTW: "寫入 " + part}, code, stderr.String())
	}
	if err != nil {
		// a's cat would block on a full channel window: stop it.
		br.abort(err)
		cancel(err)
	}
	if rerr := <-read; rerr != nil && err == nil {
		err = rerr
	}
	return count.n.Load(), err
}

// bridge joins the source command's stdout to the destination command's
// stdin with no pipe between: the source session hands its channel to
// ReadFrom (x/crypto copies stdout with io.Copy, which prefers ReaderFrom),
// the destination's Run hands its channel's input to FeedStdin
// (transport.StdinFeeder), and ReadFrom, in the source session's copying
// goroutine, reads the one and writes the other. Each chunk passes one
// goroutine hand-off (x/crypto's reader to this loop) instead of three,
// which on a loaded machine is what the copy waits for. It reads in 256
// KiB gulps rather than io.Copy's 32 KiB: each read of the channel may
// send a window adjustment, a packet and a system call of its own.
type bridge struct {
	n      *countingWriter
	dst    chan io.Writer // FeedStdin's writer, once
	done   chan struct{}  // closed when the source has finished
	ended  sync.Once
	failed chan struct{} // closed by abort
	err    error
	abortO sync.Once
}

const bulkSize = 256 << 10

func newBridge(n *countingWriter) *bridge {
	return &bridge{n: n, dst: make(chan io.Writer, 1), done: make(chan struct{}), failed: make(chan struct{})}
}

// writer waits for the destination's input, or for abort.
func (br *bridge) writer() (io.Writer, error) {
	select {
	case w := <-br.dst:
		br.dst <- w
		return w, nil
	case <-br.failed:
		return nil, br.err
	}
}

// Write takes the source's stdout if x/crypto writes it instead of
// handing over its channel.
func (br *bridge) Write(p []byte) (int, error) {
	w, err := br.writer()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(p)
	br.n.n.Add(int64(n))
	return n, err
}

func (br *bridge) ReadFrom(src io.Reader) (int64, error) {
	w, err := br.writer()
	if err != nil {
		return 0, err
	}
	buf := make([]byte, bulkSize)
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			br.n.n.Add(int64(m))
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// sourceDone says the source's command has ended: the destination's input
// ends with it.
func (br *bridge) sourceDone() { br.ended.Do(func() { close(br.done) }) }

// abort ends a source still waiting for the destination.
func (br *bridge) abort(err error) {
	br.abortO.Do(func() { br.err = err; close(br.failed) })
}

// sink is the destination's stdin.
func (br *bridge) sink() transport.StdinFeeder { return bridgeSink{br} }

type bridgeSink struct{ br *bridge }

func (bridgeSink) Read([]byte) (int, error) { return 0, io.EOF }

// FeedStdin lends w to the source and returns when the source has ended.
func (s bridgeSink) FeedStdin(w io.Writer) {
	s.br.dst <- w
	<-s.br.done
}

// roleContext gives one of a step's concurrent commands a step id of its
// own, so that transport's wrapper, which refuses to start a command
// beside a live copy of the same step (what a crashed run left behind),
// tells the transfer's source reader from its destination writer when
// both run on one guest, or on lab guests that share /tmp.
func roleContext(ctx context.Context, role string) context.Context {
	if run, step, ok := steps.RunStepFrom(ctx); ok {
		return steps.WithRunStep(ctx, run, step+"."+role)
	}
	return ctx
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
