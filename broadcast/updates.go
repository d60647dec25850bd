package broadcast

import (
	"fmt"
	"time"

	"github.com/callin-radio/callin/queue"
)

// UpdateKind says what an Update reports.
type UpdateKind string

// Update kinds.
const (
	UpdateTransition UpdateKind = "transition" // Transition: a call changed
	UpdateTalking    UpdateKind = "talking"    // CallID started or stopped talking (Talking)
	UpdateDTMF       UpdateKind = "dtmf"       // CallID pressed Digit
	UpdateScreener   UpdateKind = "screener"   // the screener's line joined CallID's screening bridge
	UpdateScreening  UpdateKind = "screening"  // Screening: a screener's phone rings for a call, answered or did not
	UpdateMedia      UpdateKind = "media"      // Media: music, talkback or hosts changed
	UpdateRecording  UpdateKind = "recording"  // Recording: the on-air recording changed
	UpdateSettings   UpdateKind = "settings"   // Settings: the show's settings changed
	UpdateNode       UpdateKind = "node"       // Node: the show's node changed health
	UpdateQuality    UpdateKind = "quality"    // CallID's line was measured (Quality)
	// UpdateLoad: in a show across nodes, the show's callers held on one
	// node, its holding bridges or its music changed (Load).
	UpdateLoad UpdateKind = "load"
	// UpdateStudio: in a show across nodes, the studio's state (Studio)
	// changed: its health, lost, or another studio named (SetStudio).
	UpdateStudio UpdateKind = "studio"
	// UpdateResync: a resync with Asterisk ended; Transitions are all the
	// transitions it made (readmissions, calls that vanished, and whatever
	// else happened meanwhile), in order, in one update however many there
	// are. Render from a new Snapshot.
	UpdateResync UpdateKind = "resync"
)

// Update is one change of a show, for live consoles. Only the fields of its
// Kind are set.
type Update struct {
	Show string     `json:"show"`
	Kind UpdateKind `json:"kind"`
	At   time.Time  `json:"at"`
	// Seq numbers the show's updates from 1 in the order they are
	// emitted (a subscriber may see gaps: updates before it subscribed,
	// or lost); Snapshot.Seq says which a snapshot shows.
	Seq uint64 `json:"seq,omitempty"`

	Transition  queue.Transition   `json:"transition,omitzero"`
	Transitions []queue.Transition `json:"transitions,omitempty"`
	CallID      string             `json:"call_id,omitempty"`
	Talking     bool               `json:"talking,omitempty"`
	Digit       string             `json:"digit,omitempty"`
	Media       MediaState         `json:"media,omitzero"`
	Recording   RecordingState     `json:"recording,omitzero"`
	Settings    Settings           `json:"settings,omitzero"`
	Node        NodeHealth         `json:"node,omitzero"`
	Quality     LineQuality        `json:"quality,omitzero"`
	Screening   Screening          `json:"screening,omitzero"`
	Load        NodeLoad           `json:"load,omitzero"`
	Studio      StudioState        `json:"studio,omitzero"`
}

// NodeLoad is one node's load: for a show (Snapshot.Nodes, UpdateLoad)
// the show's callers held there; for the App (App.NodeLoads) every show's.
// A caller's node is queue.Call.Node.
type NodeLoad struct {
	Node   string    `json:"node"`
	Studio bool      `json:"studio,omitempty"` // the show's studio node (ShowConfig.Studio); shows only
	State  NodeState `json:"state"`
	// Held counts the callers in the node's holding bridges.
	Held int `json:"held"`
	// Bridges counts the holding bridges in use there; Music says every
	// one with callers plays its music (as far as callin can know). Shows
	// only.
	Bridges int  `json:"bridges,omitempty"`
	Music   bool `json:"music,omitempty"`
	// Talkback says a talkback is on there; TalkbackBridges counts the
	// bridges that hear it. Shows only.
	Talkback        bool `json:"talkback,omitempty"`
	TalkbackBridges int  `json:"talkback_bridges,omitempty"`
	// Capacity is NodeConfig.Capacity (0: not set).
	Capacity int `json:"capacity,omitempty"`
	// Full says callin has marked the node full (its held callers reached
	// Capacity; room.go): its dialplan refuses new callers, and the front
	// sends them to another node.
	Full bool `json:"full,omitempty"`
}

