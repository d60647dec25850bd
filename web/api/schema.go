package api

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// The document's schemas are made from the Go types the API encodes and
// decodes (types.go: each named as its schema), by reflection: a schema cannot list a field its type does not have, or
// miss one it has. Each exported field is a property named by its json
// tag; it is required unless tagged omitempty or omitzero (so an input's
// optional fields carry omitempty, which decoding ignores). Struct types
// listed in apiSchemas become references; other structs are inlined. A
// field's schema is its kind when tagged api:"kind" (fieldKinds: bounds
// and enums from the Go constants), else its enum when tagged
// enum:"a,b", else its type's; doc:"…" is its description; nullable:"true"
// lets it be null (a merge patch's member that clears). Every object
// is closed (additionalProperties false). Only the event stream's frames
// (an id:, event: and data: line, not JSON) are written out by hand
// (eventSchemas).

// apiSchema names a Go type as one of the document's schemas.
type apiSchema struct {
	name  string
	typ   reflect.Type
	desc  string
	extra map[string]any // rules beside the properties (anyOf)
}

// schemaOf is type T as the schema of its name, described by desc.
func schemaOf[T any](desc string) apiSchema {
	t := reflect.TypeFor[T]()
	return apiSchema{name: t.Name(), typ: t, desc: desc}
}

// withRules is s with rules beside its properties.
func withRules(s apiSchema, extra map[string]any) apiSchema {
	s.extra = extra
	return s
}

// apiSchemas is every schema made from a Go type.
var apiSchemas = []apiSchema{
	schemaOf[Problem]("RFC 9457 problem details: the body of every error, sent as application/problem+json."),
	schemaOf[Stats](""),
	schemaOf[Show](""),
	schemaOf[ShowList](""),
	schemaOf[NodeLoad]("One node of a show across nodes, with the show's load there."),
	schemaOf[Studio]("A show across nodes' studio node and whether it is lost."),
	schemaOf[StudioSet]("The node to name as the show's studio."),
	schemaOf[NodeAdd]("A node for the show to take callers from, added to callin when it has none of that name."),
	schemaOf[Settings](""),
	schemaOf[SettingsChange](""),
	schemaOf[Lines](""),
	schemaOf[Me](""),
	schemaOf[PermittedAction]("A caller action the token may take, and on which callers."),
	schemaOf[Notes](""),
	schemaOf[Callback]("A call-back entry: the caller hung up to be called back and keeps the place."),
	schemaOf[Call](""),
	schemaOf[CallList](""),
	schemaOf[AirCleared]("What hold all or drop all did."),
	schemaOf[LineQuality]("A caller's line as Asterisk last measured it."),
	schemaOf[Screen](""),
	schemaOf[Drop](""),
	withRules(schemaOf[TalkbackStart]("An endpoint or media, or both (422 with neither)."),
		map[string]any{"anyOf": []any{map[string]any{"required": []string{"endpoint"}}, map[string]any{"required": []string{"media"}}}}),
	schemaOf[Talkback](""),
	schemaOf[HostCall](""),
	schemaOf[HostLine]("One of the host's lines, ringing or on air (after Call host, or a host who dialled in)."),
	schemaOf[HostLines](""),
	schemaOf[HostLineRef](""),
	schemaOf[HostMute](""),
	schemaOf[RecordingState](""),
	schemaOf[Recording](""),
	schemaOf[RecordingList](""),
	schemaOf[Actor](""),
	schemaOf[Transition](""),
	schemaOf[TransitionList](""),
	schemaOf[CallRecord](""),
	schemaOf[CallRecordList](""),
	schemaOf[Profile](""),
	schemaOf[ProfileList](""),
	schemaOf[History](""),
	schemaOf[CallerNotes](""),
	schemaOf[CallerNotesView](""),
	schemaOf[CallerNotesInput]("The whole notes: every member but call_id is required (PATCH changes some)."),
	schemaOf[CallerNotesPatch]("An RFC 7396 merge patch of the notes: a member left out stays, null clears it, a value sets it."),
	schemaOf[Block](""),
	schemaOf[Message](""),
	schemaOf[MessageList](""),
	schemaOf[MessageText](""),
	schemaOf[LinesEvent](""),
	schemaOf[TalkbackEvent](""),
	schemaOf[NodeEvent](""),
	schemaOf[ScreeningEvent](""),
	schemaOf[ResetEvent](""),
	schemaOf[EndEvent](""),
}

