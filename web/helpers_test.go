package web

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// env is a Server on the fakes, served by httptest and running.
type env struct {
	auth  *fakeAuth
	app   *fakeApp
	hist  *fakeHistory
	chat  *fakeChat
	notes *fakeNotes
	srv   *Server
	ts    *httptest.Server
}

func newEnv(t testing.TB, tune ...func(*Config)) *env {
	t.Helper()
	e := &env{auth: newFakeAuth(), app: newFakeApp("morning"), hist: &fakeHistory{}, chat: &fakeChat{at: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)},
		notes: newFakeNotes()}
	cfg := Config{Shows: e.app, Feed: e.app, Callers: e.app, Controls: e.app, History: e.hist, Chat: e.chat, Auth: e.auth, Notes: e.notes,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RenderEvery: time.Millisecond,
		Now:      func() time.Time { return e.app.now },
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
		case <-e.app.subCh:
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

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	ID, Name, Data string
	Comment        bool
}

// sseStream reads events from an open SSE response.
type sseStream struct {
	res  *http.Response
	ch   chan sseEvent
	read atomic.Int64 // bytes read from the stream
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openSSE opens an SSE stream and reads it in the background.
func openSSE(t testing.TB, req *http.Request) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("SSE %s: status %d: %s", req.URL, res.StatusCode, b)
	}
	s := &sseStream{res: res, ch: make(chan sseEvent, 10000)}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(s.ch)
		sc := bufio.NewScanner(countingReader{res.Body, &s.read})
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || ev.Comment || len(data) > 0 {
					ev.Data = strings.Join(data, "\n")
					s.ch <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
				ev.Comment = true
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[6:])
			}
		}
	}()
	return s
}

// next returns the next event that match accepts, skipping others.
func (s *sseStream) next(t testing.TB, match func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-s.ch:
			if !ok {
				t.Fatalf("SSE stream ended")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no matching SSE event in 5s")
		}
	}
}

// named matches events by name (and data containing want, if given).
func named(name string, want ...string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		if ev.Name != name {
			return false
		}
		for _, w := range want {
			if !strings.Contains(ev.Data, w) {
				return false
			}
		}
		return true
	}
}
