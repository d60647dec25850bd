package auth_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web/auth"
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
	if res := postLogin(t, addr, url.Values{"username": {"\xff\xfe"}, "password": {"x"}}, "test"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a name that is not UTF-8: %d, want 401", res.StatusCode)
	}
}
