package console

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// The show report: a day or a range of days, its figures, charts whose
// labels never overlap, and CSV downloads of its calls and transitions.

// maxReportDays is the longest range a report covers: what the API's
// exports allow (maxRange).
const maxReportDays = 31

// reportView is the show report page.
type reportView struct {
	Show, Title          string
	ShowTitle            string // the show's title, else its key
	Day, From, To, Today string // the forms' values, 2006-01-02
	Calls, Aired         int
	Wait                 queue.WaitStats
	Charts               []chart
	from, to             time.Time // [from, to)
	single               bool
}

// CSV is the console's download of the report's calls or transitions.
func (v reportView) CSV(kind string) string {
	q := url.Values{}
	if v.single {
		q.Set("day", v.Day)
	} else {
		q.Set("from", v.From)
		q.Set("to", v.To)
	}
	return "/shows/" + url.PathEscape(v.Show) + "/report/" + kind + ".csv?" + q.Encode()
}

// reportRange reads the report's days: day=, or from= and to= (both
// included), or today; in the server's time zone.
func (s *Console) reportRange(r *http.Request) (from, to time.Time, single bool, err error) {
	now := s.Cfg.Now()
	q := r.URL.Query()
	date := func(field string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", q.Get(field), now.Location())
		if err != nil {
			return t, shared.Invalid(field, "must be a date like 2006-01-02")
		}
		return t, nil
	}
	switch {
	case q.Get("from") != "" || q.Get("to") != "":
		if from, err = date("from"); err != nil {
			return
		}
		if to, err = date("to"); err != nil {
			return
		}
		if to.Before(from) {
			return from, to, false, shared.Invalid("to", "must not be before from")
		}
		to = to.AddDate(0, 0, 1)
		if days := daysBetween(from, to); days > maxReportDays {
			return from, to, false, shared.Invalid("to", "must be at most %d days after from", maxReportDays-1)
		}
		return from, to, from.AddDate(0, 0, 1).Equal(to), nil
	case q.Get("day") != "":
		if from, err = date("day"); err != nil {
			return
		}
	default:
		y, m, d := now.Date()
		from = time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	}
	return from, from.AddDate(0, 0, 1), true, nil
}

// daysBetween counts the calendar days in [from, to).
func daysBetween(from, to time.Time) int {
	n := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		n++
	}
	return n
}

func (s *Console) reportPage(w http.ResponseWriter, r *http.Request) {
	h, err := s.reportReq(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	from, to, single, err := s.reportRange(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	calls, err := s.Cfg.History.ShowCalls(r.Context(), h.Key, from, to)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	title, live := liveReport(s.Cfg.Shows, h.Key)
	v := reportOf(h.Key, calls, from, to, single, live, s.Cfg.Now())
	v.Today, v.ShowTitle = s.Cfg.Now().Format("2006-01-02"), title
	s.render(w, r, http.StatusOK, reportPage(s.page(r, title+" report"), v))
}

// reportReq checks a report request: the role may view, the show exists
// and there is a history.
func (s *Console) reportReq(r *http.Request) (*core.Hub, error) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		return nil, err
	}
	h, err := s.Hub(r)
	if err != nil {
		return nil, err
	}
	if s.Cfg.History == nil {
		return nil, shared.NotFound("history", "")
	}
	return h, nil
}

