package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/blocklist"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
)

// showState keeps each show's run-time settings (lines, capacity, on-air
// limit, announcements) in the database as producers change them, so that
// a standby instance taking a node over carries on with the shows as they
// were (postgres.ShowState). A service that starts with nobody else running
// starts from its --show flags, as before.
type showState struct {
	store     *postgres.Store
	app       *broadcast.App
	blocklist blocklist.List
	log       *slog.Logger

	mu     sync.Mutex
	saving map[string]bool // shows whose saver runs
	dirty  map[string]bool // shows changed since their saver last read them
}

func newShowState(store *postgres.Store, app *broadcast.App, blocks blocklist.List, log *slog.Logger) *showState {
	return &showState{store: store, app: app, blocklist: blocks, log: log, saving: map[string]bool{}, dirty: map[string]bool{}}
}

// changed saves a show's settings as they are now, in the background: a
// slow or absent database never holds up the producer, and of quick
// changes the last one is what is kept.
func (k *showState) changed(show string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dirty[show] = true
	if k.saving[show] {
		return
	}
	k.saving[show] = true
	go k.save(show)
}

func (k *showState) save(show string) {
	for {
		k.mu.Lock()
		if !k.dirty[show] {
			delete(k.saving, show)
			k.mu.Unlock()
			return
		}
		delete(k.dirty, show)
		k.mu.Unlock()
		snap, err := k.app.Snapshot(show)
		if err != nil {
			continue
		}
		st := snap.Settings
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = k.store.SaveShowState(ctx, show, postgres.ShowState{LinesOpen: st.LinesOpen, Capacity: st.Capacity,
			MaxOnAir: st.MaxOnAir, AnnounceEvery: st.AnnounceEvery})
		cancel()
		if err != nil {
			k.log.Warn("the show's settings were not saved: a standby taking over would start from the --show flags", "show", show, "err", err)
		}
	}
}

// takeOver applies the saved settings of shows (those of a node this
// instance has just taken over from another), and the blocks made while
// another instance drove them.
func (k *showState) takeOver(ctx context.Context, shows []string) {
	if _, err := k.blocklist.Reload(ctx, k.app); err != nil {
		k.log.Warn("taking shows over with the blocklist as this instance last read it", "err", err)
	}
	for _, show := range shows {
		st, err := k.store.LoadShowState(ctx, show)
		if errors.Is(err, queue.ErrNotFound) {
			continue // never changed while it ran: the flags are right
		}
		if err != nil {
			k.log.Warn("taking a show over without its last settings", "show", show, "err", err)
			continue
		}
		err = errors.Join(k.app.SetLinesOpen(show, st.LinesOpen), k.app.SetCapacity(show, st.Capacity),
			k.app.SetMaxOnAir(show, st.MaxOnAir), k.app.SetAnnounceEvery(show, st.AnnounceEvery))
		if err != nil {
			k.log.Warn("taking a show over: some of its last settings were refused", "show", show, "err", err)
		}
		k.log.Info("took the show over with its last settings", "show", show, "lines_open", st.LinesOpen, "saved", st.UpdatedAt)
	}
}

// savingControls are the show controls the console and the API use: each
// settings change is also saved (showState).
type savingControls struct {
	web.Controls
	state *showState
}

func (c savingControls) SetLinesOpen(show string, open bool) error {
	return c.saved(show, c.Controls.SetLinesOpen(show, open))
}

func (c savingControls) SetAnnounceEvery(show string, every time.Duration) error {
	return c.saved(show, c.Controls.SetAnnounceEvery(show, every))
}

func (c savingControls) SetCapacity(show string, n int) error {
	return c.saved(show, c.Controls.SetCapacity(show, n))
}

func (c savingControls) SetMaxOnAir(show string, n int) error {
	return c.saved(show, c.Controls.SetMaxOnAir(show, n))
}

func (c savingControls) saved(show string, err error) error {
	if err == nil {
		c.state.changed(show)
	}
	return err
}
