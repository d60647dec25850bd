package api

import (
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// Stats are a show's counts and waits: schema Stats.
type Stats struct {
	Arriving           int     `json:"arriving"`
	Waiting            int     `json:"waiting"`
	Screening          int     `json:"screening"`
	Ready              int     `json:"ready"`
	OnAir              int     `json:"on_air"`
	Callback           int     `json:"callback" doc:"Call-back entries holding a place in line."`
	PendingOnAir       int     `json:"pending_on_air" doc:"Promotions under way."`
	AverageWaitSeconds float64 `json:"average_wait_seconds" doc:"Mean time since arrival of the callers waiting, screening or ready."`
	LongestWaitSeconds float64 `json:"longest_wait_seconds" doc:"The longest of them."`
	PaceSeconds        float64 `json:"pace_seconds" doc:"How often the show has lately taken a caller off the line (to air or a screener), from its last 20; 0 until it has taken 3. A caller at place p waits about p times this."`
}

// Show is a show: schema Show.
type Show struct {
	Key       string `json:"key"`
	Title     string `json:"title"`
	LinesOpen bool   `json:"lines_open"`
	Recording bool   `json:"recording"`
	Talkback  bool   `json:"talkback"`
	NodeUp    bool   `json:"node_up"`
	Stats     Stats  `json:"stats"`
	// AnnounceEverySeconds repeats settings.announce_every_seconds (kept
	// from the first version of the API).
	AnnounceEverySeconds int `json:"announce_every_seconds" doc:"As in Settings."`
	// Nodes and Studio are a show across nodes' (issue 24); a show on
	// one node has neither, as before.
	Nodes  []NodeLoad `json:"nodes,omitempty" doc:"A show across several Asterisk nodes: each node, in its configured order, with the show's load there. Absent for a show on one node."`
	Studio *Studio    `json:"studio,omitempty" doc:"A show across several Asterisk nodes: its studio node (the on-air bridge, host, recording). Absent for a show on one node."`
	// HostLines are the host's lines (issue 23).
	HostLines []HostLine `json:"host_lines" doc:"The host's lines, ringing or on air."`
}

// NodeLoad is one node of a show across nodes and the show's load there:
// schema NodeLoad (also the data of a load event).
type NodeLoad struct {
	Node     string              `json:"node"`
	State    broadcast.NodeState `json:"state"`
	Studio   bool                `json:"studio" doc:"The show's studio node now."`
	Held     int                 `json:"held" api:"count" doc:"The show's callers held on the node."`
	Capacity int                 `json:"capacity" api:"count" doc:"The callers the node holds over all its shows before callin marks it full (0: no limit)."`
	Full     bool                `json:"full" doc:"callin has marked the node full: its dialplan refuses new callers, so the SIP front tries another node."`
}

// Studio is a show across nodes' studio node: schema Studio (also the
// data of a studio event).
type Studio struct {
	Node  string              `json:"node"`
	State broadcast.NodeState `json:"state"`
	Lost  bool                `json:"lost" doc:"The studio node was down too long: nobody can go on air until it comes back or another studio is named (POST studio)."`
}

// StudioSet is the body of POST studio: schema StudioSet.
type StudioSet struct {
	Node string `json:"node" api:"text" doc:"One of the show's nodes, up, to be its studio."`
}

// NodeAdd is the body of POST nodes: schema NodeAdd.
type NodeAdd struct {
	Name string `json:"name" api:"nodeName" doc:"The node's name (letters, digits, - and _), as in --nodes and the trunk's endpoint node<name>."`
	URL  string `json:"url,omitempty" api:"nodeURL" doc:"The node's ARI URL, e.g. http://10.0.0.7:8088, without credentials: callin takes them from its environment as for --nodes (CALLIN_ARI_USER_<NAME>, CALLIN_ARI_PASSWORD_<NAME>, else --ari-user and --ari-password). Needed for a node callin does not have; ignored for one it has."`
}

// NodeNamePattern and NodeURLPattern are the rules of NodeAdd's fields.
const (
	NodeNamePattern = `^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`
	NodeURLPattern  = `^https?://[^\s/?#@]+(/[^\s?#@]*)?$`
)

// The lists the API answers with: schemas ShowList, RecordingList,
// TransitionList, CallRecordList, ProfileList and MessageList.
type (
	ShowList struct {
		Shows []Show `json:"shows"`
	}
	RecordingList struct {
		Recordings []Recording `json:"recordings"`
		Paging
	}
	TransitionList struct {
		Transitions []Transition `json:"transitions"`
		Paging
	}
	CallRecordList struct {
		Calls []CallRecord `json:"calls"`
		Paging
	}
	ProfileList struct {
		Callers []Profile `json:"callers"`
	}
	MessageList struct {
		Messages []Message `json:"messages"`
		Paging
	}
)

// Paging is what a page of a list says of the next (issue 22, point 3):
// next_cursor, absent on the last page, is the ?cursor that reads the next
// page; has_more says whether there is one.
type Paging struct {
	NextCursor string `json:"next_cursor,omitempty" doc:"Opaque: pass it as ?cursor to read the next page. Absent on the last page."`
	HasMore    bool   `json:"has_more" doc:"Whether there is a next page (next_cursor is then set)."`
}

// Settings are a show's settings: schema Settings.
type Settings struct {
	Title                string `json:"title"`
	LinesOpen            bool   `json:"lines_open"`
	Capacity             int    `json:"capacity" doc:"Most callers in line; 0: no limit."`
	MaxOnAir             int    `json:"max_on_air" doc:"Most callers on air at once; 0: no limit."`
	AnnounceEverySeconds int    `json:"announce_every_seconds" doc:"How often waiting callers hear their position; 0: never."`
	OnAirWarningMinutes  int    `json:"on_air_warning_minutes" doc:"When the consoles warn that a caller has been on air too long."`
	MusicClass           string `json:"music_class" doc:"The music-on-hold class."`
}

// SettingsChange is the body of PATCH settings: only the fields given
// change.
type SettingsChange struct {
	Capacity             *int `json:"capacity,omitempty" api:"capacity"`
	MaxOnAir             *int `json:"max_on_air,omitempty" api:"maxOnAir"`
	AnnounceEverySeconds *int `json:"announce_every_seconds,omitempty" api:"announceEvery"`
	OnAirWarningMinutes  *int `json:"on_air_warning_minutes,omitempty" api:"warningMinutes"`
}

// Lines is the body of PUT lines: schema Lines.
type Lines struct {
	Open *bool `json:"open"`
}

// Me is GET /me's answer (schema Me): who the token is, its role's
// permissions (auth.Can) and the caller actions it may take, from the
// table of caller actions.
type Me struct {
	Name          string            `json:"name"`
	Kind          string            `json:"kind" api:"meKind"`
	Role          string            `json:"role" api:"role"`
	Permissions   []string          `json:"permissions" doc:"What the role may do (view, screen, promote, …)."`
	CallerActions []PermittedAction `json:"caller_actions"`
}

// PermittedAction is one caller action a role may take (schema
// PermittedAction): its name, URL segment and operation, and on which
// callers the role's permission lets it (all, on_air or not_on_air; the
// call's state decides the rest).
type PermittedAction struct {
	Action    string `json:"action" doc:"The action, as transitions name it."`
	Path      string `json:"path" doc:"Its segment under /shows/{show}/callers/{call}/."`
	Operation string `json:"operation" doc:"Its operationId."`
	Callers   string `json:"callers" api:"callers"`
}

// Notes are a screener's notes: schema Notes.
type Notes struct {
	Name     string `json:"name,omitempty" api:"text"`
	Location string `json:"location,omitempty" api:"text"`
	Topic    string `json:"topic,omitempty" api:"text"`
	Priority int    `json:"priority,omitempty" api:"priority"`
}

// Callback is a call-back entry: schema Callback.
type Callback struct {
	Number      string    `json:"number" doc:"The number callin calls."`
	Calling     bool      `json:"calling" doc:"An attempt is ringing now."`
	Attempt     int       `json:"attempt" doc:"Attempts made so far."`
	Attempts    int       `json:"attempts" doc:"Of at most this many."`
	NextAt      time.Time `json:"next_at,omitzero"`
	RequestedAt time.Time `json:"requested_at"`
	Now         bool      `json:"now" doc:"A producer asked to call now."`
}

// Call is a live caller: schema Call.
type Call struct {
	ID         string        `json:"id"`
	Number     string        `json:"number" doc:"Caller ID number, as presented."`
	Name       string        `json:"name,omitempty" doc:"Caller ID name: text from outside."`
	Node       string        `json:"node"`
	ChannelID  string        `json:"channel_id"`
	State      queue.State   `json:"state"`
	ArrivedAt  time.Time     `json:"arrived_at"`
	Since      time.Time     `json:"since" doc:"When it entered its state."`
	Position   int           `json:"position,omitempty" doc:"Place in line (waiting, ready and call-back entries), from 1."`
	Notes      Notes         `json:"notes"`
	Screener   string        `json:"screener,omitempty"`
	Muted      bool          `json:"muted"`
	Locked     bool          `json:"locked"`
	Next       bool          `json:"next" doc:"Picked to go on air next."`
	Top        bool          `json:"top" doc:"Moved to the top."`
	Announcing bool          `json:"announcing" doc:"Hearing its position."`
	WasOnAir   bool          `json:"was_on_air"`
	Blocked    bool          `json:"blocked" doc:"The number was blocked while the caller was in line: take-next passes it by."`
	BlockNote  string        `json:"block_note,omitempty"`
	Confirmed  bool          `json:"confirmed" doc:"Pressed 1 when asked whether ready for air."`
	Callback   *Callback     `json:"callback,omitempty"`
	Quality    *LineQuality  `json:"quality,omitempty"`
	Pending    string        `json:"pending,omitempty" doc:"An action under way on it."`
	Outcome    queue.Outcome `json:"outcome,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Seq        int           `json:"seq" doc:"Seq of its latest transition."`
}

// CallList is schema CallList. EventID ties it to the event stream
// (issue 22, point 6): the list shows every event up to it and none after.
type CallList struct {
	Callers []Call `json:"callers"`
	EventID string `json:"event_id,omitempty" api:"eventId" doc:"The id of the newest event this list shows: stream the events from it (Last-Event-ID) to get every change after the list, none twice. Absent when it cannot be told (a resync with Asterisk under way, the stream resubscribing): list again."`
}

// AirCleared is what clearing the air did: schema AirCleared.
type AirCleared struct {
	Cleared []Call `json:"cleared" doc:"Held or dropped, as they were on air."`
	Locked  []Call `json:"locked" doc:"Locked: still on air."`
}

// LineQuality is a caller's line as Asterisk last measured it: schema
// LineQuality.
type LineQuality struct {
	At          time.Time `json:"at"`
	JitterMS    float64   `json:"jitter_ms" doc:"Jitter, the worse direction."`
	LossPercent float64   `json:"loss_percent" doc:"Packets lost, the worse direction."`
	RTTMS       float64   `json:"rtt_ms" doc:"Round trip, when the phone sends RTCP (else 0)."`
	MES         float64   `json:"mes" doc:"Media experience score, 0-100, when Asterisk gives one."`
	Grade       string    `json:"grade" api:"grade"`
}

// Screen is screen's body: schema Screen.
type Screen struct {
	Screener string `json:"screener,omitempty" api:"text" doc:"Who screens (default: the token's name). Another user than the token's only for producers and admins (403 otherwise)."`
}

// Drop is drop's body (and drop all's): schema Drop.
type Drop struct {
	Reason  string `json:"reason,omitempty" api:"text"`
	Goodbye bool   `json:"goodbye,omitempty" doc:"Play the goodbye prompt before hanging up."`
}

// TalkbackStart is the body of talkback/start.
type TalkbackStart struct {
	Endpoint string   `json:"endpoint,omitempty" api:"endpoint" doc:"One of the show's talkback phones (--show talkback-phones=)."`
	Media    []string `json:"media,omitempty" api:"talkbackMedia" doc:"The show's talkback media, or plain sound:NAME prompts when it lists none."`
}

// Talkback says whether a talkback is on: schema Talkback.
type Talkback struct {
	Talkback bool `json:"talkback"`
}

// HostCall is the host's line: schema HostCall.
type HostCall struct {
	ChannelID string `json:"channel_id" doc:"The host's line, ringing."`
}

// RecordingState is the on-air recording now: schema RecordingState,
// the data of recording events.
type RecordingState struct {
	Active          bool      `json:"active"`
	Name            string    `json:"name,omitempty"`
	State           string    `json:"state,omitempty" doc:"Asterisk's: queued, recording, done, failed, canceled."`
	Format          string    `json:"format,omitempty"`
	Started         time.Time `json:"started,omitzero"`
	Ended           time.Time `json:"ended,omitzero"`
	DurationSeconds float64   `json:"duration_seconds,omitempty"`
	Calls           []string  `json:"calls,omitempty" doc:"Calls on air during it."`
	Error           string    `json:"error,omitempty" doc:"Why a recording is failed without having started, in words for the producer: \"Asterisk did not start the recording within 5s; it is stopped: press Record to try again\"."`
}

// Recording is a finished recording: schema Recording.
type Recording struct {
	Name            string    `json:"name"`
	Show            string    `json:"show"`
	Format          string    `json:"format"`
	Started         time.Time `json:"started,omitzero"`
	Ended           time.Time `json:"ended,omitzero"`
	DurationSeconds float64   `json:"duration_seconds"`
	Calls           []string  `json:"calls" doc:"Calls on air at any time during it."`
	Kept            bool      `json:"kept" doc:"False once retention (--keep-recordings) deleted the file."`
}

// Actor is who made a transition: schema Actor.
type Actor struct {
	Kind queue.ActorKind `json:"kind"`
	Name string          `json:"name,omitempty"`
}

// Transition is one change of a call: schema Transition, the data of
// the event stream's transition events and the rows of the transitions
// export.
type Transition struct {
	CallID    string        `json:"call_id"`
	Seq       int           `json:"seq" doc:"1 for the arrival, then one more per transition of the call."`
	At        time.Time     `json:"at"`
	Show      string        `json:"show"`
	From      queue.State   `json:"from,omitempty" doc:"The state before; absent for the arrival."`
	To        queue.State   `json:"to"`
	Action    string        `json:"action" api:"transitionAction"`
	Actor     Actor         `json:"actor"`
	Number    string        `json:"number"`
	Name      string        `json:"name,omitempty"`
	Node      string        `json:"node"`
	ChannelID string        `json:"channel_id"`
	Notes     *Notes        `json:"notes,omitempty"`
	Outcome   queue.Outcome `json:"outcome,omitempty"`
	Cause     int           `json:"cause,omitempty" doc:"Q.850 hangup cause."`
	Reason    string        `json:"reason,omitempty"`
}

// CallRecord is a call as the history has it: schema CallRecord.
type CallRecord struct {
	ID         string        `json:"id"`
	Show       string        `json:"show"`
	Number     string        `json:"number"`
	Name       string        `json:"name,omitempty"`
	State      queue.State   `json:"state"`
	ArrivedAt  time.Time     `json:"arrived_at,omitzero"`
	AnsweredAt time.Time     `json:"answered_at,omitzero"`
	OnAirAt    time.Time     `json:"on_air_at,omitzero" doc:"First time on air."`
	EndedAt    time.Time     `json:"ended_at,omitzero"`
	Outcome    queue.Outcome `json:"outcome,omitempty"`
	Cause      int           `json:"cause,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Notes      Notes         `json:"notes"`
}

// Profile is what callin knows of a number: schema Profile. Who blocked
// it and when are shown while it is blocked only.
type Profile struct {
	Number        string    `json:"number"`
	Name          string    `json:"name,omitempty"`
	Notes         string    `json:"notes,omitempty" doc:"The producers' notes about this caller."`
	Calls         int       `json:"calls"`
	OnAir         int       `json:"on_air"`
	FirstCall     time.Time `json:"first_call,omitzero"`
	LastCall      time.Time `json:"last_call,omitzero"`
	Blocked       bool      `json:"blocked"`
	BlockedReason string    `json:"blocked_reason,omitempty" doc:"While blocked."`
	BlockedBy     string    `json:"blocked_by,omitempty" doc:"While blocked: the user's name, or token:NAME for an API token."`
	BlockedAt     time.Time `json:"blocked_at,omitzero" doc:"While blocked."`
}

// History is a caller's profile and last calls: schema History.
type History struct {
	Profile Profile      `json:"profile"`
	Calls   []CallRecord `json:"calls"`
	Paging
}

// CallerNotes is one version of a caller's notes: schema CallerNotes.
type CallerNotes struct {
	Number        string    `json:"number"`
	Topic         string    `json:"topic" doc:"What they call about."`
	Notes         string    `json:"notes"`
	Rating        int       `json:"rating" api:"rating" doc:"0: not rated."`
	DoNotAir      bool      `json:"do_not_air" doc:"Producers must not put this caller on air."`
	ContestWinner bool      `json:"contest_winner"`
	CallID        string    `json:"call_id,omitempty" doc:"The call they were written during, if any."`
	By            string    `json:"by,omitempty" doc:"The user's name, or token:NAME for an API token."`
	At            time.Time `json:"at,omitzero"`
}

// CallerNotesView is a caller's notes now and as saved before: schema
// CallerNotesView.
type CallerNotesView struct {
	Notes   CallerNotes   `json:"notes"`
	History []CallerNotes `json:"history"`
}

// CallerNotesInput is the body of PUT notes, the whole notes: schema
// CallerNotesInput. Every member but call_id is required (a pointer, so
// that one left out is told from a zero value): a PUT that left out a
// member would blank it (issue 22, point 2); PATCH changes some.
type CallerNotesInput struct {
	Topic         *string `json:"topic" api:"notesTopic"`
	Notes         *string `json:"notes" api:"notesText"`
	Rating        *int    `json:"rating" api:"rating"`
	DoNotAir      *bool   `json:"do_not_air"`
	ContestWinner *bool   `json:"contest_winner"`
	CallID        string  `json:"call_id,omitempty"`
}

// CallerNotesPatch is the body of PATCH notes, an RFC 7396 merge patch:
// schema CallerNotesPatch. A member left out stays as it is, null clears
// it (empty text, rating 0, false), a value sets it.
type CallerNotesPatch struct {
	Topic         *string `json:"topic,omitempty" api:"notesTopic" nullable:"true"`
	Notes         *string `json:"notes,omitempty" api:"notesText" nullable:"true"`
	Rating        *int    `json:"rating,omitempty" api:"rating" nullable:"true"`
	DoNotAir      *bool   `json:"do_not_air,omitempty" nullable:"true"`
	ContestWinner *bool   `json:"contest_winner,omitempty" nullable:"true"`
	CallID        *string `json:"call_id,omitempty" nullable:"true"`
}

// Block is the body of PUT block: schema Block.
type Block struct {
	Reason string `json:"reason" api:"blockReason" doc:"Why (required)."`
}

// Message is a chat message: schema Message, the data of chat events.
type Message struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author" doc:"The user's name, or token:NAME for an API token."`
	Text   string    `json:"text"`
}

