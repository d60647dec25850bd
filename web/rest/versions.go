package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

// Versions of what the API lets two producers change (issue 22, point 2):
// an ETag on each answer that shows caller notes or a show's settings,
// If-Match honoured on their PUT and PATCH (412, a problem, for a stale
// version), and PATCH as an RFC 7396 merge patch.

// anyVersion, as the version a change expects, is any version (no
// If-Match, or If-Match: *).
const anyVersion int64 = -1

// notesETag is the ETag of notes at version v.
func notesETag(v int64) string { return `"notes-` + strconv.FormatInt(v, 10) + `"` }

// settingsETag is the ETag of a show's settings: a hash of what GET
// settings answers, so that any change of them changes it.
func settingsETag(st api.Settings) string {
	b, _ := json.Marshal(st)
	sum := sha256.Sum256(b)
	return `"settings-` + hex.EncodeToString(sum[:12]) + `"`
}

// ifMatch reads If-Match against the ETag current is: ok when it is
// absent or * (any version), or lists current (RFC 9110's strong
// comparison: a weak W/ tag never matches); else an error wrapping
// queue.ErrStale (412).
func ifMatch(r *http.Request, current string) (conditional bool, err error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return false, nil
	}
	for tag := range strings.SplitSeq(h, ",") {
		if strings.TrimSpace(tag) == current {
			return true, nil
		}
	}
	return true, fmt.Errorf("web: If-Match %s: the current version is %s: %w", shared.Printable(h), current, queue.ErrStale)
}

// notesVersions is Config.Notes as NotesVersions, or a 404 when there
// are no notes (or none with versions).
func (s *API) notesVersions(r *http.Request, action auth.Action) (core.NotesVersions, string, error) {
	n, err := s.NotesStore(r, action)
	if err != nil {
		return nil, "", err
	}
	nv, ok := s.Cfg.Notes.(core.NotesVersions)
	if !ok {
		return nil, "", shared.NotFound("caller notes versions", "")
	}
	return nv, n, nil
}

// changeNotes saves change(the notes now) for PUT and PATCH, at the
// version If-Match names (any without it), and answers the notes saved
// with their ETag.
func (s *API) changeNotes(w http.ResponseWriter, r *http.Request, nv core.NotesVersions, n string, change func(queue.CallerNotes) queue.CallerNotes) {
	ctx := r.Context()
	want := anyVersion
	_, v, err := nv.CallerNotesVersion(ctx, n)
	if err == nil {
		var conditional bool
		if conditional, err = ifMatch(r, notesETag(v)); conditional && err == nil {
			want = v // the store checks it again, in the write's transaction
		}
	}
	var saved queue.CallerNotes
	if err == nil {
		p, _ := shared.Principal(r)
		saved, v, err = nv.ChangeCallerNotes(ctx, n, auth.ActorName(p), want, change)
	}
	if err != nil {
		s.APIFail(w, r, fieldError(err))
		return
	}
	for _, h := range s.Hubs {
		h.Forget(n) // every console shows the new notes at its next render
	}
	w.Header().Set("ETag", notesETag(v))
	s.reply(w, r, callerNotesOf(saved), nil)
}

// apiPatchNotes changes some of a caller's notes: an RFC 7396 merge patch.
func (s *API) apiPatchNotes(w http.ResponseWriter, r *http.Request) {
	nv, n, err := s.notesVersions(r, auth.ActionNotes)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	var in api.CallerNotesPatch
	nulls, err := shared.DecodeMergePatch(r, &in)
	if err != nil {
		s.APIFail(w, r, err)
		return
	}
	s.changeNotes(w, r, nv, n, func(cur queue.CallerNotes) queue.CallerNotes { return mergeNotes(cur, in, nulls) })
}

// mergeNotes is cur with the merge patch in (members in nulls cleared).
func mergeNotes(cur queue.CallerNotes, in api.CallerNotesPatch, nulls []string) queue.CallerNotes {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&cur.Topic, in.Topic)
	set(&cur.Notes, in.Notes)
	set(&cur.CallID, in.CallID)
	if in.Rating != nil {
		cur.Rating = *in.Rating
	}
	if in.DoNotAir != nil {
		cur.DoNotAir = *in.DoNotAir
	}
	if in.ContestWinner != nil {
		cur.ContestWinner = *in.ContestWinner
	}
	for _, name := range nulls {
		switch name {
		case "topic":
			cur.Topic = ""
		case "notes":
			cur.Notes = ""
		case "call_id":
			cur.CallID = ""
		case "rating":
			cur.Rating = 0
		case "do_not_air":
			cur.DoNotAir = false
		case "contest_winner":
			cur.ContestWinner = false
		}
	}
	return cur
}

// notesInput is the whole notes of a PUT, or a 422 naming the first
// member left out.
func notesInput(in api.CallerNotesInput) (func(queue.CallerNotes) queue.CallerNotes, error) {
	for _, m := range []struct {
		name    string
		missing bool
	}{{"topic", in.Topic == nil}, {"notes", in.Notes == nil}, {"rating", in.Rating == nil},
		{"do_not_air", in.DoNotAir == nil}, {"contest_winner", in.ContestWinner == nil}} {
		if m.missing {
			return nil, shared.Invalid(m.name, "is required: PUT replaces the whole notes (PATCH changes some)")
		}
	}
	return func(cur queue.CallerNotes) queue.CallerNotes {
		return queue.CallerNotes{Number: cur.Number, Topic: *in.Topic, Notes: *in.Notes, Rating: *in.Rating,
			DoNotAir: *in.DoNotAir, ContestWinner: *in.ContestWinner, CallID: in.CallID}
	}, nil
}

// decodeSettingsPatch reads PATCH settings' merge patch: a setting cannot
// be cleared, so a null member is a 422 naming it.
func decodeSettingsPatch(r *http.Request, in *api.SettingsChange) error {
	nulls, err := shared.DecodeMergePatch(r, in)
	if err == nil && len(nulls) > 0 {
		err = shared.Invalid(nulls[0], "cannot be cleared (null): give a value")
	}
	return err
}

// settingsMatch checks If-Match against the show's settings now.
func (s *API) settingsMatch(r *http.Request, h *core.Hub) error {
	if r.Header.Get("If-Match") == "" {
		return nil
	}
	now, err := s.settings(h)
	if err != nil {
		return err
	}
	_, err = ifMatch(r, settingsETag(now))
	return err
}
