// Package web serves callin's producer console (server-rendered HTML with
// templ and htmx, live over server-sent events) and its automation API
// (JSON under /api/v1 with bearer tokens, documented at
// /api/v1/openapi.json).
//
// # Packages
//
// web wires both audiences, as Go web services held up as models do
// (miniflux: internal/ui beside internal/api): New builds what they share
// (package web/core: the configuration, the shows' hubs, the event
// streams, the audited controls and the caller actions), then the console
// (package web/console) and the API (package web/rest) over it, and has
// each show's hub follow both sides of the show. Server keeps the front
// (front.go: the security headers, the allowed hosts, the bound on
// bodies, panics as JSON 500s) and the route table (server.go). The
// arrows point down only: web imports console, rest and core; console
// and rest import core, never each other; core imports neither.
//
// What they share besides is in packages of its own, below core:
// web/action (the table of caller actions), web/control (the table of
// show controls and their audit), web/feed (each show's one live
// subscription, with two subscribers), web/stream (the SSE loop, its
// clients and bounds), web/shared (errors to HTTP, strict JSON, printable
// text, the principal), web/api (the API's types and document) and
// web/api/from (the API's types from the domain's), web/auth and
// web/clientaddr. web/webtest holds the fakes the tests of both drive,
// and web/webtest/webenv a whole Server on them.
//
// What cmd/callin configures a Server with (Config, Limits, the
// interfaces of its dependencies: Shows, Feed, Callers, Controls, History,
// Chat, CallerNotes, Auth, ...) is web/core's, named here too (deps.go).
//
// # Hostile clients
//
// Every answer carries the security headers (a Content-Security-Policy
// allowing no inline script or framing, no-store): see secure; Front puts
// them, and the allowed-hosts check (Config.AllowedHosts), in front of
// whatever else the service serves. Every request body is bounded (bound)
// before a handler reads it. The bounds themselves are stated in one
// place, core.Limits (package web/core).
package web
