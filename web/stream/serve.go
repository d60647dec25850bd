package stream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/shared"
)

// Serve is the one SSE loop: take a stream slot for the principal's
// credential, attach (subscribe), write the headers, then select on the
// stream's context (the request, or a logout), the client being kicked,
// its messages (already rendered by the hub), a heartbeat and a recheck of
// the credentials, flushing after each write. Each write must finish
// within Limits.StreamWriteTimeout. A stream whose credentials end gets an
// "end" event, then is closed.
func (s *Server) Serve(w http.ResponseWriter, r *http.Request, c *Client, attach, detach func()) {
	p, _ := shared.Principal(r)
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	release, err := s.streams.open(p, cancel)
	if err != nil {
		s.cfg.Fail(w, r, err)
		return
	}
	defer release()
	// Attach before the headers go out: once a client sees the response,
	// nothing published after that is missed.
	attach()
	defer detach()
	rc := http.NewResponseController(w)
	// The server's WriteTimeout would end the stream: every write gets a
	// deadline of its own instead.
	deadline := func() { _ = rc.SetWriteDeadline(time.Now().Add(s.cfg.Limits.WriteTimeout)) }
	deadline()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The retry hint keeps reconnecting browsers from hammering the server.
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		s.cfg.Log.Warn("web: SSE without flush", "path", r.URL.Path, "err", err)
		return
	}
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	recheck := time.NewTicker(s.cfg.Limits.Recheck)
	defer recheck.Stop()
	for {
		var msg []byte
		select {
		case <-ctx.Done():
			s.endStream(w, rc, r, context.Cause(ctx))
			return
		case <-c.gone:
			return
		case msg = <-c.ch:
		case <-beat.C:
			msg = []byte(": heartbeat\n\n")
		case <-recheck.C:
			if err := s.stillValid(ctx, r, p); err != nil {
				s.endStream(w, rc, r, err)
				return
			}
			continue
		}
		deadline()
		if _, err := w.Write(msg); err != nil {
			return
		}
		// Write whatever else is queued before one flush.
		for more := true; more; {
			select {
			case m := <-c.ch:
				if _, err := w.Write(m); err != nil {
					return
				}
			default:
				more = false
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// endStream tells a client why its stream ends, when it ends for its
// credentials (a logout, a revoked token); a client that left is not
// written to.
func (s *Server) endStream(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, why error) {
	if r.Context().Err() != nil || !(errors.Is(why, ErrLoggedOut) || errors.Is(why, errCredentialsGone)) {
		return
	}
	s.cfg.Log.Info("web: event stream ended", "path", r.URL.Path, "why", why)
	data, _ := json.Marshal(api.EndEvent{Reason: why.Error()})
	_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.Limits.WriteTimeout))
	if _, err := w.Write(Encode(0, "end", data)); err == nil {
		_ = rc.Flush()
	}
}

// stillValid checks a stream's credentials again: errCredentialsGone when
// the session or token is no longer valid or its role changed. A database
// that does not answer keeps the stream going (calls and producers carry
// on through an outage).
func (s *Server) stillValid(ctx context.Context, r *http.Request, was auth.Principal) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p, err := s.cfg.Authenticate(r.WithContext(cctx))
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		return errCredentialsGone
	case err != nil:
		s.cfg.Log.Warn("web: could not check an event stream's credentials; it goes on", "path", r.URL.Path, "err", err)
		return nil
	case p.Role != was.Role || p.Key != was.Key:
		return errCredentialsGone
	}
	return nil
}
