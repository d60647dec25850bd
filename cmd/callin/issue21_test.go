package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// The points of issue 21 ("Hostile clients, round two") about what users
// may ring, on the whole service over its real listener: who screens
// (point 3), which phones (point 4), and recording controls that time out
// (point 8).

const issue21Password = "a-long-password-123"

// issue21Users adds users (name → role) with phones (name → endpoint) to
// the database at dbURL, as an older callin may have stored them.
func issue21Users(t *testing.T, dbURL string, roles map[string]auth.Role, phones map[string]string) {
	t.Helper()
	ctx := t.Context()
	store, err := openStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for name, role := range roles {
		if err := auth.AddUser(ctx, store, name, role, issue21Password); err != nil {
			t.Fatal(err)
		}
	}
	for name, ep := range phones {
		if _, err := store.SetUserPhone(ctx, name, ep); err != nil {
			t.Fatal(err)
		}
	}
}

// loginExisting logs an existing user in (see login) and reads the CSRF
// token from the show page.
func (s *target) loginExisting(t *testing.T, name, show string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &consoleUser{s: s, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	res := b.post(t, "/login", url.Values{"username": {name}, "password": {issue21Password}})
	if res.StatusCode != http.StatusOK || res.Request.URL.Path == "/login" {
		t.Fatalf("login: %d at %s", res.StatusCode, res.Request.URL)
	}
	_, page := b.send(t, "GET", "/shows/"+show, nil)
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the show page: %.300s", page)
	}
	b.csrf = m[1]
	return b
}

// send sends a console request (a form with the CSRF token when form is
// not nil, as htmx does) and returns the status and the body.
func (b *consoleUser) send(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf_token", b.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.s.base)
		req.Header.Set("HX-Request", "true")
	}
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(page)
}

// waitingCaller brings a caller into show and returns its call id, read
// from the API's event stream.
func (s *target) waitingCaller(t *testing.T, st *sseStream, show, number string) string {
	t.Helper()
	if _, err := s.pbx.Call(t.Context(), aritest.CallOptions{Args: []string{show}, Number: number, Name: "Caller"}); err != nil {
		t.Fatal(err)
	}
	for {
		var tr queue.Transition
		if err := json.Unmarshal([]byte(st.next(t, "transition").data), &tr); err != nil {
			t.Fatal(err)
		}
		if tr.Number == number && tr.To == queue.StateWaiting {
			return tr.CallID
		}
	}
}

