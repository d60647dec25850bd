package console

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

func (s *consoleUI) callerPage(w http.ResponseWriter, r *http.Request) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		s.pageFail(w, r, err)
		return
	}
	n, err := number(r)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	v, err := s.callerView(r, n) // an unseen number has a page: it may be blocked before it calls
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	p, _ := shared.Principal(r)
	s.render(w, r, http.StatusOK, callerPage(s.page(r, v.Profile.Number), v, permsOf(p.Role)))
}

// Caller search limits: the longest query and the most matches shown.
const (
	maxSearch   = api.MaxSearch
	searchLimit = 50
)

// searchPage finds callers by number or name (GET /callers?q=); without q
// it shows the form.
func (s *consoleUI) searchPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	err := shared.Allow(r, auth.ActionView)
	if err == nil && s.cfg.History == nil {
		err = shared.NotFound("history", "")
	}
	if err == nil && (!utf8.ValidString(q) || utf8.RuneCountInString(q) > maxSearch) {
		err = shared.Invalid("q", "must be at most %d characters of text", maxSearch)
	}
	var found []queue.Profile
	if err == nil && q != "" {
		found, err = s.cfg.History.SearchCallers(r.Context(), q, searchLimit)
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, searchPage(s.page(r, "Callers"), q, found))
}

func (s *consoleUI) consoleBlock(w http.ResponseWriter, r *http.Request) {
	s.blockDone(w, r, "Blocked.", s.block(r, true, r.PostFormValue("reason")))
}

func (s *consoleUI) consoleUnblock(w http.ResponseWriter, r *http.Request) {
	s.blockDone(w, r, "Unblocked.", s.block(r, false, ""))
}

// blockDone answers a block or unblock from the caller's page: the block
// section as it is now (so it says "blocked" at once), with a flash; an
// error goes to the flash and leaves the section.
func (s *consoleUI) blockDone(w http.ResponseWriter, r *http.Request, msg string, err error) {
	if err != nil || r.Header.Get("HX-Request") == "" {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), msg, err)
		return
	}
	n, _ := number(r) // block checked it
	prof, err := s.cfg.History.CallerProfile(r.Context(), n)
	if err != nil {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), "", err)
		return
	}
	p, _ := shared.Principal(r)
	pi := s.page(r, "")
	s.render(w, r, http.StatusOK, withFlash(blockSection(pi, prof, permsOf(p.Role)), true, msg))
}

func (s *consoleUI) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, loginPage(pageInfo{Title: "Log in"}, http.StatusOK, "", r.URL.Query().Get("next")))
}

// loginFail draws the login page again after a failed login.
func (s *consoleUI) loginFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, loginPage(pageInfo{Title: "Log in"}, status, msg, r.PostFormValue("next")))
}