// MediaState is the media side of a show's bridges.
type MediaState struct {
	Music    bool `json:"music"`    // the holding bridge's music is believed playing
	Talkback bool `json:"talkback"` // a talkback is on (ringing the producer's line, or speaking)
	// TalkbackLine is the producer's line once it is in the holding bridge.
	TalkbackLine string `json:"talkback_line,omitempty"`
	// TalkbackBy names who started the talkback (a producer), when known.
	TalkbackBy string `json:"talkback_by,omitempty"`
	// TalkbackBridges counts the holding bridges that hear the talkback
	// now, out of HoldBridges.
	TalkbackBridges int      `json:"talkback_bridges,omitempty"`
	HoldMembers     int      `json:"hold_members"` // channels in the holding bridges
	HoldBridges     int      `json:"hold_bridges"` // holding bridges in the show's pool
	Hosts           []string `json:"hosts"`        // host channels in the on-air bridge
	// HostLines are the host's lines, ringing or on air (Hosts are those
	// on air).
	HostLines []HostLine `json:"host_lines,omitempty"`
}

// HostState is where a host line is.
type HostState string

// A host line rings (JoinHost rang it), then is on air once answered. One
// that was answered but could not be put on air is hung up and stays
// failed, with its Error, until the next JoinHost or HangupHost.
const (
	HostRinging HostState = "ringing"
	HostOnAir   HostState = "on_air"
	HostFailed  HostState = "failed"
)

// HostLine is one of a show's host lines.
type HostLine struct {
	Channel  string    `json:"channel"`
	Endpoint string    `json:"endpoint,omitempty"` // what JoinHost rang; empty for a host who dialled in
	State    HostState `json:"state"`
	Since    time.Time `json:"since"` // rung at, or on air since
	Muted    bool      `json:"muted,omitempty"`
	Error    string    `json:"error,omitempty"` // why a failed line is not on air
}

// RecordingState is the on-air bridge's recording.
type RecordingState struct {
	Name     string        `json:"name,omitempty"`
	State    string        `json:"state,omitempty"` // Asterisk's: queued, recording, done, failed, canceled
	Active   bool          `json:"active"`
	Duration time.Duration `json:"duration,omitempty"` // once finished (whole seconds, as Asterisk says)
	Format   string        `json:"format,omitempty"`   // the stored file's format ("wav")
	Started  time.Time     `json:"started,omitzero"`
	Ended    time.Time     `json:"ended,omitzero"`
	// Calls are the calls on air at any time during the recording.
	Calls []string `json:"calls,omitempty"`
	// Error says, in a producer's words, why a recording is "failed"
	// without having started (StartRecording).
	Error string `json:"error,omitempty"`
}

// Settings are a show's run-time settings.
type Settings struct {
	Title         string        `json:"title"`
	LinesOpen     bool          `json:"lines_open"`
	Capacity      int           `json:"capacity"`
	AnnounceEvery time.Duration `json:"announce_every"`
	MaxOnAir      int           `json:"max_on_air"`
	MOHClass      string        `json:"moh_class"`
}

// Snapshot is everything needed to render a show from scratch.
type Snapshot struct {
	Show     string       `json:"show"`
	Node     NodeHealth   `json:"node"`
	At       time.Time    `json:"at"`
	Settings Settings     `json:"settings"`
	Lineup   queue.Lineup `json:"lineup"`
	Stats    queue.Stats  `json:"stats"`
	Talking  []string     `json:"talking"` // call ids talking now
	// Quality is the last measure of callers' lines, by call id.
	Quality   map[string]LineQuality `json:"quality,omitempty"`
	Media     MediaState             `json:"media"`
	Recording RecordingState         `json:"recording"`
	// Screenings are the screeners' phones ringing now, and each call's
	// last screening that did not happen (busy, no answer...) until the
	// call's next transition, by call id.
	Screenings map[string]Screening `json:"screenings,omitempty"`
	// Nodes are the show's nodes, in their configured order (the
	// configured studio first), with the show's load on each; the studio
	// now has Studio set (Node is its health).
	Nodes []NodeLoad `json:"nodes"`
	// Studio is the studio node and whether it is up or lost.
	Studio StudioState `json:"studio"`
	// Seq is the Seq of the last update emitted before the snapshot: it
	// shows every update up to Seq and none after (so a list can name the
	// event it is as of). Resyncing: a resync is collecting transitions it
	// has not emitted yet, which the snapshot already shows.
	Seq       uint64 `json:"seq"`
	Resyncing bool   `json:"resyncing,omitempty"`
}

// Subscription is a live feed of one show's updates. C is closed when the
// subscription ends; Err then says why (ErrSlowSubscriber, ErrClosed).
type Subscription struct {
	C    <-chan Update
	ch   chan Update
	show *show
	err  error // guarded by show.mu
}

// Err returns why the subscription ended, or nil while it runs.
func (sub *Subscription) Err() error {
	sub.show.mu.Lock()
	defer sub.show.mu.Unlock()
	return sub.err
}

// Close ends the subscription; C is closed. Safe to call more than once.
func (sub *Subscription) Close() {
	sub.show.mu.Lock()
	defer sub.show.mu.Unlock()
	sub.show.dropSub(sub, ErrClosed)
}

