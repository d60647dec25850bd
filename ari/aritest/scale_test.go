package aritest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
			srv, c, ev := setup(t, aritest.Options{})
			url := srv.URL()
			c.must(200, "POST", "bridges/g-hold", q("type", "holding"))
			ev.expect("BridgeCreated")
			answeredCaller(t, srv, c, ev, "g1")
			c.must(204, "POST", "bridges/g-hold/addChannel", q("channel", "g1"))
			ev.expect("ChannelEnteredBridge(g-hold)")
			c.must(200, "POST", "channels", q("endpoint", "Local/s@sim-caller", "app", "callin", "channelId", "o1"))
			ev.expect("ChannelStateChange", "StasisStart")

			if hold > 0 {
				srv.Restart(aritest.HoldSockets(hold))
			} else {
				srv.Restart()
			}
			ev.expect(
				"ChannelHangupRequest(4,soft)", "ChannelLeftBridge(g-hold)", "ChannelHangupRequest(0)", "StasisEnd", "ChannelHangupRequest(16,soft)", "ChannelDestroyed(16)",
				"ChannelHangupRequest(4,soft)", "StasisEnd", "ChannelHangupRequest(0)", "ChannelDestroyed(0)",
			)
			err := ev.waitClosed(wait)
			if !isEOFClose(err) {
				t.Fatalf("socket ended with %v, want EOF without a close frame", err)
			}
			if srv.URL() != url {
				t.Fatal("URL changed")
			}
			c.must(404, "GET", "bridges/g-hold", nil)
			if b := c.must(200, "GET", "channels", nil); string(b) != "[]\n" {
				t.Fatalf("channels after restart: %s", b)
			}
			again := dialEvents(t, srv, "callin", false)
			c.must(200, "GET", "applications/callin", nil)
			c.must(200, "POST", "bridges/new", nil)
			again.expect("BridgeCreated")
		})
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
	conn, _, err := websocket.Dial(ctx, srv.WebSocketURL("callin"), &websocket.DialOptions{HTTPHeader: basicAuth(srv.User(), srv.Password())})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	// Never read; flood with events until the socket is dropped.
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
	ev.expect("BridgeCreated")
	for i := range n {
		if _, err := srv.Call(context.Background(), aritest.CallOptions{ChannelID: fmt.Sprintf("c%05d", i), Answered: true}); err != nil {
			t.Fatal(err)
		}
	}
	ev.close(srv, "callin") // channels stay in Stasis without a socket (trace 07)
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
