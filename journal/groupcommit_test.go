package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// crashFile is a journal file whose durable image is only what was written
// before a Sync began (harsher than a disk, which may keep more). Its
// crashAt-th Sync is a crash: the process stops in the middle of a batch,
// half of the bytes written since the last good Sync reach the disk (torn
// mid-line, as a power cut may leave them) and nothing is written after.
// With crashAfterLines set instead, the crash is the first Sync that
// begins once that many lines are written (reached whatever the schedule).
type crashFile struct {
	mu      sync.Mutex
	wrote   *sync.Cond
	data    []byte // everything written (the page cache)
	disk    []byte // what survives a crash
	syncs   int
	crashAt int
	// crashAfterLines: see above.
	crashAfterLines int
	crashed         bool
	// holdFirstSync makes the first Sync wait, after taking its
	// snapshot, until this many lines are written.
	holdFirstSync int
}

var errCrashed = errors.New("the process has crashed")

func newCrashFile() *crashFile {
	f := &crashFile{}
	f.wrote = sync.NewCond(&f.mu)
	return f
}

func (f *crashFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return 0, errCrashed
	}
	f.data = append(f.data, p...)
	f.wrote.Broadcast()
	return len(p), nil
}

func (f *crashFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return errCrashed
	}
	f.syncs++
	snap := len(f.data)
	if f.syncs == f.crashAt || (f.crashAfterLines > 0 && bytes.Count(f.data, []byte{'\n'}) >= f.crashAfterLines) {
		f.disk = f.data[:len(f.disk)+(len(f.data)-len(f.disk))/2]
		f.crashed = true
		return errCrashed
	}
	if f.syncs == 1 {
		for bytes.Count(f.data, []byte{'\n'}) < f.holdFirstSync {
			f.wrote.Wait()
		}
	}
	f.disk = f.data[:snap]
	return nil
}

func (f *crashFile) Close() error { return nil }

// durableSeqs is the set of sequence numbers whose whole line is in the
// durable image.
func (f *crashFile) durableSeqs(t *testing.T) map[int64]bool {
	f.mu.Lock()
	disk := bytes.Clone(f.disk)
	f.mu.Unlock()
	good, _ := splitTorn(disk)
	seqs := map[int64]bool{}
	for _, line := range bytes.Split(bytes.TrimSuffix(good, []byte{'\n'}), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Errorf("durable line %q: %v", line, err)
			continue
		}
		seqs[ev.Seq] = true
	}
	return seqs
}

// TestGroupCommitSharesFsyncs: 50 concurrent Appends while the first fsync
// is slow are made durable by two fsyncs, the slow one and one for every
// line written while it ran, and none returns before its own line is in
// the durable image.
func TestGroupCommitSharesFsyncs(t *testing.T) {
	const n = 50
	f := newCrashFile()
	f.holdFirstSync = n
	w := newWriter(f, "", 0)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := w.Append(Event{Type: TypeNote, Step: fmt.Sprintf("s%d", i), Note: &Note{Level: "info", Text: "x"}})
			if err != nil {
				errs <- err
				return
			}
			if !f.durableSeqs(t)[ev.Seq] {
				errs <- fmt.Errorf("Append of seq %d returned before its line was durable", ev.Seq)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if f.syncs != 2 || w.syncs != 2 {
		t.Errorf("%d concurrent appends took %d fsyncs (writer counted %d), want 2", n, f.syncs, w.syncs)
	}
	head, torn, err := Verify(bytes.NewReader(f.disk))
	if err != nil || torn != 0 || head != w.Head() {
		t.Errorf("durable journal: head %s torn %d err %v, want head %s", head, torn, err, w.Head())
	}
}

// TestGroupCommitCrashNeverLosesAStartBeforeItsSideEffect runs 50
// concurrent items (start, side effect, finish, as the engine does) and
// crashes at the first fsync once k lines are written, for k from the
// first line to the last. Whatever the crash leaves, the durable
// journal is an unbroken chain (its torn tail cut as OpenAppend cuts it)
// holding the start of every item whose side effect happened and every
// finish that was acknowledged; after the crash no Append succeeds.
func TestGroupCommitCrashNeverLosesAStartBeforeItsSideEffect(t *testing.T) {
	const n = 50
	for _, k := range []int{1, 2, 3, 5, 10, 25, 49, 50, 51, 52, 75, 99, 2 * n} {
		t.Run(fmt.Sprintf("crash-after-%d-lines", k), func(t *testing.T) {
			f := newCrashFile()
			f.crashAfterLines = k
			w := newWriter(f, "", 0)
			var mu sync.Mutex
			var effects, finishes []int64 // seqs of starts whose side effect ran; acked finishes
			var afterCrash []int64
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("fan[%d]", i)
					st, err := w.Append(Event{Type: TypeStepStart, Step: id, StepStart: &StepStart{Kind: "log", Attempt: 1}})
					if err != nil {
						return // the engine stops: no side effect
					}
					mu.Lock()
					effects = append(effects, st.Seq)
					mu.Unlock()
					fin, err := w.Append(Event{Type: TypeStepFinish, Step: id, StepFinish: &StepFinish{Status: StatusOK, Attempts: 1}})
					if err != nil {
						return
					}
					mu.Lock()
					finishes = append(finishes, fin.Seq)
					mu.Unlock()
				}()
			}
			wg.Wait()
			if !f.crashed {
				t.Fatalf("no fsync began after %d lines (%d fsyncs for %d appends): the crash was not exercised", k, f.syncs, 2*n)
			}
			if ev, err := w.Append(Event{Type: TypeNote, Note: &Note{Level: "info", Text: "after"}}); err == nil {
				afterCrash = append(afterCrash, ev.Seq)
			}
			if len(afterCrash) > 0 {
				t.Errorf("an Append after the crashed fsync succeeded (seq %v)", afterCrash)
			}
			good, _ := splitTorn(f.disk)
			if len(good) > 0 {
				if _, _, err := Verify(bytes.NewReader(good)); err != nil {
					t.Fatalf("the durable journal's chain is broken: %v", err)
				}
			}
			durable := f.durableSeqs(t)
			for _, s := range effects {
				if !durable[s] {
					t.Errorf("the start (seq %d) of an item whose side effect ran is not in the durable journal", s)
				}
			}
			for _, s := range finishes {
				if !durable[s] {
					t.Errorf("an acknowledged finish (seq %d) is not in the durable journal", s)
				}
			}
			if k > n && len(effects) == 0 {
				// Line k is a finish, written after its start was durable.
				t.Errorf("no item got past its start before the crash after %d lines", k)
			}
		})
	}
}

// TestFsyncFailureSticks: after a failed fsync the kernel may have dropped
// the pages it could not write, so a later fsync's success proves nothing:
// the writer refuses every later event.
func TestFsyncFailureSticks(t *testing.T) {
	f := newCrashFile()
	f.crashAt = 2
	w := newWriter(f, "", 0)
	if _, err := w.Append(Event{Type: TypeNote, Note: &Note{Level: "info", Text: "one"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(Event{Type: TypeNote, Note: &Note{Level: "info", Text: "two"}}); err == nil {
		t.Fatal("the append whose fsync failed succeeded")
	}
	f.mu.Lock()
	f.crashed = false // the file would take writes again
	f.mu.Unlock()
	if _, err := w.Append(Event{Type: TypeNote, Note: &Note{Level: "info", Text: "three"}}); err == nil || !errors.Is(err, errCrashed) {
		t.Fatalf("an append after a failed fsync returned %v, want the fsync's error", err)
	}
}
