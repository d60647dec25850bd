package rest_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

func TestAPICallerActions(t *testing.T) {
	// The fake drives a real queue.Show: put the caller where each action
	// fits first.
	onAir := func(e *webenv.Env) { e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}) }
	prepare := map[string]func(e *webenv.Env){
		"hold": onAir, "mute": onAir, "lock": onAir,
		"unmute":       func(e *webenv.Env) { onAir(e); e.App.Mute(t.Context(), "morning", "c1", queue.Actor{}) },
		"unlock":       func(e *webenv.Env) { onAir(e); e.App.Lock("morning", "c1", queue.Actor{}) },
		"callback-now": func(e *webenv.Env) { e.App.Callback("c1") },
	}
	for _, a := range action.Table {
		t.Run(a.Path, func(t *testing.T) {
			e := webenv.New(t)
			e.App.Arrive("c1", "+15550001", "Ann")
			if f := prepare[a.Path]; f != nil {
				f(e)
			}
			path := "/api/v1/shows/morning/callers/c1/" + a.Path
			res, body := e.API(t, "POST", path, "producer", "")
			if res.StatusCode != http.StatusOK || body["id"] != "c1" {
				t.Fatalf("OK: got %d %v, want 200 with the call", res.StatusCode, body)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	cases := []struct {
		name, method, path, role, body string
		actErr                         error
		status                         int
		code, field                    string
	}{
		{"NoToken", "GET", "/api/v1/shows", "", "", nil, 401, "unauthorized", ""},
		{"Forbidden", "POST", "/api/v1/shows/morning/callers/c1/promote", "screener", "", nil, 403, "forbidden", ""},
		{"HostCannotDropWaiting", "POST", "/api/v1/shows/morning/callers/c1/drop", "host", "", nil, 403, "forbidden", ""},
		{"UnknownShow", "POST", "/api/v1/shows/evening/callers/c1/promote", "producer", "", nil, 404, "not_found", ""},
		{"UnknownShowGet", "GET", "/api/v1/shows/evening", "producer", "", nil, 404, "not_found", ""},
		{"UnknownCaller", "POST", "/api/v1/shows/morning/callers/nobody/promote", "producer", "", nil, 404, "not_found", ""},
		{"UnknownCallerGet", "GET", "/api/v1/shows/morning/callers/nobody", "producer", "", nil, 404, "not_found", ""},
		{"UnknownPath", "GET", "/api/v1/nothing", "producer", "", nil, 404, "not_found", ""},
		{"ErrBusy", "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "", fmt.Errorf("x: %w", queue.ErrBusy), 409, "conflict", ""},
		{"ErrLocked", "POST", "/api/v1/shows/morning/callers/c1/hold", "producer", "", fmt.Errorf("x: %w", queue.ErrLocked), 409, "conflict", ""},
		{"ErrCallerGone", "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "", fmt.Errorf("x: %w", queue.ErrGone), 409, "gone", ""},
		{"ErrInvalid", "POST", "/api/v1/shows/morning/callers/c1/mute", "producer", "", fmt.Errorf("x: %w", queue.ErrInvalid), 422, "invalid", ""},
		{"ErrNodeDown", "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "", fmt.Errorf("x: %w", broadcast.ErrNodeDown), 503, "unavailable", ""},
		{"ErrTelephony", "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "", fmt.Errorf("x: %w", broadcast.ErrTimeout), 502, "telephony", ""},
		{"Unknown error", "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "", errors.New("secret detail"), 500, "internal", ""},
		{"BadJSON", "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", "{", nil, 400, "bad_request", "body"},
		{"WrongType", "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{"priority":"high"}`, nil, 400, "bad_request", "priority"},
		{"UnknownField", "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{"colour":"red"}`, nil, 400, "bad_request", "colour"},
		{"PriorityRange", "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{"priority":12}`, nil, 422, "invalid", "priority"},
		{"TopicTooLong", "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{"topic":"` + strings.Repeat("x", 201) + `"}`, nil, 422, "invalid", "topic"},
		{"LinesMissing", "PUT", "/api/v1/shows/morning/lines", "producer", `{}`, nil, 422, "invalid", "open"},
		{"LinesForbidden", "PUT", "/api/v1/shows/morning/lines", "host", `{"open":true}`, nil, 403, "forbidden", ""},
		{"BadState", "GET", "/api/v1/shows/morning/callers?state=asleep", "producer", "", nil, 422, "invalid", "state"},
		{"BadNumber", "GET", "/api/v1/callers/abc", "producer", "", nil, 422, "invalid", "number"},
		{"BadLastEventID", "GET", "/api/v1/shows/morning/events?last_event_id=x", "producer", "", nil, 400, "bad_request", "last_event_id"},
		{"MethodNotAllowed", "DELETE", "/api/v1/shows", "producer", "", nil, 405, "method_not_allowed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := webenv.New(t)
			e.App.Arrive("c1", "+15550001", "Ann")
			if tc.actErr != nil {
				e.App.ActFn = func(string, string) error { return tc.actErr }
			}
			res, body := e.API(t, tc.method, tc.path, tc.role, tc.body)
			code, field := webenv.ErrCode(body)
			if res.StatusCode != tc.status || code != tc.code || field != tc.field {
				t.Fatalf("got %d %q field %q, want %d %q field %q (%v)", res.StatusCode, code, field, tc.status, tc.code, tc.field, body)
			}
			if msg := fmt.Sprint(body); strings.Contains(msg, "secret detail") || strings.Contains(msg, "goroutine") {
				t.Fatalf("error body leaks internals: %v", body)
			}
		})
	}
}

func TestAPIPanicIsJSON500(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.ActFn = func(string, string) error { panic("boom at secret place") }
	res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "")
	if code, _ := webenv.ErrCode(body); res.StatusCode != 500 || code != "internal" {
		t.Fatalf("got %d %v, want 500 internal", res.StatusCode, body)
	}
	if strings.Contains(fmt.Sprint(body), "secret place") {
		t.Fatalf("panic value leaked: %v", body)
	}
}

func TestAPIReads(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	if _, err := e.App.Promote(t.Context(), "morning", "c2", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	t.Run("Shows", func(t *testing.T) {
		res, body := e.API(t, "GET", "/api/v1/shows", "host", "")
		shows, _ := body["shows"].([]any)
		if res.StatusCode != 200 || len(shows) != 1 || shows[0].(map[string]any)["key"] != "morning" {
			t.Fatalf("got %d %v", res.StatusCode, body)
		}
	})
	t.Run("Show", func(t *testing.T) {
		_, body := e.API(t, "GET", "/api/v1/shows/morning", "host", "")
		if body["lines_open"] != true || body["stats"].(map[string]any)["on_air"] != 1.0 {
			t.Fatalf("got %v", body)
		}
	})
	t.Run("CallersByState", func(t *testing.T) {
		_, body := e.API(t, "GET", "/api/v1/shows/morning/callers?state=waiting", "host", "")
		cs := body["callers"].([]any)
		if len(cs) != 1 || cs[0].(map[string]any)["id"] != "c1" || cs[0].(map[string]any)["position"] != 1.0 {
			t.Fatalf("got %v", body)
		}
	})
	t.Run("Caller", func(t *testing.T) {
		_, body := e.API(t, "GET", "/api/v1/shows/morning/callers/c2", "host", "")
		if body["state"] != "on_air" {
			t.Fatalf("got %v", body)
		}
	})
	t.Run("OnAir", func(t *testing.T) {
		_, body := e.API(t, "GET", "/api/v1/shows/morning/on-air", "host", "")
		cs := body["callers"].([]any)
		if len(cs) != 1 || cs[0].(map[string]any)["id"] != "c2" {
			t.Fatalf("got %v", body)
		}
	})
}

func TestAPIWrites(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	t.Run("Lines", func(t *testing.T) {
		res, body := e.API(t, "PUT", "/api/v1/shows/morning/lines", "producer", `{"open":false}`)
		if res.StatusCode != 200 || body["lines_open"] != false {
			t.Fatalf("got %d %v", res.StatusCode, body)
		}
	})
	t.Run("ReadyWithNotes", func(t *testing.T) {
		res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/ready", "screener", `{"name":"Ann B","topic":"bins","priority":3}`)
		notes, _ := body["notes"].(map[string]any)
		if res.StatusCode != 200 || body["state"] != "ready" || notes["topic"] != "bins" || notes["priority"] != 3.0 {
			t.Fatalf("got %d %v", res.StatusCode, body)
		}
	})
	t.Run("TakeNext", func(t *testing.T) {
		res, body := e.API(t, "POST", "/api/v1/shows/morning/take-next", "host", "")
		if res.StatusCode != 200 || body["id"] != "c1" || body["state"] != "on_air" {
			t.Fatalf("got %d %v", res.StatusCode, body)
		}
		res, body = e.API(t, "POST", "/api/v1/shows/morning/take-next", "host", "")
		if code, _ := webenv.ErrCode(body); res.StatusCode != 404 || code != "not_found" {
			t.Fatalf("empty line: got %d %v", res.StatusCode, body)
		}
	})
	t.Run("Talkback", func(t *testing.T) {
		for _, p := range []string{"start", "stop"} {
			res, body := e.API(t, "POST", "/api/v1/shows/morning/talkback/"+p, "producer", map[string]string{"start": `{"endpoint":"PJSIP/producer"}`}[p])
			if res.StatusCode != 200 || body["talkback"] != (p == "start") {
				t.Fatalf("%s: got %d %v", p, res.StatusCode, body)
			}
		}
		e.App.ControlFn = func(string) error { return fmt.Errorf("x: %w", queue.ErrConflict) }
		defer func() { e.App.ControlFn = nil }()
		if res, _ := e.API(t, "POST", "/api/v1/shows/morning/talkback/start", "producer", `{"media":["sound:x"]}`); res.StatusCode != 409 {
			t.Fatalf("conflict: got %d", res.StatusCode)
		}
	})
}

func TestAPIHistory(t *testing.T) {
	e := webenv.New(t)
	var blocked, by, why string
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		return postgres.Profile{Number: n, Calls: 4, OnAir: 1, Blocked: blocked != "", BlockedReason: why}, nil
	}
	e.Hist.CallsFn = func(n string) ([]postgres.Call, error) {
		return []postgres.Call{{ID: "old1", Show: "morning", Number: n, State: queue.StateEnded, Outcome: queue.OutcomeAired}}, nil
	}
	e.Hist.BlockFn = func(n, who, reason string) error { blocked, by, why = n, who, reason; return nil }
	e.Hist.UnblockFn = func(n, who string) error {
		if blocked == "" {
			return fmt.Errorf("x: %w", queue.ErrNotFound)
		}
		blocked = ""
		return nil
	}
	res, body := e.API(t, "GET", "/api/v1/callers/+15550001", "host", "")
	calls := body["calls"].([]any)
	if res.StatusCode != 200 || body["profile"].(map[string]any)["calls"] != 4.0 || len(calls) != 1 || calls[0].(map[string]any)["outcome"] != "aired" {
		t.Fatalf("history: got %d %v", res.StatusCode, body)
	}
	if res, _ := e.API(t, "PUT", "/api/v1/callers/+15550001/block", "host", `{"reason":"abuse"}`); res.StatusCode != 403 {
		t.Fatalf("host block: got %d, want 403", res.StatusCode)
	}
	res, body = e.API(t, "PUT", "/api/v1/callers/+15550001/block", "producer", `{"reason":"abuse"}`)
	if res.StatusCode != 200 || body["profile"].(map[string]any)["blocked"] != true || by != "token:bot-producer" || why != "abuse" {
		t.Fatalf("block: got %d %v by %q why %q", res.StatusCode, body, by, why)
	}
	if res, _ := e.API(t, "DELETE", "/api/v1/callers/+15550001/block", "producer", ""); res.StatusCode != 200 || blocked != "" {
		t.Fatalf("unblock: got %d", res.StatusCode)
	}
	if res, body := e.API(t, "DELETE", "/api/v1/callers/+15550001/block", "producer", ""); res.StatusCode != 404 {
		t.Fatalf("unblock again: got %d %v, want 404", res.StatusCode, body)
	}
}

// TestAPILineQuality: the line list carries each caller's last measure,
// and a measure can be asked for now; a line without statistics is 404.
func TestAPILineQuality(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	e.App.Mu.Lock()
	e.App.Quality = map[string]broadcast.LineQuality{"c1": {At: at, JitterMS: 42, LossPct: 2.5, Grade: broadcast.GradeFair}}
	e.App.Mu.Unlock()
	_, body := e.API(t, "GET", "/api/v1/shows/morning/callers", "host", "")
	for _, c := range body["callers"].([]any) {
		c := c.(map[string]any)
		q, has := c["quality"].(map[string]any)
		switch c["id"] {
		case "c1":
			if !has || q["grade"] != "fair" || q["jitter_ms"] != 42.0 || q["loss_percent"] != 2.5 {
				t.Errorf("c1 quality %v", c["quality"])
			}
		case "c2":
			if has {
				t.Errorf("c2 has a quality it was never measured for: %v", q)
			}
		}
	}
	res, q := e.API(t, "GET", "/api/v1/shows/morning/callers/c1/line-quality", "screener", "")
	if res.StatusCode != 200 || q["grade"] != "fair" {
		t.Errorf("measure c1: %d %v", res.StatusCode, q)
	}
	// c2 exists: a line without statistics is no 404 (issue 22, point 4).
	if res, body := e.API(t, "GET", "/api/v1/shows/morning/callers/c2/line-quality", "screener", ""); res.StatusCode != 409 || body["code"] != "no_measure" {
		t.Errorf("measure c2 (no statistics): %d %v, want 409 no_measure", res.StatusCode, body)
	}
}

// TestAPICallerNotes: automation reads and writes a caller's notes; the
// field at fault is named; a role that may not write notes is refused.
func TestAPICallerNotes(t *testing.T) {
	e := webenv.New(t)
	res, body := e.API(t, "GET", "/api/v1/callers/+15550001/notes", "host", "")
	if res.StatusCode != 200 || body["notes"].(map[string]any)["topic"] != "" || len(body["history"].([]any)) != 0 {
		t.Fatalf("no notes yet: %d %v", res.StatusCode, body)
	}
	res, body = e.API(t, "PUT", "/api/v1/callers/+15550001/notes", "screener", `{"topic":"bins","notes":"calls every week","rating":4,"do_not_air":true,"contest_winner":false}`)
	if res.StatusCode != 200 || body["topic"] != "bins" || body["rating"] != 4.0 || body["do_not_air"] != true || body["by"] == "" {
		t.Fatalf("write: %d %v", res.StatusCode, body)
	}
	_, body = e.API(t, "GET", "/api/v1/callers/+15550001/notes", "host", "")
	if body["notes"].(map[string]any)["notes"] != "calls every week" || len(body["history"].([]any)) != 1 {
		t.Errorf("read back: %v", body)
	}
	res, body = e.API(t, "PATCH", "/api/v1/callers/+15550001/notes", "producer", `{"rating":9}`)
	if res.StatusCode != 422 || body["field"] != "rating" {
		t.Errorf("rating 9: %d %v, want 422 naming rating", res.StatusCode, body)
	}
	if res, _ := e.API(t, "PUT", "/api/v1/callers/+15550001/notes", "host", `{"topic":"x"}`); res.StatusCode != 403 {
		t.Errorf("host writes notes: %d, want 403", res.StatusCode)
	}
}

// TestAPICallHost: automation rings the host's phone onto the air.
func TestAPICallHost(t *testing.T) {
	e := webenv.New(t)
	res, body := e.API(t, "POST", "/api/v1/shows/morning/host/call", "producer", "")
	if res.StatusCode != 200 || body["channel_id"] != "host-line" {
		t.Fatalf("call host: %d %v", res.StatusCode, body)
	}
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/host/call", "screener", ""); res.StatusCode != 403 {
		t.Errorf("screener: %d, want 403", res.StatusCode)
	}
}

// TestAPIHostMutesThemselves: the host may mute and unmute their own line
// (a cough key), as whoever may mute an on-air caller; hanging it up stays
// with those who may call the host.
func TestAPIHostMutesThemselves(t *testing.T) {
	e := webenv.New(t)
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/host/call", "producer", ""); res.StatusCode != 200 {
		t.Fatalf("call host: %d %v", res.StatusCode, body)
	}
	e.App.AnswerHost("host-line")
	for _, tc := range []struct {
		role, path, body string
		want             int
	}{
		{"host", "/host/mute", `{"channel_id":"host-line","muted":true}`, 200},
		{"host", "/host/mute", `{"channel_id":"host-line","muted":false}`, 200},
		{"screener", "/host/mute", `{"channel_id":"host-line","muted":true}`, 403},
		{"host", "/host/hangup", `{"channel_id":"host-line"}`, 403},
	} {
		if res, body := e.API(t, "POST", "/api/v1/shows/morning"+tc.path, tc.role, tc.body); res.StatusCode != tc.want {
			t.Errorf("%s %s %s: %d %v, want %d", tc.role, tc.path, tc.body, res.StatusCode, body, tc.want)
		}
	}
	if snap, _ := e.App.Snapshot("morning"); len(snap.Media.HostLines) != 1 || snap.Media.HostLines[0].Muted {
		t.Errorf("host lines %+v, want the host's line on air, unmuted", snap.Media.HostLines)
	}
}
