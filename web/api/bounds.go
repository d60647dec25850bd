package api

// Error codes: Problem.code, stable for programs (issue 22, point 4).
const (
	CodeBadRequest   = "bad_request"            // malformed request (bad JSON, unknown field)
	CodeInvalid      = "invalid"                // well-formed but not acceptable
	CodeUnauthorized = "unauthorized"           // no valid session or token
	CodeForbidden    = "forbidden"              // the role may not do this
	CodeNotFound     = "not_found"              // unknown show, caller or number
	CodeConflict     = "conflict"               // lost a race: busy, locked, on air full
	CodeGone         = "gone"                   // the caller has hung up
	CodeUnavailable  = "unavailable"            // the show's Asterisk node is down, or the service is full
	CodeLimited      = "rate_limited"           // too many event streams for these credentials
	CodeTooLarge     = "too_large"              // the body is over the limit
	CodeMediaType    = "unsupported_media_type" // a multipart body
	CodeTelephony    = "telephony"              // Asterisk refused or timed out
	CodeInternal     = "internal"               // a bug; details are in the log only
	CodeMethod       = "method_not_allowed"     // the path has no such method (Allow names those it has)
	CodeStale        = "precondition_failed"    // If-Match named a version that is no longer the current one
	CodeNoMeasure    = "no_measure"             // the caller's line has no statistics to measure (a Local channel)
	CodeStandby      = "standby"                // a standby instance could not reach the one driving the show
)

// Bounds of what the API takes, enforced by the handlers and stated by
// the document.
const (
	MaxText           = 200     // characters of a text field (names, topic, reason, screener)
	MaxPriority       = 9       // a screener's priority, from 0
	MaxCapacity       = 100_000 // a show's capacity
	MaxOnAirLimit     = 100     // a show's on-air limit
	MaxAnnounceEvery  = 3600    // seconds between position announcements
	MaxWarningMinutes = 240     // the on-air warning, from 1
	MaxChat           = 500     // characters of a chat message
	MaxTalkbackMedia  = 10      // messages of one talkback
	MaxSearch         = 100     // callers one search answers
	DefaultPageLimit  = 100     // items of a page without ?limit
	MaxPageLimit      = 1000    // the largest ?limit of a page
	MaxCursor         = 512     // characters of a ?cursor
)
