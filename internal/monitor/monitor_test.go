package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/monitor"
	"github.com/callin-radio/callin/queue"
)

// sinkFunc is a broadcast.Sink.
type sinkFunc func(queue.Transition)

func (f sinkFunc) Record(t queue.Transition) { f(t) }

// TestMetricsWait: every transition is counted and passed on; a caller's
// wait is observed when they go on air or their call ends in line, once,
// by outcome.
func TestMetricsWait(t *testing.T) {
	t.Parallel()
	m := monitor.NewMetrics()
	var passed int
	sink := m.Sink(sinkFunc(func(queue.Transition) { passed++ }))
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	caller := queue.Actor{Kind: queue.ActorCaller}
	producer := queue.Actor{Kind: queue.ActorUser, Name: "alice"}
	for _, tr := range []queue.Transition{
		{CallID: "a", Seq: 1, At: at, Show: "morning", To: queue.StateWaiting, Action: "arrive", Actor: caller},
		{CallID: "b", Seq: 1, At: at, Show: "morning", To: queue.StateWaiting, Action: "arrive", Actor: caller},
		{CallID: "a", Seq: 2, At: at.Add(90 * time.Second), Show: "morning", To: queue.StateOnAir, Action: "air", Actor: producer},
		{CallID: "a", Seq: 3, At: at.Add(5 * time.Minute), Show: "morning", To: queue.StateEnded, Action: "drop", Actor: producer, Outcome: queue.OutcomeAired},
		{CallID: "b", Seq: 2, At: at.Add(20 * time.Second), Show: "morning", To: queue.StateEnded, Action: "hangup", Actor: caller, Outcome: queue.OutcomeAbandoned},
		{CallID: "c", Seq: 1, At: at, Show: "morning", To: queue.StateEnded, Action: "reject", Actor: queue.System, Outcome: queue.OutcomeRejected},
	} {
		sink.Record(tr)
	}
	if passed != 6 {
		t.Errorf("%d transitions passed on, want 6", passed)
	}
	body := scrape(t, m.Handler())
	for _, want := range []string{
		`callin_transitions_total{action="arrive",actor="caller",show="morning"} 2`,
		`callin_transitions_total{action="drop",actor="user",show="morning"} 1`,
		`callin_wait_seconds_sum{outcome="on_air",show="morning"} 90`,
		`callin_wait_seconds_count{outcome="on_air",show="morning"} 1`,
		`callin_wait_seconds_sum{outcome="abandoned",show="morning"} 20`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %s in\n%s", want, grep(body, "callin_"))
		}
	}
	for _, not := range []string{`outcome="aired"`, `outcome="rejected"`} {
		if strings.Contains(body, not) {
			t.Errorf("a wait observed twice or for a call never in line (%s):\n%s", not, grep(body, "callin_wait"))
		}
	}
}

// pinger counts pings, failing while fail is set.
type pinger struct {
	pings atomic.Int64
	fail  atomic.Bool
}

func (p *pinger) Ping(context.Context) error {
	p.pings.Add(1)
	if p.fail.Load() {
		return errors.New("no answer")
	}
	return nil
}

// nodes is each node's health (monitor.Nodes).
type nodes []broadcast.NodeHealth

func (n nodes) Health() []broadcast.NodeHealth { return n }

// TestReady: ready when every node is up, whatever the database says
// (which is reported beside it); a node standing by or down is 503; the
// database is pinged once however often the probe is asked.
func TestReady(t *testing.T) {
	t.Parallel()
	db := &pinger{}
	d := monitor.NewDatabase(db)
	up := nodes{{Node: "b", State: broadcast.NodeUp}, {Node: "a", State: broadcast.NodeUp}}
	var got struct {
		Status   string `json:"status"`
		Database string `json:"database"`
		Nodes    []struct{ Node, State string }
	}
	code := probe(t, monitor.Ready(up, d), &got)
	if code != http.StatusOK || got.Status != "ready" || got.Database != "ok" || len(got.Nodes) != 2 || got.Nodes[0].Node != "a" {
		t.Errorf("all up: %d %+v, want 200 ready, nodes by name", code, got)
	}
	for range 10 {
		probe(t, monitor.Ready(up, d), &got)
	}
	if n := db.pings.Load(); n != 1 {
		t.Errorf("%d pings for 11 probes within a second, want 1", n)
	}
	standby := nodes{{Node: "a", State: broadcast.NodeUp}, {Node: "b", State: broadcast.NodeStandby}}
	if code := probe(t, monitor.Ready(standby, d), &got); code != http.StatusServiceUnavailable || got.Status != "not ready" {
		t.Errorf("a node standing by: %d %+v, want 503 not ready", code, got)
	}

	down := &pinger{}
	down.fail.Store(true)
	if code := probe(t, monitor.Ready(up, monitor.NewDatabase(down)), &got); code != http.StatusOK || got.Database != "degraded" {
		t.Errorf("database down: %d %+v, want 200 (calls go on) with database degraded", code, got)
	}
	if code := probe(t, monitor.Healthz(), &got); code != http.StatusOK || got.Status != "ok" {
		t.Errorf("healthz: %d %+v", code, got)
	}
}

func probe(t *testing.T, h http.Handler, v any) int {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("headers %q %q", ct, cc)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("%s: %v", w.Body, err)
	}
	return w.Code
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func grep(body, prefix string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