// The enums, each one schema that every field of it refers to ($ref), so
// that a generated client has one type per enum (one CallState, not one
// per schema that has a state) with constants named after it (issue 22,
// point 7).
var (
	states    = names(queue.States)
	enumTypes = map[string]map[string]any{
		"CallState":   describe(enum(states...), "A call's state."),
		"CallOutcome": describe(enum(names(queue.Outcomes)...), "How an ended call ended."),
		"ActorKind":   describe(enum("user", "token", "caller", "system"), "Who made a change: a console user, an API token, the caller, or callin itself."),
		"HostState":   describe(enum(string(broadcast.HostRinging), string(broadcast.HostOnAir), string(broadcast.HostFailed)), "Where a host's line is."),
		"NodeState":   describe(enum("connecting", "syncing", "up", "down", "replaced", "stopped", "standby"), "An Asterisk node's health."),
		"TransitionAction": describe(enum("arrive", "reject", "join", "screen", "ready", "promote", "take_next", "hold", "mute", "unmute",
			"lock", "unlock", "drop", "move_to_top", "pick_next", "unpick_next", "notes", "hangup", "fail", "readmit",
			"reconcile", "vanish", "node_lost", "air_lost", "block", "unblock", "callback_request", "callback_now", "callback_dial",
			"callback_miss", "callback_return", "confirm", "cause"), "What changed a call."),
		"ScreeningState": describe(enum("ringing", "answered", "busy", "unavailable", "no_answer", "unreachable", "refused", "failed", "caller_gone"),
			"Where a screener's phone call for a caller is."),
		"ProblemCode":      describe(enum(ProblemCodes()...), "A problem's stable code."),
		"Role":             describe(enum("admin", "producer", "screener", "host"), "A user's or token's role."),
		"MeKind":           describe(enum("user", "token"), "A console user or an API token."),
		"CallerScope":      describe(enum("all", "on_air", "not_on_air"), "On which callers a role may take an action."),
		"LineQualityGrade": describe(enum("good", "fair", "poor"), "A line's quality in a word."),
		"ExportFormat":     describe(enum("json", "csv"), "A list's format: JSON (paged) or CSV (every row, streamed)."),
	}
	typeSchema = map[reflect.Type]map[string]any{
		reflect.TypeFor[time.Time]():           dateTime,
		reflect.TypeFor[queue.State]():         ref("CallState"),
		reflect.TypeFor[queue.Outcome]():       ref("CallOutcome"),
		reflect.TypeFor[queue.ActorKind]():     ref("ActorKind"),
		reflect.TypeFor[broadcast.HostState](): ref("HostState"),
		reflect.TypeFor[broadcast.NodeState](): ref("NodeState"),
	}
)

