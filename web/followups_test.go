package web_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

func TestChatKeptInStore(t *testing.T) {
	t.Run("LoadedOnStart", func(t *testing.T) {
		chat := &webtest.Chat{At: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC)}
		for i := range core.ChatKeep + 5 {
			if _, err := chat.AddShowMessage(t.Context(), "morning", "screener", fmt.Sprintf("old message %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		chat.AddShowMessage(t.Context(), "evening", "x", "another show's message")
		e := webenv.New(t, func(c *core.Config) { c.Chat = chat })
		s := webtest.OpenSSE(t, e.LiveRequest(t, "host"))
		ev := s.Next(t, webtest.Named("chat", fmt.Sprintf("old message %d", core.ChatKeep+4)))
		if strings.Contains(ev.Data, "old message 4<") || !strings.Contains(ev.Data, "old message 5<") {
			t.Fatalf("want the last %d messages: %s", core.ChatKeep, ev.Data)
		}
		if strings.Contains(ev.Data, "another show") {
			t.Fatalf("another show's message in the chat: %s", ev.Data)
		}
		_, body := e.Console(t, "GET", "/shows/morning", "host", "", false)
		if !strings.Contains(body, fmt.Sprintf("old message %d<", core.ChatKeep+4)) {
			t.Fatal("the page lacks the stored chat")
		}
	})
	t.Run("PostedIsStoredAndSent", func(t *testing.T) {
		e := webenv.New(t)
		s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
		s.Next(t, webtest.Named("chat"))
		if res, body := e.Console(t, "POST", "/shows/morning/chat", "host", "text="+url.QueryEscape(webtest.Hostile), true); res.StatusCode != 200 {
			t.Fatalf("chat: %d %s", res.StatusCode, body)
		}
		ev := s.Next(t, webtest.Named("chat", "alert(1)"))
		if strings.Contains(ev.Data, webtest.Hostile) || !strings.Contains(ev.Data, "<b>host</b>") {
			t.Fatalf("chat fragment: %s", ev.Data)
		}
		got, _ := e.Chat.ShowMessages(t.Context(), "morning", 10)
		if len(got) != 1 || got[0].Author != "host" || got[0].Body != webtest.Hostile {
			t.Fatalf("stored %+v, want one message by host", got)
		}
	})
	t.Run("ErrStoreDown", func(t *testing.T) {
		e := webenv.New(t)
		e.Chat.Mu.Lock()
		e.Chat.AddFn = func(string, string, string) error { return errors.New("connection refused") }
		e.Chat.Mu.Unlock()
		res, body := e.Console(t, "POST", "/shows/morning/chat", "host", "text=hello", true)
		if res.StatusCode != 500 || !strings.Contains(body, "flash err") {
			t.Fatalf("got %d %s", res.StatusCode, body)
		}
		if _, body := e.Console(t, "GET", "/shows/morning", "host", "", false); strings.Contains(body, "hello") {
			t.Fatal("an unstored message is shown")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		e := webenv.New(t)
		e.Chat.Mu.Lock()
		e.Chat.AddFn = func(string, string, string) error { return fmt.Errorf("add: %w", queue.ErrInvalid) }
		e.Chat.Mu.Unlock()
		if res, _ := e.Console(t, "POST", "/shows/morning/chat", "host", "text=hello", true); res.StatusCode != 422 {
			t.Fatalf("got %d, want 422", res.StatusCode)
		}
	})
	t.Run("LoadRetried", func(t *testing.T) {
		chat := &webtest.Chat{}
		chat.AddShowMessage(t.Context(), "morning", "host", "before the restart")
		var mu sync.Mutex
		fails := 2
		chat.ListFn = func(string) error {
			mu.Lock()
			defer mu.Unlock()
			if fails > 0 {
				fails--
				return errors.New("database starting up")
			}
			return nil
		}
		e := webenv.New(t, func(c *core.Config) { c.Chat = chat; c.Retry = time.Millisecond })
		s := webtest.OpenSSE(t, e.LiveRequest(t, "host"))
		s.Next(t, webtest.Named("chat", "before the restart"))
	})
	t.Run("InMemoryWithoutChat", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.Chat = nil })
		s := webtest.OpenSSE(t, e.LiveRequest(t, "host"))
		if res, _ := e.Console(t, "POST", "/shows/morning/chat", "host", "text=hello", true); res.StatusCode != 200 {
			t.Fatalf("chat: %d", res.StatusCode)
		}
		s.Next(t, webtest.Named("chat", "hello"))
	})
}

