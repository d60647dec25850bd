package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The OpenAPI document of /api/v1 is built here from apiOps, the one list
// of operations: TestOpenAPIMatchesRoutes checks it against the router
// both ways, the API tests validate every request the service accepts and
// every answer it gives against it (openapi_test.go), and the committed
// copy apiclient/openapi.json, from which the Go client is generated, must
// equal it (TestOpenAPIFileCurrent).

// apiOp is one operation of /api/v1.
type apiOp struct {
	method, path string
	id           string // operationId: stable, for generated clients
	tag          string
	summary      string
	desc         string  // more, for the description; the roles that may are added
	who          string  // who may do it, for the description
	params       []param // query and header parameters
	body         string  // schema of the JSON body; "" for none
	bodyOptional bool    // the body may be left out (an empty one is {})
	ok           content // the 200 answer
	// accepted, when set, says when it answers 202 with the same content
	// as 200: begun, with the outcome to come on the event stream.
	accepted string
	statuses []int // the other statuses it answers
}

// param is a query or header parameter.
type param struct {
	in, name, desc string
	schema         map[string]any
	required       bool
}

// content is a 200 answer's media types.
type content map[string]any

func jsonOK(schema string) content { return content{"application/json": mediaSchema(ref(schema))} }

func mediaSchema(s map[string]any) map[string]any { return map[string]any{"schema": s} }

// Roles, as the descriptions say them (auth.Can is the rule).
const (
	whoAny        = "Any role."
	whoProducer   = "Producers and admins."
	whoScreen     = "Screeners, producers and admins."
	whoHostDrop   = "Producers and admins; screeners drop callers not on air, hosts callers on air."
	whoTakeNext   = "Hosts, producers and admins."
	whoOnAir      = "Hosts (mute, lock), producers and admins."
	whoChat       = "Any role."
	whoRecordings = "Producers and admins."
)

// Statuses beside 200, by what an operation does. Every operation behind
// the token answers 401, 403 and 500.
var (
	stRead   = []int{401, 403, 404, 500}
	stBody   = []int{400, 413, 415, 422}
	stAct    = []int{409, 422, 502, 503}
	stNumber = []int{400, 404, 422} // a {number}: malformed, unseen, no phone number
)

