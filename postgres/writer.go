package postgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
	"github.com/jackc/pgx/v5/pgconn"
)

// WriterConfig tunes a Writer. Zero fields take the defaults shown.
type WriterConfig struct {
	// Journal is the path of the journal file: required. Its folder is
	// created if needed. One Writer (one process) per journal.
	Journal string
	// MemoryLimit is how many transitions wait in memory before the
	// writer spills them to the journal (10000).
	MemoryLimit int
	// BatchSize is the most transitions written in one transaction (1000).
	BatchSize int
	// MinBackoff and MaxBackoff bound the wait before retrying after a
	// failed batch; it doubles from Min up to Max (100ms, 5s).
	MinBackoff, MaxBackoff time.Duration
	// BatchTimeout bounds one batch's database work, so a database that
	// stops answering is retried like one that is down (30s).
	BatchTimeout time.Duration
	// Logger gets the writer's warnings and errors (slog.Default()).
	Logger *slog.Logger

	// batches is told of each batch's fate (a test signal).
	batches testsignal.Signal[batchFate]
}

// batchFate is what became of a batch: eventCommitted, eventFailed or
// eventDropped, and how many transitions it held.
type batchFate struct {
	Event string
	N     int
}

// Hook events.
const (
	eventCommitted = "committed" // a batch reached Postgres
	eventFailed    = "failed"    // a batch failed and will be retried
	eventDropped   = "dropped"   // transitions that could never be written
)

// Backlog is how many transitions a Writer holds that Postgres has not got.
type Backlog struct {
	Memory  int // in memory, including a batch being written from memory
	Journal int // in the journal file
}

// Writer writes call transitions to Postgres without ever making the call
// path wait for the database.
//
// Record puts a transition in a bounded queue in memory; past MemoryLimit,
// and whenever a write has failed and not yet succeeded again, it appends it
// to the journal file instead. One goroutine writes them to Postgres in the
// order they were recorded (journal first, then memory: the journal always
// holds the older ones), in batches of one transaction each; so a call's
// arrival is always written before its later transitions. When a batch
// fails, the goroutine moves it and everything in memory to the journal, so
// during an outage all that is waiting is on disk, and retries with capped
// exponential backoff.
//
// Durability: journal lines are written with write(2) as they are spilled,
// and fsync'd by the writing goroutine before each database attempt and
// whenever new lines arrive during an outage, so a process crash loses
// nothing spilled, and a machine crash at most the lines of the last moments.
// What is still in memory is lost by a crash (not by Close), which is why the
// writer spills memory at the first failure. A transition may reach Postgres
// twice (a crash after a commit replays it from the journal); (call_id, seq)
// makes that harmless.
type Writer struct {
	store *Store
	cfg   WriterConfig
	log   *slog.Logger

	mu       sync.Mutex
	mem      []queue.Transition // newer than everything in the journal
	inflight int                // transitions taken from mem, being written
	retry    []queue.Transition // a failed batch from mem the journal could not take: written first
	down     bool               // the last batch failed: spill everything
	closed   bool
	journal  *os.File
	jsize    int64 // bytes in the journal file
	jread    int64 // bytes of it already in Postgres
	jcount   int   // transitions in journal[jread:jsize]
	dirty    bool  // written to the journal since the last fsync
	recorded uint64
	settled  uint64        // recorded transitions written (or dropped)
	progress chan struct{} // closed and replaced when settled grows
	dropped  uint64

	wake    chan struct{} // a transition was recorded
	closing chan struct{} // Close was called
	done    chan struct{} // the goroutine has exited
	cancel  context.CancelFunc
	once    sync.Once
}

