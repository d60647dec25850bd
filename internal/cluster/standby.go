package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// AdvertiseURL is where other instances pass producers' requests to this
// one: given (--advertise), else the listener's own address when it names
// a host (not 0.0.0.0 or ::, which other machines cannot use), else
// nothing.
func AdvertiseURL(given string, ln net.Addr) string {
	if given != "" {
		return strings.TrimRight(given, "/")
	}
	if a, ok := ln.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return "http://" + a.String()
	}
	return ""
}

// Nodes says which nodes this instance drives; *broadcast.App does.
type Nodes interface {
	Health() []broadcast.NodeHealth
}

// Drivers says where the instance driving a node is reached;
// *postgres.Store does (postgres.Store.NodeDriver).
type Drivers interface {
	NodeDriver(ctx context.Context, node string) (string, error)
}

// Proxy passes the console's and the API's requests for a show whose
// node another instance drives to that instance (its advertised URL), so
// producers may use any instance. Everything else (logins, callers,
// settings pages, health) is served here, from the same database.
type Proxy struct {
	next     http.Handler
	nodes    Nodes
	drivers  Drivers
	showNode map[string]string // show key -> its node
	self     string            // this instance's advertised URL
	log      *slog.Logger

	mu    sync.Mutex
	known map[string]driverURL // node -> where its driver is, as last read
}

// NewProxy serves next, passing on the requests for shows on the nodes
// that nodes says another instance drives. self is this instance's own
// advertised URL (AdvertiseURL), never passed to.
func NewProxy(next http.Handler, nodes Nodes, drivers Drivers, shows []broadcast.ShowConfig, self string, log *slog.Logger) *Proxy {
	p := &Proxy{next: next, nodes: nodes, drivers: drivers, showNode: map[string]string{}, self: self, log: log, known: map[string]driverURL{}}
	for _, sc := range shows {
		p.showNode[sc.Key] = sc.Node
	}
	return p
}

type driverURL struct {
	url string
	at  time.Time
}

// driverTTL bounds how long a driver's address is used before it is read
// again.
const driverTTL = 2 * time.Second

// ServeHTTP serves r here, or passes it on to the instance driving its
// show's node when this one stands by; a driver that does not answer is a
// 502 with the API's error body (code "standby").
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := p.target(r)
	if target == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	// A stream passed on lasts as long as the client reads it: lift the
	// server's write deadline (the driver applies its own limits).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host // the driver checks origins against the host the browser used
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("passing a request to the driving instance failed", "url", target.String(), "err", err)
			// An RFC 9457 problem, as the API's errors (web/api.Problem).
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:callin:problem:standby", "title": "Standing by",
				"status": http.StatusBadGateway, "code": "standby", "request_id": w.Header().Get("X-Request-Id"),
				"detail": "this instance stands by and the one driving the show does not answer; try again"})
		},
	}
	rp.ServeHTTP(w, r)
}

// target is the driving instance to pass r to, or nil to serve it here.
func (p *Proxy) target(r *http.Request) *url.URL {
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	rest, ok := strings.CutPrefix(path, "/shows/")
	if !ok {
		return nil
	}
	show, _, _ := strings.Cut(rest, "/")
	node, ok := p.showNode[show]
	if !ok || !p.standingBy(node) {
		return nil
	}
	driver := p.driver(r.Context(), node)
	if driver == "" || driver == p.self {
		return nil
	}
	u, err := url.Parse(driver)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}

// standingBy reports whether another instance drives node.
func (p *Proxy) standingBy(node string) bool {
	for _, h := range p.nodes.Health() {
		if h.Node == node {
			return h.State == broadcast.NodeStandby
		}
	}
	return false
}

// driver is where the instance driving node is reached ("" unknown).
func (p *Proxy) driver(ctx context.Context, node string) string {
	p.mu.Lock()
	d, ok := p.known[node]
	p.mu.Unlock()
	if ok && time.Since(d.at) < driverTTL {
		return d.url
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	u, err := p.drivers.NodeDriver(ctx, node)
	if err != nil {
		u = ""
	}
	p.mu.Lock()
	p.known[node] = driverURL{url: u, at: time.Now()}
	p.mu.Unlock()
	return u
}
