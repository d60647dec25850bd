package auth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web/auth"
)

// burstLogins sends n logins at once, of n users (concurrent attempts of
// one name count as its failures until they succeed), to a login server over a
// real listener, whose Service waits at most hashWait for a hashing slot
// (0: the default), and returns their answers' statuses and Retry-After
// headers.
func burstLogins(t *testing.T, n int, hashWait time.Duration) (statuses []int, retry []string) {
	t.Helper()
	store := pgtest.NewStore(t)
	for i := range n {
		if err := auth.AddUser(context.Background(), store, fmt.Sprintf("user%d", i), auth.RoleProducer, "a-long-password-123"); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := auth.New(auth.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if hashWait > 0 {
		auth.SetHashWait(svc, hashWait)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", svc.LoginHandler(nil))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	statuses, retry = make([]int, n), make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			form := url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {"a-long-password-123"}}.Encode()
			<-start
			res, err := c.Post(ts.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				t.Errorf("login %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i], retry[i] = res.StatusCode, res.Header.Get("Retry-After")
		})
	}
	close(start)
	wg.Wait()
	return statuses, retry
}

// TestLoginBurstHashesOnHalfTheCPUs: a burst of logins over a real
// listener never runs more argon2id hashes at once than half the CPUs (at
// least one), and every login of the burst succeeds.
func TestLoginBurstHashesOnHalfTheCPUs(t *testing.T) {
	t.Parallel()
	bound := max(1, runtime.GOMAXPROCS(0)/2)
	statuses, _ := burstLogins(t, min(18, 3*bound+6), 0)
	for i, s := range statuses {
		if s != http.StatusSeeOther {
			t.Errorf("login %d: %d, want 303", i, s)
		}
	}
	if peak := auth.ArgonPeak(); peak > bound || peak < 1 {
		t.Errorf("%d argon2id hashes at once, want 1 to %d (half the CPUs)", peak, bound)
	}
}

// TestLoginWaitingForHashingAnswers503: a login that waits longer than the
// Service's hash wait for a hashing slot is answered 503 with Retry-After,
// never 500.
func TestLoginWaitingForHashingAnswers503(t *testing.T) {
	t.Parallel()
	statuses, retry := burstLogins(t, 12, 5*time.Millisecond)
	got := map[int]int{}
	for i, s := range statuses {
		got[s]++
		if s == http.StatusServiceUnavailable && retry[i] != "5" {
			t.Errorf("login %d: 503 with Retry-After %q, want 5", i, retry[i])
		}
	}
	// Some may succeed (none if the package's other tests hash meanwhile).
	if got[http.StatusServiceUnavailable] == 0 || got[http.StatusSeeOther]+got[http.StatusServiceUnavailable] != len(statuses) {
		t.Errorf("statuses %v, want some 503, the others 303, nothing else", got)
	}
}
