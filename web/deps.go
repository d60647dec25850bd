package web

import (
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/core"
)

// What a Server is configured with and depends on; each is package
// web/core's (see there), named here for the packages that wire a Server.
type (
	// Config configures a Server (core.Config).
	Config = core.Config
	// Limits bound requests, connections and event streams (core.Limits).
	Limits = core.Limits
	// Shows is the read side of the broadcast application (core.Shows).
	Shows = core.Shows
	// Feed starts live feeds of shows' updates (core.Feed).
	Feed = core.Feed
	// Subscription is one live feed of a show's updates (core.Subscription).
	Subscription = core.Subscription
	// Callers is the caller actions of the broadcast application (core.Callers).
	Callers = core.Callers
	// Controls is the show-wide controls of the broadcast application (core.Controls).
	Controls = core.Controls
	// TalkbackRules are what a show's talkback may use (core.TalkbackRules).
	TalkbackRules = core.TalkbackRules
	// History is the history store (core.History).
	History = core.History
	// Chat keeps each show's chat (core.Chat).
	Chat = core.Chat
	// Recordings keeps the shows' finished recordings (core.Recordings).
	Recordings = core.Recordings
	// Auth is what web needs of web/auth (core.Auth).
	Auth = core.Auth
	// Blocks flags the callers in line whose number is blocked (core.Blocks).
	Blocks = core.Blocks
	// CallerNotes keeps what producers write about callers (core.CallerNotes).
	CallerNotes = core.CallerNotes
	// NotesVersions keeps caller notes' versions for the API (core.NotesVersions).
	NotesVersions = core.NotesVersions
	// Phones keeps people's phones (core.Phones).
	Phones = core.Phones
	// Pages reads the API's lists a page at a time (core.Pages).
	Pages = core.Pages
	// PageRequest is one page's request (core.PageRequest).
	PageRequest = core.PageRequest
	// Idempotency keeps the API's Idempotency-Key answers (core.Idempotency).
	Idempotency = core.Idempotency
	// IdemAnswer is what BeginIdempotent found (core.IdemAnswer).
	IdemAnswer = core.IdemAnswer
	// IdemOutcome is what to do with a request with an Idempotency-Key (core.IdemOutcome).
	IdemOutcome = core.IdemOutcome
)

// Page is one page of a list (core.Page).
type Page[T any] = core.Page[T]

// The outcomes of Idempotency.BeginIdempotent (core.IdemNew and the others).
const (
	IdemNew      = core.IdemNew
	IdemReplay   = core.IdemReplay
	IdemMismatch = core.IdemMismatch
	IdemInFlight = core.IdemInFlight
)

// DefaultLimits are the bounds a zero Limits stands for (core.DefaultLimits).
func DefaultLimits() Limits { return core.DefaultLimits() }

// BroadcastFeed adapts a *broadcast.App to Feed (core.BroadcastFeed).
func BroadcastFeed(app *broadcast.App) Feed { return core.BroadcastFeed(app) }
