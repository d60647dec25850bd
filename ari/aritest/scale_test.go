package aritest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

func TestRestart(t *testing.T) {
	t.Parallel()
	for _, hold := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(fmt.Sprintf("hold=%v", hold), func(t *testing.T) {
			srv, c, ev := setup(t, aritest.Options{AnnouncerLeak: aritest.AnnouncerLeakNever})
			url := srv.URL()
			c.must(200, "POST", "bridges/g-hold", q("type", "holding"))
			answeredCaller(t, srv, c, ev, "g1")
			c.must(204, "POST", "bridges/g-hold/addChannel", q("channel", "g1"))
			ev.expect("ChannelEnteredBridge(g-hold)")
			answeredCaller(t, srv, c, ev, "g2")
			c.must(204, "POST", "bridges/g-hold/addChannel", q("channel", "g2"))
			ev.expect("ChannelEnteredBridge(g-hold)")
			c.must(200, "POST", "applications/callin/subscription", q("eventSource", "channel:g1"))
			c.must(200, "POST", "channels", q("endpoint", "Local/s@sim-caller", "app", "callin", "channelId", "o1"))
			ev.waitFor(wait, ofType(ari.TypeStasisStart))

			if hold > 0 {
				srv.Restart(aritest.HoldSockets(hold))
			} else {
				srv.Restart()
			}
			// Trace 17, phase by phase, newest channel first: only the
			// subscribed g1 and the originated o1 (and its far half) get
			// anything after StasisEnd. The originated Local pair as the
			// real Asterisk 22.10.1 ended it in TestDifferential/AsteriskRestart.
			got := ev.expect(
				"ChannelHangupRequest(4,soft)", "ChannelHangupRequest(4,soft)", "ChannelHangupRequest(4,soft)", "ChannelHangupRequest(4,soft)",
				"ChannelLeftBridge(g-hold)", "ChannelLeftBridge(g-hold)",
				"ChannelHangupRequest(16,soft)", "ChannelHangupRequest(0)", "ChannelDestroyed(0)",
				"ChannelHangupRequest(0)", "ChannelHangupRequest(0)",
				"StasisEnd", "ChannelVarset(STASISSTATUS)", "StasisEnd", "StasisEnd", "ChannelVarset(STASISSTATUS)",
				"ChannelDestroyed(16)",
				"ChannelHangupRequest(16,soft)", "ChannelDestroyed(16)",
			)
			want := []string{"o1", "o1;2", "g2", "g1", "g2", "g1", "o1;2", "o1", "o1;2", "g2", "g1", "o1", "o1", "g2", "g1", "g1", "o1", "g1", "g1"}
			for i, w := range want {
				if got[i].chanID() != w {
					t.Errorf("event %d %v is for %s, want %s", i, got[i], got[i].chanID(), w)
				}
			}
			err := ev.waitClosed(wait)
			if !isEOFClose(err) {
				t.Fatalf("socket ended with %v, want EOF without a close frame", err)
			}
			if srv.URL() != url {
				t.Fatal("URL changed")
			}
			c.must(404, "GET", "bridges/g-hold", nil)
			c.must(404, "GET", "applications/callin", nil)
			if b := c.must(200, "GET", "channels", nil); string(b) != "[]\n" {
				t.Fatalf("channels after restart: %s", b)
			}
			again := dialEvents(t, srv, "callin", false)
			var app ari.Application
			if err := json.Unmarshal(c.must(200, "GET", "applications/callin", nil), &app); err != nil || len(app.ChannelIDs)+len(app.BridgeIDs) != 0 {
				t.Fatalf("app after restart %+v, %v; want no subscriptions", app, err)
			}
			answeredCaller(t, srv, c, again, "after")
		})
	}
}

// TestRestartRefusesDials: trace 17's reconnect, a TCP reset, then 503
// "Asterisk not booted", then success.
func TestRestartRefusesDials(t *testing.T) {
	t.Parallel()
	srv, _, ev := setup(t, aritest.Options{})
	srv.Restart(aritest.RefuseDials(1, 1))
	if err := ev.waitClosed(wait); !isEOFClose(err) {
		t.Fatalf("socket ended with %v, want EOF", err)
	}
	dial := func() (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, srv.WebSocketURL("callin"), &websocket.DialOptions{HTTPHeader: basicAuth(srv.User(), srv.Password())})
		if err == nil {
			conn.CloseNow()
		}
		return resp, err
	}
	resp, err := dial()
	if err == nil || resp != nil || !strings.Contains(err.Error(), "reset") {
		t.Errorf("first dial: %v, %v; want a connection reset", resp, err)
	}
	resp, err = dial()
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second dial: %v, %v; want 503", resp, err)
	}
	if b, _ := io.ReadAll(resp.Body); message(b) != "Asterisk not booted" {
		t.Errorf("503 body %s", b)
	}
	if _, err := dial(); err != nil {
		t.Fatalf("third dial: %v", err)
	}
}

