package web_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// phoneBook is a broadcast.Phones from a map.
type phoneBook map[string]string

func (p phoneBook) Phone(user string) (string, bool) { ep, ok := p[user]; return ep, ok }

// signalledFeed is the real application's feed that also tells webenv.New the
// hub has subscribed (it waits on the fake's subCh).
type signalledFeed struct {
	core.Feed
	fake *webtest.App
}

func (f signalledFeed) Subscribe(show string) (core.Subscription, error) {
	sub, err := f.Feed.Subscribe(show)
	if err == nil {
		f.fake.SubCh <- struct{}{}
	}
	return sub, err
}

// logBuf keeps the application's log for a failing test.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// pbxConsole runs the real application (broadcast) on the real Asterisk p,
// as app callin with the show morning (tune sets phones, rules and
// timeouts), waits until its node is up, and serves the console and the API
// over it (webenv.New). next reads the API's event stream until match says yes,
// failing after within.
func pbxConsole(t *testing.T, p *pbxtest.PBX, tune func(*broadcast.Config)) (e *webenv.Env, app *broadcast.App, next func(what string, within time.Duration, match func(webtest.Event) bool) webtest.Event) {
	t.Helper()
	logs := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("callin's log:\n%s\nAsterisk's log:\n%s", logs.b.String(), p.LogTail(40))
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "callin", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := broadcast.Config{
		Nodes:  []broadcast.NodeConfig{{Name: "n1", ARI: client}},
		Shows:  []broadcast.ShowConfig{{Config: queue.Config{Key: "morning", Title: "Morning", Node: "n1", MOHClass: "callin", LinesOpen: true}}},
		Logger: log,
	}
	tune(&cfg)
	app, err = broadcast.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	up, err := app.Subscribe("morning")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.After(20 * time.Second)
	for ok := false; !ok; {
		select {
		case u := <-up.C:
			ok = u.Kind == broadcast.UpdateNode && u.Node.OK()
		case <-deadline:
			t.Fatal("the node did not come up in 20 s")
		}
	}
	up.Close()

	e = webenv.New(t, func(c *core.Config) {
		c.Shows, c.Callers = app, app
		c.Feed = signalledFeed{Feed: core.BroadcastFeed(app), fake: c.Feed.(*webtest.App)}
	})
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	next = func(what string, within time.Duration, match func(webtest.Event) bool) webtest.Event {
		t.Helper()
		timeout := time.After(within)
		for {
			select {
			case ev, ok := <-s.Events():
				if !ok {
					t.Fatalf("waiting for %s: the event stream ended", what)
				}
				if match(ev) {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s within %v", what, within)
			}
		}
	}
	return e, app, next
}
