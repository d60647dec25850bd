package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/web/auth"
)

// The tests of issue 21 ("Hostile clients, round two") that need the
// whole service: real listener, auth, PostgreSQL.

// get sends method to path with a Host header (""/: the listener's) and
// more headers as name, value pairs, and returns the answer and its body.
func (s *target) raw(t *testing.T, method, path, host string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, nil)
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// TestSmallerHoles (point 11): no PostgreSQL text in 4xx bodies; no
// folder listing under /static/; the security headers on the probes and
// /metrics; only allowed Host headers; HEAD as GET; refused streams log
// no ERROR line each.
func TestSmallerHoles(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.StreamsPerUser, limits.MaxStreams, limits.StreamsReserved, limits.StreamShare = 1, 2, -1, 1
	s := startTarget(t, "", "morning", limits)
	tok := s.token(t, "robot", auth.RoleProducer)

	t.Run("NoDatabaseText", func(t *testing.T) {
		for _, p := range []string{
			"/api/v1/callers?q=%FF%FE",
			"/api/v1/callers/%2B1555%FF0100",
			"/api/v1/callers/%2B15550100",
			"/api/v1/callers/%2B15550100/notes",
			"/api/v1/shows/morning/calls?from=2026-01-01T00:00:00Z&q=%FF",
			"/api/v1/shows/morning/recordings/nothing-here/file",
			"/api/v1/shows/morning/recordings/%FF%00/file",
			"/shows/morning/recordings/%FF/file",
			"/api/v1/shows/morning/callers/no-such-call",
		} {
			res, body := s.raw(t, "GET", p, "", "Authorization", "Bearer "+tok)
			for _, leak := range []string{"byte sequence", "no rows", "SQLSTATE", "ERROR:", "pgx", "violates"} {
				if strings.Contains(body, leak) {
					t.Errorf("GET %s: %d %s: has the database's text %q", p, res.StatusCode, body, leak)
				}
			}
		}
	})

	t.Run("StaticListsNothing", func(t *testing.T) {
		for _, p := range []string{"/static/", "/static/licenses/", "/static/licenses"} {
			if res, body := s.raw(t, "GET", p, ""); res.StatusCode != http.StatusNotFound || strings.Contains(body, "console.js") || strings.Contains(body, "<a href") {
				t.Errorf("GET %s: %d %.200s, want 404", p, res.StatusCode, body)
			}
		}
		if res, _ := s.raw(t, "GET", "/static/console.js", ""); res.StatusCode != http.StatusOK {
			t.Errorf("GET /static/console.js: %d", res.StatusCode)
		}
	})

	t.Run("SecurityHeaders", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/login", "/api/v1/openapi.json"} {
			res, _ := s.raw(t, "GET", p, "")
			for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control"} {
				if res.Header.Get(h) == "" {
					t.Errorf("GET %s: no %s", p, h)
				}
			}
		}
	})

	t.Run("AllowedHosts", func(t *testing.T) {
		_, port, _ := strings.Cut(s.addr, ":")
		for _, p := range []string{"/login", "/metrics", "/healthz", "/api/v1/openapi.json"} {
			for host, want := range map[string]int{
				"evil.example":             http.StatusMisdirectedRequest,
				"evil.example:" + port:     http.StatusMisdirectedRequest,
				"127.0.0.1.nip.io:" + port: http.StatusMisdirectedRequest,
				"localhost:" + port:        http.StatusOK,
				"127.0.0.1:" + port:        http.StatusOK,
				"[::1]:" + port:            http.StatusOK,
				"LOCALHOST.:" + port:       http.StatusOK,
			} {
				if res, body := s.raw(t, "GET", p, host); res.StatusCode != want {
					t.Errorf("GET %s with Host %s: %d %.200s, want %d", p, host, res.StatusCode, body, want)
				}
			}
		}
	})

	t.Run("Head", func(t *testing.T) {
		for _, p := range []string{"/login", "/healthz", "/readyz", "/api/v1/openapi.json", "/static/console.js"} {
			if res, body := s.raw(t, "HEAD", p, ""); res.StatusCode != http.StatusOK || body != "" {
				t.Errorf("HEAD %s: %d %q, want 200 and no body", p, res.StatusCode, body)
			}
		}
		if res, _ := s.raw(t, "HEAD", "/api/v1/shows", "", "Authorization", "Bearer "+tok); res.StatusCode != http.StatusOK {
			t.Errorf("HEAD /api/v1/shows: %d", res.StatusCode)
		}
		// An event stream answers HEAD with its headers and ends: three
		// times in a row on one connection (a connection serves its next
		// request once the last handler returned), holding no stream (the
		// token may hold one).
		one := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 10 * time.Second}
		defer one.CloseIdleConnections()
		for i := range 3 {
			req, _ := http.NewRequest(http.MethodHead, s.base+"/api/v1/shows/morning/events", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := one.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Errorf("HEAD events, %d: %d %s", i+1, res.StatusCode, res.Header.Get("Content-Type"))
			}
		}
		// Once this is answered on that connection, the last HEAD's
		// handler has returned.
		if res, err := one.Get(s.base + "/healthz"); err != nil {
			t.Fatal(err)
		} else {
			res.Body.Close()
		}
	})

	t.Run("RefusedStreamsLogLittle", func(t *testing.T) {
		events := s.base + "/api/v1/shows/morning/events"
		keep := openSSEStream(t, events, nil, withToken(tok))
		if keep.status != http.StatusOK {
			t.Fatalf("stream: %d %s", keep.status, keep.body)
		}
		other := s.token(t, "other", auth.RoleHost)
		if st := openSSEStream(t, events, nil, withToken(other)); st.status != http.StatusOK {
			t.Fatalf("stream: %d %s", st.status, st.body)
		}
		third := s.token(t, "third", auth.RoleHost)
		before := strings.Count(s.stderr.String(), "\n")
		for range 50 {
			if st := openSSEStream(t, events, nil, withToken(tok)); st.status != http.StatusTooManyRequests {
				t.Fatalf("a second stream of one token: %d %s, want 429", st.status, st.body)
			}
			if st := openSSEStream(t, events, nil, withToken(third)); st.status != http.StatusServiceUnavailable {
				t.Fatalf("a stream beyond the total: %d %s, want 503", st.status, st.body)
			}
		}
		lines := strings.Split(s.stderr.String(), "\n")[before:]
		var refusals int
		for _, l := range lines {
			if strings.Contains(l, "level=ERROR") {
				t.Errorf("an ERROR line for a refused stream: %s", l)
			}
			if strings.Contains(l, "/events") && (strings.Contains(l, "429") || strings.Contains(l, "503")) {
				refusals++
			}
		}
		if refusals > 2 {
			t.Errorf("100 refused streams logged %d lines, want at most 2", refusals)
		}
	})
}

