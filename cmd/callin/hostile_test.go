package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/internal/showspec"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// The tests of issue 10 ("Hostile clients") that need the whole service:
// real listener, real auth and database, the Stasis app on a fake
// Asterisk. Limits are shortened so that the timeouts show in seconds;
// serve runs with web.DefaultLimits, the same mechanism.

// hostileLimits are web.DefaultLimits with timeouts a test can wait for.
func hostileLimits() web.Limits {
	l := web.DefaultLimits()
	l.ReadHeaderTimeout = 500 * time.Millisecond
	l.ReadTimeout = time.Second
	l.IdleTimeout = time.Second
	l.WriteTimeout = 5 * time.Second
	l.StreamWriteTimeout = time.Second
	l.StreamRecheck = time.Second
	return l
}

// target is the service under attack: callin running in the test.
type target struct {
	base, addr, dbURL string
	pbx               *aritest.Server
	stderr            *syncBuffer
	cancel            context.CancelFunc
	done              chan error
}

// startTarget runs the service on dbURL (a fresh test database when
// empty) and a fake Asterisk, with show (a --show spec) and limits.
func startTarget(t testing.TB, dbURL, show string, limits web.Limits) *target {
	t.Helper()
	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	return startTargetOn(t, dbURL, pbx, show, limits, 0)
}