// TestSlowSocketDropped: a client that stops reading loses its socket (and
// the app registration) instead of blocking the REST handlers.
func TestSlowSocketDropped(t *testing.T) {
	t.Parallel()
	srv := newServer(t, aritest.Options{EventQueue: 8})
	c := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, srv.WebSocketURL("callin")+"&subscribeAll=true", &websocket.DialOptions{HTTPHeader: basicAuth(srv.User(), srv.Password())})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	// Never read; flood with events (BridgeCreated reaches a subscribeAll
	// socket) until the socket is dropped.
	for i := 0; srv.AppRegistered("callin"); i++ {
		if i > 1_000_000 {
			t.Fatal("socket never dropped")
		}
		c.must(200, "POST", "bridges", nil)
	}
	if err := srv.WaitApp(ctx, "callin", false); err != nil {
		t.Fatal(err)
	}
}

// TestTenThousandInHoldingBridge: 10,000 callers in one holding bridge, with
// O(1) membership changes. The socket is closed before admission so the
// test measures the model, not 10,000 events carrying the member list.
func TestTenThousandInHoldingBridge(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	t.Parallel()
	const n = 10_000
	srv, c, ev := setup(t, aritest.Options{})
	c.must(200, "POST", "bridges/hold", q("type", "holding"))
	for i := range n {
		if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: fmt.Sprintf("c%05d", i), Answered: true}); err != nil {
			t.Fatal(err)
		}
	}
	ev.close(srv, "callin") // channels stay in Stasis without a socket (traces 07, 11)
	ids := make([]string, 0, 500)
	for i := 0; i < n; i += 500 {
		ids = append(ids, fmt.Sprintf("c%05d", i))
	}
	// addChannel takes a comma-separated list; do most one by one.
	for i := range n {
		c.must(http.StatusNoContent, "POST", "bridges/hold/addChannel", q("channel", fmt.Sprintf("c%05d", i)))
	}
	c.must(204, "POST", "bridges/hold/moh", nil)
	if members, _ := srv.BridgeChannels("hold"); len(members) != n {
		t.Fatalf("%d members, want %d", len(members), n)
	}
	// Remove 20 from the middle: the rest keep hearing music.
	for _, id := range ids[:20] {
		c.must(204, "DELETE", "channels/"+id, nil)
	}
	var b ari.Bridge
	if err := json.Unmarshal(c.must(200, "GET", "bridges/hold", nil), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Channels) != n-20 {
		t.Fatalf("bridge has %d channels, want %d", len(b.Channels), n-20)
	}
	seen := map[string]bool{}
	for _, id := range b.Channels {
		if seen[id] {
			t.Fatalf("%s listed twice", id)
		}
		seen[id] = true
	}
	if seen["c00000"] || !seen["c00001"] {
		t.Fatal("wrong members after removal")
	}
	if st, _ := srv.Channel("c09999"); !st.HearsMusic || st.Bridge != "hold" {
		t.Fatalf("c09999 = %+v", st)
	}
}

// BenchmarkAdmitHolding admits 5,000 simulated callers into one holding
// bridge over raw HTTP (answer + addChannel each), 8 client workers, with an
// events WebSocket connected and read: every ChannelEnteredBridge carries the
// bridge's full channel list, as a real Asterisk's does.
func BenchmarkAdmitHolding(b *testing.B) {
	const n = 5000
	for b.Loop() {
		b.StopTimer()
		srv := aritest.NewServer(aritest.Options{})
		c := newClient(b, srv)
		c.http.Transport = &http.Transport{MaxIdleConnsPerHost: 16}
		ev := dialEvents(b, srv, "callin", false)
		c.must(200, "POST", "bridges/hold", q("type", "holding"))
		c.must(204, "POST", "bridges/hold/moh", nil)
		var drained sync.WaitGroup
		drained.Add(1)
		go func() { // count ChannelEnteredBridge as the client would see them
			defer drained.Done()
			for got := 0; got < n; {
				if e := <-ev.ch; e.Type == ari.TypeChannelEnteredBridge {
					got++
				}
			}
		}()
		b.StartTimer()

		work := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					id := fmt.Sprintf("h%05d", i)
					if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: id, Number: "555"}); err != nil {
						b.Error(err)
						return
					}
					if st, _ := c.do("POST", "channels/"+id+"/answer", nil, "", ""); st != 204 {
						b.Errorf("answer %d", st)
					}
					if st, _ := c.do("POST", "bridges/hold/addChannel", q("channel", id), "", ""); st != 204 {
						b.Errorf("addChannel %d", st)
					}
				}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		drained.Wait()

		b.StopTimer()
		if m, _ := srv.BridgeChannels("hold"); len(m) != n {
			b.Fatalf("%d in bridge", len(m))
		}
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "callers/op")
}