func TestCallerSearch(t *testing.T) {
	e := webenv.New(t)
	var asked []string
	e.Hist.SearchFn = func(q string, limit int) ([]postgres.Profile, error) {
		asked = append(asked, q)
		if limit != core.SearchLimit {
			t.Errorf("limit %d, want %d", limit, core.SearchLimit)
		}
		if q == "nobody" {
			return nil, nil
		}
		return []postgres.Profile{
			{Number: "+15550001", Name: webtest.Hostile, Calls: 3, OnAir: 1, Notes: `"><img src=x onerror=alert(2)>`},
			{Number: "+15550002", Name: "Bob", Blocked: true},
		}, nil
	}
	t.Run("OK", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/callers?q="+url.QueryEscape(" 555 "), "screener", "", false)
		if res.StatusCode != 200 || strings.Count(body, `data-testid="search-row"`) != 2 {
			t.Fatalf("got %d %s", res.StatusCode, body)
		}
		if asked[len(asked)-1] != "555" {
			t.Fatalf("searched %q, want 555", asked[len(asked)-1])
		}
		for _, bad := range []string{webtest.Hostile, "<img src=x"} {
			if strings.Contains(body, bad) {
				t.Fatalf("page contains unescaped %q", bad)
			}
		}
		for _, want := range []string{`href="/callers/+15550001"`, "&lt;script&gt;", `value="555"`, `data-testid="nav-callers"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("page lacks %q", want)
			}
		}
	})
	t.Run("FormOnly", func(t *testing.T) {
		n := len(asked)
		res, body := e.Console(t, "GET", "/callers", "host", "", false)
		if res.StatusCode != 200 || !strings.Contains(body, `data-testid="search-form"`) || len(asked) != n {
			t.Fatalf("got %d, %d searches; %s", res.StatusCode, len(asked)-n, body)
		}
	})
	t.Run("NoMatch", func(t *testing.T) {
		_, body := e.Console(t, "GET", "/callers?q=nobody", "host", "", false)
		if !strings.Contains(body, `data-testid="search-empty"`) {
			t.Fatalf("no 'no match' message: %s", body)
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		if res, _ := e.Console(t, "GET", "/callers?q="+strings.Repeat("9", api.MaxSearch+1), "host", "", false); res.StatusCode != 422 {
			t.Fatalf("got %d, want 422", res.StatusCode)
		}
	})
	t.Run("ErrNoHistory", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.History = nil })
		res, body := e.Console(t, "GET", "/callers?q=555", "host", "", false)
		if res.StatusCode != 404 || strings.Contains(body, `data-testid="nav-callers"`) {
			t.Fatalf("got %d; the header links a search that cannot work", res.StatusCode)
		}
	})
}

func TestDropWithGoodbye(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if !strings.Contains(page, `data-testid="act-drop-goodbye"`) || !strings.Contains(page, `data-vals="{&#34;goodbye&#34;:&#34;1&#34;}"`) {
		t.Fatal("no goodbye button sending goodbye=1")
	}
	res, body := e.Console(t, "POST", "/shows/morning/callers/c1/drop", "producer", "goodbye=1", true)
	if res.StatusCode != 200 || !strings.Contains(body, "after the goodbye") {
		t.Fatalf("got %d %s", res.StatusCode, body)
	}
	e.App.Mu.Lock()
	got := e.App.LastDrop.Goodbye
	e.App.Mu.Unlock()
	if !got {
		t.Fatal("the drop did not ask for the goodbye")
	}
	e.Console(t, "POST", "/shows/morning/callers/c2/drop", "producer", "", true)
	e.App.Mu.Lock()
	got = e.App.LastDrop.Goodbye
	e.App.Mu.Unlock()
	if got {
		t.Fatal("a plain drop asked for the goodbye")
	}
}

// TestDropNotOnAir: a role that may drop only waiting callers has broadcast
// refuse the drop atomically if the caller went on air meanwhile.
func TestDropNotOnAir(t *testing.T) {
	e := webenv.New(t)
	for i, tc := range []struct {
		role string
		want bool
	}{{"screener", true}, {"producer", false}} {
		id := fmt.Sprintf("c%d", i)
		e.App.Arrive(id, fmt.Sprintf("+1555000%d", i), "Ann")
		res, _ := e.API(t, "POST", "/api/v1/shows/morning/callers/"+id+"/drop", tc.role, "{}")
		if res.StatusCode != 200 {
			t.Fatalf("%s drop: %d", tc.role, res.StatusCode)
		}
		e.App.Mu.Lock()
		got := e.App.LastDrop.NotOnAir
		e.App.Mu.Unlock()
		if got != tc.want {
			t.Errorf("%s: NotOnAir %t, want %t", tc.role, got, tc.want)
		}
	}
}

func TestShowControlsAreLoggedWithWho(t *testing.T) {
	var logs webtest.SyncBuffer
	e := webenv.New(t, func(c *core.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	steps := []struct {
		path, form string
		want       map[string]any
	}{
		{"close-lines", "", map[string]any{"action": "lines", "open": false}},
		{"start-recording", "", map[string]any{"action": "recording", "on": true}},
		{"stop-talkback", "", map[string]any{"action": "talkback", "on": false}},
		{"announce", "seconds=90", map[string]any{"action": "announce_interval", "every": "1m30s"}},
		{"air-limit", "minutes=7", map[string]any{"action": "air_limit", "minutes": 7.0}},
	}
	for _, st := range steps {
		if res, body := e.Console(t, "POST", "/shows/morning/controls/"+st.path, "producer", st.form, true); res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", st.path, res.StatusCode, body)
		}
	}
	if res, _ := e.API(t, "PUT", "/api/v1/shows/morning/lines", "producer", `{"open":true}`); res.StatusCode != 200 {
		t.Fatalf("API lines: %d", res.StatusCode)
	}
	e.App.ControlFn = func(string) error { return fmt.Errorf("x: %w", queue.ErrConflict) }
	e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "", true)

	recs := logs.Records(t, "web: show control")
	if len(recs) != len(steps)+1 {
		t.Fatalf("%d control records, want %d: %v", len(recs), len(steps)+1, recs)
	}
	for i, st := range steps {
		rec := recs[i]
		if rec["user"] != "producer" || rec["show"] != "morning" || rec["kind"] != "user" {
			t.Errorf("%s: who/where: %v", st.path, rec)
		}
		for k, v := range st.want {
			if rec[k] != v {
				t.Errorf("%s: %s = %v, want %v", st.path, k, rec[k], v)
			}
		}
	}
	if api := recs[len(steps)]; api["user"] != "bot-producer" || api["kind"] != "token" || api["open"] != true {
		t.Errorf("API lines record: %v", api)
	}
	failed := logs.Records(t, "web: show control failed")
	if len(failed) != 1 || failed[0]["action"] != "talkback" || failed[0]["user"] != "producer" || failed[0]["err"] == nil {
		t.Fatalf("failed control records: %v", failed)
	}
}

// TestCallHostIsLogged: calling the host phone onto the air, from the
// console or the API, goes through the audit like every other control.
func TestCallHostIsLogged(t *testing.T) {
	var logs webtest.SyncBuffer
	e := webenv.New(t, func(c *core.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	e.Console(t, "POST", "/shows/morning/controls/call-host", "producer", "", true)
	e.API(t, "POST", "/api/v1/shows/morning/host/call", "producer", "")
	var n int
	for _, msg := range []string{"web: show control", "web: show control failed"} {
		for _, rec := range logs.Records(t, msg) {
			if rec["action"] == "call_host" && rec["show"] == "morning" {
				n++
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d call_host audit records, want 2 (console and API)", n)
	}
}
