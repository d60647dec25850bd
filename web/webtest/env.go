package webtest

import (
	"context"
	"encoding/json"
	"github.com/callin-radio/callin/web/webtest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// env is a Server on the fakes, served by httptest and running.
type env struct {
	auth  *webtest.Auth
	app   *webtest.App
	hist  *webtest.History
	chat  *webtest.Chat
	notes *webtest.Notes
	srv   *Server
	ts    *httptest.Server
}

func newEnv(t testing.TB, tune ...func(*Config)) *env {
	t.Helper()
	e := &env{auth: webtest.NewAuth(), app: webtest.NewApp("morning"), hist: &webtest.History{}, chat: &webtest.Chat{At: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)},
		notes: webtest.NewNotes()}
	cfg := Config{Shows: e.app, Feed: e.app, Callers: e.app, Controls: e.app, History: e.hist, Chat: e.chat, Auth: e.auth, Notes: e.notes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RenderEvery: time.Millisecond,
		Now:      func() time.Time { return e.app.Now },
		Talkback: map[string]TalkbackRules{"morning": {Phones: []string{"PJSIP/producer", "PJSIP/studio"}}},
		Blocks:   e.app}
	if _, ok := t.(*testing.B); ok {
		// Benchmarks open many consoles with one session.
		cfg.Limits.StreamsPerUser, cfg.Limits.MaxStreams, cfg.Limits.StreamShare = 100_000, 100_000, 1
	}
	for _, f := range tune {
		f(&cfg)
	}
	e.srv = New(cfg)
	e.ts = httptest.NewServer(validateAPI(t, e.srv.Handler())) // every API exchange checked against the document
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.srv.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		e.ts.Close()
	})
	e.waitSubscribed(t, 1)
	return e
}

// waitSubscribed waits for n more subscriptions of the hub.
func (e *env) waitSubscribed(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-e.app.SubCh:
		case <-time.After(5 * time.Second):
			t.Fatalf("hub never subscribed")
		}
	}
}

// api sends an API request with a bearer token for role ("" for none).
func (e *env) api(t testing.TB, method, path, role, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+role)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return res, out
}

// console sends a console request as user name with role, with more
// headers as name, value pairs.
func (e *env) console(t testing.TB, method, path, name string, form string, htmx bool, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+path, strings.NewReader(form))
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