// Subscribe starts a feed of a show's updates with the configured buffer
// (Config.SubscriberBuffer). Take a Snapshot after subscribing to render
// from; updates that precede the snapshot may arrive again (transitions
// carry (CallID, Seq) to tell). Error: queue.ErrNotFound for an unknown show.
func (a *App) Subscribe(showKey string) (*Subscription, error) {
	s, err := a.show(showKey)
	if err != nil {
		return nil, err
	}
	ch := make(chan Update, a.cfg.SubscriberBuffer)
	sub := &Subscription{C: ch, ch: ch, show: s}
	s.mu.Lock()
	s.subs[sub] = true
	s.mu.Unlock()
	return sub, nil
}

// Snapshot returns a show's lineup, stats, settings, talking, media,
// recording and node health. Error: queue.ErrNotFound.
func (a *App) Snapshot(showKey string) (Snapshot, error) {
	s, err := a.show(showKey)
	if err != nil {
		return Snapshot{}, err
	}
	h, studio := s.studio().healthNow(), s.studioState()
	now := a.cfg.Now()
	nodes := s.nodes()
	loads := make([]NodeLoad, len(nodes))
	for i, n := range nodes {
		loads[i] = s.holdOn(n).loadNow()
	}
	sh := s.studioHold()
	sh.mu.Lock() // lock order: holding, then show (doc.go)
	media := sh.media()
	defer sh.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{
		Show: s.key, Node: h, At: now, Settings: s.settings(),
		Lineup: s.q.List(), Stats: s.q.Stats(now), Media: media, Recording: s.air.rec(),
		Talking: []string{}, Nodes: loads, Studio: studio, Seq: s.emitted, Resyncing: s.batch != nil,
	}
	for id, c := range s.calls {
		if c.talking {
			snap.Talking = append(snap.Talking, id)
		}
		if c.quality != nil {
			if snap.Quality == nil {
				snap.Quality = map[string]LineQuality{}
			}
			snap.Quality[id] = *c.quality
		}
		if c.screening != nil {
			if snap.Screenings == nil {
				snap.Screenings = map[string]Screening{}
			}
			snap.Screenings[id] = *c.screening
		}
	}
	return snap, nil
}

// Call returns one live or recently ended call of a show.
// Error: queue.ErrNotFound.
func (a *App) Call(showKey, callID string) (queue.Call, error) {
	s, err := a.show(showKey)
	if err != nil {
		return queue.Call{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.Get(callID)
}

// settings reads the show's settings. Callers hold s.mu.
func (s *show) settings() Settings {
	c := s.q.Config()
	return Settings{Title: c.Title, LinesOpen: c.LinesOpen, Capacity: c.Capacity,
		AnnounceEvery: c.AnnounceEvery, MaxOnAir: c.MaxOnAir, MOHClass: c.MOHClass}
}

// change applies a settings change and tells subscribers.
func (a *App) change(showKey string, f func(q *queue.Show) error) error {
	s, err := a.show(showKey)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := f(s.q); err != nil {
		return fmt.Errorf("broadcast: show %q: %w", showKey, err)
	}
	s.emit(Update{Kind: UpdateSettings, Settings: s.settings()})
	return nil
}

// SetLinesOpen opens or closes a show's lines to new callers.
func (a *App) SetLinesOpen(showKey string, open bool) error {
	return a.change(showKey, func(q *queue.Show) error { q.SetLinesOpen(open); return nil })
}

// SetCapacity changes how many callers a show queues (0: no limit).
// Errors: queue.ErrNotFound, queue.ErrInvalid.
func (a *App) SetCapacity(showKey string, n int) error {
	return a.change(showKey, func(q *queue.Show) error { return q.SetCapacity(n) })
}

// SetMaxOnAir changes how many callers may be on air at once (0: no limit).
// Errors: queue.ErrNotFound, queue.ErrInvalid.
func (a *App) SetMaxOnAir(showKey string, n int) error {
	return a.change(showKey, func(q *queue.Show) error { return q.SetMaxOnAir(n) })
}

// SetAnnounceEvery changes the position announcement interval (0: none).
// Errors: queue.ErrNotFound, queue.ErrInvalid.
func (a *App) SetAnnounceEvery(showKey string, d time.Duration) error {
	return a.change(showKey, func(q *queue.Show) error { return q.SetAnnounceEvery(d) })
}

// NodeLoads returns every node's load: its state, the callers of every
// show held there, and its capacity; for /metrics and the console's
// header. In no particular order.
func (a *App) NodeLoads() []NodeLoad {
	nodes := a.nodeMap()
	out := make([]NodeLoad, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, NodeLoad{Node: n.name, State: n.healthNow().State, Held: n.held(),
			Capacity: n.cfg.Capacity, Full: n.room.full.Load()})
	}
	return out
}
