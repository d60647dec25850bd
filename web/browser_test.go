package web

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
	e := newEnv(t)

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
		chromedp.Navigate(e.ts.URL+"/shows/morning"),
		chromedp.WaitVisible("", css(`[data-testid=login-form]`)),
		chromedp.SendKeys(`[data-testid=login-user]`, "producer"),
		chromedp.SendKeys(`[data-testid=login-password]`, "secret"),
		chromedp.Click("", css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible("", css(`[data-testid=waiting-list]`)),
	)
	// Confirm dialogs (drop) say yes; an alert would mean a hostile name ran
	// as script, so it is counted. Stubs instead of real dialogs keep the
	// page from blocking on them.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = () => true; window.alerts = 0; window.alert = () => { window.alerts++ }; `+
		`window.csp = []; document.addEventListener("securitypolicyviolation", e => window.csp.push(e.violatedDirective + " " + e.blockedURI)); true`)); err != nil {
		t.Fatal(err)
	}

	e.app.arrive("c1", "+15550001", hostile)
	// The history badge comes in a render of its own: wait for it so that
	// no re-render replaces a button between finding and clicking it.
	run("see a caller arrive live", chromedp.WaitVisible("", css(row("waiting-list", "c1")+` [data-testid=badge]`)))
	name := text("read the name", row("waiting-list", "c1")+` [data-testid=name]`)
	if name != hostile {
		t.Fatalf("name shown as %q, want the literal text %q", name, hostile)
	}

	run("promote them and see them on air",
		settled(), chromedp.Click("", css(row("waiting-list", "c1")+` [data-testid=act-promote]`)),
		chromedp.WaitVisible("", css(row("onair-list", "c1"))),
		chromedp.WaitNotPresent("", css(row("waiting-list", "c1"))),
		chromedp.WaitVisible("", css(`#flash p.ok`)),
	)

	run("drop them",
		settled(), chromedp.Click("", css(row("onair-list", "c1")+` [data-testid=act-drop]`)),
		chromedp.WaitNotPresent("", css(row("onair-list", "c1"))),
		chromedp.WaitVisible("", css(`#flash p.ok`)),
	)

	e.app.arrive("c2", "+15550002", "Bob")
	run("wait for the second caller", chromedp.WaitVisible("", css(row("waiting-list", "c2")+` [data-testid=badge]`)))
	var tries atomic.Int32
	e.app.ActFn = func(string, string) error { tries.Add(1); return fmt.Errorf("x: %w", queue.ErrBusy) }
	if err := chromedp.Do(ctx,
		settled(), chromedp.Click("", css(row("waiting-list", "c2")+` [data-testid=act-promote]`)),
		chromedp.WaitVisible("", css(`#flash p.err`)),
	); err != nil {
		t.Fatalf("lose a race: %v (the server was asked %d times)", err, tries.Load())
	}
	msg, err := chromedp.Run(ctx, chromedp.Text("", css(`#flash p.err`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "someone else") {
		t.Fatalf("flash says %q, want a lost-race message", msg)
	}
	e.app.ActFn = nil

	run("take next with the n key",
		chromedp.KeyEvent("n"),
		chromedp.WaitVisible("", css(row("onair-list", "c2"))),
	)
	e.app.arrive("c3", "+15550003", "Carol")
	run("mark ready from the keyboard",
		chromedp.WaitVisible("", css(row("waiting-list", "c3")+` [data-testid=badge]`)), settled(),
		chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), // c2 on air, then c3
		chromedp.WaitVisible("", css(row("waiting-list", "c3")+`.selected`)),
		chromedp.KeyEvent("r"),
		chromedp.WaitVisible("", css(`[data-testid=ready-dialog] input[name=topic]`)),
		chromedp.SendKeys(`[data-testid=ready-dialog] input[name=topic]`, "potholes"),
		chromedp.Click("", css(`[data-testid=ready-submit]`)),
		chromedp.WaitVisible("", css(row("next-list", "c3")+` [data-testid=notes]`)),
	)
	if topic := text("read the topic", row("next-list", "c3")+` .topic`); topic != "potholes" {
		t.Fatalf("topic %q, want potholes", topic)
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
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", violations)
	}
	alerts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.alerts`))
	if err != nil {
		t.Fatal(err)
	}
	if n := alerts; n != 0 {
		t.Fatalf("%d alert dialogs: a hostile name ran as script", n)
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
