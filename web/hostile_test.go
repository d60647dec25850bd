package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// The tests of issue 10 ("Hostile clients") that web answers alone, on
// the fakes, over httptest's real listener. The slow and idle clients are
// cmd/callin's TestHostileClients, on the whole service.

// TestStreamsEndWithTheirCredentials (point 3): a revoked token's API
// stream ends at the next recheck; a logout ends its session's console
// stream at once, and no other.
func TestStreamsEndWithTheirCredentials(t *testing.T) {
	t.Run("RevokedToken", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.Limits.StreamRecheck = 20 * time.Millisecond })
		s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
		other, _ := http.NewRequestWithContext(t.Context(), "GET", e.TS.URL+"/api/v1/shows/morning/events", nil)
		other.Header.Set("Authorization", "Bearer producer")
		keep := webtest.OpenSSE(t, other)
		e.App.Arrive("c1", "+15550001", "Ann")
		s.Next(t, webtest.Named("transition"))
		e.Auth.Revoke("t:host")
		if ev := s.Next(t, webtest.Named("end")); !strings.Contains(ev.Data, "no longer valid") {
			t.Errorf("end event: %q", ev.Data)
		}
		s.WaitEnded(t)
		e.App.Arrive("c2", "+15550002", "Bob")
		for _, id := range []string{"c1", "c2"} { // arrive and join: two transitions a call
			for range 2 {
				if tr := webenv.TransitionOf(t, keep.Next(t, webtest.Named("transition"))); tr.CallID != id {
					t.Fatalf("the other token's stream: got %s, want %s", tr.CallID, id)
				}
			}
		}
	})
	t.Run("Logout", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.Limits.StreamRecheck = time.Hour })
		s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
		keep := webtest.OpenSSE(t, e.LiveRequest(t, "host"))
		s.Next(t, webtest.Named("header"))
		keep.Next(t, webtest.Named("header"))
		res, _ := e.Console(t, "POST", "/logout", "producer", "csrf_token=csrf-producer", false)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if ev := s.Next(t, webtest.Named("end")); !strings.Contains(ev.Data, "logged out") {
			t.Errorf("end event: %q", ev.Data)
		}
		s.WaitEnded(t)
		e.App.Arrive("c1", "+15550001", "Ann")
		keep.Next(t, webtest.Named("rows", "c1"))
	})
}

// TestStreamLimits (issue 10 point 5, issue 21 point 2): one user or
// token holds at most StreamsPerUser streams (429), the service MaxStreams
// (503), the last StreamsReserved of them only for admins and producers.
func TestStreamLimits(t *testing.T) {
	e := webenv.New(t, func(c *core.Config) {
		c.Limits.StreamsPerUser, c.Limits.MaxStreams, c.Limits.StreamsReserved, c.Limits.StreamShare = 2, 4, 1, 1
	})
	bearer := func(role string) *http.Request {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.TS.URL+"/api/v1/shows/morning/events", nil)
		req.Header.Set("Authorization", "Bearer "+role)
		return req
	}
	refused := func(role string, status int, code string) {
		t.Helper()
		res, err := http.DefaultClient.Do(bearer(role))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != status || !strings.Contains(string(b), `"code":"`+code+`"`) {
			t.Fatalf("stream for %s: got %d %s, want %d %s", role, res.StatusCode, b, status, code)
		}
	}
	webtest.OpenSSE(t, bearer("host"))
	webtest.OpenSSE(t, bearer("host"))
	refused("host", http.StatusTooManyRequests, api.CodeLimited)
	webtest.OpenSSE(t, bearer("screener"))
	// 3 of 4 open: the last is the reserve.
	refused("screener", http.StatusServiceUnavailable, api.CodeUnavailable)
	webtest.OpenSSE(t, bearer("producer"))
	refused("admin", http.StatusServiceUnavailable, api.CodeUnavailable)
	if total, theirs := e.Srv.Streams.Count("token:bot-host"); total != 4 || theirs != 2 {
		t.Fatalf("counted %d streams, %d of host; want 4 and 2", total, theirs)
	}
}

