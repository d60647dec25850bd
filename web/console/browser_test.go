package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium for a test, or skips it (fails under
// CI) when there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium not found at %s; CI must have it (apt-get install -y chromium)", path)
		}
		t.Skipf("chromium not found at %s: install it with 'apt-get install -y chromium' (or set CHROMIUM) to run browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelA := context.WithCancel(context.Background())
	actx, cancelE := chromedp.NewExecAllocator(actx, opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelE(); cancelA() })
	return ctx
}

func TestBrowserConsole(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(step, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text("", css(sel)))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return s
	}
	row := func(list, id string) string { return fmt.Sprintf(`[data-testid=%s] li[data-call=%q]`, list, id) }

	run("log in",
		chromedp.Navigate(e.TS.URL+"/shows/morning"),
		chromedp.WaitVisible("", css(`[data-testid=login-form]`)),
		chromedp.SendKeys(`[data-testid=login-user]`, "producer"),
		chromedp.SendKeys(`[data-testid=login-password]`, "secret"),
		chromedp.Click("", css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible("", css(`[data-testid=waiting-list]`)),
	)
	// An alert would mean a hostile name ran as script, so it is counted;
	// so is every Content-Security-Policy violation. The console asks its
	// questions in a dialog of its own, never window.confirm.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirms = 0; window.confirm = () => { window.confirms++; return true }; window.alerts = 0; window.alert = () => { window.alerts++ }; `+
		`window.csp = []; document.addEventListener("securitypolicyviolation", e => window.csp.push(e.violatedDirective + " " + e.blockedURI)); true`)); err != nil {
		t.Fatal(err)
	}
	if got := text("nobody on air", `[data-testid=onair-empty]`); !strings.Contains(got, "Nobody is on air") {
		t.Fatalf("the on-air area with nobody on air says %q", got)
	}

	e.App.Arrive("c1", "+15550001", webtest.Hostile)
	// The history badge comes in a render of its own: wait for it, so the
	// test sees the row as it stays.
	run("see a caller arrive live", chromedp.WaitVisible("", css(row("waiting-list", "c1")+` [data-testid=badge]`)))
	name := text("read the name", row("waiting-list", "c1")+` [data-testid=name]`)
	if name != webtest.Hostile {
		t.Fatalf("name shown as %q, want the literal text %q", name, webtest.Hostile)
	}
	if got := text("the state mark", row("waiting-list", "c1")+` [data-testid=state]`); got != "On hold" {
		t.Fatalf("state mark %q, want On hold", got)
	}

	run("put them on air from the row's menu",
		chromedp.Click("", css(row("waiting-list", "c1")+` [data-testid=row-menu] summary`)),
		chromedp.WaitVisible("", css(row("waiting-list", "c1")+` [data-testid=act-promote]`)),
		chromedp.Click("", css(row("waiting-list", "c1")+` [data-testid=act-promote]`)),
		chromedp.WaitVisible("", css(row("onair-list", "c1"))),
		chromedp.WaitNotPresent("", css(row("waiting-list", "c1"))),
		chromedp.WaitVisible("", css(`#flash p.ok`)),
	)

	run("drop them, asked first",
		chromedp.Click("", css(row("onair-list", "c1")+` [data-testid=act-drop]`)),
		chromedp.WaitVisible("", css(`[data-testid=confirm-dialog]`)),
	)
	if q := text("the question", `[data-testid=confirm-dialog] [data-question]`); !strings.Contains(q, webtest.Hostile) || !strings.Contains(q, "+15550001") {
		t.Fatalf("the drop asks %q, want it to name the caller", q)
	}
	run("confirm the drop",
		chromedp.Click("", css(`[data-testid=confirm-ok]`)),
		chromedp.WaitNotPresent("", css(row("onair-list", "c1"))),
		chromedp.WaitVisible("", css(`[data-testid=onair-empty]`)),
	)

	e.App.Arrive("c2", "+15550002", "Bob")
	run("wait for the second caller", chromedp.WaitVisible("", css(row("waiting-list", "c2")+` [data-testid=badge]`)))
	var tries atomic.Int32
	e.App.ActFn = func(string, string) error { tries.Add(1); return fmt.Errorf("x: %w", queue.ErrBusy) }
	if err := chromedp.Do(ctx,
		chromedp.Click("", css(row("waiting-list", "c2")+` button.primary`)),
		chromedp.WaitVisible("", css(`#flash p.err`)),
	); err != nil {
		t.Fatalf("lose a race: %v (the server was asked %d times)", err, tries.Load())
	}
	if msg := text("the flash", `#flash p.err`); !strings.Contains(msg, "someone else") {
		t.Fatalf("flash says %q, want a lost-race message", msg)
	}
	e.App.ActFn = nil

	if who := text("take next names who", `[data-testid=take-next-who]`); who != "Bob" {
		t.Fatalf("Take next names %q, want Bob", who)
	}
	run("take next with the n key",
		chromedp.KeyEvent("n"),
		chromedp.WaitVisible("", css(row("onair-list", "c2"))),
	)
	e.App.Arrive("c3", "+15550003", "Carol")
	run("mark ready from the keyboard",
		chromedp.WaitVisible("", css(row("waiting-list", "c3")+` [data-testid=badge]`)),
		chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), // c2 on air, then c3
		chromedp.WaitVisible("", css(row("waiting-list", "c3")+`[aria-current=true]`)),
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible("", css(`[data-testid=ready-dialog] input[name=topic]`)),
	)
	if who := text("the ready dialog", `[data-testid=ready-who]`); who != "Carol (+15550003)" {
		t.Fatalf("the ready dialog is for %q, want Carol (+15550003)", who)
	}
	run("send the ready dialog",
		chromedp.SendKeys(`[data-testid=ready-dialog] input[name=topic]`, "potholes"),
		chromedp.Click("", css(`[data-testid=ready-submit]`)),
		chromedp.WaitVisible("", css(row("next-list", "c3")+` [data-testid=topic]`)),
	)
	if topic := text("read the topic", row("next-list", "c3")+` [data-testid=topic]`); topic != "potholes" {
		t.Fatalf("topic %q, want potholes", topic)
	}
	if got := text("the ready mark", row("next-list", "c3")+` [data-testid=state]`); got != "Ready" {
		t.Fatalf("state mark %q, want Ready", got)
	}
	run("the selection outlives the move", chromedp.WaitVisible("", css(row("next-list", "c3")+`[aria-current=true]`)))
	// The same dialog edits a ready caller's notes (w), filled with them,
	// and the caller stays ready.
	run("edit the notes from the keyboard",
		chromedp.KeyEvent("w"),
		chromedp.WaitVisible("", css(`[data-testid=ready-dialog] input[name=topic]`)),
	)
	if title, topic := text("the dialog's title", `#ready-title [data-title]`), text("its button", `[data-testid=ready-submit]`); title != "Screener notes" || topic != "Save notes" {
		t.Fatalf("the notes dialog says %q / %q", title, topic)
	}
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=ready-dialog] input[name=topic]").value`)); err != nil || v != "potholes" {
		t.Fatalf("topic field %q, %v; want the notes as they are", v, err)
	}
	run("save new notes",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=ready-dialog] input[name=topic]").value = ""`),
		chromedp.SendKeys(`[data-testid=ready-dialog] input[name=topic]`, "bus lanes"),
		chromedp.Click("", css(`[data-testid=ready-submit]`)),
		chromedp.WaitVisible("", css(row("next-list", "c3")+`[data-n-topic="bus lanes"]`)),
	)
	if got := text("the ready mark", row("next-list", "c3")+` [data-testid=state]`); got != "Ready" {
		t.Fatalf("state mark %q after editing the notes, want Ready", got)
	}
	// The chat form empties once sent (console.js: no inline script runs
	// under the page's Content-Security-Policy).
	run("send a chat message",
		chromedp.SendKeys(`[data-testid=chat-input]`, "back in five"),
		chromedp.Click("", css(`[data-testid=chat-form] button`)),
		chromedp.WaitVisible("", css(`[data-testid=chat-log] li`)),
	)
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=chat-input]").value`)); err != nil || v != "" {
		t.Errorf("chat input after sending: %q, %v; want it emptied", v, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[window.alerts, window.confirms]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 0 {
		t.Fatalf("%d alert dialogs: a webtest.Hostile name ran as script", got[0])
	}
	if got[1] != 0 {
		t.Errorf("%d window.confirm calls: the console must ask in its own dialog", got[1])
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", violations)
	}
}

// settled waits until htmx has finished swapping: a button inserted by an
// SSE swap gets its hx-post handler only when the swap settles, so a click
// before that would do nothing.
func settled() chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotPresent("", css(".htmx-swapping, .htmx-settling, .htmx-added"))
}

// css looks elements up with querySelectorAll: always the live DOM, where
// the default search may still see an element htmx has just replaced.
func css(sel string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, dom.QuerySelectorAll, dom.QuerySelectorAllParams{NodeID: n.NodeID, Selector: sel})
		return res.NodeIDs, err
	})
}
