package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/clientaddr"
)

// The tests of issue 21 ("Hostile clients, round two") on the login, over
// a real listener and PostgreSQL.

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postLogin posts a login form with a User-Agent and returns the answer.
func postLogin(t *testing.T, addr string, form url.Values, userAgent string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// TestLoginRedirectStaysLocal (point 6): next is followed only to a path
// of this site, judged after cleaning; anything else goes to /.
func TestLoginRedirectStaysLocal(t *testing.T) {
	t.Parallel()
	store := &watchedStore{Store: pgtest.NewStore(t), entered: make(chan struct{}, 100)}
	if err := auth.AddUser(context.Background(), store, "alice", auth.RoleProducer, "a-long-password-123"); err != nil {
		t.Fatal(err)
	}
	addr := loginServer(t, store, io.Discard)
	for next, want := range map[string]string{
		"/a/../%5Cevil.example":  "/",
		"/a/../\\evil.example":   "/",
		"/\\evil.example":        "/",
		"//evil.example":         "/",
		"/a/..//evil.example":    "/evil.example",
		"/./%2F/evil.example":    "/%2F/evil.example",
		"https://evil.example/":  "/",
		"/%0d%0aSet-Cookie:x=1":  "/%0d%0aSet-Cookie:x=1",
		"/\tevil.example":        "/",
		"evil.example":           "/",
		"/shows/morning?tab=all": "/shows/morning?tab=all",
		"/shows/a/../morning":    "/shows/morning",
		"/callers/%2B15550100":   "/callers/%2B15550100",
	} {
		res := postLogin(t, addr, url.Values{"username": {"alice"}, "password": {"a-long-password-123"}, "next": {next}}, "test")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("next=%q: status %d", next, res.StatusCode)
		}
		if got := res.Header.Get("Location"); got != want {
			t.Errorf("next=%q: Location %q, want %q", next, got, want)
		}
	}
}

// TestLoginCleansInput (point 7): a NUL or bytes that are not UTF-8 in
// the user name, and a User-Agent that is not UTF-8 or is cut inside a
// character at 256 bytes, give no 500: a bad name fails like a wrong
// password and counts toward the limits, the agent is stored cleaned.
func TestLoginCleansInput(t *testing.T) {
	t.Parallel()
	store := &watchedStore{Store: pgtest.NewStore(t), entered: make(chan struct{}, 100)}
	if err := auth.AddUser(context.Background(), store, "alice", auth.RoleProducer, "a-long-password-123"); err != nil {
		t.Fatal(err)
	}
	if err := auth.AddUser(context.Background(), store, "bob", auth.RoleHost, "a-long-password-123"); err != nil {
		t.Fatal(err)
	}
	addr := loginServer(t, store, io.Discard)
	good := url.Values{"username": {"alice"}, "password": {"a-long-password-123"}}
	for name, ua := range map[string]string{
		"InvalidUTF8":   "Mozilla/5.0 \xff\xfe",
		"CutMidRune":    strings.Repeat("a", 255) + "é and more",
		"Tab":           "agent\tx",
		"LongValidUTF8": strings.Repeat("é", 300),
	} {
		if res := postLogin(t, addr, good, ua); res.StatusCode != http.StatusSeeOther {
			t.Errorf("User-Agent %s: status %d, want 303", name, res.StatusCode)
		}
	}
	// A NUL in the name: 401 each time, then 429 like any run of failures
	// from one address for one name.
	bad := url.Values{"username": {"alice\x00"}, "password": {"x"}}
	var statuses []int
	for range 8 {
		statuses = append(statuses, postLogin(t, addr, bad, "test").StatusCode)
	}
	if statuses[0] != http.StatusUnauthorized || statuses[len(statuses)-1] != http.StatusTooManyRequests {
		t.Errorf("logins with a NUL in the name: %v, want 401s then 429", statuses)
	}
	for _, s := range statuses {
		if s >= 500 {
			t.Errorf("logins with a NUL in the name: %v", statuses)
			break
		}
	}
	// The right password does not make a name with a NUL or a newline
	// the user's.
	for _, name := range []string{"bob\x00", "bo\nb", "\x00bob"} {
		if res := postLogin(t, addr, url.Values{"username": {name}, "password": {"a-long-password-123"}}, "test"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("name %q with the right password: %d, want 401", name, res.StatusCode)
		}
	}
	if res := postLogin(t, addr, url.Values{"username": {"\xff\xfe"}, "password": {"x"}}, "test"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a name that is not UTF-8: %d, want 401", res.StatusCode)
	}
}

