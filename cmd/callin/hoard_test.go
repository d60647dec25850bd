package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// The tests of issue 21, points 1 and 2: one client address hoarding
// connections, one user hoarding event streams, over the real service.
// Other loopback addresses (127.0.0.2, ...) stand for strangers: Linux
// routes all of 127/8 to the loopback interface.

// dialFrom opens a TCP connection to addr from the loopback address ip.
func dialFrom(ip, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// clientFrom is an HTTP client whose connections come from ip.
func clientFrom(ip string, jar http.CookieJar) *http.Client {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Jar: jar, Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
}

// keepAlive sends GET path on c and reads the answer, leaving c open; it
// returns the answer's status, or an error when none came within wait.
func keepAlive(c net.Conn, r *bufio.Reader, host, path string, wait time.Duration) (*http.Response, error) {
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		return nil, err
	}
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}

// TestConnectionHoarding (issue 21 point 1): a stranger, without logging
// in, holds every connection slot with keep-alive connections (GET /login
// and the probes, as the probe did with /healthz every 25 s); a producer's
// API request, the automation's event stream and a console login still
// get through at once, the hoarder's idle connections making room. The
// probes close their connections. On main the producer waited in the
// kernel's backlog until the hoarder let go.
func TestConnectionHoarding(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.IdleTimeout = time.Minute // the hoarder's connections stay unless callin ends them
	limits.MaxConns = 48
	s := startTarget(t, "", "morning", limits)
	tok := s.token(t, "automation", auth.RoleProducer)

	// The hoarder takes every slot it can get, and some more.
	held := 0
	var probeClosed, probeKept int
	for i := range limits.MaxConns + 16 {
		c, err := dialFrom("127.0.0.2", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		path := "/login"
		if i%4 == 0 {
			path = "/healthz"
		}
		res, err := keepAlive(c, bufio.NewReader(c), s.addr, path, 2*time.Second)
		if err != nil {
			t.Logf("hoarder: connection %d not served (%v): the pool is full", i, err)
			break
		}
		if path == "/healthz" {
			if res.Close {
				probeClosed++
			} else {
				probeKept++
			}
		}
		held++
	}
	t.Logf("hoarder: %d connections served", held)
	if probeKept > 0 {
		t.Errorf("%d probe answers kept their connection open (%d closed it): a probe must not hold a slot", probeKept, probeClosed)
	}

	// The producer's API request, from elsewhere.
	api := clientFrom("127.0.0.1", nil)
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/shows", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	res, err := api.Do(req)
	if err != nil {
		t.Fatalf("producer's API request with the pool hoarded: %v (after %s)", err, time.Since(start).Round(time.Millisecond))
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("producer's API request: %d", res.StatusCode)
	}
	t.Logf("producer's API request answered in %s", time.Since(start).Round(time.Millisecond))

	// The automation's event stream.
	stream := openSSEStream(t, s.base+"/api/v1/shows/morning/events", nil, withToken(tok))
	if stream.status != http.StatusOK {
		t.Fatalf("automation stream with the pool hoarded: %d %s", stream.status, stream.body)
	}

	// A producer logs in on the console and opens the show.
	jar, _ := cookiejar.New(nil)
	pat := clientFrom("127.0.0.1", jar)
	store, err := openStore(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	err = auth.AddUser(context.Background(), store, "pat", auth.RoleProducer, "a-long-password-123")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"username": {"pat"}, "password": {"a-long-password-123"}}
	req, _ = http.NewRequest(http.MethodPost, s.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	res, err = pat.Do(req)
	if err != nil {
		t.Fatalf("producer's console login with the pool hoarded: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("producer's console login: %d at %s", res.StatusCode, res.Request.URL)
	}
	console := openSSEStream(t, s.base+"/shows/morning/live", pat, nil)
	if console.status != http.StatusOK {
		t.Fatalf("producer's console stream with the pool hoarded: %d %s", console.status, console.body)
	}
	console.next(t, "header")
}

// TestStreamHoarding (issue 21 point 2): one host logs in again and again
// and opens every event stream each session may, and thirty host tokens
// do the same; the producer's console and the automation's stream still
// find room, and so does an admin's. On main the host's sessions took
// every stream (8 each) and the producer got 503.
func TestStreamHoarding(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.MaxStreams = 40
	s := startTarget(t, "", "morning", limits)
	live := s.base + "/shows/morning/live"
	events := s.base + "/api/v1/shows/morning/events"

	host := s.login(t, "hoster", auth.RoleHost, "morning")
	sessions := []*http.Client{host.c}
	for range 5 {
		sessions = append(sessions, loginAgain(t, s, "hoster"))
	}
	hostStreams := 0
	refusals := map[string]int{}
	for _, c := range sessions {
		for range 8 {
			if st := openSSEStream(t, live, c, nil); st.status == http.StatusOK {
				hostStreams++
			} else {
				refusals[fmt.Sprintf("%d %.80s", st.status, st.body)]++
			}
		}
	}
	t.Logf("one host with %d sessions holds %d streams", len(sessions), hostStreams)
	tokenStreams := 0
	for i := range 30 {
		tok := s.token(t, fmt.Sprintf("host-bot-%d", i), auth.RoleHost)
		for range 8 {
			if st := openSSEStream(t, events, nil, withToken(tok)); st.status == http.StatusOK {
				tokenStreams++
			} else {
				refusals[fmt.Sprintf("%d %.80s", st.status, st.body)]++
			}
		}
	}
	t.Logf("thirty host tokens hold %d streams; refused: %v", tokenStreams, refusals)
	d := web.DefaultLimits()
	share := min(d.StreamsPerUser, int(d.StreamShare*float64(limits.MaxStreams)))
	if hostStreams != share {
		t.Errorf("one host, %d sessions: %d streams, want the user's share, %d", len(sessions), hostStreams, share)
	}
	if want := limits.MaxStreams - limits.MaxStreams/10 - share; tokenStreams != want {
		t.Errorf("host tokens: %d streams, want all but the reserve, %d", tokenStreams, want)
	}

	pat := s.login(t, "pat", auth.RoleProducer, "morning")
	if st := openSSEStream(t, live, pat.c, nil); st.status != http.StatusOK {
		t.Errorf("producer's console stream: %d %s", st.status, st.body)
	} else {
		st.next(t, "header")
	}
	for _, who := range []struct {
		name string
		role auth.Role
	}{{"automation", auth.RoleProducer}, {"admin-bot", auth.RoleAdmin}} {
		if st := openSSEStream(t, events, nil, withToken(s.token(t, who.name, who.role))); st.status != http.StatusOK {
			t.Errorf("%s's stream (%s): %d %s", who.name, who.role, st.status, st.body)
		}
	}
}

// loginAgain logs the existing user name in once more, in a new session.
func loginAgain(t testing.TB, s *target, name string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &consoleUser{s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	res := b.post(t, "/login", url.Values{"username": {name}, "password": {"a-long-password-123"}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("login %s: %d at %s", name, res.StatusCode, res.Request.URL)
	}
	return b.c
}

// TestConnectionsPerAddress (issue 21 point 1): one address holds at most
// MaxConnsPerAddress connections. Beyond it, a new connection ends that
// address's longest-idle keep-alive connection, or, when none is idle, is
// answered 503 and closed; other addresses are not affected.
func TestConnectionsPerAddress(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.MaxConnsPerAddress = 8
	limits.ReadHeaderTimeout = 10 * time.Second // the busy ones stay busy
	limits.IdleTimeout = time.Minute
	s := startTarget(t, "", "morning", limits)
	tok := s.token(t, "automation", auth.RoleProducer)

	// 127.0.0.3 holds 8 connections busy sending their headers.
	for range limits.MaxConnsPerAddress {
		c, err := dialFrom("127.0.0.3", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /login HTTP/1.1\r\nHost: %s\r\n", s.addr)
	}
	c, err := dialFrom("127.0.0.3", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a ninth busy connection from one address: %v, want a 503", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too many connections") {
		t.Errorf("a ninth busy connection from one address: %d %s, want 503", res.StatusCode, body)
	}

	// 127.0.0.4 holds 8 idle keep-alive connections: a ninth ends the
	// longest idle.
	var idle []net.Conn
	var readers []*bufio.Reader
	for range limits.MaxConnsPerAddress {
		c, err := dialFrom("127.0.0.4", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if _, err := keepAlive(c, r, s.addr, "/login", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		idle, readers = append(idle, c), append(readers, r)
	}
	// The server marks a connection idle a moment after its answer went
	// out: a ninth connection before any is marked gets 503, and tries
	// again as a client would.
	served := false
	for try := 0; try < 50 && !served; try++ {
		c, err := dialFrom("127.0.0.4", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		res, err := keepAlive(c, bufio.NewReader(c), s.addr, "/login", 5*time.Second)
		switch {
		case err == nil && res.StatusCode == http.StatusOK:
			served = true
		case err == nil && res.StatusCode == http.StatusServiceUnavailable:
			time.Sleep(10 * time.Millisecond) // Retry-After, shortened
		default:
			t.Fatalf("a ninth connection from an address with 8 idle: %v %v", res, err)
		}
	}
	if !served {
		t.Fatal("a ninth connection from an address with 8 idle was never served")
	}
	// One of the 8 (the one marked idle first) was ended; the others
	// are served.
	ended := 0
	for i, c := range idle {
		if res, err := keepAlive(c, readers[i], s.addr, "/login", 5*time.Second); err != nil {
			ended++
		} else if res.StatusCode != http.StatusOK {
			t.Errorf("idle connection %d: %d", i, res.StatusCode)
		}
	}
	if ended != 1 {
		t.Errorf("%d of the address's 8 idle connections ended to make room for its ninth, want 1", ended)
	}

	// Another address is served.
	if code, _ := s.api(t, http.MethodGet, "/api/v1/shows", tok, ""); code != http.StatusOK {
		t.Errorf("API from 127.0.0.1: %d", code)
	}
}

// TestSessionsPerUser (issue 21 point 2): a user holds at most
// SessionsPerUser sessions; a login beyond it ends the one seen longest
// ago, and that session's event stream with it.
func TestSessionsPerUser(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.SessionsPerUser = 3
	s := startTarget(t, "", "morning", limits)
	first := s.login(t, "hoster", auth.RoleHost, "morning")
	stream := openSSEStream(t, s.base+"/shows/morning/live", first.c, nil)
	if stream.status != http.StatusOK {
		t.Fatalf("stream: %d %s", stream.status, stream.body)
	}
	stream.next(t, "header")
	var later []*http.Client
	for range limits.SessionsPerUser {
		later = append(later, loginAgain(t, s, "hoster"))
	}
	if evs := stream.ended(t); len(evs) == 0 || evs[len(evs)-1].name != "end" {
		t.Errorf("the oldest session's stream ended without an end event: %v", evs)
	}
	status := func(c *http.Client) int {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/shows/morning", nil)
		req.Header.Set("HX-Request", "true") // a 401, not a redirect
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := status(first.c); code != http.StatusUnauthorized {
		t.Errorf("the oldest of %d sessions: %d, want 401", limits.SessionsPerUser+1, code)
	}
	for i, c := range later {
		if code := status(c); code != http.StatusOK {
			t.Errorf("session %d of %d: %d, want 200", i+2, limits.SessionsPerUser+1, code)
		}
	}
}

// BenchmarkHoardSoak is the soak of issue 21: one address (127.0.0.2)
// hoards connections (4,096 attempts from 8 goroutines: GET /login kept
// alive, GET /healthz every fourth) and, as one host logged in 40 times,
// opens 8 event streams per session, while a producer's request loop
// (the show page and GET /api/v1/shows/morning, in turn, 10 ms apart) and
// the automation's event stream work beside it from 127.0.0.1. It reports
// the producer's latency before and during the hoarding (p50, p99, the
// p99 ratio; goal: at most 2, no error), what the hoarder got, and the
// goroutines and live heap before, at the peak and after the hoarder lets
// go. The limits are serve's (web.DefaultLimits) but for the request
// timeouts and the stream recheck (hostileLimits; the idle timeout stays
// 60 s, so hoarded connections stay unless callin ends them).
//
// The hoarder runs in the test's process, on the service's 2 cores, in
// three ways: "connections" opens 200 connections a second (the issue's
// probe averaged 164 requests a second) and logs in not at all; "streams"
// logs in 10 times a second (the host did 25) and opens no other
// connection; "flat-out" does both as fast as it can (about 1,000
// connections a second here, logins back to back).
//
//	go test -run '^$' -bench HoardSoak -benchtime 3x ./cmd/callin/
func BenchmarkHoardSoak(b *testing.B) {
	b.Run("connections", func(b *testing.B) { hoardSoak(b, 8, time.Second/200, 0, 0) })
	b.Run("streams", func(b *testing.B) { hoardSoak(b, 0, 0, 40, time.Second/10) })
	b.Run("flat-out", func(b *testing.B) { hoardSoak(b, 8, 0, 40, 0) })
}

// hoardSoak runs BenchmarkHoardSoak with hoarders goroutines opening
// connections (4,096 in all), one every connEvery, and logins logins,
// one every loginEvery (0: flat out).
func hoardSoak(b *testing.B, hoarders int, connEvery time.Duration, logins int, loginEvery time.Duration) {
	const (
		attempts   = 4096
		perSession = 8
		requests   = 300
	)
	limits := hostileLimits()
	d := web.DefaultLimits()
	limits.IdleTimeout, limits.ReadHeaderTimeout = d.IdleTimeout, d.ReadHeaderTimeout
	s := startTarget(b, "", "morning", limits)
	tok := s.token(b, "automation", auth.RoleProducer)
	pat := s.login(b, "pat", auth.RoleProducer, "morning")
	store, err := openStore(context.Background(), s.dbURL)
	if err != nil {
		b.Fatal(err)
	}
	err = auth.AddUser(context.Background(), store, "hoster", auth.RoleHost, "a-long-password-123")
	store.Close()
	if err != nil {
		b.Fatal(err)
	}
	events := s.base + "/api/v1/shows/morning/events"
	auto := openSSEStream(b, events, nil, withToken(tok))
	if auto.status != http.StatusOK {
		b.Fatalf("automation stream: %d %s", auto.status, auto.body)
	}
	api := &http.Client{Timeout: 10 * time.Second}
	// producer runs n requests of the producer's loop.
	producer := func(n int) (lat []time.Duration, errs []string) {
		for i := range n {
			var req *http.Request
			c := pat.c
			if i%2 == 0 {
				req, _ = http.NewRequest(http.MethodGet, s.base+"/shows/morning", nil)
			} else {
				req, _ = http.NewRequest(http.MethodGet, s.base+"/api/v1/shows/morning", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				c = api
			}
			start := time.Now()
			res, err := c.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err == nil && res.StatusCode != http.StatusOK {
					err = fmt.Errorf("%s: %d", req.URL.Path, res.StatusCode)
				}
			}
			lat = append(lat, time.Since(start))
			if err != nil {
				errs = append(errs, err.Error())
			}
			time.Sleep(10 * time.Millisecond)
		}
		return lat, errs
	}
	pct := func(lat []time.Duration, p float64) time.Duration {
		l := slices.Clone(lat)
		slices.Sort(l)
		return l[min(len(l)-1, int(p*float64(len(l))))]
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

	producer(50) // warm up
	g0, h0 := settleMem()
	b.ResetTimer()
	for range b.N {
		before, errsBefore := producer(requests)

		// The hoarder.
		var (
			mu                              sync.Mutex
			held                            []net.Conn
			served, refused, failed, probes int
			streamsOK, streams429, streamsX int
			streamsHeld                     []*sseStream
			transports                      []*http.Transport
			wg                              sync.WaitGroup
			tries                           atomic.Int32
		)
		stop := make(chan struct{})
		pace := func(every time.Duration) func() {
			if every == 0 {
				return func() {}
			}
			tick := time.NewTicker(every)
			return func() { <-tick.C }
		}
		connPace := pace(connEvery)
		for range hoarders {
			wg.Go(func() {
				for tries.Add(1) <= attempts {
					select {
					case <-stop:
						return
					default:
					}
					connPace()
					c, err := dialFrom("127.0.0.2", s.addr)
					if err != nil {
						mu.Lock()
						failed++
						mu.Unlock()
						continue
					}
					path := "/login"
					if tries.Load()%4 == 0 {
						path = "/healthz"
					}
					res, err := keepAlive(c, bufio.NewReader(c), s.addr, path, 5*time.Second)
					mu.Lock()
					switch {
					case err != nil:
						failed++
						c.Close()
					case res.StatusCode == http.StatusServiceUnavailable:
						refused++
						c.Close()
					case res.Close:
						probes++
						c.Close()
					default:
						served++
						held = append(held, c)
					}
					mu.Unlock()
				}
			})
		}
		wg.Go(func() {
			loginPace := pace(loginEvery)
			for range logins {
				loginPace()
				jar, _ := cookiejar.New(nil)
				tr := clientFrom("127.0.0.2", nil).Transport.(*http.Transport)
				mu.Lock()
				transports = append(transports, tr)
				mu.Unlock()
				c := &http.Client{Jar: jar, Transport: tr}
				form := url.Values{"username": {"hoster"}, "password": {"a-long-password-123"}}
				req, _ := http.NewRequest(http.MethodPost, s.base+"/login", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", s.base)
				res, err := c.Do(req)
				if err != nil {
					mu.Lock()
					streamsX++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				for range perSession {
					st := openSSEStream(b, s.base+"/shows/morning/live", c, nil)
					mu.Lock()
					switch st.status {
					case http.StatusOK:
						streamsOK++
						streamsHeld = append(streamsHeld, st)
					case http.StatusTooManyRequests:
						streams429++
					default:
						streamsX++
					}
					mu.Unlock()
				}
			}
		})
		during, errsDuring := producer(requests)
		close(stop)
		wg.Wait()
		peakG := runtime.NumGoroutine()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)

		// The automation's stream went on: a caller arriving is on it.
		if _, err := s.pbx.Call(context.Background(), aritest.CallOptions{Args: []string{"morning"}, Number: "+12025550142"}); err != nil {
			b.Fatal(err)
		}
		auto.next(b, "transition")

		// The hoarder lets go.
		stillOpen := 0
		for _, c := range held {
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				stillOpen++
			}
			c.Close()
		}
		for _, st := range streamsHeld {
			st.cancel()
		}
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
		g1, h1 := settleMemTo(g0)
		// The loop once more, a second baseline: the machine's load
		// changes under the figures.
		after, errsAfter := producer(requests)
		errsBefore = append(errsBefore, errsAfter...)
		b.Logf("producer p50/p99 %s/%s before, %s/%s during (p99 ×%.2f), %s/%s after, %d errors; hoarder: %d served, %d still held at the end, "+
			"%d refused 503, %d probes closed, %d failed; %d streams, %d refused 429; goroutines %d/%d/%d, heap %.1f/%.1f/%.1f MiB (before/peak/after)",
			pct(before, 0.5), pct(before, 0.99), pct(during, 0.5), pct(during, 0.99), float64(pct(during, 0.99))/float64(pct(before, 0.99)),
			pct(after, 0.5), pct(after, 0.99),
			len(errsBefore)+len(errsDuring), served, stillOpen, refused, probes, failed, streamsOK, streams429,
			g0, peakG, g1, float64(h0)/(1<<20), float64(m.HeapAlloc)/(1<<20), float64(h1)/(1<<20))

		b.ReportMetric(ms(pct(before, 0.5)), "p50ms-before")
		b.ReportMetric(ms(pct(before, 0.99)), "p99ms-before")
		b.ReportMetric(ms(pct(during, 0.5)), "p50ms-during")
		b.ReportMetric(ms(pct(during, 0.99)), "p99ms-during")
		b.ReportMetric(float64(pct(during, 0.99))/float64(pct(before, 0.99)), "p99-ratio")
		b.ReportMetric(ms(pct(after, 0.99)), "p99ms-after")
		b.ReportMetric(float64(len(errsBefore)+len(errsDuring)), "producer-errors")
		b.ReportMetric(float64(served), "hoard-served")
		b.ReportMetric(float64(stillOpen), "hoard-held-at-end")
		b.ReportMetric(float64(refused), "hoard-503")
		b.ReportMetric(float64(probes), "hoard-probes-closed")
		b.ReportMetric(float64(failed), "hoard-failed")
		b.ReportMetric(float64(streamsOK), "hoard-streams")
		b.ReportMetric(float64(streams429), "hoard-streams-429")
		b.ReportMetric(float64(g0), "goroutines-before")
		b.ReportMetric(float64(peakG), "goroutines-peak")
		b.ReportMetric(float64(g1), "goroutines-after")
		b.ReportMetric(float64(h0)/(1<<20), "heapMiB-before")
		b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heapMiB-peak")
		b.ReportMetric(float64(h1)/(1<<20), "heapMiB-after")
		for _, e := range append(errsBefore, errsDuring...)[:min(5, len(errsBefore)+len(errsDuring))] {
			b.Errorf("producer: %s", e)
		}
		if streamsX > 0 {
			b.Errorf("hoarder: %d logins or streams failed otherwise than 429", streamsX)
		}
		if g1 > g0+5 || h1 > h0+16<<20 {
			b.Errorf("not back to the baseline: goroutines %d -> %d, heap %d -> %d MiB", g0, g1, h0>>20, h1>>20)
		}
	}
}
