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
	out, etag, err := s.getNotes(r)
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	s.reply(w, r, out, err)
}

// getNotes reads a number's notes and their history, and the notes' ETag
// (none without core.NotesVersions).
func (s *API) getNotes(r *http.Request) (api.CallerNotesView, string, error) {
	n, err := s.NotesStore(r, auth.ActionView)
	if err != nil {
		return api.CallerNotesView{}, "", err
	}
	var now queue.CallerNotes
	etag := ""
	if nv, ok := s.Cfg.Notes.(core.NotesVersions); ok {
		var v int64
		now, v, err = nv.CallerNotesVersion(r.Context(), n)
		etag = notesETag(v)
	} else {
		now, err = s.Cfg.Notes.CallerNotes(r.Context(), n)
	}
	if err != nil {
		return api.CallerNotesView{}, "", err
	}
	hist, err := s.Cfg.Notes.CallerNotesHistory(r.Context(), n, core.NotesHistoryLimit)
	if err != nil {
		return api.CallerNotesView{}, "", err
	}
	out := api.CallerNotesView{Notes: callerNotesOf(now), History: make([]api.CallerNotes, 0, len(hist))}
	for _, h := range hist {
		out.History = append(out.History, callerNotesOf(h))
	}
	return out, etag, nil
}

// apiPutNotes replaces a caller's notes: the whole notes (every member
// but call_id required), at the version If-Match names.
func (s *API) apiPutNotes(w http.ResponseWriter, r *http.Request) {
	nv, n, err := s.notesVersions(r, auth.ActionNotes)
	var in api.CallerNotesInput
	if err == nil {
		err = shared.DecodeJSON(r, &in)
	}
	var change func(queue.CallerNotes) queue.CallerNotes
	if err == nil {
		change, err = notesInput(in)
	}
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	s.changeNotes(w, r, nv, n, change)
}

// fieldError turns a queue.FieldError into a 422 naming the field.
func fieldError(err error) error {
	var fe *queue.FieldError
	if errors.As(err, &fe) {
		return shared.Invalid(fe.Field, "%s", fe.Message)
	}
	return err
}
