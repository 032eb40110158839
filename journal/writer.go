package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// FileName is the journal's name inside a run directory.
const FileName = "journal.jsonl"

// Writer appends hash-chained events to a journal file; Append returns
// only once its event is on disk (fsync'd). It is safe for concurrent use.
//
// Concurrent Appends share fsyncs (group commit): each event is written
// under the lock, in sequence order, so the hash chain is the order of the
// file; then the caller waits until an fsync that began after its write has
// finished. One caller at a time runs the fsync, for every line written so
// far; those that wrote while it ran wait for the next one. No Append
// returns before its own line is durable, so a step's start is still on
// disk before its side effect begins and its outcome before the next
// dependent step, but 50 concurrent fan-out items pay for a few fsyncs
// instead of 50.
type Writer struct {
	mu    sync.Mutex
	f     file
	prev  string
	seq   int64
	start time.Time
	// secrets are the registered secrets, redacted from every event.
	secrets redactor
	// NoSync skips fsync; only benchmarks comparing the cost set it.
	NoSync bool

	// The group commit's state, guarded by smu. smu may be taken while
	// mu is held, never mu while smu is.
	smu     sync.Mutex
	synced  *sync.Cond
	durable int64 // the last seq known to be on disk
	syncing bool  // a caller is running fsync
	syncErr error // the first fsync failure: every later Append fails
	// syncs counts the fsyncs run (tests and benchmarks report it).
	syncs int64
}

// file is what a Writer needs of its journal file (tests substitute one
// that crashes).
type file interface {
	Write([]byte) (int, error)
	Sync() error
	Close() error
}

func newWriter(f file, prev string, seq int64) *Writer {
	w := &Writer{f: f, prev: prev, seq: seq, durable: seq, start: time.Now()}
	w.synced = sync.NewCond(&w.smu)
	return w
}

// Create starts a new journal at path; it fails if the file exists.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syncDir(path); err != nil {
		f.Close()
		return nil, err
	}
	return newWriter(f, "", 0), nil
}

// OpenAppend continues an existing journal. A torn last line (a crash while
// writing it) is cut off first, so the chain continues from the last whole
// event; the number of bytes cut is returned.
func OpenAppend(path string) (*Writer, int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	good, torn := splitTorn(data)
	var prev string
	var seq int64
	if len(good) > 0 {
		lines := bytes.Split(bytes.TrimSuffix(good, []byte{'\n'}), []byte{'\n'})
		last := lines[len(lines)-1]
		prev = hashLine(last)
		var ev Event
		if err := json.Unmarshal(last, &ev); err != nil {
			return nil, 0, fmt.Errorf("%s: last event unreadable: %w", path, err)
		}
		seq = ev.Seq
	}
	if torn > 0 {
		if err := os.Truncate(path, int64(len(good))); err != nil {
			return nil, 0, err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, 0, err
	}
	return newWriter(f, prev, seq), torn, nil
}

// AddSecret registers a secret value: from the next event on, every
// occurrence of it in the event's text values is replaced by "[redacted]"
// before the line is written. Keys, numbers, the event's structure and the
// values drbook writes from its own vocabulary (types, statuses, results,
// times, hashes, step ids) are never touched, so a secret that happens to
// be an ordinary word cannot corrupt the record. Callers should refuse
// secrets too short to hide in free text without blanking ordinary words
// (the engine does, at run start).
func (w *Writer) AddSecret(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets.add(s)
}

// Scrub replaces registered secrets in s, text that is not an event (a
// progress line, an error message, an artifact).
func (w *Writer) Scrub(s string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.secrets.text(s)
}

// Append writes ev (setting Seq, Time if zero, Elapsed and Prev) and
// returns the event as written once it is fsync'd (see Writer).
func (w *Writer) Append(ev Event) (Event, error) {
	ev, seq, err := w.write(ev)
	if err != nil || w.NoSync {
		return ev, err
	}
	return ev, w.waitDurable(seq)
}

// write appends ev's line to the file (not yet fsync'd) and returns its seq.
func (w *Writer) write(ev Event) (Event, int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return ev, 0, errors.New("journal is closed")
	}
	if err := w.failed(); err != nil {
		// After a failed fsync the kernel may have dropped the pages
		// it could not write: nothing later can be trusted to follow.
		return ev, 0, err
	}
	w.seq++
	ev.Seq = w.seq
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Elapsed = Duration(time.Since(w.start))
	ev.Time = ev.Time.UTC().Round(time.Microsecond)
	ev.Prev = w.prev
	line, err := json.Marshal(ev)
	if err != nil {
		w.seq--
		return ev, 0, fmt.Errorf("journal: encode %s: %w", ev.Type, err)
	}
	if w.secrets.mentions(line) {
		// Redact value by value, so that the structure, the keys and
		// drbook's own vocabulary survive whatever the secret is.
		redacted, err := w.secrets.line(line)
		var written Event
		if err == nil {
			err = json.Unmarshal(redacted, &written)
		}
		if err != nil {
			w.seq--
			return ev, 0, fmt.Errorf("journal: encode %s: redacting secrets: %w", ev.Type, err)
		}
		// The caller shows the returned event on screen and in logs: it
		// must be the redacted one, as written.
		line, ev = redacted, written
	}
	if _, err := w.f.Write(append(line, '\n')); err != nil {
		w.seq--
		return ev, 0, fmt.Errorf("journal: write: %w", err)
	}
	w.prev = hashLine(line)
	return ev, w.seq, nil
}

