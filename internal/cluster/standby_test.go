package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callin-radio/callin/broadcast"
)

// fakeNodes is each node's state (Nodes).
type fakeNodes struct {
	mu    sync.Mutex
	state map[string]broadcast.NodeState
}

func (f *fakeNodes) Health() []broadcast.NodeHealth {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []broadcast.NodeHealth
	for n, st := range f.state {
		out = append(out, broadcast.NodeHealth{Node: n, State: st})
	}
	return out
}

// fakeDrivers is where each node's driver is (Drivers), counting reads.
type fakeDrivers struct {
	url   map[string]string
	reads atomic.Int64
}

func (f *fakeDrivers) NodeDriver(_ context.Context, node string) (string, error) {
	f.reads.Add(1)
	u, ok := f.url[node]
	if !ok {
		return "", errors.New("not found")
	}
	return u, nil
}

// TestProxy: a request for a show whose node another instance drives is
// passed to that instance, with the host the browser used; everything
// else, and a node whose driver is unknown or this instance, is served
// here; a driver that does not answer is the API's 502.
func TestProxy(t *testing.T) {
	t.Parallel()
	driver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-For", r.Header.Get("X-Forwarded-For"))
		io.WriteString(w, "driver "+r.URL.Path)
	}))
	t.Cleanup(driver.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nobody answers there
	here := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "here "+r.URL.Path) })
	nodes := &fakeNodes{state: map[string]broadcast.NodeState{
		"a": broadcast.NodeStandby, "b": broadcast.NodeUp, "c": broadcast.NodeStandby, "d": broadcast.NodeStandby, "e": broadcast.NodeStandby,
	}}
	drivers := &fakeDrivers{url: map[string]string{"a": driver.URL, "b": driver.URL, "c": "http://self:8080", "e": down.URL}}
	shows := []broadcast.ShowConfig{showOn("morning", "a"), showOn("drive", "b"), showOn("mine", "c"), showOn("lost", "d"), showOn("gone", "e")}
	p := NewProxy(here, nodes, drivers, shows, "http://self:8080", quiet())

	for _, tc := range []struct{ path, want string }{
		{"/shows/morning", "driver /shows/morning"},
		{"/api/v1/shows/morning/callers", "driver /api/v1/shows/morning/callers"},
		{"/shows/drive", "here /shows/drive"},         // driven here
		{"/shows/mine/host", "here /shows/mine/host"}, // the driver is this instance
		{"/shows/lost", "here /shows/lost"},           // no driver known
		{"/shows/nosuch", "here /shows/nosuch"},       // not a show of these nodes
		{"/login", "here /login"},
		{"/api/v1/me", "here /api/v1/me"},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "http://studio.example"+tc.path, nil)
		p.ServeHTTP(w, r)
		if got := w.Body.String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
		if w.Body.String()[:6] == "driver" {
			if h := w.Header().Get("X-Seen-Host"); h != "studio.example" {
				t.Errorf("%s: the driver saw host %q, want the browser's", tc.path, h)
			}
			if f := w.Header().Get("X-Seen-For"); net.ParseIP(f) == nil {
				t.Errorf("%s: X-Forwarded-For %q, want the client's address", tc.path, f)
			}
		}
	}

	w := httptest.NewRecorder()
	p.ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/shows/gone/callers/x/drop", nil))
	var body struct{ Code, Type string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); w.Code != http.StatusBadGateway || err != nil || body.Code != "standby" ||
		body.Type != "urn:callin:problem:standby" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("a driver that does not answer: %d %s, want 502 with code standby", w.Code, w.Body)
	}

	// The drivers are read once in a while, not per request.
	before := drivers.reads.Load()
	for range 10 {
		p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/shows/morning", nil))
	}
	if n := drivers.reads.Load() - before; n != 0 {
		t.Errorf("%d driver reads for 10 requests within driverTTL, want none", n)
	}
}

// TestAdvertiseURL: --advertise wins; else the listener's address, unless
// it is one other machines cannot use.
func TestAdvertiseURL(t *testing.T) {
	t.Parallel()
	addr := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		given string
		ln    net.Addr
		want  string
	}{
		{"https://callin.example/", addr("127.0.0.1:8080"), "https://callin.example"},
		{"", addr("10.0.0.5:8080"), "http://10.0.0.5:8080"},
		{"", addr("[::1]:8080"), "http://[::1]:8080"},
		{"", addr("0.0.0.0:8080"), ""},
		{"", addr("[::]:8080"), ""},
	} {
		if got := AdvertiseURL(tc.given, tc.ln); got != tc.want {
			t.Errorf("AdvertiseURL(%q, %v) = %q, want %q", tc.given, tc.ln, got, tc.want)
		}
	}
}
