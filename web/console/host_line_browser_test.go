package console_test

import (
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestBrowserHostLine: after Call host the host's line is a card like a
// caller's: ringing, then on air with its time on air (also in the host
// view and the API), muted and unmuted, and hung up from the console;
// then Call host is back (issue 23, point 6: the button only disappeared,
// nothing said the phone rang or was on air, nothing hung it up).
func TestBrowserHostLine(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "James")
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "producer")
	card := `[data-testid=onair-list] [data-testid=host-line][data-channel=host-line]`
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	step("call the host", chromedp.Click("", css(`[data-testid=control-call-host]`)),
		chromedp.WaitVisible("", css(card+`[data-state=ringing]`)))
	if !waitTextHas(ctx, card+` [data-testid=host-state]`, "Host · ringing") {
		t.Errorf("the ringing host line says %q", browserText(t, ctx, card+` [data-testid=host-state]`))
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=control-call-host]").length`)); err != nil || n != 0 {
		t.Errorf("Call host offered %d times while the host's phone rings (%v), want 0", n, err)
	}

	e.App.AnswerHost("host-line")
	step("the host answers", chromedp.WaitVisible("", css(card+`[data-state=on_air] [data-testid=host-timer]`)))
	if !waitTextHas(ctx, card+` [data-testid=host-state]`, "Host · on air") {
		t.Errorf("the host line on air says %q", browserText(t, ctx, card+` [data-testid=host-state]`))
	}
	step("mute the host", chromedp.Click("", css(card+` [data-testid=host-mute]`)),
		chromedp.WaitVisible("", css(card+` [data-testid=host-muted]`)),
		chromedp.WaitVisible("", css(card+` [data-testid=host-unmute]`)))
	if res, body := e.API(t, "GET", "/api/v1/shows/morning", "producer", ""); res.StatusCode != 200 {
		t.Errorf("GET show: %d", res.StatusCode)
	} else if hs, _ := body["host_lines"].([]any); len(hs) != 1 || hs[0].(map[string]any)["state"] != "on_air" || hs[0].(map[string]any)["muted"] != true {
		t.Errorf("the API's host_lines %v, want the host on air, muted", body["host_lines"])
	}

	step("the host view shows the line", chromedp.Navigate(e.TS.URL+"/shows/morning/host"),
		chromedp.WaitVisible("", css(card+`[data-state=on_air] [data-testid=host-muted]`)),
		chromedp.Navigate(e.TS.URL+"/shows/morning"),
		chromedp.WaitVisible("", css(card)))
	step("hang up the host", chromedp.Click("", css(card+` [data-testid=host-hangup]`)),
		chromedp.WaitVisible("", css(`[data-testid=confirm-dialog]`)),
		chromedp.Click("", css(`[data-testid=confirm-ok]`)),
		chromedp.WaitNotPresent("", css(card)),
		chromedp.WaitVisible("", css(`[data-testid=control-call-host]`)))
	if snap, _ := e.App.Snapshot("morning"); len(snap.Media.HostLines) != 0 {
		t.Errorf("host lines %+v after hanging up, want none", snap.Media.HostLines)
	}
}

// TestBrowserHostMutesThemselves: a signed-in host mutes and unmutes
// their own line from the host view (a cough key), and is offered no
// Hang up: that stays with those who may call the host.
func TestBrowserHostMutesThemselves(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	if _, err := e.App.JoinHost(t.Context(), "morning", ""); err != nil {
		t.Fatal(err)
	}
	e.App.AnswerHost("host-line")
	login(t, ctx, e, "host")
	card := `[data-testid=onair-list] [data-testid=host-line][data-channel=host-line]`
	if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+"/shows/morning/host"),
		chromedp.WaitVisible("", css(card+`[data-state=on_air] [data-testid=host-mute]`)),
		chromedp.Click("", css(card+` [data-testid=host-mute]`)),
		chromedp.WaitVisible("", css(card+` [data-testid=host-muted]`)),
		chromedp.Click("", css(card+` [data-testid=host-unmute]`)),
		chromedp.WaitNotPresent("", css(card+` [data-testid=host-muted]`)),
		chromedp.WaitVisible("", css(card+` [data-testid=host-mute]`)),
	); err != nil {
		t.Fatalf("the host mutes and unmutes their line: %v", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=host-hangup]").length`)); err != nil || n != 0 {
		t.Errorf("Hang up offered to the host %d times (%v), want 0", n, err)
	}
	if snap, _ := e.App.Snapshot("morning"); len(snap.Media.HostLines) != 1 || snap.Media.HostLines[0].Muted {
		t.Errorf("host lines %+v, want the host's line on air, unmuted", snap.Media.HostLines)
	}
}

// TestBrowserHostLineFailed: a host line Asterisk answered but did not put
// on air reads "Host · not on air" with why, offers Dismiss and no Mute or
// Hang up, and Call host is back beside it.
func TestBrowserHostLineFailed(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	if _, err := e.App.JoinHost(t.Context(), "morning", ""); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "producer")
	card := `[data-testid=onair-list] [data-testid=host-line][data-channel=host-line]`
	why := "Asterisk did not put the host's line on air; the line is hung up: press Call host to try again"
	e.App.FailHost("host-line", why)
	if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(card+`[data-state=failed] [data-testid=host-error]`)),
		chromedp.WaitVisible("", css(`[data-testid=control-call-host]`))); err != nil {
		t.Fatalf("the failed host line: %v", err)
	}
	if got := browserText(t, ctx, card+` [data-testid=host-state]`); !strings.Contains(strings.ToLower(got), "host · not on air") {
		t.Errorf("the failed host line says %q", got)
	}
	if got := browserText(t, ctx, card+` [data-testid=host-error]`); got != why {
		t.Errorf("the failed host line's error %q, want %q", got, why)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-testid=host-mute],[data-testid=host-hangup]").length`)); err != nil || n != 0 {
		t.Errorf("Mute or Hang up offered on a failed line %d times (%v), want 0", n, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("", css(card+` [data-testid=host-dismiss]`)),
		chromedp.WaitNotPresent("", css(card))); err != nil {
		t.Fatalf("dismiss the failed host line: %v", err)
	}
}
