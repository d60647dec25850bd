package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/rest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
)

// TestActionPermissions: the permission each caller action of the table
// needs, on a caller waiting and on air (it was auth.ActionFor). A
// screener may drop a waiting caller but not an on-air one; a host the
// other way round.
func TestActionPermissions(t *testing.T) {
	want := map[string][2]auth.Action{ // waiting, on air
		queue.ActionScreen: {auth.ActionScreen, auth.ActionScreen}, queue.ActionReady: {auth.ActionReady, auth.ActionReady},
		queue.ActionNotes: {auth.ActionNotes, auth.ActionNotes}, queue.ActionPromote: {auth.ActionPromote, auth.ActionPromote},
		queue.ActionPickNext: {auth.ActionPickNext, auth.ActionPickNext}, queue.ActionMoveToTop: {auth.ActionMoveToTop, auth.ActionMoveToTop},
		queue.ActionHold: {auth.ActionHold, auth.ActionHold}, queue.ActionMute: {auth.ActionMute, auth.ActionMute},
		queue.ActionUnmute: {auth.ActionMute, auth.ActionMute}, queue.ActionLock: {auth.ActionLock, auth.ActionLock},
		queue.ActionUnlock: {auth.ActionLock, auth.ActionLock}, queue.ActionDrop: {auth.ActionDropWaiting, auth.ActionDropOnAir},
		queue.ActionCallbackNow: {auth.ActionPromote, auth.ActionPromote},
	}
	if len(action.Table) != len(want) || len(queue.CallerActions) != len(want) {
		t.Fatalf("%d actions in the table, %d in queue.CallerActions, want %d", len(action.Table), len(queue.CallerActions), len(want))
	}
	for _, a := range action.Table {
		w, ok := want[a.Name]
		got := [2]auth.Action{a.PermFor(queue.Call{State: queue.StateWaiting}), a.PermFor(queue.Call{State: queue.StateOnAir})}
		if !ok || got != w {
			t.Errorf("%s: needs %v, want %v", a.Name, got, w)
		}
	}
	drop, _ := action.Named(action.Table, queue.ActionDrop)
	waiting, onAir := queue.Call{State: queue.StateWaiting}, queue.Call{State: queue.StateOnAir}
	if !auth.Can(auth.RoleScreener, drop.PermFor(waiting)) || auth.Can(auth.RoleScreener, drop.PermFor(onAir)) {
		t.Error("screener: want drop waiting only")
	}
	if auth.Can(auth.RoleHost, drop.PermFor(waiting)) || !auth.Can(auth.RoleHost, drop.PermFor(onAir)) {
		t.Error("host: want drop on-air only")
	}
}

