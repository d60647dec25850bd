package console_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/webtest"
)

// liveView is the live view of app's show now.
func liveView(t *testing.T, app *webtest.App) showView {
	t.Helper()
	snap, err := app.Snapshot(app.Key)
	if err != nil {
		t.Fatal(err)
	}
	return showView{Snap: snap, Talking: map[string]bool{}, Profiles: map[string]postgres.Profile{}, Live: true}
}

// rowHTML is the HTML of call id's row in r's line groups.
func rowHTML(r rendered, id string) string {
	for _, g := range r.rows {
		if h, ok := g.html[id]; ok {
			return string(h)
		}
	}
	return ""
}

func TestRowCacheRendersChangedRowsOnly(t *testing.T) {
	app := webtest.NewApp("morning")
	for i := range 5 {
		app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	base := liveView(t, app)
	ctx := context.Background()
	// change copies v's calls and changes call c2 (or the view).
	tests := []struct {
		name   string
		change func(v *showView, c *queue.Call)
		shows  string // in the new row, when the change is visible
	}{
		{"CallerIDName", func(_ *showView, c *queue.Call) { c.Name = "Renamed" }, "Renamed"},
		{"NotesName", func(_ *showView, c *queue.Call) { c.Notes.Name = "Screened name" }, "Screened name"},
		{"NotesTopic", func(_ *showView, c *queue.Call) { c.Notes.Topic = "potholes" }, "potholes"},
		{"NotesLocation", func(_ *showView, c *queue.Call) { c.Notes.Location = "Leeds" }, "Leeds"},
		{"Priority", func(_ *showView, c *queue.Call) { c.Notes.Priority = 3 }, "P3"},
		{"Pending", func(_ *showView, c *queue.Call) { c.Pending = "promote" }, "going on air…"},
		{"Next", func(_ *showView, c *queue.Call) { c.Next = true }, `data-mark="next"`},
		{"StateReady", func(_ *showView, c *queue.Call) { c.State = queue.StateReady }, `data-state="ready"`},
		{"Muted", func(_ *showView, c *queue.Call) { c.Muted = true }, ""},
		{"Locked", func(_ *showView, c *queue.Call) { c.Locked = true }, ""},
		{"ProfileLoaded", func(v *showView, c *queue.Call) {
			v.Profiles[c.Number] = postgres.Profile{Number: c.Number, Calls: 1}
		}, "first call"},
		{"ProfileBlocked", func(v *showView, c *queue.Call) {
			v.Profiles[c.Number] = postgres.Profile{Number: c.Number, Calls: 1, Blocked: true}
		}, "BLOCKED"},
		{"HostileName", func(_ *showView, c *queue.Call) { c.Name = hostile }, "&lt;script&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newRowCache(permsOf(auth.RoleProducer))
			before := renderFragments(ctx, base, rc)
			if rc.renders != 5 {
				t.Fatalf("first render rendered %d rows, want 5", rc.renders)
			}
			again := renderFragments(ctx, base, rc)
			if rc.renders != 5 {
				t.Fatalf("an unchanged line rendered %d rows again, want 0", rc.renders-5)
			}
			if !again.rows["waiting"].same(before.rows["waiting"]) {
				t.Fatal("an unchanged line's rows differ")
			}
			v := base
			v.Snap.Lineup.Waiting = slices.Clone(base.Snap.Lineup.Waiting)
			v.Profiles = map[string]postgres.Profile{}
			i := slices.IndexFunc(v.Snap.Lineup.Waiting, func(c queue.Call) bool { return c.ID == "c2" })
			c := &v.Snap.Lineup.Waiting[i]
			tt.change(&v, c)
			if c.State == queue.StateReady { // ready calls are listed apart
				v.Snap.Lineup.Ready = append(v.Snap.Lineup.Ready, *c)
				v.Snap.Lineup.Waiting = slices.Delete(v.Snap.Lineup.Waiting, i, i+1)
			}
			after := renderFragments(ctx, v, rc)
			if got := rc.renders - 5; got != 1 {
				t.Fatalf("rendered %d rows after changing one, want 1", got)
			}
			if tt.shows != "" {
				old, now := rowHTML(before, "c2"), rowHTML(after, "c2")
				if !strings.Contains(now, tt.shows) || strings.Contains(old, tt.shows) {
					t.Fatalf("row went from %s\nto %s\nwant it to show %q", old, now, tt.shows)
				}
			}
			for _, id := range []string{"c0", "c1", "c3", "c4"} {
				if rowHTML(after, id) != rowHTML(before, id) {
					t.Fatalf("row %s changed though its call did not", id)
				}
			}
			all := string(after.whole(ctx, "waiting")) + string(after.whole(ctx, "next"))
			if strings.Contains(all, hostile) {
				t.Fatal("unescaped name in a whole group")
			}
			if strings.Count(all, `data-testid="caller-row"`) != 5 {
				t.Fatalf("whole groups have %d rows, want 5: %s", strings.Count(all, `data-testid="caller-row"`), all)
			}
		})
	}
}