// TestTalkbackAllowList (point 6): a talkback may call only the show's
// configured phones and play only its configured media (or plain sound
// prompts when it configures none).
func TestTalkbackAllowList(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"PremiumNumber", `{"endpoint":"PJSIP/+1900555@carrier-trunk"}`, 422, "endpoint"},
		{"PasswdFile", `{"media":["sound:/etc/passwd"]}`, 422, "media"},
		{"DotDot", `{"media":["sound:../../../etc/passwd"]}`, 422, "media"},
		{"OtherScheme", `{"media":["recording:../x"]}`, 422, "media"},
		{"SomeonesPhone", `{"user":"alice"}`, 400, "user"}, // the API takes no user: a token has no phone
		{"Phone", `{"endpoint":"PJSIP/studio"}`, 200, ""},
		{"Sound", `{"media":["sound:callin/back-after-news"]}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := webenv.New(t)
			res, body := e.API(t, "POST", "/api/v1/shows/morning/talkback/start", "producer", tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("got %d %v, want %d", res.StatusCode, body, tc.status)
			}
			if tc.field != "" && body["field"] != tc.field {
				t.Errorf("error names %v, want %s", body["field"], tc.field)
			}
		})
	}
	t.Run("ConfiguredMediaOnly", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) {
			c.Talkback = map[string]core.TalkbackRules{"morning": {Media: []string{"sound:back-after-news"}}}
		})
		if res, body := e.API(t, "POST", "/api/v1/shows/morning/talkback/start", "producer", `{"media":["sound:tt-monkeys"]}`); res.StatusCode != 422 {
			t.Fatalf("a sound the show does not list: got %d %v", res.StatusCode, body)
		}
		if res, body := e.API(t, "POST", "/api/v1/shows/morning/talkback/start", "producer", `{"endpoint":"PJSIP/producer"}`); res.StatusCode != 422 || !strings.Contains(fmt.Sprint(body), "no talkback phones") {
			t.Fatalf("a show without phones: got %d %v", res.StatusCode, body)
		}
		if res, body := e.API(t, "POST", "/api/v1/shows/morning/talkback/start", "producer", `{"media":["sound:back-after-news"]}`); res.StatusCode != 200 {
			t.Fatalf("the show's message: got %d %v", res.StatusCode, body)
		}
	})
	t.Run("ConsoleCallsTheFirstPhone", func(t *testing.T) {
		e := webenv.New(t)
		if res, body := e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "", true); res.StatusCode != 200 {
			t.Fatalf("got %d %s", res.StatusCode, body)
		}
		if got := e.App.LastTalkback.Endpoint; got != "PJSIP/producer" {
			t.Errorf("called %q, want the show's first phone", got)
		}
		if res, _ := e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "endpoint="+url.QueryEscape("Local/1900@default"), true); res.StatusCode != 422 {
			t.Errorf("console with another endpoint: got %d, want 422", res.StatusCode)
		}
	})
	// The console's talkback menu offers each of the show's phones and
	// messages, and plays only those.
	t.Run("ConsoleMenu", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) {
			c.Talkback = map[string]core.TalkbackRules{"morning": {Phones: []string{"PJSIP/prod1"}, Media: []string{"sound:callin/back-after-news", "recording:promos/friday"}}}
		})
		_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
		for _, want := range []string{`data-testid="talkback-menu"`, "Live from PJSIP/prod1", "Play back-after-news", "Play friday",
			`{&#34;media&#34;:&#34;recording:promos/friday&#34;}`} {
			if !strings.Contains(page, want) {
				t.Errorf("the console lacks %q", want)
			}
		}
		if res, body := e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "media="+url.QueryEscape("recording:promos/friday"), true); res.StatusCode != 200 {
			t.Fatalf("play a message: %d %s", res.StatusCode, body)
		}
		if got := e.App.LastTalkback; len(got.Media) != 1 || got.Media[0] != "recording:promos/friday" || got.Endpoint != "" {
			t.Errorf("talkback %+v, want the message alone", got)
		}
		if res, _ := e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "media="+url.QueryEscape("sound:tt-monkeys"), true); res.StatusCode != 422 {
			t.Errorf("a message the show does not list: %d, want 422", res.StatusCode)
		}
		// One phone and no messages: the Talkback button is all there is.
		e = webenv.New(t, func(c *core.Config) {
			c.Talkback = map[string]core.TalkbackRules{"morning": {Phones: []string{"PJSIP/prod1"}}}
		})
		if _, page = e.Console(t, "GET", "/shows/morning", "producer", "", false); strings.Contains(page, `data-testid="talkback-menu"`) {
			t.Error("a talkback menu with nothing to choose")
		}
	})
	t.Run("ConsoleWithoutShowPhonesRingsYours", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.Talkback = nil })
		if res, body := e.Console(t, "POST", "/shows/morning/controls/start-talkback", "producer", "", true); res.StatusCode != 200 {
			t.Fatalf("got %d %s", res.StatusCode, body)
		}
		if got := e.App.LastTalkback; got.User != "producer" || got.Endpoint != "" {
			t.Errorf("talkback %+v, want the producer's own phone", got)
		}
	})
}

