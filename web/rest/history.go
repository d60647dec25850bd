package rest

import (
	"encoding/csv"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// The API's reads of the history (calls and transitions over a day or a
// range, as JSON or CSV), the show chat and the recordings.

// maxRange is the longest range an export covers.
const maxRange = 31 * 24 * time.Hour

// exportReq is a checked export request: the show, the range and the
// format.
type exportReq struct {
	show     string
	from, to time.Time
	csv      bool
}

// exportRange reads day, or from and to, and format.
func (s *restAPI) exportRange(r *http.Request) (exportReq, error) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		return exportReq{}, err
	}
	if s.cfg.History == nil {
		return exportReq{}, shared.NotFound("history", "")
	}
	q := r.URL.Query()
	out := exportReq{show: h.key}
	switch f := q.Get("format"); f {
	case "", "json":
	case "csv":
		out.csv = true
	default:
		return exportReq{}, shared.Invalid("format", "must be json or csv")
	}
	now := s.cfg.Now()
	if v := q.Get("from"); v != "" {
		if out.from, err = time.Parse(time.RFC3339, v); err != nil {
			return exportReq{}, shared.Invalid("from", "must be a time like 2026-03-01T06:00:00Z")
		}
		out.to = out.from.Add(24 * time.Hour)
		if v := q.Get("to"); v != "" {
			if out.to, err = time.Parse(time.RFC3339, v); err != nil {
				return exportReq{}, shared.Invalid("to", "must be a time like 2026-03-01T10:00:00Z")
			}
		}
		if !out.to.After(out.from) || out.to.Sub(out.from) > maxRange {
			return exportReq{}, shared.Invalid("to", "must be after from, by at most 31 days")
		}
		return out, nil
	}
	if q.Get("to") != "" {
		return exportReq{}, shared.Invalid("from", "is required with to")
	}
	day := now
	if v := q.Get("day"); v != "" {
		if day, err = time.ParseInLocation("2006-01-02", v, now.Location()); err != nil {
			return exportReq{}, shared.Invalid("day", "must be a date like 2006-01-02")
		}
	}
	y, m, d := day.Date()
	out.from = time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	out.to = time.Date(y, m, d+1, 0, 0, 0, 0, now.Location())
	return out, nil
}

