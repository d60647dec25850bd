package core

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// What the console and the API share of a caller's profile: a block and
// the caller notes.

// Block blocks (with a reason, required) or unblocks the {number} of r,
// and flags or unflags that number's callers already in line.
func (s *Core) Block(r *http.Request, blocked bool, reason string) error {
	if err := shared.Allow(r, auth.ActionBlock); err != nil {
		return err
	}
	if s.Cfg.History == nil {
		return shared.NotFound("history", "")
	}
	n, err := Number(r)
	if err != nil {
		return err
	}
	if blocked {
		reason = strings.TrimSpace(reason)
		switch {
		case reason == "":
			return shared.Invalid("reason", "is required: say why the number is blocked")
		case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > api.MaxText || strings.IndexFunc(reason, shared.Unprintable) >= 0:
			return shared.Invalid("reason", "must be at most %d characters of text without control characters", api.MaxText)
		}
	}
	p, actor := shared.Principal(r)
	if blocked {
		err = s.Cfg.History.Block(r.Context(), n, auth.ActorName(p), reason)
	} else {
		err = s.Cfg.History.Unblock(r.Context(), n, auth.ActorName(p))
	}
	if err != nil {
		return err
	}
	if s.Cfg.Blocks != nil {
		if changed := s.Cfg.Blocks.SetBlocked(n, blocked, reason, actor); changed > 0 {
			s.Log.Info("web: block reached callers in line", "number", n, "blocked", blocked, "callers", changed, "user", p.Name)
		}
	}
	for _, h := range s.Hubs {
		h.Forget(n)
	}
	return nil
}

// NotesStore checks a notes request: the role may do action, there is a
// notes store, and {number} is a phone number, which it returns.
func (s *Core) NotesStore(r *http.Request, action auth.Action) (string, error) {
	if err := shared.Allow(r, action); err != nil {
		return "", err
	}
	if s.Cfg.Notes == nil {
		return "", shared.NotFound("caller notes", "")
	}
	return Number(r)
}
