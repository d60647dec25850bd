package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

func TestShowPageEscapesHostileNames(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", webtest.Hostile)
	e.App.Arrive("c2", "+15550002", `"><img src=x onerror=alert(2)>`)
	if _, err := e.App.Ready(t.Context(), "morning", "c2", queue.Actor{}, queue.Notes{Topic: webtest.Hostile}); err != nil {
		t.Fatal(err)
	}
	res, body := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, bad := range []string{webtest.Hostile, "<img src=x", "<b>Show</b>"} {
		if strings.Contains(body, bad) {
			t.Fatalf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("escaped name missing from the page")
	}
	if !strings.Contains(body, `data-testid="caller-row"`) || !strings.Contains(body, `X-CSRF-Token`) {
		t.Fatalf("page lacks rows or the CSRF header")
	}
}

func TestShowPageHidesWhatRoleCannotDo(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	cases := []struct {
		role       string
		want, gone []string
	}{
		{"producer", []string{`act-promote`, `act-screen`, `act-drop`, `take-next`, `control-close-lines`}, nil},
		{"screener", []string{`act-screen`, `act-ready`, `act-drop`}, []string{`act-promote`, `take-next`, `control-close-lines`}},
		{"host", []string{`take-next`}, []string{`act-promote`, `act-screen`, `act-drop`, `control-close-lines`}},
	}
	for _, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			_, body := e.Console(t, "GET", "/shows/morning", tc.role, "", false)
			for _, w := range tc.want {
				if !strings.Contains(body, `data-testid="`+w+`"`) {
					t.Errorf("%s: missing %s", tc.role, w)
				}
			}
			for _, g := range tc.gone {
				if strings.Contains(body, `data-testid="`+g+`"`) {
					t.Errorf("%s: shows %s", tc.role, g)
				}
			}
		})
	}
}

