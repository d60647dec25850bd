package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestBrowserStudioLost: in a show across nodes, the studio lost while a
// producer's console is open puts the banner up live; its "make node B
// the studio" button is reached with Tab and pressed with Enter, and the
// banner goes once B is the studio. axe finds nothing serious on the page
// with the banner up.
func TestBrowserStudioLost(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	webenv.SpreadApp(e)
	login(t, ctx, e, "producer")
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=call-node]`)), chromedp.WaitVisible("", css(`[data-testid=node-loads]`))); err != nil {
		t.Fatalf("nodes not shown: %v", err)
	}
	e.App.SetStudioState(broadcast.StudioState{Node: "A", State: broadcast.NodeDown, Lost: true})
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=studio-lost]`)), settled()); err != nil {
		t.Fatalf("no banner: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text("", css(`[data-testid=studio-lost]`)))
	if err != nil || !strings.Contains(got, "Studio node A lost — nobody can go on air; name another studio") {
		t.Fatalf("banner says %q (%v)", got, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeJS+";true")); err != nil {
		t.Fatalf("load axe: %v", err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	if len(found) > 0 {
		t.Errorf("axe finds %d serious or critical violations:\n%s", len(found), strings.Join(found, "\n"))
	}
	// Tab from the element before the button (the banner's text cannot
	// take the focus, so the page's order is what brings it there).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const b = document.querySelector("[data-testid=set-studio]");
		const all = [...document.querySelectorAll("a[href], button, summary, input, select, textarea")].filter(x => !x.disabled && x.tabIndex >= 0 && x.offsetParent);
		all[all.indexOf(b) - 1].focus(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	on, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement === document.querySelector("[data-testid=set-studio]")`))
	if err != nil || !on {
		t.Fatalf("Tab did not reach the button (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r"),
		chromedp.WaitNotPresent("", css(`[data-testid=studio-lost]`))); err != nil {
		t.Fatalf("Enter on the button: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector("#flash").textContent.includes("Studio is now node B.")`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil || !flash {
		t.Fatalf("no flash: %v", err)
	}
	e.App.Mu.Lock()
	studio := e.App.Studio.Node
	e.App.Mu.Unlock()
	if studio != "B" {
		t.Fatalf("studio %q, want B", studio)
	}
}
