package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/blocklist"
	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
)

// Shows is what ShowState reads and sets of the running shows;
// *broadcast.App has it.
type Shows interface {
	Snapshot(show string) (broadcast.Snapshot, error)
	SetLinesOpen(show string, open bool) error
	SetCapacity(show string, n int) error
	SetMaxOnAir(show string, n int) error
	SetAnnounceEvery(show string, every time.Duration) error
	SetStudio(ctx context.Context, show, node string) error
	AddShowNode(ctx context.Context, show, node, url string) error
	blocklist.Flagger
}

// StateStore keeps the shows' run-time settings; *postgres.Store does.
type StateStore interface {
	SaveShowState(ctx context.Context, show string, st postgres.ShowState) error
	LoadShowState(ctx context.Context, show string) (postgres.ShowState, error)
	SaveShowNode(ctx context.Context, show, node, url string) error
	ShowNodes(ctx context.Context, show string) ([]postgres.ShowNode, error)
}

// ShowState keeps each show's run-time settings (lines, capacity, on-air
// limit, announcements) in the database as producers change them, so that
// a standby instance taking a node over carries on with the shows as they
// were (postgres.ShowState). A service that starts with nobody else running
// starts from its --show flags, as before.
type ShowState struct {
	store     StateStore
	app       Shows
	blocklist blocklist.List
	log       *slog.Logger

	mu     sync.Mutex
	saving map[string]bool   // shows whose saver runs
	dirty  map[string]bool   // shows changed since their saver last read them
	studio map[string]string // the studio named while each show ran (SetStudio, or restored), saved with its settings

	// retry is how long RestoreStudios waits before naming a studio
	// again while its node is not driven (ErrNodeDown).
	retry time.Duration

	// saved is told of each show's settings once saved (a test signal).
	saved testsignal.Signal[savedState]
}

// savedState is a show's settings as saved (ShowState.saved).
type savedState struct {
	show  string
	state postgres.ShowState
}

// NewShowState saves and restores the settings of app's shows in store;
// a takeover also reloads blocks (blocks made while another instance
// drove the shows).
func NewShowState(store StateStore, app Shows, blocks blocklist.List, log *slog.Logger) *ShowState {
	return &ShowState{store: store, app: app, blocklist: blocks, log: log, saving: map[string]bool{}, dirty: map[string]bool{},
		studio: map[string]string{}, retry: 2 * time.Second}
}

// Changed saves a show's settings as they are now, in the background: a
// slow or absent database never holds up the producer, and of quick
// changes the last one is what is kept.
func (k *ShowState) Changed(show string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dirty[show] = true
	if k.saving[show] {
		return
	}
	k.saving[show] = true
	go k.save(show)
}

func (k *ShowState) save(show string) {
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
		saved := postgres.ShowState{LinesOpen: st.LinesOpen, Capacity: st.Capacity, MaxOnAir: st.MaxOnAir, AnnounceEvery: st.AnnounceEvery,
			Studio: k.namedStudio(show)}
		err = k.store.SaveShowState(ctx, show, saved)
		cancel()
		if err != nil {
			k.log.Warn("the show's settings were not saved: a standby taking over would start from the --show flags", "show", show, "err", err)
			continue
		}
		k.saved.Signal(savedState{show, saved})
	}
}

// TakeOver applies the saved settings of shows (those of a node this
// instance has just taken over from another), and the blocks made while
// another instance drove them (for Claims.TakeOverWith).
func (k *ShowState) TakeOver(ctx context.Context, shows []string) {
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

// namedStudio is the studio named while show ran ("" for none).
func (k *ShowState) namedStudio(show string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.studio[show]
}

// RestoreStudios names again, at a start of callin, the studio each of
// shows was last given while it ran (broadcast.App.SetStudio through
// Controls, saved with its settings; issue 24); a show never given one
// keeps its --show flag's studio=. A studio whose node is not driven yet
// (ErrNodeDown: not connected, or this instance stands by) is named
// again every retry, reading the saved one afresh each time (a takeover
// gets the one the other instance saved last), until ctx ends; a studio
// refused otherwise (ErrConflict: callers readmitted on air on the
// present studio; ErrInvalid: no longer one of the show's nodes) is
// logged and left. Run it in its own goroutine.
func (k *ShowState) RestoreStudios(ctx context.Context, shows []string) {
	var wg sync.WaitGroup
	for _, show := range shows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.restoreStudio(ctx, show)
		}()
	}
	wg.Wait()
}

func (k *ShowState) restoreStudio(ctx context.Context, show string) {
	for {
		st, err := k.store.LoadShowState(ctx, show)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			return
		case err != nil:
			k.log.Warn("the show's last studio was not read: it keeps its --show studio=", "show", show, "err", err)
			return
		case st.Studio == "":
			return
		}
		k.mu.Lock()
		if k.studio[show] == "" { // one named since is newer
			k.studio[show] = st.Studio
		}
		k.mu.Unlock()
		err = k.app.SetStudio(ctx, show, st.Studio)
		if err == nil {
			k.log.Info("the show's last studio named again", "show", show, "studio", st.Studio)
			return
		}
		if !errors.Is(err, broadcast.ErrNodeDown) {
			k.log.Warn("the show's last studio was refused: it keeps the one it has", "show", show, "studio", st.Studio, "err", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(k.retry):
		}
	}
}

// Controls are the show controls the console and the API use
// (web.Controls): the App's, each settings change also saved (ShowState).
type Controls struct {
	*broadcast.App
	state *ShowState
}

// Controls is app's show controls, each settings change saved in k.
func (k *ShowState) Controls(app *broadcast.App) Controls { return Controls{App: app, state: k} }

// SetLinesOpen opens or closes the show's lines and saves it.
func (c Controls) SetLinesOpen(show string, open bool) error {
	return c.saved(show, c.App.SetLinesOpen(show, open))
}

// SetAnnounceEvery sets how often the show's waiting callers hear their
// place, and saves it.
func (c Controls) SetAnnounceEvery(show string, every time.Duration) error {
	return c.saved(show, c.App.SetAnnounceEvery(show, every))
}

// SetCapacity sets the show's capacity and saves it.
func (c Controls) SetCapacity(show string, n int) error {
	return c.saved(show, c.App.SetCapacity(show, n))
}

// SetMaxOnAir sets the show's on-air limit and saves it.
func (c Controls) SetMaxOnAir(show string, n int) error {
	return c.saved(show, c.App.SetMaxOnAir(show, n))
}

func (c Controls) saved(show string, err error) error {
	if err == nil {
		c.state.Changed(show)
	}
	return err
}

// SetStudio names the show's studio node (broadcast.App.SetStudio) and
// saves it, to be named again at a restart (ShowState.RestoreStudios).
func (c Controls) SetStudio(ctx context.Context, show, node string) error {
	err := c.App.SetStudio(ctx, show, node)
	if err == nil {
		c.state.mu.Lock()
		c.state.studio[show] = node
		c.state.mu.Unlock()
	}
	return c.saved(show, err)
}