func TestConsoleActionFlash(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	t.Run("OK", func(t *testing.T) {
		res, body := e.Console(t, "POST", "/shows/morning/callers/c1/promote", "producer", "", true)
		if res.StatusCode != 200 || !strings.Contains(body, "On air: +15550001 Ann") {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("ErrLostRace", func(t *testing.T) {
		e.App.ActFn = func(string, string) error { return fmt.Errorf("x: %w", queue.ErrBusy) }
		defer func() { e.App.ActFn = nil }()
		res, body := e.Console(t, "POST", "/shows/morning/callers/c1/hold", "producer", "", true)
		if res.StatusCode != 409 || !strings.Contains(body, "someone else") || !strings.Contains(body, `data-testid="flash-msg"`) {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("ErrCallerGone", func(t *testing.T) {
		e.App.ActFn = func(string, string) error { return fmt.Errorf("x: %w", queue.ErrGone) }
		defer func() { e.App.ActFn = nil }()
		_, body := e.Console(t, "POST", "/shows/morning/callers/c1/hold", "producer", "", true)
		if !strings.Contains(body, "hung up") {
			t.Fatalf("got %q", body)
		}
	})
	t.Run("Forbidden", func(t *testing.T) {
		res, body := e.Console(t, "POST", "/shows/morning/callers/c1/mute", "screener", "", true)
		if res.StatusCode != 403 || !strings.Contains(body, "role may not") {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("BadPriority", func(t *testing.T) {
		res, body := e.Console(t, "POST", "/shows/morning/callers/c1/ready", "producer", "priority=99", true)
		if res.StatusCode != 422 || !strings.Contains(body, "priority") {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("NoJSRedirects", func(t *testing.T) {
		res, _ := e.Console(t, "POST", "/shows/morning/callers/c1/mute", "producer", "", false)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/shows/morning" {
			t.Fatalf("got %d %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
	t.Run("Controls", func(t *testing.T) {
		for _, c := range []string{"close-lines", "open-lines", "start-recording", "stop-recording", "start-talkback", "stop-talkback"} {
			if res, body := e.Console(t, "POST", "/shows/morning/controls/"+c, "producer", "", true); res.StatusCode != 200 {
				t.Fatalf("%s: got %d %q", c, res.StatusCode, body)
			}
		}
		if res, _ := e.Console(t, "POST", "/shows/morning/controls/announce", "producer", "seconds=90", true); res.StatusCode != 200 {
			t.Fatalf("announce: got %d", res.StatusCode)
		}
		if res, body := e.Console(t, "POST", "/shows/morning/controls/announce", "producer", "seconds=-1", true); res.StatusCode != 422 || !strings.Contains(body, "seconds") {
			t.Fatalf("announce -1: got %d %q", res.StatusCode, body)
		}
		if res, _ := e.Console(t, "POST", "/shows/morning/controls/close-lines", "host", "", true); res.StatusCode != 403 {
			t.Fatalf("host closing lines: got %d", res.StatusCode)
		}
	})
	t.Run("NoSession", func(t *testing.T) {
		res, err := http.Get(e.TS.URL + "/shows/morning")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Request.URL.Path != "/login" {
			t.Fatalf("ended at %s, want the login page", res.Request.URL.Path)
		}
	})
}

func TestConsoleLiveFragments(t *testing.T) {
	e := webenv.New(t)
	consoles := []*webtest.Stream{}
	for _, role := range []string{"producer", "producer", "screener", "host"} {
		consoles = append(consoles, webtest.OpenSSE(t, e.LiveRequest(t, role)))
	}
	for _, s := range consoles {
		s.Next(t, webtest.Named("waiting", "Nobody is waiting")) // the full render on connect
	}
	e.App.Arrive("c1", "+15550001", webtest.Hostile)
	for i, s := range consoles {
		// Fragments come in fragmentNames order: stats before waiting.
		s.Next(t, webtest.Named("stats", `data-testid="count-waiting">1<`))
		ev := s.Next(t, webtest.Named("waiting", "+15550001"))
		if strings.Contains(ev.Data, webtest.Hostile) {
			t.Fatalf("console %d: unescaped name in fragment", i)
		}
	}
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range consoles {
		s.Next(t, webtest.Named("onair", "+15550001"))
	}
	e.App.Hangup("c1")
	for _, s := range consoles {
		ev := s.Next(t, webtest.Named("onair"))
		if strings.Contains(ev.Data, "+15550001") {
			t.Fatalf("hung-up caller still on air: %s", ev.Data)
		}
	}
	t.Run("Chat", func(t *testing.T) {
		if res, _ := e.Console(t, "POST", "/shows/morning/chat", "host", "text="+webtest.Hostile, true); res.StatusCode != 200 {
			t.Fatalf("chat: %d", res.StatusCode)
		}
		ev := consoles[2].Next(t, webtest.Named("chat", "alert(1)"))
		if strings.Contains(ev.Data, webtest.Hostile) {
			t.Fatal("unescaped chat message")
		}
		if res, _ := e.Console(t, "POST", "/shows/morning/chat", "host", "text=", true); res.StatusCode != 422 {
			t.Fatalf("empty chat: %d", res.StatusCode)
		}
	})
}

func TestHistoryBadge(t *testing.T) {
	e := webenv.New(t)
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		return postgres.Profile{Number: n, Calls: 5, OnAir: 2, Blocked: true, Notes: webtest.Hostile,
			LastCall: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}, nil
	}
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	e.App.Arrive("c1", "+15550001", "Ann")
	// The badge comes after the row: as a swap of that row alone.
	ev := s.Next(t, webtest.Named("rows", `data-testid="badge"`, `hx-swap-oob="morph:#waiting &gt; ol &gt; li[data-call=&#34;c1&#34;]"`))
	for _, want := range []string{"4 before", "2 on air", "2025-10-01", "BLOCKED", "&lt;script&gt;"} {
		if !strings.Contains(ev.Data, want) {
			t.Fatalf("badge lacks %q: %s", want, ev.Data)
		}
	}
}

func TestCallerPage(t *testing.T) {
	e := webenv.New(t)
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		return postgres.Profile{Number: n, Name: webtest.Hostile, Calls: 2}, nil
	}
	e.Hist.CallsFn = func(n string) ([]postgres.Call, error) {
		return []postgres.Call{{ID: "a", Show: "morning", Outcome: queue.OutcomeAired, Notes: queue.Notes{Topic: webtest.Hostile}},
			{ID: "b", Show: "morning", Outcome: queue.OutcomeAbandoned}}, nil
	}
	var reason string
	e.Hist.BlockFn = func(_, _, r string) error { reason = r; return nil }
	res, body := e.Console(t, "GET", "/callers/+15550001", "producer", "", false)
	if res.StatusCode != 200 || strings.Contains(body, webtest.Hostile) || strings.Count(body, `data-testid="history-row"`) != 2 || !strings.Contains(body, "abandoned") {
		t.Fatalf("got %d %s", res.StatusCode, body)
	}
	if res, _ := e.Console(t, "POST", "/callers/+15550001/block", "producer", "reason=rude", true); res.StatusCode != 200 || reason != "rude" {
		t.Fatalf("block: %d %q", res.StatusCode, reason)
	}
	if res, _ := e.Console(t, "POST", "/callers/+15550001/block", "screener", "reason=rude", true); res.StatusCode != 403 {
		t.Fatalf("screener block: %d", res.StatusCode)
	}
}

func TestReportPage(t *testing.T) {
	e := webenv.New(t)
	day := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)
	at := day.Add(9 * time.Hour)
	var asked [][2]time.Time
	calls := []postgres.Call{
		{ID: "a", ArrivedAt: at, AnsweredAt: at, OnAirAt: at.Add(30 * time.Second), Outcome: queue.OutcomeAired},
		{ID: "b", ArrivedAt: at, AnsweredAt: at, EndedAt: at.Add(3 * time.Minute), Outcome: queue.OutcomeAbandoned},
		{ID: "c", ArrivedAt: at, AnsweredAt: at, EndedAt: at.Add(3 * time.Minute), Outcome: queue.OutcomeAbandoned},
		{ID: "d", ArrivedAt: at.Add(time.Hour), Outcome: queue.OutcomeRejected, Name: "=HYPERLINK(1)"},
		{ID: "e", ArrivedAt: day.Add(26 * time.Hour), Outcome: queue.OutcomeAired}, // the next day
	}
	e.Hist.ShowCallsInFn = func(_ string, from, to time.Time) ([]postgres.Call, error) {
		asked = append(asked, [2]time.Time{from, to})
		var out []postgres.Call
		for _, c := range calls {
			if !c.ArrivedAt.Before(from) && c.ArrivedAt.Before(to) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	t.Run("Day", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/shows/morning/report?day=2025-11-20", "host", "", false)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := asked[len(asked)-1]; !got[0].Equal(day) || !got[1].Equal(day.AddDate(0, 0, 1)) {
			t.Fatalf("asked for %v, want the day", got)
		}
		for _, want := range []string{`data-testid="chart-hours"`, `data-testid="chart-waits"`, `data-testid="chart-outcomes"`,
			`<svg`, `data-n="3"`, `data-n="2"`, `data-testid="report-calls">4<`, "Thursday 20 November 2025",
			`href="/shows/morning/report/calls.csv?day=2025-11-20"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("report lacks %q", want)
			}
		}
	})
	t.Run("Range", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/shows/morning/report?from=2025-11-20&to=2025-11-21", "host", "", false)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := asked[len(asked)-1]; !got[0].Equal(day) || !got[1].Equal(day.AddDate(0, 0, 2)) {
			t.Fatalf("asked for %v, want both days", got)
		}
		for _, want := range []string{`data-testid="chart-days"`, `data-testid="report-calls">5<`, "Nov 21",
			`href="/shows/morning/report/transitions.csv?from=2025-11-20&amp;to=2025-11-21"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("range report lacks %q", want)
			}
		}
	})
	t.Run("CSV", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/shows/morning/report/calls.csv?day=2025-11-20", "host", "", false)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("calls.csv: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		if lines := strings.Count(body, "\n"); lines != 5 || !strings.Contains(body, "'=HYPERLINK(1)") {
			t.Fatalf("calls.csv: %d lines, want a header and 4 calls, the formula kept as text: %s", lines, body)
		}
		if res, _ := e.Console(t, "GET", "/shows/morning/report/transitions.csv?from=2025-11-20&to=2025-11-21", "producer", "", false); res.StatusCode != 200 {
			t.Fatalf("transitions.csv: %d", res.StatusCode)
		}
		if res, _ := e.Console(t, "GET", "/shows/morning/report/recordings.csv", "producer", "", false); res.StatusCode != 404 {
			t.Fatalf("an unknown export: %d, want 404", res.StatusCode)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, q := range []string{"day=yesterday", "from=2025-11-20", "from=2025-11-21&to=2025-11-20", "from=2025-01-01&to=2025-03-01"} {
			if res, _ := e.Console(t, "GET", "/shows/morning/report?"+q, "host", "", false); res.StatusCode != 422 {
				t.Errorf("%s: %d, want 422", q, res.StatusCode)
			}
		}
	})
}

// TestConsoleCallsHost: a producer calls the show's host phone onto the air
// from the console; a role without the show's controls may not; a show
// without a host phone says so.
func TestConsoleCallsHost(t *testing.T) {
	e := webenv.New(t)
	var called []string
	var mu sync.Mutex
	e.App.ControlFn = func(name string) error {
		mu.Lock()
		defer mu.Unlock()
		called = append(called, name)
		if len(called) > 1 {
			return fmt.Errorf("fake: show has no host endpoint: %w", queue.ErrInvalid)
		}
		return nil
	}
	if _, body := e.Console(t, "GET", "/shows/morning", "producer", "", false); !strings.Contains(body, `data-testid="control-call-host"`) {
		t.Fatal("no Call host button with nobody on air")
	}
	if res, body := e.Console(t, "POST", "/shows/morning/controls/call-host", "producer", "", true); res.StatusCode != 200 || !strings.Contains(body, "host") {
		t.Fatalf("call host: %d %q", res.StatusCode, body)
	}
	if res, body := e.Console(t, "POST", "/shows/morning/controls/call-host", "producer", "", true); res.StatusCode != 422 {
		t.Fatalf("show without a host phone: %d %q, want 422", res.StatusCode, body)
	}
	if res, _ := e.Console(t, "POST", "/shows/morning/controls/call-host", "screener", "", true); res.StatusCode != 403 {
		t.Fatalf("screener calling the host: %d, want 403", res.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(called) != 2 || called[0] != "host" {
		t.Errorf("controls called %v, want the host twice (not for the screener)", called)
	}
}

// TestConsoleClearAir: the on-air area's menu holds (producers) and drops
// (producers, hosts) everyone on air but the locked, and says what it did;
// it appears with somebody on air (its actions disabled when all of them
// are locked), and only with its permissions.
func TestConsoleClearAir(t *testing.T) {
	e := webenv.New(t)
	if _, body := e.Console(t, "GET", "/shows/morning", "producer", "", false); strings.Contains(body, `data-testid="air-menu"`) {
		t.Fatal("the on-air menu with nobody on air")
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		e.App.Arrive(id, "+1555000"+id[1:], "Caller "+id)
		if _, err := e.App.Promote(t.Context(), "morning", id, queue.Actor{Kind: queue.ActorUser, Name: "pat"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.App.Lock("morning", "c3", queue.Actor{Kind: queue.ActorUser, Name: "pat"}); err != nil {
		t.Fatal(err)
	}
	_, body := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	for _, want := range []string{`data-testid="air-menu"`, `data-testid="hold-air"`, "Hold all (2)", `data-testid="drop-air"`, "Drop 2 callers on air? Locked callers stay."} {
		if !strings.Contains(body, want) {
			t.Errorf("producer's console lacks %q", want)
		}
	}
	_, body = e.Console(t, "GET", "/shows/morning", "host", "", false)
	if strings.Contains(body, `data-testid="hold-air"`) || !strings.Contains(body, `data-testid="drop-air"`) {
		t.Error("host's console: want drop all and no hold all")
	}
	if _, body = e.Console(t, "GET", "/shows/morning", "screener", "", false); strings.Contains(body, `data-testid="air-menu"`) {
		t.Error("screener's console has the on-air menu")
	}
	if res, _ := e.Console(t, "POST", "/shows/morning/controls/hold-air", "host", "", true); res.StatusCode != 403 {
		t.Errorf("hold all as host: %d, want 403", res.StatusCode)
	}
	res, body := e.Console(t, "POST", "/shows/morning/controls/hold-air", "producer", "", true)
	if res.StatusCode != 200 || !strings.Contains(body, "On hold: 2 callers. Locked, still on air: 1.") {
		t.Fatalf("hold all: %d %q", res.StatusCode, body)
	}
	for id, want := range map[string]queue.State{"c1": queue.StateWaiting, "c2": queue.StateWaiting, "c3": queue.StateOnAir} {
		if c, _ := e.App.Call("morning", id); c.State != want {
			t.Errorf("%s is %s, want %s", id, c.State, want)
		}
	}
	// Only a locked caller on air: the menu stays (nothing moves when the
	// last one is locked), its actions disabled.
	if _, body = e.Console(t, "GET", "/shows/morning", "producer", "", false); !strings.Contains(body, "Everyone on air is locked.") ||
		!strings.Contains(body, `data-testid="hold-air" disabled`) {
		t.Error("with only a locked caller on air, want the on-air menu with its actions disabled")
	}
	res, body = e.Console(t, "POST", "/shows/morning/controls/drop-air", "host", "", true)
	if res.StatusCode != 200 || !strings.Contains(body, "Nobody on air to clear. Locked, still on air: 1.") {
		t.Fatalf("drop all with only the locked: %d %q", res.StatusCode, body)
	}
}
