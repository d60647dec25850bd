package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest/webenv"
	"github.com/chromedp/chromedp"
)

// cutTextJS lists the names, topics and block reasons of the console's
// rows and cards that the page cuts short (an ellipsis or a clip), which a
// producer could read in full only by hovering; only names over 40
// characters (no caller ID name is that long) may be clamped.
const cutTextJS = `(() => {
	const out = [];
	for (const el of document.querySelectorAll("[data-call] [data-testid=name], [data-call] [data-testid=topic], [data-call] [data-testid=blocked]")) {
		if (el.getClientRects().length === 0 || (el.dataset.testid === "name" && el.textContent.trim().length > 40)) continue;
		if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
			out.push(el.closest("[data-call]").dataset.call + " " + el.dataset.testid + ": " + el.textContent.trim());
	}
	return out;
})()`

// TestBrowserWordsInFull: the rows' names, topics and a block's reason
// are read in full without hovering (a tablet has no hover), from a
// tablet's 820 px to 1920 px (issue 23, point 9: the reason and long
// topics were only in a tooltip; names were cut even at 1920 px).
func TestBrowserWordsInFull(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	busyShow(t, e)
	e.App.Arrive("c40", "+14155550040", "Maria-Fernanda Castellanos-Whitfield")
	login(t, ctx, e, "producer")
	for _, sc := range []struct{ w, h int64 }{{820, 1180}, {1024, 768}, {1366, 768}, {1920, 1080}} {
		t.Run(fmt.Sprintf("%dx%d", sc.w, sc.h), func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(sc.w, sc.h), chromedp.Navigate(e.TS.URL+"/shows/morning"),
				chromedp.WaitVisible("", css(`[data-call=c40] [data-testid=name]`))); err != nil {
				t.Fatal(err)
			}
			if err := shown(ctx); err != nil {
				t.Fatalf("the page did not come: %v", err)
			}
			cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](cutTextJS))
			if err != nil || len(cut) > 0 {
				t.Errorf("cut short (%v):\n%s", err, strings.Join(cut, "\n"))
			}
			if !waitTextHas(ctx, `[data-testid=blocked]`, "abusive on air") {
				t.Errorf("the blocked mark says %q, want its reason", browserText(t, ctx, `[data-testid=blocked]`))
			}
		})
	}
}

// TestBrowserReportReadable: the report is titled with the show's title,
// its charts' labels are at least 11 px high at 1024 px, and its longest
// wait counts a caller still waiting, as the console does (issue 23, point
// 9: the key "morning", 8 px labels, waits of finished calls only).
func TestBrowserReportReadable(t *testing.T) {
	ctx := browser(t)
	e := webenv.New(t)
	now := e.App.Now
	e.App.Arrive("c9", "+15550009", "Still Waiting")
	e.Hist.ShowCallsInFn = func(_ string, from, to time.Time) ([]queue.CallRecord, error) {
		at := now.Add(-time.Hour)
		return []queue.CallRecord{
			{ID: "c1", ArrivedAt: at, AnsweredAt: at, OnAirAt: at.Add(2 * time.Minute), EndedAt: at.Add(5 * time.Minute), Outcome: queue.OutcomeAired},
			{ID: "c9", ArrivedAt: now.Add(-20 * time.Minute), AnsweredAt: now.Add(-20 * time.Minute)},
		}, nil
	}
	login(t, ctx, e, "producer")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1024, 768), chromedp.Navigate(e.TS.URL+"/shows/morning/report?day="+now.Format("2006-01-02")),
		chromedp.WaitVisible("", css(`[data-testid=chart-outcomes]`))); err != nil {
		t.Fatal(err)
	}
	if got := browserText(t, ctx, `[data-testid=report-title]`); !strings.HasPrefix(got, "Morning <b>Show</b>: ") {
		t.Errorf("the report's title is %q, want the show's title first", got)
	}
	if got := browserText(t, ctx, `[data-testid=report-longest]`); got != "20:00" {
		t.Errorf("the longest wait is %q, want 20:00 (the caller still waiting)", got)
	}
	small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".chart svg text")].
		filter(t => t.getBoundingClientRect().height < 11).map(t => t.textContent + " " + t.getBoundingClientRect().height.toFixed(1) + "px")`))
	if err != nil || len(small) > 0 {
		t.Errorf("chart labels under 11 px at 1024 px (%v): %v", err, small[:min(len(small), 8)])
	}
}
