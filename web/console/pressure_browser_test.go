package console_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// browserText reads an element's text in the browser, failing the test without it.
func browserText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text("", css(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestBrowserMutedAndLockedInWords: a muted caller reads as muted (an icon
// and the word, no strike-through, which read as "dropped"), the toggles
// name what pressing does ("Unmute", "Unlock"), and h or d on a locked
// caller says why nothing happened (issue 23, point 7).
func TestBrowserMutedAndLockedInWords(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Mute(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Lock("morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "producer")
	card := `[data-testid=onair-list] li[data-call=c1]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(card+` [data-testid=muted]`))); err != nil {
		t.Fatal(err)
	}
	if got := browserText(t, ctx, card+` [data-testid=muted]`); !strings.Contains(got, "Muted") {
		t.Errorf("the muted mark says %q, want the word Muted", got)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=muted] svg, [data-testid=muted] .icon").length`)); err != nil || n == 0 {
		t.Errorf("the muted mark has %d icons (%v), want one", n, err)
	}
	deco, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("`+card+` [data-testid=name]")).textDecorationLine`))
	if err != nil || strings.Contains(deco, "line-through") {
		t.Errorf("the muted caller's name is decorated %q (%v), want no strike-through", deco, err)
	}
	for id, want := range map[string]string{"act-unmute": "Unmute", "act-unlock": "Unlock"} {
		if got := browserText(t, ctx, card+` [data-testid=`+id+`]`); strings.TrimSpace(got) != want {
			t.Errorf("button %s says %q, want %q (what pressing does)", id, got, want)
		}
	}
	for _, key := range []string{"h", "d"} {
		if err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").replaceChildren()`),
			chromedp.Click("", css(card+` [data-testid=name]`)),
			chromedp.WaitVisible("", css(card+`[aria-current=true]`)),
			chromedp.KeyEvent(key),
			chromedp.WaitVisible("", css(`#flash p.err`))); err != nil {
			t.Fatalf("key %s on a locked caller: %v", key, err)
		}
		if got := browserText(t, ctx, `#flash p.err`); got != "James is locked on air — unlock first" {
			t.Errorf("key %s on a locked caller says %q", key, got)
		}
	}
	if c, _ := e.App.Call("morning", "c1"); c.State != queue.StateOnAir {
		t.Errorf("the locked caller is %s, want still on air", c.State)
	}
}

// TestBrowserLostRaceNamesWinner: the second of two racing drops, and a
// Ready sent for a caller someone else just dropped, say what happened and
// who did it ("Sam dropped James a moment ago"), from the end the console
// saw, not "Too late: the caller has hung up" (issue 23, point 2).
func TestBrowserLostRaceNamesWinner(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	e.App.Arrive("c2", "+15550002", "Kim")
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "producer")
	sam := queue.Actor{Kind: queue.ActorUser, Name: "Sam"}
	lose := func(step, open, opened, send, want string, id string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-call=`+id+`] [data-testid=name]`))); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Click("", css(`[data-call=`+id+`] [data-testid=name]`)),
			chromedp.KeyEvent(open),
			chromedp.WaitVisible("", css(opened))); err != nil {
			t.Fatalf("%s: open the dialog: %v", step, err)
		}
		// Sam's drop wins: it lands just before this console's request
		// does, as when two consoles press at the same moment.
		var raced atomic.Bool
		e.App.ActFn = func(string, string) error {
			if raced.CompareAndSwap(false, true) {
				if _, err := e.App.Drop(t.Context(), "morning", id, sam, broadcast.DropOptions{}); err != nil {
					t.Error(err)
				}
			}
			return nil
		}
		defer func() { e.App.ActFn = nil }()
		if err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").replaceChildren()`),
			chromedp.Click("", css(send)),
			chromedp.WaitVisible("", css(`#flash p.err`))); err != nil {
			t.Fatalf("%s: send: %v", step, err)
		}
		if got := browserText(t, ctx, `#flash p.err`); !strings.Contains(got, want) {
			t.Errorf("%s: the loser is told %q, want %q", step, got, want)
		}
	}
	lose("drop", "d", `[data-testid=confirm-dialog]`, `[data-testid=confirm-ok]`, "Sam dropped James a moment ago", "c1")
	lose("ready", "r", `[data-testid=ready-dialog] input[name=topic]`, `[data-testid=ready-submit]`, "Sam dropped Kim a moment ago", "c2")
}

