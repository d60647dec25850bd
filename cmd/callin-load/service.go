package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// service is callin as `callin serve` wires it (runStack in cmd/callin),
// running in this process on a loopback port with one show on one fake
// node. A command cannot import another command's package, so the wiring
// is repeated here from the same packages; what serve adds around it
// (Prometheus metrics, the blocklist, recall of open calls after a
// restart, health checks) is left out, and the load reads its counters
// from the parts directly.
type service struct {
	base     string // http://127.0.0.1:port
	app      *broadcast.App
	writer   *postgres.Writer
	recorded atomic.Int64 // transitions handed to the history writer

	stop func() error // shuts the service down once; later calls return the same
}

// startService migrates the database, stores the show, and starts the
// history writer, the Stasis application on pbx, the console and the API.
func startService(ctx context.Context, dbURL, journal string, show queue.Config, pbx *aritest.Server, log *slog.Logger) (_ *service, err error) {
	store, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for _, f := range slices.Backward(cleanup) {
				f()
			}
		}
	}()
	cleanup = append(cleanup, store.Close)
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		return nil, err
	}
	if _, err := store.UpsertShow(ctx, postgres.Show{Key: show.Key, Title: show.Title, Node: show.Node, LinesOpen: show.LinesOpen}); err != nil {
		return nil, err
	}
	writer, err := postgres.StartWriter(store, postgres.WriterConfig{Journal: journal, Logger: log})
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { _ = writer.Close(context.Background()) })
	client, err := ari.NewClient(ari.Config{URL: pbx.URL(), Username: pbx.User(), Password: pbx.Password(), App: "callin", Logger: log})
	if err != nil {
		return nil, err
	}
	s := &service{writer: writer}
	s.app, err = broadcast.New(broadcast.Config{
		App:    "callin",
		Nodes:  []broadcast.NodeConfig{{Name: show.Node, ARI: client}},
		Shows:  []broadcast.ShowConfig{{Config: show}},
		Sink:   countingSink{&s.recorded, writer},
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	authSvc, err := auth.New(auth.Config{Store: store, Logger: log})
	if err != nil {
		return nil, err
	}
	console := web.New(web.Config{
		Shows: s.app, Feed: web.BroadcastFeed(s.app), Callers: s.app, Controls: s.app,
		History: store, Chat: store, Auth: authSvc, Logger: log,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.base = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: console.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	s.stop = s.run(ctx, srv, ln, console, store)
	return s, nil
}

// run serves until stop is called, then shuts down in serve's order: the
// application and its event streams, the listener, the history writer
// (which flushes), the store.
func (s *service) run(ctx context.Context, srv *http.Server, ln net.Listener, console *web.Server, store *postgres.Store) func() error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { return s.app.Run(gctx) })
	g.Go(func() error { return console.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		_ = srv.Shutdown(sctx)
		return nil
	})
	return sync.OnceValue(func() error {
		cancel()
		err := g.Wait()
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		fctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer stop()
		if werr := s.writer.Close(fctx); werr != nil {
			err = errors.Join(err, fmt.Errorf("history not all written: %w", werr))
		}
		store.Close()
		return err
	})
}

// backlog is the transitions not yet in PostgreSQL.
func (s *service) backlog() int {
	b := s.writer.Backlog()
	return b.Memory + b.Journal
}

// callers returns how many callers wait and how many are on air.
func (s *service) callers(show string) (waiting, onAir int) {
	snap, err := s.app.Snapshot(show)
	if err != nil {
		return 0, 0
	}
	return snap.Stats.Waiting, snap.Stats.OnAir
}

// countingSink counts transitions on their way to the history writer, as
// serve's metrics do.
type countingSink struct {
	n    *atomic.Int64
	next broadcast.Sink
}

func (c countingSink) Record(t queue.Transition) {
	c.n.Add(1)
	c.next.Record(t)
}
