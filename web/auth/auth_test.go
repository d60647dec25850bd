package auth_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web/auth"
	"github.com/go-chi/chi/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// *postgres.Store is the store web/auth is written for.
var (
	_ auth.Store      = (*postgres.Store)(nil)
	_ auth.AdminStore = (*postgres.Store)(nil)
)

const password = "correct horse battery"

// clock is a settable clock for the Service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Service on a fresh database, mounted the way the console does.
type env struct {
	t     testing.TB
	svc   *auth.Service
	store *postgres.Store
	clock *clock
	h     http.Handler
}

func newEnv(t testing.TB, cfg auth.Config) *env {
	t.Helper()
	e := &env{t: t, store: pgtest.NewStore(t), clock: &clock{t: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)}}
	cfg.Store, cfg.Now = e.store, e.clock.Now
	// These tests log one user in again and again; the limit on that has
	// tests of its own.
	cfg.LoginsPerUser = cmp.Or(cfg.LoginsPerUser, 100)
	svc, err := auth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	whoami := func(w http.ResponseWriter, r *http.Request) {
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			t.Error("handler reached without a principal")
		}
		fmt.Fprintf(w, "%s:%s:%s", p.Kind, p.Name, p.Role)
	}
	r := chi.NewRouter()
	r.Post("/login", svc.LoginHandler(nil).ServeHTTP)
	r.Post("/logout-bare", svc.LogoutHandler().ServeHTTP) // without RequireSession
	r.Group(func(r chi.Router) {
		r.Use(svc.RequireSession)
		r.Get("/", whoami)
		r.Get("/csrf", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, svc.CSRFToken(r)) })
		r.Post("/logout", svc.LogoutHandler().ServeHTTP)
		r.With(require(auth.ActionPromote)).Post("/promote", whoami)
	})
	r.Route("/api", func(r chi.Router) {
		r.Use(svc.RequireBearer)
		r.With(require(auth.ActionView)).Get("/queue", whoami)
		r.With(require(auth.ActionPromote)).Post("/promote", whoami)
	})
	r.With(svc.RequireAny, require(auth.ActionView)).Post("/any", whoami)
	e.h = r
	return e
}

func (e *env) addUser(name string, role auth.Role) {
	e.t.Helper()
	if err := auth.AddUser(context.Background(), e.store, name, role, password); err != nil {
		e.t.Fatal(err)
	}
}

// req builds a request from 127.0.0.1; form, if not nil, is its body.
func req(method, target string, form url.Values) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "127.0.0.1:40000"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

func (e *env) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Result()
}

// login logs name in and returns its session cookie.
func (e *env) login(name string) *http.Cookie {
	e.t.Helper()
	resp := e.do(req("POST", "/login", url.Values{"username": {name}, "password": {password}}))
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: got %d %s", name, resp.StatusCode, body(resp))
	}
	return sessionCookie(e.t, resp)
}

func sessionCookie(t testing.TB, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "callin_session") {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", resp.Header.Values("Set-Cookie"))
	return nil
}

