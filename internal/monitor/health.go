package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// Nodes is the state of each Asterisk node; *broadcast.App has it.
type Nodes interface {
	Health() []broadcast.NodeHealth
}

// Healthz answers /healthz: the process serves.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
}

// Ready answers /readyz: ready means callin can take and move calls, that
// is every node's ARI connection is up. PostgreSQL is reported beside it
// ("database": "ok" or "degraded") but does not decide it: calls, actions
// and producers go on through an outage (see the README). The body says
// no more than states: why a node is down is in the log and on the
// console, not for anyone who can reach the port.
func Ready(nodes Nodes, db *Database) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		type nodeState struct {
			Node  string              `json:"node"`
			State broadcast.NodeState `json:"state"`
			Since time.Time           `json:"since"`
		}
		status := http.StatusOK
		states := []nodeState{}
		for _, h := range nodes.Health() {
			if !h.OK() {
				status = http.StatusServiceUnavailable
			}
			states = append(states, nodeState{Node: h.Node, State: h.State, Since: h.Since})
		}
		slices.SortFunc(states, func(a, b nodeState) int { return strings.Compare(a.Node, b.Node) })
		database := "ok"
		if !db.OK(r.Context()) {
			database = "degraded"
		}
		writeJSON(w, status, map[string]any{
			"status":   map[bool]string{true: "ready", false: "not ready"}[status == http.StatusOK],
			"nodes":    states,
			"database": database,
		})
	})
}

// Pinger is a database that answers a ping; *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Database pings PostgreSQL for /readyz and the callin_database_up
// metric, at most once a second however often they are asked: the
// endpoint is open to anyone who reaches the port.
type Database struct {
	pool Pinger
	// every is how long an answer is kept (a second).
	every time.Duration

	mu   sync.Mutex
	at   time.Time
	isOK bool
}

// NewDatabase asks pool, once a second at most.
func NewDatabase(pool Pinger) *Database { return &Database{pool: pool, every: time.Second} }

// OK reports whether the database answered its last ping (one under
// every old, or a new one, of 2 s at most).
func (d *Database) OK(ctx context.Context) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.at) < d.every {
		return d.isOK
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	d.isOK = d.pool.Ping(pctx) == nil
	d.at = time.Now()
	return d.isOK
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
