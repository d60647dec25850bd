package core

import (
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/callin-radio/callin/internal/testsignal"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/clientaddr"
	"github.com/callin-radio/callin/web/stream"
)

// Config configures a Server. Shows, Feed, Callers, Controls and Auth are
// required; History may be nil (no caller pages, search, reports or
// badges), and so may Chat (the chat is then kept in memory only and lost
// on restart).
type Config struct {
	Shows    Shows
	Feed     Feed
	Callers  Callers
	Controls Controls
	History  History
	Chat     Chat
	Auth     Auth
	Logger   *slog.Logger
	Now      func() time.Time

	// RenderEvery is the most often a show's console fragments are
	// re-rendered: updates within it are coalesced (default 25 ms).
	RenderEvery time.Duration
	// Heartbeat is the SSE comment interval that keeps proxies from
	// closing idle streams (default 15 s).
	Heartbeat time.Duration
	// Ring is how many transitions per show the event stream keeps for
	// Last-Event-ID resumption (default 4096).
	Ring int
	// ClientBuffer is each SSE client's buffer in messages; a client that
	// falls this far behind is disconnected (default 256).
	ClientBuffer int
	// WaitingRows is the most plain waiting callers a console lists; the
	// rest are counted in a last row, "… and N more waiting" (default
	// 500). The counts at the top stay exact.
	WaitingRows int
	// Limits bound request bodies and event streams (zero fields: the
	// defaults of DefaultLimits). The server's timeouts and connection
	// bound are Limits.HTTPServer's and Limits.Listener's.
	Limits Limits
	// Talkback says, per show key, which phones and media a talkback may
	// use; a show without an entry may ring only the user's own phone and
	// play only plain sound: prompts (see TalkbackRules).
	Talkback map[string]TalkbackRules
	// Blocks, when set, is told of every block and unblock so callers
	// already in line are flagged (*broadcast.App satisfies it).
	Blocks Blocks
	// Recordings, when set, lists the shows' recordings and serves their
	// files; nil: the recordings routes answer 404.
	Recordings Recordings
	// Pages, when set, reads the API's lists a page at a time (?limit,
	// ?cursor; *postgres.Store adapted by cmd/callin) and streams the CSV
	// exports; nil: each list answers in one page.
	Pages Pages
	// Idempotency, when set, keeps the API's Idempotency-Key answers
	// (*postgres.Store adapted by cmd/callin); nil: the header is ignored.
	Idempotency Idempotency
	// Phones, when set, keeps people's phones; the settings page sets
	// one's own. nil: no phones here.
	Phones Phones
	// PhoneRule is what a person's phone may be here (serve's
	// --phones-allowed): the settings page says it and refuses any other.
	// The zero rule is queue.DefaultPhonesAllowed.
	PhoneRule queue.PhoneRule
	// Notes, when set, keeps the caller notes producers write on a row
	// and a caller's page (*postgres.Store satisfies it); nil: no notes.
	Notes CallerNotes
	// AllowedHosts are the host names (no port) requests may name in
	// their Host header, besides localhost and IP literals, which always
	// pass; "*" allows any. Others are refused with 421, so that a name
	// rebound to callin's address (DNS rebinding) reaches nothing.
	AllowedHosts []string
	// Proxies are the trusted proxies whose forwarding header names the
	// client (see ClientAddr); nil: none.
	Proxies *clientaddr.Proxies

	// Actions is the table of caller actions (default action.Table): a
	// test adds one.
	Actions []action.Action

	Retry time.Duration // wait before retrying a failed subscribe or chat load (tests shorten it)
	// Rendered is told how many line rows each render of a role rendered
	// rather than took from the cache (a test signal).
	Rendered testsignal.Signal[RenderedRows]
}

// RenderedRows is how many line rows one render of a console role
// rendered rather than took from its cache.
type RenderedRows struct {
	Role auth.Role
	Rows int
}

// newStreams is the server's event streams, bounded by its Limits.
func (s *Core) newStreams() *stream.Server {
	l := s.Limits
	return stream.NewServer(stream.Config{
		Limits: stream.Limits{Max: l.MaxStreams, Reserved: l.StreamsReserved, PerUser: l.StreamsPerUser, Share: l.StreamShare,
			WriteTimeout: l.StreamWriteTimeout, Recheck: l.StreamRecheck},
		Heartbeat:    s.Cfg.Heartbeat,
		Authenticate: func(r *http.Request) (auth.Principal, error) { return s.Cfg.Auth.Authenticate(r) },
		Fail:         s.APIFail,
		Log:          s.Log,
	})
}

// New is what both audiences share for cfg, with cfg's defaults
// filled in, and a hub for each show cfg.Shows lists at this moment (each
// to follow its sides before it runs).
func New(cfg Config) *Core {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RenderEvery <= 0 {
		cfg.RenderEvery = 25 * time.Millisecond
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	if cfg.Ring <= 0 {
		cfg.Ring = 4096
	}
	if cfg.ClientBuffer <= 0 {
		cfg.ClientBuffer = 256
	}
	if cfg.WaitingRows <= 0 {
		cfg.WaitingRows = 500
	}
	if cfg.Actions == nil {
		cfg.Actions = action.Table
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	cfg.Limits = cfg.Limits.orDefault()
	c := &Core{Cfg: cfg, Log: cfg.Logger, Limits: cfg.Limits, Hubs: map[string]*Hub{}}
	c.Streams = c.newStreams()
	c.Keys = slices.Sorted(slices.Values(cfg.Shows.Shows()))
	for _, k := range c.Keys {
		c.Hubs[k] = newHub(&c.Cfg, c.Log, k)
	}
	return c
}
