package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

// takeoverWithin is the README's figure for a standby taking a node over
// ("a standby claims the node within 2 s", at serve's 2 s claim interval),
// plus what connecting and the resync take on a loaded 2-core machine.
const takeoverWithin = 2*time.Second + 3*time.Second

// TestRealPBXStandby: two callin processes on one database and one real
// Asterisk. The second stands by (503, never replacing the driver's ARI
// connection); a kill -9 of the driver hands the node to it, with the same
// callers in the same places, the same caller on air, music for those
// waiting, and it acts on the line.
func TestRealPBXStandby(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	dbURL := pgtest.URL(t)
	a := startRealProcess(t, p, dbURL, realShow)
	b := startProcess(t, p, dbURL, realShow)
	l := p.Listener(t)

	nodeState := func(rs *realService) (int, string) {
		t.Helper()
		return readyzNode(t, rs.base)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if code, st := nodeState(b); code == http.StatusServiceUnavailable && st == "standby" {
			break
		}
		if time.Now().After(deadline) {
			code, st := nodeState(b)
			t.Fatalf("the second instance: %d %s, want 503 standby", code, st)
		}
	}

	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 6, Rate: 20, PressOne: true, Prefix: "1666"})
	line := inState(a.waitCallers("6 waiting", 30*time.Second, func(cs []queue.Call) bool {
		return len(inState(cs, queue.StateWaiting)) == 6
	}), queue.StateWaiting)
	sort.Slice(line, func(i, j int) bool { return line[i].Position < line[j].Position })
	onAir := a.act(line[0].ID, "promote", nil)
	waitBridge(t, p, airBridge, onAir.ChannelID)
	if code, st := nodeState(a); code != http.StatusOK || st != "up" {
		t.Fatalf("the driver's readyz: %d %s, want 200 up (never replaced by the standby)", code, st)
	}
	// The standby passes the API on to the driver.
	if got := inState(b.callers(), queue.StateWaiting); len(got) != 5 {
		t.Errorf("the line through the standby: %s, want the driver's 5 waiting", describe(got))
	}

	// The driver writes history a moment after the fact: a caller whose
	// arrival is not written yet when it dies is readmitted by the standby
	// with a new call id (in its place in line, as a new call: seen once in
	// a run of this test). The test kills the driver once every call's
	// arrival is written, as this is what a takeover keeps.
	waitWritten(t, dbURL, line)
	killed := time.Now()
	a.kill()
	b.waitReady(takeoverWithin)
	took := time.Since(killed)
	cs := b.waitCallers("the line taken over", takeoverWithin, func(cs []queue.Call) bool {
		return len(inState(cs, queue.StateWaiting)) == 5 && len(inState(cs, queue.StateOnAir)) == 1
	})
	t.Logf("the standby drove the node %v after the driver's kill -9, its line complete %v after", took.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	waiting := inState(cs, queue.StateWaiting)
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
	for i, c := range waiting {
		if c.ID != line[i+1].ID {
			t.Errorf("place %d: %s (%s), want %s as before the kill", i+1, c.ID, c.Number, line[i+1].ID)
		}
	}
	if got := inState(cs, queue.StateOnAir)[0]; got.ID != onAir.ID {
		t.Errorf("on air after the takeover: %s, want %s", got.ID, onAir.ID)
	}
	if h, ok := hearMusic(t, l, waiting[len(waiting)-1].ChannelID); !ok {
		t.Errorf("the last caller hears music in %.0f%% of the windows after the takeover, want most: %v", 100*h.Music(), h)
	}
	if c := b.act(waiting[0].ID, "promote", nil); c.State != queue.StateOnAir {
		t.Errorf("promote through the new driver answered %s", c.State)
	}
	waitBridge(t, p, airBridge, waiting[0].ChannelID)
	checkTransitions(t, dbURL)
}

// BenchmarkPBXStandbyTakeover: two callin processes on one database and a
// real Asterisk with PBX_STANDBY_CALLERS SIP callers waiting (default 100);
// each iteration kills the driving one (kill -9) and times the standby
// until it is ready and its line holds every caller; then a new standby
// is started for the next iteration. Serve's claim interval is 2 s, so
// most of it is the wait for the standby's next try.
//
//	go test -run '^$' -bench PBXStandbyTakeover -benchtime 3x ./cmd/callin/
func BenchmarkPBXStandbyTakeover(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("PBX_STANDBY_CALLERS")); err == nil {
		n = v
	}
	p := pbxtest.New(b, pbxtest.Config{})
	dbURL := pgtest.URL(b)
	driver := startRealProcess(b, p, dbURL, realShow)
	standby := startProcess(b, p, dbURL, realShow)
	p.Callers(b, pbxtest.CallerConfig{Number: "5550100", Count: n, Rate: 50, PressOne: true})
	driver.waitCallers(fmt.Sprint(n, " waiting"), time.Minute, func(cs []queue.Call) bool { return len(inState(cs, queue.StateWaiting)) == n })
	var took []time.Duration
	b.ResetTimer()
	for range b.N {
		killed := time.Now()
		driver.kill()
		standby.waitReady(30 * time.Second)
		standby.waitCallers("the line taken over", 30*time.Second, func(cs []queue.Call) bool { return len(inState(cs, queue.StateWaiting)) == n })
		took = append(took, time.Since(killed))
		b.StopTimer()
		driver, standby = standby, startProcess(b, p, dbURL, realShow)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(took)
	fmt.Printf("%d callers: kill -9 of the driver → the standby's line complete %v\n", n, took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "takeover-p50-ms")
}

// waitWritten waits up to 5 s until the history holds a transition of
// every call in calls.
func waitWritten(t *testing.T, dbURL string, calls []queue.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	for {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(DISTINCT call_id) FROM call_events WHERE call_id = ANY($1)`, ids).Scan(&n)
		if err == nil && n == len(ids) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the history holds %d of %d calls after 5 s (%v)", n, len(ids), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
