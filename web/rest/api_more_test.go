package rest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

func TestAPISettings(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	res, body := e.API(t, "GET", "/api/v1/shows/morning/settings", "host", "")
	if res.StatusCode != 200 || body["announce_every_seconds"] != 90.0 || body["on_air_warning_minutes"] != 10.0 {
		t.Fatalf("get: %d %v", res.StatusCode, body)
	}
	res, body = e.API(t, "PATCH", "/api/v1/shows/morning/settings", "producer",
		`{"capacity":50,"max_on_air":2,"announce_every_seconds":60,"on_air_warning_minutes":7}`)
	if res.StatusCode != 200 || body["capacity"] != 50.0 || body["max_on_air"] != 2.0 ||
		body["announce_every_seconds"] != 60.0 || body["on_air_warning_minutes"] != 7.0 {
		t.Fatalf("patch: %d %v", res.StatusCode, body)
	}
	s.Next(t, webtest.Named("settings", `"on_air_warning_minutes":7`))
	for _, tc := range []struct {
		name, role, body string
		status           int
		field            string
	}{
		{"ScreenerMayNot", "screener", `{"capacity":5}`, 403, ""},
		{"HostMayNotWarn", "host", `{"on_air_warning_minutes":5}`, 403, ""},
		{"Negative", "producer", `{"capacity":-1}`, 422, "capacity"},
		{"WarningZero", "producer", `{"on_air_warning_minutes":0}`, 422, "on_air_warning_minutes"},
		{"Unknown", "producer", `{"title":"x"}`, 400, "title"},
		{"NoneChangedIfOneBad", "producer", `{"capacity":9,"max_on_air":1000}`, 422, "max_on_air"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.API(t, "PATCH", "/api/v1/shows/morning/settings", tc.role, tc.body)
			if code, field := webenv.ErrCode(body); res.StatusCode != tc.status || field != tc.field {
				t.Fatalf("got %d %s %s, want %d %s", res.StatusCode, code, field, tc.status, tc.field)
			}
		})
	}
	if _, body := e.API(t, "GET", "/api/v1/shows/morning/settings", "host", ""); body["capacity"] != 50.0 {
		t.Fatalf("a refused change changed something: %v", body)
	}
}