func (w *Writer) failed() error {
	w.smu.Lock()
	defer w.smu.Unlock()
	return w.syncErr
}

// waitDurable returns once the line with sequence number seq is fsync'd:
// by a sync another caller started after that line was written, or by one
// this caller runs for every line written so far.
func (w *Writer) waitDurable(seq int64) error {
	w.smu.Lock()
	defer w.smu.Unlock()
	for w.durable < seq {
		if w.syncErr != nil {
			return w.syncErr
		}
		if w.syncing {
			w.synced.Wait()
			continue
		}
		w.syncing = true
		w.smu.Unlock()
		// Every line up to target is written: the fsync covers it.
		w.mu.Lock()
		f, target := w.f, w.seq
		w.mu.Unlock()
		err := errors.New("journal is closed")
		if f != nil {
			err = f.Sync()
		}
		w.smu.Lock()
		w.syncing = false
		w.syncs++
		if err != nil {
			w.syncErr = fmt.Errorf("journal: fsync: %w", err)
		} else if target > w.durable {
			w.durable = target
		}
		w.synced.Broadcast()
	}
	return nil
}

// Head returns the hash of the last line written: the journal's final hash.
func (w *Writer) Head() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.prev
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func hashLine(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// splitTorn returns the prefix of data made of whole lines, and how many
// bytes of an unterminated last line follow it.
func splitTorn(data []byte) ([]byte, int64) {
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		return nil, int64(len(data))
	}
	return data[:i+1], int64(len(data) - i - 1)
}

func syncDir(path string) error {
	dir := path[:max(0, strings.LastIndexByte(path, os.PathSeparator))]
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Log is a journal read back.
type Log struct {
	Events []Event
	// TornBytes is the length of an unterminated last line that was ignored.
	TornBytes int64
	// Head is the hash of the last whole line.
	Head string
}

// ReadFile reads a journal, tolerating a torn last line. It does not verify
// the chain; use Verify for that.
func ReadFile(path string) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read reads a journal from r; see ReadFile.
func Read(r io.Reader) (*Log, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	good, torn := splitTorn(data)
	log := &Log{TornBytes: torn}
	sc := bufio.NewScanner(bytes.NewReader(good))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("journal line %d: %w", n, err)
		}
		if err := ev.payloadProblem(); err != "" {
			return nil, fmt.Errorf("journal line %d: %s", n, err)
		}
		log.Events = append(log.Events, ev)
		log.Head = hashLine(sc.Bytes())
	}
	return log, sc.Err()
}

