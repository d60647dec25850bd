// Package rest serves callin's automation API: JSON under /api/v1 with
// bearer tokens, documented at /api/v1/openapi.json. package web mounts it
// (Routes) beside the console, over what both share (package web/core);
// it does not import the console.
//
// The handlers (api.go, history.go, notes.go, me.go) read, check and act
// with early returns, through core's requests (a caller action, a show
// control through the audit, a block, notes, recordings) and answer the
// API's Go types (package web/api, made from the domain's by package
// web/api/from). The routes of the caller actions and the show controls,
// and their operations in the OpenAPI document (openapi.go), are made
// from action.Table and control.Table; GET /me lists the actions the
// caller may do. POSTs with an Idempotency-Key are done once
// (idempotency.go); lists are read a page at a time (pages.go); the
// calls and transitions export as CSV through core.ExportCSV, as the
// console's report downloads do.
//
// # The event stream
//
// Each show's event stream (events.go) is the API's side of the show
// (core.Side): it numbers every event for the API (transitions, and the
// show's lines, settings, recording, talkback, host, node, load, studio and chat
// events) and keeps a ring of the last Config.Ring, so a client resumes
// with Last-Event-ID, or gets an event named "reset" when its id is no
// longer kept, or when the feed was lost; the reset carries the newest
// event's id, so a client resuming after it gets what follows. The lists
// of callers name the event they are as of (asof.go: broadcast numbers its
// updates, the stream marks the newest event id per update), so "list,
// then stream from event_id" gets every later change once; a PATCH of
// settings is one settings event. Its connections follow the SSE
// loop of package web/stream. A show across nodes lists its nodes and
// studio, and its stream sends load and studio events; the studio is set
// with POST /api/v1/shows/{show}/studio (control.Table's set-studio).
package rest