// writeCSV streams header and then rows as text/csv. An error before the
// first row is answered as the API answers errors; one after is logged and
// ends the body early (the status is sent).
func (s *restAPI) writeCSV(w http.ResponseWriter, r *http.Request, name string, header []string, rows iter.Seq2[[]string, error]) {
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
				s.apiFail(w, r, err)
			} else {
				s.log.Warn("web: csv export cut short", "path", r.URL.Path, "err", err)
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
		s.log.Warn("web: write csv", "path", r.URL.Path, "err", cw.Error())
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

func (s *restAPI) apiShowCalls(w http.ResponseWriter, r *http.Request) {
	x, err := s.exportRange(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	all := func() ([]queue.CallRecord, error) { return s.cfg.History.ShowCalls(ctx, x.show, x.from, x.to) }
	if x.csv {
		var each iter.Seq2[queue.CallRecord, error]
		if s.cfg.Pages != nil {
			each = s.cfg.Pages.EachShowCall(ctx, x.show, x.from, x.to)
		}
		s.writeCSV(w, r, x.show+"-calls", callsCSVHeader, csvRows(each, all, callCSV))
		return
	}
	p, err := readPage(s, r, func(pr PageRequest) (Page[queue.CallRecord], error) {
		return s.cfg.Pages.ShowCallsPage(ctx, x.show, x.from, x.to, pr)
	}, all)
	s.reply(w, r, api.CallRecordList{Calls: convert(p.Items, from.CallRecord), Paging: paging(p)}, err)
}

func (s *restAPI) apiShowTransitions(w http.ResponseWriter, r *http.Request) {
	x, err := s.exportRange(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	all := func() ([]queue.Transition, error) { return s.cfg.History.ShowTransitions(ctx, x.show, x.from, x.to) }
	if x.csv {
		var each iter.Seq2[queue.Transition, error]
		if s.cfg.Pages != nil {
			each = s.cfg.Pages.EachShowTransition(ctx, x.show, x.from, x.to)
		}
		s.writeCSV(w, r, x.show+"-transitions", transitionsCSVHeader, csvRows(each, all, transitionCSV))
		return
	}
	p, err := readPage(s, r, func(pr PageRequest) (Page[queue.Transition], error) {
		return s.cfg.Pages.ShowTransitionsPage(ctx, x.show, x.from, x.to, pr)
	}, all)
	s.reply(w, r, api.TransitionList{Transitions: convert(p.Items, from.Transition), Paging: paging(p)}, err)
}

func itoaZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// messageOf is a chat message as the API shows it.
func messageOf(m chatMsg) api.Message {
	return api.Message{ID: m.ID, At: m.At, Author: m.From, Text: m.Text}
}

func (s *restAPI) apiChat(w http.ResponseWriter, r *http.Request) {
	h, err := s.showReq(r, auth.ActionView)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p, err := s.chatPage(r, h)
	s.reply(w, r, api.MessageList{Messages: convert(p.Items, func(m api.Message) api.Message { return m }), Paging: paging(p)}, err)
}

// postChat writes a message in the show's chat, as the console does.
func (s *restAPI) postChat(r *http.Request) (api.Message, error) {
	h, err := s.showReq(r, auth.ActionMessage)
	if err != nil {
		return api.Message{}, err
	}
	var in api.MessageText
	if err := shared.DecodeJSON(r, &in); err != nil {
		return api.Message{}, err
	}
	text := strings.TrimSpace(in.Text)
	if text == "" || utf8.RuneCountInString(text) > maxChat || strings.IndexFunc(text, shared.Unprintable) >= 0 {
		return api.Message{}, shared.Invalid("text", "must be 1 to %d characters of text without control characters", maxChat)
	}
	p, _ := shared.Principal(r)
	m := chatMsg{At: s.cfg.Now(), From: auth.ActorName(p), Text: text}
	if s.cfg.Chat != nil {
		stored, err := s.cfg.Chat.AddShowMessage(r.Context(), h.key, auth.ActorName(p), text)
		if err != nil {
			return api.Message{}, err
		}
		m = chatOf(stored)
	}
	h.addChat(m)
	return messageOf(m), nil
}

func (s *restAPI) apiPostChat(w http.ResponseWriter, r *http.Request) {
	out, err := s.postChat(r)
	s.reply(w, r, out, err)
}

// recordingsLimit is the most recordings one list answers.
const recordingsLimit = 200

func (s *restAPI) apiRecordings(w http.ResponseWriter, r *http.Request) {
	h, err := s.recordingsReq(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx, call := r.Context(), r.URL.Query().Get("call")
	p, err := readPage(s, r, func(pr PageRequest) (Page[queue.Recording], error) {
		return s.cfg.Pages.ShowRecordingsPage(ctx, h.key, call, pr)
	}, func() ([]queue.Recording, error) {
		return s.cfg.Recordings.ShowRecordings(ctx, h.key, call, recordingsLimit)
	})
	s.reply(w, r, api.RecordingList{Recordings: convert(p.Items, from.Recording), Paging: paging(p)}, err)
}

// apiRecordingFile streams a recording's file from Asterisk. The write
// deadline is the server's: a file that takes longer than WriteTimeout to
// send is cut off (an hour of 8 kHz WAV is 58 MB).
func (s *restAPI) apiRecordingFile(w http.ResponseWriter, r *http.Request) {
	h, err := s.recordingsReq(r)
	if err == nil {
		err = s.sendRecording(w, r, h, false)
	}
	if err != nil {
		s.apiFail(w, r, err)
	}
}

// safeFileName keeps letters, digits, '-', '_' and '.' of a name.
func safeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}
