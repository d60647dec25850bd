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
	"strings"
	"testing"
	"time"

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
	limits.LoginsPerUser = 24 // 6 at once: the host's 6 sessions
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
