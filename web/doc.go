// Package web serves callin's producer console (server-rendered HTML with
// templ and htmx, live over server-sent events) and its automation API
// (JSON under /api/v1 with bearer tokens, documented at
// /api/v1/openapi.json).
//
// # Packages
//
// web wires both audiences: the console (consoleUI) and the API
// (restAPI) are a type each over what they share (core: the
// configuration, the shows' hubs, the event streams, the audited controls
// and the caller actions); Server keeps the front (front.go), the bounds
// (limits.go) and the routes (server.go). What they share besides is in
// packages of its own, which import neither web nor each other upward:
// web/action (the table of caller actions), web/control (the table of
// show controls and their audit), web/feed (each show's one live
// subscription, with two subscribers), web/stream (the SSE loop, its
// clients and bounds), web/shared (errors to HTTP, strict JSON, printable
// text, the principal), web/api (the API's types and document) and
// web/api/from (the API's types from the domain's), web/auth and
// web/clientaddr; web/webtest holds the fakes the tests of both drive.
//
// # Dependencies
//
// web owns narrow interfaces of what it uses: Shows, Callers (an alias
// of action.Callers) and Controls (satisfied by *broadcast.App), Feed
// (feed.Source; BroadcastFeed adapts
// *broadcast.App), History, Chat and CallerNotes (*postgres.Store) and
// Auth (*auth.Service). Controls take no actor, so web logs every show
// control change with the user or token that made it.
// Permissions are auth.Can; the principal comes from the auth middlewares
// (shared.Principal, shared.Allow).
//
// # One table per kind of action
//
// A caller action is one row of action.Table (package web/action): its name and
// URL segment, the permission it needs (of the call: drop), queue's rule
// (queue.May) and the console's narrower button rule, its JSON body, its
// API operation, its button and key, and the words for it. The console's
// buttons (lines.go), the API's routes (server.go) and operations
// (openapi.go), the permission check (callerAct) and GET /me (me.go) are
// made from it. The show-wide controls are the rows of control.Table
// (package web/control), served by consoleControl and apiControl, each
// through control.Audited, as are the API's settings. The API's Go types and its OpenAPI document,
// whose schemas are made from them by reflection, are package web/api's.
//
// # Live updates
//
// Each show has one feed (package web/feed): the show's only subscription
// to the broadcast application, resubscribed when lost, handing every
// update to its two subscribers, each audience's side of the show: the
// API's event stream (events, api_events.go, kept by restAPI) and the
// console's (consoleShow, console_live.go, kept by consoleUI: its
// renderer, render.go, its clients and the profiles and caller notes of
// the callers shown, callerinfo.go). The show's hub (hub.go) holds the
// feed and what both audiences show besides the updates, the chat
// (chat.go) and the on-air warning, and tells both sides when they change.
// The event stream numbers every event for the API (transitions, and the
// show's lines, settings, recording, talkback, node, load, studio and chat events; a
// ring of the last Config.Ring, so a client resumes with Last-Event-ID,
// or gets an event named "reset" when its id is no longer kept, or when
// the feed was lost). The renderer renders the console's
// fragments (header, stats, on air, up next, screening, waiting, chat), and
// the host view's (hosthead, hostair, hostnext, chat), once per role and
// page for all of them, at most every Config.RenderEvery, sending only
// what changed: for the line groups (up next, waiting) the changed rows
// alone, as one "rows" event of htmx out-of-band swaps, unless the rows
// that stay were reordered; other fragments whole. Each role's rendered
// rows are cached by what they show (rowKey), so a render re-renders only
// the rows whose call changed. The waiting group lists the first
// Config.WaitingRows callers and counts the rest in a last line ("… and N
// more waiting"; the counts at the top stay exact): row swaps diff only
// the listed rows, so a caller beyond them is never sent and one moving up
// into them is inserted, and the count is swapped on its own (the group is
// sent whole when the count line appears or goes). Only listed callers'
// profiles are fetched. A console that connects gets every fragment whole,
// the line groups assembled from the cached rows. Every SSE connection
// follows one pattern (package web/stream, shared by both audiences):
// attach, then select on the request, being kicked, messages and a
// heartbeat, flushing each write. A client whose buffer fills is
// disconnected (a browser reconnects and gets a full render).
//
// # The console in the browser
//
// Fragments and row swaps are merged into the page by id (idiomorph, with
// static/morph.js as htmx's "morph" swap), so the elements a producer is
// using stay the same elements: a click begun before an update, a key just
// after one, the focus, an open menu, the selected row and half-typed text
// survive it. Buttons say what they do in data attributes (lines.go's
// rowAct) that static/console.js reads when one is pressed; rows carry no
// timer text (console.js ticks it, and escalates it) and no place in line
// (a CSS counter), so a row's HTML changes only when its call does.
//
// # A show across nodes
//
// A show whose line spans several Asterisk nodes (issue 24; nodes.go)
// shows each caller's node on its row ("node B"), each node's load in
// the header ("A 212/600 studio · B 600/600 full", live from
// broadcast's UpdateLoad), and, once its studio node is lost
// (UpdateStudio), a banner on every console with a button per node up
// for producers and admins to name another studio: control.Table's
// set-studio, audited, which the API serves as POST
// /api/v1/shows/{show}/studio. The API's show lists the nodes and the
// studio, and its event stream sends load and studio events. A show on
// one node shows none of this, in the console or the API.
//
// # Errors
//
// Domain errors become HTTP statuses in one table (package web/shared:
// Classify): not found 404, gone 409 "gone", conflict 409 "conflict", invalid 422, node down
// 503, telephony 502; bad input is 400 or 422 naming the field; anything
// else is a 500 whose details are only logged. The JSON shape is
// {"error":{"code":"...","message":"...","field":"..."}}; the console
// shows the same errors as a sentence in its flash area.
//
// Caller names, notes and chat come from outside and are always escaped by
// templ; nothing here writes them raw. Caller IDs are shown through
// shared.Printable (control characters, bidirectional overrides and bytes
// that are not UTF-8 become U+FFFD) and linked only when they are phone numbers;
// text a producer sends with control characters is refused.
//
// # Hostile clients
//
// Limits (limits.go) is the one place the bounds on clients are stated: the
// server's timeouts, header and body sizes and connections (serve builds its
// http.Server and listener from it: at most MaxConnsPerAddress of one client
// address, idle keep-alive connections ended first when the pool is full,
// see connPool; the probes bounded by Probes), and the event streams: at
// most StreamsPerUser per user or token (all sessions together), MaxStreams
// in all with StreamsReserved kept for admins and producers, each write
// bounded, the credentials checked again every StreamRecheck, and a
// session's streams ended when it logs out (package web/stream). Every answer
// carries the security headers (a Content-Security-Policy allowing no
// inline script or framing, no-store): see secure; Front puts them, and the
// allowed-hosts check (Config.AllowedHosts), in front of whatever else the
// service serves. JSON bodies are read strictly (shared.DecodeJSON:
// application/json only, no unknown, repeated or wrong-case key). A
// talkback may use only its show's TalkbackRules.
package web
