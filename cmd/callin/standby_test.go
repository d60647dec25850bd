package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/internal/cluster"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// TestServeStandby: two callin instances on one database and one Asterisk
// node. The first drives the node; the second stands by (its /readyz says
// so, and it never replaces the first's connection) and passes requests
// for the show on to the first. When the first stops, the second claims
// the node and takes the callers over where they are, with the settings
// producers left, and acts on them.
func TestServeStandby(t *testing.T) {
	t.Parallel()
	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	const every = 100 * time.Millisecond
	a := startTargetOn(t, "", pbx, "morning", hostileLimits(), every)
	b := startTargetOn(t, a.dbURL, pbx, "morning", hostileLimits(), every)
	nodeState := func(s *target) (int, string) {
		t.Helper()
		return readyzNode(t, s.base)
	}
	wait := func(s *target, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, st := nodeState(s)
			if st == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s, want %s\n%s", st, want, s.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(a, "up")
	wait(b, "standby")
	time.Sleep(5 * every) // the standby keeps trying: it must keep failing
	if code, st := nodeState(b); code != http.StatusServiceUnavailable || st != "standby" {
		t.Fatalf("the standby's readyz: %d %s, want 503 standby", code, st)
	}
	if code, st := nodeState(a); code != http.StatusOK || st != "up" {
		t.Fatalf("the driving instance's readyz: %d %s, want 200 up (never replaced)", code, st)
	}

	tok := a.token(t, "robot", auth.RoleProducer)
	// The event stream too, opened on the standby.
	events := openSSEStream(t, b.base+"/api/v1/shows/morning/events", nil, withToken(tok))
	for _, n := range []string{"+12025550101", "+12025550102", "+12025550103"} {
		if _, err := pbx.Call(t.Context(), aritest.CallOptions{Args: []string{"morning"}, Number: n}); err != nil {
			t.Fatal(err)
		}
	}
	waiting := func(s *target) []string {
		t.Helper()
		var ids []string
		deadline := time.Now().Add(10 * time.Second)
		for len(ids) != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("%d waiting, want 3", len(ids))
			}
			time.Sleep(20 * time.Millisecond)
			code, body := s.api(t, "GET", "/api/v1/shows/morning/callers?state=waiting", tok, "")
			if code != http.StatusOK {
				continue
			}
			ids = ids[:0]
			for _, c := range body["callers"].([]any) {
				ids = append(ids, c.(map[string]any)["id"].(string))
			}
		}
		return ids
	}
	before := waiting(a)
	var tr struct{ Number string }
	if err := json.Unmarshal([]byte(events.next(t, "transition").data), &tr); err != nil || tr.Number != "+12025550101" {
		t.Fatalf("the standby's event stream: %+v %v, want the first caller's transition", tr, err)
	}
	// Any instance serves the show: the standby passes its requests on to
	// the driving one.
	if got := waiting(b); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatalf("the standby lists %v, want the driver's %v", got, before)
	}
	// The producer closes the lines and lowers the on-air limit: the
	// standby, whose --show opens them, must carry on with them closed.
	if code, body := a.api(t, "PUT", "/api/v1/shows/morning/lines", tok, `{"open":false}`); code != http.StatusOK {
		t.Fatalf("lines: %d %v", code, body)
	}
	if code, body := a.api(t, "PATCH", "/api/v1/shows/morning/settings", tok, `{"max_on_air":2}`); code != http.StatusOK {
		t.Fatalf("settings: %d %v", code, body)
	}
	store, err := openStore(t.Context(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := store.LoadShowState(t.Context(), "morning"); err == nil && !st.LinesOpen && st.MaxOnAir == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed settings were not saved")
		}
	}

	// A block made through the standby reaches the driver (its blocklist
	// is read again), which flags the caller in line.
	if code, body := b.api(t, "PUT", "/api/v1/callers/+12025550103/block", tok, `{"reason":"abusive last week"}`); code != http.StatusOK {
		t.Fatalf("block through the standby: %d %v", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := a.api(t, "GET", "/api/v1/shows/morning/callers/"+before[2], tok, "")
		if code == http.StatusOK && body["blocked"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the driver never flagged the caller blocked through the standby: %d %v", code, body)
		}
	}

	// Caller notes saved through the standby show on the driver's consoles
	// (it hears of the change and fetches the number again).
	pat := a.login(t, "pat", auth.RoleProducer, "morning")
	if code, body := b.api(t, "PATCH", "/api/v1/callers/+12025550102/notes", tok, `{"topic":"bridge tolls","do_not_air":true}`); code != http.StatusOK {
		t.Fatalf("notes through the standby: %d %v", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := pat.c.Get(a.base + "/shows/morning")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Contains(string(page), "bridge tolls") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the driver's console never showed the notes saved through the standby")
		}
	}

	a.stop(t)
	wait(b, "up")
	after := waiting(b)
	if strings.Join(after, " ") != strings.Join(before, " ") {
		t.Fatalf("after the takeover the line is %v, want %v", after, before)
	}
	if code, body := b.api(t, "GET", "/api/v1/shows/morning/settings", tok, ""); code != http.StatusOK || body["lines_open"] != false || body["max_on_air"] != float64(2) {
		t.Fatalf("the new driver's settings: %d %v, want lines closed and 2 on air at most", code, body)
	}
	if code, body := b.api(t, "GET", "/api/v1/shows/morning/callers/"+before[2], tok, ""); code != http.StatusOK || body["blocked"] != true {
		t.Fatalf("the blocked caller after the takeover: %d %v, want still flagged", code, body)
	}
	if code, body := b.api(t, "POST", "/api/v1/shows/morning/take-next", tok, ""); code != http.StatusOK || body["id"] != before[0] {
		t.Fatalf("take next on the new driver: %d %v, want %s", code, body, before[0])
	}
}