// TestAPIEventsDocumented: every kind of event the stream sends carries
// data of its documented schema, with an id, and a client resuming gets
// the show-level events it missed under their own names.
func TestAPIEventsDocumented(t *testing.T) {
	e := webenv.New(t)
	doc := webenv.LoadDoc(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Arrive("c1", "+15550001", "Ann")
	first := s.Next(t, webtest.Named("transition"))

	e.App.Update(broadcast.Update{Kind: broadcast.UpdateSettings, Settings: broadcast.Settings{Title: "M", LinesOpen: false, Capacity: 5}})
	e.App.Update(broadcast.Update{Kind: broadcast.UpdateMedia, Media: broadcast.MediaState{Music: false, Talkback: true, TalkbackLine: "ch-tb", TalkbackBridges: 2, HoldBridges: 3}})
	e.App.Update(broadcast.Update{Kind: broadcast.UpdateMedia, Media: broadcast.MediaState{Music: false, Talkback: true, TalkbackLine: "ch-tb", TalkbackBridges: 2, HoldBridges: 3, HoldMembers: 3}})
	e.App.Update(broadcast.Update{Kind: broadcast.UpdateRecording, Recording: broadcast.RecordingState{Name: "r1", State: "done",
		Format: "wav", Duration: 3 * time.Second, Ended: e.App.Now, Calls: []string{"c1"}}})
	e.App.Update(broadcast.Update{Kind: broadcast.UpdateNode, Node: broadcast.NodeHealth{Node: "n1", State: broadcast.NodeDown, Since: e.App.Now}})
	want := []string{"lines", "settings", "talkback", "recording", "node", "chat"}
	var got []webtest.Event
	for range want[:5] { // the feed's updates, in their order
		got = append(got, s.Next(t, func(ev webtest.Event) bool { return !ev.Comment && ev.Name != "transition" }))
	}
	// Chat reaches the stream straight from the request, not through the
	// feed: posted once the feed's events are in, so the order is known.
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/chat", "host", `{"text":"hello"}`); res.StatusCode != 200 {
		t.Fatalf("chat: %d", res.StatusCode)
	}
	got = append(got, s.Next(t, func(ev webtest.Event) bool { return !ev.Comment && ev.Name != "transition" }))
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
	check(first, "TransitionFrame")
	frames := map[string]string{"lines": "LinesFrame", "settings": "SettingsFrame", "talkback": "TalkbackFrame",
		"recording": "RecordingFrame", "node": "NodeFrame", "chat": "ChatFrame"}
	for i, ev := range got {
		if ev.Name != want[i] || ev.ID == "" {
			t.Fatalf("event %d: got %q (id %q), want %q with an id (media changes that keep the talkback send none)", i, ev.Name, ev.ID, want[i])
		}
		check(ev, frames[ev.Name])
	}
	if !strings.Contains(got[0].Data, `"open":false`) || !strings.Contains(got[3].Data, `"duration_seconds":3`) ||
		!strings.Contains(got[2].Data, `"bridges":2,"hold_bridges":3`) {
		t.Fatalf("lines %s, recording %s, talkback %s", got[0].Data, got[3].Data, got[2].Data)
	}

	// A client that saw the first transition gets the rest, names and all.
	r := webtest.OpenSSE(t, e.EventsRequest(t, first.ID))
	for _, name := range append([]string{"transition"}, want...) { // arrive, then join, then the show's
		ev := r.Next(t, func(ev webtest.Event) bool { return !ev.Comment })
		if ev.Name != name {
			t.Fatalf("replay: got %s %s, want %s", ev.Name, ev.Data, name)
		}
	}
}

func TestAPIExports(t *testing.T) {
	at := time.Date(2025, 11, 26, 8, 30, 0, 0, time.UTC)
	hist := &webtest.History{ShowCallsFn: func(show string) ([]postgres.Call, error) {
		return []postgres.Call{{ID: "k1", Show: show, Number: "+15550001", Name: "=HYPERLINK(\"x\")", State: queue.StateEnded,
			ArrivedAt: at, Outcome: queue.OutcomeAired, Notes: queue.Notes{Topic: "bins"}}}, nil
	}}
	var asked [2]time.Time
	th := webtest.TransitionsHistory{History: hist, Fn: func(show string, from, to time.Time) ([]queue.Transition, error) {
		asked = [2]time.Time{from, to}
		return []queue.Transition{{CallID: "k1", Seq: 1, At: at, Show: show, To: queue.StateArriving, Action: queue.ActionArrive,
			Actor: queue.Actor{Kind: queue.ActorCaller}, Number: "+15550001", Node: "n1", ChannelID: "ch"}}, nil
	}}
	e := webenv.New(t, func(c *core.Config) { c.History = th })
	res, body := e.API(t, "GET", "/api/v1/shows/morning/calls?day=2025-11-26", "host", "")
	calls, _ := body["calls"].([]any)
	if res.StatusCode != 200 || len(calls) != 1 || calls[0].(map[string]any)["outcome"] != "aired" {
		t.Fatalf("calls: %d %v", res.StatusCode, body)
	}
	res, body = e.API(t, "GET", "/api/v1/shows/morning/transitions?from=2025-11-26T08:00:00Z&to=2025-11-26T09:00:00Z", "host", "")
	ts, _ := body["transitions"].([]any)
	if res.StatusCode != 200 || len(ts) != 1 || !asked[0].Equal(at.Add(-30*time.Minute)) || !asked[1].Equal(at.Add(30*time.Minute)) {
		t.Fatalf("transitions: %d %v asked %v", res.StatusCode, body, asked)
	}
	for _, path := range []string{"/api/v1/shows/morning/calls?format=csv", "/api/v1/shows/morning/transitions?format=csv"} {
		req, _ := http.NewRequest("GET", e.TS.URL+path, nil)
		req.Header.Set("Authorization", "Bearer host")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || len(lines) != 2 {
			t.Fatalf("%s: %d %q", path, res.StatusCode, b)
		}
		if strings.Contains(path, "calls") && !strings.Contains(lines[1], `'=HYPERLINK`) {
			t.Fatalf("a formula in a caller ID name reaches the CSV as a formula: %s", lines[1])
		}
	}
	for _, tc := range []struct{ query, field string }{
		{"format=xml", "format"}, {"day=yesterday", "day"}, {"from=2025-11-26T08:00:00Z&to=2025-11-20T08:00:00Z", "to"},
		{"from=2025-01-01T00:00:00Z&to=2025-03-01T00:00:00Z", "to"}, {"to=2025-11-26T08:00:00Z", "from"},
	} {
		res, body := e.API(t, "GET", "/api/v1/shows/morning/calls?"+tc.query, "host", "")
		if _, field := webenv.ErrCode(body); res.StatusCode != 422 || field != tc.field {
			t.Errorf("%s: got %d %v, want 422 %s", tc.query, res.StatusCode, body, tc.field)
		}
	}
}

