package web

import (
	"net/http"
	"strings"
)

// apiOp is one documented operation of /api/v1.
type apiOp struct {
	method, path, summary string
	body                  string // schema name of the JSON body; "" for none
	result                string // schema name of the 200 response; "" for SSE
}

// apiOps documents every /api/v1 route; TestOpenAPIMatchesRoutes checks it
// against the router.
var apiOps = func() []apiOp {
	ops := []apiOp{
		{"GET", "/openapi.json", "This document.", "", "Object"},
		{"GET", "/shows", "List the shows.", "", "ShowList"},
		{"GET", "/shows/{show}", "Get a show: lines, recording, counts.", "", "Show"},
		{"PUT", "/shows/{show}/lines", "Open or close the show's lines.", "Lines", "Show"},
		{"GET", "/shows/{show}/callers", "List the show's live callers (filter with ?state=).", "", "CallList"},
		{"GET", "/shows/{show}/callers/{call}", "Get one live caller.", "", "Call"},
		{"POST", "/shows/{show}/take-next", "Put the next caller in line on air.", "", "Call"},
		{"POST", "/shows/{show}/talkback/start", "Start speaking to the holding bridge: call one of the show's talkback phones (endpoint) or play its talkback media.", "TalkbackStart", "Talkback"},
		{"POST", "/shows/{show}/talkback/stop", "Stop speaking to the holding bridge.", "", "Talkback"},
		{"GET", "/shows/{show}/on-air", "List the callers on air.", "", "CallList"},
		{"GET", "/shows/{show}/events", "Stream the show's transitions (SSE; resume with Last-Event-ID). At most 8 streams per token (429); an event named end closes the stream when the token is revoked.", "", ""},
		{"GET", "/callers/{number}", "A caller's profile and past calls (404 for a number never seen).", "", "History"},
		{"PUT", "/callers/{number}/block", "Block a number, saying why; its callers already in line are flagged and take-next passes them by.", "Block", "History"},
		{"DELETE", "/callers/{number}/block", "Unblock a number.", "", "History"},
	}
	for _, a := range callerActions {
		body := ""
		switch a.path {
		case "screen":
			body = "Screen"
		case "ready":
			body = "Notes"
		case "drop":
			body = "Drop"
		}
		ops = append(ops, apiOp{"POST", "/shows/{show}/callers/{call}/" + a.path, "Caller action: " + a.name + ".", body, "Call"})
	}
	return ops
}()

