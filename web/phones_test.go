package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestScreenAsYourself (issue 21, point 3): a screener screens as
// themselves only: naming another user as the screener, on the API or in
// the console's form, is a 403 and rings nobody; their own name (in any
// case) or none rings their own phone. A producer may name a screener, whose
// phone rings. Before, a screener's {"screener":"producer"} rang the
// producer's phone and wrote the producer into the history.
func TestScreenAsYourself(t *testing.T) {
	e := newEnv(t)
	e.app.phones = map[string]string{"screener": "PJSIP/screener1", "producer": "PJSIP/producer", "bot-screener": "PJSIP/bot"}
	e.app.arrive("c1", "+15550001", "James")
	rung := func(id string) string {
		t.Helper()
		e.app.mu.Lock()
		defer e.app.mu.Unlock()
		return e.app.screenings[id].Phone
	}

	t.Run("ScreenerNamesAnother", func(t *testing.T) {
		res, body := e.api(t, "POST", "/api/v1/shows/morning/callers/c1/screen", "screener", `{"screener":"producer"}`)
		msg, _ := body["error"].(map[string]any)
		if res.StatusCode != http.StatusForbidden || msg["code"] != "forbidden" ||
			!strings.Contains(msg["message"].(string), "yourself") {
			t.Fatalf("API: got %d %v, want 403 saying a screener screens as themselves", res.StatusCode, body)
		}
		res, page := e.console(t, "POST", "/shows/morning/callers/c1/screen", "screener", "screener=producer", true)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("console: got %d %s, want 403", res.StatusCode, page)
		}
		if p := rung("c1"); p != "" {
			t.Fatalf("a refused screen rang %s", p)
		}
	})
	t.Run("ScreenerNamesThemselves", func(t *testing.T) {
		res, page := e.console(t, "POST", "/shows/morning/callers/c1/screen", "screener", "screener=+Screener+", true)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "Ringing") {
			t.Fatalf("console: got %d %s", res.StatusCode, page)
		}
		if p := rung("c1"); p != "PJSIP/screener1" {
			t.Fatalf("rang %q, want the screener's own PJSIP/screener1", p)
		}
		e.app.phoneAnswered("c1")
	})
	t.Run("ProducerNamesAScreener", func(t *testing.T) {
		e.app.arrive("c2", "+15550002", "Ann")
		res, body := e.api(t, "POST", "/api/v1/shows/morning/callers/c2/screen", "producer", `{"screener":"screener"}`)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("got %d %v, want 202", res.StatusCode, body)
		}
		if p := rung("c2"); p != "PJSIP/screener1" {
			t.Fatalf("rang %q, want the named screener's PJSIP/screener1", p)
		}
	})
}
