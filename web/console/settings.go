package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/shared"
)

// Phones are people's phones (an Asterisk endpoint each), which callin
// rings for screening and talkback; cmd/callin's phones keeps them in
// PostgreSQL and in memory.
type Phones interface {
	// Phone returns a user's phone, if they have one.
	Phone(user string) (endpoint string, ok bool)
	// SetPhone sets (or, empty, clears) a user's phone and returns it as
	// stored; queue.ErrInvalid for an endpoint that is not a plain
	// TECH/resource.
	SetPhone(ctx context.Context, user, endpoint string) (string, error)
}

// settingsPage shows the logged-in user's own settings.
func (s *consoleUI) settingsPage(w http.ResponseWriter, r *http.Request) {
	p, _ := shared.Principal(r)
	phone := ""
	if s.cfg.Phones != nil {
		phone, _ = s.cfg.Phones.Phone(p.Name)
	}
	s.render(w, r, http.StatusOK, settingsPage(s.page(r, "Settings"), phone, s.cfg.Phones != nil, s.cfg.PhoneRule.String()))
}

// settingsPhone sets the logged-in user's own phone (anyone may set their
// own; nobody another's here: `callin user phone` does that).
func (s *consoleUI) settingsPhone(w http.ResponseWriter, r *http.Request) {
	p, _ := shared.Principal(r)
	if s.cfg.Phones == nil {
		s.done(w, r, "/settings", "", shared.NotFound("phones", ""))
		return
	}
	ep := strings.TrimSpace(r.PostFormValue("phone"))
	if ep != "" {
		parsed, err := queue.ParseEndpoint(ep)
		if err == nil {
			// Only endpoints the installation allows: never a Local
			// channel into any context, nor a trunk (issue 21, point 4).
			err = s.cfg.PhoneRule.Allow(parsed)
		}
		if err != nil {
			s.done(w, r, "/settings", "", shared.Invalid("phone", "%s", strings.TrimPrefix(err.Error(), "queue: ")))
			return
		}
	}
	stored, err := s.cfg.Phones.SetPhone(r.Context(), p.Name, ep)
	msg := "Your phone is " + stored + "."
	if stored == "" {
		msg = "You have no phone: you screen from the console."
	}
	s.done(w, r, "/settings", msg, err)
}