func TestAPISearch(t *testing.T) {
	e := webenv.New(t)
	e.Hist.SearchFn = func(q string, limit int) ([]postgres.Profile, error) {
		return []postgres.Profile{{Number: "+15550001", Name: "Ann", Calls: 2, Blocked: true, BlockedReason: "abuse", BlockedBy: "pat"}}, nil
	}
	res, body := e.API(t, "GET", "/api/v1/callers?q=555&limit=5", "screener", "")
	cs, _ := body["callers"].([]any)
	if res.StatusCode != 200 || len(cs) != 1 || cs[0].(map[string]any)["blocked_by"] != "pat" {
		t.Fatalf("got %d %v", res.StatusCode, body)
	}
	if res, body := e.API(t, "GET", "/api/v1/callers?q=%20", "screener", ""); res.StatusCode != 422 {
		t.Fatalf("blank: got %d %v", res.StatusCode, body)
	}
	if res, body := e.API(t, "GET", "/api/v1/callers?q=5&limit=1000", "screener", ""); res.StatusCode != 422 {
		t.Fatalf("limit: got %d %v", res.StatusCode, body)
	}
}

// TestAPIUnblockedProfile: once unblocked, a profile no longer says who
// blocked it.
func TestAPIUnblockedProfile(t *testing.T) {
	e := webenv.New(t)
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		return postgres.Profile{Number: n, Calls: 1, BlockedBy: "pat", BlockedAt: e.App.Now}, nil
	}
	_, body := e.API(t, "GET", "/api/v1/callers/+15550001", "host", "")
	p, _ := body["profile"].(map[string]any)
	if _, ok := p["blocked_by"]; ok || p["blocked_at"] != nil {
		t.Fatalf("unblocked profile: %v", p)
	}
}

