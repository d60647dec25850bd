// Package console serves callin's producer console: server-rendered HTML
// with templ and htmx, live over server-sent events, for a browser
// session, and its static files (embedded from static/). package web
// mounts it (Public, Routes) beside the API, over what both share
// (package web/core); it does not import the API.
//
// The pages (console.go, pages.go, notes.go, settings.go, report.go,
// recordings.go) are templ components (*.templ; go tool templ generate
// writes *_templ.go). The buttons of a caller's row come from action.Table
// (lines.go), the show controls from control.Table, each through core's
// requests, as the API's do. The report's CSV downloads are core's exports
// (core.ExportCSV), the same as the API's.
//
// # Live updates
//
// Each show's console side (consoleShow, live.go) is a subscriber of the
// show's feed that its hub follows (core.Side): its renderer (render.go),
// its clients (consoles.go) and the profiles and caller notes of the
// callers shown (callerinfo.go), fetched again when the hub says a
// number changed (core.Hub.Forget).
//
// The renderer renders the console's
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
// # The host's line and talkback
//
// The host's lines (broadcast's MediaState.HostLines; hostline.templ) are
// cards in the on-air area of the console and the host view, ringing
// from Call host, then on air with their timer, with control.Table's
// mute-host and hangup-host. A talkback's pill says in words where it
// reaches and who speaks (talkbackLabel). A menu with no room below opens
// upward (console.js).
package console