func statuses(sets ...[]int) []int {
	var out []int
	for _, s := range sets {
		out = append(out, s...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	stateParam = param{in: "query", name: "state", desc: "Only callers in this state.",
		schema: enum("arriving", "waiting", "screening", "ready", "callback", "on_air")}
	dayParams = []param{
		{in: "query", name: "day", desc: "A day in the server's time zone, like 2026-03-01 (default: today). Ignored when from is given.", schema: map[string]any{"type": "string", "format": "date"}},
		{in: "query", name: "from", desc: "Start of a range of times (at most 31 days): arrivals for calls, changes for transitions.", schema: dateTime},
		{in: "query", name: "to", desc: "End of the range, exclusive (default: from plus one day).", schema: dateTime},
		{in: "query", name: "format", desc: "json (default) or csv, one row per item with a header line.", schema: enum("json", "csv")},
	}
)

// apiOps is every operation of /api/v1 with the table of caller actions.
var apiOps = apiOpsFor(callerActions)

// apiOpsFor is every operation of /api/v1 with the caller actions acts:
// fixedOps, then one operation per caller action.
func apiOpsFor(acts []callerAction) []apiOp {
	ops := slices.Clone(fixedOps)
	for _, a := range acts {
		st := statuses(stRead, stBody, []int{409, 422})
		if a.op.telephony {
			st = statuses(st, []int{502, 503})
		}
		ops = append(ops, apiOp{method: "POST", path: "/shows/{show}/callers/{call}/" + a.path, id: a.op.id, tag: "callers",
			summary: "Caller action: " + a.name, desc: a.op.desc, who: a.op.who, body: a.body.schema, bodyOptional: true, ok: jsonOK("Call"),
			accepted: a.op.accepted, statuses: st})
	}
	return ops
}

// fixedOps are the operations of /api/v1 other than the caller actions.
var fixedOps = []apiOp{
	{method: "GET", path: "/openapi.json", id: "getOpenAPI", tag: "meta", summary: "This document",
		ok:       content{"application/json": mediaSchema(map[string]any{"type": "object"})},
		statuses: []int{413, 415}}, // the body bounds hold on every route
	{method: "GET", path: "/me", id: "getMe", tag: "meta", summary: "Who the token is and what it may do", who: whoAny,
		desc: "The token's name and role, the role's permissions, and the caller actions it may take: on all callers, " +
			"only on callers on air, or only on callers not on air (the caller's state decides the rest).",
		ok: jsonOK("Me"), statuses: []int{401, 500}},

	{method: "GET", path: "/shows", id: "listShows", tag: "shows", summary: "List the shows", who: whoAny,
		ok: jsonOK("ShowList"), statuses: []int{401, 403, 500}},
	{method: "GET", path: "/shows/{show}", id: "getShow", tag: "shows", summary: "Get a show: lines, recording, talkback, counts and waits", who: whoAny,
		ok: jsonOK("Show"), statuses: stRead},
	{method: "PUT", path: "/shows/{show}/lines", id: "setLines", tag: "shows", summary: "Open or close the show's lines", who: whoProducer,
		desc: "Closed lines turn new callers away with the lines-closed prompt; callers in line stay.",
		body: "Lines", ok: jsonOK("Show"), statuses: statuses(stRead, stBody)},
	{method: "GET", path: "/shows/{show}/settings", id: "getSettings", tag: "shows", summary: "Get the show's settings", who: whoAny,
		ok: jsonOK("Settings"), statuses: stRead},
	{method: "PATCH", path: "/shows/{show}/settings", id: "updateSettings", tag: "shows", summary: "Change some of the show's settings", who: whoProducer,
		desc: "Only the fields given change. They last until callin restarts (then the show's --show flag applies again), and a standby instance that takes the show over carries them on; on_air_warning_minutes is the consoles' warning of a caller on air too long.",
		body: "SettingsChange", ok: jsonOK("Settings"), statuses: statuses(stRead, stBody)},

	{method: "GET", path: "/shows/{show}/callers", id: "listCallers", tag: "callers", summary: "List the show's live callers", who: whoAny,
		desc:   "On air first, then ready and waiting callers in line order (position), call-back entries among them, then screening and arriving.",
		params: []param{stateParam}, ok: jsonOK("CallList"), statuses: statuses(stRead, []int{422})},
	{method: "GET", path: "/shows/{show}/callers/{call}", id: "getCaller", tag: "callers", summary: "Get one live caller", who: whoAny,
		ok: jsonOK("Call"), statuses: stRead},
	{method: "GET", path: "/shows/{show}/callers/{call}/line-quality", id: "measureLineQuality", tag: "callers",
		summary: "Measure a caller's line now", who: whoAny,
		desc: "Asks Asterisk for the line's RTP statistics (jitter, loss, round trip). Callers screening, ready, picked or on air are measured every 5 s anyway (Call.quality); 404 for a line without statistics (a Local channel).",
		ok:   jsonOK("LineQuality"), statuses: statuses(stRead, []int{502, 503})},
	{method: "POST", path: "/shows/{show}/take-next", id: "takeNext", tag: "callers", summary: "Put the next caller in line on air", who: whoTakeNext,
		desc: "The picked caller if any, else the first ready caller, else the first waiting one; blocked callers and call-back entries are passed by. 404 when nobody is in line. A show whose take next clears the air (--show next=hold or next=drop) first holds or drops the unlocked callers on air, then puts on the caller who was next.",
		ok:   jsonOK("Call"), statuses: statuses(stRead, stAct)},
	{method: "GET", path: "/shows/{show}/on-air", id: "listOnAir", tag: "callers", summary: "List the callers on air", who: whoAny,
		ok: jsonOK("CallList"), statuses: stRead},
	{method: "POST", path: "/shows/{show}/on-air/hold", id: "holdOnAir", tag: "callers", summary: "Put every unlocked caller on air back on hold", who: whoProducer,
		desc: "Hold all: as the hold action for each caller on air who is not locked, all at once; each keeps their place in line. Locked callers stay on air (locked). A caller who could not be moved stays on air and is in neither list.",
		ok:   jsonOK("AirCleared"), statuses: statuses(stRead, stBody, stAct)},
	{method: "POST", path: "/shows/{show}/on-air/drop", id: "dropOnAir", tag: "callers", summary: "Drop every unlocked caller on air", who: whoTakeNext,
		desc: "Drop all: as the drop action (its body, for every caller) for each caller on air who is not locked, all at once. Locked callers stay on air (locked). A caller who could not be dropped stays on air and is in neither list.",
		body: "Drop", bodyOptional: true, ok: jsonOK("AirCleared"), statuses: statuses(stRead, stBody, stAct)},

	{method: "POST", path: "/shows/{show}/talkback/start", id: "startTalkback", tag: "media", summary: "Start speaking to the callers on hold", who: whoProducer,
		desc: "Calls one of the show's talkback phones (endpoint), which every holding bridge of the show's pool hears once answered, or plays its talkback media in every holding bridge; each bridge's music stops meanwhile. The talkback event says how many bridges hear it.",
		body: "TalkbackStart", ok: jsonOK("Talkback"), statuses: statuses(stRead, stBody, stAct)},
	{method: "POST", path: "/shows/{show}/talkback/stop", id: "stopTalkback", tag: "media", summary: "Stop the talkback", who: whoProducer,
		ok: jsonOK("Talkback"), statuses: statuses(stRead, stAct)},
	{method: "POST", path: "/shows/{show}/host/call", id: "callHost", tag: "media", summary: "Call the host's phone onto the air", who: whoProducer,
		desc: "Rings the show's host phone (host= in --show); it joins the on-air bridge when answered. 422 when the show has no host phone.",
		ok:   jsonOK("HostCall"), statuses: statuses(stRead, stAct, []int{422})},
	{method: "POST", path: "/shows/{show}/recording/start", id: "startRecording", tag: "media", summary: "Start recording the on-air bridge", who: whoProducer,
		desc: "Answers once Asterisk has started the recording. When it has not within the event timeout (5 s): 502, the error's message says why, " +
			"and the recording is `failed` with that `error` (also as a `recording` event); start again.",
		ok: jsonOK("RecordingState"), statuses: statuses(stRead, stAct)},
	{method: "POST", path: "/shows/{show}/recording/stop", id: "stopRecording", tag: "media", summary: "Stop recording the on-air bridge", who: whoProducer,
		ok: jsonOK("RecordingState"), statuses: statuses(stRead, stAct)},
	{method: "GET", path: "/shows/{show}/recordings", id: "listRecordings", tag: "media", summary: "List the show's finished recordings, newest first", who: whoRecordings,
		params: []param{{in: "query", name: "call", desc: "Only recordings during which this call was on air.", schema: str}},
		ok:     jsonOK("RecordingList"), statuses: stRead},
	{method: "GET", path: "/shows/{show}/recordings/{recording}/file", id: "downloadRecording", tag: "media", summary: "Download a recording's file", who: whoRecordings,
		desc:     "Streamed from Asterisk through callin. 404 once callin's retention has deleted it.",
		ok:       content{"audio/wav": mediaSchema(binary), "application/octet-stream": mediaSchema(binary)},
		statuses: statuses(stRead, []int{502, 503})},

	{method: "GET", path: "/shows/{show}/chat", id: "listChat", tag: "shows", summary: "The show's latest chat messages, oldest first", who: whoAny,
		ok: jsonOK("MessageList"), statuses: stRead},
	{method: "POST", path: "/shows/{show}/chat", id: "postChat", tag: "shows", summary: "Write in the show's chat", who: whoChat,
		body: "MessageText", ok: jsonOK("Message"), statuses: statuses(stRead, stBody)},

	{method: "GET", path: "/shows/{show}/calls", id: "listShowCalls", tag: "history", summary: "A day's or a range's calls, in order of arrival", who: whoAny,
		params: dayParams, ok: content{"application/json": mediaSchema(ref("CallRecordList")), "text/csv": mediaSchema(str)},
		statuses: statuses(stRead, []int{422})},
	{method: "GET", path: "/shows/{show}/transitions", id: "listShowTransitions", tag: "history", summary: "A day's or a range's transitions, in order of time", who: whoAny,
		desc:   "Every change of every call that arrived in the range, as the event stream sends them.",
		params: dayParams, ok: content{"application/json": mediaSchema(ref("TransitionList")), "text/csv": mediaSchema(str)},
		statuses: statuses(stRead, []int{422})},

	{method: "GET", path: "/shows/{show}/events", id: "streamEvents", tag: "events", summary: "Stream the show's events (server-sent events)", who: whoAny,
		desc: eventsDoc,
		params: []param{
			{in: "header", name: "Last-Event-ID", desc: "Resume after this event id; an id no longer kept gets a reset event first.", schema: str},
			{in: "query", name: "last_event_id", desc: "Last-Event-ID, for clients that cannot set headers.", schema: str},
		},
		ok:       content{"text/event-stream": mediaSchema(map[string]any{"type": "array", "items": ref("Event")})},
		statuses: statuses(stRead, []int{400, 429, 503})},

	{method: "GET", path: "/callers", id: "searchCallers", tag: "history", summary: "Search callers by number or name, most recent first", who: whoAny,
		params: []param{
			{in: "query", name: "q", desc: "Digits of a number, or part of a name.", schema: map[string]any{"type": "string", "minLength": 1, "maxLength": maxText}, required: true},
			{in: "query", name: "limit", desc: "At most this many (default 50).", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxSearch}},
		},
		ok: jsonOK("ProfileList"), statuses: statuses(stRead, []int{422})},
	{method: "GET", path: "/callers/{number}", id: "getCallerHistory", tag: "history", summary: "A caller's profile and last calls", who: whoAny,
		desc: "404 for a number callin has never seen.", ok: jsonOK("History"), statuses: statuses(stRead, stNumber)},
	{method: "GET", path: "/callers/{number}/notes", id: "getCallerNotes", tag: "history", summary: "A caller's notes, now and as saved before", who: whoAny,
		desc: "Zero notes for a number without any; history newest first (at most 20).", ok: jsonOK("CallerNotesView"),
		statuses: statuses(stRead, stNumber)},
	{method: "PUT", path: "/callers/{number}/notes", id: "putCallerNotes", tag: "history", summary: "Save a caller's notes", who: whoScreen,
		desc: "A new version in the caller's history (the same notes again are not saved twice); 422 names the field at fault.",
		body: "CallerNotesInput", ok: jsonOK("CallerNotes"), statuses: statuses(stRead, stNumber, stBody)},
	{method: "PUT", path: "/callers/{number}/block", id: "blockNumber", tag: "history", summary: "Block a number, saying why", who: whoProducer,
		desc: "Its later calls are turned away; its callers already in line are flagged (blocked, a block transition) and take-next passes them by.",
		body: "Block", ok: jsonOK("History"), statuses: statuses(stRead, stNumber, stBody)},
	{method: "DELETE", path: "/callers/{number}/block", id: "unblockNumber", tag: "history", summary: "Lift a number's block", who: whoProducer,
		ok: jsonOK("History"), statuses: statuses(stRead, stNumber)},
}

// eventsDoc describes the event stream.
const eventsDoc = "A text/event-stream of the show's events, each an `event:` name and one `data:` line of JSON " +
	"(the Event schema lists them): `transition` (a call changed: arrived, screened, on air, call-back requested, " +
	"dialled, missed or returned, confirmed, blocked, ended; data Transition), `lines` (opened or closed; LinesEvent), " +
	"`settings` (any setting changed, lines included; Settings), `recording` (started, stopped or finished; RecordingState), " +
	"`talkback` (started, reached more or fewer holding bridges, or stopped; TalkbackEvent), `node` (the show's Asterisk node changed health; NodeEvent), " +
	"`screening` (a screener's phone rings for a caller, was answered, or did not take the call; ScreeningEvent), " +
	"`chat` (a chat message; Message). Each has an `id:`: reconnect with Last-Event-ID to get what you missed " +
	"(the last 4096 events are kept). Without ids: `reset` (events were lost or the id is no longer kept: read the " +
	"show again; ResetEvent) and `end` (the token was revoked: the stream closes; EndEvent). A comment line every 15 s keeps it alive. " +
	"At most 8 streams per token (429)."

var (
	str      = map[string]any{"type": "string"}
	integer  = map[string]any{"type": "integer"}
	numeric  = map[string]any{"type": "number"}
	boolean  = map[string]any{"type": "boolean"}
	dateTime = map[string]any{"type": "string", "format": "date-time"}
	binary   = map[string]any{"type": "string", "format": "binary"}
)

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func enum(values ...string) map[string]any { return map[string]any{"type": "string", "enum": values} }

// namedEnum is an enum whose generated Go constants are named prefix +
// the value in CamelCase (x-enum-varnames), so that a value another enum
// has too ("unavailable", an error code) does not rename both.
func namedEnum(prefix string, values ...string) map[string]any {
	names := make([]string, len(values))
	for i, v := range values {
		var b strings.Builder
		b.WriteString(prefix)
		for w := range strings.SplitSeq(v, "_") {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
		names[i] = b.String()
	}
	e := enum(values...)
	e["x-enum-varnames"] = names
	return e
}

func arrayOf(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

// obj is a closed object: a property it does not list is an error, in a
// request (the service refuses unknown fields) and in an answer.
func obj(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		o["required"] = required
	}
	return o
}

func describe(s map[string]any, desc string) map[string]any {
	out := map[string]any{"description": desc}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// text is a string of printable text of at most max characters.
func text(max int) map[string]any { return map[string]any{"type": "string", "maxLength": max} }

var statusText = map[int]string{
	400: "Malformed request: bad JSON, an unknown field, a wrong type or a bad parameter; error.field names it.",
	401: "No valid bearer token.",
	403: "The token's role may not do this.",
	404: "Unknown show, caller, number or recording.",
	409: "Lost a race (code conflict: busy, locked, on air full) or the caller hung up (code gone).",
	413: "The body is over 64 KiB (code too_large).",
	415: "A body not sent as Content-Type: application/json (UTF-8), or a multipart body (code unsupported_media_type).",
	422: "Well-formed but not acceptable, or not fitting the caller's state; error.field names the field when one is at fault.",
	429: "Too many event streams for this token (code rate_limited).",
	500: "Internal error; details are logged, not returned.",
	502: "Asterisk refused or timed out (code telephony).",
	503: "The show's Asterisk node is down, or the service has too many event streams (code unavailable).",
}

// docHost is the host the committed document's server names; the served
// document names the one the client used.
const docHost = "127.0.0.1:8080"

// openAPI builds the OpenAPI 3 document of /api/v1 for a client that
// reaches callin at host.
func openAPI(host string) map[string]any { return openAPIFor(host, callerActions) }

// openAPIFor is openAPI with the caller actions acts.
func openAPIFor(host string, acts []callerAction) map[string]any {
	paths := map[string]any{}
	for _, op := range apiOpsFor(acts) {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = operation(op)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "callin automation API",
			"version": "1.0.0",
			"description": "The automation API of callin, the radio call-in queue: JSON with a bearer token " +
				"(callin token create). Errors are {\"error\":{\"code\",\"message\",\"field\"}}. " +
				"Schemas are closed: a field the schema does not list, a field given twice, or a field name in another case " +
				"is refused (400). A request body must be sent as Content-Type: application/json, UTF-8 (415 otherwise).",
		},
		"servers": []any{map[string]any{
			"url":         "{scheme}://{host}/api/v1",
			"description": "callin, as its --listen flag or the TLS proxy in front of it serves it.",
			"variables": map[string]any{
				"scheme": map[string]any{"default": "http", "enum": []string{"http", "https"}},
				"host":   map[string]any{"default": host, "description": "host and port"},
			},
		}},
		"tags": []any{
			map[string]any{"name": "callers", "description": "The live line: callers and the actions on them."},
			map[string]any{"name": "events", "description": "The show's live events."},
			map[string]any{"name": "history", "description": "Callers' profiles, blocks and past calls."},
			map[string]any{"name": "media", "description": "Talkback and recordings."},
			map[string]any{"name": "meta", "description": "This document, and who the token is."},
			map[string]any{"name": "shows", "description": "Shows, their settings and chat."},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "An API token: callin token create NAME --role ROLE."}},
			"parameters": map[string]any{
				"showKey": map[string]any{"name": "show", "in": "path", "required": true, "description": "The show's key.",
					"schema": map[string]any{"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"}},
				"callId": map[string]any{"name": "call", "in": "path", "required": true, "description": "A live call's id.", "schema": str},
				"phoneNumber": map[string]any{"name": "number", "in": "path", "required": true, "schema": str,
					"description": "A phone number: up to 20 digits, an optional leading + (%2B), and spaces, dashes, dots, slashes or brackets between them."},
				"recordingName": map[string]any{"name": "recording", "in": "path", "required": true, "description": "A recording's name.", "schema": str},
			},
			"responses": responses(),
			"schemas":   schemas(),
		},
	}
}