// openAPI builds the OpenAPI 3 document from apiOps.
func openAPI() map[string]any {
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	jsonBody := func(name string) map[string]any {
		return map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": ref(name)}}}
	}
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
	}
	paths := map[string]any{}
	for _, op := range apiOps {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		var params []any
		for _, p := range []string{"show", "call", "number"} {
			if strings.Contains(op.path, "{"+p+"}") {
				param := map[string]any{"name": p, "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
				if p == "number" {
					param["description"] = "A phone number: up to 20 digits, an optional leading + (%2B), and spaces, dashes, dots, slashes or brackets between them."
				}
				params = append(params, param)
			}
		}
		ok := jsonBody(op.result)
		if op.result == "" {
			ok = map[string]any{"content": map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string"}}}}
			params = append(params, map[string]any{"name": "Last-Event-ID", "in": "header", "schema": map[string]any{"type": "string"},
				"description": "Resume after this event id; an id no longer kept gets an event named reset."})
		}
		ok["description"] = "OK"
		o := map[string]any{
			"summary": op.summary,
			"responses": map[string]any{
				"200": ok,
				"400": errResp("Malformed request; error.field names the field."),
				"401": errResp("No valid bearer token."),
				"403": errResp("The token's role may not do this."),
				"404": errResp("Unknown show, caller or number."),
				"409": errResp("Lost a race (code conflict) or the caller is gone (code gone)."),
				"413": errResp("The body is over 64 KiB (code too_large)."),
				"415": errResp("A multipart body (code unsupported_media_type)."),
				"422": errResp("Unacceptable value; error.field names the field."),
				"429": errResp("Too many event streams for this token (code rate_limited)."),
				"500": errResp("Internal error; details are logged, not returned."),
				"502": errResp("Asterisk refused or timed out (code telephony)."),
				"503": errResp("The show's Asterisk node is down (code unavailable)."),
			},
		}
		if op.path != "/openapi.json" {
			o["security"] = []any{map[string]any{"bearer": []any{}}}
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != "" {
			b := jsonBody(op.body)
			b["required"] = false
			o["requestBody"] = b
		}
		item[strings.ToLower(op.method)] = o
	}
	str := map[string]any{"type": "string"}
	integer := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	dt := map[string]any{"type": "string", "format": "date-time"}
	obj := func(props map[string]any, required ...string) map[string]any {
		o := map[string]any{"type": "object", "properties": props}
		if required != nil {
			o["required"] = required
		}
		return o
	}
	notes := obj(map[string]any{"name": str, "location": str, "topic": str, "priority": map[string]any{"type": "integer", "minimum": 0, "maximum": maxPriority}})
	call := obj(map[string]any{
		"id": str, "number": str, "name": str, "node": str, "channel_id": str,
		"state":      map[string]any{"type": "string", "enum": []string{"arriving", "waiting", "screening", "ready", "on_air", "ended"}},
		"arrived_at": dt, "since": dt, "position": integer, "notes": ref("Notes"), "screener": str,
		"muted": boolean, "locked": boolean, "next": boolean, "top": boolean, "announcing": boolean,
		"was_on_air": boolean, "pending": str, "outcome": str, "reason": str, "seq": integer,
		"blocked": boolean, "block_note": str,
	}, "id", "number", "state")
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "callin API", "version": "1",
			"description": "Automation API of callin, the radio call-in queue. Errors are {\"error\":{\"code\",\"message\",\"field\"}}."},
		"servers": []any{map[string]any{"url": "/api/v1"}},
		"paths":   paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{
				"Object":   map[string]any{"type": "object"},
				"Error":    obj(map[string]any{"error": obj(map[string]any{"code": str, "message": str, "field": str}, "code", "message")}, "error"),
				"Notes":    notes,
				"Call":     call,
				"CallList": obj(map[string]any{"callers": map[string]any{"type": "array", "items": ref("Call")}}, "callers"),
				"Show": obj(map[string]any{"key": str, "title": str, "lines_open": boolean, "recording": boolean,
					"talkback": boolean, "node_up": boolean, "announce_every_seconds": integer, "stats": map[string]any{"type": "object"}}, "key"),
				"ShowList":      obj(map[string]any{"shows": map[string]any{"type": "array", "items": ref("Show")}}, "shows"),
				"Lines":         obj(map[string]any{"open": boolean}, "open"),
				"Screen":        obj(map[string]any{"screener": str}),
				"Drop":          obj(map[string]any{"reason": str}),
				"Block":         obj(map[string]any{"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": maxText}}, "reason"),
				"TalkbackStart": obj(map[string]any{"endpoint": str, "media": map[string]any{"type": "array", "items": str, "maxItems": maxTalkbackMedia}}),
				"Talkback":      obj(map[string]any{"talkback": boolean}),
				"History": obj(map[string]any{
					"profile": obj(map[string]any{"number": str, "name": str, "notes": str, "calls": integer, "on_air": integer,
						"first_call": dt, "last_call": dt, "blocked": boolean, "blocked_reason": str, "blocked_by": str, "blocked_at": dt}),
					"calls": map[string]any{"type": "array", "items": obj(map[string]any{"id": str, "show": str, "number": str, "name": str,
						"state": str, "arrived_at": dt, "on_air_at": dt, "ended_at": dt, "outcome": str, "reason": str, "notes": ref("Notes")})},
				}, "profile", "calls"),
			},
		},
	}
}

func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, openAPI())
}