// TestTrivialActionEverywhere adds an action, one row of the table with
// its rule (wave at a waiting caller, for whoever may write notes), and
// finds it in the console's buttons, the API's routes, the OpenAPI
// document and GET /me, and done from the API and the console.
func TestTrivialActionEverywhere(t *testing.T) {
	var waved atomic.Int32
	wave := action.Action{Name: "wave", Path: "wave", Perm: auth.ActionNotes, Body: action.NoBody,
		May:    func(c queue.Call) bool { return c.State == queue.StateWaiting },
		Op:     action.Op{ID: "waveAtCaller", Who: api.WhoScreen, Desc: "Wave at a waiting caller."},
		Button: action.Button{Label: "Wave", Key: "v"}, Label: "Waved",
		Do: func(_ context.Context, _ core.Callers, _, id string, _ queue.Actor, _ action.Input) (queue.Call, error) {
			waved.Add(1)
			return queue.Call{ID: id, Number: "+15550001", State: queue.StateWaiting}, nil
		}}
	acts := append(append([]action.Action{}, action.Table...), wave)
	e := webenv.New(t, func(c *core.Config) { c.Actions = acts })
	e.App.Arrive("c1", "+15550001", "Ann")

	t.Run("Console", func(t *testing.T) {
		_, page := e.Console(t, "GET", "/shows/morning", "screener", "", false)
		if !strings.Contains(page, `data-testid="act-wave"`) || !strings.Contains(page, `data-key="v"`) {
			t.Fatalf("the screener's console has no Wave button")
		}
		if _, page := e.Console(t, "GET", "/shows/morning", "host", "", false); strings.Contains(page, `act-wave`) {
			t.Fatalf("the host's console has a Wave button; hosts may not write notes")
		}
		res, flash := e.Console(t, "POST", "/shows/morning/callers/c1/wave", "screener", "x=1", true)
		if res.StatusCode != http.StatusOK || !strings.Contains(flash, "Waved") {
			t.Fatalf("console wave: %d %q", res.StatusCode, flash)
		}
	})
	t.Run("Route", func(t *testing.T) {
		found := false
		chi.Walk(e.Srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			found = found || method == "POST" && route == "/api/v1/shows/{show}/callers/{call}/wave"
			return nil
		})
		if !found {
			t.Fatal("no API route for wave")
		}
		before := waved.Load()
		if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/wave", "producer", ""); res.StatusCode != 200 || body["id"] != "c1" {
			t.Fatalf("API wave: %d %v", res.StatusCode, body)
		}
		if res, _ := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/wave", "host", ""); res.StatusCode != 403 {
			t.Fatalf("API wave as host: %d, want 403", res.StatusCode)
		}
		if waved.Load() != before+1 {
			t.Fatalf("waved %d times, want once more than %d", waved.Load(), before)
		}
	})
	t.Run("OpenAPI", func(t *testing.T) {
		_, doc := e.API(t, "GET", "/api/v1/openapi.json", "", "")
		item, _ := doc["paths"].(map[string]any)["/shows/{show}/callers/{call}/wave"].(map[string]any)
		post, _ := item["post"].(map[string]any)
		if post["operationId"] != "waveAtCaller" {
			t.Fatalf("the served document's wave operation: %v", item)
		}
		b, _ := jsonBytes(rest.OpenAPIFor(api.DocHost, acts))
		d, err := openapi3.NewLoader().LoadFromData(b)
		if err == nil {
			err = d.Validate(context.Background())
		}
		if err != nil {
			t.Fatalf("the document with wave is not valid OpenAPI: %v", err)
		}
	})
	t.Run("Me", func(t *testing.T) {
		for role, want := range map[string]bool{"screener": true, "producer": true, "host": false} {
			_, me := e.API(t, "GET", "/api/v1/me", role, "")
			has := false
			for _, a := range me["caller_actions"].([]any) {
				has = has || a.(map[string]any)["action"] == "wave"
			}
			if has != want {
				t.Errorf("%s's /me lists wave: %t, want %t (%v)", role, has, want, me)
			}
		}
	})
}

// TestMe: GET /me says who the token is, its role's permissions and the
// caller actions it may take, and on which callers.
func TestMe(t *testing.T) {
	e := webenv.New(t)
	res, me := e.API(t, "GET", "/api/v1/me", "screener", "")
	if res.StatusCode != 200 || me["role"] != "screener" || me["kind"] != "token" {
		t.Fatalf("/me: %d %v", res.StatusCode, me)
	}
	callers := map[string]string{}
	for _, a := range me["caller_actions"].([]any) {
		m := a.(map[string]any)
		callers[m["action"].(string)] = m["callers"].(string)
	}
	want := map[string]string{"screen": "all", "ready": "all", "notes": "all", "drop": "not_on_air"}
	if len(callers) != len(want) {
		t.Errorf("screener's caller actions: %v, want %v", callers, want)
	}
	for a, w := range want {
		if callers[a] != w {
			t.Errorf("screener's %s: %q, want %q", a, callers[a], w)
		}
	}
	if _, me := e.API(t, "GET", "/api/v1/me", "host", ""); !strings.Contains(strings.Join(toStrings(me["permissions"]), ","), "drop_on_air") {
		t.Errorf("host's permissions: %v", me["permissions"])
	}
	if res, _ := e.API(t, "GET", "/api/v1/me", "", ""); res.StatusCode != 401 {
		t.Errorf("/me without a token: %d, want 401", res.StatusCode)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }
