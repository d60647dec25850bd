package web

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/queue"
	"github.com/chromedp/chromedp"
)

// TestScreenshot renders the console with a dozen callers through the real
// handler and saves a 1400x900 PNG of it, for the README:
//
//	CALLIN_SCREENSHOT=$PWD/docs/console.png go test -run TestScreenshot ./web/
func TestScreenshot(t *testing.T) {
	out := os.Getenv("CALLIN_SCREENSHOT")
	if out == "" {
		t.Skip("set CALLIN_SCREENSHOT to the PNG to write")
	}
	ctx := browser(t)
	e := newEnv(t)
	now := time.Now()
	profiles := map[string]postgres.Profile{
		"+14155550134": {Calls: 7, OnAir: 3, LastCall: now.AddDate(0, 0, -9), Notes: "regular; keep it short"},
		"+13125550188": {Calls: 2, OnAir: 1, LastCall: now.AddDate(0, -2, 0)},
		"+12065550142": {Calls: 4, LastCall: now.AddDate(0, 0, -1), Blocked: true},
		"+16175550101": {Calls: 3, OnAir: 2, LastCall: now.AddDate(0, 0, -30)},
	}
	e.hist.ProfileFn = func(n string) (postgres.Profile, error) {
		p := profiles[n]
		p.Number = n
		if p.Calls == 0 {
			p.Calls = 1
		}
		return p, nil
	}
	callers := []struct {
		id, number, name string
		ago              time.Duration
	}{
		{"c01", "+14155550134", "MARIA GONZALEZ", 31 * time.Minute},
		{"c02", "+16175550101", "D OKAFOR", 27 * time.Minute},
		{"c03", "+13125550188", "JAMES WRIGHT", 22 * time.Minute},
		{"c04", "+15035550176", "PRIYA NAIR", 19 * time.Minute},
		{"c05", "+17205550119", "WIRELESS CALLER", 17 * time.Minute},
		{"c06", "+12065550142", "T BECKER", 14 * time.Minute},
		{"c07", "+19175550163", "ANNA LINDQVIST", 11 * time.Minute},
		{"c08", "+14045550127", "ROBERT CHEN", 9 * time.Minute},
		{"c09", "+16125550190", "SAM HOLLOWAY", 6 * time.Minute},
		{"c10", "+15125550153", "LUCIA FERRARI", 4 * time.Minute},
		{"c11", "+18015550111", "KEVIN O'BRIEN", 2 * time.Minute},
		{"c12", "+13035550177", "NOOR HADDAD", 40 * time.Second},
	}
	for _, c := range callers {
		e.app.mu.Lock()
		e.app.now = now.Add(-c.ago)
		e.app.mu.Unlock()
		e.app.arrive(c.id, c.number, c.name)
	}
	e.app.mu.Lock()
	e.app.now = now
	e.app.title = "Morning Call-In"
	e.app.recording = true
	e.app.talking = []string{"c01"}
	e.app.mu.Unlock()

	ctxb := t.Context()
	actor := queue.Actor{Kind: queue.ActorUser, Name: "dana"}
	must := func(_ queue.Call, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	at := func(ago time.Duration) {
		e.app.mu.Lock()
		e.app.now = now.Add(-ago)
		e.app.mu.Unlock()
	}
	at(6 * time.Minute)
	must(e.app.Promote(ctxb, "morning", "c01", actor))
	at(150 * time.Second)
	must(e.app.Promote(ctxb, "morning", "c02", actor))
	at(0)
	must(e.app.Mute(ctxb, "morning", "c02", actor))
	must(e.app.Ready(ctxb, "morning", "c03", actor, queue.Notes{Name: "James", Location: "Evanston", Topic: "Transit fare increase", Priority: 2}))
	must(e.app.Ready(ctxb, "morning", "c04", actor, queue.Notes{Name: "Priya", Location: "Portland", Topic: "School board vote"}))
	must(e.app.Ready(ctxb, "morning", "c05", actor, queue.Notes{Name: "Luis", Location: "Aurora", Topic: "Wildfire smoke, asks about air filters"}))
	must(e.app.Screen(ctxb, "morning", "c07", actor, "sam"))
	for _, m := range []struct{ who, text string }{
		{"sam", "Luis has a good story about the filters, 2 min max"},
		{"dana", "Taking James after the break"},
		{"host", "Ok. Mute Okafor when I read the promo"},
	} {
		if _, err := e.chat.AddShowMessage(ctxb, "morning", m.who, m.text); err != nil {
			t.Fatal(err)
		}
	}

	login(t, ctx, e, "producer")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatal(err)
	}
	// Every row has its history badge and the chat is loaded.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("[data-testid=badge]").length === 12 &&
		document.querySelectorAll("[data-testid=chat-log] li").length === 3`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for badges and chat: %v", err)
	}
	if err := chromedp.Do(ctx, settled()); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
