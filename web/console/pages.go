package console

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/shared"
)

func (s *Console) callerPage(w http.ResponseWriter, r *http.Request) {
	if err := shared.Allow(r, auth.ActionView); err != nil {
		s.pageFail(w, r, err)
		return
	}
	n, err := core.Number(r)
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

// maxSearch is the longest caller search query.
const maxSearch = api.MaxSearch

// searchPage finds callers by number or name (GET /callers?q=); without q
// it shows the form.
func (s *Console) searchPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	err := shared.Allow(r, auth.ActionView)
	if err == nil && s.Cfg.History == nil {
		err = shared.NotFound("history", "")
	}
	if err == nil && (!utf8.ValidString(q) || utf8.RuneCountInString(q) > maxSearch) {
		err = shared.Invalid("q", "must be at most %d characters of text", maxSearch)
	}
	var found []queue.Profile
	if err == nil && q != "" {
		found, err = s.Cfg.History.SearchCallers(r.Context(), q, core.SearchLimit)
	}
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, searchPage(s.page(r, "Callers"), q, found))
}

func (s *Console) consoleBlock(w http.ResponseWriter, r *http.Request) {
	s.blockDone(w, r, "Blocked.", s.Block(r, true, r.PostFormValue("reason")))
}

func (s *Console) consoleUnblock(w http.ResponseWriter, r *http.Request) {
	s.blockDone(w, r, "Unblocked.", s.Block(r, false, ""))
}

// blockDone answers a block or unblock from the caller's page: the block
// section as it is now (so it says "blocked" at once), with a flash; an
// error goes to the flash and leaves the section.
func (s *Console) blockDone(w http.ResponseWriter, r *http.Request, msg string, err error) {
	if err != nil || r.Header.Get("HX-Request") == "" {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), msg, err)
		return
	}
	n, _ := core.Number(r) // block checked it
	prof, err := s.Cfg.History.CallerProfile(r.Context(), n)
	if err != nil {
		s.retargetFlash(w, r)
		s.done(w, r, callerPath(r), "", err)
		return
	}
	p, _ := shared.Principal(r)
	pi := s.page(r, "")
	s.render(w, r, http.StatusOK, withFlash(blockSection(pi, prof, permsOf(p.Role)), true, msg))
}

func (s *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, loginPage(pageInfo{Title: "Log in"}, http.StatusOK, "", r.URL.Query().Get("next")))
}

// loginFail draws the login page again after a failed login.
func (s *Console) loginFail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.render(w, r, status, loginPage(pageInfo{Title: "Log in"}, status, msg, r.PostFormValue("next")))
}
