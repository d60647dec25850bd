package api

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The OpenAPI document of /api/v1 (Document) is built here from a list
// of operations, FixedOps and the caller actions' (CallerActionOp, made
// by package web from its table of caller actions), and the schemas of
// the Go types (schema.go).

// Op is one operation of /api/v1.
type Op struct {
	Method, Path string
	ID           string // operationId: stable, for generated clients
	Tag          string
	Summary      string
	Desc         string  // more, for the description; the roles that may are added
	Who          string  // who may do it, for the description
	Params       []Param // query and header parameters
	Body         string  // schema of the JSON body; "" for none
	BodyOptional bool    // the body may be left out (an empty one is {})
	OK           content // the 200 answer
	// Accepted, when set, says when it answers 202 with the same content
	// as 200: begun, with the outcome to come on the event stream.
	Accepted string
	Statuses []int // the other statuses it answers
	// Headers are headers of its 200 (and 202) answer besides X-Request-Id
	// and Idempotent-Replayed (ETag).
	Headers map[string]any
	// Merge, when set, is the schema of an RFC 7396 merge patch body
	// (application/merge-patch+json, also taken as application/json).
	Merge string
}

// Param is a query or header parameter.
type Param struct {
	In, Name, Desc string
	Schema         map[string]any
	Required       bool
}

// content is a 200 answer's media types.
type content map[string]any

func jsonOK(schema string) content { return content{"application/json": mediaSchema(ref(schema))} }

func mediaSchema(s map[string]any) map[string]any { return map[string]any{"schema": s} }

