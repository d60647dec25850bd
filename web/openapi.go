package web

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/callin-radio/callin/queue"
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

// apiOpsFor is every operation of /api/v1 with the caller actions acts.
func apiOpsFor(acts []callerAction) []apiOp {
	ops := []apiOp{
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

// schemas are the components' schemas: each mirrors one type of
// api_types.go (or an input of api.go) field for field.
func schemas() map[string]any {
	notes := obj(map[string]any{
		"name": text(maxText), "location": text(maxText), "topic": text(maxText),
		"priority": map[string]any{"type": "integer", "minimum": 0, "maximum": maxPriority},
	})
	states := enum("arriving", "waiting", "screening", "ready", "callback", "on_air", "ended")
	outcomes := enum("abandoned", "dropped", "aired", "rejected", "failed", "unreached")
	event := func(name, data, desc string, withID bool) map[string]any {
		props := map[string]any{"event": enum(name), "data": ref(data)}
		req := []string{"event", "data"}
		if withID {
			props["id"] = describe(str, "The event's id, for Last-Event-ID.")
			req = append(req, "id")
		}
		return describe(obj(props, req...), desc)
	}
	m := map[string]any{
		"Error": obj(map[string]any{"error": obj(map[string]any{
			"code": enum(CodeBadRequest, CodeInvalid, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict, CodeGone,
				CodeUnavailable, CodeLimited, CodeTooLarge, CodeMediaType, CodeTelephony, CodeInternal, "method_not_allowed"),
			"message": str, "field": describe(str, "The field or parameter at fault, when one is."),
		}, "code", "message")}, "error"),
		"Stats": obj(map[string]any{
			"arriving": integer, "waiting": integer, "screening": integer, "ready": integer, "on_air": integer,
			"callback":             describe(integer, "Call-back entries holding a place in line."),
			"pending_on_air":       describe(integer, "Promotions under way."),
			"average_wait_seconds": describe(numeric, "Mean time since arrival of the callers waiting, screening or ready."),
			"longest_wait_seconds": describe(numeric, "The longest of them."),
			"pace_seconds": describe(numeric, "How often the show has lately taken a caller off the line (to air or a screener), "+
				"from its last 20; 0 until it has taken 3. A caller at place p waits about p times this."),
		}, "arriving", "waiting", "screening", "ready", "on_air", "callback", "pending_on_air", "average_wait_seconds",
			"longest_wait_seconds", "pace_seconds"),
		"Show": obj(map[string]any{
			"key": str, "title": str, "lines_open": boolean, "recording": boolean, "talkback": boolean, "node_up": boolean,
			"announce_every_seconds": describe(integer, "As in Settings."), "stats": ref("Stats"),
		}, "key", "title", "lines_open", "recording", "talkback", "node_up", "announce_every_seconds", "stats"),
		"ShowList": obj(map[string]any{"shows": arrayOf(ref("Show"))}, "shows"),
		"Settings": obj(map[string]any{
			"title": str, "lines_open": boolean,
			"capacity":               describe(integer, "Most callers in line; 0: no limit."),
			"max_on_air":             describe(integer, "Most callers on air at once; 0: no limit."),
			"announce_every_seconds": describe(integer, "How often waiting callers hear their position; 0: never."),
			"on_air_warning_minutes": describe(integer, "When the consoles warn that a caller has been on air too long."),
			"music_class":            describe(str, "The music-on-hold class."),
		}, "title", "lines_open", "capacity", "max_on_air", "announce_every_seconds", "on_air_warning_minutes", "music_class"),
		"SettingsChange": obj(map[string]any{
			"capacity":               map[string]any{"type": "integer", "minimum": 0, "maximum": maxCapacity},
			"max_on_air":             map[string]any{"type": "integer", "minimum": 0, "maximum": maxOnAirLimit},
			"announce_every_seconds": map[string]any{"type": "integer", "minimum": 0, "maximum": 3600},
			"on_air_warning_minutes": map[string]any{"type": "integer", "minimum": 1, "maximum": 240},
		}),
		"Lines": obj(map[string]any{"open": boolean}, "open"),
		"Me": obj(map[string]any{
			"name": str, "kind": namedEnum("MeKind", "user", "token"), "role": namedEnum("Role", "admin", "producer", "screener", "host"),
			"permissions":    describe(arrayOf(str), "What the role may do (view, screen, promote, …)."),
			"caller_actions": arrayOf(ref("PermittedAction")),
		}, "name", "kind", "role", "permissions", "caller_actions"),
		"PermittedAction": describe(obj(map[string]any{
			"action": describe(str, "The action, as transitions name it."), "path": describe(str, "Its segment under /shows/{show}/callers/{call}/."),
			"operation": describe(str, "Its operationId."), "callers": namedEnum("Callers", "all", "on_air", "not_on_air"),
		}, "action", "path", "operation", "callers"), "A caller action the token may take, and on which callers."),
	}
	maps.Copy(m, callSchemas(notes, states, outcomes))
	maps.Copy(m, recordSchemas(notes, states, outcomes))
	maps.Copy(m, eventSchemas(event))
	return m
}

// callSchemas are the schemas of calls and what is done to them: notes,
// screening, dropping, talkback, the host's phone and recordings.
func callSchemas(notes, states, outcomes map[string]any) map[string]any {
	return map[string]any{
		"Notes": notes,
		"Callback": describe(obj(map[string]any{
			"number": describe(str, "The number callin calls."), "calling": describe(boolean, "An attempt is ringing now."),
			"attempt": describe(integer, "Attempts made so far."), "attempts": describe(integer, "Of at most this many."),
			"next_at": dateTime, "requested_at": dateTime, "now": describe(boolean, "A producer asked to call now."),
		}, "number", "calling", "attempt", "attempts", "requested_at", "now"), "A call-back entry: the caller hung up to be called back and keeps the place."),
		"Call": obj(map[string]any{
			"id": str, "number": describe(str, "Caller ID number, as presented."), "name": describe(str, "Caller ID name: text from outside."),
			"node": str, "channel_id": str, "state": states, "arrived_at": dateTime, "since": describe(dateTime, "When it entered its state."),
			"position": describe(integer, "Place in line (waiting, ready and call-back entries), from 1."),
			"notes":    ref("Notes"), "screener": str,
			"muted": boolean, "locked": boolean, "next": describe(boolean, "Picked to go on air next."),
			"top": describe(boolean, "Moved to the top."), "announcing": describe(boolean, "Hearing its position."),
			"was_on_air": boolean,
			"blocked":    describe(boolean, "The number was blocked while the caller was in line: take-next passes it by."),
			"block_note": str,
			"confirmed":  describe(boolean, "Pressed 1 when asked whether ready for air."),
			"callback":   ref("Callback"),
			"quality":    ref("LineQuality"),
			"pending":    describe(str, "An action under way on it."),
			"outcome":    outcomes, "reason": str, "seq": describe(integer, "Seq of its latest transition."),
		}, "id", "number", "node", "channel_id", "state", "arrived_at", "since", "notes", "muted", "locked", "next", "top",
			"announcing", "was_on_air", "blocked", "confirmed", "seq"),
		"CallList": obj(map[string]any{"callers": arrayOf(ref("Call"))}, "callers"),
		"AirCleared": describe(obj(map[string]any{
			"cleared": describe(arrayOf(ref("Call")), "Held or dropped, as they were on air."),
			"locked":  describe(arrayOf(ref("Call")), "Locked: still on air."),
		}, "cleared", "locked"), "What hold all or drop all did."),
		"LineQuality": describe(obj(map[string]any{
			"at": dateTime, "jitter_ms": describe(numeric, "Jitter, the worse direction."),
			"loss_percent": describe(numeric, "Packets lost, the worse direction."),
			"rtt_ms":       describe(numeric, "Round trip, when the phone sends RTCP (else 0)."),
			"mes":          describe(numeric, "Media experience score, 0-100, when Asterisk gives one."),
			"grade":        enum("good", "fair", "poor"),
		}, "at", "jitter_ms", "loss_percent", "rtt_ms", "mes", "grade"), "A caller's line as Asterisk last measured it."),
		"Screen": obj(map[string]any{"screener": describe(text(maxText), "Who screens (default: the token's name). Another user than the token's only for producers and admins (403 otherwise).")}),
		"Drop": obj(map[string]any{"reason": text(maxText),
			"goodbye": describe(boolean, "Play the goodbye prompt before hanging up.")}),
		"TalkbackStart": describe(obj(map[string]any{
			"endpoint": describe(str, "One of the show's talkback phones (--show talkback-phones=)."),
			"media": describe(map[string]any{"type": "array", "items": str, "minItems": 1, "maxItems": maxTalkbackMedia},
				"The show's talkback media, or plain sound:NAME prompts when it lists none."),
		}), "An endpoint or media (422 with neither)."),
		"Talkback": obj(map[string]any{"talkback": boolean}, "talkback"),
		"HostCall": obj(map[string]any{"channel_id": describe(str, "The host's line, ringing.")}, "channel_id"),
		"RecordingState": obj(map[string]any{
			"active": boolean, "name": str, "state": describe(str, "Asterisk's: queued, recording, done, failed, canceled."),
			"format": str, "started": dateTime, "ended": dateTime, "duration_seconds": numeric,
			"calls": describe(arrayOf(str), "Calls on air during it."),
			"error": describe(str, "Why a recording is failed without having started, in words for the producer: "+
				"\"Asterisk did not start the recording within 5s; it is stopped: press Record to try again\"."),
		}, "active"),
		"Recording": obj(map[string]any{
			"name": str, "show": str, "format": str, "started": dateTime, "ended": dateTime, "duration_seconds": numeric,
			"calls": describe(arrayOf(str), "Calls on air at any time during it."),
			"kept":  describe(boolean, "False once retention (--keep-recordings) deleted the file."),
		}, "name", "show", "format", "duration_seconds", "calls", "kept"),
		"RecordingList": obj(map[string]any{"recordings": arrayOf(ref("Recording"))}, "recordings"),
	}
}

// recordSchemas are the schemas of what callin keeps: calls, transitions,
// caller profiles and notes, blocks and chat.
func recordSchemas(notes, states, outcomes map[string]any) map[string]any {
	return map[string]any{
		"Actor": obj(map[string]any{"kind": enum("user", "token", "caller", "system"), "name": str}, "kind"),
		"Transition": obj(map[string]any{
			"call_id": str, "seq": describe(integer, "1 for the arrival, then one more per transition of the call."),
			"at": dateTime, "show": str, "to": states,
			"from": describe(enum("", "arriving", "waiting", "screening", "ready", "callback", "on_air", "ended"),
				"The state before; empty for the arrival."),
			"action": enum("arrive", "reject", "join", "screen", "ready", "promote", "take_next", "hold", "mute", "unmute",
				"lock", "unlock", "drop", "move_to_top", "pick_next", "unpick_next", "notes", "hangup", "fail", "readmit",
				"reconcile", "vanish", "block", "unblock", "callback_request", "callback_now", "callback_dial",
				"callback_miss", "callback_return", "confirm", "cause"),
			"actor": ref("Actor"), "number": str, "name": str, "node": str, "channel_id": str,
			"notes": ref("Notes"), "outcome": outcomes, "cause": describe(integer, "Q.850 hangup cause."), "reason": str,
		}, "call_id", "seq", "at", "show", "from", "to", "action", "actor", "number", "node", "channel_id"),
		"TransitionList": obj(map[string]any{"transitions": arrayOf(ref("Transition"))}, "transitions"),
		"CallRecord": obj(map[string]any{
			"id": str, "show": str, "number": str, "name": str, "state": states, "arrived_at": dateTime,
			"answered_at": dateTime, "on_air_at": describe(dateTime, "First time on air."), "ended_at": dateTime,
			"outcome": outcomes, "cause": integer, "reason": str, "notes": ref("Notes"),
		}, "id", "show", "number", "state", "notes"),
		"CallRecordList": obj(map[string]any{"calls": arrayOf(ref("CallRecord"))}, "calls"),
		"Profile": obj(map[string]any{
			"number": str, "name": str, "notes": describe(str, "The producers' notes about this caller."),
			"calls": integer, "on_air": integer, "first_call": dateTime, "last_call": dateTime, "blocked": boolean,
			"blocked_reason": describe(str, "While blocked."), "blocked_by": describe(str, "While blocked: the user's name, or token:NAME for an API token."),
			"blocked_at": describe(dateTime, "While blocked."),
		}, "number", "calls", "on_air", "blocked"),
		"ProfileList": obj(map[string]any{"callers": arrayOf(ref("Profile"))}, "callers"),
		"History":     obj(map[string]any{"profile": ref("Profile"), "calls": arrayOf(ref("CallRecord"))}, "profile", "calls"),
		"CallerNotes": obj(map[string]any{
			"number": str, "topic": describe(str, "What they call about."), "notes": str,
			"rating":         map[string]any{"type": "integer", "minimum": 0, "maximum": queue.MaxRating, "description": "0: not rated."},
			"do_not_air":     describe(boolean, "Producers must not put this caller on air."),
			"contest_winner": boolean,
			"call_id":        describe(str, "The call they were written during, if any."),
			"by":             describe(str, "The user's name, or token:NAME for an API token."), "at": dateTime,
		}, "number", "topic", "notes", "rating", "do_not_air", "contest_winner"),
		"CallerNotesView": obj(map[string]any{"notes": ref("CallerNotes"), "history": arrayOf(ref("CallerNotes"))}, "notes", "history"),
		"CallerNotesInput": obj(map[string]any{
			"topic":          map[string]any{"type": "string", "maxLength": queue.MaxNotesTopic},
			"notes":          map[string]any{"type": "string", "maxLength": queue.MaxNotesText},
			"rating":         map[string]any{"type": "integer", "minimum": 0, "maximum": queue.MaxRating},
			"do_not_air":     boolean,
			"contest_winner": boolean,
			"call_id":        str,
		}),
		"Block": obj(map[string]any{"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": maxText,
			"description": "Why (required)."}}, "reason"),
		"Message":     obj(map[string]any{"id": integer, "at": dateTime, "author": describe(str, "The user's name, or token:NAME for an API token."), "text": str}, "id", "at", "author", "text"),
		"MessageList": obj(map[string]any{"messages": arrayOf(ref("Message"))}, "messages"),
		"MessageText": obj(map[string]any{"text": map[string]any{"type": "string", "minLength": 1, "maxLength": maxChat}}, "text"),
	}
}

// eventSchemas are the event stream's: each event's data and its frame.
func eventSchemas(event func(name, data, desc string, withID bool) map[string]any) map[string]any {
	return map[string]any{
		"LinesEvent": obj(map[string]any{"open": boolean}, "open"),
		"TalkbackEvent": obj(map[string]any{"active": boolean, "line": describe(str, "The producer's line, once it speaks in the first holding bridge."),
			"bridges":      describe(map[string]any{"type": "integer", "minimum": 0}, "Holding bridges that hear the talkback now (each bridge of the pool beyond the first hears a live line through a relay); 0 while the producer's phone rings and when no talkback is on."),
			"hold_bridges": describe(map[string]any{"type": "integer", "minimum": 0}, "Holding bridges in the show's pool while the talkback is on; 0 when none is on."),
		}, "active", "bridges", "hold_bridges"),
		"NodeEvent": obj(map[string]any{"node": str, "state": enum("connecting", "syncing", "up", "down", "replaced", "stopped", "standby"),
			"since": dateTime}, "node", "state", "since"),
		"ScreeningEvent": obj(map[string]any{
			"call_id": str, "screener": describe(str, "Who screens."), "phone": describe(str, "The endpoint rung, like PJSIP/screener1."),
			"state": describe(namedEnum("ScreeningState", "ringing", "answered", "busy", "unavailable", "no_answer", "unreachable", "refused", "failed", "caller_gone"),
				"ringing: the phone rings, the caller keeps the music and their place. answered: caller and screener talk (the screen transition came first). "+
					"busy, unavailable, no_answer (rang for the ring timeout), unreachable, refused, failed (Asterisk did not do it): the caller is still on hold at their place, as before. "+
					"caller_gone: the caller hung up while it rang."),
			"message":      describe(str, "What happened, in words for the producer: \"Sam's phone is busy — James is still on hold\"."),
			"cause":        describe(integer, "The Q.850 cause the phone hung up with, when it gave one."),
			"rang_seconds": describe(numeric, "How long it rang, once over."),
			"started":      dateTime, "ended": describe(dateTime, "Once over."),
		}, "call_id", "screener", "phone", "state", "message", "started"),
		"ResetEvent": obj(map[string]any{"reason": str, "last_id": describe(integer, "The newest event id now.")}, "reason", "last_id"),
		"EndEvent":   obj(map[string]any{"reason": str}, "reason"),
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