// BenchmarkStandbyTakeover measures how long a standby instance takes to
// drive a node whose driving instance stopped, with 600 callers waiting:
// from the stop to the standby's API listing all 600 in line. The standby
// tries every 2 s (serve's interval), so most of it is the wait for its
// next try; at every 100 ms what is left is the resync of 600 callers.
//
//	go test -run '^$' -bench StandbyTakeover -benchtime 3x ./cmd/callin/
func BenchmarkStandbyTakeover(b *testing.B) {
	for _, every := range []time.Duration{cluster.ClaimEvery, 100 * time.Millisecond} {
		b.Run("every="+every.String(), func(b *testing.B) { benchTakeover(b, every) })
	}
}

func benchTakeover(b *testing.B, every time.Duration) {
	const n = 600
	var took []time.Duration
	for b.Loop() {
		b.StopTimer()
		pbx := aritest.NewServer(aritest.Options{})
		a := startTargetOn(b, "", pbx, "morning,capacity=1000", web.DefaultLimits(), every)
		sb := startTargetOn(b, a.dbURL, pbx, "morning,capacity=1000", web.DefaultLimits(), every)
		tok := a.token(b, "robot", auth.RoleProducer)
		for i := range n {
			if _, err := pbx.Call(b.Context(), aritest.CallOptions{Args: []string{"morning"}, Number: fmt.Sprintf("+1202555%04d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		waitLine(b, a, tok, n)
		b.StartTimer()
		t0 := time.Now()
		a.stop(b)
		waitLine(b, sb, tok, n)
		took = append(took, time.Since(t0))
		b.StopTimer()
		sb.stop(b)
		pbx.Close()
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "takeover-p50-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "takeover-max-s")
}

// waitLine waits until s's API lists n callers in line.
func waitLine(b testing.TB, s *target, tok string, n int) {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := s.api(b, "GET", "/api/v1/shows/morning", tok, "")
		if code == http.StatusOK {
			if st, ok := body["stats"].(map[string]any); ok && st["waiting"] == float64(n) {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d in line, want %d: %v", code, n, body["stats"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readyzNode reads /readyz of the service at base, which drives or stands
// by for one node: its status code and the node's state.
func readyzNode(t *testing.T, base string) (int, string) {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Nodes []struct{ State string } `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.Nodes) != 1 {
		t.Fatalf("readyz: %v %+v", err, body)
	}
	return res.StatusCode, body.Nodes[0].State
}
