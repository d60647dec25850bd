// Package recordings keeps the on-air recordings broadcast makes: it saves
// each in the history store as it ends, lists them and serves their files
// from their show's Asterisk node (for the console and the API), and
// deletes them from Asterisk once they are older than the retention period.
package recordings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
)

// Store is what the Keeper needs of the history store; *postgres.Store
// has it.
type Store interface {
	AddRecording(ctx context.Context, r queue.Recording) error
	ShowRecordings(ctx context.Context, show, callID string, limit int) ([]queue.Recording, error)
	Recording(ctx context.Context, show, name string) (queue.Recording, error)
	ExpiredRecordings(ctx context.Context, before time.Time, limit int) ([]queue.Recording, error)
	RecordingDeleted(ctx context.Context, name string, at time.Time) error
}

// Files is a node's stored recordings; *ari.Client has them.
type Files interface {
	StoredRecordingFile(ctx context.Context, name string) (io.ReadCloser, string, error)
	DeleteStoredRecording(ctx context.Context, name string) error
}

// Keeper keeps the on-air recordings broadcast reports in the store
// (broadcast.Recordings), lists them and serves their files from their
// show's Asterisk node (web.Recordings), and deletes each from Asterisk
// once it is older than keep (0: never).
type Keeper struct {
	store Store
	nodes map[string]Files // by show key
	keep  time.Duration
	now   func() time.Time
	log   *slog.Logger
	in    chan queue.Recording
	// every is how often retention runs and unsaved recordings are
	// retried (tests shorten it).
	every time.Duration
	// saved is told of each recording saved (a test signal).
	saved testsignal.Signal[string]
}

var _ broadcast.Recordings = (*Keeper)(nil)

// keeperBacklog bounds the recordings waiting to be saved.
const keeperBacklog = 1000

// New makes a Keeper of the recordings of the shows in nodes (show key ->
// its node's files), deleting them keep after they end (0: never). Run
// saves and deletes.
func New(store Store, nodes map[string]Files, keep time.Duration, log *slog.Logger) *Keeper {
	every := time.Hour
	if keep > 0 {
		every = min(every, max(keep/4, time.Minute))
	}
	return &Keeper{store: store, nodes: nodes, keep: keep, now: time.Now, log: log,
		in: make(chan queue.Recording, 256), every: every}
}

// Recorded takes a finished recording from broadcast; it never blocks: a
// recording beyond the buffer is logged and not kept.
func (k *Keeper) Recorded(show string, r broadcast.RecordingState) {
	rec := queue.Recording{Name: r.Name, Show: show, Format: r.Format, Started: r.Started, Ended: r.Ended,
		Duration: r.Duration, Calls: r.Calls}
	if rec.Ended.IsZero() {
		rec.Ended = k.now()
	}
	select {
	case k.in <- rec:
	default:
		k.log.Error("recordings: too many waiting to be saved; this one is not listed", "show", show, "recording", r.Name)
	}
}

// Run saves recordings as they come, retries those the store refused,
// and applies retention, until ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	tick := time.NewTicker(k.every)
	defer tick.Stop()
	var pending []queue.Recording
	save := func(r queue.Recording) {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := k.store.AddRecording(sctx, r); err != nil {
			k.log.Warn("recordings: not saved yet; will retry", "show", r.Show, "recording", r.Name, "err", err)
			if len(pending) < keeperBacklog {
				pending = append(pending, r)
			}
			return
		}
		k.saved.Signal(r.Name)
	}
	k.expire(ctx)
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-k.in:
			save(r)
		case <-tick.C:
			retry := pending
			pending = nil
			for _, r := range retry {
				save(r)
			}
			k.expire(ctx)
		}
	}
}

// expire deletes from Asterisk the recordings older than keep and notes
// it in the store; a file Asterisk no longer has counts as deleted.
func (k *Keeper) expire(ctx context.Context) {
	if k.keep <= 0 {
		return
	}
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	old, err := k.store.ExpiredRecordings(ectx, k.now().Add(-k.keep), 100)
	if err != nil {
		k.log.Warn("recordings: retention could not read the store", "err", err)
		return
	}
	for _, r := range old {
		node := k.nodes[r.Show]
		if node == nil {
			continue // the show lives on a node this instance does not run
		}
		if err := node.DeleteStoredRecording(ectx, r.Name); err != nil && !errors.Is(err, ari.ErrNotFound) {
			k.log.Warn("recordings: retention could not delete", "show", r.Show, "recording", r.Name, "err", err)
			continue
		}
		if err := k.store.RecordingDeleted(ectx, r.Name, k.now()); err != nil {
			k.log.Warn("recordings: deleted but not noted", "recording", r.Name, "err", err)
			continue
		}
		k.log.Info("recordings: deleted after the retention period", "show", r.Show, "recording", r.Name, "ended", r.Ended)
	}
}

// ShowRecordings lists a show's recordings (web.Recordings).
func (k *Keeper) ShowRecordings(ctx context.Context, show, callID string, limit int) ([]queue.Recording, error) {
	return k.store.ShowRecordings(ctx, show, callID, limit)
}

// RecordingFile opens a show's recording's file on its node
// (web.Recordings): queue.ErrNotFound for a recording the show does not
// have or that retention deleted, broadcast.ErrTelephony when Asterisk
// fails.
func (k *Keeper) RecordingFile(ctx context.Context, show, name string) (io.ReadCloser, string, error) {
	r, err := k.store.Recording(ctx, show, name)
	if err != nil {
		return nil, "", err
	}
	node := k.nodes[show]
	if !r.Deleted.IsZero() || node == nil {
		return nil, "", fmt.Errorf("recordings: %q: deleted %v: %w", name, r.Deleted, queue.ErrNotFound)
	}
	body, ctype, err := node.StoredRecordingFile(ctx, name)
	switch {
	case errors.Is(err, ari.ErrNotFound):
		return nil, "", fmt.Errorf("recordings: %q: Asterisk has no file: %w", name, queue.ErrNotFound)
	case err != nil:
		return nil, "", fmt.Errorf("recordings: %q: %w: %w", name, broadcast.ErrTelephony, err)
	}
	return body, ctype, nil
}