// csrf returns the CSRF token of the session c, as a page would get it.
func (e *env) csrf(c *http.Cookie) string {
	e.t.Helper()
	r := req("GET", "/csrf", nil)
	r.AddCookie(c)
	resp := e.do(r)
	tok := body(resp)
	if resp.StatusCode != http.StatusOK || tok == "" {
		e.t.Fatalf("csrf: got %d %q", resp.StatusCode, tok)
	}
	return tok
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// wantError checks that resp has status and exactly an RFC 9457 problem
// with code.
func wantError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	b := body(resp)
	if resp.StatusCode != status {
		t.Errorf("status: got %d (%s), want %d", resp.StatusCode, b, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("content type: got %q, want application/problem+json", ct)
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(b))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	if len(got) != 5 || got["code"] != code || got["type"] != "urn:callin:problem:"+code || got["title"] == "" ||
		got["status"] != float64(status) || got["detail"] == "" {
		t.Errorf("body: got %s, want a problem with code %q", b, code)
	}
}

// get GETs target with cookie c (if not nil), as fetch would: no Accept:
// text/html.
func (e *env) get(target string, c *http.Cookie) *http.Response {
	r := req("GET", target, nil)
	if c != nil {
		r.AddCookie(c)
	}
	return e.do(r)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleProducer)

	t.Run("OK", func(t *testing.T) {
		resp := e.do(req("POST", "/login", url.Values{"username": {" Alice "}, "password": {password},
			"next": {"/shows/morning?tab=queue"}}))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/shows/morning?tab=queue" {
			t.Fatalf("got %d to %q, want 303 to next", resp.StatusCode, resp.Header.Get("Location"))
		}
		c := sessionCookie(t, resp)
		if c.Name != "callin_session" || !c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode ||
			c.Path != "/" || len(c.Value) != 43 || !c.Expires.Equal(e.clock.Now().Add(7*24*time.Hour)) {
			t.Errorf("cookie: got %+v", c)
		}
		if got := body(e.get("/", c)); got != "user:alice:producer" {
			t.Errorf("whoami: got %q", got)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		for _, f := range []url.Values{
			{"username": {"alice"}, "password": {"wrong password!"}},
			{"username": {"nobody"}, "password": {password}},
			{"username": {"alice"}},
			{},
		} {
			resp := e.do(req("POST", "/login", f))
			if len(resp.Cookies()) != 0 {
				t.Errorf("%v: got cookies %v", f, resp.Cookies())
			}
			wantError(t, resp, http.StatusUnauthorized, "unauthorized")
		}
	})

	t.Run("NextOffsite", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "///evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/\t/evil.example", ""} {
			resp := e.do(req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}, "next": {next}}))
			if loc := resp.Header.Get("Location"); loc != "/" {
				t.Errorf("next %q: got Location %q, want /", next, loc)
			}
		}
	})

	t.Run("CrossOrigin", func(t *testing.T) {
		r := req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}})
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		resp := e.do(r)
		if len(resp.Cookies()) != 0 {
			t.Errorf("got cookies %v", resp.Cookies())
		}
		wantError(t, resp, http.StatusForbidden, "forbidden")
	})

	t.Run("Htmx", func(t *testing.T) {
		r := req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}, "next": {"/x"}})
		r.Header.Set("HX-Request", "true")
		resp := e.do(r)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") != "/x" {
			t.Errorf("got %d HX-Redirect %q, want 200 /x", resp.StatusCode, resp.Header.Get("HX-Redirect"))
		}
		sessionCookie(t, resp)
	})

	t.Run("ReplacesPreviousSession", func(t *testing.T) {
		old := e.login("alice")
		r := req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}})
		r.AddCookie(old)
		resp := e.do(r)
		if c := sessionCookie(t, resp); c.Value == old.Value {
			t.Error("login kept the session id")
		}
		if resp := e.get("/", old); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("old session: got %d, want 401", resp.StatusCode)
		}
	})

	t.Run("Secure", func(t *testing.T) {
		resp := e.do(req("POST", "https://callin.example/login", url.Values{"username": {"alice"}, "password": {password}}))
		c := sessionCookie(t, resp)
		if c.Name != "__Host-callin_session" || !c.Secure || c.Domain != "" || c.Path != "/" {
			t.Errorf("over TLS: got %+v, want a Secure __Host- cookie", c)
		}
		// The plain-HTTP cookie name is not read over TLS, and vice versa.
		r := req("GET", "https://callin.example/", nil)
		r.AddCookie(c)
		if got := body(e.do(r)); got != "user:alice:producer" {
			t.Errorf("whoami over TLS: got %q", got)
		}
		if resp := e.get("/", &http.Cookie{Name: "callin_session", Value: c.Value}); resp.StatusCode != http.StatusOK {
			t.Errorf("plain HTTP with the same id: got %d, want 200", resp.StatusCode)
		}
	})

	t.Run("SecureCookiesConfig", func(t *testing.T) {
		e := newEnv(t, auth.Config{SecureCookies: true})
		e.addUser("bob", auth.RoleHost)
		c := e.login("bob")
		if c.Name != "__Host-callin_session" || !c.Secure {
			t.Errorf("got %+v, want a Secure __Host- cookie on plain HTTP", c)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	attempt := func(ip, name, pw string, cookies ...*http.Cookie) *http.Response {
		r := req("POST", "/login", url.Values{"username": {name}, "password": {pw}})
		r.RemoteAddr = ip + ":1234"
		for _, c := range cookies {
			r.AddCookie(c)
		}
		return e.do(r)
	}

	t.Run("PerNameAndAddress", func(t *testing.T) {
		// Alice logged in from her browser before: it has a device cookie.
		first := attempt("10.0.1.99", "alice", password)
		var device *http.Cookie
		for _, c := range first.Cookies() {
			if c.Name == "callin_device" {
				device = c
			}
		}
		if first.StatusCode != http.StatusSeeOther || device == nil || !device.HttpOnly {
			t.Fatalf("alice's first login: %d, device cookie %v", first.StatusCode, device)
		}
		// A stranger guesses at alice's password once every 12 s for an
		// hour, and ten more addresses each fail ten times: each locks
		// only itself out, and slows the name.
		for i := range 300 {
			resp := attempt("203.0.113.7", "alice", "wrong password!")
			if i < 5 && resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: got %d, want 401", i+1, resp.StatusCode)
			}
			e.clock.Add(12 * time.Second)
		}
		for i := range 10 {
			for range 10 {
				attempt(fmt.Sprint("10.0.1.", i), "alice", "wrong password!")
			}
		}
		resp := attempt("203.0.113.7", "alice", password)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("the guessing address: no Retry-After")
		}
		wantError(t, resp, http.StatusTooManyRequests, "rate_limited")
		if resp := attempt("10.0.1.99", "alice", password, device); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice from her own browser, right password: got %d %s, want 303", resp.StatusCode, body(resp))
		}
		// A forged or stolen-for-another-name device cookie counts for nothing.
		for i := range 10 {
			for range 10 {
				attempt(fmt.Sprint("10.0.3.", i), "alice", "wrong password!")
			}
		}
		forged := &http.Cookie{Name: "callin_device", Value: device.Value[:10] + "x" + device.Value[11:]}
		resp = attempt("10.0.1.98", "alice", password, forged)
		wantError(t, resp, http.StatusTooManyRequests, "rate_limited")
		// Without her device she is slowed, for at most a minute.
		if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 60 {
			t.Errorf("a slowed name: Retry-After %q, want 1 to 60", resp.Header.Get("Retry-After"))
		}
		e.clock.Add(time.Minute)
		if resp := attempt("10.0.1.98", "alice", password); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("alice from a new address a minute later: got %d %s, want 303", resp.StatusCode, body(resp))
		}
	})

	t.Run("PerIP", func(t *testing.T) {
		for i := range 20 {
			if resp := attempt("10.0.2.1", fmt.Sprint("user", i), "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: got %d, want 401", i+1, resp.StatusCode)
			}
		}
		wantError(t, attempt("10.0.2.1", "someone", "wrong password!"), http.StatusTooManyRequests, "rate_limited")
		if resp := attempt("10.0.2.2", "someone", "wrong password!"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("another IP: got %d, want 401", resp.StatusCode)
		}
	})

	t.Run("SuccessesDoNotCount", func(t *testing.T) {
		e.addUser("bob", auth.RoleHost)
		for i := range 12 {
			if resp := attempt("10.0.3.1", "bob", password); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login %d: got %d, want 303", i+1, resp.StatusCode)
			}
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{IdleTimeout: time.Hour, MaxAge: 3 * time.Hour})
	e.addUser("alice", auth.RoleScreener)

	t.Run("Idle", func(t *testing.T) {
		c := e.login("alice")
		e.clock.Add(59 * time.Minute)
		if resp := e.get("/", c); resp.StatusCode != http.StatusOK {
			t.Fatalf("after 59 min: got %d, want 200", resp.StatusCode)
		}
		e.clock.Add(61 * time.Minute)
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("Absolute", func(t *testing.T) {
		c := e.login("alice")
		for range 5 {
			e.clock.Add(35 * time.Minute) // kept busy: never idle
			if resp := e.get("/", c); resp.StatusCode != http.StatusOK {
				t.Fatalf("at %s: got %d, want 200", e.clock.Now(), resp.StatusCode)
			}
		}
		e.clock.Add(5 * time.Minute) // 3 h after login
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("Unauthenticated", func(t *testing.T) {
		// A page: redirected to the login page, with next.
		r := req("GET", "/?tab=1", nil)
		r.Header.Set("Accept", "text/html,application/xhtml+xml")
		resp := e.do(r)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2F%3Ftab%3D1" {
			t.Errorf("page: got %d to %q, want 303 to /login?next=%%2F%%3Ftab%%3D1", resp.StatusCode, resp.Header.Get("Location"))
		}
		// htmx: 401 and HX-Redirect back to the page it is on.
		r = req("POST", "/promote", nil)
		r.Header.Set("HX-Request", "true")
		r.Header.Set("HX-Current-URL", "http://example.com/shows/morning")
		resp = e.do(r)
		if got := resp.Header.Get("HX-Redirect"); got != "/login?next=%2Fshows%2Fmorning" {
			t.Errorf("htmx: HX-Redirect %q", got)
		}
		wantError(t, resp, http.StatusUnauthorized, "unauthorized")
		// Other clients, and garbage cookies.
		wantError(t, e.get("/", nil), http.StatusUnauthorized, "unauthorized")
		wantError(t, e.get("/", &http.Cookie{Name: "callin_session", Value: "garbage"}), http.StatusUnauthorized, "unauthorized")
		wantError(t, e.get("/", &http.Cookie{Name: "callin_session", Value: strings.Repeat("A", 43)}), http.StatusUnauthorized, "unauthorized")
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleHost)
	c := e.login("alice")
	other := e.login("alice")

	t.Run("WithoutCSRFToken", func(t *testing.T) {
		r := req("POST", "/logout", url.Values{})
		r.AddCookie(c)
		wantError(t, e.do(r), http.StatusForbidden, "forbidden")
		if resp := e.get("/", c); resp.StatusCode != http.StatusOK {
			t.Errorf("session after refused logout: got %d, want 200", resp.StatusCode)
		}
	})

	t.Run("WithoutRequireSession", func(t *testing.T) {
		c := e.login("alice")
		r := req("POST", "/logout-bare", url.Values{"csrf_token": {"wrong"}})
		r.AddCookie(c)
		wantError(t, e.do(r), http.StatusForbidden, "forbidden")
		r = req("POST", "/logout-bare", url.Values{"csrf_token": {e.csrf(c)}})
		r.AddCookie(c)
		if resp := e.do(r); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("got %d, want 303", resp.StatusCode)
		}
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
		// No session at all: just sent to the login page.
		if resp := e.do(req("POST", "/logout-bare", nil)); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("without a session: got %d, want 303", resp.StatusCode)
		}
	})

	t.Run("OK", func(t *testing.T) {
		r := req("POST", "/logout", url.Values{"csrf_token": {e.csrf(c)}})
		r.AddCookie(c)
		resp := e.do(r)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("got %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		if cleared := sessionCookie(t, resp); cleared.MaxAge >= 0 || cleared.Value != "" {
			t.Errorf("cookie: got %+v, want it deleted", cleared)
		}
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
		if resp := e.get("/", other); resp.StatusCode != http.StatusOK {
			t.Errorf("the user's other session: got %d, want 200", resp.StatusCode)
		}
	})
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{TrustedOrigins: []string{"https://automation.example"}})
	e.addUser("alice", auth.RoleProducer)
	c := e.login("alice")
	tok := e.csrf(c)
	otherTok := e.csrf(e.login("alice"))
	if tok == otherTok {
		t.Fatal("two sessions have the same CSRF token")
	}
	if again := e.csrf(c); again != tok {
		t.Errorf("token changed within the session: %q then %q", tok, again)
	}

	bad := "x" + tok[1:] // the token with its first character changed
	if tok[0] == 'x' {
		bad = "y" + tok[1:]
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers map[string]string
		want    int
	}{
		{"Missing", url.Values{}, nil, http.StatusForbidden},
		{"Bad", url.Values{"csrf_token": {bad}}, nil, http.StatusForbidden},
		{"OtherSession", url.Values{"csrf_token": {otherTok}}, nil, http.StatusForbidden},
		{"Form", url.Values{"csrf_token": {tok}}, nil, http.StatusOK},
		{"Header", nil, map[string]string{"X-CSRF-Token": tok}, http.StatusOK},
		{"BadHeaderBeatsGoodForm", url.Values{"csrf_token": {tok}}, map[string]string{"X-CSRF-Token": otherTok}, http.StatusForbidden},
		{"SameOrigin", url.Values{"csrf_token": {tok}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, http.StatusOK},
		{"CrossSite", url.Values{"csrf_token": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"SameSite", url.Values{"csrf_token": {tok}}, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"OldBrowserCrossOrigin", url.Values{"csrf_token": {tok}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"TrustedOrigin", url.Values{"csrf_token": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://automation.example"}, http.StatusOK},
		{"TrustedOriginStillNeedsToken", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://automation.example"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req("POST", "/promote", tc.form)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			r.AddCookie(c)
			resp := e.do(r)
			if tc.want == http.StatusOK {
				if got := body(resp); resp.StatusCode != http.StatusOK || got != "user:alice:producer" {
					t.Errorf("got %d %q, want 200", resp.StatusCode, got)
				}
				return
			}
			wantError(t, resp, tc.want, "forbidden")
		})
	}

	t.Run("SafeMethodsNeedNoToken", func(t *testing.T) {
		r := req("GET", "/", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.AddCookie(c)
		if resp := e.do(r); resp.StatusCode != http.StatusOK {
			t.Errorf("got %d, want 200", resp.StatusCode)
		}
	})

	t.Run("NoSessionNoToken", func(t *testing.T) {
		if got := e.svc.CSRFToken(req("GET", "/", nil)); got != "" {
			t.Errorf("got %q, want empty", got)
		}
	})
}

func TestBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	ctx := context.Background()
	producer, err := auth.CreateToken(ctx, e.store, "automation", auth.RoleProducer, "alice")
	if err != nil {
		t.Fatal(err)
	}
	host, err := auth.CreateToken(ctx, e.store, "host panel", auth.RoleHost, "alice")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, target, header string) *http.Response {
		r := req(method, target, nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		return e.do(r)
	}

	t.Run("OK", func(t *testing.T) {
		for _, h := range []string{"Bearer " + producer, "bearer " + producer} {
			if got := body(call("GET", "/api/queue", h)); got != "token:automation:producer" {
				t.Errorf("%s: got %q", h[:6], got)
			}
		}
		// No CSRF token, and a cross-site header does not matter either:
		// bearer requests carry no ambient credentials.
		r := req("POST", "/api/promote", nil)
		r.Header.Set("Authorization", "Bearer "+producer)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp := e.do(r); resp.StatusCode != http.StatusOK {
			t.Errorf("POST: got %d %s, want 200", resp.StatusCode, body(resp))
		}
	})

	t.Run("WrongRole", func(t *testing.T) {
		if resp := call("GET", "/api/queue", "Bearer "+host); resp.StatusCode != http.StatusOK {
			t.Errorf("host may view: got %d", resp.StatusCode)
		}
		wantError(t, call("POST", "/api/promote", "Bearer "+host), http.StatusForbidden, "forbidden")
	})

	t.Run("Unauthorized", func(t *testing.T) {
		for name, h := range map[string]string{
			"Missing":   "",
			"Basic":     "Basic YWxpY2U6cHc=",
			"Malformed": "Bearer callin_nope",
			"Unknown":   "Bearer callin_" + strings.Repeat("a", 52),
			"NoPrefix":  "Bearer " + strings.TrimPrefix(producer, "callin_"),
		} {
			resp := call("GET", "/api/queue", h)
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q", name, resp.Header.Get("WWW-Authenticate"))
			}
			wantError(t, resp, http.StatusUnauthorized, "unauthorized")
		}
	})

	t.Run("Revoked", func(t *testing.T) {
		tok, err := auth.CreateToken(ctx, e.store, "short lived", auth.RoleAdmin, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if resp := call("GET", "/api/queue", "Bearer "+tok); resp.StatusCode != http.StatusOK {
			t.Fatalf("before revoking: got %d", resp.StatusCode)
		}
		if err := auth.RevokeToken(ctx, e.store, "short lived"); err != nil {
			t.Fatal(err)
		}
		wantError(t, call("GET", "/api/queue", "Bearer "+tok), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("SessionCookieIsNotEnough", func(t *testing.T) {
		e.addUser("alice", auth.RoleAdmin)
		r := req("GET", "/api/queue", nil)
		r.AddCookie(e.login("alice"))
		wantError(t, e.do(r), http.StatusUnauthorized, "unauthorized")
	})
}

func TestRequireAny(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleHost)
	c := e.login("alice")
	tok, err := auth.CreateToken(context.Background(), e.store, "bot", auth.RoleScreener, "alice")
	if err != nil {
		t.Fatal(err)
	}

	r := req("POST", "/any", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	if got := body(e.do(r)); got != "token:bot:screener" {
		t.Errorf("bearer: got %q", got)
	}
	r = req("POST", "/any", nil)
	r.AddCookie(c)
	wantError(t, e.do(r), http.StatusForbidden, "forbidden") // no CSRF token
	r = req("POST", "/any", nil)
	r.AddCookie(c)
	r.Header.Set("X-CSRF-Token", e.csrf(c))
	if got := body(e.do(r)); got != "user:alice:host" {
		t.Errorf("session: got %q", got)
	}
	wantError(t, e.do(req("POST", "/any", nil)), http.StatusUnauthorized, "unauthorized")
}

func TestAccountChangesEndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	e.addUser("bob", auth.RoleProducer)
	bob := e.login("bob")

	t.Run("SetPassword", func(t *testing.T) {
		c := e.login("alice")
		if err := auth.SetPassword(ctx, e.store, "ALICE", "a new password!"); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
		wantError(t, e.do(req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}})),
			http.StatusUnauthorized, "unauthorized")
		if err := auth.SetPassword(ctx, e.store, "alice", password); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SetRole", func(t *testing.T) {
		c := e.login("alice")
		if err := auth.SetRole(ctx, e.store, "alice", auth.RoleHost); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
		if got := body(e.get("/", e.login("alice"))); got != "user:alice:host" {
			t.Errorf("after login again: got %q", got)
		}
	})

	t.Run("DeleteUser", func(t *testing.T) {
		c := e.login("alice")
		if err := auth.DeleteUser(ctx, e.store, "alice"); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.get("/", c), http.StatusUnauthorized, "unauthorized")
	})

	if resp := e.get("/", bob); resp.StatusCode != http.StatusOK {
		t.Errorf("another user's session: got %d, want 200", resp.StatusCode)
	}
}

func TestStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	c := e.login("alice")
	tok, err := auth.CreateToken(context.Background(), e.store, "bot", auth.RoleProducer, "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.store.Close()

	wantError(t, e.get("/", c), http.StatusInternalServerError, "internal")
	r := req("GET", "/api/queue", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	wantError(t, e.do(r), http.StatusInternalServerError, "internal")
	wantError(t, e.do(req("POST", "/login", url.Values{"username": {"alice"}, "password": {password}})),
		http.StatusInternalServerError, "internal")
}

// BenchmarkLogin is one whole login: rate limiter, argon2id verify, the
// session's insert and the sweep of expired sessions.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.svc.Login(ctx, "alice", password, "127.0.0.1", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the cost every console or API request pays:
// one round trip to Postgres.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	tok, err := auth.CreateToken(context.Background(), e.store, "bot", auth.RoleProducer, "alice")
	if err != nil {
		b.Fatal(err)
	}
	session := req("GET", "/", nil)
	session.AddCookie(e.login("alice"))
	bearer := req("GET", "/api/queue", nil)
	bearer.Header.Set("Authorization", "Bearer "+tok)
	for name, r := range map[string]*http.Request{"Session": session, "Bearer": bearer} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.svc.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestStoreDownRecentlyConfirmed: while the database is unreachable, a
// session or token it confirmed within the grace period keeps working, so
// producers can run the show through an outage; past the grace period, or
// with the grace turned off, the request fails.
func TestStoreDownRecentlyConfirmed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		grace time.Duration
		wait  time.Duration
		ok    bool
	}{
		{"WithinGrace", 0, 10 * time.Minute, true},
		{"PastGrace", 0, auth.DefaultOutageGrace + time.Minute, false},
		{"GraceOff", -1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, auth.Config{OutageGrace: tc.grace})
			e.addUser("alice", auth.RoleProducer)
			c := e.login("alice")
			tok, err := auth.CreateToken(context.Background(), e.store, "bot", auth.RoleProducer, "alice")
			if err != nil {
				t.Fatal(err)
			}
			bearer := func() *http.Response {
				r := req("GET", "/api/queue", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				return e.do(r)
			}
			// Confirmed by the database once each.
			if got := body(e.get("/", c)); got != "user:alice:producer" {
				t.Fatalf("session before the outage: %q", got)
			}
			if got := body(bearer()); got != "token:bot:producer" {
				t.Fatalf("token before the outage: %q", got)
			}
			e.store.Close()
			e.clock.Add(tc.wait)
			if tc.ok {
				if got := body(e.get("/", c)); got != "user:alice:producer" {
					t.Errorf("session during the outage: %q", got)
				}
				if got := body(bearer()); got != "token:bot:producer" {
					t.Errorf("token during the outage: %q", got)
				}
				return
			}
			wantError(t, e.get("/", c), http.StatusInternalServerError, "internal")
			wantError(t, bearer(), http.StatusInternalServerError, "internal")
		})
	}
}

// TestLogoutForgetsOutageCredential: a logged-out session is not accepted
// during a later outage.
func TestLogoutForgetsOutageCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t, auth.Config{})
	e.addUser("alice", auth.RoleProducer)
	c := e.login("alice")
	if resp := e.get("/", c); resp.StatusCode != http.StatusOK {
		t.Fatalf("session: %d", resp.StatusCode)
	}
	if err := e.svc.Logout(context.Background(), c.Value); err != nil {
		t.Fatal(err)
	}
	e.store.Close()
	wantError(t, e.get("/", c), http.StatusInternalServerError, "internal")
}

// require lets through requests whose Principal may do action (auth.Can),
// 403 for the others and 401 without one, as web's handlers decide: it
// checks what RequireSession, RequireBearer and RequireAny put in the
// context.
func require(action auth.Action) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := auth.PrincipalFrom(r.Context())
			status, code := 0, ""
			switch {
			case !ok:
				status, code = http.StatusUnauthorized, "unauthorized"
			case !auth.Can(p.Role, action):
				status, code = http.StatusForbidden, "forbidden"
			default:
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"type":"urn:callin:problem:%s","title":"x","status":%d,"detail":"role %s may not %s","code":%q}`,
				code, status, p.Role, action, code)
		})
	}
}
