package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// menusInWindowJS opens each menu of the page in turn, its button scrolled
// to the bottom of the window first (where a row's menu ran off the
// screen), and lists those whose list leaves the window.
const menusInWindowJS = `(async () => {
	const problems = [];
	for (const m of document.querySelectorAll("details.menu")) {
		const s = m.querySelector("summary");
		if (!s || s.getBoundingClientRect().height === 0) continue;
		s.scrollIntoView({block: "end"});
		const toggled = new Promise(r => m.addEventListener("toggle", () => r(true), {once: true}));
		s.click();
		if (!await Promise.race([toggled, new Promise(r => setTimeout(() => r(false), 3000))])) {
			problems.push((m.dataset.testid || "menu") + ": no toggle event within 3 s of a click");
			continue;
		}
		const r = m.querySelector(".menu-list").getBoundingClientRect();
		const w = document.documentElement.clientWidth, h = window.innerHeight;
		if (r.top < 0 || r.bottom > h || r.left < 0 || r.right > w) {
			problems.push((m.dataset.testid || "menu") + " of " + (m.closest("[data-call]")?.dataset.call || "the page") +
				": " + Math.round(r.left) + "," + Math.round(r.top) + "–" + Math.round(r.right) + "," + Math.round(r.bottom) + " in " + w + "×" + h);
		}
		m.removeAttribute("open");
	}
	return problems;
})()`

// TestBrowserMenusInWindow: no ⋯ menu leaves the window at 820, 1024,
// 1366×768 and 1920 px: one with no room below opens upward (issue 23,
// point 9: at 1366×768 a row's menu ran off the bottom, hiding Drop).
func TestBrowserMenusInWindow(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	busyShow(t, e)
	login(t, ctx, e, "producer")
	for _, sc := range []struct{ w, h int64 }{{820, 1180}, {1024, 768}, {1366, 768}, {1920, 1080}} {
		t.Run(fmt.Sprintf("%dx%d", sc.w, sc.h), func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(sc.w, sc.h), chromedp.Navigate(e.TS.URL+"/shows/morning")); err != nil {
				t.Fatal(err)
			}
			if err := shown(ctx); err != nil {
				t.Fatalf("the page did not come: %v", err)
			}
			problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](menusInWindowJS, chromedp.EvalAwaitPromise))
			if err != nil || len(problems) > 0 {
				t.Errorf("%v\n%s", err, strings.Join(problems, "\n"))
			}
		})
	}
}
