package rest

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/api/from"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// The API's reads of the history (calls and transitions over a day or a
// range, as JSON or CSV), the show chat and the recordings.

func (s *API) apiShowCalls(w http.ResponseWriter, r *http.Request) {
	showHistory(s, w, r, "calls", core.History.ShowCalls, core.Pages.ShowCallsPage,
		func(p core.Page[queue.CallRecord]) any {
			return api.CallRecordList{Calls: convert(p.Items, from.CallRecord), Paging: paging(p)}
		})
}

func (s *API) apiShowTransitions(w http.ResponseWriter, r *http.Request) {
	showHistory(s, w, r, "transitions", core.History.ShowTransitions, core.Pages.ShowTransitionsPage,
		func(p core.Page[queue.Transition]) any {
			return api.TransitionList{Transitions: convert(p.Items, from.Transition), Paging: paging(p)}
		})
}

// showHistory answers one of a show's history lists over the request's
// range: the CSV export of kind, or a page of JSON that answer shapes (the
// whole range in one page when the store reads no pages). all and page are
// method expressions, called only once the stores are known to be there.
func showHistory[T any](s *API, w http.ResponseWriter, r *http.Request, kind string,
	all func(h core.History, ctx context.Context, show string, from, to time.Time) ([]T, error),
	page func(p core.Pages, ctx context.Context, show string, from, to time.Time, pr core.PageRequest) (core.Page[T], error),
	answer func(core.Page[T]) any) {
	x, err := s.exportRange(r)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	if x.csv {
		_ = s.ExportCSV(w, r, kind, x.show, x.from, x.to)
		return
	}
	ctx := r.Context()
	p, err := readPage(s, r, func(pr core.PageRequest) (core.Page[T], error) {
		return page(s.Cfg.Pages, ctx, x.show, x.from, x.to, pr)
	}, func() ([]T, error) { return all(s.Cfg.History, ctx, x.show, x.from, x.to) })
	s.reply(w, r, answer(p), err)
}

// messageOf is a chat message as the API shows it.
func messageOf(m core.ChatMsg) api.Message {
	return api.Message{ID: m.ID, At: m.At, Author: m.From, Text: m.Text}
}

func (s *API) apiChat(w http.ResponseWriter, r *http.Request) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	p, err := s.chatPage(r, h)
	s.reply(w, r, api.MessageList{Messages: convert(p.Items, func(m api.Message) api.Message { return m }), Paging: paging(p)}, err)
}

// postChat writes a message in the show's chat, as the console does.
func (s *API) postChat(r *http.Request) (api.Message, error) {
	h, err := s.ShowReq(r, auth.ActionMessage)
	if err != nil {
		return api.Message{}, err
	}
	var in api.MessageText
	if err := shared.DecodeJSON(r, &in); err != nil {
		return api.Message{}, err
	}
	text := strings.TrimSpace(in.Text)
	if text == "" || utf8.RuneCountInString(text) > api.MaxChat || strings.IndexFunc(text, shared.Unprintable) >= 0 {
		return api.Message{}, shared.Invalid("text", "must be 1 to %d characters of text without control characters", api.MaxChat)
	}
	p, _ := shared.Principal(r)
	m := core.ChatMsg{At: s.Cfg.Now(), From: auth.ActorName(p), Text: text}
	if s.Cfg.Chat != nil {
		stored, err := s.Cfg.Chat.AddShowMessage(r.Context(), h.Key, auth.ActorName(p), text)
		if err != nil {
			return api.Message{}, err
		}
		m = core.ChatOf(stored)
	}
	h.AddChat(m)
	return messageOf(m), nil
}

func (s *API) apiPostChat(w http.ResponseWriter, r *http.Request) {
	out, err := s.postChat(r)
	s.reply(w, r, out, err)
}

func (s *API) apiRecordings(w http.ResponseWriter, r *http.Request) {
	h, err := s.RecordingsReq(r)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	ctx, call := r.Context(), r.URL.Query().Get("call")
	p, err := readPage(s, r, func(pr core.PageRequest) (core.Page[queue.Recording], error) {
		return s.Cfg.Pages.ShowRecordingsPage(ctx, h.Key, call, pr)
	}, func() ([]queue.Recording, error) {
		return s.Cfg.Recordings.ShowRecordings(ctx, h.Key, call, core.RecordingsLimit)
	})
	s.reply(w, r, api.RecordingList{Recordings: convert(p.Items, from.Recording), Paging: paging(p)}, err)
}

// apiRecordingFile streams a recording's file from Asterisk. The write
// deadline is the server's: a file that takes longer than WriteTimeout to
// send is cut off (an hour of 8 kHz WAV is 58 MB).
func (s *API) apiRecordingFile(w http.ResponseWriter, r *http.Request) {
	h, err := s.RecordingsReq(r)
	if err == nil {
		err = s.SendRecording(w, r, h, false)
	}
	if err != nil {
		s.APIFail(w, r, err)
	}
}

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
func (s *API) exportRange(r *http.Request) (exportReq, error) {
	h, err := s.ShowReq(r, auth.ActionView)
	if err != nil {
		return exportReq{}, err
	}
	if s.Cfg.History == nil {
		return exportReq{}, shared.NotFound("history", "")
	}
	q := r.URL.Query()
	out := exportReq{show: h.Key}
	switch f := q.Get("format"); f {
	case "", "json":
	case "csv":
		out.csv = true
	default:
		return exportReq{}, shared.Invalid("format", "must be json or csv")
	}
	now := s.Cfg.Now()
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
