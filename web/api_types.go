package web

import (
	"math"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// The API's JSON: each type here is one schema of the OpenAPI document,
// which is made from it by reflection (openapi_schema.go: a field's json
// tag names it, doc its description, api or enum its bounds), so the
// document cannot drift from what is encoded; the types are apart from
// the domain's, so that a change of a domain type never changes the API
// by accident. Durations are seconds, named so.

// seconds is a duration in seconds, to the millisecond.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// apiShow is a show: schema Show.
type apiShow struct {
	Key       string   `json:"key"`
	Title     string   `json:"title"`
	LinesOpen bool     `json:"lines_open"`
	Recording bool     `json:"recording"`
	Talkback  bool     `json:"talkback"`
	NodeUp    bool     `json:"node_up"`
	Stats     apiStats `json:"stats"`
	// AnnounceEverySeconds repeats settings.announce_every_seconds (kept
	// from the first version of the API).
	AnnounceEverySeconds int `json:"announce_every_seconds" doc:"As in Settings."`
}

// apiStats are a show's counts and waits: schema Stats.
type apiStats struct {
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

func showOf(s broadcast.Snapshot) apiShow {
	st := s.Stats
	return apiShow{Key: s.Show, Title: s.Settings.Title, LinesOpen: s.Settings.LinesOpen, Recording: s.Recording.Active,
		Talkback: s.Media.Talkback, NodeUp: s.Node.OK(), AnnounceEverySeconds: int(s.Settings.AnnounceEvery / time.Second),
		Stats: apiStats{Arriving: st.Arriving, Waiting: st.Waiting, Screening: st.Screening, Ready: st.Ready, OnAir: st.OnAir,
			Callback: st.Callback, PendingOnAir: st.PendingOnAir,
			AverageWaitSeconds: seconds(st.AverageWait), LongestWaitSeconds: seconds(st.LongestWait),
			PaceSeconds: seconds(st.Pace)}}
}

// apiSettings are a show's settings: schema Settings.
type apiSettings struct {
	Title                string `json:"title"`
	LinesOpen            bool   `json:"lines_open"`
	Capacity             int    `json:"capacity" doc:"Most callers in line; 0: no limit."`
	MaxOnAir             int    `json:"max_on_air" doc:"Most callers on air at once; 0: no limit."`
	AnnounceEverySeconds int    `json:"announce_every_seconds" doc:"How often waiting callers hear their position; 0: never."`
	OnAirWarningMinutes  int    `json:"on_air_warning_minutes" doc:"When the consoles warn that a caller has been on air too long."`
	MusicClass           string `json:"music_class" doc:"The music-on-hold class."`
}

func settingsOf(s broadcast.Settings, airLimit time.Duration) apiSettings {
	return apiSettings{Title: s.Title, LinesOpen: s.LinesOpen, Capacity: s.Capacity, MaxOnAir: s.MaxOnAir,
		AnnounceEverySeconds: int(s.AnnounceEvery / time.Second), OnAirWarningMinutes: int(airLimit / time.Minute),
		MusicClass: s.MOHClass}
}

// apiNotes are a screener's notes: schema Notes.
type apiNotes struct {
	Name     string `json:"name,omitempty" api:"text"`
	Location string `json:"location,omitempty" api:"text"`
	Topic    string `json:"topic,omitempty" api:"text"`
	Priority int    `json:"priority,omitempty" api:"priority"`
}

func notesOf(n queue.Notes) apiNotes {
	return apiNotes{Name: n.Name, Location: n.Location, Topic: n.Topic, Priority: n.Priority}
}

// apiCall is a live caller: schema Call.
type apiCall struct {
	ID         string        `json:"id"`
	Number     string        `json:"number" doc:"Caller ID number, as presented."`
	Name       string        `json:"name,omitempty" doc:"Caller ID name: text from outside."`
	Node       string        `json:"node"`
	ChannelID  string        `json:"channel_id"`
	State      queue.State   `json:"state"`
	ArrivedAt  time.Time     `json:"arrived_at"`
	Since      time.Time     `json:"since" doc:"When it entered its state."`
	Position   int           `json:"position,omitempty" doc:"Place in line (waiting, ready and call-back entries), from 1."`
	Notes      apiNotes      `json:"notes"`
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
	Callback   *apiCallback  `json:"callback,omitempty"`
	Quality    *apiQuality   `json:"quality,omitempty"`
	Pending    string        `json:"pending,omitempty" doc:"An action under way on it."`
	Outcome    queue.Outcome `json:"outcome,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Seq        int           `json:"seq" doc:"Seq of its latest transition."`
}

// apiCallback is a call-back entry: schema Callback.
type apiCallback struct {
	Number      string    `json:"number" doc:"The number callin calls."`
	Calling     bool      `json:"calling" doc:"An attempt is ringing now."`
	Attempt     int       `json:"attempt" doc:"Attempts made so far."`
	Attempts    int       `json:"attempts" doc:"Of at most this many."`
	NextAt      time.Time `json:"next_at,omitzero"`
	RequestedAt time.Time `json:"requested_at"`
	Now         bool      `json:"now" doc:"A producer asked to call now."`
}

func callOf(c queue.Call) apiCall {
	out := apiCall{ID: c.ID, Number: c.Number, Name: c.Name, Node: c.Node, ChannelID: c.ChannelID, State: c.State,
		ArrivedAt: c.ArrivedAt, Since: c.Since, Position: c.Position, Notes: notesOf(c.Notes), Screener: c.Screener,
		Muted: c.Muted, Locked: c.Locked, Next: c.Next, Top: c.Top, Announcing: c.Announcing, WasOnAir: c.WasOnAir,
		Blocked: c.Blocked, BlockNote: c.BlockNote, Confirmed: c.Confirmed, Pending: c.Pending, Outcome: c.Outcome,
		Reason: c.Reason, Seq: c.Seq}
	if cb := c.Callback; cb != nil {
		out.Callback = &apiCallback{Number: cb.Number, Calling: cb.Calling, Attempt: cb.Attempt, Attempts: cb.Attempts,
			NextAt: cb.NextAt, RequestedAt: cb.RequestedAt, Now: cb.Now}
	}
	return out
}

// apiCallList is schema CallList.
type apiCallList struct {
	Callers []apiCall `json:"callers"`
}

// apiQuality is a caller's line as Asterisk last measured it: schema
// LineQuality.
type apiQuality struct {
	At          time.Time `json:"at"`
	JitterMS    float64   `json:"jitter_ms" doc:"Jitter, the worse direction."`
	LossPercent float64   `json:"loss_percent" doc:"Packets lost, the worse direction."`
	RTTMS       float64   `json:"rtt_ms" doc:"Round trip, when the phone sends RTCP (else 0)."`
	MES         float64   `json:"mes" doc:"Media experience score, 0-100, when Asterisk gives one."`
	Grade       string    `json:"grade" enum:"good,fair,poor"`
}

func qualityOf(q broadcast.LineQuality) *apiQuality {
	return &apiQuality{At: q.At, JitterMS: q.JitterMS, LossPercent: q.LossPct, RTTMS: q.RTTMS, MES: q.MES, Grade: q.Grade}
}

// withQuality adds each caller's last line measure from a snapshot.
func withQuality(l apiCallList, q map[string]broadcast.LineQuality) apiCallList {
	for i, c := range l.Callers {
		if lq, ok := q[c.ID]; ok {
			l.Callers[i].Quality = qualityOf(lq)
		}
	}
	return l
}

func callsOf(cs []queue.Call) apiCallList {
	out := apiCallList{Callers: make([]apiCall, 0, len(cs))}
	for _, c := range cs {
		out.Callers = append(out.Callers, callOf(c))
	}
	return out
}

// apiActor is who made a transition: schema Actor.
type apiActor struct {
	Kind queue.ActorKind `json:"kind"`
	Name string          `json:"name,omitempty"`
}

// apiTransition is one change of a call: schema Transition, the data of
// the event stream's transition events and the rows of the transitions
// export.
type apiTransition struct {
	CallID    string        `json:"call_id"`
	Seq       int           `json:"seq" doc:"1 for the arrival, then one more per transition of the call."`
	At        time.Time     `json:"at"`
	Show      string        `json:"show"`
	From      queue.State   `json:"from" api:"fromState" doc:"The state before; empty for the arrival."`
	To        queue.State   `json:"to"`
	Action    string        `json:"action" api:"transitionAction"`
	Actor     apiActor      `json:"actor"`
	Number    string        `json:"number"`
	Name      string        `json:"name,omitempty"`
	Node      string        `json:"node"`
	ChannelID string        `json:"channel_id"`
	Notes     *apiNotes     `json:"notes,omitempty"`
	Outcome   queue.Outcome `json:"outcome,omitempty"`
	Cause     int           `json:"cause,omitempty" doc:"Q.850 hangup cause."`
	Reason    string        `json:"reason,omitempty"`
}

func apiTransitionOf(t queue.Transition) apiTransition {
	out := apiTransition{CallID: t.CallID, Seq: t.Seq, At: t.At, Show: t.Show, From: t.From, To: t.To, Action: t.Action,
		Actor: apiActor{Kind: t.Actor.Kind, Name: t.Actor.Name}, Number: t.Number, Name: t.Name, Node: t.Node,
		ChannelID: t.ChannelID, Outcome: t.Outcome, Cause: t.Cause, Reason: t.Reason}
	if t.Notes != nil {
		n := notesOf(*t.Notes)
		out.Notes = &n
	}
	return out
}

// apiProfile is what callin knows of a number: schema Profile. Who blocked
// it and when are shown while it is blocked only.
type apiProfile struct {
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

func profileOf(p queue.Profile) apiProfile {
	out := apiProfile{Number: p.Number, Name: p.Name, Notes: p.Notes, Calls: p.Calls, OnAir: p.OnAir,
		FirstCall: p.FirstCall, LastCall: p.LastCall, Blocked: p.Blocked}
	if p.Blocked {
		out.BlockedReason, out.BlockedBy, out.BlockedAt = p.BlockedReason, p.BlockedBy, p.BlockedAt
	}
	return out
}

// apiCallRecord is a call as the history has it: schema CallRecord.
type apiCallRecord struct {
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
	Notes      apiNotes      `json:"notes"`
}

func callRecordOf(c queue.CallRecord) apiCallRecord {
	return apiCallRecord{ID: c.ID, Show: c.Show, Number: c.Number, Name: c.Name, State: c.State, ArrivedAt: c.ArrivedAt,
		AnsweredAt: c.AnsweredAt, OnAirAt: c.OnAirAt, EndedAt: c.EndedAt, Outcome: c.Outcome, Cause: c.Cause,
		Reason: c.Reason, Notes: notesOf(c.Notes)}
}

// apiHistory is a caller's profile and last calls: schema History.
type apiHistory struct {
	Profile apiProfile      `json:"profile"`
	Calls   []apiCallRecord `json:"calls"`
}

// apiRecording is a finished recording: schema Recording.
type apiRecording struct {
	Name            string    `json:"name"`
	Show            string    `json:"show"`
	Format          string    `json:"format"`
	Started         time.Time `json:"started,omitzero"`
	Ended           time.Time `json:"ended,omitzero"`
	DurationSeconds float64   `json:"duration_seconds"`
	Calls           []string  `json:"calls" doc:"Calls on air at any time during it."`
	Kept            bool      `json:"kept" doc:"False once retention (--keep-recordings) deleted the file."`
}

func recordingOf(r queue.Recording) apiRecording {
	calls := r.Calls
	if calls == nil {
		calls = []string{}
	}
	return apiRecording{Name: r.Name, Show: r.Show, Format: r.Format, Started: r.Started, Ended: r.Ended,
		DurationSeconds: seconds(r.Duration), Calls: calls, Kept: r.Deleted.IsZero()}
}

// apiRecordingState is the on-air recording now: schema RecordingState,
// the data of recording events.
type apiRecordingState struct {
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

func recordingStateOf(r broadcast.RecordingState) apiRecordingState {
	return apiRecordingState{Active: r.Active, Name: r.Name, State: r.State, Format: r.Format, Started: r.Started,
		Ended: r.Ended, DurationSeconds: seconds(r.Duration), Calls: r.Calls, Error: printable(r.Error)}
}

// apiMessage is a chat message: schema Message, the data of chat events.
type apiMessage struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author" doc:"The user's name, or token:NAME for an API token."`
	Text   string    `json:"text"`
}

// The lists the API answers with: schemas ShowList, RecordingList,
// TransitionList, CallRecordList, ProfileList and MessageList.
type (
	apiShowList struct {
		Shows []apiShow `json:"shows"`
	}
	apiRecordingList struct {
		Recordings []apiRecording `json:"recordings"`
	}
	apiTransitionList struct {
		Transitions []apiTransition `json:"transitions"`
	}
	apiCallRecordList struct {
		Calls []apiCallRecord `json:"calls"`
	}
	apiProfileList struct {
		Callers []apiProfile `json:"callers"`
	}
	apiMessageList struct {
		Messages []apiMessage `json:"messages"`
	}
)

// apiTalkback says whether a talkback is on: schema Talkback.
type apiTalkback struct {
	Talkback bool `json:"talkback"`
}

// apiHostCall is the host's line: schema HostCall.
type apiHostCall struct {
	ChannelID string `json:"channel_id" doc:"The host's line, ringing."`
}

// apiLinesEvent is the data of a lines event: schema LinesEvent.
type apiLinesEvent struct {
	Open bool `json:"open"`
}

// apiResetEvent is the data of a reset event: schema ResetEvent.
type apiResetEvent struct {
	Reason string `json:"reason"`
	LastID int64  `json:"last_id" doc:"The newest event id now."`
}

// apiEndEvent is the data of an end event: schema EndEvent.
type apiEndEvent struct {
	Reason string `json:"reason"`
}

// linesInput is the body of PUT lines: schema Lines.
type linesInput struct {
	Open *bool `json:"open"`
}

// blockInput is the body of PUT block: schema Block.
type blockInput struct {
	Reason string `json:"reason" api:"blockReason" doc:"Why (required)."`
}

// chatInput is the body of POST chat: schema MessageText.
type chatInput struct {
	Text string `json:"text" api:"chatText"`
}
