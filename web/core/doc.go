// Package core is what callin's console (package web/console) and its API
// (package web/rest) share; package web builds it (New) and mounts both
// over it. It imports neither audience.
//
// # What it holds
//
// Core: the configuration (Config, with its defaults filled in), each
// show's hub (Hub, hub.go), the event streams and their bounds (Streams,
// package web/stream), and the requests both audiences make: a show (Hub,
// ShowReq), a caller action (CallerAct, TakeNext), a show control through
// the audit (Controls, Show), a block and caller notes (callers.go),
// recordings (recordings.go), the CSV exports (ExportCSV: the API's
// format=csv and the console report's downloads), JSON answers and
// errors (respond.go). What both say of a screening on a phone is
// screening.go's; how much of a list they show, lists.go's.
//
// # Dependencies
//
// core owns narrow interfaces of what the server uses: Shows, Callers (an
// alias of action.Callers) and Controls (satisfied by *broadcast.App),
// Feed (feed.Source; BroadcastFeed adapts *broadcast.App), History, Chat
// and CallerNotes (*postgres.Store), Pages and Idempotency (the store,
// adapted by cmd/callin), Phones, Recordings and Auth (*auth.Service).
// Controls take no actor, so every show control change is logged with the
// user or token that made it. Permissions are auth.Can; the principal
// comes from the auth middlewares (shared.Principal, shared.Allow).
//
// # One table per kind of action
//
// A caller action is one row of action.Table (package web/action): its
// name and URL segment, the permission it needs (of the call: drop),
// queue's rule (queue.May) and the console's narrower button rule, its
// JSON body, its API operation, its button and key, and the words for it.
// The console's buttons, the API's routes and operations, the permission
// check (CallerAct) and GET /me are made from it (Config.Actions, by
// default action.Table). The show-wide controls are the rows of
// control.Table (package web/control), served by both audiences, each
// through control.Audited (Controls), as are the API's settings.
//
// # A show's hub
//
// Each show has one feed (package web/feed): the show's only subscription
// to the broadcast application, resubscribed when lost, handing every
// update to its two subscribers, each audience's side of the show (Side):
// the API's event stream and the console's renderer. The hub holds the
// feed and what both audiences show besides the updates, the chat
// (chat.go) and the on-air warning, and tells both sides when they change
// (Change), or when what is known of a caller's number changed elsewhere
// (Forget).
//
// # Errors
//
// Domain errors become HTTP statuses in one table (package web/shared:
// Classify): not found 404, gone 409 "gone", conflict 409 "conflict",
// a stale version 412, invalid 422, node down 503, telephony 502; bad
// input is 400 or 422 naming the field; anything else is a 500 whose
// details are only logged (APIFail, LogFail, each with the request's
// X-Request-Id). The API answers RFC 9457 problems,
// application/problem+json: type, title, status, detail, a stable code,
// the field at fault, the permission a 403 refused, the request id; the
// console shows the same errors as a sentence in its flash area.
//
// # Hostile clients
//
// Limits (limits.go) is the one place the bounds on clients are stated:
// the server's timeouts, header and body sizes and connections (serve
// builds its http.Server and listener from it: at most MaxConnsPerAddress
// of one client address, idle keep-alive connections ended first when the
// pool is full, see connPool; the probes bounded by Probes), and the event
// streams: at most StreamsPerUser per user or token (all sessions
// together), MaxStreams in all with StreamsReserved kept for admins and
// producers, each write bounded, the credentials checked again every
// StreamRecheck, and a session's streams ended when it logs out (package
// web/stream). JSON bodies are read strictly (shared.DecodeJSON:
// application/json only, no unknown, repeated or wrong-case key). A
// talkback may use only its show's TalkbackRules. Refusals for want of
// room are logged at most every 10 s each (refusals.go).
package core
