package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/console"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

func TestConsoleSendsChangedRowsOnly(t *testing.T) {
	// No history: badges arriving would be row changes of their own.
	e := webenv.New(t, func(c *core.Config) { c.History = nil })
	for i := range 20 {
		e.App.Arrive(fmt.Sprintf("c%02d", i), fmt.Sprintf("+1555%04d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	first := s.Next(t, webtest.Named("waiting", "c19"))
	if strings.Contains(first.Data, ">0:00<") {
		t.Fatalf("a live fragment has timer text, so rows change with the clock: %s", first.Data)
	}
	for _, step := range []struct {
		name string
		do   func()
		want []string
	}{
		{"Arrive", func() { e.App.Arrive("c20", "+15550020", webtest.Hostile) },
			[]string{`afterend:#waiting &gt; ol &gt; li[data-call=&#34;c19&#34;]`, `data-call="c20"`, "&lt;script&gt;"}},
		{"HangUp", func() { e.App.Hangup("c07") }, []string{`delete:#waiting &gt; ol &gt; li[data-call=&#34;c07&#34;]`}},
		{"Promote", func() { e.App.Promote(t.Context(), "morning", "c00", queue.Actor{}) },
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
			if strings.Contains(ev.Data, webtest.Hostile) {
				t.Fatal("unescaped name in a row")
			}
			if n := strings.Count(ev.Data, "<li "); n > 1 {
				t.Fatalf("%d rows sent, want at most 1: %s", n, ev.Data)
			}
		})
	}
}

// login opens the show page in the browser as user.
func login(t *testing.T, ctx context.Context, e *webenv.Env, user string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.TS.URL+"/shows/morning"),
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
	e := webenv.New(t)
	for i := range 8 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	login(t, ctx, e, "producer")
	// expect waits until the browser's line groups hold the snapshot's
	// callers in line order, each once.
	expect := func(step string) {
		t.Helper()
		snap, err := e.App.Snapshot("morning")
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
		next, waiting, _ := console.Line(snap, 0)
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
		{"arrive", func() error { e.App.Arrive("c8", "+15550008", "Caller 8"); return nil }},
		{"hang up in the middle", func() error { e.App.Hangup("c4"); return nil }},
		{"promote the first", func() error { _, err := e.App.Promote(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"ready", func() error {
			_, err := e.App.Ready(ctxb, "morning", "c6", queue.Actor{}, queue.Notes{Topic: "potholes"})
			return err
		}},
		{"mute on air", func() error { _, err := e.App.Mute(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"hold back to the line", func() error { _, err := e.App.Hold(ctxb, "morning", "c0", queue.Actor{}); return err }},
		{"two arrive", func() error {
			e.App.Arrive("c9", "+15550009", "Caller 9")
			e.App.Arrive("c10", "+15550010", "Caller 10")
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

func TestConsoleRendersChangedRowsOnly(t *testing.T) {
	var renders testsignal.Signal[core.RenderedRows]
	renders.Init()
	// No history: badges arriving would be row changes of their own.
	e := webenv.New(t, func(c *core.Config) {
		c.History = nil
		c.Rendered = renders
	})
	for i := range 200 {
		e.App.Arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%04d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	s.Next(t, webtest.Named("waiting", "c199"))
	// drained sums the rows rendered by the renders done so far (each
	// render's count is sent before its messages).
	drained := func() int {
		n := 0
		for _, r := range renders.Drain() {
			if r.Role == auth.RoleProducer {
				n += r.Rows
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
		{"Arrive", func() { e.App.Arrive("c200", "+15550200", webtest.Hostile) }, 1},
		{"HangUp", func() { e.App.Hangup("c007") }, 0},
		{"Ready", func() { e.App.Ready(t.Context(), "morning", "c050", queue.Actor{}, queue.Notes{Topic: "potholes"}) }, 1},
		{"Promote", func() { e.App.Promote(t.Context(), "morning", "c000", queue.Actor{}) }, 0},
	} {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			ev := s.Next(t, webtest.Named("rows"))
			if got := drained(); got != step.want {
				t.Fatalf("rendered %d rows, want %d", got, step.want)
			}
			if strings.Contains(ev.Data, webtest.Hostile) {
				t.Fatal("unescaped name in a row")
			}
		})
	}
}