func TestRowCacheEvictsAndIgnoresPlaces(t *testing.T) {
	app := webtest.NewApp("morning")
	for i := range 5 {
		app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	ctx := context.Background()
	rc := newRowCache(permsOf(auth.RoleProducer))
	renderFragments(ctx, liveView(t, app), rc)
	app.Hangup("c0") // every other caller moves up one place
	r := renderFragments(ctx, liveView(t, app), rc)
	if rc.renders != 5 {
		t.Fatalf("places moving re-rendered %d rows, want 0", rc.renders-5)
	}
	if _, ok := rc.rows["c0"]; ok || len(rc.rows) != 4 {
		t.Fatalf("cache holds %d rows (c0 kept: %v), want the 4 calls still in line", len(rc.rows), ok)
	}
	if got := strings.Count(string(r.whole(ctx, "waiting")), `data-testid="caller-row"`); got != 4 {
		t.Fatalf("waiting group has %d rows, want 4", got)
	}
}

func TestRowCachePerRole(t *testing.T) {
	app := webtest.NewApp("morning")
	app.Arrive("c0", "+15550000", "Caller 0")
	v := liveView(t, app)
	ctx := context.Background()
	for _, tt := range []struct {
		role      auth.Role
		has, lack string
	}{
		{auth.RoleProducer, `data-testid="act-promote"`, "\x00"},
		{auth.RoleScreener, `data-testid="act-screen"`, `data-testid="act-promote"`},
		{auth.RoleHost, `data-testid="caller-row"`, `data-testid="act-screen"`},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			got := rowHTML(renderFragments(ctx, v, newRowCache(permsOf(tt.role))), "c0")
			if !strings.Contains(got, tt.has) || strings.Contains(got, tt.lack) {
				t.Fatalf("%s row lacks %q or has %q: %s", tt.role, tt.has, tt.lack, got)
			}
		})
	}
}

// TestRowKeyCoversRow changes every field of a call, one at a time: when
// the row's HTML changes, its rowKey must too, or the cache would keep
// showing the old row.
func TestRowKeyCoversRow(t *testing.T) {
	ctx := context.Background()
	base := queue.Call{ID: "c1", Number: "+15550001", Name: "Caller", Node: "n1", ChannelID: "ch1",
		State: queue.StateWaiting, ArrivedAt: time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC), Position: 1}
	base.Since = base.ArrivedAt
	v := showView{Snap: broadcast.Snapshot{Show: "morning"}, Profiles: map[string]postgres.Profile{}, Live: true}
	p := permsOf(auth.RoleAdmin)
	render := func(c queue.Call) string { return string(renderBytes(ctx, callRow(v, p, c, ""))) }
	// variants lists one changed value per field (and per field of Notes).
	var variants []struct {
		field string
		c     queue.Call
	}
	var walk func(prefix string, val reflect.Value)
	walk = func(prefix string, val reflect.Value) {
		for i := range val.NumField() {
			f, name := val.Field(i), prefix+val.Type().Field(i).Name
			if f.Kind() == reflect.Struct && f.Type() != reflect.TypeFor[time.Time]() {
				walk(name+".", f)
				continue
			}
			old := reflect.ValueOf(f.Interface())
			switch f.Kind() {
			case reflect.String:
				for _, s := range []string{"changed", string(queue.StateReady), string(queue.StateScreening), string(queue.StateOnAir)} {
					f.SetString(s)
					variants = append(variants, struct {
						field string
						c     queue.Call
					}{name + "=" + s, base})
				}
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Int:
				f.SetInt(f.Int() + 1)
			case reflect.Struct: // time.Time
				f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Hour)))
			case reflect.Pointer: // set where it was nil (the call-back of a call-back entry)
				f.Set(reflect.New(f.Type().Elem()))
			default:
				t.Fatalf("field %s of kind %s: teach this test to change it", name, f.Kind())
			}
			if f.Kind() != reflect.String {
				variants = append(variants, struct {
					field string
					c     queue.Call
				}{name, base})
			}
			f.Set(old)
		}
	}
	walk("", reflect.ValueOf(&base).Elem())
	want := render(base)
	for _, vr := range variants {
		if render(vr.c) != want && keyOf(v, vr.c) == keyOf(v, base) {
			t.Errorf("changing %s changes the row but not its rowKey", vr.field)
		}
	}
	if len(variants) < 20 {
		t.Fatalf("only %d variants: the walk missed fields", len(variants))
	}
}

func TestConsoleRendersChangedRowsOnly(t *testing.T) {
	var renders testsignal.Signal[renderedRows]
	renders.Init()
	// No history: badges arriving would be row changes of their own.
	e := newEnv(t, func(c *Config) {
		c.History = nil
		c.rendered = renders
	})
	for i := range 200 {
		e.app.Arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%04d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.liveRequest(t, "producer"))
	s.Next(t, webtest.Named("waiting", "c199"))
	// drained sums the rows rendered by the renders done so far (each
	// render's count is sent before its messages).
	drained := func() int {
		n := 0
		for _, r := range renders.Drain() {
			if r.role == auth.RoleProducer {
				n += r.rows
			}
		}
		return n
	}
	if got := drained(); got != 200 {
		t.Fatalf("first render rendered %d rows, want 200", got)
	}
	for _, step := range []struct {
		name string
		do   func()
		want int
	}{
		{"Arrive", func() { e.app.Arrive("c200", "+15550200", hostile) }, 1},
		{"HangUp", func() { e.app.Hangup("c007") }, 0},
		{"Ready", func() { e.app.Ready(t.Context(), "morning", "c050", queue.Actor{}, queue.Notes{Topic: "potholes"}) }, 1},
		{"Promote", func() { e.app.Promote(t.Context(), "morning", "c000", queue.Actor{}) }, 0},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			ev := s.Next(t, webtest.Named("rows"))
			if got := drained(); got != step.want {
				t.Fatalf("rendered %d rows, want %d", got, step.want)
			}
			if strings.Contains(ev.Data, hostile) {
				t.Fatal("unescaped name in a row")
			}
		})
	}
}
