package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestScreenAsYourself (issue 21, point 3): a screener screens as
// themselves only: naming another user as the screener, on the API or in
// the console's form, is a 403 and rings nobody; their own name (in any
// case) or none rings their own phone. A producer may name a screener, whose
// phone rings. Before, a screener's {"screener":"producer"} rang the
// producer's phone and wrote the producer into the history.
func TestScreenAsYourself(t *testing.T) {
	e := webenv.New(t)
	e.App.Phones = map[string]string{"screener": "PJSIP/screener1", "producer": "PJSIP/producer", "bot-screener": "PJSIP/bot"}
	e.App.Arrive("c1", "+15550001", "James")
	rung := func(id string) string {
		t.Helper()
		e.App.Mu.Lock()
		defer e.App.Mu.Unlock()
		return e.App.Screenings[id].Phone
	}

	t.Run("ScreenerNamesAnother", func(t *testing.T) {
		res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/screen", "screener", `{"screener":"producer"}`)
		if res.StatusCode != http.StatusForbidden || body["code"] != "forbidden" ||
			!strings.Contains(body["detail"].(string), "yourself") {
			t.Fatalf("API: got %d %v, want 403 saying a screener screens as themselves", res.StatusCode, body)
		}
		res, page := e.Console(t, "POST", "/shows/morning/callers/c1/screen", "screener", "screener=producer", true)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("console: got %d %s, want 403", res.StatusCode, page)
		}
		if p := rung("c1"); p != "" {
			t.Fatalf("a refused screen rang %s", p)
		}
	})
	t.Run("ScreenerNamesThemselves", func(t *testing.T) {
		res, page := e.Console(t, "POST", "/shows/morning/callers/c1/screen", "screener", "screener=+Screener+", true)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "Ringing") {
			t.Fatalf("console: got %d %s", res.StatusCode, page)
		}
		if p := rung("c1"); p != "PJSIP/screener1" {
			t.Fatalf("rang %q, want the screener's own PJSIP/screener1", p)
		}
		e.App.PhoneAnswered("c1")
	})
	t.Run("ProducerNamesAScreener", func(t *testing.T) {
		e.App.Arrive("c2", "+15550002", "Ann")
		res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c2/screen", "producer", `{"screener":"screener"}`)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("got %d %v, want 202", res.StatusCode, body)
		}
		if p := rung("c2"); p != "PJSIP/screener1" {
			t.Fatalf("rang %q, want the named screener's PJSIP/screener1", p)
		}
	})
}

// TestSettingsPhoneRule (issue 21, point 4): the settings page says which
// phones this installation allows and refuses any other with a 422 naming
// the phone and the rule: a Local channel into a dialplan context (a toll
// call), a trunk the admin keeps out. Before, any plain endpoint was taken.
func TestSettingsPhoneRule(t *testing.T) {
	phones := &webtest.MemPhones{M: map[string]string{}}
	rule, err := queue.ParsePhoneRule("PJSIP/*, !PJSIP/carrier")
	if err != nil {
		t.Fatal(err)
	}
	e := webenv.New(t, func(c *core.Config) { c.Phones, c.PhoneRule = phones, rule })
	if _, body := e.Console(t, "GET", "/settings", "screener", "", false); !strings.Contains(body, "PJSIP/*, !PJSIP/carrier") {
		t.Errorf("the settings page does not say what is allowed")
	}
	for _, ep := range []string{"Local/0019005550100@from-internal", "PJSIP/carrier", "PJSIP/sam@carrier", "IAX2/bob"} {
		res, body := e.Console(t, "POST", "/settings/phone", "screener", "phone="+url.QueryEscape(ep), true)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "phone") || !strings.Contains(body, "not one this installation allows") {
			t.Errorf("%s: %d %q, want 422 naming the phone and the rule", ep, res.StatusCode, body)
		}
		if got, ok := phones.Phone("screener"); ok {
			t.Fatalf("%s stored %q", ep, got)
		}
	}
	if res, body := e.Console(t, "POST", "/settings/phone", "screener", "phone=PJSIP/screener1", true); res.StatusCode != http.StatusOK {
		t.Fatalf("an allowed phone: %d %q", res.StatusCode, body)
	}
	if got, _ := phones.Phone("screener"); got != "PJSIP/screener1" {
		t.Errorf("stored %q, want PJSIP/screener1", got)
	}
}

// TestRecordingNotStartedSaysWhy (issue 21, point 8): a recording start
// that Asterisk did not confirm says why everywhere: the API's 502 and
// the recording state's error, the console's flash (not "Asterisk did not
// do it"), the show header; and Record stays offered.
func TestRecordingNotStartedSaysWhy(t *testing.T) {
	e := webenv.New(t)
	const why = "Asterisk did not start the recording within 5s; it is stopped: press Record to try again"
	e.App.Mu.Lock()
	e.App.Unstarted = why
	e.App.Mu.Unlock()
	res, body := e.API(t, "POST", "/api/v1/shows/morning/recording/start", "producer", "")
	if text, _ := body["detail"].(string); res.StatusCode != http.StatusBadGateway || !strings.Contains(text, why) {
		t.Errorf("API start: %d %v, want 502 with why", res.StatusCode, body)
	}
	res, page := e.Console(t, "POST", "/shows/morning/controls/start-recording", "producer", "", true)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(page, why+".") {
		t.Errorf("console Record: %d %s, want 502 with why", res.StatusCode, page)
	}
	_, page = e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if !strings.Contains(page, `data-testid="recording-error"`) || !strings.Contains(page, why) ||
		!strings.Contains(page, `data-testid="control-start-recording"`) {
		t.Errorf("the show page does not say why with Record offered")
	}
	if res, body := e.API(t, "GET", "/api/v1/shows/morning", "producer", ""); res.StatusCode != 200 || body["recording"] != false {
		t.Errorf("show: %d %v", res.StatusCode, body)
	}
}