// TestBrowserHostSeesFlags: the host view's Next up shows every flag a
// producer sees, in words and at the host view's size: not screened, do
// not air, and the caller's notes ("Abusive last week") as a warning; a
// blocked caller on air is named blocked (issue 23, point 4).
func TestBrowserHostSeesFlags(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c0", "+15550000", "Ann")
	e.App.Arrive("c1", "+15550001", "James")
	e.App.Arrive("c2", "+15550002", "Kim")
	actor := queue.Actor{Kind: queue.ActorUser, Name: "dana"}
	if _, err := e.App.Promote(t.Context(), "morning", "c0", actor); err != nil {
		t.Fatal(err)
	}
	e.App.SetBlocked("+15550000", true, "abusive on air", actor)
	if _, err := e.Notes.WriteCallerNotes(t.Context(), queue.CallerNotes{Number: "+15550001", Notes: "Abusive last week", DoNotAir: true}, "dana"); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "host")
	next := `[data-testid=host-next] li[data-call=c1]`
	if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+"/shows/morning/host"),
		chromedp.WaitVisible("", css(next+` [data-testid=caller-notes]`))); err != nil {
		t.Fatalf("the host view: %v", err)
	}
	for id, want := range map[string]string{
		next + ` [data-testid=do-not-air]`:                                  "do not air",
		next + ` [data-testid=unscreened]`:                                  "not screened",
		next + ` [data-testid=caller-notes]`:                                "Note: Abusive last week",
		`[data-testid=host-next] li[data-call=c2] [data-testid=unscreened]`: "not screened",
		`[data-testid=onair-list] li[data-call=c0] [data-testid=blocked]`:   "blocked",
	} {
		if got := browserText(t, ctx, id); !strings.Contains(got, want) {
			t.Errorf("%s says %q, want %q", id, got, want)
		}
		size, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector("`+strings.ReplaceAll(id, `"`, `\"`)+`")).fontSize)`))
		if err != nil || size < 17 {
			t.Errorf("%s is %vpx (%v), want the host view's size (17px or more)", id, size, err)
		}
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("`+next+` [data-testid=caller-notes] svg").length`)); err != nil || n == 0 {
		t.Errorf("the caller's notes carry %d warning icons (%v), want one", n, err)
	}
}

// TestBrowserStaleDialog: a dialog whose caller changed state says so at
// once (the Drop dialog for a caller just put on air names the new state,
// and Drop still applies), and a dialog whose caller left closes with a
// message (issue 23, point 3).
func TestBrowserStaleDialog(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	e.App.Arrive("c2", "+15550002", "Kim")
	login(t, ctx, e, "producer")
	sam := queue.Actor{Kind: queue.ActorUser, Name: "Sam"}
	open := func(id, key, opened string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.WaitVisible("", css(`[data-call=`+id+`] [data-testid=name]`)),
			chromedp.Click("", css(`[data-call=`+id+`] [data-testid=name]`)),
			chromedp.KeyEvent(key),
			chromedp.WaitVisible("", css(opened))); err != nil {
			t.Fatalf("open the dialog for %s: %v", id, err)
		}
	}
	open("c1", "d", `[data-testid=confirm-dialog]`)
	if _, err := e.App.Promote(t.Context(), "morning", "c1", sam); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=confirm-dialog] [data-testid=dialog-stale]`))); err != nil {
		t.Fatalf("the drop dialog after its caller went on air: %v", err)
	}
	if got := browserText(t, ctx, `[data-testid=confirm-dialog] [data-testid=dialog-stale]`); got != "James (+15550001) is now On air." {
		t.Errorf("the stale drop dialog says %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click("", css(`[data-testid=confirm-ok]`)),
		chromedp.WaitNotPresent("", css(`[data-testid=onair-list] [data-call=c1]`))); err != nil {
		t.Fatalf("drop still applies to the caller on air: %v", err)
	}
	open("c2", "r", `[data-testid=ready-dialog] input[name=topic]`)
	if _, err := e.App.Drop(t.Context(), "morning", "c2", sam, broadcast.DropOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotVisible("", css(`[data-testid=ready-dialog]`)),
		chromedp.WaitVisible("", css(`#flash p.err`))); err != nil {
		t.Fatalf("the ready dialog after its caller was dropped: %v", err)
	}
	if got := browserText(t, ctx, `#flash p.err`); got != "Kim (+15550002) is no longer in line; the dialog closed" {
		t.Errorf("the closed ready dialog says %q", got)
	}
}
