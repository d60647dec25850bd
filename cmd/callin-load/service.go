package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	node     *countedNode // the node's ARI client, keeping its event connection

	stop func() error // shuts the service down once; later calls return the same
}

// startService migrates the database, stores the show, and starts the
// history writer, the Stasis application on pbx, the console and the API.
func startService(ctx context.Context, dbURL, journal string, show broadcast.ShowConfig, pbx *aritest.Server, log *slog.Logger) (_ *service, err error) {
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
	s := &service{writer: writer, node: &countedNode{}}
	// ari's default REST client, counting what it reads.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	rest := &http.Client{Timeout: ari.DefaultRequestTimeout, Transport: countingTransport{next: tr, n: &s.node.rest}}
	s.node.Client, err = ari.NewClient(ari.Config{URL: pbx.URL(), Username: pbx.User(), Password: pbx.Password(), App: "callin",
		HTTPClient: rest, Logger: log})
	if err != nil {
		return nil, err
	}
	s.app, err = broadcast.New(broadcast.Config{
		App:    "callin",
		Nodes:  []broadcast.NodeConfig{{Name: show.Node, ARI: s.node}},
		Shows:  []broadcast.ShowConfig{show},
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

// callers returns how many callers wait and how many are on air, and how
// many holding bridges hold the line.
func (s *service) callers(show string) (waiting, onAir, bridges int) {
	snap, err := s.app.Snapshot(show)
	if err != nil {
		return 0, 0, 0
	}
	return snap.Stats.Waiting, snap.Stats.OnAir, snap.Media.HoldBridges
}

// ariStats is what the node's event connection has received so far (zero
// before the App connected), and what its REST calls have read.
func (s *service) ariStats() ariStats {
	st := ariStats{REST: s.node.rest.load()}
	if cn := s.node.conn.Load(); cn != nil {
		st.Events = cn.Stats()
	}
	return st
}

// ariStats is what the service read from its node: events on the
// WebSocket, and REST responses.
type ariStats struct {
	Events ari.ConnStats
	REST   restStats
}

// since is what was read between then and s.
func (s ariStats) since(then ariStats) ariStats {
	e, t := s.Events, then.Events
	return ariStats{
		Events: ari.ConnStats{Messages: e.Messages - t.Messages, Bytes: e.Bytes - t.Bytes, Events: e.Events - t.Events},
		REST:   restStats{Responses: s.REST.Responses - then.REST.Responses, Bytes: s.REST.Bytes - then.REST.Bytes},
	}
}

// restStats counts REST responses and their body bytes.
type restStats struct{ Responses, Bytes uint64 }

type restCounter struct{ responses, bytes atomic.Uint64 }

func (c *restCounter) load() restStats {
	return restStats{Responses: c.responses.Load(), Bytes: c.bytes.Load()}
}

// countingTransport counts the responses it returns and the body bytes
// read from them.
type countingTransport struct {
	next http.RoundTripper
	n    *restCounter
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		t.n.responses.Add(1)
		resp.Body = countingBody{ReadCloser: resp.Body, n: &t.n.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Uint64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(uint64(n))
	return n, err
}

// countedNode is the node's ARI client as the App sees it, keeping the
// event connection the App opens so that the load can read its Stats: the
// App does not expose its connections, and the Telephony interface is the
// seam between them.
type countedNode struct {
	*ari.Client
	conn atomic.Pointer[ari.Conn]
	rest restCounter // the Client's REST responses
}

// Stream opens the node's event connection and keeps it.
func (n *countedNode) Stream(ctx context.Context, opts ari.EventOptions) ari.EventStream {
	cn := n.Client.Connect(ctx, opts)
	n.conn.Store(cn)
	return cn
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