// TestAirLimitNeedsItsPermission (point 8): the on-air warning of every
// console is a show-wide setting: producers and admins only.
func TestAirLimitNeedsItsPermission(t *testing.T) {
	e := webenv.New(t)
	for role, want := range map[string]int{"screener": 403, "host": 403, "producer": 200, "admin": 200} {
		if res, body := e.Console(t, "POST", "/shows/morning/controls/air-limit", role, "minutes=1", true); res.StatusCode != want {
			t.Errorf("%s: got %d %s, want %d", role, res.StatusCode, body, want)
		}
	}
	if _, page := e.Console(t, "GET", "/shows/morning", "host", "", false); strings.Contains(page, "air-limit") {
		t.Error("the host's console offers the air-limit form")
	}
}

// TestCallerNumbersInPaths (point 11): a number in a path is decoded
// before it is keyed, a caller ID that is no number is refused, an unknown
// number is 404, and a block needs a reason.
func TestCallerNumbersInPaths(t *testing.T) {
	e := webenv.New(t)
	var asked, blocked, why []string
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		asked = append(asked, n)
		if n == "+12125550132" || len(blocked) > 0 {
			return postgres.Profile{Number: n, Calls: 2, FirstCall: e.App.Now}, nil
		}
		return postgres.Profile{Number: n}, nil // never seen
	}
	e.Hist.BlockFn = func(n, _, reason string) error { blocked, why = append(blocked, n), append(why, reason); return nil }

	if res, body := e.API(t, "GET", "/api/v1/callers/%2B12125550132", "host", ""); res.StatusCode != 200 || asked[0] != "+12125550132" {
		t.Fatalf("%%2B: got %d %v, asked for %v", res.StatusCode, body, asked)
	}
	for _, path := range []string{"javascript:alert(1)%2F%2F", url.PathEscape("../../logout?x=1#"), "%2B1%2B2", "anonymous"} {
		if res, body := e.API(t, "GET", "/api/v1/callers/"+path, "host", ""); res.StatusCode != 422 || body["field"] != "number" {
			t.Errorf("%s: got %d %v, want 422 naming number", path, res.StatusCode, body)
		}
	}
	if res, body := e.API(t, "GET", "/api/v1/callers/+15550199", "host", ""); res.StatusCode != 404 {
		t.Errorf("unknown number: got %d %v, want 404", res.StatusCode, body)
	}
	if res, body := e.API(t, "PUT", "/api/v1/callers/%2B19999999999/block", "producer", `{}`); res.StatusCode != 422 || body["field"] != "reason" {
		t.Errorf("block without a reason: got %d %v, want 422 naming reason", res.StatusCode, body)
	}
	if res, body := e.API(t, "PUT", "/api/v1/callers/%2B19999999999/block", "producer", `{"reason":"  "}`); res.StatusCode != 422 {
		t.Errorf("block with a blank reason: got %d %v, want 422", res.StatusCode, body)
	}
	if res, body := e.API(t, "PUT", "/api/v1/callers/%2B19999999999/block", "producer", `{"reason":"prank"}`); res.StatusCode != 200 || len(blocked) != 1 || blocked[0] != "+19999999999" || why[0] != "prank" {
		t.Errorf("block: got %d %v, blocked %v", res.StatusCode, body, blocked)
	}
	if res, _ := e.Console(t, "POST", "/callers/"+url.PathEscape("../../logout?x=1#")+"/block", "producer", "reason=x", false); res.StatusCode != 422 {
		t.Errorf("console block of a webtest.Hostile path: got %d, want 422", res.StatusCode)
	}
}

