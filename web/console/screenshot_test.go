package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// TestScreenshot renders the console of a busy hour through the real
// handler and saves the README's pictures: the show page light and dark
// (the host's line on air, a producer's live talkback), the host view and
// the report:
//
//	CALLIN_SCREENSHOTS=$PWD/docs go test -run TestScreenshot ./web/console/
func TestScreenshot(t *testing.T) {
	dir := os.Getenv("CALLIN_SCREENSHOTS")
	if dir == "" {
		t.Skip("set CALLIN_SCREENSHOTS to the folder to write the PNGs to")
	}
	ctx := browser(t)
	e := webenv.New(t)
	now := time.Now()
	profiles := map[string]queue.Profile{
		"+14155550134": {Calls: 7, OnAir: 3, LastCall: now.AddDate(0, 0, -9)},
		"+13125550188": {Calls: 2, OnAir: 1, LastCall: now.AddDate(0, -2, 0)},
		"+12065550142": {Calls: 4, LastCall: now.AddDate(0, 0, -1)},
		"+16175550101": {Calls: 3, OnAir: 2, LastCall: now.AddDate(0, 0, -30)},
	}
	e.Hist.ProfileFn = func(n string) (queue.Profile, error) {
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
		{"c05", "+17205550119", "", 17 * time.Minute},
		{"c06", "+12065550142", "T BECKER", 14 * time.Minute},
		{"c07", "+19175550163", "ANNA LINDQVIST", 11 * time.Minute},
		{"c08", "+14045550127", "ROBERT CHEN", 9 * time.Minute},
		{"c09", "+16125550190", "SAM HOLLOWAY", 6 * time.Minute},
		{"c10", "+15125550153", "LUCIA FERRARI", 4 * time.Minute},
		{"c11", "+18015550111", "KEVIN O'BRIEN", 2 * time.Minute},
		{"c12", "+13035550177", "NOOR HADDAD", 40 * time.Second},
	}
	at := func(ago time.Duration) {
		e.App.Mu.Lock()
		e.App.Now = now.Add(-ago)
		e.App.Mu.Unlock()
	}
	for _, c := range callers {
		at(c.ago)
		e.App.Arrive(c.id, c.number, c.name)
	}
	at(0)
	e.App.Mu.Lock()
	e.App.Title = "Morning Call-In"
	e.App.Recording = true
	e.App.Talking = []string{"c01"}
	e.App.Mu.Unlock()

	ctxb := t.Context()
	actor := queue.Actor{Kind: queue.ActorUser, Name: "dana"}
	must := func(_ queue.Call, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.App.Callback("c08")
	at(8 * time.Minute)
	must(e.App.Ready(ctxb, "morning", "c01", actor, queue.Notes{Name: "Maria", Location: "Oakland", Topic: "Rent control ballot measure"}))
	must(e.App.Promote(ctxb, "morning", "c01", actor))
	at(150 * time.Second)
	must(e.App.Promote(ctxb, "morning", "c02", actor))
	at(0)
	must(e.App.Mute(ctxb, "morning", "c02", actor))
	// The host on air since 12 minutes, and dana's live talkback to the
	// callers on hold (issue 23: both in words on the console and host view).
	at(12 * time.Minute)
	if _, err := e.App.JoinHost(ctxb, "morning", ""); err != nil {
		t.Fatal(err)
	}
	e.App.AnswerHost("host-line")
	at(0)
	e.App.Mu.Lock()
	e.App.Media.Talkback, e.App.Media.TalkbackLine, e.App.Media.TalkbackBy = true, "callin-talkback-1", "dana"
	e.App.Media.TalkbackBridges, e.App.Media.HoldBridges = 1, 1
	e.App.Mu.Unlock()
	must(e.App.Lock("morning", "c01", actor))
	must(e.App.Ready(ctxb, "morning", "c03", actor, queue.Notes{Name: "James", Location: "Evanston", Topic: "Transit fare increase", Priority: 2}))
	must(e.App.Ready(ctxb, "morning", "c04", actor, queue.Notes{Name: "Priya", Location: "Portland", Topic: "School board vote"}))
	must(e.App.Ready(ctxb, "morning", "c05", actor, queue.Notes{Location: "Aurora", Topic: "Wildfire smoke, asks about air filters"}))
	must(e.App.PickNext("morning", "c04", actor))
	e.App.Confirm("c04")
	must(e.App.Screen(ctxb, "morning", "c07", actor, "sam"))
	e.App.SetBlocked("+12065550142", true, "abusive to the screener", actor)
	for _, n := range []queue.CallerNotes{
		{Number: "+14155550134", Topic: "Housing", Notes: "Regular since 2019. Knows the tenants' union; keep it under 3 minutes.", Rating: 4},
		{Number: "+13125550188", Rating: 3},
		{Number: "+16125550190", Notes: "Won the concert tickets last week.", ContestWinner: true},
		{Number: "+15125550153", Notes: "Hung up on the host twice.", DoNotAir: true},
	} {
		if _, err := e.Notes.WriteCallerNotes(ctxb, n, "sam"); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []struct{ who, role, text string }{
		{"sam", "screener", "Priya pressed 1, she is good to go"},
		{"dana", "producer", "Taking James after the break"},
		{"alex", "host", "Ok. Mute Okafor when I read the promo"},
	} {
		req, _ := http.NewRequest("POST", e.TS.URL+"/shows/morning/chat", strings.NewReader("text="+url.QueryEscape(m.text)))
		req.AddCookie(&http.Cookie{Name: "session", Value: m.who + ":" + m.role})
		req.Header.Set("X-CSRF-Token", "csrf-"+m.who)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("chat: %v %v", res, err)
		}
		res.Body.Close()
	}
	reportCalls(e, now)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	login(t, ctx, e, "producer")
	shot := func(name string, w, h int64, scheme, path string, ready func(context.Context) error) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), colorScheme(scheme), chromedp.Navigate(e.TS.URL+path)); err != nil {
			t.Fatal(err)
		}
		if err := ready(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The timers tick once, so they show their time.
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll("[data-since]")].every(el => el.textContent.includes(":"))`,
			chromedp.WithPollingTimeout(5*time.Second))); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, name)
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, len(png))
	}
	console := func(ctx context.Context) error {
		if err := shown(ctx); err != nil {
			return err
		}
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("[data-testid=chat-log] li").length === 3`,
			chromedp.WithPollingTimeout(5*time.Second)))
		return err
	}
	shot("console.png", 1440, 960, "light", "/shows/morning", console)
	shot("console-dark.png", 1440, 960, "dark", "/shows/morning", console)
	shot("console-tablet.png", 820, 1180, "light", "/shows/morning", console)
	shot("host.png", 1366, 768, "dark", "/shows/morning/host", func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=host-next]`)))
	})
	shot("report.png", 1366, 1000, "light", fmt.Sprintf("/shows/morning/report?from=%s&to=%s",
		now.AddDate(0, 0, -13).Format("2006-01-02"), now.Format("2006-01-02")), func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.WaitVisible("", css(`[data-testid=chart-outcomes]`)))
	})
}

// reportCalls gives the fake history two weeks of a show's calls, for the
// report's picture.
func reportCalls(e *webenv.Env, now time.Time) {
	var calls []queue.CallRecord
	outcomes := []queue.Outcome{queue.OutcomeAired, queue.OutcomeAbandoned, queue.OutcomeAbandoned, queue.OutcomeDropped,
		queue.OutcomeAired, queue.OutcomeRejected, queue.OutcomeAbandoned, queue.OutcomeUnreached}
	day0 := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()).AddDate(0, 0, -13)
	for d := range 14 {
		if wd := day0.AddDate(0, 0, d).Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for i := range 40 + (d*17)%35 {
			at := day0.AddDate(0, 0, d).Add(6*time.Hour + time.Duration(i*(d+7)%240)*time.Minute)
			wait := time.Duration((i*37+d*11)%1500) * time.Second
			o := outcomes[(i+d)%len(outcomes)]
			c := queue.CallRecord{ID: fmt.Sprint(d, "-", i), Show: "morning", ArrivedAt: at, AnsweredAt: at, Outcome: o}
			if o == queue.OutcomeAired {
				c.OnAirAt = at.Add(wait)
			}
			c.EndedAt = at.Add(wait + 3*time.Minute)
			calls = append(calls, c)
		}
	}
	e.Hist.ShowCallsInFn = func(_ string, from, to time.Time) ([]queue.CallRecord, error) {
		var out []queue.CallRecord
		for _, c := range calls {
			if !c.ArrivedAt.Before(from) && c.ArrivedAt.Before(to) {
				out = append(out, c)
			}
		}
		return out, nil
	}
}