// reportCSV downloads the report's calls or transitions as CSV
// (GET /shows/{show}/report/calls.csv or transitions.csv, with the
// report's day or range): the API's exports (core.ExportCSV), for a console
// session.
func (s *Console) reportCSV(w http.ResponseWriter, r *http.Request) {
	h, err := s.reportReq(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	from, to, _, err := s.reportRange(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	if err := s.ExportCSV(w, r, chi.URLParam(r, "export"), h.Key, from, to); err != nil {
		s.pageFail(w, r, err)
	}
}

// outcomes are the report's outcomes, in its order.
var outcomes = []queue.Outcome{queue.OutcomeAired, queue.OutcomeDropped, queue.OutcomeAbandoned,
	queue.OutcomeRejected, queue.OutcomeUnreached, queue.OutcomeFailed}

// reportOf sums up a show's calls that arrived in [from, to).
// Calls in line now (live, by id) have waited until now: the console
// counts them in its longest wait, and so does the report.
func reportOf(show string, calls []queue.CallRecord, from, to time.Time, single bool, live map[string]bool, now time.Time) reportView {
	v := reportView{Show: show, from: from, to: to, single: single, Calls: len(calls),
		Day: from.Format("2006-01-02"), From: from.Format("2006-01-02"), To: to.AddDate(0, 0, -1).Format("2006-01-02")}
	if single {
		v.Title = from.Format("Monday 2 January 2006")
	} else {
		v.Title = from.Format("2 January 2006") + " to " + to.AddDate(0, 0, -1).Format("2 January 2006")
	}
	counts := map[queue.Outcome]int{}
	var waits []time.Duration
	for _, c := range calls {
		counts[c.Outcome]++
		if w, ok := waitOf(c); ok {
			waits = append(waits, w)
		} else if live[c.ID] && !c.AnsweredAt.IsZero() {
			waits = append(waits, now.Sub(c.AnsweredAt))
		}
	}
	v.Aired = counts[queue.OutcomeAired]
	v.Wait = waitStats(waits)

	var labels []string
	var per []int
	if single {
		for t := from; t.Before(to); t = t.Add(time.Hour) {
			labels = append(labels, strconv.Itoa(t.Hour()))
		}
		per = make([]int, len(labels))
		for _, c := range calls {
			if i := int(c.ArrivedAt.Sub(from) / time.Hour); i >= 0 && i < len(per) {
				per[i]++
			}
		}
		v.Charts = append(v.Charts, columnChart("Calls by hour of arrival", "chart-hours", labels, per))
	} else {
		for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
			labels = append(labels, d.Format("Jan 2"))
		}
		per = make([]int, len(labels))
		for _, c := range calls {
			a := c.ArrivedAt.In(from.Location())
			i := daysBetween(from, time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, from.Location()))
			if i >= 0 && i < len(per) {
				per[i]++
			}
		}
		v.Charts = append(v.Charts, columnChart("Calls by day", "chart-days", labels, per))
	}
	wl := make([]string, len(waitBuckets))
	for i, b := range waitBuckets {
		wl[i] = b.label
	}
	v.Charts = append(v.Charts, rowChart("Wait before air or the end", "chart-waits", wl, histogram(waits)))
	ol, oc := make([]string, len(outcomes)), make([]int, len(outcomes))
	for i, o := range outcomes {
		ol[i], oc[i] = string(o), counts[o]
	}
	v.Charts = append(v.Charts, rowChart("Outcomes", "chart-outcomes", ol, oc))
	return v
}

// waitOf is how long an answered call waited: from answered to the first
// of on air and the end, as the history store measures it; false for a
// call never answered or still waiting.
func waitOf(c queue.CallRecord) (time.Duration, bool) {
	if c.AnsweredAt.IsZero() {
		return 0, false
	}
	end := c.OnAirAt
	if end.IsZero() {
		end = c.EndedAt
	}
	if end.IsZero() {
		return 0, false
	}
	return end.Sub(c.AnsweredAt), true
}

// waitStats sums waits up: the average, the median and 90th percentile
// (interpolated, as PostgreSQL's percentile_cont) and the longest.
func waitStats(waits []time.Duration) queue.WaitStats {
	st := queue.WaitStats{N: len(waits)}
	if len(waits) == 0 {
		return st
	}
	w := slices.Sorted(slices.Values(waits))
	var sum time.Duration
	for _, d := range w {
		sum += d
	}
	pct := func(p float64) time.Duration {
		x := p * float64(len(w)-1)
		lo := int(math.Floor(x))
		hi := min(lo+1, len(w)-1)
		return w[lo] + time.Duration((x-float64(lo))*float64(w[hi]-w[lo]))
	}
	st.Avg, st.P50, st.P90, st.Longest = sum/time.Duration(len(w)), pct(.5), pct(.9), w[len(w)-1]
	return st
}

// waitBuckets are the upper bounds of the wait-time histogram.
var waitBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"under 1 min", time.Minute}, {"1 to 2 min", 2 * time.Minute}, {"2 to 5 min", 5 * time.Minute},
	{"5 to 10 min", 10 * time.Minute}, {"10 to 20 min", 20 * time.Minute}, {"20 to 30 min", 30 * time.Minute},
	{"30 min or more", 1 << 62},
}

// histogram counts waits by waitBuckets.
func histogram(waits []time.Duration) []int {
	out := make([]int, len(waitBuckets))
	for _, w := range waits {
		for i, b := range waitBuckets {
			if w < b.upTo {
				out[i]++
				break
			}
		}
	}
	return out
}

