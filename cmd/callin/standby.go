package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
)

// advertiseURL is where other instances pass producers' requests to this
// one: --advertise, else the listener's own address when it names a host
// (not 0.0.0.0 or ::, which other machines cannot use), else nothing.
func advertiseURL(flag string, ln net.Listener) string {
	if flag != "" {
		return strings.TrimRight(flag, "/")
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return "http://" + a.String()
	}
	return ""
}

// standbyProxy passes the console's and the API's requests for a show
// whose node another instance drives to that instance (its advertised
// URL), so producers may use any instance. Everything else (logins,
// callers, settings pages, health) is served here, from the same database.
type standbyProxy struct {
	next     http.Handler
	app      *broadcast.App
	store    *postgres.Store
	showNode map[string]string // show key -> its node
	self     *string           // this instance's advertised URL, once known
	log      *slog.Logger

	mu    sync.Mutex
	known map[string]driverURL // node -> where its driver is, as last read
}

func newStandbyProxy(next http.Handler, app *broadcast.App, store *postgres.Store, shows []broadcast.ShowConfig, self *string, log *slog.Logger) *standbyProxy {
	p := &standbyProxy{next: next, app: app, store: store, showNode: map[string]string{}, self: self, log: log, known: map[string]driverURL{}}
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

func (p *standbyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
			writeHealth(w, http.StatusBadGateway, map[string]any{"error": map[string]string{
				"code": "standby", "message": "this instance stands by and the one driving the show does not answer; try again"}})
		},
	}
	rp.ServeHTTP(w, r)
}

// target is the driving instance to pass r to, or nil to serve it here.
func (p *standbyProxy) target(r *http.Request) *url.URL {
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
	if driver == "" || driver == *p.self {
		return nil
	}
	u, err := url.Parse(driver)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}

func (p *standbyProxy) standingBy(node string) bool {
	for _, h := range p.app.Health() {
		if h.Node == node {
			return h.State == broadcast.NodeStandby
		}
	}
	return false
}

// driver is where the instance driving node is reached ("" unknown).
func (p *standbyProxy) driver(ctx context.Context, node string) string {
	p.mu.Lock()
	d, ok := p.known[node]
	p.mu.Unlock()
	if ok && time.Since(d.at) < driverTTL {
		return d.url
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	u, err := p.store.NodeDriver(ctx, node)
	if err != nil {
		u = ""
	}
	p.mu.Lock()
	p.known[node] = driverURL{url: u, at: time.Now()}
	p.mu.Unlock()
	return u
}
