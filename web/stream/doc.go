// Package stream is the event streams (server-sent events) both of web's
// audiences serve: the console's fragments to browsers and the API's
// numbered events. It owns one SSE loop (Server.Serve: take a slot for
// the principal's credential, attach, then select on the request or a
// logout, the client being kicked, its messages, a heartbeat and a
// recheck of the credentials, flushing each write), the clients (Client,
// Set: a client that falls behind is kicked) and the registry bounding
// the streams, in all and per user or token (registry.go), which ends a
// credential's streams when it logs out (Server.End).
package stream

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/callin-radio/callin/web/auth"
)

// Limits bound the event streams; web.Limits states them (its Stream*
// and MaxStreams fields).
type Limits struct {
	// Max is the most streams of the whole service (503 beyond), of
	// which the last Reserved are only for admins and producers.
	Max, Reserved int
	// PerUser is the most of one user or token (429 beyond), and Share
	// the most of Max (a fraction) one may hold: the smaller applies.
	PerUser int
	Share   float64
	// WriteTimeout bounds each write; Recheck is how often the
	// credentials are checked again.
	WriteTimeout, Recheck time.Duration
}

// Config configures a Server.
type Config struct {
	Limits    Limits
	Heartbeat time.Duration // the SSE comment interval
	// Authenticate checks a stream's credentials again (auth.Service's).
	Authenticate func(r *http.Request) (auth.Principal, error)
	// Fail answers a request refused a stream (too many streams).
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	Log  *slog.Logger
}

// Server serves event streams and keeps count of them.
type Server struct {
	cfg     Config
	streams *streamSet
}

// NewServer makes a Server.
func NewServer(cfg Config) *Server {
	return &Server{cfg: cfg, streams: newStreamSet(cfg.Limits)}
}

// End ends every stream of credential key (auth.Principal.Key) with why
// (ErrLoggedOut), and returns how many it ended.
func (s *Server) End(key string, why error) int { return s.streams.end(key, why) }

// Count returns the open streams, in all and of holder ("token:<name>",
// "user:<name>").
func (s *Server) Count(holder string) (total, theirs int) { return s.streams.count(holder) }