func TestAPIRecordings(t *testing.T) {
	recs := &webtest.Recordings{Recs: []queue.Recording{
		{Name: "r2", Show: "morning", Format: "wav", Ended: time.Date(2025, 11, 26, 9, 0, 0, 0, time.UTC), Duration: time.Hour, Calls: []string{"c1", "c2"}},
		{Name: "r1", Show: "morning", Format: "wav", Ended: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC), Duration: 90 * time.Second, Calls: []string{"c1"},
			Deleted: time.Date(2025, 11, 27, 8, 0, 0, 0, time.UTC)},
	}}
	e := webenv.New(t, func(c *core.Config) { c.Recordings = recs })
	res, body := e.API(t, "GET", "/api/v1/shows/morning/recordings", "producer", "")
	rs, _ := body["recordings"].([]any)
	if res.StatusCode != 200 || len(rs) != 2 || rs[1].(map[string]any)["kept"] != false || rs[1].(map[string]any)["duration_seconds"] != 90.0 {
		t.Fatalf("list: %d %v", res.StatusCode, body)
	}
	if _, body := e.API(t, "GET", "/api/v1/shows/morning/recordings?call=c2", "producer", ""); len(body["recordings"].([]any)) != 1 {
		t.Fatalf("per call: %v", body)
	}
	if res, _ := e.API(t, "GET", "/api/v1/shows/morning/recordings", "host", ""); res.StatusCode != 403 {
		t.Fatalf("host: got %d, want 403", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.TS.URL+"/api/v1/shows/morning/recordings/r2/file", nil)
	req.Header.Set("Authorization", "Bearer producer")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "RIFFr2" || res.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("file: %d %q %s", res.StatusCode, b, res.Header.Get("Content-Type"))
	}
	if res, _ := e.API(t, "GET", "/api/v1/shows/morning/recordings/r1/file", "producer", ""); res.StatusCode != 404 {
		t.Fatalf("deleted file: got %d, want 404", res.StatusCode)
	}
	recs.FileFn = func(string) error { return broadcast.ErrTelephony }
	if res, _ := e.API(t, "GET", "/api/v1/shows/morning/recordings/r2/file", "producer", ""); res.StatusCode != 502 {
		t.Fatalf("Asterisk failing: got %d, want 502", res.StatusCode)
	}
	none := webenv.New(t)
	if res, _ := none.API(t, "GET", "/api/v1/shows/morning/recordings", "producer", ""); res.StatusCode != 404 {
		t.Fatalf("no recordings kept: got %d, want 404", res.StatusCode)
	}
}

func TestAPIRecordingControl(t *testing.T) {
	e := webenv.New(t)
	res, body := e.API(t, "POST", "/api/v1/shows/morning/recording/start", "producer", "")
	if res.StatusCode != 200 || body["active"] != true {
		t.Fatalf("start: %d %v", res.StatusCode, body)
	}
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/recording/stop", "screener", ""); res.StatusCode != 403 {
		t.Fatalf("screener: got %d, want 403", res.StatusCode)
	}
}

// TestAPIActionBodies: an action takes only its own fields.
func TestAPIActionBodies(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", `{"reason":"x"}`)
	if _, field := webenv.ErrCode(body); res.StatusCode != 400 || field != "reason" {
		t.Fatalf("promote with a drop's field: got %d %v, want 400 reason", res.StatusCode, body)
	}
	res, body = e.API(t, "POST", "/api/v1/shows/morning/callers/c1/drop", "producer", `{"reason":"rude","goodbye":true}`)
	if res.StatusCode != 200 || !e.App.LastDrop.Goodbye || e.App.LastDrop.Reason != "rude" {
		t.Fatalf("drop: %d %v %+v", res.StatusCode, body, e.App.LastDrop)
	}
}