// StartWriter opens (or creates) the journal, counts what a previous run
// left in it, and starts the goroutine that writes to Postgres: it writes
// the journal's transitions first, then those recorded from now on.
func StartWriter(s *Store, cfg WriterConfig) (*Writer, error) {
	if cfg.Journal == "" {
		return nil, fmt.Errorf("postgres: writer: no journal path: %w", queue.ErrInvalid)
	}
	cfg.MemoryLimit = cmp0(cfg.MemoryLimit, 10000)
	cfg.BatchSize = cmp0(cfg.BatchSize, 1000)
	cfg.MinBackoff = cmp0(cfg.MinBackoff, 100*time.Millisecond)
	cfg.MaxBackoff = max(cmp0(cfg.MaxBackoff, 5*time.Second), cfg.MinBackoff)
	cfg.BatchTimeout = cmp0(cfg.BatchTimeout, 30*time.Second)
	w := &Writer{store: s, cfg: cfg, log: cfg.Logger,
		progress: make(chan struct{}), wake: make(chan struct{}, 1),
		closing: make(chan struct{}), done: make(chan struct{})}
	if w.log == nil {
		w.log = slog.Default()
	}
	if err := w.openJournal(); err != nil {
		return nil, err
	}
	if w.jcount > 0 {
		w.log.Info("history writer: replaying journal", "journal", cfg.Journal, "transitions", w.jcount)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.run(ctx)
	return w, nil
}

func cmp0[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// openJournal opens the journal, drops a last line cut short by a crash,
// and counts the transitions in it.
func (w *Writer) openJournal() error {
	path := w.cfg.Journal
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("postgres: writer: journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("postgres: writer: journal: %w", err)
	}
	var size int64
	lines := 0
	r := bufio.NewReaderSize(f, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			if len(line) > 0 {
				w.log.Warn("history writer: dropping a journal line cut short", "journal", path, "bytes", len(line))
				if err := f.Truncate(size); err != nil {
					f.Close()
					return fmt.Errorf("postgres: writer: journal: %w", err)
				}
			}
			break
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("postgres: writer: journal: %w", err)
		}
		size += int64(len(line))
		lines++
	}
	w.journal, w.jsize, w.jcount, w.recorded = f, size, lines, uint64(lines)
	return nil
}

// Record hands a transition to the writer. It never waits for the database:
// it appends to memory or, when memory is full or the database is failing,
// to the journal file. Strings are made valid UTF-8 without NUL bytes, which
// Postgres refuses. A transition without CallID or with a Seq out of 1..2³¹-1
// cannot be stored and is dropped with an error in the log.
func (w *Writer) Record(t queue.Transition) {
	t = clean(t)
	if t.CallID == "" || t.Seq < 1 || t.Seq > math.MaxInt32 {
		w.drop("invalid transition", []queue.Transition{t}, nil)
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.drop("writer closed", []queue.Transition{t}, nil)
		return
	}
	w.recorded++
	if w.down || len(w.mem) >= w.cfg.MemoryLimit {
		w.appendJournalLocked(append(w.mem, t))
		w.mem = nil
	} else {
		w.mem = append(w.mem, t)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// clean makes every string of t storable in Postgres text.
func clean(t queue.Transition) queue.Transition {
	c := func(s string) string {
		return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	}
	t.CallID, t.Show, t.Action, t.Actor.Name = c(t.CallID), c(t.Show), c(t.Action), c(t.Actor.Name)
	t.From, t.To, t.Actor.Kind, t.Outcome = queue.State(c(string(t.From))), queue.State(c(string(t.To))), queue.ActorKind(c(string(t.Actor.Kind))), queue.Outcome(c(string(t.Outcome)))
	t.Number, t.Name, t.Node, t.ChannelID, t.Reason = c(t.Number), c(t.Name), c(t.Node), c(t.ChannelID), c(t.Reason)
	if t.Notes != nil {
		n := *t.Notes
		n.Name, n.Location, n.Topic = c(n.Name), c(n.Location), c(n.Topic)
		t.Notes = &n
	}
	return t
}

// drop logs transitions that will never be written, in full so a person
// can recover them from the log, and counts them.
func (w *Writer) drop(why string, ts []queue.Transition, err error) {
	w.mu.Lock()
	w.dropLocked(why, ts, err)
	w.mu.Unlock()
}

func (w *Writer) dropLocked(why string, ts []queue.Transition, err error) {
	for _, t := range ts {
		line, _ := json.Marshal(t)
		w.log.Error("history writer: dropping transition", "why", why, "err", err, "transition", string(line))
	}
	w.dropped += uint64(len(ts))
	w.signal(eventDropped, len(ts))
}

// appendJournalLocked appends ts to the journal. If the disk refuses, the
// journal is cut back to its last whole line and ts are dropped (logged in
// full): there is nowhere left to keep them without an unbounded queue.
func (w *Writer) appendJournalLocked(ts []queue.Transition) {
	if len(ts) == 0 {
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i := range ts {
		if err := enc.Encode(&ts[i]); err != nil { // cannot fail for these types
			panic(err)
		}
	}
	if _, err := w.journal.Write(buf.Bytes()); err != nil {
		_ = w.journal.Truncate(w.jsize)
		w.settled += uint64(len(ts))
		w.dropLocked("journal write failed", ts, err)
		return
	}
	w.jsize += int64(buf.Len())
	w.jcount += len(ts)
	w.dirty = true
}

// Backlog returns how many transitions wait for Postgres, for metrics.
func (w *Writer) Backlog() Backlog {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Backlog{Memory: len(w.mem) + w.inflight + len(w.retry), Journal: w.jcount}
}

// Dropped returns how many transitions were given up on: invalid ones,
// ones Postgres refused as data errors, and ones the journal could not take.
func (w *Writer) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// Flush waits until every transition recorded before the call (and the
// journal's, from a previous run) is in Postgres or dropped. It returns the
// context's error if that comes first, and an error if the writer stopped.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	target := w.recorded
	for w.settled < target {
		ch := w.progress
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("postgres: writer flush: %w", ctx.Err())
		case <-w.done:
			return errors.New("postgres: writer flush: writer closed with transitions left in the journal")
		}
		w.mu.Lock()
	}
	w.mu.Unlock()
	return nil
}

// Close stops the writer. It keeps writing until everything is in Postgres
// or ctx ends; then what is left goes to the journal, for the next
// StartWriter to replay. It returns an error saying so when the journal is
// not empty. Record after Close drops (and logs) the transition.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() { close(w.closing) })
	select {
	case <-w.done:
	case <-ctx.Done():
		w.cancel() // abandons the batch in flight, which goes to the journal
		<-w.done
	}
	w.cancel()
	if b := w.Backlog(); b.Journal > 0 || b.Memory > 0 {
		return fmt.Errorf("postgres: writer close: %d transitions left in journal %s", b.Journal+b.Memory, w.cfg.Journal)
	}
	return nil
}

func (w *Writer) signal(event string, n int) {
	w.cfg.batches.Signal(batchFate{event, n})
}

// batch is what the writer goroutine takes to write.
type batch struct {
	ts       []queue.Transition
	journal  bool  // taken from the journal (else from memory)
	bytes    int64 // journal bytes it covers
	lines    int   // journal lines it covers (some may have been unreadable)
	retrying bool  // w.retry
}

func (w *Writer) run(ctx context.Context) {
	defer close(w.done)
	defer w.shutdown()
	backoff := w.cfg.MinBackoff
	for {
		w.sync()
		b, err := w.take()
		if err != nil {
			// The journal cannot be read: nothing after it can be
			// written in order. Stop and leave it for a person.
			w.log.Error("history writer: cannot read the journal; stopping", "journal", w.cfg.Journal, "err", err)
			return
		}
		if b.lines == 0 && len(b.ts) == 0 {
			select {
			case <-w.wake:
				continue
			case <-w.closing:
				return // everything is written
			case <-ctx.Done():
				return
			}
		}
		err = w.write(ctx, b.ts)
		if err == nil {
			w.committed(b)
			backoff = w.cfg.MinBackoff
			continue
		}
		w.failed(b, err)
		if ctx.Err() != nil {
			return
		}
		// Wait before retrying; sync the journal meanwhile as Record
		// spills to it.
		timer := time.NewTimer(backoff)
	wait:
		for {
			select {
			case <-timer.C:
				break wait
			case <-w.wake:
				w.sync()
			case <-ctx.Done():
				timer.Stop()
				return
			}
		}
		backoff = min(2*backoff, w.cfg.MaxBackoff)
	}
}

// take returns the next batch: a retried batch first, then the journal's
// oldest lines, then memory's oldest.
func (w *Writer) take() (batch, error) {
	w.mu.Lock()
	if w.retry != nil {
		b := batch{ts: w.retry, retrying: true}
		w.mu.Unlock()
		return b, nil
	}
	if w.jcount > 0 {
		start, end := w.jread, w.jsize
		f := w.journal
		w.mu.Unlock()
		// Reading outside the lock is safe: Record only appends past
		// end, and only this goroutine truncates or replaces the file.
		return w.readJournal(f, start, end)
	}
	n := min(len(w.mem), w.cfg.BatchSize)
	b := batch{ts: slices.Clone(w.mem[:n])}
	w.mem = w.mem[n:]
	if len(w.mem) == 0 {
		w.mem = nil
	}
	w.inflight = n
	w.mu.Unlock()
	return b, nil
}

// readJournal decodes up to BatchSize lines from f[start:end].
func (w *Writer) readJournal(f *os.File, start, end int64) (batch, error) {
	b := batch{journal: true}
	r := bufio.NewReaderSize(io.NewSectionReader(f, start, end-start), 1<<16)
	for b.lines < w.cfg.BatchSize {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			return batch{}, err
		}
		b.bytes += int64(len(line))
		b.lines++
		var t queue.Transition
		if err := json.Unmarshal(line, &t); err != nil {
			w.log.Error("history writer: dropping an unreadable journal line", "err", err, "line", string(line))
			w.mu.Lock()
			w.dropped++
			w.mu.Unlock()
			continue
		}
		b.ts = append(b.ts, t)
	}
	return b, nil
}

