package console

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
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
		{"HostileName", func(_ *showView, c *queue.Call) { c.Name = webtest.Hostile }, "&lt;script&gt;"},
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
			if strings.Contains(all, webtest.Hostile) {
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

// group builds a groupRows whose row HTML is "<li>id:version</li>".
func group(rows ...string) groupRows {
	g := groupRows{html: map[string][]byte{}}
	for _, r := range rows {
		id, ver, _ := strings.Cut(r, ":")
		g.calls = append(g.calls, queue.Call{ID: id})
		g.html[id] = []byte("<li>" + id + ":" + ver + "</li>")
	}
	return g
}

func TestRowOps(t *testing.T) {
	row := func(c queue.Call, oob string) []byte { return []byte("<li oob=" + oob + ">" + c.ID + "</li>") }
	sel := func(id string) string { return `#waiting &gt; ol &gt; li[data-call=&#34;` + id + `&#34;]` }
	tests := []struct {
		name     string
		old, new groupRows
		ok       bool
		want     []string // substrings of the ops, in order
		wantNot  []string
	}{
		{"Same", group("a:1", "b:1", "c:1"), group("a:1", "b:1", "c:1"), true, nil, []string{"<"}},
		{"Append", group("a:1", "b:1", "c:1"), group("a:1", "b:1", "c:1", "d:1"), true,
			[]string{`<div hx-swap-oob="afterend:` + sel("c") + `"><li>d:1</li></div>`}, []string{"a:1", "b:1", "c:1"}},
		{"InsertFirst", group("a:1", "b:1", "c:1"), group("z:1", "a:1", "b:1", "c:1"), true,
			[]string{`<div hx-swap-oob="afterbegin:#waiting &gt; ol"><li>z:1</li></div>`}, nil},
		{"RemoveFirst", group("a:1", "b:1", "c:1"), group("b:1", "c:1"), true,
			[]string{`<div hx-swap-oob="delete:` + sel("a") + `"></div>`}, []string{"b:1", "c:1"}},
		{"Changed", group("a:1", "b:1", "c:1"), group("a:1", "b:2", "c:1"), true,
			[]string{`<li oob=morph:#waiting > ol > li[data-call="b"]>b</li>`}, []string{"a:1", "c:1"}},
		{"Mixed", group("a:1", "b:1", "c:1", "d:1", "e:1", "f:1"), group("b:1", "c:2", "x:1", "d:1", "e:1", "f:1"), true,
			[]string{"delete:" + sel("a"), "data-call=\"c\"]>c<", "afterend:" + sel("c") + `"><li>x:1</li>`}, nil},
		{"ErrReordered", group("a:1", "b:1", "c:1"), group("b:1", "a:1", "c:1"), false, nil, nil},
		{"ErrEmptied", group("a:1"), group(), false, nil, nil},
		{"ErrFilled", group(), group("a:1"), false, nil, nil},
		{"ErrUnsafeID", group("a:1", `b"]:1`), group("a:1", `b"]:2`), false, nil, nil},
		{"ErrMostChanged", group("a:1", "b:1", "c:1", "d:1"), group("a:2", "b:2", "c:2", "d:1"), false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, ok := rowOps("waiting", tt.old, tt.new, row)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (ops %s)", ok, tt.ok, ops)
			}
			rest := string(ops)
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("ops lack %q (in order): %s", w, ops)
				}
				rest = rest[i+len(w):]
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(ops), w) {
					t.Fatalf("ops contain %q: %s", w, ops)
				}
			}
		})
	}
}

// BenchmarkRenderFragments600 measures rendering every live fragment of a
// show with 600 callers waiting, once for one role, from an empty row
// cache, and assembling the line groups whole: the full render a newly
// connected console gets when no console of its role is open.
func BenchmarkRenderFragments600(b *testing.B) {
	app := webtest.NewApp("morning")
	for i := range 600 {
		app.Arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
	}
	snap, _ := app.Snapshot("morning")
	v := showView{Snap: snap, Talking: map[string]bool{}, Live: true}
	p := permsOf("producer")
	ctx := context.Background()
	var size int
	b.ReportAllocs()
	for b.Loop() {
		f := renderFragments(ctx, v, newRowCache(p))
		size = len(bytes.Join([][]byte{f.whole(ctx, "waiting"), f.whole(ctx, "next"), f.whole(ctx, "onair")}, nil))
	}
	b.ReportMetric(float64(size), "bytes/render")
}

