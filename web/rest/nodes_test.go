package rest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestAPIShowNodes: a show across nodes lists its nodes and studio in
// the show (GET), each caller its node; a show on one node has neither,
// as before. Every exchange is validated against the document (webenv.New).
func TestAPIShowNodes(t *testing.T) {
	e := webenv.New(t)
	_, one := e.API(t, "GET", "/api/v1/shows/morning", "host", "")
	if _, ok := one["nodes"]; ok {
		t.Fatalf("one node: nodes in %v", one)
	}
	if _, ok := one["studio"]; ok {
		t.Fatalf("one node: studio in %v", one)
	}

	e = webenv.New(t)
	webenv.SpreadApp(e)
	res, show := e.API(t, "GET", "/api/v1/shows/morning", "host", "")
	if res.StatusCode != 200 {
		t.Fatalf("GET show: %d", res.StatusCode)
	}
	b, _ := json.Marshal([]any{show["nodes"], show["studio"]})
	want := `[[{"capacity":600,"full":false,"held":212,"node":"A","state":"up","studio":true},{"capacity":600,"full":true,"held":600,"node":"B","state":"up","studio":false}],{"lost":false,"node":"A","state":"up"}]`
	if string(b) != want {
		t.Fatalf("nodes and studio:\n got %s\nwant %s", b, want)
	}
	_, list := e.API(t, "GET", "/api/v1/shows/morning/callers", "host", "")
	if !strings.Contains(fmt.Sprint(list), "node:B") {
		t.Fatalf("callers lack their node: %v", list)
	}
}

// TestAPISetStudio: POST studio names another studio node (producers and
// admins), through the audited controls; the errors come from the one
// table: 422 for a node not the show's (or none), 503 for a node down,
// 409 while the studio is in use, 403 for a screener.
func TestAPISetStudio(t *testing.T) {
	e := webenv.New(t)
	webenv.SpreadApp(e)
	e.App.Mu.Lock()
	e.App.Nodes = append(e.App.Nodes, broadcast.NodeLoad{Node: "C", State: broadcast.NodeDown})
	e.App.Mu.Unlock()
	cases := []struct {
		name, role, body string
		status           int
		code, field      string
	}{
		{"Screener", "screener", `{"node":"B"}`, 403, "forbidden", ""},
		{"Unknown", "producer", `{"node":"Z"}`, 422, "invalid", ""},
		{"Empty", "producer", `{"node":""}`, 422, "invalid", "node"},
		{"NoBody", "producer", ``, 422, "invalid", "node"},
		{"Down", "producer", `{"node":"C"}`, 503, "unavailable", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, out := e.API(t, "POST", "/api/v1/shows/morning/studio", tc.role, tc.body)
			if res.StatusCode != tc.status {
				t.Fatalf("got %d %v, want %d", res.StatusCode, out, tc.status)
			}
			errObj := out
			if tc.code != "" && errObj["code"] != tc.code {
				t.Fatalf("code %v, want %s", errObj["code"], tc.code)
			}
			if tc.field != "" && errObj["field"] != tc.field {
				t.Fatalf("field %v, want %s", errObj["field"], tc.field)
			}
		})
	}
	t.Run("Conflict", func(t *testing.T) {
		e.App.ControlFn = func(c string) error { return fmt.Errorf("fake %s: on air: %w", c, queue.ErrConflict) }
		defer func() { e.App.ControlFn = nil }()
		if res, out := e.API(t, "POST", "/api/v1/shows/morning/studio", "producer", `{"node":"B"}`); res.StatusCode != 409 {
			t.Fatalf("got %d %v", res.StatusCode, out)
		}
	})
	res, show := e.API(t, "POST", "/api/v1/shows/morning/studio", "producer", `{"node":"B"}`)
	if st, _ := show["studio"].(map[string]any); res.StatusCode != 200 || st["node"] != "B" {
		t.Fatalf("set studio B: %d %v", res.StatusCode, show)
	}
}

// TestAPINodeEvents: load and studio events, and node_lost transitions,
// carry data of their documented schemas.
func TestAPINodeEvents(t *testing.T) {
	e := webenv.New(t)
	webenv.SpreadApp(e)
	doc := webenv.LoadDoc(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	check := func(ev webtest.Event, frame string) {
		t.Helper()
		var v any
		if err := json.Unmarshal([]byte(`{"event":"`+ev.Name+`","id":"`+ev.ID+`","data":`+ev.Data+`}`), &v); err != nil {
			t.Fatalf("%s: %v", ev.Name, err)
		}
		if err := doc.Components.Schemas[frame].Value.VisitJSON(v); err != nil {
			t.Errorf("%s event %s does not match %s: %v", ev.Name, ev.Data, frame, err)
		}
	}
	e.App.SetLoad(broadcast.NodeLoad{Node: "B", State: broadcast.NodeUp, Held: 590, Capacity: 600})
	ev := s.Next(t, webtest.Named("load"))
	if !strings.Contains(ev.Data, `"held":590`) {
		t.Fatalf("load: %s", ev.Data)
	}
	check(ev, "LoadFrame")
	e.App.SetStudioState(broadcast.StudioState{Node: "A", State: broadcast.NodeDown, Lost: true})
	ev = s.Next(t, webtest.Named("studio"))
	if !strings.Contains(ev.Data, `"lost":true`) {
		t.Fatalf("studio: %s", ev.Data)
	}
	check(ev, "StudioFrame")
	e.App.NodeLost("B")
	ev = s.Next(t, webtest.Named("transition", `"action":"node_lost"`))
	check(ev, "TransitionFrame")
}
