// Package webenv is a whole Server (package web) on the fakes of
// package webtest, served by httptest, that the tests of web, web/console
// and web/rest drive, with the helpers they share. It is apart from
// webtest so that the tests inside web/console and web/rest, which web
// imports, can use the fakes.
package webenv

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
)

// Env is a Server on the fakes, served by httptest and running.
type Env struct {
	Auth  *webtest.Auth
	App   *webtest.App
	Hist  *webtest.History
	Chat  *webtest.Chat
	Notes *webtest.Notes
	Srv   *web.Server
	TS    *httptest.Server
}

// New starts a Server on new fakes with one show, "morning", tuned by
// tune, every API exchange checked against the OpenAPI document
// (ValidateAPI); it is stopped when t ends.
func New(t testing.TB, tune ...func(*core.Config)) *Env {
	t.Helper()
	e := &Env{Auth: webtest.NewAuth(), App: webtest.NewApp("morning"), Hist: &webtest.History{}, Chat: &webtest.Chat{At: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)},
		Notes: webtest.NewNotes()}
	cfg := core.Config{Shows: e.App, Feed: e.App, Callers: e.App, Controls: e.App, History: e.Hist, Chat: e.Chat, Auth: e.Auth, Notes: e.Notes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RenderEvery: time.Millisecond,
		Now:      func() time.Time { return e.App.Now },
		Talkback: map[string]core.TalkbackRules{"morning": {Phones: []string{"PJSIP/producer", "PJSIP/studio"}}},
		Blocks:   e.App}
	if _, ok := t.(*testing.B); ok {
		// Benchmarks open many consoles with one session.
		cfg.Limits.StreamsPerUser, cfg.Limits.MaxStreams, cfg.Limits.StreamShare = 100_000, 100_000, 1
	}
	for _, f := range tune {
		f(&cfg)
	}
	e.Srv = web.New(cfg)
	e.TS = httptest.NewServer(ValidateAPI(t, e.Srv.Handler())) // every API exchange checked against the document
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Srv.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.TS.Close()
	})
	e.WaitSubscribed(t, 1)
	return e
}

// WaitSubscribed waits for n more subscriptions of the hub.
func (e *Env) WaitSubscribed(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-e.App.SubCh:
		case <-time.After(5 * time.Second):
			t.Fatalf("hub never subscribed")
		}
	}
}

// API sends an API request with a bearer token for role ("" for none),
// with more headers as name, value pairs; a JSON body or problem is
// decoded.
func (e *Env) API(t testing.TB, method, path, role, body string, hdr ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.TS.URL+path, strings.NewReader(body))
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+role)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); len(b) > 0 && (strings.HasPrefix(ct, "application/json") || ct == "application/problem+json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return res, out
}

// Console sends a console request as user name with role, with more
// headers as name, value pairs.
func (e *Env) Console(t testing.TB, method, path, name string, form string, htmx bool, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.TS.URL+path, strings.NewReader(form))
	req.AddCookie(&http.Cookie{Name: "session", Value: name + ":" + name})
	req.Header.Set("X-CSRF-Token", "csrf-"+name)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}
