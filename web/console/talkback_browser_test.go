package console_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestBrowserTalkbackInWords: while a producer's talkback is live, the
// console's header says so in words, with how many holding bridges hear it
// and who is speaking (the producer who pressed Talkback), and so does the
// host view (issue 23, point 1: an unlabelled speaker icon was all).
func TestBrowserTalkbackInWords(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	login(t, ctx, e, "producer")
	// The console's answer ("Talkback on.") comes once the fake has the
	// talkback's options.
	if err := chromedp.Do(ctx, chromedp.Click("", css(`[data-testid=control-start-talkback]`))); err != nil {
		t.Fatalf("press Talkback: %v", err)
	}
	if !waitTextHas(ctx, `#flash`, "Talkback on.") {
		t.Fatalf("Talkback pressed: the console says %q", browserText(t, ctx, `#flash`))
	}
	by := e.App.Talkback().By
	if by != "producer" {
		t.Fatalf("the talkback was started by %q, want the console's user, producer", by)
	}
	// broadcast says the producer's line speaks in 3 of the pool's 4 bridges.
	e.App.SetMedia(broadcast.MediaState{Talkback: true, TalkbackLine: "callin-talkback-1", TalkbackBy: by,
		TalkbackBridges: 3, HoldBridges: 4, HoldMembers: 1})
	want := "talkback live · 3 of 4 bridges · producer speaking"
	for _, page := range []string{"/shows/morning", "/shows/morning/host"} {
		if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+page),
			chromedp.WaitVisible("", css(`[data-testid=talkback]`))); err != nil {
			t.Fatalf("%s: no talkback pill: %v", page, err)
		}
		if !waitTextHas(ctx, `[data-testid=talkback]`, want) {
			t.Errorf("%s: the talkback pill says %q, want %q", page, browserText(t, ctx, `[data-testid=talkback]`), want)
		}
	}
}

// waitTextHas waits up to 5 s for the element sel to hold the text want,
// and reports whether it did.
func waitTextHas(ctx context.Context, sel, want string) bool {
	js := `(document.querySelector(` + strconv.Quote(sel) + `)?.textContent ?? "").replace(/\s+/g, " ").includes(` + strconv.Quote(want) + `)`
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(5*time.Second)))
	return err == nil
}