// BenchmarkRenderChange10000 measures one render for one role after one
// call changed (its notes, alternately one name and another) with 10,000
// callers waiting: the rows from the cache, the one changed row rendered,
// and rowOps finding and encoding the change.
func BenchmarkRenderChange10000(b *testing.B) {
	app := webtest.NewApp("morning")
	for i := range 10_000 {
		app.Arrive(fmt.Sprintf("c%05d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
	}
	snap, _ := app.Snapshot("morning")
	v := showView{Snap: snap, Talking: map[string]bool{}, Live: true}
	p := permsOf("producer")
	rc := newRowCache(p)
	ctx := context.Background()
	old := renderFragments(ctx, v, rc)
	row := func(c queue.Call, oob string) []byte { return renderBytes(ctx, callRow(v, p, c, oob)) }
	var sent int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v.Snap.Lineup.Waiting[5000].Notes.Name = fmt.Sprintf("Renamed %d", i%2)
		now := renderFragments(ctx, v, rc)
		ops, ok := rowOps("waiting", old.rows["waiting"], now.rows["waiting"], row)
		if !ok || len(ops) == 0 {
			b.Fatalf("rowOps = %d bytes, %v; want the changed row", len(ops), ok)
		}
		sent, old = len(ops), now
	}
	b.ReportMetric(float64(sent), "bytes/change")
}

// TestWaitingCapBoundary checks the row swaps at the edge of the listed
// waiting callers: with 3 listed out of 5, a caller beyond them is never
// sent, one moving up into them is inserted, and the "more" count follows.
func TestWaitingCapBoundary(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(a *webtest.App)
		more   int      // the count after the change
		want   []string // substrings of the waiting ops, in order
		lack   []string // ids that must not be in the waiting ops
		next   string   // a call id the "next" group must now list
	}{
		{"ArrivalBeyond", func(a *webtest.App) { a.Arrive("c5", "+15550005", "Caller 5") }, 3,
			[]string{`data-more="3" hx-swap-oob="morph:#waiting-more"`}, []string{"c5", "c3", "c4"}, ""},
		{"HangupInside", func(a *webtest.App) { a.Hangup("c1") }, 1,
			[]string{`delete:#waiting &gt; ol &gt; li[data-call=&#34;c1&#34;]`,
				`afterend:#waiting &gt; ol &gt; li[data-call=&#34;c2&#34;]`, `data-call="c3"`, `data-more="1"`},
			[]string{"c4"}, ""},
		{"HangupBeyond", func(a *webtest.App) { a.Hangup("c4") }, 1,
			[]string{`data-more="1"`}, []string{"c3", "c4"}, ""},
		{"MoveToTopBeyond", func(a *webtest.App) {
			if _, err := a.MoveToTop("morning", "c4", queue.Actor{}); err != nil {
				t.Fatal(err)
			}
		}, 1, []string{`data-more="1"`}, []string{"c3", "c4"}, "c4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := webtest.NewApp("morning")
			for i := range 5 {
				app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
			}
			p := permsOf(auth.RoleProducer)
			rc := newRowCache(p)
			v := liveView(t, app)
			v.WaitingRows = 3
			old := renderFragments(ctx, v, rc)
			if ids := webtest.IDs(old.rows["waiting"].calls); ids != "c0,c1,c2" || old.rows["waiting"].more != 2 {
				t.Fatalf("before: waiting lists %s and %d more, want c0,c1,c2 and 2", ids, old.rows["waiting"].more)
			}
			if w := string(old.whole(ctx, "waiting")); !strings.Contains(w, `data-testid="waiting-more"`) ||
				!strings.Contains(w, "… and 2 more waiting") || strings.Contains(w, `data-call="c3"`) {
				t.Fatalf("before: whole waiting group: %s", w)
			}

			tt.change(app)
			v = liveView(t, app)
			v.WaitingRows = 3
			now := renderFragments(ctx, v, rc)
			g := now.rows["waiting"]
			if g.more != tt.more || len(g.calls) != 3 {
				t.Fatalf("after: waiting lists %s and %d more, want 3 listed and %d more", webtest.IDs(g.calls), g.more, tt.more)
			}
			row := func(c queue.Call, oob string) []byte { return renderBytes(ctx, callRow(v, p, c, oob)) }
			ops, ok := rowOps("waiting", old.rows["waiting"], g, row)
			if !ok {
				t.Fatal("rowOps sent the waiting group whole; want row swaps")
			}
			rest := string(ops)
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("ops lack %q (in order): %s", w, ops)
				}
				rest = rest[i+len(w):]
			}
			for _, id := range tt.lack {
				if strings.Contains(string(ops), `data-call="`+id+`"`) || strings.Contains(string(ops), `&#34;`+id+`&#34;`) {
					t.Fatalf("ops touch %s: %s", id, ops)
				}
			}
			if tt.next != "" && !strings.Contains(string(now.whole(ctx, "next")), `data-call="`+tt.next+`"`) {
				t.Fatalf("next group lacks %s: %s", tt.next, now.whole(ctx, "next"))
			}
		})
	}
}