// TestPhonesOnlyAllowed (issue 21, points 3 and 4): a phone stored before
// the rule ("Local/0019005550100@from-internal", a toll call through the
// dialplan) is never originated: Screen answers 422 naming the phone and
// the rule; the settings page says what is allowed and refuses a Local
// channel and the trunk of the show's call-backs (PJSIP/carrier, kept out
// of the default PJSIP/* by itself); a screener cannot name another user
// as the screener (403, nothing rung), a producer can. Before, Screen rang
// whatever the phone said, and a screener could ring the producer's phone.
func TestPhonesOnlyAllowed(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	issue21Users(t, dbURL, map[string]auth.Role{"sam": auth.RoleScreener, "pat": auth.RoleProducer},
		map[string]string{"sam": "Local/0019005550100@from-internal", "pat": "PJSIP/pat"})
	s := startTarget(t, dbURL, "morning,callback=PJSIP/{number}@carrier", hostileLimits())
	tok := s.token(t, "robot", auth.RoleProducer)
	st := openSSEStream(t, s.base+"/api/v1/shows/morning/events", nil, withToken(tok))
	id := s.waitingCaller(t, st, "morning", "+12025550101")
	lines := s.pbx.ChannelCount()
	sam := s.loginExisting(t, "sam", "morning")
	pat := s.loginExisting(t, "pat", "morning")

	code, page := sam.send(t, "POST", "/shows/morning/callers/"+id+"/screen", url.Values{})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Local/0019005550100@from-internal") ||
		!strings.Contains(page, "not one this installation allows (PJSIP/*, !PJSIP/carrier)") {
		t.Fatalf("screen with a stored Local phone: %d %s, want 422 naming the phone and the rule", code, page)
	}
	if n := s.pbx.ChannelCount(); n != lines {
		t.Fatalf("%d channels after the refused screen, want %d: something was originated", n, lines)
	}

	_, page = sam.send(t, "GET", "/settings", nil)
	if !strings.Contains(page, `data-testid="phones-allowed"`) || !strings.Contains(page, "PJSIP/*, !PJSIP/carrier") {
		t.Errorf("the settings page does not say what is allowed: %.2000s", page)
	}
	for _, ep := range []string{"Local/0019005550100@from-internal", "PJSIP/carrier", "PJSIP/{number}@carrier"} {
		code, page := sam.send(t, "POST", "/settings/phone", url.Values{"phone": {ep}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "phone") {
			t.Errorf("set phone %s: %d %s, want 422 naming phone", ep, code, page)
		}
	}
	if code, page := sam.send(t, "POST", "/settings/phone", url.Values{"phone": {"PJSIP/sam"}}); code != http.StatusOK {
		t.Fatalf("set phone PJSIP/sam: %d %s", code, page)
	}

	// Point 3: a screener screens as themselves only.
	if code, page := sam.send(t, "POST", "/shows/morning/callers/"+id+"/screen", url.Values{"screener": {"pat"}}); code != http.StatusForbidden {
		t.Fatalf("a screener naming the producer: %d %s, want 403", code, page)
	}
	if n := s.pbx.ChannelCount(); n != lines {
		t.Fatalf("%d channels after the refused screen, want %d: the producer's phone rang", n, lines)
	}
	if code, page := pat.send(t, "POST", "/shows/morning/callers/"+id+"/screen", url.Values{"screener": {"sam"}}); code != http.StatusOK ||
		!strings.Contains(page, "Ringing Sam&#39;s phone") {
		t.Fatalf("the producer naming sam: %d %s, want sam's phone ringing", code, page)
	}
	for {
		var sc struct{ State, Phone, Screener string }
		if err := json.Unmarshal([]byte(st.next(t, "screening").data), &sc); err != nil {
			t.Fatal(err)
		}
		if sc.Phone != "PJSIP/sam" || sc.Screener != "sam" {
			t.Fatalf("screening %+v, want sam on PJSIP/sam", sc)
		}
		if sc.State == "answered" {
			break
		}
	}
}

// TestRecordWithNobodyOnAir (issue 21, point 8): Record with nobody on
// air starts at once and Stop finishes it, on the API and in the console,
// over the whole service. An empty on-air bridge did not subscribe callin
// to its recording's events (on a real Asterisk as on the fake:
// broadcast's TestRecordEmptyAirOnARealPBX), so the start timed out after
// 5 s (502) and left the controls stuck: every later start 409 "already
// recording", every stop 409 "not recording".
func TestRecordWithNobodyOnAir(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	issue21Users(t, dbURL, map[string]auth.Role{"pat": auth.RoleProducer}, nil)
	s := startTarget(t, dbURL, "morning", web.DefaultLimits()) // WriteTimeout past the 5 s event timeout, as served
	tok := s.token(t, "robot", auth.RoleProducer)
	pat := s.loginExisting(t, "pat", "morning")

	began := time.Now()
	code, body := s.api(t, "POST", "/api/v1/shows/morning/recording/start", tok, "")
	if code != http.StatusOK || body["active"] != true || body["state"] != "recording" {
		t.Fatalf("start with nobody on air: %d %v after %v, want 200 recording", code, body, time.Since(began))
	}
	if code, body := s.api(t, "POST", "/api/v1/shows/morning/recording/stop", tok, ""); code != http.StatusOK || body["state"] != "done" {
		t.Fatalf("stop: %d %v, want 200 done", code, body)
	}
	if code, page := pat.send(t, "POST", "/shows/morning/controls/start-recording", url.Values{}); code != http.StatusOK || !strings.Contains(page, "Recording.") {
		t.Fatalf("console Record: %d %s", code, page)
	}
	if _, page := pat.send(t, "GET", "/shows/morning", nil); !strings.Contains(page, `data-testid="recording"`) {
		t.Error("the show page does not say it is recording")
	}
	if code, page := pat.send(t, "POST", "/shows/morning/controls/stop-recording", url.Values{}); code != http.StatusOK || !strings.Contains(page, "Recording stopped.") {
		t.Fatalf("console Stop recording: %d %s", code, page)
	}
}
