package rest

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/stream"
	"github.com/callin-radio/callin/web/webtest"
)

// TestSSESlowClientIsDisconnected: a client of the API's event stream
// whose buffer fills is kicked and unregistered. The stream alone, over a
// core of fakes: package rest_test cannot reach it through a whole Server.
func TestSSESlowClientIsDisconnected(t *testing.T) {
	app := webtest.NewApp("morning")
	c0 := core.New(core.Config{Shows: app, Feed: app, Callers: app, Controls: app, Auth: webtest.NewAuth(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ClientBuffer: 2, Ring: 2})
	a := New(c0)
	h := c0.Hubs["morning"]
	h.Follow(a.Side("morning"))
	go h.Run(t.Context())
	select {
	case <-app.SubCh:
	case <-time.After(5 * time.Second):
		t.Fatal("hub never subscribed")
	}
	ev := a.events["morning"]
	c := stream.NewClient("host", 2)
	ev.attach(c, -1)
	for i := range 3 {
		app.Arrive("c"+strconv.Itoa(i), "+1", "x")
	}
	select {
	case <-c.Gone():
	case <-time.After(5 * time.Second):
		t.Fatal("a client that reads nothing was not disconnected")
	}
	ev.mu.Lock()
	_, still := ev.clients[c]
	ev.mu.Unlock()
	if still {
		t.Fatal("kicked client still registered")
	}
}
