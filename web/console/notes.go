package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// Caller notes in the console: the notes dialog on a row (GET its form,
// POST it back) and the notes panel of a caller's page.

// notesDialog serves the notes dialog's content for one number
// (GET /callers/{number}/notes?show=&call=): the notes as they are now,
// and who they are for.
func (s *Console) notesDialog(w http.ResponseWriter, r *http.Request) {
	n, err := s.NotesStore(r, auth.ActionNotes)
	if err != nil {
		s.done(w, r, callerPath(r), "", err)
		return
	}
	notes, err := s.Cfg.Notes.CallerNotes(r.Context(), n)
	if err != nil {
		s.done(w, r, callerPath(r), "", err)
		return
	}
	show, call := r.URL.Query().Get("show"), r.URL.Query().Get("call")
	who := shared.Printable(n)
	if h := s.Hubs[show]; h != nil {
		if c, err := s.Cfg.Shows.Call(h.Key, call); err == nil && queue.NormalizeNumber(c.Number) == n {
			who = callerWho(c)
		}
	} else {
		show = ""
	}
	s.render(w, r, http.StatusOK, notesDialogBody(s.page(r, ""), who, notes, show, call))
}

// consoleNotes saves a caller's notes (POST /callers/{number}/notes) from
// the notes dialog (the answer is a flash) or the caller's page (the
// answer is the notes panel, and a flash beside it). Every show's line
// shows the new notes at its next render.
func (s *Console) consoleNotes(w http.ResponseWriter, r *http.Request) {
	n, err := s.NotesStore(r, auth.ActionNotes)
	var saved queue.CallerNotes
	if err == nil {
		var in queue.CallerNotes
		if in, err = readNotesForm(r, n); err == nil {
			p, _ := shared.Principal(r)
			saved, err = s.Cfg.Notes.WriteCallerNotes(r.Context(), in, p.Name)
		}
	}
	if err != nil {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), "", err)
		return
	}
	for _, h := range s.Hubs {
		h.Forget(n)
	}
	msg := "Notes saved for " + shared.Printable(n) + "."
	if r.Header.Get("HX-Request") == "" || r.Header.Get("HX-Target") != "notes" {
		s.done(w, r, callerPath(r), msg, nil)
		return
	}
	v, err := s.callerView(r, n)
	if err != nil {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), "", err)
		return
	}
	v.Notes = saved
	p, _ := shared.Principal(r)
	s.render(w, r, http.StatusOK, withFlash(callerNotesPanel(s.page(r, ""), v, permsOf(p.Role), r.PostFormValue("call")), true, msg))
}

// readNotesForm reads caller notes from a form, checked (a *queue.FieldError
// names the field at fault).
func readNotesForm(r *http.Request, number string) (queue.CallerNotes, error) {
	n := queue.CallerNotes{Number: number, Topic: r.PostFormValue("topic"), Notes: r.PostFormValue("notes"),
		DoNotAir: r.PostFormValue("do_not_air") != "", ContestWinner: r.PostFormValue("contest_winner") != "",
		CallID: r.PostFormValue("call")}
	if v := strings.TrimSpace(r.PostFormValue("rating")); v != "" {
		rating, err := strconv.Atoi(v)
		if err != nil {
			return n, shared.Invalid("rating", "must be a whole number from 0 to %d", queue.MaxRating)
		}
		n.Rating = rating
	}
	if len(n.CallID) > 100 {
		return n, shared.Invalid("call", "is not a call id")
	}
	n = n.Clean()
	return n, n.Validate()
}

// retargetFlash points an htmx answer at the flash area: an error must not
// replace the panel or section the form would have.
func (s *Console) retargetFlash(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "innerHTML")
	}
}

// callerView is what a caller's page shows.
type callerView struct {
	Profile      queue.Profile
	Calls        []queue.CallRecord
	Notes        queue.CallerNotes
	NotesHistory []queue.CallerNotes // newest first, Notes among them
	NotesOn      bool
}

// callerView loads a number's page: its profile and calls, and its notes
// and their history when there is a notes store.
func (s *Console) callerView(r *http.Request, n string) (callerView, error) {
	if s.Cfg.History == nil {
		return callerView{}, shared.NotFound("history", "")
	}
	ctx := r.Context()
	p, err := s.Cfg.History.CallerProfile(ctx, n)
	if err != nil {
		return callerView{}, err
	}
	calls, err := s.Cfg.History.CallerCalls(ctx, n, core.HistoryLimit)
	if err != nil {
		return callerView{}, err
	}
	if p.Number == "" {
		p.Number = n
	}
	v := callerView{Profile: p, Calls: calls, Notes: queue.CallerNotes{Number: n}, NotesOn: s.Cfg.Notes != nil}
	if v.NotesOn {
		if v.NotesHistory, err = s.Cfg.Notes.CallerNotesHistory(ctx, n, core.NotesHistoryLimit); err != nil {
			return callerView{}, err
		}
		if len(v.NotesHistory) > 0 {
			v.Notes = v.NotesHistory[0]
		}
	}
	return v, nil
}

// callerPath is the page of r's {number}, or the search page for a
// parameter that is no number.
func callerPath(r *http.Request) string {
	n, err := core.Number(r)
	if err != nil {
		return "/callers"
	}
	return "/callers/" + url.PathEscape(n)
}