// Roles, as the descriptions say them (auth.Can is the rule).
const (
	WhoAny        = "Any role."
	WhoProducer   = "Producers and admins."
	WhoScreen     = "Screeners, producers and admins."
	WhoHostDrop   = "Producers and admins; screeners drop callers not on air, hosts callers on air."
	WhoTakeNext   = "Hosts, producers and admins."
	WhoOnAir      = "Hosts (mute, lock), producers and admins."
	WhoHostMute   = "Hosts (to mute themselves: a cough key), producers and admins; the mute permission, as for a caller on air."
	WhoChat       = "Any role."
	WhoRecordings = "Producers and admins."
	WhoAdmin      = "Admins only."
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
	stateParam = Param{In: "query", Name: "state", Desc: "Only callers in this state (none are ended: the list is of live callers).",
		Schema: ref("CallState")}
	dayParams = []Param{
		{In: "query", Name: "day", Desc: "A day in the server's time zone, like 2026-03-01 (default: today). Ignored when from is given.", Schema: map[string]any{"type": "string", "format": "date"}},
		{In: "query", Name: "from", Desc: "Start of a range of times (at most 31 days): arrivals for calls, changes for transitions.", Schema: dateTime},
		{In: "query", Name: "to", Desc: "End of the range, exclusive (default: from plus one day).", Schema: dateTime},
		{In: "query", Name: "format", Desc: "json (default) or csv, one row per item with a header line (csv: every item, streamed; limit and cursor do not apply).", Schema: ref("ExportFormat")},
		pageParams[0], pageParams[1],
	}
	// pageParams page a list: next_cursor and has_more in its answer.
	pageParams = []Param{
		{In: "query", Name: "limit", Desc: fmt.Sprintf("At most this many items (default %d); 400 outside 1 to %d.", DefaultPageLimit, MaxPageLimit),
			Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": MaxPageLimit}},
		{In: "query", Name: "cursor", Desc: "The next_cursor of the page before (opaque); 400 for one this list did not give.",
			Schema: map[string]any{"type": "string", "maxLength": MaxCursor}},
	}
)

// FixedOps are the operations of /api/v1 other than the caller actions.
var FixedOps = []Op{
	{Method: "GET", Path: "/openapi.json", ID: "getOpenAPI", Tag: "meta", Summary: "This document",
		OK: content{"application/json": mediaSchema(map[string]any{"type": "object"})}},
	{Method: "GET", Path: "/me", ID: "getMe", Tag: "meta", Summary: "Who the token is and what it may do", Who: WhoAny,
		Desc: "The token's name and role, the role's permissions, and the caller actions it may take: on all callers, " +
			"only on callers on air, or only on callers not on air (the caller's state decides the rest).",
		OK: jsonOK("Me"), Statuses: []int{401, 500}},

	{Method: "GET", Path: "/shows", ID: "listShows", Tag: "shows", Summary: "List the shows", Who: WhoAny,
		OK: jsonOK("ShowList"), Statuses: []int{401, 403, 500}},
	{Method: "GET", Path: "/shows/{show}", ID: "getShow", Tag: "shows", Summary: "Get a show: lines, recording, talkback, counts and waits", Who: WhoAny,
		OK: jsonOK("Show"), Statuses: stRead},
	{Method: "PUT", Path: "/shows/{show}/lines", ID: "setLines", Tag: "shows", Summary: "Open or close the show's lines", Who: WhoProducer,
		Desc: "Closed lines turn new callers away with the lines-closed prompt; callers in line stay.",
		Body: "Lines", OK: jsonOK("Show"), Statuses: statuses(stRead, stBody)},
	{Method: "GET", Path: "/shows/{show}/settings", ID: "getSettings", Tag: "shows", Summary: "Get the show's settings", Who: WhoAny,
		Desc: "The ETag is the settings' version: send it as If-Match with a PATCH.",
		OK:   jsonOK("Settings"), Headers: etagHeader, Statuses: stRead},
	{Method: "PATCH", Path: "/shows/{show}/settings", ID: "updateSettings", Tag: "shows", Summary: "Change some of the show's settings", Who: WhoProducer,
		Desc: "An RFC 7396 merge patch (application/merge-patch+json, or application/json): only the members given change; null is 422 (a setting cannot be cleared). " +
			"With If-Match, only if the settings are still at that version (412 otherwise: read them again). " +
			"They last until callin restarts (then the show's --show flag applies again), and a standby instance that takes the show over carries them on; on_air_warning_minutes is the consoles' warning of a caller on air too long.",
		Params: []Param{ifMatchParam}, Merge: "SettingsChange", OK: jsonOK("Settings"), Headers: etagHeader, Statuses: statuses(stRead, stBody, []int{412})},

	{Method: "GET", Path: "/shows/{show}/callers", ID: "listCallers", Tag: "callers", Summary: "List the show's live callers", Who: WhoAny,
		Desc:   "On air first, then ready and waiting callers in line order (position), call-back entries among them, then screening and arriving.",
		Params: []Param{stateParam}, OK: jsonOK("CallList"), Statuses: statuses(stRead, []int{422})},
	{Method: "GET", Path: "/shows/{show}/callers/{call}", ID: "getCaller", Tag: "callers", Summary: "Get one live caller", Who: WhoAny,
		OK: jsonOK("Call"), Statuses: stRead},
	{Method: "GET", Path: "/shows/{show}/callers/{call}/line-quality", ID: "measureLineQuality", Tag: "callers",
		Summary: "Measure a caller's line now", Who: WhoAny,
		Desc: "Asks Asterisk for the line's RTP statistics (jitter, loss, round trip). Callers screening, ready, picked or on air are measured every 5 s anyway (Call.quality); 409 (code no_measure) for a line without statistics (a Local channel).",
		OK:   jsonOK("LineQuality"), Statuses: statuses(stRead, []int{409, 502, 503})},
	{Method: "POST", Path: "/shows/{show}/take-next", ID: "takeNext", Tag: "callers", Summary: "Put the next caller in line on air", Who: WhoTakeNext,
		Desc: "The picked caller if any, else the first ready caller, else the first waiting one; blocked callers and call-back entries are passed by. 404 when nobody is in line. A show whose take next clears the air (--show next=hold or next=drop) first holds or drops the unlocked callers on air, then puts on the caller who was next.",
		OK:   jsonOK("Call"), Statuses: statuses(stRead, stAct)},
	{Method: "GET", Path: "/shows/{show}/on-air", ID: "listOnAir", Tag: "callers", Summary: "List the callers on air", Who: WhoAny,
		OK: jsonOK("CallList"), Statuses: stRead},
	{Method: "POST", Path: "/shows/{show}/on-air/hold", ID: "holdOnAir", Tag: "callers", Summary: "Put every unlocked caller on air back on hold", Who: WhoProducer,
		Desc: "Hold all: as the hold action for each caller on air who is not locked, all at once; each keeps their place in line. Locked callers stay on air (locked). A caller who could not be moved stays on air and is in neither list.",
		OK:   jsonOK("AirCleared"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/on-air/drop", ID: "dropOnAir", Tag: "callers", Summary: "Drop every unlocked caller on air", Who: WhoTakeNext,
		Desc: "Drop all: as the drop action (its body, for every caller) for each caller on air who is not locked, all at once. Locked callers stay on air (locked). A caller who could not be dropped stays on air and is in neither list.",
		Body: "Drop", BodyOptional: true, OK: jsonOK("AirCleared"), Statuses: statuses(stRead, stBody, stAct)},

	{Method: "POST", Path: "/shows/{show}/talkback/start", ID: "startTalkback", Tag: "media", Summary: "Start speaking to the callers on hold", Who: WhoProducer,
		Desc: "Calls one of the show's talkback phones (endpoint), which every holding bridge of the show's pool hears once answered, or plays its talkback media in every holding bridge; each bridge's music stops meanwhile. The talkback event says how many bridges hear it.",
		Body: "TalkbackStart", OK: jsonOK("Talkback"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/talkback/stop", ID: "stopTalkback", Tag: "media", Summary: "Stop the talkback", Who: WhoProducer,
		OK: jsonOK("Talkback"), Statuses: statuses(stRead, stAct)},
	{Method: "POST", Path: "/shows/{show}/studio", ID: "setStudio", Tag: "shows", Summary: "Name another studio node for a show across nodes", Who: WhoProducer,
		Desc: "The on-air bridge, host phone, screening, recording, call-backs and talkback use the named node from then on; typically once the studio node is lost (the show's studio is `lost`, a `studio` event says so). " +
			"With the studio lost, whatever was on air there is given up (callers on air across the trunk are back on hold, `air_lost`). While the studio is up, 409 (conflict) unless nobody is on air or screening and there is no host, recording or talkback. " +
			"422 for a node that is not one of the show's, 503 for a node down. Kept across a restart of callin.",
		Body: "StudioSet", OK: jsonOK("Show"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/nodes", ID: "addShowNode", Tag: "shows", Summary: "Add a node to a running show", Who: WhoAdmin,
		Desc: "The show takes the callers of the named node from now on, as a node of its --show nodes= does: a caller arriving there is held on that node with its music, in the one line in arrival order, and goes on air across the trunk to the studio. " +
			"A node callin does not have is added at its url first (connected, with its health and load in the show's nodes; its capacity from CALLIN_CAPACITY_<NAME>). " +
			"Kept across a restart of callin. The SIP front must list the node too (deploy/kamailio/dispatcher.list). " +
			"422 for a new node without a url, or a url callin refuses; 502 when the node is up but its callers could not be taken (retried by callin).",
		Body: "NodeAdd", OK: jsonOK("Show"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/host/call", ID: "callHost", Tag: "media", Summary: "Call the host's phone onto the air", Who: WhoProducer,
		Desc: "Rings the show's host phone (host= in --show); it joins the on-air bridge when answered. 422 when the show has no host phone.",
		OK:   jsonOK("HostCall"), Statuses: statuses(stRead, stAct, []int{422})},
	{Method: "POST", Path: "/shows/{show}/host/hangup", ID: "hangupHost", Tag: "media", Summary: "Hang up one of the host's lines", Who: WhoProducer,
		Desc: "Ringing or on air (the show's host_lines). The answer still lists the line until Asterisk says it ended; a `host` event says so. A failed line (hung up already) leaves host_lines at once. 404 for a line not the show's.",
		Body: "HostLineRef", OK: jsonOK("HostLines"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/host/mute", ID: "muteHost", Tag: "media", Summary: "Mute or unmute one of the host's lines", Who: WhoHostMute,
		Desc: "Keeps the host's voice off the air (muted: true) or lets it on again. 404 for a line not the show's; 409 for a failed line.",
		Body: "HostMute", OK: jsonOK("HostLines"), Statuses: statuses(stRead, stBody, stAct)},
	{Method: "POST", Path: "/shows/{show}/recording/start", ID: "startRecording", Tag: "media", Summary: "Start recording the on-air bridge", Who: WhoProducer,
		Desc: "Answers once Asterisk has started the recording. When it has not within the event timeout (5 s): 502, the error's message says why, " +
			"and the recording is `failed` with that `error` (also as a `recording` event); start again.",
		OK: jsonOK("RecordingState"), Statuses: statuses(stRead, stAct)},
	{Method: "POST", Path: "/shows/{show}/recording/stop", ID: "stopRecording", Tag: "media", Summary: "Stop recording the on-air bridge", Who: WhoProducer,
		OK: jsonOK("RecordingState"), Statuses: statuses(stRead, stAct)},
	{Method: "GET", Path: "/shows/{show}/recordings", ID: "listRecordings", Tag: "media", Summary: "List the show's finished recordings, newest first", Who: WhoRecordings,
		Params: append([]Param{{In: "query", Name: "call", Desc: "Only recordings during which this call was on air.", Schema: str}}, pageParams...),
		OK:     jsonOK("RecordingList"), Statuses: statuses(stRead, []int{400})},
	{Method: "GET", Path: "/shows/{show}/recordings/{recording}/file", ID: "downloadRecording", Tag: "media", Summary: "Download a recording's file", Who: WhoRecordings,
		Desc:     "Streamed from Asterisk through callin. 404 once callin's retention has deleted it.",
		OK:       content{"audio/wav": mediaSchema(binary), "application/octet-stream": mediaSchema(binary)},
		Statuses: statuses(stRead, []int{502, 503})},

	{Method: "GET", Path: "/shows/{show}/chat", ID: "listChat", Tag: "shows", Summary: "The show's latest chat messages, oldest first", Who: WhoAny,
		Desc:   "A page is the latest messages before its cursor, oldest first; next_cursor leads to older ones.",
		Params: pageParams, OK: jsonOK("MessageList"), Statuses: statuses(stRead, []int{400})},
	{Method: "POST", Path: "/shows/{show}/chat", ID: "postChat", Tag: "shows", Summary: "Write in the show's chat", Who: WhoChat,
		Body: "MessageText", OK: jsonOK("Message"), Statuses: statuses(stRead, stBody)},

	{Method: "GET", Path: "/shows/{show}/calls", ID: "listShowCalls", Tag: "history", Summary: "A day's or a range's calls, in order of arrival", Who: WhoAny,
		Params: dayParams, OK: content{"application/json": mediaSchema(ref("CallRecordList")), "text/csv": mediaSchema(str)},
		Statuses: statuses(stRead, []int{400, 422})},
	{Method: "GET", Path: "/shows/{show}/transitions", ID: "listShowTransitions", Tag: "history", Summary: "A day's or a range's transitions, in order of time", Who: WhoAny,
		Desc:   "Every change of every call that arrived in the range, as the event stream sends them.",
		Params: dayParams, OK: content{"application/json": mediaSchema(ref("TransitionList")), "text/csv": mediaSchema(str)},
		Statuses: statuses(stRead, []int{400, 422})},

	{Method: "GET", Path: "/shows/{show}/events", ID: "streamEvents", Tag: "events", Summary: "Stream the show's events (server-sent events)", Who: WhoAny,
		Desc: eventsDoc,
		Params: []Param{
			{In: "header", Name: "Last-Event-ID", Desc: "Resume after this event id; an id no longer kept gets a reset event first.", Schema: eventID},
			{In: "query", Name: "last_event_id", Desc: "Last-Event-ID, for clients that cannot set headers.", Schema: eventID},
		},
		OK:       content{"text/event-stream": mediaSchema(ref("Event"))},
		Statuses: statuses(stRead, []int{400, 429, 503})},

	{Method: "GET", Path: "/callers", ID: "searchCallers", Tag: "history", Summary: "Search callers by number or name, most recent first", Who: WhoAny,
		Params: []Param{
			{In: "query", Name: "q", Desc: "Digits of a number, or part of a name.", Schema: map[string]any{"type": "string", "minLength": 1, "maxLength": MaxText}, Required: true},
			{In: "query", Name: "limit", Desc: "At most this many (default 50).", Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": MaxSearch}},
		},
		OK: jsonOK("ProfileList"), Statuses: statuses(stRead, []int{400, 422})},
	{Method: "GET", Path: "/callers/{number}", ID: "getCallerHistory", Tag: "history", Summary: "A caller's profile and last calls", Who: WhoAny,
		Desc: "404 for a number callin has never seen. The calls are the first page of listCallerCalls (next_cursor continues there).", OK: jsonOK("History"), Statuses: statuses(stRead, stNumber)},
	{Method: "GET", Path: "/callers/{number}/calls", ID: "listCallerCalls", Tag: "history", Summary: "A caller's calls, newest first, a page at a time", Who: WhoAny,
		Desc: "404 for a number callin has never seen.", Params: pageParams, OK: jsonOK("CallRecordList"), Statuses: statuses(stRead, stNumber)},
	{Method: "GET", Path: "/callers/{number}/notes", ID: "getCallerNotes", Tag: "history", Summary: "A caller's notes, now and as saved before", Who: WhoAny,
		Desc: "Zero notes for a number without any; history newest first (at most 20). The ETag is the notes' version: send it as If-Match with a PUT or PATCH.",
		OK:   jsonOK("CallerNotesView"), Headers: etagHeader, Statuses: statuses(stRead, stNumber)},
	{Method: "PUT", Path: "/callers/{number}/notes", ID: "putCallerNotes", Tag: "history", Summary: "Replace a caller's notes", Who: WhoScreen,
		Desc: "The whole notes: every member but call_id is required (422 names one left out), so nothing is blanked by leaving it out; PATCH changes some. " +
			"A new version in the caller's history (the same notes again are not saved twice); 422 names the field at fault. " +
			"With If-Match, only if the notes are still at that version (412 otherwise: read them again).",
		Params: []Param{ifMatchParam}, Body: "CallerNotesInput", OK: jsonOK("CallerNotes"), Headers: etagHeader,
		Statuses: statuses(stRead, stNumber, stBody, []int{412})},
	{Method: "PATCH", Path: "/callers/{number}/notes", ID: "patchCallerNotes", Tag: "history", Summary: "Change some of a caller's notes", Who: WhoScreen,
		Desc: "An RFC 7396 merge patch (application/merge-patch+json, or application/json): a member left out stays, null clears it, a value sets it. " +
			"Saved as PUT saves; with If-Match, only if the notes are still at that version (412 otherwise: read them again).",
		Params: []Param{ifMatchParam}, Merge: "CallerNotesPatch", OK: jsonOK("CallerNotes"), Headers: etagHeader,
		Statuses: statuses(stRead, stNumber, stBody, []int{412})},
	{Method: "PUT", Path: "/callers/{number}/block", ID: "blockNumber", Tag: "history", Summary: "Block a number, saying why", Who: WhoProducer,
		Desc: "Its later calls are turned away; its callers already in line are flagged (blocked, a block transition) and take-next passes them by.",
		Body: "Block", OK: jsonOK("History"), Statuses: statuses(stRead, stNumber, stBody)},
	{Method: "DELETE", Path: "/callers/{number}/block", ID: "unblockNumber", Tag: "history", Summary: "Lift a number's block", Who: WhoProducer,
		OK: jsonOK("History"), Statuses: statuses(stRead, stNumber)},
}

// eventsDoc describes the event stream.
const eventsDoc = "A text/event-stream of the show's events, each an `event:` name and one `data:` line of JSON " +
	"(the Event schema lists them): `transition` (a call changed: arrived, screened, on air, call-back requested, " +
	"dialled, missed or returned, confirmed, blocked, ended; data Transition), `lines` (opened or closed; LinesEvent), " +
	"`settings` (any setting changed, lines included; Settings), `recording` (started, stopped or finished; RecordingState), " +
	"`talkback` (started, reached more or fewer holding bridges, or stopped; TalkbackEvent), `host` (one of the host's lines rings, went on air, was muted or unmuted, or ended; HostLines), `node` (one of the show's Asterisk nodes changed health; NodeEvent), " +
	"`load` (a show across nodes: the show's callers held on one node, or its state or fullness, changed; NodeLoad), " +
	"`studio` (a show across nodes: its studio node changed health, was lost, or another was named; Studio), " +
	"`screening` (a screener's phone rings for a caller, was answered, or did not take the call; ScreeningEvent), " +
	"`chat` (a chat message; Message). Each has an `id:`: reconnect with Last-Event-ID to get what you missed " +
	"(the last 4096 events are kept). `reset` (events were lost or the id is no longer kept: read the show again; ResetEvent) " +
	"has the newest event's id, so a client resuming after it (a browser's EventSource does) gets what follows rather than another reset. " +
	"`end` (the token was revoked: the stream closes; EndEvent) has no id. A comment line every 15 s keeps it alive. " +
	"At most 8 streams per token (429). To start from a list: GET callers (or on-air) answers the event_id it is as of; stream from it " +
	"(Last-Event-ID: event_id) and every change after the list arrives, none twice. The Go client's apiclient.Stream reads this stream as typed events and resumes by itself."

// NumberPattern is a phone number as queue.NormalizeNumber takes it: an
// optional tel: and +, then 1 to 20 digits with spaces, dashes, dots,
// slashes or brackets among them.
const NumberPattern = `^(tel:)?\+?[ ./()-]*([0-9][ ./()-]*){1,20}$`

var (
	// eventID is an event id: a whole number (at most 18 digits, within
	// an int64); empty is as if absent.
	eventID  = map[string]any{"type": "string", "pattern": "^[0-9]{0,18}$"}
	str      = map[string]any{"type": "string"}
	integer  = map[string]any{"type": "integer"}
	numeric  = map[string]any{"type": "number"}
	boolean  = map[string]any{"type": "boolean"}
	dateTime = map[string]any{"type": "string", "format": "date-time"}
	binary   = map[string]any{"type": "string", "format": "binary"}
)

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func enum(values ...string) map[string]any { return map[string]any{"type": "string", "enum": values} }

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
	400: "Malformed request: bad JSON, an unknown field, a wrong type or a bad parameter; field names it.",
	401: "No valid bearer token.",
	403: "The token's role may not do this.",
	404: "Unknown show, caller, number or recording.",
	409: "Lost a race (code conflict: busy, locked, on air full), the caller hung up (code gone), or a line without statistics to measure (code no_measure).",
	412: "If-Match named a version that is no longer the current one: read again, then change (code precondition_failed).",
	413: "The body is over 64 KiB (code too_large).",
	415: "A body not sent as Content-Type: application/json (UTF-8), or a multipart body (code unsupported_media_type).",
	422: "Well-formed but not acceptable, or not fitting the caller's state; field names the field when one is at fault.",
	429: "Too many event streams for this token (code rate_limited); Retry-After says when to try again.",
	500: "Internal error; details are logged, not returned.",
	502: "Asterisk refused or timed out (code telephony), or a standby instance could not reach the one driving the show (code standby).",
	503: "The show's Asterisk node is down, or the service has too many event streams (code unavailable); Retry-After says when to try again.",
}

// DocHost is the host the committed document's server names; the served
// document names the one the client used.
const DocHost = "127.0.0.1:8080"

// Document is the OpenAPI 3 document of /api/v1 with the operations ops
// (FixedOps and the caller actions), for a client that reaches callin at
// host.
func Document(host string, ops []Op) map[string]any {
	paths := map[string]any{}
	for _, op := range ops {
		item, _ := paths[op.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.Path] = item
		}
		if op.Method == "POST" {
			op = idempotent(op)
		}
		item[strings.ToLower(op.Method)] = operation(op)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "callin automation API",
			"version": "1.0.0",
			"description": "The automation API of callin, the radio call-in queue: JSON with a bearer token " +
				"(callin token create). Errors are RFC 9457 problems (application/problem+json, schema Problem): type, title, status, detail, " +
				"a stable code, and the field at fault or the permission refused. Every answer has an X-Request-Id (the client's, when it sends a sane one), " +
				"which the service's log names too. A method a path does not have is 405 with Allow. " +
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
				"phoneNumber": map[string]any{"name": "number", "in": "path", "required": true,
					"schema":      map[string]any{"type": "string", "pattern": NumberPattern},
					"description": "A phone number: up to 20 digits, an optional leading + (%2B), and spaces, dashes, dots, slashes or brackets between them."},
				"recordingName": map[string]any{"name": "recording", "in": "path", "required": true, "description": "A recording's name.", "schema": str},
			},
			"responses": responses(),
			"schemas":   schemas(),
		},
	}
}

// CallerActionOp is the operation of a caller action: POST
// /shows/{show}/callers/{call}/path with the body schema (none: ""),
// answering the call; telephony when it may reach Asterisk (502, 503),
// accepted when it may answer 202.
func CallerActionOp(path, name, id, who, desc, body, accepted string, telephony bool) Op {
	st := statuses(stRead, stBody, []int{409, 422})
	if telephony {
		st = statuses(st, []int{502, 503})
	}
	return Op{Method: "POST", Path: "/shows/{show}/callers/{call}/" + path, ID: id, Tag: "callers",
		Summary: "Caller action: " + name, Desc: desc, Who: who, Body: body, BodyOptional: true, OK: jsonOK("Call"),
		Accepted: accepted, Statuses: st}
}

// responses are the error answers, one per status.
func responses() map[string]any {
	out := map[string]any{}
	for code, desc := range statusText {
		h := map[string]any{"X-Request-Id": requestIDHeader}
		if code == 429 || code == 503 {
			h["Retry-After"] = map[string]any{"description": "Seconds to wait before trying again.",
				"schema": map[string]any{"type": "integer", "minimum": 1}}
		}
		out[strconv.Itoa(code)] = map[string]any{"description": desc, "headers": h,
			"content": map[string]any{ProblemMedia: mediaSchema(ref("Problem"))}}
	}
	return out
}

// requestIDHeader is the header of every answer that names the request.
var requestIDHeader = map[string]any{
	"description": "The request's id: the client's X-Request-Id when sane (1 to 64 letters, digits, - _ . :), else one the service made; its log lines name it.",
	"schema":      map[string]any{"type": "string", "maxLength": 64}}

func operation(op Op) map[string]any {
	o := map[string]any{"operationId": op.ID, "summary": op.Summary, "tags": []string{op.Tag}}
	desc := op.Desc
	if op.Who != "" {
		desc = strings.TrimSpace(desc + " Who may: " + op.Who)
	}
	if desc != "" {
		o["description"] = desc
	}
	if op.Path == "/openapi.json" {
		o["security"] = []any{}
	}
	var params []any
	for _, p := range []struct{ name, component string }{
		{"show", "showKey"}, {"call", "callId"}, {"number", "phoneNumber"}, {"recording", "recordingName"},
	} {
		if strings.Contains(op.Path, "{"+p.name+"}") {
			params = append(params, map[string]any{"$ref": "#/components/parameters/" + p.component})
		}
	}
	for _, p := range op.Params {
		m := map[string]any{"name": p.Name, "in": p.In, "description": p.Desc, "schema": p.Schema}
		if p.Required {
			m["required"] = true
		} else if p.In == "query" {
			m["allowEmptyValue"] = true // ?name= is as if absent
		}
		params = append(params, m)
	}
	if params != nil {
		o["parameters"] = params
	}
	if op.Body != "" {
		o["requestBody"] = map[string]any{"required": !op.BodyOptional,
			"content": map[string]any{"application/json": mediaSchema(ref(op.Body))}}
	}
	if op.Merge != "" {
		o["requestBody"] = map[string]any{"required": false, "content": map[string]any{
			"application/merge-patch+json": mediaSchema(ref(op.Merge)), "application/json": mediaSchema(ref(op.Merge))}}
	}
	res := map[string]any{"200": answer("OK", op)}
	if op.Accepted != "" {
		res["202"] = answer(op.Accepted, op)
	}
	// The body bounds hold on every route: a body over the limit (413) or
	// a multipart one (415), whether the operation takes a body or not.
	for _, st := range statuses(op.Statuses, []int{413, 415}) {
		if statusText[st] == "" {
			panic(fmt.Sprintf("openapi: %s %s: no text for status %d", op.Method, op.Path, st))
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

// eventFrames are the event stream's frames: each event's ID: line (for
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
	frames := []struct{ name, schema string }{
		{"transition", "TransitionFrame"}, {"lines", "LinesFrame"}, {"settings", "SettingsFrame"}, {"recording", "RecordingFrame"},
		{"talkback", "TalkbackFrame"}, {"host", "HostFrame"}, {"node", "NodeFrame"}, {"load", "LoadFrame"}, {"studio", "StudioFrame"},
		{"screening", "ScreeningFrame"}, {"chat", "ChatFrame"}, {"reset", "ResetFrame"}, {"end", "EndFrame"},
	}
	var oneOf []any
	mapping := map[string]any{}
	for _, f := range frames {
		oneOf = append(oneOf, ref(f.schema))
		mapping[f.name] = "#/components/schemas/" + f.schema
	}
	return map[string]any{
		"Event": describe(map[string]any{"oneOf": oneOf, "discriminator": map[string]any{"propertyName": "event", "mapping": mapping}},
			"One frame of the event stream (each frame of the text/event-stream is one of these): its id: line, its event: name (the discriminator) and its data: JSON."),
		"TransitionFrame": event("transition", "Transition", "A call changed.", true),
		"LinesFrame":      event("lines", "LinesEvent", "The lines opened or closed.", true),
		"SettingsFrame":   event("settings", "Settings", "A setting changed.", true),
		"RecordingFrame":  event("recording", "RecordingState", "The recording started, stopped or finished.", true),
		"TalkbackFrame":   event("talkback", "TalkbackEvent", "A talkback started, reached more or fewer holding bridges, or stopped.", true),
		"HostFrame":       event("host", "HostLines", "One of the host's lines rings, went on air, was muted or unmuted, or ended.", true),
		"NodeFrame":       event("node", "NodeEvent", "One of the show's Asterisk nodes changed health.", true),
		"LoadFrame":       event("load", "NodeLoad", "A show across nodes: its load on one node changed.", true),
		"StudioFrame":     event("studio", "Studio", "A show across nodes: its studio node changed health, was lost, or another was named.", true),
		"ScreeningFrame":  event("screening", "ScreeningEvent", "A screener's phone rings for a caller, was answered, or did not take the call.", true),
		"ChatFrame":       event("chat", "Message", "A chat message.", true),
		"ResetFrame":      event("reset", "ResetEvent", "Events were lost: read the show again. Its id is the newest event's, to resume from once read again.", true),
		"EndFrame":        event("end", "EndEvent", "The token was revoked; the stream closes.", false),
	}
}

// answer is op's 200 (or 202) answer; with the Idempotency-Key header it
// declares the header that marks a replayed answer.
func answer(desc string, op Op) map[string]any {
	h := map[string]any{"X-Request-Id": requestIDHeader}
	a := map[string]any{"description": desc, "content": map[string]any(op.OK), "headers": h}
	if slices.ContainsFunc(op.Params, func(p Param) bool { return p.Name == idempotencyParam.Name }) {
		h["Idempotent-Replayed"] = map[string]any{
			"description": "true when this is the first answer to the same request with the same Idempotency-Key, given again.",
			"schema":      map[string]any{"type": "string", "enum": []string{"true"}},
		}
	}
	maps.Copy(h, op.Headers)
	return a
}

// ifMatchParam makes a change conditional on the version read.
var ifMatchParam = Param{In: "header", Name: "If-Match",
	Desc: "The ETag of the version read (or *): the change is made only if it is still the current one, else 412. " +
		"Without it the change is made whatever the version (the last writer wins).",
	Schema: map[string]any{"type": "string", "maxLength": 1024}}

// etagHeader is the ETag of an answer: the version of what it shows.
var etagHeader = map[string]any{"ETag": map[string]any{
	"description": "The version of what the answer shows, for If-Match.",
	"schema":      map[string]any{"type": "string"}}}

// idempotencyParam is the header that makes a POST safe to retry.
var idempotencyParam = Param{In: "header", Name: "Idempotency-Key",
	Desc: "Makes a retry safe: the same key and the same request (method, path, body) within 24 h answer the first answer again, " +
		"with the header Idempotent-Replayed: true; the same key with another request is 422, while the first is being answered 409. " +
		"An answer of 500 or more is not kept. Keys are per user or token; 400 for an empty or over-long key.",
	Schema: map[string]any{"type": "string", "minLength": 1, "maxLength": 255}}

// idempotent is op (a POST) with the Idempotency-Key header and the
// statuses it adds.
func idempotent(op Op) Op {
	op.Params = append(slices.Clone(op.Params), idempotencyParam)
	op.Statuses = statuses(op.Statuses, []int{400, 409, 422})
	return op
}
