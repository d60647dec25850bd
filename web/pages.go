package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

func (s *Server) callerPage(w http.ResponseWriter, r *http.Request) {
	hist, _, err := s.history(r) // an unseen number has a page: it may be blocked before it calls
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := principal(r)
	s.render(w, r, http.StatusOK, callerPage(s.page(r, hist.Profile.Number), hist, permsOf(p.Role)))
}

// Caller search limits: the longest query and the most matches shown.
const (
	maxSearch   = 100
	searchLimit = 50
)

// searchPage finds callers by number or name (GET /callers?q=); without q
// it shows the form.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	err := s.allow(r, auth.ActionView)
	if err == nil && s.cfg.History == nil {
		err = notFound("history", "")
	}
	if err == nil && (!utf8.ValidString(q) || utf8.RuneCountInString(q) > maxSearch) {
		err = invalid("q", "must be at most %d characters of text", maxSearch)
	}
	var found []queue.Profile
	if err == nil && q != "" {
		found, err = s.cfg.History.SearchCallers(r.Context(), q, searchLimit)
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, searchPage(s.page(r, "Callers"), q, found))
}

func (s *Server) consoleBlock(w http.ResponseWriter, r *http.Request) {
	err := s.block(r, true, r.PostFormValue("reason"))
	s.done(w, r, callerPath(r), "Blocked.", err)
}

func (s *Server) consoleUnblock(w http.ResponseWriter, r *http.Request) {
	err := s.block(r, false, "")
	s.done(w, r, callerPath(r), "Unblocked.", err)
}

// callerPath is the page of r's {number}, or the search page for a
// parameter that is no number.
func callerPath(r *http.Request) string {
	n, err := number(r)
	if err != nil {
		return "/callers"
	}
	return "/callers/" + url.PathEscape(n)
}

// bar is one bar of a chart, with its geometry in the SVG's units.
type bar struct {
	Label string
	N     int
	X, Y  int
	W, H  int
}

// chart is a bar chart rendered as SVG.
type chart struct {
	Title  string
	TestID string
	Width  int
	Height int // of the plot; labels go below
	Bars   []bar
}

// newChart lays out bars with heights scaled to the largest.
func newChart(title, testID string, labels []string, counts []int) chart {
	const height, slot = 120, 28
	c := chart{Title: title, TestID: testID, Width: slot * len(counts), Height: height}
	top := 1
	for _, n := range counts {
		top = max(top, n)
	}
	for i, n := range counts {
		h := n * height / top
		c.Bars = append(c.Bars, bar{Label: labels[i], N: n, X: i * slot, Y: height - h, W: slot - 4, H: h})
	}
	return c
}

// waitBuckets are the upper bounds of the wait-time histogram.
var waitBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"<1m", time.Minute}, {"1-2m", 2 * time.Minute}, {"2-5m", 5 * time.Minute},
	{"5-10m", 10 * time.Minute}, {"10-20m", 20 * time.Minute}, {"20-30m", 30 * time.Minute},
	{"30m+", 1 << 62},
}

// waitHistogram counts answered calls by how long they waited (until on
// air or the end), as the history store measures waits.
func waitHistogram(calls []queue.CallRecord) []int {
	out := make([]int, len(waitBuckets))
	for _, c := range calls {
		start := c.AnsweredAt
		if start.IsZero() {
			continue
		}
		end := c.OnAirAt
		if end.IsZero() {
			end = c.EndedAt
		}
		if end.IsZero() {
			continue
		}
		wait := end.Sub(start)
		for i, b := range waitBuckets {
			if wait < b.upTo {
				out[i]++
				break
			}
		}
	}
	return out
}

// reportView is the show report page.
type reportView struct {
	Show   string
	Day    queue.Day
	Date   string
	Charts []chart
	Today  string
}

var outcomes = []queue.Outcome{queue.OutcomeAired, queue.OutcomeDropped, queue.OutcomeAbandoned, queue.OutcomeRejected, queue.OutcomeFailed}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	err := s.allow(r, auth.ActionView)
	h, herr := s.hub(r)
	if err == nil {
		err = herr
	}
	if err == nil && s.cfg.History == nil {
		err = notFound("history", "")
	}
	now := s.cfg.Now()
	date := now
	if q := r.URL.Query().Get("day"); err == nil && q != "" {
		date, err = time.ParseInLocation("2006-01-02", q, now.Location())
		if err != nil {
			err = invalid("day", "must be a date like 2006-01-02")
		}
	}
	var d queue.Day
	var calls []queue.CallRecord
	if err == nil {
		d, err = s.cfg.History.ShowDay(r.Context(), h.key, date)
	}
	if err == nil {
		calls, err = s.cfg.History.ShowCalls(r.Context(), h.key, d.Start, d.Start.AddDate(0, 0, 1))
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	hours := make([]string, len(d.PerHour))
	for i := range hours {
		hours[i] = strconv.Itoa(d.Start.Add(time.Duration(i) * time.Hour).Hour())
	}
	wl := make([]string, len(waitBuckets))
	for i, b := range waitBuckets {
		wl[i] = b.label
	}
	ol, oc := make([]string, len(outcomes)), make([]int, len(outcomes))
	for i, o := range outcomes {
		ol[i], oc[i] = string(o), d.Outcomes[o]
	}
	v := reportView{Show: h.key, Day: d, Date: d.Start.Format("2006-01-02"), Today: now.Format("2006-01-02"),
		Charts: []chart{
			newChart("Calls by hour", "chart-hours", hours, d.PerHour),
			newChart("Wait before air or end", "chart-waits", wl, waitHistogram(calls)),
			newChart("Outcomes", "chart-outcomes", ol, oc),
		}}
	s.render(w, r, http.StatusOK, reportPage(s.page(r, h.key+" report"), v))
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, loginPage(pageInfo{Title: "Log in"}, http.StatusOK, "", r.URL.Query().Get("next")))
}

// loginFail draws the login page again after a failed login.
func (s *Server) loginFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, loginPage(pageInfo{Title: "Log in"}, status, msg, r.PostFormValue("next")))
}
