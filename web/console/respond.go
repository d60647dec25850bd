package console

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/callin-radio/callin/web/shared"
)

// render writes a templ component as HTML; a failure is logged (the
// response may be partly written by then).
func (s *Console) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.Log.Warn("web: render", "path", r.URL.Path, "err", err)
	}
}

// pageFail renders err as an HTML error page.
func (s *Console) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	status, p := shared.Classify(err)
	s.LogFail(r, status, err)
	s.render(w, r, status, errorPage(s.page(r, "Error"), status, p.Detail))
}
