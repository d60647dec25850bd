package console_test

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The console's layout and accessibility, checked in Chromium at the sizes
// studios use: a 10-inch tablet upright, a small laptop, the common laptop
// and a desktop screen.

// screens are the sizes every page is checked at.
var screens = []struct {
	name string
	w, h int64
}{{"tablet", 820, 1180}, {"1024", 1024, 768}, {"laptop", 1366, 768}, {"desktop", 1920, 1080}}

// layoutJS finds what a person would see as broken: a visible interactive
// element whose box overlaps another's (neither inside the other), and
// anything visible that reaches past the right edge of the window without
// a scrolling or clipping box around it that does not. It returns the
// problems found, described.
const layoutJS = `(() => {
	const out = [];
	const W = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > W + 1) out.push("the page scrolls sideways: " + document.documentElement.scrollWidth + " > " + W);
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		(el.dataset && el.dataset.testid ? "[" + el.dataset.testid + "]" : "") +
		(el.closest("[data-call]") ? " of " + el.closest("[data-call]").dataset.call : "") +
		" '" + (el.textContent || el.value || "").trim().slice(0, 30) + "'";
	const seen = el => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) &&
		el.getClientRects().length > 0 && !el.closest("#flash, dialog:not([open])");
	const clips = el => { const o = getComputedStyle(el); return /(hidden|auto|scroll|clip)/.test(o.overflowX); };
	const inter = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")]
		.filter(seen).map(el => ({el, r: el.getBoundingClientRect()})).filter(x => x.r.width > 0 && x.r.height > 0);
	for (let i = 0; i < inter.length; i++) {
		for (let j = i + 1; j < inter.length; j++) {
			const a = inter[i], b = inter[j];
			if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
			const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
			const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
			if (x > 0.5 && y > 0.5) out.push("overlap: " + name(a.el) + " and " + name(b.el));
		}
	}
	for (const el of document.querySelectorAll("body *")) {
		if (!seen(el)) continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.right <= W + 0.5) continue;
		let p = el.parentElement, clipped = false;
		while (p && p !== document.body) {
			if (clips(p) && p.getBoundingClientRect().right <= W + 0.5) { clipped = true; break; }
			p = p.parentElement;
		}
		if (!clipped) out.push("overflows to x=" + Math.round(r.right) + " (window " + W + "): " + name(el));
	}
	return out.slice(0, 20);
})()`

// busyShow fills the fake show the way a busy hour looks: two on air (one
// locked and muted), three ready (one picked, one with a priority), one
// screening, a call-back entry, a blocked caller, callers with notes and
// flags, long and hostile names and twenty more waiting.
func busyShow(t *testing.T, e *webenv.Env) {
	t.Helper()
	ctx := t.Context()
	actor := queue.Actor{Kind: queue.ActorUser, Name: "dana"}
	start := e.App.Now
	at := func(ago time.Duration) {
		e.App.Mu.Lock()
		e.App.Now = start.Add(-ago)
		e.App.Mu.Unlock()
	}
	names := []string{"MARIA GONZALEZ", "D OKAFOR", "JAMES WRIGHT", "PRIYA NAIR", "", "T BECKER", "ANNA LINDQVIST",
		"ROBERT CHEN", strings.Repeat("VERY LONG CALLER ID NAME ", 4), webtest.Hostile, "NOOR HADDAD", "KEVIN O'BRIEN"}
	for i := range 32 {
		at(time.Duration(40-i) * time.Minute)
		name := fmt.Sprintf("CALLER %d", i)
		if i < len(names) {
			name = names[i]
		}
		e.App.Arrive(fmt.Sprintf("c%02d", i), fmt.Sprintf("+1415555%04d", i), name)
	}
	at(0)
	must := func(_ queue.Call, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.App.Callback("c11")
	must(e.App.Promote(ctx, "morning", "c00", actor))
	must(e.App.Promote(ctx, "morning", "c01", actor))
	must(e.App.Lock("morning", "c00", actor))
	must(e.App.Mute(ctx, "morning", "c01", actor))
	must(e.App.Ready(ctx, "morning", "c02", actor, queue.Notes{Name: "James", Location: "Evanston", Topic: "Transit fare increase, and why the 22 bus never comes on time", Priority: 2}))
	must(e.App.Ready(ctx, "morning", "c03", actor, queue.Notes{Name: "Priya", Location: "Portland", Topic: "School board vote"}))
	must(e.App.Ready(ctx, "morning", "c04", actor, queue.Notes{Location: "Aurora", Topic: "Wildfire smoke"}))
	must(e.App.PickNext("morning", "c03", actor))
	e.App.Confirm("c03")
	must(e.App.Screen(ctx, "morning", "c06", actor, "sam"))
	e.App.SetBlocked("+14155550005", true, "abusive on air", actor)
	for _, n := range []queue.CallerNotes{
		{Number: "+14155550000", Topic: "Regular: transit", Notes: "Knows the mayor's schedule; keep it short.", Rating: 4},
		{Number: "+14155550007", Notes: "Swore on air last month.", DoNotAir: true},
		{Number: "+14155550008", Topic: "Contest", Rating: 5, ContestWinner: true},
	} {
		if _, err := e.Notes.WriteCallerNotes(ctx, n, "dana"); err != nil {
			t.Fatal(err)
		}
	}
	e.Hist.ProfileFn = func(n string) (queue.Profile, error) {
		return queue.Profile{Number: n, Calls: 3, OnAir: 1, LastCall: start.AddDate(0, 0, -9)}, nil
	}
}

// shown waits until every listed caller's history badge is shown: the
// page as it stays.
func shown(ctx context.Context) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const rows = document.querySelectorAll("[data-testid=caller-row], [data-testid=onair-row]");
		return rows.length > 0 && [...rows].every(r => r.querySelector("[data-testid=badge]"));
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	return err
}