// MessageText is the body of POST chat: schema MessageText.
type MessageText struct {
	Text string `json:"text" api:"chatText"`
}

// LinesEvent is the data of a lines event: schema LinesEvent.
type LinesEvent struct {
	Open bool `json:"open"`
}

// TalkbackEvent is the data of a talkback event: schema TalkbackEvent.
type TalkbackEvent struct {
	Active      bool   `json:"active"`
	Line        string `json:"line,omitempty" doc:"The producer's line, once it speaks in the first holding bridge."`
	Bridges     int    `json:"bridges" api:"count" doc:"Holding bridges that hear the talkback now (each bridge of the pool beyond the first hears a live line through a relay); 0 while the producer's phone rings and when no talkback is on."`
	HoldBridges int    `json:"hold_bridges" api:"count" doc:"Holding bridges in the show's pool while the talkback is on; 0 when none is on."`
	By          string `json:"by,omitempty" doc:"Who started the talkback (the name of the token or console user), when known."`
}

// NodeEvent is the data of a node event: schema NodeEvent.
type NodeEvent struct {
	Node  string              `json:"node"`
	State broadcast.NodeState `json:"state"`
	Since time.Time           `json:"since"`
}

// ScreeningEvent is the data of a screening event: schema
// ScreeningEvent.
type ScreeningEvent struct {
	CallID   string     `json:"call_id"`
	Screener string     `json:"screener" doc:"Who screens."`
	Phone    string     `json:"phone" doc:"The endpoint rung, like PJSIP/screener1."`
	State    string     `json:"state" api:"screeningState" doc:"ringing: the phone rings, the caller keeps the music and their place. answered: caller and screener talk (the screen transition came first). busy, unavailable, no_answer (rang for the ring timeout), unreachable, refused, failed (Asterisk did not do it): the caller is still on hold at their place, as before. caller_gone: the caller hung up while it rang."`
	Message  string     `json:"message" doc:"What happened, in words for the producer: \"Sam's phone is busy — James is still on hold\"."`
	Cause    int        `json:"cause,omitempty" doc:"The Q.850 cause the phone hung up with, when it gave one."`
	Rang     *float64   `json:"rang_seconds,omitempty" doc:"How long it rang, once over."`
	Started  time.Time  `json:"started"`
	Ended    *time.Time `json:"ended,omitempty" doc:"Once over."`
}

// ResetEvent is the data of a reset event: schema ResetEvent.
type ResetEvent struct {
	Reason string `json:"reason"`
	LastID int64  `json:"last_id" doc:"The newest event id now."`
}

// EndEvent is the data of an end event: schema EndEvent.
type EndEvent struct {
	Reason string `json:"reason"`
}
