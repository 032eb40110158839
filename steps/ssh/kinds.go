// Package ssh holds the step kinds that act on guests over SSH: running
// commands and scripts, moving files (including guest to guest), the
// bkap.sh-style backup and its check, restoring a tar archive, editing
// configuration files with a diff as evidence, creating directories,
// driving services and waiting for a guest to come back. Each kind names
// its guest with host: (or guest:), the guest's name in the site, and
// reaches it through the run's one connection per guest (package
// transport). Every value put into a remote command is quoted with
// transport.Quote.
package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/drbook/drbook/i18n"
	"github.com/drbook/drbook/journal"
	"github.com/drbook/drbook/steps"
	"github.com/drbook/drbook/steps/ssh/transport"
)

// Kinds returns every ssh.* step kind.
func Kinds() []steps.Kind {
	return []steps.Kind{
		&exec{}, &upload{}, &download{}, &transfer{}, &backup{}, &backupCheck{},
		&restoreTar{}, &editFile{}, &mkdir{}, &service{}, &waitReachable{},
	}
}

// Target names the guest a step acts on. It is inlined into each kind's
// parameters.
type Target struct {
	// Host is the guest's name in the site.
	Host string `yaml:"host" drbook:"guest"`
	// Guest is a synonym of Host for runbooks that prefer the word.
	Guest string `yaml:"guest" drbook:"guest"`
	// ConnectTimeout bounds connecting when the run has no live connection
	// to the guest yet; 15s when unset.
	ConnectTimeout journal.Duration `yaml:"connect_timeout"`
}

func (t Target) name() string {
	if t.Host != "" {
		return t.Host
	}
	return t.Guest
}

func (t Target) validate() []steps.FieldError {
	switch {
	case t.Host != "" && t.Guest != "":
		return []steps.FieldError{steps.Fieldf("guest", "give host or guest, not both (they mean the same)", "請提供 host 或 guest，不可兩者皆給（兩者意義相同）")}
	case t.Host == "" && t.Guest == "":
		return []steps.FieldError{steps.Fieldf("host", "name the guest to act on (its name in the site file's guests)", "請指定要操作之客體（場域檔 guests 中之名稱）")}
	case t.ConnectTimeout < 0:
		return []steps.FieldError{steps.Fieldf("connect_timeout", "must not be negative", "不可為負值")}
	}
	return nil
}

func (t Target) connect(ctx context.Context, rt steps.Runtime) (*transport.Client, error) {
	return transport.ForGuest(ctx, rt, t.name(), t.ConnectTimeout.D())
}

// openSFTP connects to the guest and opens an SFTP session on it; the
// caller calls done when it is finished with the session.
func (t Target) openSFTP(ctx context.Context, rt steps.Runtime) (c *transport.Client, sc *sftp.Client, done func(), err error) {
	if c, err = t.connect(ctx, rt); err != nil {
		return nil, nil, nil, err
	}
	if sc, done, err = c.SFTP(ctx); err != nil {
		return nil, nil, nil, err
	}
	return c, sc, done, nil
}

// requirePaths checks, read-only, that paths exist on the guest, naming
// the first that does not: the preflight of kinds that read or replace a
// file.
// requireInputs is requirePaths for a step's inputs: a path that an
// earlier step of the run produces (steps.ProducedBy) is not looked for
// when its value is known only at run time, and is not an error when it
// is missing now; the preflight notes which step produces it instead.
func requireInputs(ctx context.Context, rt steps.Runtime, c *transport.Client, guest string, paths ...string) error {
	var check []string
	for _, f := range paths {
		if by, ok := steps.ProducedBy(rt, guest, f); ok && strings.Contains(f, "${{") {
			steps.SayNote(rt, "info", "%s: known when step %s has run; not checked now", "%s：於步驟 %s 執行後始確定；現在不檢查", f, by)
			continue
		}
		check = append(check, f)
	}
	sc, done, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	defer done()
	for _, f := range check {
		if _, err := sc.Stat(f); err != nil {
			if by, ok := steps.ProducedBy(rt, guest, f); ok && errors.Is(err, os.ErrNotExist) {
				steps.SayNote(rt, "info", "%[1]s on %[2]s: not there yet; produced by step %[3]s", "%[2]s 上之 %[1]s：尚不存在；由步驟 %[3]s 產生", f, guest, by)
				continue
			}
			return fmt.Errorf("%s: %s: %w", c.Target(), f, sftpErr(err))
		}
	}
	return nil
}

func requirePaths(ctx context.Context, c *transport.Client, paths ...string) error {
	sc, done, err := c.SFTP(ctx)
	if err != nil {
		return err
	}
	defer done()
	for _, f := range paths {
		if _, err := sc.Stat(f); err != nil {
			return fmt.Errorf("%s: %s: %w", c.Target(), f, sftpErr(err))
		}
	}
	return nil
}

