package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/web/auth"
)

// watchedStore counts UserPassword calls and, when hold is set, keeps
// each one waiting until its context ends, as a stalled database would.
type watchedStore struct {
	*postgres.Store
	calls   atomic.Int64
	hold    bool
	entered chan struct{} // a value per UserPassword call
}

func (s *watchedStore) UserPassword(ctx context.Context, name string) (int64, string, string, error) {
	s.calls.Add(1)
	select {
	case s.entered <- struct{}{}:
	default:
	}
	if s.hold {
		<-ctx.Done()
		return 0, "", "", fmt.Errorf("watched store: %w", ctx.Err())
	}
	return s.Store.UserPassword(ctx, name)
}

// logLines is a log sink that tests wait on.
type logLines struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	wake chan struct{}
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return l.buf.Write(p)
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until a line contains want.
func (l *logLines) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for !strings.Contains(l.String(), want) {
		select {
		case <-l.wake:
		case <-timeout:
			t.Fatalf("no log line with %q in:\n%s", want, l.String())
		}
	}
}

// loginServer serves a Service's login over a real listener.
func loginServer(t *testing.T, store *watchedStore, logs io.Writer) string {
	t.Helper()
	// LoginsPerUser: these tests log one user in again and again.
	svc, err := auth.New(auth.Config{Store: store, LoginsPerUser: 100,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", svc.LoginHandler(nil))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// TestAbortedLoginRunsNoLogin: a login whose client leaves runs no
// database query when the form is cut short, and logs no error when the
// client leaves during the login.
func TestAbortedLoginRunsNoLogin(t *testing.T) {
	t.Parallel()
	t.Run("FormCutShort", func(t *testing.T) {
		t.Parallel()
		store := &watchedStore{Store: pgtest.NewStore(t), entered: make(chan struct{}, 100)}
		logs := &logLines{wake: make(chan struct{}, 1)}
		addr := loginServer(t, store, logs)
		for i := range 20 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nusername=alice&password=corr", addr)
			c.Close()
			// Each abandoned request is seen (logged) before the next.
			for strings.Count(logs.String(), "the client left before sending its form") <= i {
				select {
				case <-logs.wake:
				case <-store.entered:
					t.Fatalf("request %d: a login ran for a form the client never finished", i+1)
				case <-time.After(10 * time.Second):
					t.Fatalf("request %d: never handled:\n%s", i+1, logs.String())
				}
			}
		}
		if n := store.calls.Load(); n != 0 {
			t.Errorf("%d logins queried the database for forms never finished", n)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("errors logged for clients that left:\n%s", logs.String())
		}
	})
	t.Run("ClientLeavesDuringLogin", func(t *testing.T) {
		t.Parallel()
		store := &watchedStore{Store: pgtest.NewStore(t), hold: true, entered: make(chan struct{}, 100)}
		logs := &logLines{wake: make(chan struct{}, 1)}
		addr := loginServer(t, store, logs)
		for i := range 10 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			// A name each: every abandoned login counts as a failure.
			form := fmt.Sprintf("username=alice%d&password=whatever+it+is", i)
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", addr, len(form), form)
			select {
			case <-store.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the login never reached the database")
			}
			c.Close()
			for strings.Count(logs.String(), "the client left before the answer") <= i {
				select {
				case <-logs.wake:
				case <-time.After(10 * time.Second):
					t.Fatalf("request %d: the abandoned login never ended:\n%s", i+1, logs.String())
				}
			}
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("errors logged for clients that left:\n%s", logs.String())
		}
	})
}

// TestLoginFormBounded: a multipart login or one over the form bound is
// answered at once, without reading the body the client is still sending
// and without a login.
func TestLoginFormBounded(t *testing.T) {
	t.Parallel()
	store := &watchedStore{Store: pgtest.NewStore(t), entered: make(chan struct{}, 100)}
	addr := loginServer(t, store, io.Discard)
	for _, tc := range []struct {
		name, contentType string
		want              int
	}{
		{"Multipart", "multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"Oversized", "application/x-www-form-urlencoded", http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// Announce 30 MB, send 1 MB, and wait for the answer.
			fmt.Fprintf(c, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", addr, tc.contentType, 30<<20)
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for range 16 {
				if _, err := c.Write(chunk); err != nil {
					break // the server has answered and closed: fine
				}
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer while the body was unfinished: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("%d logins ran for refused forms", n)
	}
}