// TestAPIClearAir: hold all and drop all clear the unlocked callers on air
// and report the locked ones; each needs its own permission, and drop all
// takes a drop's body.
func TestAPIClearAir(t *testing.T) {
	e := webenv.New(t)
	onAir := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			e.App.Arrive(id, "+1555000"+id[1:], "Caller "+id)
			if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/"+id+"/promote", "producer", ""); res.StatusCode != 200 {
				t.Fatalf("promote %s: %d %v", id, res.StatusCode, body)
			}
		}
	}
	ids := func(v any) []string {
		var out []string
		for _, c := range v.([]any) {
			out = append(out, c.(map[string]any)["id"].(string))
		}
		slices.Sort(out)
		return out
	}
	onAir("c1", "c2", "c3")
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c2/lock", "host", ""); res.StatusCode != 200 {
		t.Fatalf("lock: %d %v", res.StatusCode, body)
	}
	for _, role := range []string{"host", "screener"} {
		if res, _ := e.API(t, "POST", "/api/v1/shows/morning/on-air/hold", role, ""); res.StatusCode != 403 {
			t.Errorf("hold all as %s: %d, want 403", role, res.StatusCode)
		}
	}
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/on-air/hold", "producer", `{"reason":"x"}`); res.StatusCode != 400 {
		t.Errorf("hold all with a drop's field: %d %v, want 400", res.StatusCode, body)
	}
	res, body := e.API(t, "POST", "/api/v1/shows/morning/on-air/hold", "producer", "")
	if res.StatusCode != 200 || !slices.Equal(ids(body["cleared"]), []string{"c1", "c3"}) || !slices.Equal(ids(body["locked"]), []string{"c2"}) {
		t.Fatalf("hold all: %d %v, want c1 and c3 held, c2 locked", res.StatusCode, body)
	}
	for id, want := range map[string]queue.State{"c1": queue.StateWaiting, "c2": queue.StateOnAir, "c3": queue.StateWaiting} {
		if c, _ := e.App.Call("morning", id); c.State != want {
			t.Errorf("%s is %s, want %s", id, c.State, want)
		}
	}

	onAir("c4")
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/on-air/drop", "screener", ""); res.StatusCode != 403 {
		t.Errorf("drop all as a screener: %d, want 403", res.StatusCode)
	}
	res, body = e.API(t, "POST", "/api/v1/shows/morning/on-air/drop", "host", `{"reason":"top of the hour"}`)
	if res.StatusCode != 200 || !slices.Equal(ids(body["cleared"]), []string{"c4"}) || !slices.Equal(ids(body["locked"]), []string{"c2"}) {
		t.Fatalf("drop all: %d %v, want c4 dropped, c2 locked", res.StatusCode, body)
	}
	if e.App.LastDrop.Reason != "top of the hour" {
		t.Errorf("drop reason %q", e.App.LastDrop.Reason)
	}
	if c, _ := e.App.Call("morning", "c4"); c.State != queue.StateEnded && c.State != "" {
		t.Errorf("c4 is %s after drop all", c.State)
	}
	res, body = e.API(t, "POST", "/api/v1/shows/morning/on-air/drop", "producer", "")
	if res.StatusCode != 200 || len(body["cleared"].([]any)) != 0 {
		t.Fatalf("drop all with only a locked caller: %d %v", res.StatusCode, body)
	}
}

// TestAPIScreenerNotes: the screener's notes on a live caller change
// without moving them; screeners may, hosts may not; only the notes'
// fields are taken.
func TestAPIScreenerNotes(t *testing.T) {
	e := webenv.New(t)
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	e.App.Arrive("c1", "+15550001", "Ann")
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/ready", "screener", `{"topic":"potholes","priority":2}`); res.StatusCode != 200 {
		t.Fatalf("ready: %d %v", res.StatusCode, body)
	}
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/screener-notes", "host", `{"topic":"x"}`); res.StatusCode != 403 {
		t.Errorf("host: %d, want 403", res.StatusCode)
	}
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/screener-notes", "screener", `{"reason":"x"}`); res.StatusCode != 400 {
		t.Errorf("a drop's field: %d %v, want 400", res.StatusCode, body)
	}
	res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/screener-notes", "screener", `{"name":"Ann B","topic":"bus lanes","priority":5}`)
	if res.StatusCode != 200 || body["state"] != "ready" || body["notes"].(map[string]any)["topic"] != "bus lanes" {
		t.Fatalf("notes: %d %v, want still ready with the new topic", res.StatusCode, body)
	}
	for {
		ev := s.Next(t, webtest.Named("transition"))
		if strings.Contains(ev.Data, `"action":"notes"`) {
			if !strings.Contains(ev.Data, `"to":"ready"`) {
				t.Errorf("notes transition %s, want ready to ready", ev.Data)
			}
			break
		}
	}
}
