package web

import (
	"io"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// The console's recordings: a page per show listing them, each playable
// in the browser, and their files through callin's checks (producers and
// admins, as in the API).

// recordingURL is the console's address of a recording's file.
func recordingURL(show, name string, download bool) string {
	u := "/shows/" + url.PathEscape(show) + "/recordings/" + url.PathEscape(name) + "/file"
	if download {
		u += "?download=1"
	}
	return u
}

// consoleRecordingsReq checks a console recordings request.
func (s *Server) consoleRecordingsReq(r *http.Request) (*hub, error) {
	if err := s.allow(r, auth.ActionRecording); err != nil {
		return nil, err
	}
	h, err := s.hub(r)
	if err != nil {
		return nil, err
	}
	if s.cfg.Recordings == nil {
		return nil, notFound("recordings", "")
	}
	return h, nil
}

func (s *Server) recordingsPage(w http.ResponseWriter, r *http.Request) {
	h, err := s.consoleRecordingsReq(r)
	var recs []queue.Recording
	if err == nil {
		recs, err = s.cfg.Recordings.ShowRecordings(r.Context(), h.key, "", recordingsLimit)
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, recordingsPage(s.page(r, "Recordings"), h.key, recs))
}

// consoleRecordingFile streams a recording to the browser: inline to play
// it, or as a download with ?download=1.
func (s *Server) consoleRecordingFile(w http.ResponseWriter, r *http.Request) {
	h, err := s.consoleRecordingsReq(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	name := chi.URLParam(r, "recording")
	body, ctype, err := s.cfg.Recordings.RecordingFile(r.Context(), h.key, name)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	defer body.Close()
	if ctype != "audio/wav" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	disposition := "inline"
	if r.URL.Query().Get("download") != "" {
		disposition = "attachment"
	}
	w.Header().Set("Content-Disposition", disposition+`; filename="`+safeFileName(name)+`.wav"`)
	if _, err := io.Copy(w, body); err != nil {
		s.log.Warn("web: recording file", "show", h.key, "recording", name, "err", err)
	}
}
