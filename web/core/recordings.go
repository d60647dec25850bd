package core

import (
	"io"
	"net/http"

	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// What the console and the API share of the recordings: the request's
// check and the file.

// recordingsReq checks the role may handle recordings and that callin
// keeps them, and returns the show.
func (s *core) recordingsReq(r *http.Request) (*hub, error) {
	h, err := s.showReq(r, auth.ActionRecording)
	if err != nil {
		return nil, err
	}
	if s.cfg.Recordings == nil {
		return nil, shared.NotFound("recordings", "")
	}
	return h, nil
}

// sendRecording sends the request's {recording} of h's show, as a
// download or, inline, for the browser to play. An error comes before
// anything is written.
func (s *core) sendRecording(w http.ResponseWriter, r *http.Request, h *hub, inline bool) error {
	name := chi.URLParam(r, "recording")
	body, ctype, err := s.cfg.Recordings.RecordingFile(r.Context(), h.key, name)
	if err != nil {
		return err
	}
	defer body.Close()
	file := safeFileName(name)
	if ctype == "audio/wav" {
		file += ".wav"
	} else {
		ctype = "application/octet-stream"
	}
	disposition := "attachment"
	if inline {
		disposition = "inline"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", disposition+`; filename="`+file+`"`)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, body); err != nil {
		s.log.Warn("web: recording file", "show", h.key, "recording", name, "err", err)
	}
	return nil
}