// responses are the error answers, one per status.
func responses() map[string]any {
	out := map[string]any{}
	for code, desc := range statusText {
		out[strconv.Itoa(code)] = map[string]any{"description": desc,
			"content": map[string]any{"application/json": mediaSchema(ref("Error"))}}
	}
	return out
}

func operation(op apiOp) map[string]any {
	o := map[string]any{"operationId": op.id, "summary": op.summary, "tags": []string{op.tag}}
	desc := op.desc
	if op.who != "" {
		desc = strings.TrimSpace(desc + " Who may: " + op.who)
	}
	if desc != "" {
		o["description"] = desc
	}
	if op.path == "/openapi.json" {
		o["security"] = []any{}
	}
	var params []any
	for _, p := range []struct{ name, component string }{
		{"show", "showKey"}, {"call", "callId"}, {"number", "phoneNumber"}, {"recording", "recordingName"},
	} {
		if strings.Contains(op.path, "{"+p.name+"}") {
			params = append(params, map[string]any{"$ref": "#/components/parameters/" + p.component})
		}
	}
	for _, p := range op.params {
		m := map[string]any{"name": p.name, "in": p.in, "description": p.desc, "schema": p.schema}
		if p.required {
			m["required"] = true
		}
		params = append(params, m)
	}
	if params != nil {
		o["parameters"] = params
	}
	if op.body != "" {
		o["requestBody"] = map[string]any{"required": !op.bodyOptional,
			"content": map[string]any{"application/json": mediaSchema(ref(op.body))}}
	}
	res := map[string]any{"200": map[string]any{"description": "OK", "content": map[string]any(op.ok)}}
	if op.accepted != "" {
		res["202"] = map[string]any{"description": op.accepted, "content": map[string]any(op.ok)}
	}
	for _, st := range op.statuses {
		if statusText[st] == "" {
			panic(fmt.Sprintf("openapi: %s %s: no text for status %d", op.method, op.path, st))
		}
		res[strconv.Itoa(st)] = map[string]any{"$ref": "#/components/responses/" + strconv.Itoa(st)}
	}
	o["responses"] = res
	return o
}

