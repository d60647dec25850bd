package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/chromedp/chromedp"
)

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

func TestConsoleSendsChangedRowsOnly(t *testing.T) {
	// No history: badges arriving would be row changes of their own.
	e := newEnv(t, func(c *Config) { c.History = nil })
	for i := range 20 {
		e.app.Arrive(fmt.Sprintf("c%02d", i), fmt.Sprintf("+1555%04d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.liveRequest(t, "producer"))
	first := s.Next(t, webtest.Named("waiting", "c19"))
	if strings.Contains(first.Data, ">0:00<") {
		t.Fatalf("a live fragment has timer text, so rows change with the clock: %s", first.Data)
	}
	for _, step := range []struct {
		name string
		do   func()
		want []string
	}{
		{"Arrive", func() { e.app.Arrive("c20", "+15550020", hostile) },
			[]string{`afterend:#waiting &gt; ol &gt; li[data-call=&#34;c19&#34;]`, `data-call="c20"`, "&lt;script&gt;"}},
		{"HangUp", func() { e.app.Hangup("c07") }, []string{`delete:#waiting &gt; ol &gt; li[data-call=&#34;c07&#34;]`}},
		{"Promote", func() { e.app.Promote(t.Context(), "morning", "c00", queue.Actor{}) },
			[]string{`delete:#waiting &gt; ol &gt; li[data-call=&#34;c00&#34;]`}},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			var names []string
			ev := s.Next(t, func(ev webtest.Event) bool { names = append(names, ev.Name); return ev.Name == "rows" })
			for _, n := range names {
				if n == "waiting" {
					t.Fatalf("the whole waiting list was sent: %v", names)
				}
			}
			for _, w := range step.want {
				if !strings.Contains(ev.Data, w) {
					t.Fatalf("rows event lacks %q: %s", w, ev.Data)
				}
			}
			if strings.Contains(ev.Data, hostile) {
				t.Fatal("unescaped name in a row")
			}
			if n := strings.Count(ev.Data, "<li "); n > 1 {
				t.Fatalf("%d rows sent, want at most 1: %s", n, ev.Data)
			}
		})
	}
}

// login opens the show page in the browser as user.
func login(t *testing.T, ctx context.Context, e *env, user string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/shows/morning"),
		chromedp.WaitVisible("", css(`[data-testid=login-form]`)),
		chromedp.SendKeys(`[data-testid=login-user]`, user),
		chromedp.SendKeys(`[data-testid=login-password]`, "secret"),
		chromedp.Click("", css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible("", css(`[data-testid=waiting-list]`)),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
}

// TestBrowserRowUpdates checks that the rows the browser shows after a run
// of single-row swaps are the rows of the line, in order.
func TestBrowserRowUpdates(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	for i := range 8 {
		e.app.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	login(t, ctx, e, "producer")
	// expect waits until the browser's line groups hold the snapshot's
	// callers in line order, each once.
	expect := func(step string) {
		t.Helper()
		v, err := e.srv.console.shows["morning"].currentView()
		if err != nil {
			t.Fatal(err)
		}
		ids := func(calls []queue.Call) string {
			var out []string
			for _, c := range calls {
				out = append(out, c.ID)
			}
			return strings.Join(out, ",")
		}
		next, waiting := v.line()
		js := fmt.Sprintf(`(() => {
			const ids = s => [...document.querySelectorAll(s)].map(li => li.dataset.call).join(",");
			return ids("#next > ol > li") === %q && ids("#waiting > ol > li") === %q &&
				document.querySelectorAll("#waiting li, #next li").length === %d;
		})()`, ids(next), ids(waiting), len(next)+len(waiting))
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#next li, #waiting li")].map(li => li.dataset.call).join(",")`))
			t.Fatalf("%s: the browser shows %s, want next %s, waiting %s: %v", step, got, ids(next), ids(waiting), err)
		}
	}
	expect("first render")
	ctxb := t.Context()
	steps := []struct {
		name string
		do   func() error
	}{
		{"arrive", func() error { e.app.Arrive("c8", "+15550008", "Caller 8"); return nil }},
		{"hang up in the middle", func() error { e.app.Hangup("c4"); return nil }},
		{"promote the first", func() error { _, err := e.app.Promote(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"ready", func() error {
			_, err := e.app.Ready(ctxb, "morning", "c6", queue.Actor{}, queue.Notes{Topic: "potholes"})
			return err
		}},
		{"mute on air", func() error { _, err := e.app.Mute(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"hold back to the line", func() error { _, err := e.app.Hold(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"two arrive", func() error {
			e.app.Arrive("c9", "+15550009", "Caller 9")
			e.app.Arrive("c10", "+15550010", "Caller 10")
			return nil
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		expect(st.name)
	}
	topic, err := chromedp.Run(ctx, chromedp.Text("", css(`#next li[data-call=c6] [data-testid=topic]`)))
	if err != nil || topic != "potholes" {
		t.Fatalf("ready caller's topic %q (%v), want potholes", topic, err)
	}
	// A row inserted by an out-of-band swap works like any other.
	if err := chromedp.Do(ctx,
		chromedp.Click("", css(`#waiting li[data-call=c10] [data-testid=row-menu] summary`)),
		chromedp.Click("", css(`#waiting li[data-call=c10] [data-testid=act-promote]`)),
		chromedp.WaitVisible("", css(`[data-testid=onair-list] li[data-call=c10]`)),
	); err != nil {
		t.Fatalf("promote an inserted row: %v", err)
	}
	expect("promoted from the browser")
	timer, err := chromedp.Run(ctx, chromedp.Text("", css(`#waiting li[data-call=c9] .timer`)))
	if err != nil || !strings.Contains(timer, ":") {
		t.Fatalf("timer of an inserted row: %q (%v), want it filled in", timer, err)
	}
}