// capped keeps the first max bytes written for the step's result and, up to
// a hard limit, everything for the artifact. It is safe for the concurrent
// writes of stdout and stderr copiers.
type capped struct {
	mu    sync.Mutex
	max   int
	full  bytes.Buffer
	total int64
}

// artifactLimit bounds what one command's output may take in memory.
const artifactLimit = 64 << 20

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(p))
	if room := artifactLimit - c.full.Len(); room > 0 {
		if len(p) > room {
			c.full.Write(p[:room])
		} else {
			c.full.Write(p)
		}
	}
	return len(p), nil
}

// head returns the kept text, the run's secrets redacted before it was
// cut (see steps.CapText), and whether it was cut.
func (c *capped) head(rt steps.Runtime) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, cut := steps.CapText(rt, c.full.String(), c.max)
	return s, cut || c.total > int64(c.full.Len())
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.full.String()
}

// runScript runs a command on the guest, records a transcript as evidence
// (full output stored as artifacts when it was cut), and returns stdout,
// stderr and the exit code.
func runScript(ctx context.Context, rt steps.Runtime, c *transport.Client, title journal.Text, cmd string, outputCap int) (stdout, stderr *capped, code int, err error) {
	if outputCap <= 0 {
		outputCap = 64 << 10
	}
	stdout, stderr = &capped{max: outputCap}, &capped{max: outputCap}
	code, err = c.Run(ctx, cmd, nil, stdout, stderr)
	if err != nil {
		return stdout, stderr, code, err
	}
	tr := &journal.Transcript{Target: c.Target(), Command: c.WrapBecome(cmd), ExitCode: code}
	var cutOut, cutErr bool
	tr.Stdout, cutOut = stdout.head(rt)
	tr.Stderr, cutErr = stderr.head(rt)
	tr.Truncated = cutOut || cutErr
	if tr.Truncated {
		if a, aerr := rt.Artifact(rt.StepID()+".stdout.txt", strings.NewReader(stdout.String())); aerr == nil {
			tr.StdoutArtifact = a.Name
		}
		if a, aerr := rt.Artifact(rt.StepID()+".stderr.txt", strings.NewReader(stderr.String())); aerr == nil {
			tr.StderrArtifact = a.Name
		}
	}
	rt.Evidence(journal.Evidence{Kind: journal.EvidenceTranscript, Title: title.EN, TitleZhTW: title.ZhTW, Transcript: tr})
	return stdout, stderr, code, nil
}

// runChecked runs a helper command (mv, cp, sha256sum) whose transcript is
// not evidence, and fails with its error output, followed by hint, when it
// exits non-zero.
func runChecked(ctx context.Context, c *transport.Client, what journal.Text, cmd string, stdout io.Writer, hint journal.Text) error {
	var stderr strings.Builder
	code, err := c.Run(ctx, cmd, nil, stdout, &stderr)
	if err != nil {
		return err
	}
	if code != 0 {
		return commandFailedHint(nil, c, what, code, stderr.String(), hint)
	}
	return nil
}

// commandFailed is the error of a remote command that exited badly, with
// up to 600 bytes of its error output. Output a guest's own programs
// printed (rt given) is redacted before it is cut, since a secret across
// the cut would leave half of it behind (see steps.CapText); drbook's
// helper commands (mv, cp, sha256sum, through runChecked) pass nil.
func commandFailed(rt steps.Runtime, c *transport.Client, what journal.Text, code int, stderr string) error {
	return commandFailedHint(rt, c, what, code, stderr, journal.Text{})
}

// commandFailedHint is commandFailed with drbook's hint after the output.
func commandFailedHint(rt steps.Runtime, c *transport.Client, what journal.Text, code int, stderr string, hint journal.Text) error {
	stderr = strings.TrimSpace(stderr)
	cut := false
	if rt != nil {
		stderr, cut = steps.CapText(rt, stderr, 600)
	} else if len(stderr) > 600 {
		stderr, cut = stderr[:600], true
	}
	if cut {
		stderr += "…"
	}
	out := i18n.New(stderr, stderr)
	if stderr == "" {
		out = i18n.New("no error output", "無錯誤輸出")
	}
	return i18n.Errorf("%v on %s failed (exit %d): %v%v", "%[1]v 於 %[2]s 失敗（結束代碼 %[3]d）：%[4]v%[5]v", i18n.New(what.EN, what.ZhTW), c.Target(), code, out, i18n.New(hint.EN, hint.ZhTW))
}

// markers reads "drbook-KEY: value" lines that drbook's own scripts print to
// report results.
func markers(out string) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "drbook-") {
			continue
		}
		k, v, ok := strings.Cut(line[len("drbook-"):], ": ")
		if ok {
			m[k] = append(m[k], v)
		}
	}
	return m
}

// operand makes a path safe as a command's operand: a relative one gets
// "./" in front, so that "-delete" cannot be read by find as an
// expression, nor "host:file" or "-" by tar as a remote archive or
// standard input.
func operand(p string) string {
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "./") {
		return p
	}
	return "./" + p
}

func first(m map[string][]string, k string) string {
	if v := m[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