// write writes ts in one transaction. If Postgres refuses the batch as bad
// data, it writes the transitions one by one and drops those it refuses, so
// one bad transition cannot hold up all the others.
func (w *Writer) write(ctx context.Context, ts []queue.Transition) error {
	if len(ts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.BatchTimeout)
	defer cancel()
	_, err := w.store.apply(ctx, ts)
	if !badData(err) {
		return err
	}
	for i := range ts {
		_, err := w.store.apply(ctx, ts[i:i+1])
		if badData(err) {
			w.drop("refused by postgres", ts[i:i+1], err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// badData reports whether err is Postgres refusing the data itself (class
// 22, data exception; 23, integrity), which no retry can cure. Anything else
// (connection lost, shutdown, timeout, deadlock) is worth retrying.
func badData(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

func (w *Writer) committed(b batch) {
	w.mu.Lock()
	switch {
	case b.retrying:
		w.retry = nil
		w.settled += uint64(len(b.ts))
	case b.journal:
		w.jread += b.bytes
		w.jcount -= b.lines
		w.settled += uint64(b.lines)
		if w.jcount == 0 {
			// Drained: start the file again. A crash before this
			// line replays what is already written, harmlessly.
			if err := w.journal.Truncate(0); err != nil {
				w.log.Error("history writer: cannot truncate the journal", "err", err)
			} else {
				w.jread, w.jsize = 0, 0
			}
		}
	default:
		w.inflight = 0
		w.settled += uint64(len(b.ts))
	}
	w.down = false
	close(w.progress)
	w.progress = make(chan struct{})
	w.mu.Unlock()
	w.signal(eventCommitted, len(b.ts))
}

// failed keeps a failed batch and everything in memory on disk, in order,
// and makes Record spill from now on until a batch succeeds.
func (w *Writer) failed(b batch, err error) {
	w.log.Warn("history writer: write failed; will retry", "transitions", len(b.ts), "err", err)
	w.mu.Lock()
	w.down = true
	switch {
	case b.journal:
		// b is still in the journal; memory is newer.
		w.appendJournalLocked(w.mem)
		w.mem = nil
	case b.retrying:
		// The journal could not take it before; it stays first, and
		// memory (newer than the journal) follows the journal.
		w.appendJournalLocked(w.mem)
		w.mem = nil
	default:
		w.inflight = 0
		w.prependLocked(b.ts)
	}
	w.mu.Unlock()
	w.signal(eventFailed, len(b.ts))
}

// prependLocked puts head (the oldest transitions, taken from memory) and
// then memory into the journal, keeping the order head, journal, memory.
// The journal is usually empty here (it is drained before memory is
// taken), so this is an append; when Record spilled meanwhile, the file is
// rewritten with head first. If that fails, head waits in w.retry.
func (w *Writer) prependLocked(head []queue.Transition) {
	if w.jcount == 0 {
		w.appendJournalLocked(append(head, w.mem...))
		w.mem = nil
		return
	}
	if err := w.rewriteLocked(head); err != nil {
		w.log.Error("history writer: cannot rewrite the journal; keeping a batch in memory", "err", err)
		w.retry = head
		return
	}
}

// rewriteLocked replaces the journal with head, the journal's unwritten
// lines, then memory, through a new file renamed over the old one.
func (w *Writer) rewriteLocked(head []queue.Transition) error {
	tmpPath := w.cfg.Journal + ".new"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(tmp)
	enc := json.NewEncoder(bw)
	for i := range head {
		_ = enc.Encode(&head[i]) // errors surface at Flush
	}
	if _, err := io.Copy(bw, io.NewSectionReader(w.journal, w.jread, w.jsize-w.jread)); err != nil {
		tmp.Close()
		return err
	}
	for i := range w.mem {
		_ = enc.Encode(&w.mem[i])
	}
	err = bw.Flush()
	if err == nil {
		err = tmp.Sync()
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = tmp.Stat(); err == nil {
			size = fi.Size()
			err = os.Rename(tmpPath, w.cfg.Journal)
		}
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmpPath)
		return err
	}
	syncDir(filepath.Dir(w.cfg.Journal))
	w.journal.Close()
	w.journal = tmp
	w.jcount += len(head) + len(w.mem)
	w.jread, w.jsize = 0, size
	w.mem = nil
	w.dirty = false
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// sync fsyncs the journal if it has new lines.
func (w *Writer) sync() {
	w.mu.Lock()
	dirty, f := w.dirty, w.journal
	w.dirty = false
	w.mu.Unlock()
	if dirty {
		if err := f.Sync(); err != nil {
			w.log.Error("history writer: journal fsync failed", "err", err)
		}
	}
}

// shutdown runs as the goroutine exits: what is left in memory goes to the
// journal, which is synced and closed.
func (w *Writer) shutdown() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.retry != nil {
		w.prependRetryLocked()
	}
	w.appendJournalLocked(w.mem)
	w.mem = nil
	if err := w.journal.Sync(); err != nil {
		w.log.Error("history writer: journal fsync failed", "err", err)
	}
	w.journal.Close()
	close(w.progress) // wake Flush callers; they see w.done
	w.progress = make(chan struct{})
}

// prependRetryLocked makes a last attempt to put w.retry on disk.
func (w *Writer) prependRetryLocked() {
	head := w.retry
	if err := w.rewriteLocked(head); err != nil {
		w.settled += uint64(len(head))
		w.dropLocked("journal rewrite failed", head, err)
		return
	}
	w.retry = nil
}