// fieldKinds are the schemas fields name with api:"kind": bounds and
// enums taken from the Go constants that enforce them.
var fieldKinds = map[string]map[string]any{
	"text":     text(MaxText),
	"eventId":  {"type": "string", "pattern": "^[0-9]{1,18}$"},
	"priority": bounded(0, MaxPriority),
	"count":    {"type": "integer", "minimum": 0},
	"capacity": bounded(0, MaxCapacity), "maxOnAir": bounded(0, MaxOnAirLimit),
	"announceEvery": bounded(0, MaxAnnounceEvery), "warningMinutes": bounded(1, MaxWarningMinutes),
	"rating":           bounded(0, queue.MaxRating),
	"notesTopic":       {"type": "string", "maxLength": queue.MaxNotesTopic},
	"notesText":        {"type": "string", "maxLength": queue.MaxNotesText},
	"blockReason":      {"type": "string", "minLength": 1, "maxLength": MaxText},
	"chatText":         {"type": "string", "minLength": 1, "maxLength": MaxChat},
	"talkbackMedia":    {"type": "array", "items": str, "minItems": 1, "maxItems": MaxTalkbackMedia},
	"endpoint":         {"type": "string", "minLength": 1, "maxLength": MaxText},
	"nodeName":         {"type": "string", "pattern": NodeNamePattern},
	"nodeURL":          {"type": "string", "pattern": NodeURLPattern, "maxLength": MaxText},
	"errorCode":        ref("ProblemCode"),
	"transitionAction": ref("TransitionAction"),
	"screeningState":   ref("ScreeningState"),
	"meKind":           ref("MeKind"),
	"role":             ref("Role"),
	"callers":          ref("CallerScope"),
	"grade":            ref("LineQualityGrade"),
}

// bounded is a whole number within [lo, hi].
func bounded(lo, hi int) map[string]any {
	return map[string]any{"type": "integer", "minimum": lo, "maximum": hi}
}

// reflectSchemas makes the schemas of apiSchemas.
func reflectSchemas() map[string]any {
	names := map[reflect.Type]string{}
	for _, s := range apiSchemas {
		names[s.typ] = s.name
	}
	out := map[string]any{}
	for _, s := range apiSchemas {
		o := objectSchema(s.typ, names)
		maps.Copy(o, s.extra)
		if s.desc != "" {
			o = describe(o, s.desc)
		}
		out[s.name] = o
	}
	for name, e := range enumTypes {
		out[name] = e
	}
	return out
}

// objectSchema is the closed object of struct type t.
func objectSchema(t reflect.Type, names map[reflect.Type]string) map[string]any {
	props := map[string]any{}
	var required []string
	for f := range reflectFields(t) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := fieldSchema(f, names)
		if d := f.Tag.Get("doc"); d != "" {
			p = describe(p, d)
		}
		if f.Tag.Get("nullable") == "true" {
			p = describe(p, "null clears it.")
			p["nullable"] = true
		}
		props[name] = p
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			required = append(required, name)
		}
	}
	return obj(props, required...)
}

// reflectFields yields t's fields, those of an untagged embedded struct
// in its place (as encoding/json flattens them).
func reflectFields(t reflect.Type) func(func(reflect.StructField) bool) {
	return func(yield func(reflect.StructField) bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
				for g := range reflectFields(f.Type) {
					if !yield(g) {
						return
					}
				}
				continue
			}
			if !yield(f) {
				return
			}
		}
	}
}

// fieldSchema is the schema of one field: its kind, its enum or its type's.
func fieldSchema(f reflect.StructField, names map[reflect.Type]string) map[string]any {
	if k := f.Tag.Get("api"); k != "" {
		s, ok := fieldKinds[k]
		if !ok {
			panic(fmt.Sprintf("openapi: field %s: no kind %q", f.Name, k))
		}
		return s
	}
	if e := f.Tag.Get("enum"); e != "" {
		return enum(strings.Split(e, ",")...)
	}
	return schemaOfType(f.Type, names)
}

// schemaOfType is the schema of a Go type: a reference to a named schema,
// a domain enum, or its JSON shape.
func schemaOfType(t reflect.Type, names map[reflect.Type]string) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := names[t]; ok {
		return ref(n)
	}
	if s, ok := typeSchema[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return str
	case reflect.Bool:
		return boolean
	case reflect.Int, reflect.Int32, reflect.Int64:
		return integer
	case reflect.Float64:
		return numeric
	case reflect.Slice:
		return arrayOf(schemaOfType(t.Elem(), names))
	case reflect.Struct:
		return objectSchema(t, names)
	}
	panic(fmt.Sprintf("openapi: no schema for Go type %s", t))
}

// names are a string type's values as strings, for an enum.
func names[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