// startTargetOn runs the service as startTarget does, on the fake Asterisk
// pbx (which another instance may share), checking its node claim every
// claimEvery (0: serve's interval); more change its configuration.
func startTargetOn(t testing.TB, dbURL string, pbx *aritest.Server, show string, limits web.Limits, claimEvery time.Duration, more ...func(*stackConfig)) *target {
	t.Helper()
	if dbURL == "" {
		dbURL = pgtest.URL(t)
	}
	spec, err := showspec.Parse(show, "main")
	if err != nil {
		t.Fatal(err)
	}
	s := &target{dbURL: dbURL, pbx: pbx, stderr: newSyncBuffer(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	started := make(chan string, 1)
	cfg := stackConfig{
		Listen: "127.0.0.1:0", DatabaseURL: dbURL, App: "callin",
		Nodes:      []nodeSpec{{Name: "main", URL: s.pbx.URL(), User: s.pbx.User(), Password: s.pbx.Password()}},
		Shows:      []showspec.Spec{spec},
		Journal:    filepath.Join(t.TempDir(), "journal"),
		Logger:     slog.New(slog.NewTextHandler(s.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Limits:     limits,
		Started:    func(addr string) { started <- addr },
		ClaimEvery: claimEvery, ReloadEvery: claimEvery,
	}
	for _, f := range more {
		f(&cfg)
	}
	go func() { s.done <- runStack(ctx, cfg) }()
	select {
	case s.addr = <-started:
	case err := <-s.done:
		t.Fatalf("service ended: %v\n%s", err, s.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("service did not start")
	}
	s.base = "http://" + s.addr
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("service log:\n%s", s.stderr.String())
		}
	})
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := s.pbx.WaitApp(wctx, "callin", true); err != nil {
		t.Fatal(err)
	}
	return s
}

// stop ends the service and waits for it.
func (s *target) stop(t testing.TB) {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if !ok {
			return // stopped already
		}
		if err != nil {
			t.Errorf("service ended with %v", err)
		}
		close(s.done)
	case <-time.After(30 * time.Second):
		t.Error("service did not stop")
	}
}

// token creates an API token.
func (s *target) token(t testing.TB, name string, role auth.Role) string {
	t.Helper()
	store, err := openStore(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tok, err := auth.CreateToken(context.Background(), store, name, role, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// revoke revokes an API token, as `callin token revoke` does.
func (s *target) revoke(t testing.TB, name string) {
	t.Helper()
	store, err := openStore(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := auth.RevokeToken(context.Background(), store, name); err != nil {
		t.Fatal(err)
	}
}

// consoleUser is a console user's HTTP client, logged in.
type consoleUser struct {
	s    *target
	c    *http.Client
	csrf string
}

// login adds a user and logs them in; csrf is read from the show page.
func (s *target) login(t testing.TB, name string, role auth.Role, show string) *consoleUser {
	t.Helper()
	store, err := openStore(context.Background(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "a-long-password-123"
	err = auth.AddUser(context.Background(), store, name, role, pw)
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &consoleUser{s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	res := b.post(t, "/login", url.Values{"username": {name}, "password": {pw}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("login: %d at %s", res.StatusCode, res.Request.URL)
	}
	res, err = b.c.Get(s.base + "/shows/" + show)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the show page: %d %.300s", res.StatusCode, page)
	}
	b.csrf = string(m[1])
	return b
}

// post posts a form from the console's origin.
func (b *consoleUser) post(t testing.TB, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.base)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// api sends an API request with a bearer token and decodes the answer.
func (s *target) api(t testing.TB, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// sseStream is an open event stream read in the background; ch closes when
// the server ends it.
type sseStream struct {
	status int
	body   []byte // when refused
	ch     chan sseEvent
	cancel context.CancelFunc
}

// openSSEStream opens an event stream with setup's credentials.
func openSSEStream(t testing.TB, url string, c *http.Client, setup func(*http.Request)) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if setup != nil {
		setup(req)
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st := &sseStream{status: res.StatusCode, ch: make(chan sseEvent, 1024), cancel: cancel}
	t.Cleanup(cancel)
	if res.StatusCode != http.StatusOK {
		st.body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		close(st.ch)
		return st
	}
	go func() {
		defer close(st.ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					select {
					case st.ch <- ev:
					default: // nobody reads this stream's events
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[len("data: "):]
			}
		}
	}()
	return st
}

// next waits for an event named name (skipping others).
func (st *sseStream) next(t testing.TB, name string) sseEvent {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-st.ch:
			if !ok {
				t.Fatalf("stream ended waiting for %q", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event in 15 s", name)
		}
	}
}

// ended waits until the server has ended the stream, and returns the
// events it sent last.
func (st *sseStream) ended(t testing.TB) []sseEvent {
	t.Helper()
	var evs []sseEvent
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-st.ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timeout:
			t.Fatal("the stream is still open")
		}
	}
}

func withToken(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// TestHostileClients (points 1 and 2): idle keep-alive connections, slow
// headers, request bodies trickled a byte at a time and big multipart
// uploads are all cut off, over a real listener, and the goroutines and
// memory they held come back. Not parallel: it counts the process's
// goroutines.
func TestHostileClients(t *testing.T) {
	s := startTarget(t, "", "morning", hostileLimits())
	goroutines0, heap0 := settleMem()

	const n = 30
	var wg sync.WaitGroup
	results := make(chan string, 4*n)
	// ends runs a client and reports how it ended: within 10 s, or never.
	ends := func(kind string, client func(c net.Conn) string) {
		wg.Go(func() {
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				results <- kind + ": " + err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			results <- kind + ": " + client(c)
		})
	}
	// closed reads until the server closes the connection (an end of
	// file, or a reset when it closes with our bytes unread).
	closed := func(c io.Reader) string {
		_, err := io.Copy(io.Discard, c)
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return "not closed by the server: " + err.Error()
		}
		return "closed"
	}
	// trickle writes p a byte every 100 ms until a write fails.
	trickle := func(c net.Conn, p string) {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < len(p); i++ {
			if _, err := c.Write([]byte{p[i]}); err != nil {
				return
			}
			<-tick.C
		}
	}
	for range n {
		ends("idle", func(c net.Conn) string {
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", s.addr)
			r := bufio.NewReader(c)
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				return err.Error()
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return closed(r)
		})
		ends("slow headers", func(c net.Conn) string {
			go trickle(c, fmt.Sprintf("GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Slow: %s\r\n\r\n", s.addr, strings.Repeat("a", 200)))
			return closed(c)
		})
		ends("slow body", func(c net.Conn) string {
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", s.addr)
			go trickle(c, "username=alice&password="+strings.Repeat("x", 976))
			return closed(c)
		})
	}
	for range 8 {
		ends("big form", func(c net.Conn) string {
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", s.addr, 30<<20)
			go func() {
				chunk := bytes.Repeat([]byte("a"), 64<<10)
				for range 16 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return "no answer: " + err.Error()
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnsupportedMediaType {
				return fmt.Sprintf("answered %d", res.StatusCode)
			}
			return "closed"
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		if !strings.HasSuffix(r, ": closed") {
			t.Error(r)
		}
	}
	goroutines, heap := settleMemTo(goroutines0)
	if goroutines > goroutines0+5 {
		t.Errorf("goroutines: %d before, %d after the hostile clients left", goroutines0, goroutines)
	}
	if heap > heap0+16<<20 {
		t.Errorf("live heap: %d MiB before, %d MiB after", heap0>>20, heap>>20)
	}
	// The service still serves.
	if code := getJSON(t, s.base+"/healthz", &struct{}{}); code != http.StatusOK {
		t.Errorf("healthz after: %d", code)
	}
}

// settleMem collects garbage and returns the goroutines and the live
// heap. Twice: a sync.Pool's objects outlive one collection.
func settleMem() (goroutines int, heap uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// settleMemTo waits (up to 10 s) for the goroutines to come down to want:
// connections and handlers end a moment after their clients see them end.
func settleMemTo(want int) (goroutines int, heap uint64) {
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		goroutines, heap = settleMem()
		if goroutines <= want || time.Now().After(deadline) {
			return goroutines, heap
		}
		<-tick.C
	}
}

// TestHostileStreams (points 3, 5 and 13's logout): streams of a revoked
// token and of a session that logged out end; a token holds at most
// StreamsPerUser streams; logging out of an ended session still
// goes to the login page.
func TestHostileStreams(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.StreamRecheck = 200 * time.Millisecond
	limits.StreamsPerUser = 3
	s := startTarget(t, "", "morning", limits)
	tok := s.token(t, "robot", auth.RoleProducer)
	events := s.base + "/api/v1/shows/morning/events"

	var streams []*sseStream
	for range 3 {
		st := openSSEStream(t, events, nil, withToken(tok))
		if st.status != http.StatusOK {
			t.Fatalf("stream: %d %s", st.status, st.body)
		}
		streams = append(streams, st)
	}
	if st := openSSEStream(t, events, nil, withToken(tok)); st.status != http.StatusTooManyRequests {
		t.Errorf("a fourth stream of one token: %d %s, want 429", st.status, st.body)
	}
	other := s.token(t, "other", auth.RoleHost)
	keep := openSSEStream(t, events, nil, withToken(other))
	opened := time.Now()

	s.revoke(t, "robot")
	for i, st := range streams {
		evs := st.ended(t)
		if len(evs) == 0 || evs[len(evs)-1].name != "end" {
			t.Errorf("revoked stream %d ended without an end event: %v", i, evs)
		}
	}
	if code, _ := s.api(t, "GET", "/api/v1/shows", tok, ""); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", code)
	}

	pat := s.login(t, "pat", auth.RoleProducer, "morning")
	console := openSSEStream(t, s.base+"/shows/morning/live", pat.c, nil)
	console.next(t, "header")
	res := pat.post(t, "/logout", url.Values{"csrf_token": {pat.csrf}})
	if res.Request.URL.Path != "/login" {
		t.Fatalf("logout ended at %s", res.Request.URL)
	}
	if evs := console.ended(t); len(evs) == 0 || evs[len(evs)-1].name != "end" {
		t.Errorf("the console stream of a logged-out session ended without an end event: %v", evs)
	}
	// The other token's stream goes on, past every server timeout but
	// its own: a caller arriving seconds later is on it.
	<-time.After(time.Until(opened.Add(2 * (limits.ReadTimeout + limits.IdleTimeout))))
	if _, err := s.pbx.Call(t.Context(), aritest.CallOptions{Args: []string{"morning"}, Number: "+12025550199"}); err != nil {
		t.Fatal(err)
	}
	keep.next(t, "transition")
}

// TestLogoutOfEndedSession (point 13): a browser whose session has ended
// (logged out in another tab, expired) and which posts the logout form
// again is sent to the login page with its cookie cleared, not answered
// a JSON 401.
func TestLogoutOfEndedSession(t *testing.T) {
	t.Parallel()
	s := startTarget(t, "", "morning", hostileLimits())
	pat := s.login(t, "pat", auth.RoleProducer, "morning")
	u, _ := url.Parse(s.base)
	cookies := pat.c.Jar.Cookies(u)
	if len(cookies) == 0 {
		t.Fatal("no session cookie")
	}
	pat.post(t, "/logout", url.Values{"csrf_token": {pat.csrf}})
	req, _ := http.NewRequest(http.MethodPost, s.base+"/logout", strings.NewReader(url.Values{"csrf_token": {pat.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.base)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout of an ended session: %d to %q %s, want 303 to /login", res.StatusCode, res.Header.Get("Location"), body)
	}
	if sc := res.Header.Get("Set-Cookie"); !strings.Contains(sc, "callin_session=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("cookie not cleared: %q", sc)
	}
}

// TestBlockReachesCallersInLine (point 12): a number blocked while its
// caller waits flags the caller, and take-next passes them by; a producer
// can still put them on air by name.
func TestBlockReachesCallersInLine(t *testing.T) {
	t.Parallel()
	s := startTarget(t, "", "morning", hostileLimits())
	tok := s.token(t, "robot", auth.RoleProducer)
	st := openSSEStream(t, s.base+"/api/v1/shows/morning/events", nil, withToken(tok))
	ctx := t.Context()
	ids := map[string]string{} // number -> call id
	for _, number := range []string{"+12025550101", "+12025550102"} {
		if _, err := s.pbx.Call(ctx, aritest.CallOptions{Args: []string{"morning"}, Number: number, Name: "Caller"}); err != nil {
			t.Fatal(err)
		}
		for {
			var tr queue.Transition
			if err := json.Unmarshal([]byte(st.next(t, "transition").data), &tr); err != nil {
				t.Fatal(err)
			}
			if tr.Number == number && tr.To == queue.StateWaiting {
				ids[number] = tr.CallID
				break
			}
		}
	}
	code, body := s.api(t, "PUT", "/api/v1/callers/+1%20202%20555%200101/block", tok, `{"reason":"threats on air last week"}`)
	if code != http.StatusOK {
		t.Fatalf("block: %d %v", code, body)
	}
	code, body = s.api(t, "GET", "/api/v1/shows/morning/callers?state=waiting", tok, "")
	if code != http.StatusOK {
		t.Fatalf("callers: %d %v", code, body)
	}
	flagged := map[string]bool{}
	for _, c := range body["callers"].([]any) {
		c := c.(map[string]any)
		flagged[c["id"].(string)] = c["blocked"] == true
	}
	if !flagged[ids["+12025550101"]] || flagged[ids["+12025550102"]] {
		t.Fatalf("blocked flags %v, want only the first caller's", flagged)
	}
	code, body = s.api(t, "POST", "/api/v1/shows/morning/take-next", tok, "")
	if code != http.StatusOK || body["id"] != ids["+12025550102"] {
		t.Fatalf("take-next: %d %v, want the second caller (the first is blocked)", code, body)
	}
	code, body = s.api(t, "POST", "/api/v1/shows/morning/take-next", tok, "")
	if code != http.StatusNotFound {
		t.Fatalf("take-next with only a blocked caller left: %d %v, want 404", code, body)
	}
	code, body = s.api(t, "POST", "/api/v1/shows/morning/callers/"+ids["+12025550101"]+"/promote", tok, "")
	if code != http.StatusOK || body["blocked"] != true {
		t.Fatalf("promote the blocked caller by name: %d %v", code, body)
	}
}

// TestReadyz (issue 9, point 13): ready means calls can be taken and
// moved (ARI up), through a PostgreSQL outage, which /readyz and a metric
// report as degraded; the body tells anyone no more than states.
func TestReadyz(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("stops a cluster of its own; skipped when TEST_DATABASE_URL is set, so PostgreSQL binaries may be missing")
	}
	t.Parallel()
	dir, err := os.MkdirTemp("", "callin-readyz-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := pgtest.StartCluster(t.Context(), pgtest.ClusterConfig{Dir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cluster.Stop()
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	s := startTarget(t, cluster.URL(), "morning", hostileLimits())
	type readiness struct {
		Status   string
		Database string
		Nodes    []map[string]any
	}
	ready := func() (int, readiness, string) {
		t.Helper()
		res, err := http.Get(s.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var r readiness
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("readyz %q: %v", b, err)
		}
		return res.StatusCode, r, string(b)
	}
	// waitReady polls /readyz (the database check is cached a second)
	// until want says yes.
	waitReady := func(what string, want func(int, readiness) bool) (readiness, string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			code, r, raw := ready()
			if want(code, r) {
				return r, raw
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz still says %d %s", what, code, raw)
			}
			<-tick.C
		}
	}
	metric := func() string {
		res, err := http.Get(s.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return regexp.MustCompile(`(?m)^callin_database_up \S+$`).FindString(string(b))
	}

	waitReady("up", func(code int, r readiness) bool { return code == 200 && r.Status == "ready" && r.Database == "ok" })
	if m := metric(); m != "callin_database_up 1" {
		t.Errorf("metric: %q", m)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitReady("database down", func(code int, r readiness) bool {
		return code == 200 && r.Status == "ready" && r.Database == "degraded"
	})
	if m := metric(); m != "callin_database_up 0" {
		t.Errorf("metric during the outage: %q", m)
	}
	if err := cluster.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.pbx.Close() // Asterisk goes away: no calls can be taken
	_, raw := waitReady("Asterisk down", func(code int, r readiness) bool { return code == 503 && r.Status == "not ready" })
	for _, leak := range []string{"error", "refused", "dial", "127.0.0.1"} {
		if strings.Contains(raw, leak) {
			t.Errorf("/readyz tells anyone %q: %s", leak, raw)
		}
	}
}

// TestSettingsDoNotLeakPasswords (point 10): bad settings are named
// without the password in them, whatever characters it holds.
func TestSettingsDoNotLeakPasswords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		secrets []string
	}{
		{"DatabaseSlash", map[string]string{"CALLIN_DATABASE_URL": "postgres://callin:hunter2/swordfish@127.0.0.1:1/callin"}, []string{"hunter2", "swordfish"}},
		{"DatabaseHash", map[string]string{"CALLIN_DATABASE_URL": "postgres://callin:hunter2#swordfish@127.0.0.1:1/callin"}, []string{"hunter2", "swordfish"}},
		{"DatabaseQuestion", map[string]string{"CALLIN_DATABASE_URL": "postgres://callin:hunter2?swordfish@127.0.0.1:1/callin"}, []string{"hunter2", "swordfish"}},
		{"DatabaseAt", map[string]string{"CALLIN_DATABASE_URL": "postgres://callin:hunter2@swordfish@127.0.0.1:1/callin"}, []string{"hunter2", "swordfish"}},
		{"DatabaseKeywords", map[string]string{"CALLIN_DATABASE_URL": "host=127.0.0.1 port=1 user=callin password=hunter2 swordfish"}, []string{"hunter2", "swordfish"}},
		{"NodeMalformed", map[string]string{"CALLIN_NODES": "main=http://ari:hunter2/swordfish@10.0.0.5:8088"}, []string{"hunter2", "swordfish"}},
		{"NodeBadPort", map[string]string{"CALLIN_NODES": "main=http://ari:hunter2@10.0.0.5:80a88"}, []string{"hunter2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{
				"CALLIN_DATABASE_URL": "postgres://callin@127.0.0.1:1/callin", "CALLIN_NODES": "main=http://127.0.0.1:1",
				"CALLIN_ARI_PASSWORD": "p", "CALLIN_SHOW": "morning", "CALLIN_LISTEN": "127.0.0.1:0",
				"CALLIN_JOURNAL": filepath.Join(t.TempDir(), "journal"),
			}
			for k, v := range tc.env {
				env[k] = v
			}
			stderr := newSyncBuffer()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, stderr, envMap(env))
			if err == nil {
				t.Fatal("serve started with a bad setting")
			}
			for _, secret := range tc.secrets {
				if strings.Contains(err.Error(), secret) || strings.Contains(stderr.String(), secret) {
					t.Errorf("the password leaks: %v\n%s", err, stderr.String())
				}
			}
		})
	}
}

// BenchmarkHostileSoak is the soak of issue 10: each round throws hostile
// clients at the whole service at once, from 100 loopback addresses (idle
// keep-alive connections, headers and bodies trickled a byte every 100 ms,
// 30 MB multipart uploads, event streams up to every token's limit and
// past it) and
// reports the goroutines, heap and file descriptors before, at the peak
// and after the round, once they settle. The limits are serve's but for
// the timeouts, shortened (hostileLimits) so a round takes seconds.
//
//	go test -run '^$' -bench HostileSoak -benchtime 3x ./cmd/callin/
func BenchmarkHostileSoak(b *testing.B) {
	const (
		idle, slowHeaders, slowBodies = 200, 200, 200
		bigForms                      = 50
		tokens, perToken              = 100, 16 // 1,600 streams, and one refused per token (StreamsPerUser)
	)
	s := startTarget(b, "", "morning", hostileLimits())
	// Warm up: one of each, so the baseline has the pools and hubs.
	soakRound(b, s, "warm", 1, 1, 1, 1, 1, perToken)
	g0, h0 := settleMem()
	fd0 := openFDs()
	var peakG, peakFD int
	var peakH uint64
	b.ResetTimer()
	for i := range b.N {
		g, h, fd := soakRound(b, s, fmt.Sprint("r", i), idle, slowHeaders, slowBodies, bigForms, tokens, perToken)
		peakG, peakH, peakFD = max(peakG, g), max(peakH, h), max(peakFD, fd)
	}
	b.StopTimer()
	g1, h1 := settleMemTo(g0)
	fd1 := openFDs()
	b.ReportMetric(float64(g0), "goroutines-before")
	b.ReportMetric(float64(peakG), "goroutines-peak")
	b.ReportMetric(float64(g1), "goroutines-after")
	b.ReportMetric(float64(h0)/(1<<20), "heapMiB-before")
	b.ReportMetric(float64(peakH)/(1<<20), "heapMiB-peak")
	b.ReportMetric(float64(h1)/(1<<20), "heapMiB-after")
	b.ReportMetric(float64(fd0), "fds-before")
	b.ReportMetric(float64(peakFD), "fds-peak")
	b.ReportMetric(float64(fd1), "fds-after")
	if g1 > g0+5 || h1 > h0+16<<20 || fd1 > fd0+5 {
		b.Errorf("not back to the baseline: goroutines %d -> %d, heap %d -> %d MiB, fds %d -> %d", g0, g1, h0>>20, h1>>20, fd0, fd1)
	}
}

// soakRound runs one round of hostile clients and returns the goroutines,
// the heap (live and garbage not yet collected) and the open file
// descriptors once they are all connected (the peak). Every client must
// be cut off or refused.
func soakRound(b *testing.B, s *target, round string, idle, slowHeaders, slowBodies, bigForms, tokens, perToken int) (goroutines int, heap uint64, fds int) {
	b.Helper()
	var connected, done sync.WaitGroup
	failures := make(chan string, idle+slowHeaders+slowBodies+bigForms+tokens*(perToken+1))
	// The clients come from 100 loopback addresses: 127.0.0.1 alone would
	// hit MaxConnsPerAddress (TestConnectionsPerAddress tests that).
	next := 0
	client := func(kind string, f func(c net.Conn, connected func()) string) {
		connected.Add(1)
		from := fmt.Sprintf("127.0.1.%d", 1+next%100)
		next++
		done.Go(func() {
			once := sync.OnceFunc(connected.Done)
			defer once()
			c, err := dialFrom(from, s.addr)
			if err != nil {
				failures <- kind + ": " + err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			if r := f(c, once); r != "" {
				failures <- kind + ": " + r
			}
		})
	}
	untilClosed := func(r io.Reader) string {
		_, err := io.Copy(io.Discard, r)
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return "not closed by the server"
		}
		return ""
	}
	trickle := func(c net.Conn, p string) {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < len(p); i++ {
			if _, err := c.Write([]byte{p[i]}); err != nil {
				return
			}
			<-tick.C
		}
	}
	for range idle {
		client("idle", func(c net.Conn, connected func()) string {
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", s.addr)
			r := bufio.NewReader(c)
			res, err := http.ReadResponse(r, nil)
			if err != nil {
				return err.Error()
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			connected()
			return untilClosed(r)
		})
	}
	for range slowHeaders {
		client("slow headers", func(c net.Conn, connected func()) string {
			go trickle(c, fmt.Sprintf("GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Slow: %s\r\n\r\n", s.addr, strings.Repeat("a", 200)))
			connected()
			return untilClosed(c)
		})
	}
	for range slowBodies {
		client("slow body", func(c net.Conn, connected func()) string {
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", s.addr)
			go trickle(c, "username=alice&password="+strings.Repeat("x", 976))
			connected()
			return untilClosed(c)
		})
	}
	for range bigForms {
		client("big form", func(c net.Conn, connected func()) string {
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", s.addr, 30<<20)
			go func() {
				chunk := bytes.Repeat([]byte("a"), 64<<10)
				for range 16 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}()
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			connected()
			if err != nil {
				return "no answer: " + err.Error()
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnsupportedMediaType {
				return fmt.Sprintf("answered %d", res.StatusCode)
			}
			return ""
		})
	}
	// Streams: every token opens its share and one more (refused); half
	// the tokens are revoked (the server ends their streams), the other
	// half's clients leave.
	leave := make(chan struct{})
	var names []string
	refused := make([]atomic.Int32, tokens)
	for i := range tokens {
		name := fmt.Sprintf("soak-%s-%d", round, i)
		names = append(names, name)
		tok := s.token(b, name, auth.RoleHost)
		revoked := i%2 == 0
		for range perToken + 1 {
			client("stream", func(c net.Conn, connected func()) string {
				fmt.Fprintf(c, "GET /api/v1/shows/morning/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", s.addr, tok)
				r := bufio.NewReader(c)
				res, err := http.ReadResponse(r, nil)
				connected()
				switch {
				case err != nil:
					return err.Error()
				case res.StatusCode == http.StatusTooManyRequests:
					refused[i].Add(1)
					return ""
				case res.StatusCode != http.StatusOK:
					return fmt.Sprintf("answered %d", res.StatusCode)
				case revoked:
					return untilClosed(res.Body)
				}
				<-leave
				return ""
			})
		}
	}
	connected.Wait()
	goroutines = runtime.NumGoroutine()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	heap, fds = m.HeapInuse, openFDs()
	for i, name := range names {
		if i%2 == 0 {
			s.revoke(b, name)
		}
	}
	close(leave)
	done.Wait()
	close(failures)
	for i := range refused {
		if n := refused[i].Load(); n != 1 {
			b.Errorf("token %d: %d of its %d streams refused, want 1", i, n, perToken+1)
		}
	}
	n := 0
	for f := range failures {
		if n++; n <= 10 {
			b.Error(f)
		}
	}
	if n > 10 {
		b.Errorf("... and %d more", n-10)
	}
	return goroutines, heap, fds
}

// openFDs counts the process's open file descriptors (0 where /proc is
// missing).
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(fds)
}