// TestTokenNames (point 10): `callin token create` refuses names with
// escape codes, newlines, invisible characters or over 40 characters; a
// token acts in the chat, on blocks and on caller notes as "token:NAME",
// never passing for the user of that name.
func TestTokenNames(t *testing.T) {
	t.Parallel()
	s := startTarget(t, "", "morning", hostileLimits())
	env := envMap(map[string]string{"CALLIN_DATABASE_URL": s.dbURL})
	create := func(name string) error {
		return run(context.Background(), []string{"token", "create", "--role", "producer", name}, strings.NewReader(""), io.Discard, io.Discard, env)
	}
	for _, name := range []string{
		"evil\x1b[2J",
		"two\nlines",
		"tab\there",
		"right\u202eto-left",
		"zero\u200bwidth",
		strings.Repeat("x", 41),
		"   ",
	} {
		if err := create(name); err == nil {
			t.Errorf("token name %q accepted", name)
		}
	}
	if err := create("Büro bot #1"); err != nil {
		t.Errorf("a plain name: %v", err)
	}
	var list strings.Builder
	if err := run(context.Background(), []string{"token", "list"}, strings.NewReader(""), &list, io.Discard, env); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(list.String(), "\n"); rows != 2 || !strings.Contains(list.String(), "Büro bot #1") {
		t.Errorf("token list: %d lines:\n%s", rows, list.String())
	}

	// A token named as a user acts as a token.
	s.login(t, "producer", auth.RoleProducer, "morning")
	tok := s.token(t, "producer", auth.RoleProducer)
	if code, body := s.api(t, "POST", "/api/v1/shows/morning/chat", tok, `{"text":"hello"}`); code != http.StatusOK {
		t.Fatalf("chat: %d %v", code, body)
	}
	code, body := s.api(t, "GET", "/api/v1/shows/morning/chat", tok, "")
	msgs, _ := body["messages"].([]any)
	if code != http.StatusOK || len(msgs) != 1 || msgs[0].(map[string]any)["author"] != "token:producer" {
		t.Errorf("chat as the token producer: %d %v, want author token:producer", code, body)
	}
	if code, body := s.api(t, "PUT", "/api/v1/callers/+15550100/block", tok, `{"reason":"abuse"}`); code != http.StatusOK {
		t.Fatalf("block: %d %v", code, body)
	}
	if code, body := s.api(t, "GET", "/api/v1/callers/+15550100", tok, ""); code != http.StatusOK || !strings.Contains(fmt.Sprint(body), "token:producer") {
		t.Errorf("the blocked caller's profile: %d %v, want blocked by token:producer", code, body)
	}
}
