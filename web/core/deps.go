package core

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/action"
	"github.com/callin-radio/callin/web/auth"
	"github.com/callin-radio/callin/web/control"
	"github.com/callin-radio/callin/web/feed"
)

// Shows is the read side of the broadcast application; *broadcast.App
// satisfies it.
type Shows interface {
	// Shows returns the keys of the configured shows.
	Shows() []string
	// Snapshot returns everything needed to render a show; queue.ErrNotFound
	// for an unknown show.
	Snapshot(show string) (broadcast.Snapshot, error)
	// Call returns one live or recently ended call, reading only that call;
	// queue.ErrNotFound for an unknown show or call.
	Call(show, callID string) (queue.Call, error)
}

// Feed starts live feeds of shows' updates (feed.Source); BroadcastFeed
// adapts a *broadcast.App.
type Feed = feed.Source

// Subscription is one live feed of a show's updates (feed.Subscription).
type Subscription = feed.Subscription

// Callers is the caller actions of the broadcast application
// (action.Callers); *broadcast.App satisfies it.
type Callers = action.Callers

// Controls is the show-wide controls of the broadcast application
// (control.Controls); *broadcast.App satisfies it.
type Controls = control.Controls

// TalkbackRules are what a show's talkback may use (control.TalkbackRules).
type TalkbackRules = control.TalkbackRules

// History is the history store; *postgres.Store satisfies it. Errors wrap
// queue.ErrNotFound or queue.ErrInvalid where they apply.
type History interface {
	// CallerProfile returns what is known of a number; a number never seen
	// has a zero profile and no error.
	CallerProfile(ctx context.Context, number string) (queue.Profile, error)
	// CallerCalls returns a number's last calls, newest first.
	CallerCalls(ctx context.Context, number string, limit int) ([]queue.CallRecord, error)
	// ShowDay returns a show's figures for the day containing day.
	ShowDay(ctx context.Context, show string, day time.Time) (queue.Day, error)
	// ShowCalls returns a show's calls that arrived in [from, to).
	ShowCalls(ctx context.Context, show string, from, to time.Time) ([]queue.CallRecord, error)
	// Block blocks a number (queue.ErrInvalid without digits).
	Block(ctx context.Context, number, by, reason string) error
	// Unblock lifts a block (queue.ErrNotFound for a number never seen).
	Unblock(ctx context.Context, number, by string) error
	// ShowTransitions returns a show's transitions made in [from, to), in
	// order of time.
	ShowTransitions(ctx context.Context, show string, from, to time.Time) ([]queue.Transition, error)
	// SearchCallers returns up to limit callers whose number contains the
	// digits of q or whose name contains q, most recent first
	// (queue.ErrInvalid for a blank q).
	SearchCallers(ctx context.Context, q string, limit int) ([]queue.Profile, error)
}

// Chat keeps each show's chat between screeners and the host;
// *postgres.Store satisfies it.
type Chat interface {
	// AddShowMessage stores a message and returns it as stored, with its id
	// and time (queue.ErrInvalid for an empty or over-long body).
	AddShowMessage(ctx context.Context, show, author, body string) (queue.ShowMessage, error)
	// ShowMessages returns a show's latest limit messages, oldest first.
	ShowMessages(ctx context.Context, show string, limit int) ([]queue.ShowMessage, error)
}

// Recordings keeps the shows' finished recordings and serves their files
// from Asterisk; cmd/callin adapts the store and the ARI clients.
type Recordings interface {
	// ShowRecordings returns a show's recordings, newest first, at most
	// limit; with callID, those during which that call was on air.
	ShowRecordings(ctx context.Context, show, callID string, limit int) ([]queue.Recording, error)
	// RecordingFile opens a show's recording's file: its body, to close,
	// and its content type. queue.ErrNotFound for a recording the show
	// does not have or whose file is gone; broadcast.ErrNodeDown or
	// broadcast.ErrTelephony when Asterisk does not serve it.
	RecordingFile(ctx context.Context, show, name string) (io.ReadCloser, string, error)
}

// Auth is what web needs of web/auth; *auth.Service satisfies it. The
// middlewares put an auth.Principal in the request context; permissions
// are auth.Can.
type Auth interface {
	// RequireSession passes requests with a console session and checks the
	// CSRF token of unsafe methods; a browser without one is sent to the
	// login page.
	RequireSession(next http.Handler) http.Handler
	// RequireBearer passes requests with a valid API token; others get a
	// JSON 401.
	RequireBearer(next http.Handler) http.Handler
	// LoginHandler serves the login POST; fail draws the login page again
	// with a status and a message.
	LoginHandler(fail func(w http.ResponseWriter, r *http.Request, status int, message string)) http.Handler
	// LogoutHandler serves the logout POST (behind RequireSession).
	LogoutHandler() http.Handler
	// CSRFToken returns the token the session's forms carry (field
	// csrf_token, or header X-CSRF-Token).
	CSRFToken(r *http.Request) string
	// Authenticate returns who made r (bearer token, else session
	// cookie), checking no CSRF token: event streams check their
	// credentials again with it. Errors wrap auth.ErrUnauthenticated when
	// the credentials are missing, unknown, expired or revoked; other
	// errors mean they could not be checked (the database is down).
	Authenticate(r *http.Request) (auth.Principal, error)
}

// Blocks flags the callers in line whose number is blocked or unblocked;
// *broadcast.App satisfies it.
type Blocks interface {
	// SetBlocked flags (or unflags) every live caller of every show whose
	// number normalises to number's, recording who did it; it returns how
	// many callers it changed.
	SetBlocked(number string, blocked bool, note string, actor queue.Actor) int
}

// BroadcastFeed adapts a *broadcast.App to Feed.
func BroadcastFeed(app *broadcast.App) Feed { return broadcastFeed{app} }

type broadcastFeed struct{ app *broadcast.App }

func (f broadcastFeed) Subscribe(show string) (Subscription, error) {
	sub, err := f.app.Subscribe(show)
	if err != nil {
		return nil, err
	}
	return broadcastSub{sub}, nil
}

type broadcastSub struct{ *broadcast.Subscription }

func (s broadcastSub) Updates() <-chan broadcast.Update { return s.C }