// ChainError says where a journal's hash chain breaks.
type ChainError struct {
	Line   int
	Reason string
	// Kind classifies the break for callers that word it themselves (in
	// another language): one of the Break constants.
	Kind string
}

// Kinds of chain break (ChainError.Kind).
const (
	BreakEmpty     = "empty"
	BreakNotJSON   = "not-json"
	BreakEdited    = "edited"
	BreakDeleted   = "deleted"
	BreakFirstLine = "first-line"
	BreakOrder     = "order"
	BreakSequence  = "sequence"
)

func (e *ChainError) Error() string {
	return fmt.Sprintf("journal line %d: %s", e.Line, e.Reason)
}

// Verify checks the hash chain and sequence numbers of a journal and returns
// the final hash. The first line that does not follow from the one before
// it is named in a *ChainError. A torn last line is reported as torn, not
// as tampering.
func Verify(r io.Reader) (head string, torn int64, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	good, torn := splitTorn(data)
	if len(good) == 0 {
		return "", torn, &ChainError{Line: 1, Reason: "journal is empty", Kind: BreakEmpty}
	}
	lines := bytes.Split(bytes.TrimSuffix(good, []byte{'\n'}), []byte{'\n'})
	prev := ""
	var lastSeq int64
	for i, line := range lines {
		var ev struct {
			Seq  int64  `json:"seq"`
			Prev string `json:"prev"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			return "", torn, &ChainError{Line: i + 1, Reason: "not a journal event (the line was edited or damaged): " + err.Error(), Kind: BreakNotJSON}
		}
		if ev.Prev != prev {
			return "", torn, brokenLink(i+1, ev.Seq, lastSeq, lines[i+1:])
		}
		if ev.Seq != int64(i+1) {
			return "", torn, &ChainError{Line: i + 1, Reason: fmt.Sprintf("sequence number %d where %d was expected", ev.Seq, i+1), Kind: BreakSequence}
		}
		prev, lastSeq = hashLine(line), ev.Seq
	}
	return prev, torn, nil
}

// brokenLink names what a broken link between line n-1 and line n (whose
// sequence numbers are prevSeq and seq) most likely is. A line's own hash
// is only recorded in the line after it, so an edit to line n-1 shows as a
// bad link at line n: when both lines sit where their sequence numbers say,
// it is line n-1 that was changed, and that is the line named. A gap in the
// sequence numbers is a deletion unless a later line (of rest) carries a
// missing number; a step back is an insertion or a reordering.
func brokenLink(n int, seq, prevSeq int64, rest [][]byte) *ChainError {
	later := func(lo, hi int64) bool {
		for _, line := range rest {
			var ev struct {
				Seq int64 `json:"seq"`
			}
			if json.Unmarshal(line, &ev) == nil && ev.Seq >= lo && ev.Seq <= hi {
				return true
			}
		}
		return false
	}
	switch {
	case n > 1 && seq == int64(n) && prevSeq == int64(n-1):
		return &ChainError{Line: n - 1, Reason: fmt.Sprintf(
			"hash chain broken: line %d was edited (its hash is not the one line %d records for it)", n-1, n), Kind: BreakEdited}
	case n > 1 && seq > prevSeq+1 && !later(prevSeq+1, seq-1):
		return &ChainError{Line: n, Reason: fmt.Sprintf(
			"hash chain broken: %d line(s) deleted before line %d (sequence numbers %d to %d are missing)", seq-prevSeq-1, n, prevSeq+1, seq-1), Kind: BreakDeleted}
	case n == 1:
		return &ChainError{Line: 1, Reason: "hash chain broken: the first line names a line before it (lines were deleted from the start, or it was edited)", Kind: BreakFirstLine}
	}
	return &ChainError{Line: n, Reason: fmt.Sprintf(
		"hash chain broken: line %d does not follow line %d (sequence number %d after %d: inserted, reordered or edited)", n, n-1, seq, prevSeq), Kind: BreakOrder}
}
