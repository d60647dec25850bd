package console_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// Tests of the console of issue 13 that need no browser: the host view,
// caller notes, blocking in place, call-back entries, a screening on a phone.

func TestHostView(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Ready(t.Context(), "morning", "c2", queue.Actor{}, queue.Notes{Name: "Bobby", Location: "Leeds", Topic: webtest.Hostile}); err != nil {
		t.Fatal(err)
	}
	t.Run("Host", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/shows/morning/host", "host", "", false)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		for _, want := range []string{`data-testid="host-view"`, `data-testid="take-next"`, `data-testid="act-mute"`,
			`data-testid="act-lock"`, `data-testid="act-drop"`, `data-testid="host-next"`, "Bobby", "Leeds", "&lt;script&gt;",
			`sse-connect="/shows/morning/live?view=host"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the host view lacks %s", want)
			}
		}
		for _, gone := range []string{`act-screen`, `act-promote`, `act-hold`, `row-menu`, webtest.Hostile} {
			if strings.Contains(body, gone) {
				t.Errorf("the host view shows %s", gone)
			}
		}
	})
	t.Run("ScreenerSeesNoHostActions", func(t *testing.T) {
		_, body := e.Console(t, "GET", "/shows/morning/host", "screener", "", false)
		for _, gone := range []string{`data-testid="take-next"`, `data-testid="act-mute"`, `data-testid="act-drop"`} {
			if strings.Contains(body, gone) {
				t.Errorf("a screener's host view shows %s", gone)
			}
		}
	})
	t.Run("Live", func(t *testing.T) {
		s := webtest.OpenSSE(t, e.LiveRequestView(t, "host", "host"))
		s.Next(t, webtest.Named("hostair", "c1"))
		s.Next(t, webtest.Named("hostnext", "Bobby"))
		if _, err := e.App.Mute(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
			t.Fatal(err)
		}
		ev := s.Next(t, webtest.Named("hostair", `data-testid="act-unmute"`))
		if strings.Contains(ev.Data, webtest.Hostile) {
			t.Fatal("unescaped text in the host view")
		}
		// The consoles' own fragments are not sent to a host view.
		e.App.Arrive("c3", "+15550003", "Cy")
		got := s.Next(t, func(ev webtest.Event) bool { return ev.Name != "" && ev.Name != "hostair" })
		if got.Name != "hosthead" && got.Name != "hostnext" {
			t.Fatalf("a host view got %q", got.Name)
		}
	})
}

func TestCallerNotesInTheConsole(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c1", "+1 555 0001", "Ann")
	s := webtest.OpenSSE(t, e.LiveRequest(t, "producer"))
	s.Next(t, webtest.Named("waiting", "c1"))

	t.Run("Dialog", func(t *testing.T) {
		res, body := e.Console(t, "GET", "/callers/+15550001/notes?show=morning&call=c1", "screener", "", true)
		if res.StatusCode != 200 || !strings.Contains(body, `data-testid="notes-who">Ann (+1 555 0001)<`) ||
			!strings.Contains(body, `name="call" value="c1"`) {
			t.Fatalf("dialog: %d %s", res.StatusCode, body)
		}
	})
	t.Run("SaveFromTheRow", func(t *testing.T) {
		form := url.Values{"topic": {"potholes"}, "notes": {webtest.Hostile}, "rating": {"4"}, "do_not_air": {"1"}, "call": {"c1"}, "show": {"morning"}}
		res, body := e.Console(t, "POST", "/callers/+15550001/notes", "screener", form.Encode(), true)
		if res.StatusCode != 200 || !strings.Contains(body, "Notes saved") {
			t.Fatalf("save: %d %s", res.StatusCode, body)
		}
		n, _ := e.Notes.CallerNotes(t.Context(), "+15550001")
		if n.Topic != "potholes" || n.Notes != webtest.Hostile || n.Rating != 4 || !n.DoNotAir || n.ContestWinner || n.By != "screener" || n.CallID != "c1" {
			t.Fatalf("stored %+v", n)
		}
		// Every console shows them on the row at once.
		ev := s.Next(t, webtest.Named("rows", `data-testid="do-not-air"`))
		for _, want := range []string{"potholes", `aria-label="rated 4 of 5"`, "&lt;script&gt;", "do not air"} {
			if !strings.Contains(ev.Data, want) {
				t.Fatalf("the row lacks %q: %s", want, ev.Data)
			}
		}
		if strings.Contains(ev.Data, webtest.Hostile) {
			t.Fatal("unescaped notes")
		}
		// A do-not-air caller is asked about before going on air.
		_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
		if !strings.Contains(page, "is marked do not air. Put them on air anyway?") {
			t.Error("promoting a do-not-air caller asks nothing")
		}
	})
	t.Run("CallerPage", func(t *testing.T) {
		form := url.Values{"topic": {"rates"}, "rating": {"2"}, "contest_winner": {"1"}}
		res, body := e.Console(t, "POST", "/callers/+15550001/notes", "producer", form.Encode(), true, "HX-Target", "notes")
		if res.StatusCode != 200 || !strings.Contains(body, `data-testid="notes-panel"`) || !strings.Contains(body, `hx-swap-oob="true"`) ||
			!strings.Contains(body, `data-testid="notes-history"`) {
			t.Fatalf("from the caller page: %d %s", res.StatusCode, body)
		}
		_, page := e.Console(t, "GET", "/callers/+15550001", "producer", "", false)
		for _, want := range []string{`value="rates"`, `data-testid="notes-history"`, "potholes", "by screener"} {
			if !strings.Contains(page, want) {
				t.Errorf("the caller page lacks %q", want)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tc := range []struct{ form, field string }{
			{"rating=9", "rating"}, {"rating=x", "rating"}, {"topic=" + strings.Repeat("x", 201), "topic"},
			{"notes=" + url.QueryEscape("bell\a"), "notes"},
		} {
			res, body := e.Console(t, "POST", "/callers/+15550001/notes", "producer", tc.form, true, "HX-Target", "notes")
			if res.StatusCode != 422 || !strings.Contains(body, "Check "+tc.field) || res.Header.Get("HX-Retarget") != "#flash" {
				t.Errorf("%s: %d %s (retarget %q)", tc.form, res.StatusCode, body, res.Header.Get("HX-Retarget"))
			}
		}
		if res, _ := e.Console(t, "POST", "/callers/anonymous/notes", "producer", "topic=x", true); res.StatusCode != 422 {
			t.Errorf("notes of no number: %d", res.StatusCode)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		if res, _ := e.Console(t, "POST", "/callers/+15550001/notes", "host", "topic=x", true); res.StatusCode != 403 {
			t.Errorf("a host writing notes: %d, want 403", res.StatusCode)
		}
	})
	t.Run("ErrNoStore", func(t *testing.T) {
		e := webenv.New(t, func(c *core.Config) { c.Notes = nil })
		if res, _ := e.Console(t, "POST", "/callers/+15550001/notes", "producer", "topic=x", true); res.StatusCode != 404 {
			t.Errorf("without a notes store: %d, want 404", res.StatusCode)
		}
		e.App.Arrive("c1", "+15550001", "Ann")
		if _, page := e.Console(t, "GET", "/shows/morning", "producer", "", false); strings.Contains(page, `act-notes`) {
			t.Error("a console without a notes store offers to edit notes")
		}
	})
}

func TestBlockInPlace(t *testing.T) {
	e := webenv.New(t)
	blocked := false
	e.Hist.ProfileFn = func(n string) (queue.Profile, error) {
		return queue.Profile{Number: n, Calls: 1, Blocked: blocked, BlockedReason: "rude", BlockedBy: "producer"}, nil
	}
	e.Hist.BlockFn = func(_, _, _ string) error { blocked = true; return nil }
	e.Hist.UnblockFn = func(_, _ string) error { blocked = false; return nil }
	res, body := e.Console(t, "POST", "/callers/+15550001/block", "producer", "reason=rude", true)
	if res.StatusCode != 200 || !strings.Contains(body, `data-testid="block-section"`) || !strings.Contains(body, `pill blocked`) ||
		!strings.Contains(body, `data-testid="unblock"`) || !strings.Contains(body, "Blocked.") {
		t.Fatalf("block: %d %s", res.StatusCode, body)
	}
	res, body = e.Console(t, "POST", "/callers/+15550001/unblock", "producer", "", true)
	if res.StatusCode != 200 || !strings.Contains(body, `data-testid="caller-blocked">no`) || !strings.Contains(body, `data-testid="block"`) {
		t.Fatalf("unblock: %d %s", res.StatusCode, body)
	}
	res, body = e.Console(t, "POST", "/callers/+15550001/block", "producer", "reason=", true)
	if res.StatusCode != 422 || res.Header.Get("HX-Retarget") != "#flash" || strings.Contains(body, "block-section") {
		t.Fatalf("a block without a reason: %d %s", res.StatusCode, body)
	}
}

func TestCallbackEntriesInTheConsole(t *testing.T) {
	e := webenv.New(t)
	for i := range 3 {
		e.App.Arrive(fmt.Sprintf("c%d", i), fmt.Sprintf("+155500%02d", i), "Caller")
	}
	e.App.Callback("c1")
	_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	row := webenv.RowOf(page, "c1")
	for _, want := range []string{`data-mark="callback"`, "Call-back", `data-testid="act-callback_now"`, `data-testid="callback"`,
		"hung up to be called back", "Remove from line"} {
		if !strings.Contains(row, want) {
			t.Errorf("the call-back row lacks %q: %s", want, row)
		}
	}
	for _, gone := range []string{`act-screen`, `act-promote`, `act-drop-goodbye`} {
		if strings.Contains(row, gone) {
			t.Errorf("the call-back row offers %s", gone)
		}
	}
	if res, body := e.Console(t, "POST", "/shows/morning/callers/c1/callback-now", "producer", "", true); res.StatusCode != 200 || !strings.Contains(body, "Calling back") {
		t.Fatalf("call back now: %d %s", res.StatusCode, body)
	}
	if res, _ := e.Console(t, "POST", "/shows/morning/callers/c1/callback-now", "screener", "", true); res.StatusCode != 403 {
		t.Fatalf("a screener calling back: %d, want 403", res.StatusCode)
	}
}

// TestScreenOnPhone: a screen that rings a screener's phone answers at
// once, 202 on the API with the call still waiting and the screening
// pending, and the console's flash says whose phone rings; the API's event
// stream and the caller's row then say how it went, in a producer's words.
func TestScreenOnPhone(t *testing.T) {
	e := webenv.New(t)
	e.App.Phones = map[string]string{"sam": "PJSIP/sam", "screener": "PJSIP/screener1"}
	e.App.Arrive("c1", "+15550001", "James")
	e.App.Arrive("c2", "+15550002", "")
	s := webtest.OpenSSE(t, e.EventsRequest(t, ""))
	screening := func() api.ScreeningEvent {
		t.Helper()
		var sc api.ScreeningEvent
		if err := json.Unmarshal([]byte(s.Next(t, webtest.Named("screening")).Data), &sc); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	row := func(id string) string {
		t.Helper()
		_, page := e.Console(t, "GET", "/shows/morning", "producer", "", false)
		i := strings.Index(page, `data-call="`+id+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", id)
		}
		j := strings.Index(page[i:], "</li>")
		return page[i : i+j]
	}

	res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/screen", "producer", `{"screener":"sam"}`)
	if res.StatusCode != 202 || body["pending"] != "screen" || body["state"] != "waiting" {
		t.Fatalf("screen: %d %v, want 202 with the caller waiting and the screening pending", res.StatusCode, body)
	}
	if sc := screening(); sc.State != "ringing" || sc.CallID != "c1" || sc.Phone != "PJSIP/sam" ||
		sc.Message != "Ringing Sam's phone for James — James stays on hold until it is answered" {
		t.Fatalf("ringing event %+v", sc)
	}
	if r := row("c1"); !strings.Contains(r, "ringing Sam&#39;s phone…") {
		t.Errorf("the ringing caller's row does not say whose phone rings: %s", r)
	}
	e.App.PhoneFailed("c1", broadcast.ScreenBusy, 17, 2*time.Second)
	if sc := screening(); sc.State != "busy" || sc.Cause != 17 || sc.Message != "Sam's phone is busy — James is still on hold" {
		t.Fatalf("busy event %+v", sc)
	}
	if r := row("c1"); !strings.Contains(r, `data-testid="screening-note"`) || !strings.Contains(r, "Sam&#39;s phone was busy") ||
		strings.Contains(r, `data-testid="pending"`) {
		t.Errorf("the caller's row after a busy phone: %s", r)
	}

	// Screened again from the console: the flash says whose phone rings;
	// no answer after 20 s.
	res, page := e.Console(t, "POST", "/shows/morning/callers/c1/screen", "screener", "", true)
	if res.StatusCode != 200 || !strings.Contains(page, "Ringing Screener&#39;s phone for James") {
		t.Fatalf("console screen: %d %s", res.StatusCode, page)
	}
	if sc := screening(); sc.State != "ringing" || sc.Screener != "screener" {
		t.Fatalf("ringing event %+v", sc)
	}
	e.App.PhoneFailed("c1", broadcast.ScreenNoAnswer, 19, 20*time.Second)
	if sc := screening(); sc.Message != "No answer from Screener's phone after 20 s — James is still on hold" {
		t.Fatalf("no answer event %+v", sc)
	}
	if r := row("c1"); !strings.Contains(r, "No answer from Screener&#39;s phone (20 s)") {
		t.Errorf("the caller's row after no answer: %s", r)
	}

	// A caller without a name is named by number; answered, the screening
	// is the call's state and the row's news is gone.
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/callers/c2/screen", "producer", `{"screener":"sam"}`); res.StatusCode != 202 {
		t.Fatalf("screen c2: %d", res.StatusCode)
	}
	if sc := screening(); sc.Message != "Ringing Sam's phone for +15550002 — +15550002 stays on hold until it is answered" {
		t.Fatalf("ringing event %+v", sc)
	}
	e.App.PhoneAnswered("c2")
	if tr := webenv.TransitionOf(t, s.Next(t, webtest.Named("transition"))); tr.CallID != "c2" || tr.To != queue.StateScreening {
		t.Fatalf("transition %+v, want c2 screening", tr)
	}
	if sc := screening(); sc.State != "answered" || sc.Message != "Sam answered and is screening +15550002" {
		t.Fatalf("answered event %+v", sc)
	}
	// The caller's next transition clears the news of the busy phone.
	if res, _ := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{}`); res.StatusCode != 200 {
		t.Fatalf("ready: %d", res.StatusCode)
	}
	if r := row("c1"); strings.Contains(r, "screening-note") {
		t.Errorf("the ready caller's row still has the screening's news: %s", r)
	}

	// Screened without a phone: 200 and screening at once.
	e.App.Arrive("c3", "+15550003", "Kim")
	if res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c3/screen", "producer", `{"screener":"kim"}`); res.StatusCode != 200 || body["state"] != "screening" {
		t.Fatalf("screen without a phone: %d %v, want 200 screening", res.StatusCode, body)
	}
}

func TestScreeningWords(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		sc   broadcast.Screening
		want string
	}{
		{broadcast.Screening{State: broadcast.ScreenUnavailable}, "Sam's phone is unavailable — James is still on hold"},
		{broadcast.Screening{State: broadcast.ScreenUnreachable}, "Sam's phone cannot be reached — James is still on hold"},
		{broadcast.Screening{State: broadcast.ScreenRefused}, "Sam's phone turned the call down — James is still on hold"},
		{broadcast.Screening{State: broadcast.ScreenFailed}, "Could not put James through to Sam's phone — James is still on hold"},
		{broadcast.Screening{State: broadcast.ScreenCallerGone}, "James hung up while Sam's phone was ringing"},
		{broadcast.Screening{State: broadcast.ScreenNoAnswer, Rang: 19600 * time.Millisecond}, "No answer from Sam's phone after 20 s — James is still on hold"},
	} {
		sc := tc.sc
		sc.Started, sc.Caller, sc.Screener = at, "James", "sam"
		if got := core.ScreeningWords(sc); got != tc.want {
			t.Errorf("%s: got %q, want %q", sc.State, got, tc.want)
		}
	}
	// A hostile caller ID or user name stays text.
	got := core.ScreeningWords(broadcast.Screening{State: broadcast.ScreenBusy, Caller: "\x1b[2J", Screener: "\u202esam"})
	if strings.ContainsAny(got, "\x1b\u202e") {
		t.Errorf("got %q, want control characters replaced", got)
	}
}

// TestBrowserHostView: the host view in a browser: large type, live, and
// its actions work from the keyboard.
func TestBrowserHostView(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	login(t, ctx, e, "host")
	if err := chromedp.Do(ctx, chromedp.Navigate(e.TS.URL+"/shows/morning/host"), chromedp.WaitVisible("", css(`[data-testid=onair-empty]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("n"), chromedp.WaitVisible("", css(`[data-testid=onair-list] li[data-call=c1]`)),
		chromedp.WaitVisible("", css(`[data-testid=host-next] li[data-call=c2]`))); err != nil {
		t.Fatalf("take next from the host view: %v", err)
	}
	size, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector("[data-testid=onair-list] [data-testid=name]")).fontSize)`))
	if err != nil || size < 36 {
		t.Fatalf("the on-air name is %vpx (%v), want large type (36px or more)", size, err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("j"), chromedp.KeyEvent("m"),
		chromedp.WaitVisible("", css(`[data-testid=onair-list] li[data-call=c1] [data-testid=act-unmute]`))); err != nil {
		t.Fatalf("mute from the host view: %v", err)
	}
}

// TestBrowserChime: the ready chime is off until a console turns it on,
// then sounds once when a caller becomes ready, and stays on after a
// reload (per console, in its browser).
func TestBrowserChime(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	e.App.Arrive("c1", "+15550001", "Ann")
	e.App.Arrive("c2", "+15550002", "Bob")
	login(t, ctx, e, "producer")
	chimes := func() int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.callinChimes`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	ready := func(id string) {
		if _, err := e.App.Ready(t.Context(), "morning", id, queue.Actor{}, queue.Notes{}); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.WaitVisible("", css(`#next li[data-call=`+id+`]`))); err != nil {
			t.Fatal(err)
		}
	}
	ready("c1")
	if n := chimes(); n != 0 {
		t.Fatalf("%d chimes with the chime off", n)
	}
	if err := chromedp.Do(ctx, chromedp.Click("", css(`[data-testid=sound-toggle]`)),
		chromedp.WaitVisible("", css(`[data-testid=sound-toggle][aria-pressed=true]`))); err != nil {
		t.Fatal(err)
	}
	base := chimes() // turning it on plays it once, to hear it
	ready("c2")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`window.callinChimes === %d`, base+1), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("no chime when a caller became ready: %d, want %d", chimes(), base+1)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible("", css(`[data-testid=sound-toggle][aria-pressed=true]`))); err != nil {
		t.Fatalf("the chime setting did not outlive a reload: %v", err)
	}
}

