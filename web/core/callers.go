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

// block blocks (with a reason, required) or unblocks the {number} of r,
// and flags or unflags that number's callers already in line.
func (s *core) block(r *http.Request, blocked bool, reason string) error {
	if err := shared.Allow(r, auth.ActionBlock); err != nil {
		return err
	}
	if s.cfg.History == nil {
		return shared.NotFound("history", "")
	}
	n, err := number(r)
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
		err = s.cfg.History.Block(r.Context(), n, auth.ActorName(p), reason)
	} else {
		err = s.cfg.History.Unblock(r.Context(), n, auth.ActorName(p))
	}
	if err != nil {
		return err
	}
	if s.cfg.Blocks != nil {
		if changed := s.cfg.Blocks.SetBlocked(n, blocked, reason, actor); changed > 0 {
			s.log.Info("web: block reached callers in line", "number", n, "blocked", blocked, "callers", changed, "user", p.Name)
		}
	}
	for _, h := range s.hubs {
		h.forget(n)
	}
	return nil
}

// notesStore checks a notes request: the role may do action, there is a
// notes store, and {number} is a phone number, which it returns.
func (s *core) notesStore(r *http.Request, action auth.Action) (string, error) {
	if err := shared.Allow(r, action); err != nil {
		return "", err
	}
	if s.cfg.Notes == nil {
		return "", shared.NotFound("caller notes", "")
	}
	return number(r)
}
