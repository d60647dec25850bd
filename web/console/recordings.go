package console

import (
	"net/http"
	"net/url"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
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

func (s *Console) recordingsPage(w http.ResponseWriter, r *http.Request) {
	h, err := s.RecordingsReq(r)
	var recs []queue.Recording
	if err == nil {
		recs, err = s.Cfg.Recordings.ShowRecordings(r.Context(), h.Key, "", core.RecordingsLimit)
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, recordingsPage(s.page(r, "Recordings"), h.Key, recs))
}

// consoleRecordingFile streams a recording to the browser: inline to play
// it, or as a download with ?download=1.
func (s *Console) consoleRecordingFile(w http.ResponseWriter, r *http.Request) {
	h, err := s.RecordingsReq(r)
	if err == nil {
		err = s.SendRecording(w, r, h, r.URL.Query().Get("download") == "")
	}
	if err != nil {
		s.pageFail(w, r, err)
	}
}