// schemas are the components' schemas: those of the Go types
// (reflectSchemas) and the event stream's frames.
func schemas() map[string]any {
	m := reflectSchemas()
	maps.Copy(m, eventFrames())
	return m
}

// eventFrames are the event stream's frames: each event's id: line (for
// those that have one), its event: name and its data: JSON, which is one
// of the schemas of the Go types.
func eventFrames() map[string]any {
	event := func(name, data, desc string, withID bool) map[string]any {
		props := map[string]any{"event": enum(name), "data": ref(data)}
		req := []string{"event", "data"}
		if withID {
			props["id"] = describe(str, "The event's id, for Last-Event-ID.")
			req = append(req, "id")
		}
		return describe(obj(props, req...), desc)
	}
	return map[string]any{
		"Event": describe(map[string]any{"oneOf": []any{
			ref("TransitionFrame"), ref("LinesFrame"), ref("SettingsFrame"), ref("RecordingFrame"), ref("TalkbackFrame"),
			ref("NodeFrame"), ref("ScreeningFrame"), ref("ChatFrame"), ref("ResetFrame"), ref("EndFrame"),
		}}, "One frame of the event stream: its id: line, its event: name and its data: JSON."),
		"TransitionFrame": event("transition", "Transition", "A call changed.", true),
		"LinesFrame":      event("lines", "LinesEvent", "The lines opened or closed.", true),
		"SettingsFrame":   event("settings", "Settings", "A setting changed.", true),
		"RecordingFrame":  event("recording", "RecordingState", "The recording started, stopped or finished.", true),
		"TalkbackFrame":   event("talkback", "TalkbackEvent", "A talkback started, reached more or fewer holding bridges, or stopped.", true),
		"NodeFrame":       event("node", "NodeEvent", "The show's Asterisk node changed health.", true),
		"ScreeningFrame":  event("screening", "ScreeningEvent", "A screener's phone rings for a caller, was answered, or did not take the call.", true),
		"ChatFrame":       event("chat", "Message", "A chat message.", true),
		"ResetFrame":      event("reset", "ResetEvent", "Events were lost: read the show again.", false),
		"EndFrame":        event("end", "EndEvent", "The token was revoked; the stream closes.", false),
	}
}

// apiOpenAPI serves the document, naming the host the client used.
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" {
		host = docHost
	}
	s.writeJSON(w, r, http.StatusOK, openAPIFor(host, s.cfg.actions))
}
