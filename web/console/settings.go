package console

import (
	"net/http"
	"strings"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// settingsPage shows the logged-in user's own settings.
func (s *Console) settingsPage(w http.ResponseWriter, r *http.Request) {
	p, _ := shared.Principal(r)
	phone := ""
	if s.Cfg.Phones != nil {
		phone, _ = s.Cfg.Phones.Phone(p.Name)
	}
	s.render(w, r, http.StatusOK, settingsPage(s.page(r, "Settings"), phone, s.Cfg.Phones != nil, s.Cfg.PhoneRule.String()))
}

// settingsPhone sets the logged-in user's own phone (anyone may set their
// own; nobody another's here: `callin user phone` does that).
func (s *Console) settingsPhone(w http.ResponseWriter, r *http.Request) {
	p, _ := shared.Principal(r)
	if s.Cfg.Phones == nil {
		s.done(w, r, "/settings", "", shared.NotFound("phones", ""))
		return
	}
	ep := strings.TrimSpace(r.PostFormValue("phone"))
	if ep != "" {
		parsed, err := queue.ParseEndpoint(ep)
		if err == nil {
			// Only endpoints the installation allows: never a Local
			// channel into any context, nor a trunk (issue 21, point 4).
			err = s.Cfg.PhoneRule.Allow(parsed)
		}
		if err != nil {
			s.done(w, r, "/settings", "", shared.Invalid("phone", "%s", strings.TrimPrefix(err.Error(), "queue: ")))
			return
		}
	}
	stored, err := s.Cfg.Phones.SetPhone(r.Context(), p.Name, ep)
	msg := "Your phone is " + stored + "."
	if stored == "" {
		msg = "You have no phone: you screen from the console."
	}
	s.done(w, r, "/settings", msg, err)
}
