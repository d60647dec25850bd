package web

import (
	"net/http"
	"time"
)

// serveSSE is the one SSE loop: headers, attach (subscribe), then select
// on the request's context, the client being kicked, its messages (already
// rendered by the hub) and a heartbeat, flushing after each write.
func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request, h *hub, c *client, attach func()) {
	// Attach before the headers go out: once a client sees the response,
	// nothing published after that is missed.
	attach()
	defer h.detach(c)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// The retry hint keeps reconnecting browsers from hammering the server.
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil {
		return
	}
	if err := rc.Flush(); err != nil {
		s.log.Warn("web: SSE without flush", "path", r.URL.Path, "err", err)
		return
	}
	beat := time.NewTicker(s.cfg.Heartbeat)
	defer beat.Stop()
	for {
		var msg []byte
		select {
		case <-r.Context().Done():
			return
		case <-c.gone:
			return
		case msg = <-c.ch:
		case <-beat.C:
			msg = []byte(": heartbeat\n\n")
		}
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
