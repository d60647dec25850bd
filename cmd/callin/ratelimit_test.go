package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/web/auth"
)

// TestConnectionRatePerAddress (issue 21 point 1, the soak): one address
// opens connections no faster than ConnRatePerAddress after a burst of
// ConnBurstPerAddress; beyond it a new connection reads 429 with
// Retry-After and is closed, and after 32 such answers reset unanswered
// (the cheapest refusal: a flood reads no answer). Other addresses and the trusted proxies are
// not affected, and the address is served again once its bucket refills.
// On main every connection was served: an address opening a thousand a
// second had callin answer each.
func TestConnectionRatePerAddress(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.ConnRatePerAddress = 2
	limits.ConnBurstPerAddress = 5
	limits.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.8/32")}
	s := startTarget(t, "", "morning", limits)

	// get opens a connection from ip and sends GET /healthz on it.
	get := func(ip string) *http.Response {
		t.Helper()
		c, err := dialFrom(ip, s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		res, err := keepAlive(c, bufio.NewReader(c), s.addr, "/healthz", 5*time.Second)
		if err != nil {
			t.Fatalf("connection from %s: %v", ip, err)
		}
		return res
	}
	for i := range limits.ConnBurstPerAddress {
		if res := get("127.0.0.6"); res.StatusCode != http.StatusOK {
			t.Fatalf("connection %d of a burst of %d: %d", i+1, limits.ConnBurstPerAddress, res.StatusCode)
		}
	}
	c, err := dialFrom("127.0.0.6", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("connection %d at once: %v, want a 429", limits.ConnBurstPerAddress+1, err)
	}
	body, _ := io.ReadAll(res.Body)
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "too many new connections") || retry < 1 {
		t.Errorf("connection %d at once: %d, Retry-After %q, %s; want 429 with Retry-After",
			limits.ConnBurstPerAddress+1, res.StatusCode, res.Header.Get("Retry-After"), body)
	}

	// An address that goes on regardless has its connections reset
	// unanswered after a few answers.
	answered, reset := 1, 0
	for range 40 {
		c, err := dialFrom("127.0.0.6", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && res.StatusCode == http.StatusTooManyRequests {
			answered++
		} else {
			reset++
		}
		c.Close()
	}
	if answered < 8 || answered > 32 || reset == 0 {
		t.Errorf("41 connections too fast: %d answered 429, %d reset; want up to 32 answered, the rest reset", answered, reset)
	}

	// Another address, and a trusted proxy opening more than the burst.
	if res := get("127.0.0.7"); res.StatusCode != http.StatusOK {
		t.Errorf("another address: %d", res.StatusCode)
	}
	for i := range 2 * limits.ConnBurstPerAddress {
		if res := get("127.0.0.8"); res.StatusCode != http.StatusOK {
			t.Fatalf("trusted proxy, connection %d: %d", i+1, res.StatusCode)
		}
	}

	// Retry-After later the address is served again.
	time.Sleep(time.Duration(retry) * time.Second)
	if res := get("127.0.0.6"); res.StatusCode != http.StatusOK {
		t.Errorf("after Retry-After (%d s): %d", retry, res.StatusCode)
	}
}

// TestLoginsPerUser (issue 21 point 2, the soak): a user logs in at most
// LoginsPerUser times an hour, a quarter of them at once; the next login,
// even with the right password, is answered 429 with Retry-After before
// its password is hashed (a wrong password gets the same 429, not a 401),
// and another user logs in. On main a host logged in 252 times in 10 s.
func TestLoginsPerUser(t *testing.T) {
	t.Parallel()
	limits := hostileLimits()
	limits.LoginsPerUser = 12 // 3 at once
	s := startTarget(t, "", "morning", limits)
	s.login(t, "hoster", auth.RoleHost, "morning")
	for range 2 {
		loginAgain(t, s, "hoster")
	}
	post := func(name, password string) *http.Response {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		b := &consoleUser{s: s, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
		return b.post(t, "/login", url.Values{"username": {name}, "password": {password}})
	}
	for _, pw := range []string{"a-long-password-123", "a-wrong-password"} {
		res := post("hoster", pw)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("a fourth login at once (password %q): %d, Retry-After %q; want 429 with Retry-After",
				pw, res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	s.login(t, "pat", auth.RoleProducer, "morning")
}
