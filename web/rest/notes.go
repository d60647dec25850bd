package rest

import (
	"errors"
	"net/http"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// api.Notes' API side: a caller's notes (schema CallerNotes) and their
// versions, read by any role and written by those who may write notes.

func callerNotesOf(n queue.CallerNotes) api.CallerNotes {
	return api.CallerNotes{Number: n.Number, Topic: n.Topic, Notes: n.Notes, Rating: n.Rating, DoNotAir: n.DoNotAir,
		ContestWinner: n.ContestWinner, CallID: n.CallID, By: n.By, At: n.At}
}

func (s *API) apiGetNotes(w http.ResponseWriter, r *http.Request) {
	out, err := s.getNotes(r)
	s.reply(w, r, out, err)
}

func (s *API) getNotes(r *http.Request) (api.CallerNotesView, error) {
	n, err := s.NotesStore(r, auth.ActionView)
	if err != nil {
		return api.CallerNotesView{}, err
	}
	now, err := s.Cfg.Notes.CallerNotes(r.Context(), n)
	if err != nil {
		return api.CallerNotesView{}, err
	}
	hist, err := s.Cfg.Notes.CallerNotesHistory(r.Context(), n, core.NotesHistoryLimit)
	if err != nil {
		return api.CallerNotesView{}, err
	}
	out := api.CallerNotesView{Notes: callerNotesOf(now), History: make([]api.CallerNotes, 0, len(hist))}
	for _, h := range hist {
		out.History = append(out.History, callerNotesOf(h))
	}
	return out, nil
}

func (s *API) apiPutNotes(w http.ResponseWriter, r *http.Request) {
	out, err := s.putNotes(r)
	s.reply(w, r, out, err)
}

func (s *API) putNotes(r *http.Request) (api.CallerNotes, error) {
	n, err := s.NotesStore(r, auth.ActionNotes)
	if err != nil {
		return api.CallerNotes{}, err
	}
	var in api.CallerNotesInput
	if err := shared.DecodeJSON(r, &in); err != nil {
		return api.CallerNotes{}, err
	}
	notes := queue.CallerNotes{Number: n, Topic: in.Topic, Notes: in.Notes, Rating: in.Rating, DoNotAir: in.DoNotAir,
		ContestWinner: in.ContestWinner, CallID: in.CallID}
	if err := notes.Validate(); err != nil {
		return api.CallerNotes{}, fieldError(err)
	}
	p, _ := shared.Principal(r)
	saved, err := s.Cfg.Notes.WriteCallerNotes(r.Context(), notes, auth.ActorName(p))
	if err != nil {
		return api.CallerNotes{}, fieldError(err)
	}
	for _, h := range s.Hubs {
		h.Forget(n) // every console shows the new notes at its next render
	}
	return callerNotesOf(saved), nil
}

// fieldError turns a queue.FieldError into a 422 naming the field.
func fieldError(err error) error {
	var fe *queue.FieldError
	if errors.As(err, &fe) {
		return shared.Invalid(fe.Field, "%s", fe.Message)
	}
	return err
}