// TestBlockFlagsCallersInLine (point 12): blocking a number flags its
// callers in line on every console.
func TestBlockFlagsCallersInLine(t *testing.T) {
	e := webenv.New(t)
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) { return postgres.Profile{Number: n, Calls: 3}, nil }
	e.App.Arrive("c1", "+1 212 555 0132", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	s.Next(t, webtest.Named("waiting", "c2"))
	if res, body := e.API(t, "PUT", "/api/v1/callers/+12125550132/block", "producer", `{"reason":"abuse"}`); res.StatusCode != 200 {
		t.Fatalf("block: %d %v", res.StatusCode, body)
	}
	// The flag comes as c1's row alone, or in the whole group when the
	// profiles' badges land in the same render.
	ev := s.Next(t, func(ev webtest.Event) bool {
		return (ev.Name == "rows" || ev.Name == "waiting") && strings.Contains(webenv.RowOf(ev.Data, "c1"), `data-testid="blocked"`)
	})
	if strings.Contains(webenv.RowOf(ev.Data, "c2"), `data-testid="blocked"`) {
		t.Fatalf("the other caller is flagged too: %s", ev.Data)
	}
	_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if !strings.Contains(page, "blocked: abuse") || !strings.Contains(page, "Take next passes this caller by.") {
		t.Error("the page does not flag the blocked caller")
	}
}