// proxiedLogin serves a Service's login over a real listener, believing
// X-Forwarded-For from loopback (the test's own connections).
func proxiedLogin(t *testing.T, trusted ...string) string {
	t.Helper()
	store := pgtest.NewStore(t)
	if err := auth.AddUser(context.Background(), store, "alice", auth.RoleProducer, "a-long-password-123"); err != nil {
		t.Fatal(err)
	}
	proxies, err := clientaddr.New(trusted, "")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(auth.Config{Store: store, Proxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", svc.LoginHandler(nil))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// loginAs posts a login as from the client address from (sent as
// X-Forwarded-For), with cookies, and returns the status and the device
// cookie set, if any.
func loginAs(t *testing.T, addr, from, password string, cookies ...*http.Cookie) (int, *http.Cookie) {
	t.Helper()
	form := url.Values{"username": {"alice"}, "password": {password}}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", from)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "callin_device" {
			return res.StatusCode, c
		}
	}
	return res.StatusCode, nil
}

// TestStrangerCannotLockOutUser (point 5): behind a trusted proxy, a
// stranger's failures lock only the stranger's address; a stranger at
// the user's own address (a shared NAT) or failing from many addresses
// slows the name but cannot keep the user out of the browser they logged
// in from; without trusted proxies, X-Forwarded-For is not believed.
func TestStrangerCannotLockOutUser(t *testing.T) {
	t.Parallel()
	const good, bad = "a-long-password-123", "wrong password!"
	t.Run("BehindProxy", func(t *testing.T) {
		t.Parallel()
		addr := proxiedLogin(t, "127.0.0.0/8", "::1")
		for range 8 {
			loginAs(t, addr, "203.0.113.7", bad)
		}
		if st, _ := loginAs(t, addr, "203.0.113.7", good); st != http.StatusTooManyRequests {
			t.Errorf("the stranger's address: %d, want 429", st)
		}
		if st, _ := loginAs(t, addr, "198.51.100.1", good); st != http.StatusSeeOther {
			t.Errorf("alice from her own address behind the same proxy: %d, want 303", st)
		}
	})
	t.Run("SharedAddressKnownDevice", func(t *testing.T) {
		t.Parallel()
		addr := proxiedLogin(t, "127.0.0.1")
		st, device := loginAs(t, addr, "198.51.100.1", good)
		if st != http.StatusSeeOther || device == nil {
			t.Fatalf("alice's first login: %d, device cookie %v", st, device)
		}
		// A stranger at her address (a NAT) spends its allowance on her
		// name, then guesses from 30 more addresses.
		for range 30 {
			loginAs(t, addr, "198.51.100.1", bad)
		}
		for i := range 30 {
			loginAs(t, addr, fmt.Sprint("192.0.2.", i), bad)
		}
		if st, _ := loginAs(t, addr, "198.51.100.1", good); st != http.StatusTooManyRequests {
			t.Errorf("alice at the shared address without her device: %d, want 429", st)
		}
		if st, _ := loginAs(t, addr, "192.0.2.200", good); st != http.StatusTooManyRequests {
			t.Errorf("alice from a new address without her device (name slowed): %d, want 429", st)
		}
		if st, _ := loginAs(t, addr, "198.51.100.1", good, device); st != http.StatusSeeOther {
			t.Errorf("alice from her browser at the shared address: %d, want 303", st)
		}
		// Her device's own failures lock it like an address.
		for range 8 {
			loginAs(t, addr, "198.51.100.1", bad, device)
		}
		if st, _ := loginAs(t, addr, "198.51.100.1", good, device); st != http.StatusTooManyRequests {
			t.Errorf("a device that failed 8 times: %d, want 429", st)
		}
	})
	t.Run("UntrustedHeaderIgnored", func(t *testing.T) {
		t.Parallel()
		addr := proxiedLogin(t) // nobody trusted
		statuses := map[int]int{}
		for i := range 25 {
			st, _ := loginAs(t, addr, fmt.Sprint("192.0.2.", i), bad)
			statuses[st]++
		}
		if statuses[http.StatusTooManyRequests] == 0 {
			t.Errorf("25 failures from one connection address with forged X-Forwarded-For: %v, want some 429", statuses)
		}
	})
}
