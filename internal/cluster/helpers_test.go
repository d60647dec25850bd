package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// addShow puts a show in the shows table (saved settings need one).
func addShow(t *testing.T, store *postgres.Store, key, node string) {
	t.Helper()
	if _, err := store.UpsertShow(context.Background(), postgres.Show{Key: key, Title: key, Node: node, LinesOpen: true}); err != nil {
		t.Fatal(err)
	}
}

// fakeShows is the running shows (Shows): their settings, and the numbers
// flagged blocked or not, each also sent on flagged when it is set.
type fakeShows struct {
	mu       sync.Mutex
	settings map[string]broadcast.Settings
	blocked  map[string]bool
	flagged  chan string
	// studios lists the studios named (show=node); studioErr are the
	// errors the next SetStudio calls return.
	studios   []string
	studioErr []error
	nodes     []string // the nodes given (show=node@url)
}

func newFakeShows(shows ...string) *fakeShows {
	f := &fakeShows{settings: map[string]broadcast.Settings{}, blocked: map[string]bool{}}
	for _, s := range shows {
		f.settings[s] = broadcast.Settings{Title: s, LinesOpen: true, Capacity: 100, MaxOnAir: 4}
	}
	return f
}

func (f *fakeShows) Snapshot(show string) (broadcast.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.settings[show]
	if !ok {
		return broadcast.Snapshot{}, fmt.Errorf("show %q: %w", show, queue.ErrNotFound)
	}
	return broadcast.Snapshot{Show: show, Settings: st}, nil
}

// SetStudio records the studio named, or fails with studioErr (taken
// from the front of the list, one per call) while it has any.
func (f *fakeShows) SetStudio(_ context.Context, show, node string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.studioErr) > 0 {
		err := f.studioErr[0]
		f.studioErr = f.studioErr[1:]
		return err
	}
	f.studios = append(f.studios, show+"="+node)
	return nil
}

// set changes a show's settings with f and returns them.
func (f *fakeShows) set(show string, change func(*broadcast.Settings)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.settings[show]
	if !ok {
		return fmt.Errorf("show %q: %w", show, queue.ErrNotFound)
	}
	change(&st)
	f.settings[show] = st
	return nil
}

func (f *fakeShows) get(show string) broadcast.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings[show]
}

func (f *fakeShows) SetLinesOpen(show string, open bool) error {
	return f.set(show, func(s *broadcast.Settings) { s.LinesOpen = open })
}

func (f *fakeShows) SetCapacity(show string, n int) error {
	return f.set(show, func(s *broadcast.Settings) { s.Capacity = n })
}

func (f *fakeShows) SetMaxOnAir(show string, n int) error {
	return f.set(show, func(s *broadcast.Settings) { s.MaxOnAir = n })
}

func (f *fakeShows) SetAnnounceEvery(show string, every time.Duration) error {
	return f.set(show, func(s *broadcast.Settings) { s.AnnounceEvery = every })
}

func (f *fakeShows) SetBlocked(number string, blocked bool, _ string, _ queue.Actor) int {
	f.mu.Lock()
	f.blocked[number] = blocked
	f.mu.Unlock()
	if f.flagged != nil {
		f.flagged <- number
	}
	return 1
}

func (f *fakeShows) isBlocked(number string) (blocked, known bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	blocked, known = f.blocked[number]
	return blocked, known
}

// AddShowNode records the node given (show=node@url).
func (f *fakeShows) AddShowNode(_ context.Context, show, node, url string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes = append(f.nodes, show+"="+node+"@"+url)
	return nil
}
