package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// apiNotes' API side: a caller's notes (schema CallerNotes) and their
// versions, read by any role and written by those who may write notes.

// apiCallerNotes is one version of a caller's notes: schema CallerNotes.
type apiCallerNotes struct {
	Number        string    `json:"number"`
	Topic         string    `json:"topic" doc:"What they call about."`
	Notes         string    `json:"notes"`
	Rating        int       `json:"rating" api:"rating" doc:"0: not rated."`
	DoNotAir      bool      `json:"do_not_air" doc:"Producers must not put this caller on air."`
	ContestWinner bool      `json:"contest_winner"`
	CallID        string    `json:"call_id,omitempty" doc:"The call they were written during, if any."`
	By            string    `json:"by,omitempty" doc:"The user's name, or token:NAME for an API token."`
	At            time.Time `json:"at,omitzero"`
}

// apiNotesView is a caller's notes now and as saved before: schema
// CallerNotesView.
type apiNotesView struct {
	Notes   apiCallerNotes   `json:"notes"`
	History []apiCallerNotes `json:"history"`
}

// apiNotesInput is what a client writes: schema CallerNotesInput.
type apiNotesInput struct {
	Topic         string `json:"topic,omitempty" api:"notesTopic"`
	Notes         string `json:"notes,omitempty" api:"notesText"`
	Rating        int    `json:"rating,omitempty" api:"rating"`
	DoNotAir      bool   `json:"do_not_air,omitempty"`
	ContestWinner bool   `json:"contest_winner,omitempty"`
	CallID        string `json:"call_id,omitempty"`
}

func callerNotesOf(n queue.CallerNotes) apiCallerNotes {
	return apiCallerNotes{Number: n.Number, Topic: n.Topic, Notes: n.Notes, Rating: n.Rating, DoNotAir: n.DoNotAir,
		ContestWinner: n.ContestWinner, CallID: n.CallID, By: n.By, At: n.At}
}

// notesStore checks a notes request: the role may do action, there is a
// notes store, and {number} is a phone number, which it returns.
func (s *Server) notesStore(r *http.Request, action auth.Action) (string, error) {
	if err := s.allow(r, action); err != nil {
		return "", err
	}
	if s.cfg.Notes == nil {
		return "", notFound("caller notes", "")
	}
	return number(r)
}

func (s *Server) apiGetNotes(w http.ResponseWriter, r *http.Request) {
	out, err := s.getNotes(r)
	s.reply(w, r, out, err)
}

func (s *Server) getNotes(r *http.Request) (apiNotesView, error) {
	n, err := s.notesStore(r, auth.ActionView)
	if err != nil {
		return apiNotesView{}, err
	}
	now, err := s.cfg.Notes.CallerNotes(r.Context(), n)
	if err != nil {
		return apiNotesView{}, err
	}
	hist, err := s.cfg.Notes.CallerNotesHistory(r.Context(), n, notesHistoryLimit)
	if err != nil {
		return apiNotesView{}, err
	}
	out := apiNotesView{Notes: callerNotesOf(now), History: make([]apiCallerNotes, 0, len(hist))}
	for _, h := range hist {
		out.History = append(out.History, callerNotesOf(h))
	}
	return out, nil
}

func (s *Server) apiPutNotes(w http.ResponseWriter, r *http.Request) {
	out, err := s.putNotes(r)
	s.reply(w, r, out, err)
}

func (s *Server) putNotes(r *http.Request) (apiCallerNotes, error) {
	n, err := s.notesStore(r, auth.ActionNotes)
	if err != nil {
		return apiCallerNotes{}, err
	}
	var in apiNotesInput
	if err := decodeJSON(r, &in); err != nil {
		return apiCallerNotes{}, err
	}
	notes := queue.CallerNotes{Number: n, Topic: in.Topic, Notes: in.Notes, Rating: in.Rating, DoNotAir: in.DoNotAir,
		ContestWinner: in.ContestWinner, CallID: in.CallID}
	if err := notes.Validate(); err != nil {
		return apiCallerNotes{}, fieldError(err)
	}
	p, _ := principal(r)
	saved, err := s.cfg.Notes.WriteCallerNotes(r.Context(), notes, auth.ActorName(p))
	if err != nil {
		return apiCallerNotes{}, fieldError(err)
	}
	for _, h := range s.hubs {
		h.forget(n) // every console shows the new notes at its next render
	}
	return callerNotesOf(saved), nil
}

// fieldError turns a queue.FieldError into a 422 naming the field.
func fieldError(err error) error {
	var fe *queue.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, "%s", fe.Message)
	}
	return err
}
