package webenv

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
)

// EventsRequest opens the API's event stream of "morning" as the host
// token, resuming after lastID ("" for none).
func (e *Env) EventsRequest(t *testing.T, lastID string) *http.Request {
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.TS.URL+"/api/v1/shows/morning/events", nil)
	req.Header.Set("Authorization", "Bearer host")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	return req
}

// TransitionOf is the transition an event of the stream carries.
func TransitionOf(t *testing.T, ev webtest.Event) queue.Transition {
	t.Helper()
	var tr queue.Transition
	if err := json.Unmarshal([]byte(ev.Data), &tr); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return tr
}

// LiveRequest opens a console's SSE stream as role.
func (e *Env) LiveRequest(t testing.TB, role string) *http.Request {
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.TS.URL+"/shows/morning/live", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: role + ":" + role})
	return req
}

// LiveRequestView opens the live stream of a page as role.
func (e *Env) LiveRequestView(t testing.TB, role, view string) *http.Request {
	req := e.LiveRequest(t, role)
	req.URL.RawQuery = url.Values{"view": {view}}.Encode()
	return req
}

// RowOf is the HTML of call id's row in data, or "".
func RowOf(data, id string) string {
	i := strings.Index(data, `data-call="`+id+`"`)
	if i < 0 {
		return ""
	}
	row, _, _ := strings.Cut(data[i:], "</li>")
	return row
}

// SpreadApp makes e's show span nodes A (the studio) and B (full), with a
// caller held on each.
func SpreadApp(e *Env) {
	e.App.Mu.Lock()
	e.App.Nodes = []broadcast.NodeLoad{
		{Node: "A", Studio: true, State: broadcast.NodeUp, Held: 212, Capacity: 600},
		{Node: "B", State: broadcast.NodeUp, Held: 600, Capacity: 600, Full: true},
	}
	e.App.Studio = broadcast.StudioState{Node: "A", State: broadcast.NodeUp}
	e.App.Mu.Unlock()
	e.App.ArriveOn("c1", "+15550001", "Ann", "A")
	e.App.ArriveOn("c2", "+15550002", "Bob", "B")
}

// ErrCode returns the code and field of a problem body.
func ErrCode(body map[string]any) (code, field string) {
	code, _ = body["code"].(string)
	field, _ = body["field"].(string)
	return code, field
}
