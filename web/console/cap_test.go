package console_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/console"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestWaitingRowsConfig checks the default cap and that a connecting
// console gets the listed rows and the count, with exact counts on top.
func TestWaitingRowsConfig(t *testing.T) {
	if got := core.New(core.Config{Shows: webtest.NewApp("morning")}).Cfg.WaitingRows; got != 500 {
		t.Fatalf("default WaitingRows = %d, want 500", got)
	}
	e := webenv.New(t, func(c *core.Config) { c.WaitingRows = 2; c.History = nil })
	for i := range 5 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
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
	e := webenv.New(t, func(c *core.Config) { c.WaitingRows = 2 })
	e.Hist.ProfileFn = func(n string) (postgres.Profile, error) {
		mu.Lock()
		asked[n] = true
		mu.Unlock()
		return postgres.Profile{Number: n, Calls: 1}, nil
	}
	for i := range 4 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	s.Next(t, func(ev webtest.Event) bool {
		return strings.Contains(webenv.RowOf(ev.Data, "c1"), `data-testid="badge"`)
	})
	mu.Lock()
	got := fmt.Sprint(asked)
	mu.Unlock()
	if got != "map[+15550000:true +15550001:true]" {
		t.Fatalf("profiles fetched: %s, want the 2 listed callers'", got)
	}
	e.App.Hangup("c0")
	s.Next(t, func(ev webtest.Event) bool {
		return strings.Contains(webenv.RowOf(ev.Data, "c2"), `data-testid="badge"`)
	})
}

// TestBrowserWaitingCap checks, in a browser, that with 3 waiting callers
// listed the console shows the first 3 and the count of the rest after
// every kind of change at the edge of the list.
func TestBrowserWaitingCap(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t, func(c *core.Config) { c.WaitingRows = 3 })
	for i := range 5 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), fmt.Sprintf("Caller %d", i))
	}
	login(t, ctx, e, "producer")
	expect := func(step string) {
		t.Helper()
		snap, err := e.App.Snapshot("morning")
		if err != nil {
			t.Fatal(err)
		}
		next, waiting, more := console.Line(snap, 3)
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
		})()`, webtest.IDs(next), webtest.IDs(waiting), len(next)+len(waiting), moreText)
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#next li, #waiting li, #waiting-more")].map(el => el.dataset.call || el.textContent).join(",")`))
			t.Fatalf("%s: the browser shows %s, want next %s, waiting %s, %q: %v", step, got, webtest.IDs(next), webtest.IDs(waiting), moreText, err)
		}
	}
	expect("first render")
	bg := t.Context()
	steps := []struct {
		name string
		do   func() error
	}{
		{"arrive beyond", func() error { e.App.Arrive("c5", "+15550005", "Caller 5"); return nil }},
		{"hang up inside", func() error { e.App.Hangup("c1"); return nil }},
		{"move to top beyond", func() error { _, err := e.App.MoveToTop("morning", "c4", queue.Actor{}); return err }},
		{"hang up beyond", func() error { e.App.Hangup("c5"); return nil }},
		{"promote the first", func() error { _, err := e.App.Promote(bg, "morning", "c0", queue.Actor{}); return err }},
		{"arrive beyond again", func() error { e.App.Arrive("c6", "+15550006", "Caller 6"); return nil }},
		{"hold back to the line", func() error { _, err := e.App.Hold(bg, "morning", "c0", queue.Actor{}); return err }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		expect(st.name)
	}
}
