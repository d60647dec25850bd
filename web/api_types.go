package web

import (
	"math"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// The API's JSON: each type here is one schema of the OpenAPI document
// (openapi.go), field for field, so that a change of a domain type never
// changes the API by accident. Durations are seconds, named so.

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
	AnnounceEverySeconds int `json:"announce_every_seconds"`
}

// apiStats are a show's counts and waits: schema Stats.
type apiStats struct {
	Arriving           int     `json:"arriving"`
	Waiting            int     `json:"waiting"`
	Screening          int     `json:"screening"`
	Ready              int     `json:"ready"`
	OnAir              int     `json:"on_air"`
	Callback           int     `json:"callback"`
	PendingOnAir       int     `json:"pending_on_air"`
	AverageWaitSeconds float64 `json:"average_wait_seconds"`
	LongestWaitSeconds float64 `json:"longest_wait_seconds"`
	PaceSeconds        float64 `json:"pace_seconds"`
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
	Capacity             int    `json:"capacity"`
	MaxOnAir             int    `json:"max_on_air"`
	AnnounceEverySeconds int    `json:"announce_every_seconds"`
	OnAirWarningMinutes  int    `json:"on_air_warning_minutes"`
	MusicClass           string `json:"music_class"`
}

func settingsOf(s broadcast.Settings, airLimit time.Duration) apiSettings {
	return apiSettings{Title: s.Title, LinesOpen: s.LinesOpen, Capacity: s.Capacity, MaxOnAir: s.MaxOnAir,
		AnnounceEverySeconds: int(s.AnnounceEvery / time.Second), OnAirWarningMinutes: int(airLimit / time.Minute),
		MusicClass: s.MOHClass}
}

// apiNotes are a screener's notes: schema Notes.
type apiNotes struct {
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

func notesOf(n queue.Notes) apiNotes {
	return apiNotes{Name: n.Name, Location: n.Location, Topic: n.Topic, Priority: n.Priority}
}

// apiCall is a live caller: schema Call.
type apiCall struct {
	ID         string        `json:"id"`
	Number     string        `json:"number"`
	Name       string        `json:"name,omitempty"`
	Node       string        `json:"node"`
	ChannelID  string        `json:"channel_id"`
	State      queue.State   `json:"state"`
	ArrivedAt  time.Time     `json:"arrived_at"`
	Since      time.Time     `json:"since"`
	Position   int           `json:"position,omitempty"`
	Notes      apiNotes      `json:"notes"`
	Screener   string        `json:"screener,omitempty"`
	Muted      bool          `json:"muted"`
	Locked     bool          `json:"locked"`
	Next       bool          `json:"next"`
	Top        bool          `json:"top"`
	Announcing bool          `json:"announcing"`
	WasOnAir   bool          `json:"was_on_air"`
	Blocked    bool          `json:"blocked"`
	BlockNote  string        `json:"block_note,omitempty"`
	Confirmed  bool          `json:"confirmed"`
	Callback   *apiCallback  `json:"callback,omitempty"`
	Quality    *apiQuality   `json:"quality,omitempty"`
	Pending    string        `json:"pending,omitempty"`
	Outcome    queue.Outcome `json:"outcome,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Seq        int           `json:"seq"`
}

// apiCallback is a call-back entry: schema Callback.
type apiCallback struct {
	Number      string    `json:"number"`
	Calling     bool      `json:"calling"`
	Attempt     int       `json:"attempt"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitzero"`
	RequestedAt time.Time `json:"requested_at"`
	Now         bool      `json:"now"`
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
	JitterMS    float64   `json:"jitter_ms"`
	LossPercent float64   `json:"loss_percent"`
	RTTMS       float64   `json:"rtt_ms"`
	MES         float64   `json:"mes"`
	Grade       string    `json:"grade"`
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
	Seq       int           `json:"seq"`
	At        time.Time     `json:"at"`
	Show      string        `json:"show"`
	From      queue.State   `json:"from"`
	To        queue.State   `json:"to"`
	Action    string        `json:"action"`
	Actor     apiActor      `json:"actor"`
	Number    string        `json:"number"`
	Name      string        `json:"name,omitempty"`
	Node      string        `json:"node"`
	ChannelID string        `json:"channel_id"`
	Notes     *apiNotes     `json:"notes,omitempty"`
	Outcome   queue.Outcome `json:"outcome,omitempty"`
	Cause     int           `json:"cause,omitempty"`
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
	Notes         string    `json:"notes,omitempty"`
	Calls         int       `json:"calls"`
	OnAir         int       `json:"on_air"`
	FirstCall     time.Time `json:"first_call,omitzero"`
	LastCall      time.Time `json:"last_call,omitzero"`
	Blocked       bool      `json:"blocked"`
	BlockedReason string    `json:"blocked_reason,omitempty"`
	BlockedBy     string    `json:"blocked_by,omitempty"`
	BlockedAt     time.Time `json:"blocked_at,omitzero"`
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
	OnAirAt    time.Time     `json:"on_air_at,omitzero"`
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
	Calls           []string  `json:"calls"`
	Kept            bool      `json:"kept"`
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
	State           string    `json:"state,omitempty"`
	Format          string    `json:"format,omitempty"`
	Started         time.Time `json:"started,omitzero"`
	Ended           time.Time `json:"ended,omitzero"`
	DurationSeconds float64   `json:"duration_seconds,omitempty"`
	Calls           []string  `json:"calls,omitempty"`
	Error           string    `json:"error,omitempty"`
}

func recordingStateOf(r broadcast.RecordingState) apiRecordingState {
	return apiRecordingState{Active: r.Active, Name: r.Name, State: r.State, Format: r.Format, Started: r.Started,
		Ended: r.Ended, DurationSeconds: seconds(r.Duration), Calls: r.Calls, Error: printable(r.Error)}
}

// apiMessage is a chat message: schema Message, the data of chat events.
type apiMessage struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}