// TestBrowserReportLabels: the report's chart labels and numbers never
// overlap, for a day and for the longest range, at a tablet's width.
func TestBrowserReportLabels(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	start := time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC)
	var calls []queue.CallRecord
	for i := range 31 * 24 {
		at := start.Add(time.Duration(i) * time.Hour)
		for j := range i % 7 * 40 {
			o := []queue.Outcome{queue.OutcomeAired, queue.OutcomeAbandoned, queue.OutcomeDropped, queue.OutcomeRejected}[j%4]
			calls = append(calls, queue.CallRecord{ID: fmt.Sprint(i, "-", j), ArrivedAt: at, AnsweredAt: at,
				EndedAt: at.Add(time.Duration(j) * 17 * time.Second), Outcome: o})
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
	login(t, ctx, e, "producer")
	for _, q := range []string{"day=2025-11-20", "from=2025-10-27&to=2025-11-26"} {
		for _, w := range []int64{820, 1366} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(e.TS.URL+"/shows/morning/report?"+q),
				chromedp.WaitVisible("", css(`[data-testid=chart-outcomes]`))); err != nil {
				t.Fatal(err)
			}
			overlaps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
				const out = [];
				for (const svg of document.querySelectorAll(".chart svg")) {
					const texts = [...svg.querySelectorAll("text")].map(t => ({t, r: t.getBoundingClientRect()}));
					for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
						const a = texts[i].r, b = texts[j].r;
						if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5)
							out.push(svg.closest("figure").dataset.testid + ": " + texts[i].t.textContent + " / " + texts[j].t.textContent);
					}
					const box = svg.getBoundingClientRect();
					for (const x of texts) if (x.r.left < box.left - 0.5 || x.r.right > box.right + 0.5) out.push("outside the chart: " + x.t.textContent);
				}
				return out;
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if len(overlaps) > 0 {
				t.Errorf("%s at %dpx: %d labels overlap or leave the chart: %v", q, w, len(overlaps), overlaps[:min(len(overlaps), 8)])
			}
		}
	}
}
