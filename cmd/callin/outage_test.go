package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// TestServeDatabaseOutage stops PostgreSQL in the middle of a show while
// callers arrive and hang up, and starts it again: no caller is dropped, and
// every transition the service published reaches call_events exactly once.
func TestServeDatabaseOutage(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("stops a cluster of its own; skipped when TEST_DATABASE_URL is set, so PostgreSQL binaries may be missing")
	}
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	dir, err := os.MkdirTemp("", "callin-svc-outage-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := pgtest.StartCluster(ctx, pgtest.ClusterConfig{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cluster.Stop()
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	// A token for the event stream, made while the database is up.
	store, err := openStore(ctx, cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	token, err := auth.CreateToken(ctx, store, "outage", auth.RoleProducer, "test")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	stderr := newSyncBuffer()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("service log:\n%s", stderr.String())
		}
	})
	errc := make(chan error, 1)
	env := map[string]string{
		"CALLIN_DATABASE_URL": cluster.URL(),
		"CALLIN_NODES":        "main=" + pbx.URL(),
		"CALLIN_ARI_PASSWORD": pbx.Password(),
		"CALLIN_SHOW":         "live",
		"CALLIN_JOURNAL":      filepath.Join(t.TempDir(), "journal"),
		"CALLIN_LISTEN":       "127.0.0.1:0",
	}
	go func() { errc <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, stderr, envMap(env)) }()
	log := stderr.waitFor(t, "callin is listening", errc)
	base := strings.Fields(log[strings.Index(log, "addr=http://")+len("addr="):])[0]

	// The service's own event stream tells what it published.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/shows/live/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	seen := make(chan queue.Transition, 1024)
	others := make(chan string, 16) // a reset or an end: either would hide transitions
	go func() {
		_ = readSSE(resp.Body, func(name, data string) {
			var tr queue.Transition
			switch {
			case name == "transition" && json.Unmarshal([]byte(data), &tr) == nil:
				seen <- tr
			case name == "reset" || name == "end": // would hide transitions (show-level events such as node are fine)
				select {
				case others <- name + " " + data:
				default:
				}
			}
		})
		close(seen)
	}()
	var published []queue.Transition
	// waitFor reads the stream until n transitions with action have come.
	waitFor := func(action string, n int) {
		t.Helper()
		for got := 0; got < n; {
			var tr queue.Transition
			ok := true
			select {
			case tr, ok = <-seen:
			case o := <-others:
				t.Fatalf("event stream sent %q waiting for %d %s", o, n, action)
			case <-time.After(30 * time.Second):
				t.Fatalf("waiting for %d %s: got %d; published so far: %v", n, action, got, published)
			}
			if !ok {
				t.Fatalf("event stream ended waiting for %d %s", n, action)
			}
			published = append(published, tr)
			joined := tr.From == queue.StateArriving && tr.To == queue.StateWaiting // by join, or by a resync
			if tr.Action == action || action == "" || action == queue.ActionJoin && joined {
				got++
			}
		}
	}
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		t.Fatal(err)
	}
	// Callers come once the node is in sync: one arriving during the first
	// resync is readmitted (no arrive and join), which would change the
	// count below. /readyz has no stream to wait on: polled, at most 30 s.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the service never became ready")
		}
	}
	call := func(i int) *aritest.Call {
		t.Helper()
		c, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"live"}, Number: fmt.Sprintf("+1202555%04d", i), Name: fmt.Sprintf("Caller %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	var calls []*aritest.Call
	for i := range 10 {
		calls = append(calls, call(i))
	}
	waitFor(queue.ActionJoin, 10)

	// The database goes away mid-show. Callers keep arriving and leaving.
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 25; i++ {
		calls = append(calls, call(i))
	}
	for _, c := range calls[:5] {
		if err := c.Hangup(16); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(queue.ActionJoin, 15)
	for len(published) < 10*2+15*2+5 { // arrive+join for 25, an end for 5
		waitFor("", 1)
	}
	if got, _ := pbx.BridgeChannels(holdID("live")); len(got) != 20 {
		t.Errorf("holding bridge has %d callers during the outage, want 20", len(got))
	}
	// The producer keeps running the show: a token the database confirmed
	// before the outage still promotes a caller.
	var callID string
	for _, tr := range published {
		if tr.ChannelID == calls[6].ID() {
			callID = tr.CallID
		}
	}
	preq, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/shows/live/callers/"+callID+"/promote", strings.NewReader("{}"))
	preq.Header.Set("Authorization", "Bearer "+token)
	preq.Header.Set("Content-Type", "application/json")
	presp, err := http.DefaultClient.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	pbody, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	if presp.StatusCode != http.StatusOK {
		t.Fatalf("promote during the outage: %d %s", presp.StatusCode, pbody)
	}
	waitFor(queue.ActionPromote, 1)
	if st, _ := calls[6].State(); st.Bridge != "callin-live-air" {
		t.Errorf("promoted caller is in %q, want the on-air bridge", st.Bridge)
	}

	// The database comes back; a clean shutdown flushes what waited.
	if err := cluster.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, c := range calls[5:] {
		if _, ok := pbx.Channel(c.ID()); !ok {
			t.Errorf("caller %s was dropped", c.ID())
		}
	}

	conn, err := pgx.Connect(context.Background(), cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var events, distinct, callsN, ended int
	err = conn.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM call_events),
		(SELECT count(DISTINCT (call_id, seq)) FROM call_events),
		(SELECT count(*) FROM calls WHERE show = 'live'),
		(SELECT count(*) FROM calls WHERE show = 'live' AND ended_at IS NOT NULL)`).Scan(&events, &distinct, &callsN, &ended)
	if err != nil {
		t.Fatal(err)
	}
	if events != len(published) || distinct != events {
		t.Errorf("call_events: %d rows (%d distinct), want the %d transitions published", events, distinct, len(published))
	}
	if callsN != 25 || ended != 5 {
		t.Errorf("calls: %d, ended %d; want 25 and 5", callsN, ended)
	}
	var onAir int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM calls WHERE on_air_at IS NOT NULL`).Scan(&onAir); err != nil || onAir != 1 {
		t.Errorf("calls on air: %d (%v), want the one promoted during the outage", onAir, err)
	}
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT calls_count FROM callers WHERE number = $1`, postgres.NormalizeNumber("+12025550003")).Scan(&n); err != nil || n != 1 {
		t.Errorf("caller profile counted %d calls (%v), want 1", n, err)
	}
}

func holdID(show string) string { return "callin-" + show + "-hold" }
