package core

import (
	"encoding/csv"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// writeCSV streams header and then rows as text/csv. An error before the
// first row is answered as the API answers errors; one after is logged and
// ends the body early (the status is sent).
func (s *Core) writeCSV(w http.ResponseWriter, r *http.Request, name string, header []string, rows iter.Seq2[[]string, error]) {
	var cw *csv.Writer
	start := func() {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		w.WriteHeader(http.StatusOK)
		cw = csv.NewWriter(w)
		_ = cw.Write(header)
	}
	for row, err := range rows {
		if err != nil {
			if cw == nil {
				s.APIFail(w, r, err)
			} else {
				s.Log.Warn("web: csv export cut short", "path", r.URL.Path, "err", err)
			}
			return
		}
		if cw == nil {
			start()
		}
		for i, v := range row {
			row[i] = csvSafe(v)
		}
		if cw.Write(row) != nil {
			break
		}
	}
	if cw == nil {
		start()
	}
	if cw.Flush(); cw.Error() != nil {
		s.Log.Warn("web: write csv", "path", r.URL.Path, "err", cw.Error())
	}
}

// csvRows is each item of items (every item from a store that pages, or
// those of all) as a CSV row.
func csvRows[T any](each iter.Seq2[T, error], all func() ([]T, error), row func(T) []string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		if each == nil {
			items, err := all()
			if err != nil {
				yield(nil, err)
				return
			}
			each = func(y func(T, error) bool) {
				for _, it := range items {
					if !y(it, nil) {
						return
					}
				}
			}
		}
		for it, err := range each {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(row(it), nil) {
				return
			}
		}
	}
}

// csvSafe keeps a cell that a spreadsheet would run as a formula (caller
// ID names are text from outside) as text, and shows control characters
// as U+FFFD.
func csvSafe(v string) string {
	v = shared.Printable(v)
	if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil || v[0] == '=' || v[0] == '@' {
			return "'" + v
		}
	}
	return v
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var (
	callsCSVHeader = []string{"id", "show", "number", "name", "state", "arrived_at", "answered_at", "on_air_at", "ended_at",
		"outcome", "cause", "reason", "notes_name", "notes_location", "notes_topic", "notes_priority"}
	transitionsCSVHeader = []string{"call_id", "seq", "at", "show", "from", "to", "action", "actor_kind", "actor_name",
		"number", "name", "outcome", "cause", "reason"}
)

func callCSV(c queue.CallRecord) []string {
	return []string{c.ID, c.Show, c.Number, c.Name, string(c.State), csvTime(c.ArrivedAt),
		csvTime(c.AnsweredAt), csvTime(c.OnAirAt), csvTime(c.EndedAt), string(c.Outcome), itoaZero(c.Cause), c.Reason,
		c.Notes.Name, c.Notes.Location, c.Notes.Topic, itoaZero(c.Notes.Priority)}
}

func transitionCSV(t queue.Transition) []string {
	return []string{t.CallID, strconv.Itoa(t.Seq), csvTime(t.At), t.Show, string(t.From), string(t.To),
		t.Action, string(t.Actor.Kind), t.Actor.Name, t.Number, t.Name, string(t.Outcome), itoaZero(t.Cause), t.Reason}
}

func itoaZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// ExportCSV streams show's calls or transitions (kind "calls" or
// "transitions") that arrived or were made in [from, to) as CSV, from
// Config.Pages when it is set (a page at a time), else from the history
// in one read: the API's exports (format=csv) and the console report's
// downloads. An unknown kind is queue.ErrNotFound, with nothing written.
func (s *Core) ExportCSV(w http.ResponseWriter, r *http.Request, kind, show string, from, to time.Time) error {
	ctx := r.Context()
	switch kind {
	case "calls":
		var each iter.Seq2[queue.CallRecord, error]
		if s.Cfg.Pages != nil {
			each = s.Cfg.Pages.EachShowCall(ctx, show, from, to)
		}
		all := func() ([]queue.CallRecord, error) { return s.Cfg.History.ShowCalls(ctx, show, from, to) }
		s.writeCSV(w, r, show+"-calls", callsCSVHeader, csvRows(each, all, callCSV))
	case "transitions":
		var each iter.Seq2[queue.Transition, error]
		if s.Cfg.Pages != nil {
			each = s.Cfg.Pages.EachShowTransition(ctx, show, from, to)
		}
		all := func() ([]queue.Transition, error) { return s.Cfg.History.ShowTransitions(ctx, show, from, to) }
		s.writeCSV(w, r, show+"-transitions", transitionsCSVHeader, csvRows(each, all, transitionCSV))
	default:
		return shared.NotFound("export", kind)
	}
	return nil
}
