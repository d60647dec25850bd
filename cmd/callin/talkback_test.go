package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/web/auth"
)

// TestServeTalkbackPool: the whole service with a show held in bridges of
// two. A producer's talkback from the show's phone, started and stopped
// through the API, is heard by every waiting caller in all three bridges,
// the event stream says how many bridges hear it, and every caller has
// music again afterwards.
func TestServeTalkbackPool(t *testing.T) {
	t.Parallel()
	s := startTarget(t, "", "morning,hold=2,talkback-phones=PJSIP/prod1", hostileLimits())
	tok := s.token(t, "robot", auth.RoleProducer)
	st := openSSEStream(t, s.base+"/api/v1/shows/morning/events", nil, withToken(tok))
	var calls []*aritest.Call
	for i := range 5 {
		c, err := s.pbx.Call(t.Context(), aritest.CallOptions{Args: []string{"morning"}, Number: "+1202555010" + string(rune('0'+i))})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	hears := func(what string, ok func(aritest.ChannelState) bool) {
		t.Helper()
		for _, c := range calls {
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if st, _ := c.State(); ok(st) {
					break
				}
				if time.Now().After(deadline) {
					st, _ := c.State()
					t.Fatalf("caller %s in %q: music %t, line %q; want %s", c.ID(), st.Bridge, st.HearsMusic, st.HearsLine, what)
				}
			}
		}
	}
	hears("music", func(st aritest.ChannelState) bool { return st.HearsMusic })

	if code, body := s.api(t, "POST", "/api/v1/shows/morning/talkback/start", tok, `{"endpoint":"PJSIP/prod2"}`); code != http.StatusUnprocessableEntity {
		t.Fatalf("talkback to a phone the show does not list: %d %v, want 422", code, body)
	}
	if code, body := s.api(t, "POST", "/api/v1/shows/morning/talkback/start", tok, `{"endpoint":"PJSIP/prod1"}`); code != http.StatusOK {
		t.Fatalf("talkback start: %d %v", code, body)
	}
	var ev struct {
		Active      bool   `json:"active"`
		Line        string `json:"line"`
		Bridges     int    `json:"bridges"`
		HoldBridges int    `json:"hold_bridges"`
	}
	for ev.Bridges != 3 {
		if err := json.Unmarshal([]byte(st.next(t, "talkback").data), &ev); err != nil {
			t.Fatal(err)
		}
		if !ev.Active || ev.HoldBridges != 3 {
			t.Fatalf("talkback event %+v, want active in a pool of 3", ev)
		}
	}
	if !strings.HasPrefix(ev.Line, "callin-tb-") {
		t.Fatalf("talkback line %q", ev.Line)
	}
	hears("the producer", func(st aritest.ChannelState) bool { return st.HearsLine == ev.Line && !st.HearsMusic })

	if code, body := s.api(t, "POST", "/api/v1/shows/morning/talkback/stop", tok, ""); code != http.StatusOK {
		t.Fatalf("talkback stop: %d %v", code, body)
	}
	for ev.Active {
		if err := json.Unmarshal([]byte(st.next(t, "talkback").data), &ev); err != nil {
			t.Fatal(err)
		}
	}
	hears("music", func(st aritest.ChannelState) bool { return st.HearsMusic && st.HearsLine == "" })
}