// waitHistogram counts answered calls by how long they waited (until on
// air or the end).
func waitHistogram(calls []queue.CallRecord) []int {
	var waits []time.Duration
	for _, c := range calls {
		if w, ok := waitOf(c); ok {
			waits = append(waits, w)
		}
	}
	return histogram(waits)
}

// bar is one bar of a chart, with its geometry, its count's text and its
// label's, in the SVG's units. A label or count that would not fit beside
// its neighbours is left out (ShowLabel, NText false).
type bar struct {
	Label      string
	N          int
	X, Y, W, H int
	NText      bool
	NX, NY     int
	NAnchor    string
	ShowLabel  bool
	LX, LY     int
	LAnchor    string
}

// chart is a bar chart drawn as SVG of Width × Height units.
type chart struct {
	Title, TestID                  string
	Width, Height                  int
	AxisX1, AxisY1, AxisX2, AxisY2 int
	Bars                           []bar
}

// Chart text is 12px; textWidth is a generous estimate of its width (a
// browser test measures the real labels and fails on any overlap).
const (
	chartFont  = 12
	chartWidth = 640
)

func textWidth(s string) int { return int(math.Ceil(float64(utf8.RuneCountInString(s)) * 7.2)) }

// columnChart lays out vertical bars (a time series): every label that
// fits, evenly spaced, under its bar; counts above the bars when they fit.
func columnChart(title, testID string, labels []string, counts []int) chart {
	const plot, top, below = 150, 18, 22
	n := max(len(counts), 1)
	slot := float64(chartWidth-4) / float64(n)
	c := chart{Title: title, TestID: testID, Width: chartWidth, Height: top + plot + below,
		AxisX1: 0, AxisY1: top + plot, AxisX2: chartWidth, AxisY2: top + plot}
	widest := 0
	for _, l := range labels {
		widest = max(widest, textWidth(l))
	}
	every := max(1, int(math.Ceil(float64(widest+8)/slot)))
	high := 1
	for _, v := range counts {
		high = max(high, v)
	}
	for i, v := range counts {
		h := v * plot / high
		x := 2 + int(float64(i)*slot)
		w := max(1, int(slot)-3)
		b := bar{Label: labels[i], N: v, X: x, Y: top + plot - h, W: w, H: h,
			LX: x + w/2, LY: top + plot + 16, LAnchor: "middle", ShowLabel: i%every == 0,
			NX: x + w/2, NY: top + plot - h - 4, NAnchor: "middle"}
		b.NText = v > 0 && textWidth(strconv.Itoa(v))+4 <= int(slot)
		c.Bars = append(c.Bars, b)
	}
	// The end labels stay inside the chart; then, left to right, a label
	// that would touch the one before it is left out.
	right := -1 << 30
	for i := range c.Bars {
		b := &c.Bars[i]
		if !b.ShowLabel {
			continue
		}
		w := textWidth(b.Label)
		left := b.LX - w/2
		switch {
		case left < 0:
			b.LX, b.LAnchor, left = 0, "start", 0
		case b.LX+w/2 > chartWidth:
			b.LX, b.LAnchor, left = chartWidth, "end", chartWidth-w
		}
		if left < right+6 {
			b.ShowLabel = false
			continue
		}
		right = left + w
	}
	return c
}

// rowChart lays out horizontal bars (categories): the labels in a column
// of their own, one bar a row, the count after the bar.
func rowChart(title, testID string, labels []string, counts []int) chart {
	const row = 26
	labelW := 0
	for _, l := range labels {
		labelW = max(labelW, textWidth(l))
	}
	labelW += 10
	high := 1
	for _, v := range counts {
		high = max(high, v)
	}
	room := chartWidth - labelW - textWidth(strconv.Itoa(high)) - 12
	c := chart{Title: title, TestID: testID, Width: chartWidth, Height: row*len(counts) + 4,
		AxisX1: labelW, AxisY1: 0, AxisX2: labelW, AxisY2: row*len(counts) + 4}
	for i, v := range counts {
		w := v * room / high
		y := 2 + i*row
		c.Bars = append(c.Bars, bar{Label: labels[i], N: v, X: labelW + 1, Y: y + 4, W: w, H: row - 8,
			ShowLabel: true, LX: labelW - 6, LY: y + row/2 + chartFont/3, LAnchor: "end",
			NText: true, NX: labelW + w + 6, NY: y + row/2 + chartFont/3, NAnchor: "start"})
	}
	return c
}