// TestWaitingCapEdges checks that the "more" line appearing or going sends
// the waiting group whole, and that every caller is listed without a cap.
func TestWaitingCapEdges(t *testing.T) {
	ctx := context.Background()
	app := webtest.NewApp("morning")
	for i := range 3 {
		app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	rc := newRowCache(permsOf(auth.RoleProducer))
	render := func(limit int) groupRows {
		v := liveView(t, app)
		v.WaitingRows = limit
		return renderFragments(ctx, v, rc).rows["waiting"]
	}
	none := func(queue.Call, string) []byte { return nil }
	full := render(3)
	if full.more != 0 {
		t.Fatalf("3 of 3 listed: %d more, want 0", full.more)
	}
	app.Arrive("c3", "+15550003", "Caller 3")
	over := render(3)
	if over.more != 1 {
		t.Fatalf("3 of 4 listed: %d more, want 1", over.more)
	}
	if _, ok := rowOps("waiting", full, over, none); ok {
		t.Fatal("the more line appearing was sent as row swaps")
	}
	if _, ok := rowOps("waiting", over, full, none); ok {
		t.Fatal("the more line going was sent as row swaps")
	}
	if all := render(0); all.more != 0 || webtest.IDs(all.calls) != "c0,c1,c2,c3" {
		t.Fatalf("no cap: %s and %d more", webtest.IDs(all.calls), all.more)
	}
}

// TestTalkbackLabel: the console says whether a talkback rings the
// producer's phone or speaks, and how many holding bridges hear it when
// the pool has several (one whose relay failed keeps its music).
func TestTalkbackLabel(t *testing.T) {
	for _, tc := range []struct {
		m    broadcast.MediaState
		want string
	}{
		{broadcast.MediaState{Talkback: true, HoldBridges: 3}, "talkback: ringing the phone"},
		{broadcast.MediaState{Talkback: true, TalkbackLine: "tb", TalkbackBridges: 1, HoldBridges: 1}, "talkback live"},
		{broadcast.MediaState{Talkback: true, TalkbackLine: "tb", TalkbackBridges: 2, HoldBridges: 3}, "talkback live · 2 of 3 bridges"},
		{broadcast.MediaState{Talkback: true, TalkbackBridges: 3, HoldBridges: 3}, "talkback message · 3 of 3 bridges"},
	} {
		if got := talkbackLabel(tc.m); got != tc.want {
			t.Errorf("talkbackLabel(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestWaitHistogram(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	got := waitHistogram([]postgres.Call{
		{AnsweredAt: at, OnAirAt: at.Add(59 * time.Second)},
		{AnsweredAt: at, OnAirAt: at.Add(time.Minute)},
		{AnsweredAt: at, EndedAt: at.Add(45 * time.Minute)},
		{AnsweredAt: at},             // still waiting: not counted
		{EndedAt: at.Add(time.Hour)}, // never answered
	})
	want := []int{1, 1, 0, 0, 0, 0, 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestOutcomeInWords: the history says node_lost in words, and the other
// outcomes as before.
func TestOutcomeInWords(t *testing.T) {
	for o, want := range map[string]string{"node_lost": "node lost (its Asterisk node went down)", "aired": "aired", "": ""} {
		if got := outcomeText(queue.Outcome(o)); got != want {
			t.Errorf("%q: %q, want %q", o, got, want)
		}
	}
}
