package core

import (
	"io"
	"net/http"
	"strings"

	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
	"github.com/go-chi/chi/v5"
)

// What the console and the API share of the recordings: the request's
// check and the file.

// RecordingsReq checks the role may handle recordings and that callin
// keeps them, and returns the show.
func (s *Core) RecordingsReq(r *http.Request) (*Hub, error) {
	h, err := s.ShowReq(r, auth.ActionRecording)
	if err != nil {
		return nil, err
	}
	if s.Cfg.Recordings == nil {
		return nil, shared.NotFound("recordings", "")
	}
	return h, nil
}

// SendRecording sends the request's {recording} of h's show, as a
// download or, inline, for the browser to play. An error comes before
// anything is written.
func (s *Core) SendRecording(w http.ResponseWriter, r *http.Request, h *Hub, inline bool) error {
	name := chi.URLParam(r, "recording")
	body, ctype, err := s.Cfg.Recordings.RecordingFile(r.Context(), h.Key, name)
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
		s.Log.Warn("web: recording file", "show", h.Key, "recording", name, "err", err)
	}
	return nil
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