func TestBrowserLayouts(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	busyShow(t, e)
	login(t, ctx, e, "producer")
	pages := []struct {
		name, path string
		ready      func(context.Context) error
	}{
		{"show", "/shows/morning", shown},
		{"host", "/shows/morning/host", func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=host-next]`)))
		}},
		{"caller", "/callers/+14155550007", func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=notes-form]`)))
		}},
		{"report", "/shows/morning/report?from=2025-11-01&to=2025-11-26", func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=chart-outcomes]`)))
		}},
	}
	for _, sc := range screens {
		for _, pg := range pages {
			for _, dark := range []bool{false, true} {
				theme := "light"
				if dark {
					theme = "dark"
				}
				t.Run(sc.name+"/"+pg.name+"/"+theme, func(t *testing.T) {
					if err := chromedp.Do(ctx, chromedp.EmulateViewport(sc.w, sc.h), colorScheme(theme),
						chromedp.Navigate(e.TS.URL+pg.path)); err != nil {
						t.Fatal(err)
					}
					if err := pg.ready(ctx); err != nil {
						t.Fatalf("the page did not come: %v", err)
					}
					if problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](layoutJS)); err != nil || len(problems) > 0 {
						t.Fatalf("%v\n%s", err, strings.Join(problems, "\n"))
					}
					if pg.name != "show" {
						return
					}
					// A row's menu and the on-air area's, open, stay inside
					// the window too (one open at a time).
					for _, m := range []struct{ summary, item string }{
						{`#waiting [data-testid=row-menu] summary`, `#waiting details[open] [data-testid=act-promote]`},
						{`[data-testid=air-menu] summary`, `[data-testid=air-menu][open] [data-testid=hold-air]`},
					} {
						openMenu(t, ctx, m.summary, m.item)
						// The other menu closes on the toggle event, a moment later.
						if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("details.menu[open]").length === 1`,
							chromedp.WithPollingTimeout(2*time.Second))); err != nil {
							t.Fatalf("%s: more than one menu stays open: %v", m.summary, err)
						}
						problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
							const open = document.querySelectorAll("details.menu[open]");
							if (open.length !== 1) return [open.length + " menus open"];
							const r = open[0].querySelector(".menu-list").getBoundingClientRect();
							return r.left < 0 || r.right > document.documentElement.clientWidth ? ["the open menu leaves the window: " + r.left + "–" + r.right] : [];
						})()`))
						if err != nil || len(problems) > 0 {
							t.Fatalf("%s: %v %v", m.summary, err, problems)
						}
					}
				})
			}
		}
	}
}

// colorScheme makes the page see the system's light or dark setting.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}

//go:embed testdata/axe.min.js
var axeJS string

// axeRun runs axe-core (vendored from the npm registry by web/console/vendor.sh)
// on the page and returns its serious and critical violations, described.
const axeRun = `(async () => {
	const res = await axe.run(document, {resultTypes: ["violations"]});
	return res.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
		v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 4).map(n => n.target.join(" ") + " (" + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 160) + ")").join("; "));
})()`

