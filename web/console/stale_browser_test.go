package console_test

import (
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestBrowserStaleDialogNoLongerApplies: a Ready dialog whose caller
// someone else put on air says so at once and that Ready no longer
// applies, and its button is disabled (issue 23, point 3: the case where
// the action no longer applies).
func TestBrowserStaleDialogNoLongerApplies(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	login(t, ctx, e, "producer")
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible("", css(`[data-call=c1] [data-testid=name]`)),
		chromedp.Click("", css(`[data-call=c1] [data-testid=name]`)),
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible("", css(`[data-testid=ready-dialog] input[name=topic]`))); err != nil {
		t.Fatalf("open the ready dialog: %v", err)
	}
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{Kind: queue.ActorUser, Name: "Sam"}); err != nil {
		t.Fatal(err)
	}
	stale := `[data-testid=ready-dialog] [data-testid=dialog-stale]`
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(stale))); err != nil {
		t.Fatalf("the ready dialog after its caller went on air: %v", err)
	}
	if got := browserText(t, ctx, stale); got != "James (+15550001) is now On air: this no longer applies." {
		t.Errorf("the stale ready dialog says %q", got)
	}
	if off, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=ready-submit]").disabled`)); err != nil || !off {
		t.Errorf("Mark ready is enabled (%v) for a caller on air, want disabled", err)
	}
}
