package console_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/chromedp/chromedp"
)

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
			if ids := idsOf(old.rows["waiting"].calls); ids != "c0,c1,c2" || old.rows["waiting"].more != 2 {
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
				t.Fatalf("after: waiting lists %s and %d more, want 3 listed and %d more", idsOf(g.calls), g.more, tt.more)
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
	if all := render(0); all.more != 0 || idsOf(all.calls) != "c0,c1,c2,c3" {
		t.Fatalf("no cap: %s and %d more", idsOf(all.calls), all.more)
	}
}

// TestWaitingRowsConfig checks the default cap and that a connecting
// console gets the listed rows and the count, with exact counts on top.
func TestWaitingRowsConfig(t *testing.T) {
	if got := New(Config{Shows: webtest.NewApp("morning")}).cfg.WaitingRows; got != 500 {
		t.Fatalf("default WaitingRows = %d, want 500", got)
	}
	e := newEnv(t, func(c *Config) { c.WaitingRows = 2; c.History = nil })
	for i := range 5 {
		e.app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.liveRequest(t, "producer"))
	st := s.Next(t, webtest.Named("stats")) // sent before the line groups
	if !strings.Contains(st.Data, `data-testid="count-waiting">5<`) {
		t.Fatalf("stats: %s", st.Data)
	}
	ev := s.Next(t, webtest.Named("waiting", "c1"))
	if strings.Contains(ev.Data, `data-call="c2"`) || !strings.Contains(ev.Data, "… and 3 more waiting") {
		t.Fatalf("waiting fragment: %s", ev.Data)
	}
}

// TestWaitingCapProfiles checks that only listed callers' profiles are
// fetched, and that a caller moving up into the list gets its badge.
func TestWaitingCapProfiles(t *testing.T) {
	var mu sync.Mutex
	asked := map[string]bool{}
	e := newEnv(t, func(c *Config) { c.WaitingRows = 2 })
	e.hist.ProfileFn = func(n string) (postgres.Profile, error) {
		mu.Lock()
		asked[n] = true
		mu.Unlock()
		return postgres.Profile{Number: n, Calls: 1}, nil
	}
	for i := range 4 {
		e.app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.liveRequest(t, "producer"))
	s.Next(t, func(ev webtest.Event) bool { return strings.Contains(rowOf(ev.Data, "c1"), `data-testid="badge"`) })
	mu.Lock()
	got := fmt.Sprint(asked)
	mu.Unlock()
	if got != "map[+15550000:true +15550001:true]" {
		t.Fatalf("profiles fetched: %s, want the 2 listed callers'", got)
	}
	e.app.Hangup("c0")
	s.Next(t, func(ev webtest.Event) bool { return strings.Contains(rowOf(ev.Data, "c2"), `data-testid="badge"`) })
}

// rowOf is the HTML of call id's row in data, or "".
func rowOf(data, id string) string {
	i := strings.Index(data, `data-call="`+id+`"`)
	if i < 0 {
		return ""
	}
	row, _, _ := strings.Cut(data[i:], "</li>")
	return row
}

// idsOf joins the calls' ids.
func idsOf(calls []queue.Call) string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return strings.Join(ids, ",")
}

// TestBrowserWaitingCap checks, in a browser, that with 3 waiting callers
// listed the console shows the first 3 and the count of the rest after
// every kind of change at the edge of the list.
func TestBrowserWaitingCap(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, func(c *Config) { c.WaitingRows = 3 })
	for i := range 5 {
		e.app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	login(t, ctx, e, "producer")
	expect := func(step string) {
		t.Helper()
		v, err := e.srv.console.shows["morning"].currentView()
		if err != nil {
			t.Fatal(err)
		}
		next, waiting := v.line()
		waiting, more := v.waitingShown(waiting)
		moreText := ""
		if more > 0 {
			moreText = fmt.Sprintf("… and %d more waiting", more)
		}
		js := fmt.Sprintf(`(() => {
			const ids = s => [...document.querySelectorAll(s)].map(li => li.dataset.call).join(",");
			const more = document.querySelectorAll("[data-testid=waiting-more]");
			return ids("#next > ol > li") === %q && ids("#waiting > ol > li") === %q &&
				document.querySelectorAll("#waiting li, #next li").length === %d &&
				(more.length ? more[0].textContent : "") === %q && more.length <= 1;
		})()`, idsOf(next), idsOf(waiting), len(next)+len(waiting), moreText)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#next li, #waiting li, #waiting-more")].map(el => el.dataset.call || el.textContent).join(",")`))
			t.Fatalf("%s: the browser shows %s, want next %s, waiting %s, %q: %v", step, got, idsOf(next), idsOf(waiting), moreText, err)
		}
	}
	expect("first render")
	bg := t.Context()
	steps := []struct {
		name string
		do   func() error
	}{
		{"arrive beyond", func() error { e.app.Arrive("c5", "+15550005", "Caller 5"); return nil }},
		{"hang up inside", func() error { e.app.Hangup("c1"); return nil }},
		{"move to top beyond", func() error { _, err := e.app.MoveToTop("morning", "c4", queue.Actor{}); return err }},
		{"hang up beyond", func() error { e.app.Hangup("c5"); return nil }},
		{"promote the first", func() error { _, err := e.app.Promote(bg, "morning", "c0", queue.Actor{}); return err }},
		{"arrive beyond again", func() error { e.app.Arrive("c6", "+15550006", "Caller 6"); return nil }},
		{"hold back to the line", func() error { _, err := e.app.Hold(bg, "morning", "c0", queue.Actor{}); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		expect(st.name)
	}
}
