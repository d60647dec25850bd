package rest_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// The event stream's ties to the rest of the API (issue 22, point 6).

// TestAPIResetHasID: a reset carries the newest event's id (its last_id),
// so a client that resumes from it, as a browser's EventSource does, gets
// what follows instead of another reset.
func TestAPIResetHasID(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Ring("c1", "+1555", "Ann")
	newest := s.Next(t, webtest.Named("transition"))
	r := webtest.OpenSSE(t, e.EventsRequest(t, "1"))
	reset := r.Next(t, func(ev webtest.Event) bool { return ev.Name != "" })
	var data struct {
		LastID int64 `json:"last_id"`
	}
	if err := json.Unmarshal([]byte(reset.Data), &data); err != nil || reset.Name != "reset" ||
		reset.ID != newest.ID || strconv.FormatInt(data.LastID, 10) != newest.ID {
		t.Fatalf("got %s id %q %s, want a reset with id %s", reset.Name, reset.ID, reset.Data, newest.ID)
	}
	again := webtest.OpenSSE(t, e.EventsRequest(t, reset.ID))
	e.App.Ring("c2", "+1556", "Bob")
	if ev := again.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "transition" || webenv.TransitionOf(t, ev).CallID != "c2" {
		t.Fatalf("resumed from the reset's id: got %s %s, want c2's transition", ev.Name, ev.Data)
	}
}

// TestAPIListThenStream: the caller list names the event it is as of
// (event_id); streaming from it brings every change after the list and
// none the list shows, even when the list was read while the feed was
// still bringing the changes it shows.
func TestAPIListThenStream(t *testing.T) {
	e := webenv.New(t)
	for i := range 20 {
		e.App.Ring(fmt.Sprint("c", i), fmt.Sprint("+1555000", i), "x")
	}
	res, body := e.API(t, "GET", "/api/v1/shows/morning/callers", "host", "")
	id, _ := body["event_id"].(string)
	callers, _ := body["callers"].([]any)
	if res.StatusCode != 200 || id == "" || len(callers) != 20 {
		t.Fatalf("list: %d %v", res.StatusCode, body)
	}
	e.App.Ring("new", "+15559999", "y")
	s := webtest.OpenSSE(t, e.EventsRequest(t, id))
	if ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "transition" || webenv.TransitionOf(t, ev).CallID != "new" {
		t.Fatalf("first event after the list's %s: %s %s, want the new caller's arrival", id, ev.Name, ev.Data)
	}
	if _, body := e.API(t, "GET", "/api/v1/shows/morning/on-air", "host", ""); body["event_id"] == nil {
		t.Fatalf("on-air list without event_id: %v", body)
	}
}

// TestAPISettingsOneEvent: one PATCH of three settings sends one settings
// event with all three; a PATCH that changes nothing sends none.
func TestAPISettingsOneEvent(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	patch := `{"capacity":31,"max_on_air":3,"on_air_warning_minutes":7}`
	for range 2 {
		if res, body := e.API(t, "PATCH", "/api/v1/shows/morning/settings", "producer", patch); res.StatusCode != 200 {
			t.Fatalf("patch: %d %v", res.StatusCode, body)
		}
	}
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/chat", "host", `{"text":"done"}`); res.StatusCode != 200 {
		t.Fatalf("chat: %d", res.StatusCode)
	}
	var settings []string
	for ev := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }); ev.Name != "chat"; ev = s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" }) {
		if ev.Name == "settings" {
			settings = append(settings, ev.Data)
		}
	}
	var st struct {
		Capacity int `json:"capacity"`
		MaxOnAir int `json:"max_on_air"`
		Warning  int `json:"on_air_warning_minutes"`
	}
	if len(settings) != 1 || json.Unmarshal([]byte(settings[0]), &st) != nil || st.Capacity != 31 || st.MaxOnAir != 3 || st.Warning != 7 {
		t.Fatalf("settings events %v, want one with capacity 31, max_on_air 3, on_air_warning_minutes 7", settings)
	}
}
