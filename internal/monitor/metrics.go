// Package monitor tells how a running service is doing: its Prometheus
// metrics (transitions, waits, callers per show, node and database
// health, the history backlog) and the answers of its health probes
// (/healthz, /readyz).
package monitor

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
)

// Metrics are callin's Prometheus metrics, on their own registry.
type Metrics struct {
	reg     *prometheus.Registry
	actions *prometheus.CounterVec
	wait    *prometheus.HistogramVec

	mu      sync.Mutex
	arrived map[string]time.Time // call id -> arrival, while in line
}

// maxTracked bounds the arrival times kept for the wait histogram.
const maxTracked = 200_000

// NewMetrics makes the metrics that need nothing but the transitions
// (Sink) and the Go runtime's; Watch and WatchDatabase add the rest.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callin_transitions_total",
			Help: "Call transitions by show, action and actor kind.",
		}, []string{"show", "action", "actor"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callin_wait_seconds",
			Help:    "Time from arrival until a caller went on air or the call ended while in line.",
			Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 2400, 3600},
		}, []string{"show", "outcome"}),
		arrived: map[string]time.Time{},
	}
	m.reg.MustRegister(m.actions, m.wait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Sink counts every transition on its way to next (the history writer).
func (m *Metrics) Sink(next broadcast.Sink) broadcast.Sink {
	return sinkFunc(func(t queue.Transition) {
		m.observe(t)
		next.Record(t)
	})
}

type sinkFunc func(queue.Transition)

func (f sinkFunc) Record(t queue.Transition) { f(t) }

func (m *Metrics) observe(t queue.Transition) {
	m.actions.WithLabelValues(t.Show, t.Action, string(t.Actor.Kind)).Inc()
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.Seq == 1 && t.To != queue.StateEnded {
		if len(m.arrived) < maxTracked {
			m.arrived[t.CallID] = t.At
		}
		return
	}
	at, ok := m.arrived[t.CallID]
	if !ok {
		return
	}
	switch t.To {
	case queue.StateOnAir:
		m.wait.WithLabelValues(t.Show, "on_air").Observe(t.At.Sub(at).Seconds())
		delete(m.arrived, t.CallID)
	case queue.StateEnded:
		m.wait.WithLabelValues(t.Show, string(t.Outcome)).Observe(t.At.Sub(at).Seconds())
		delete(m.arrived, t.CallID)
	}
}

// Watch adds the gauges read at scrape time from the app and the writer.
func (m *Metrics) Watch(app *broadcast.App, w *postgres.Writer) {
	m.reg.MustRegister(&appCollector{app: app, last: map[string]time.Time{}, changes: map[string]float64{}})
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callin_history_backlog",
		Help: "Transitions not yet written to PostgreSQL (in memory and in the journal).",
	}, func() float64 {
		b := w.Backlog()
		return float64(b.Memory + b.Journal)
	}))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "callin_history_dropped_total",
		Help: "Transitions PostgreSQL refused as bad data (logged in full).",
	}, func() float64 { return float64(w.Dropped()) }))
}

// Handler serves the metrics (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// appCollector reads callers per show and node health at scrape time.
type appCollector struct {
	app *broadcast.App

	mu      sync.Mutex
	last    map[string]time.Time // node -> Since seen at the last scrape
	changes map[string]float64
}

var (
	descCallers = prometheus.NewDesc("callin_callers", "Callers of a show by state.", []string{"show", "state"}, nil)
	descLongest = prometheus.NewDesc("callin_longest_wait_seconds", "The longest current wait of a show.", []string{"show"}, nil)
	descNodeUp  = prometheus.NewDesc("callin_ari_node_up", "1 when the node's ARI event connection is up.", []string{"node"}, nil)
	descChanges = prometheus.NewDesc("callin_ari_node_state_changes_total", "ARI connection state changes (disconnects and reconnects) seen.", []string{"node"}, nil)
	descHeld    = prometheus.NewDesc("callin_node_held", "Callers held on the node, over its shows.", []string{"node"}, nil)
	descCap     = prometheus.NewDesc("callin_node_capacity", "The node's capacity (0: no limit).", []string{"node"}, nil)
	descFull    = prometheus.NewDesc("callin_node_full", "1 while callin marks the node full (CALLIN_FULL_<show>=1): its dialplan refuses new callers.", []string{"node"}, nil)
)

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCallers
	ch <- descLongest
	ch <- descNodeUp
	ch <- descChanges
	ch <- descHeld
	ch <- descCap
	ch <- descFull
}

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	for _, key := range c.app.Shows() {
		snap, err := c.app.Snapshot(key)
		if err != nil {
			continue
		}
		st := snap.Stats
		for state, n := range map[string]int{"waiting": st.Waiting, "ready": st.Ready, "screening": st.Screening, "on_air": st.OnAir, "arriving": st.Arriving} {
			ch <- prometheus.MustNewConstMetric(descCallers, prometheus.GaugeValue, float64(n), key, state)
		}
		ch <- prometheus.MustNewConstMetric(descLongest, prometheus.GaugeValue, st.LongestWait.Seconds(), key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.app.Health() {
		up := 0.0
		if h.OK() {
			up = 1
		}
		if last, ok := c.last[h.Node]; ok && !last.Equal(h.Since) {
			c.changes[h.Node]++
		}
		c.last[h.Node] = h.Since
		ch <- prometheus.MustNewConstMetric(descNodeUp, prometheus.GaugeValue, up, h.Node)
		ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, c.changes[h.Node], h.Node)
	}
	for _, l := range c.app.NodeLoads() {
		full := 0.0
		if l.Full {
			full = 1
		}
		ch <- prometheus.MustNewConstMetric(descHeld, prometheus.GaugeValue, float64(l.Held), l.Node)
		ch <- prometheus.MustNewConstMetric(descCap, prometheus.GaugeValue, float64(l.Capacity), l.Node)
		ch <- prometheus.MustNewConstMetric(descFull, prometheus.GaugeValue, full, l.Node)
	}
}

// WatchDatabase reports whether PostgreSQL answers, as callin_database_up.
func (m *Metrics) WatchDatabase(db *Database) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callin_database_up",
		Help: "1 when PostgreSQL answers; 0 while it does not (calls and actions go on, history waits in the journal).",
	}, func() float64 {
		if db.OK(context.Background()) {
			return 1
		}
		return 0
	}))
}