func TestBrowserAccessibility(t *testing.T) {
	if os.Getenv("CALLIN_SKIP_AXE") != "" {
		t.Skip("CALLIN_SKIP_AXE is set")
	}
	ctx := browser(t)
	e := webenv.New(t)
	busyShow(t, e)
	login(t, ctx, e, "producer")
	pages := []struct{ name, path, ready string }{
		{"show", "/shows/morning", ""},
		{"host", "/shows/morning/host", `[data-testid=host-next]`},
		{"caller", "/callers/+14155550000", `[data-testid=notes-form]`},
		{"report", "/shows/morning/report?day=2025-11-26", `[data-testid=chart-outcomes]`},
		{"search", "/callers?q=555", `[data-testid=search-form]`},
	}
	for _, pg := range pages {
		for _, theme := range []string{"light", "dark"} {
			t.Run(pg.name+"/"+theme, func(t *testing.T) {
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), colorScheme(theme), chromedp.Navigate(e.TS.URL+pg.path)); err != nil {
					t.Fatal(err)
				}
				var err error
				if pg.ready == "" {
					err = shown(ctx)
				} else {
					err = chromedp.Do(ctx, chromedp.WaitVisible("", css(pg.ready)))
				}
				if err != nil {
					t.Fatalf("the page did not come: %v", err)
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
			})
		}
	}
}

// TestBrowserLineStaysPut: the line does not move under the producer's
// pointer as callers go on air and come off it. The on-air area keeps one
// row of cards' height with nobody on air, so the first one, and a second
// beside it where the window is wide enough for two cards, leave the line
// where it was (a card with long notes may still make its row taller).
func TestBrowserLineStaysPut(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	for i := range 6 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+1555000%04d", i), fmt.Sprintf("Caller %d", i))
	}
	login(t, ctx, e, "producer")
	actor := queue.Actor{Kind: queue.ActorUser, Name: "pat"}
	for _, sc := range []struct {
		name  string
		w, h  int64
		cards int // on-air cards side by side at this width
	}{{"laptop", 1366, 768, 2}, {"desktop", 1920, 1080, 2}, {"tablet", 820, 1180, 1}} {
		t.Run(sc.name, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(sc.w, sc.h), chromedp.Navigate(e.TS.URL+"/shows/morning")); err != nil {
				t.Fatal(err)
			}
			var tops []float64
			for on := 0; on <= sc.cards; on++ {
				if on > 0 {
					if _, err := e.App.Promote(t.Context(), "morning", fmt.Sprintf("c%d", on-1), actor); err != nil {
						t.Fatal(err)
					}
				}
				top, err := chromedp.Run(ctx, chromedp.Poll[float64](fmt.Sprintf(`(() => {
					if (document.querySelectorAll("[data-testid=onair-row]").length !== %d) return 0;
					return document.getElementById("h-waiting").getBoundingClientRect().top + window.scrollY;
				})()`, on), chromedp.WithPollingTimeout(5*time.Second)))
				if err != nil {
					t.Fatalf("%d on air: %v", on, err)
				}
				tops = append(tops, top)
			}
			for i, top := range tops {
				if top != tops[0] {
					t.Errorf("the waiting line starts at %v px with %d on air, %v px with nobody: it moved", top, i, tops[0])
				}
			}
			for i := range sc.cards { // back to nobody on air for the next size
				if _, err := e.App.Hold(t.Context(), "morning", fmt.Sprintf("c%d", i), actor); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// openMenu clicks a menu's summary until its item shows, three tries of
// 5 s each, and logs a retry: once in .ci/run (2026-12-08) the on-air
// menu's item never showed within the test's minute after one click at
// the tablet size, cause not found (a live update's morph keeps "open").
// This test is about where an open menu lies; keeping a menu open across
// updates is TestBrowserUpdatesKeepState's.
func openMenu(t *testing.T, ctx context.Context, summary, item string) {
	t.Helper()
	var err error
	for try := 1; try <= 3; try++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = chromedp.Do(tctx, chromedp.Click("", css(summary)), chromedp.WaitVisible("", css(item)))
		cancel()
		if err == nil {
			if try > 1 {
				t.Logf("%s: its item showed at try %d", summary, try)
			}
			return
		}
	}
	t.Fatalf("%s: %v", summary, err)
}