// TestJSONRefusesInvalidUTF8 (point 13): text that is not UTF-8 is
// refused, not quietly replaced.
func TestJSONRefusesInvalidUTF8(t *testing.T) {
	e := webenv.New(t)
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) { return postgres.Profile{Number: n, Blocked: true}, nil }
	var why []string
	e.Hist.BlockFn = func(_, _, reason string) error { why = append(why, reason); return nil }
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"RawByte", "{\"reason\":\"bad \xff byte\"}", 400},
		{"LoneHighSurrogate", `{"reason":"lone \ud800 surrogate"}`, 400},
		{"LoneLowSurrogate", `{"reason":"\udc00"}`, 400},
		{"ControlCharacter", `{"reason":"bell \u0007"}`, 422},
		{"EscapedBackslash", `{"reason":"a \\ud800 is text"}`, 200},
		{"Pair", `{"reason":"grin \ud83d\ude00"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res, body := e.API(t, "PUT", "/api/v1/callers/+15550100/block", "producer", tc.body); res.StatusCode != tc.want {
				t.Errorf("got %d %v, want %d", res.StatusCode, body, tc.want)
			}
		})
	}
	if len(why) != 2 || why[0] != `a \ud800 is text` || why[1] != "grin 😀" {
		t.Errorf("stored reasons %q", why)
	}
}

// TestHostileCallerIDsOnThePage (point 13, and 11's links): control
// characters in a caller ID never reach the HTML, and a caller ID that is
// no phone number is not a link.
func TestHostileCallerIDsOnThePage(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Eve\x00\x1b[2J\u202eevil")
	e.App.Arrive("c2", "javascript:alert(1)//", "Mallory")
	e.App.Arrive("c3", "../../logout?x=1#", "Trudy")
	_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	for _, bad := range []string{"\x00", "\x1b", "\u202e", `href="/callers/javascript`, `href="/callers/../`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if !strings.Contains(page, "Eve\ufffd\ufffd[2J\ufffdevil") {
		t.Error("the name is not shown with its control characters replaced")
	}
	if !strings.Contains(page, `href="/callers/+15550001"`) {
		t.Error("a real number is not linked")
	}
}

// TestSecurityHeaders (point 7): pages and API answers carry a
// Content-Security-Policy that allows no framing, a Referrer-Policy, and
// no-store; static files may be cached.
func TestSecurityHeaders(t *testing.T) {
	e := webenv.New(t)
	get := func(path string, setup func(*http.Request)) http.Header {
		req, _ := http.NewRequest("GET", e.TS.URL+path, nil)
		if setup != nil {
			setup(req)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header
	}
	session := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "session", Value: "producer:producer"}) }
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer producer") }
	for _, tc := range []struct {
		path  string
		setup func(*http.Request)
	}{
		{"/login", nil}, {"/shows/morning", session}, {"/callers/+15550001", session},
		{"/api/v1/shows/morning/callers", bearer}, {"/api/v1/callers/+15550001", bearer}, {"/api/v1/nowhere", bearer},
	} {
		h := get(tc.path, tc.setup)
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'", "default-src 'none'", "media-src 'self'"} { // media: the recordings' player (issue 23)
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", tc.path, csp, want)
			}
		}
		for k, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
			if got := h.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", tc.path, k, got, want)
			}
		}
	}
	if h := get("/static/console.js", nil); h.Get("Cache-Control") == "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("static: %v", h)
	}
}

// TestBodiesBounded (point 1, in web): every route refuses a multipart
// body and one over MaxBodyBytes before reading it.
func TestBodiesBounded(t *testing.T) {
	e := webenv.New(t, func(c *core.Config) { c.Limits.MaxBodyBytes = 1 << 10 })
	post := func(path, contentType string, body []byte, setup func(*http.Request)) int {
		req, _ := http.NewRequest("POST", e.TS.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		setup(req)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	console := func(r *http.Request) {
		r.AddCookie(&http.Cookie{Name: "session", Value: "producer:producer"})
		r.Header.Set("X-CSRF-Token", "csrf-producer")
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer producer") }
	big := bytes.Repeat([]byte("a"), 2<<10)
	if got := post("/login", "multipart/form-data; boundary=x", big, func(*http.Request) {}); got != 415 {
		t.Errorf("multipart login: got %d, want 415", got)
	}
	if got := post("/shows/morning/chat", "application/x-www-form-urlencoded", append([]byte("text="), big...), console); got != 413 {
		t.Errorf("oversized chat: got %d, want 413", got)
	}
	if got := post("/api/v1/shows/morning/talkback/start", "application/json", append([]byte(`{"media":["`), big...), bearer); got != 413 {
		t.Errorf("oversized JSON: got %d, want 413", got)
	}
	// Chunked, so the length is not known before reading.
	req, _ := http.NewRequest("POST", e.TS.URL+"/api/v1/shows/morning/talkback/start", io.MultiReader(strings.NewReader(`{"media":["`), bytes.NewReader(big)))
	bearer(req)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if req.ContentLength != 0 || res.StatusCode != 413 {
		t.Errorf("oversized chunked JSON: got %d, want 413", res.StatusCode)
	}
}

// TestLongActionOutlastsReadTimeout (point 2's other side): ReadTimeout
// bounds reading a request, not the action it asks for: a drop whose
// goodbye plays longer than ReadTimeout keeps its context and answers
// (net/http lifts the read deadline once the body is read).
func TestLongActionOutlastsReadTimeout(t *testing.T) {
	e := webenv.New(t)
	l := core.Limits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 5 * time.Second}
	srv := l.HTTPServer(e.Srv.Handler(), nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.DropFn = func(ctx context.Context) error {
		select {
		case <-ctx.Done(): // the client did not leave: this is the bug
			return context.Cause(ctx)
		case <-time.After(4 * l.ReadTimeout): // the goodbye playing
			return nil
		}
	}
	for i, body := range []string{`{"goodbye":true}`, ""} {
		id := fmt.Sprintf("c%d", i+2) // a call id is never used twice
		e.App.Arrive(id, "+15550002", "Bob")
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/shows/morning/callers/"+id+"/drop", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer producer")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("a drop longer than ReadTimeout (body %q): %d %s", body, res.StatusCode, b)
		}
	}
}
