package queue

import "time"

// Action names, as recorded in Transition.Action and Ticket.Action.
const (
	ActionArrive    = "arrive"      // the call entered the show (Seq 1)
	ActionReject    = "reject"      // refused at arrival: lines closed, full, blocked
	ActionJoin      = "join"        // answered and in the holding bridge
	ActionScreen    = "screen"      // taken to a screener
	ActionReady     = "ready"       // screened and marked for air
	ActionPromote   = "promote"     // put on air
	ActionTakeNext  = "take_next"   // put on air as the next in line
	ActionHold      = "hold"        // back to the holding bridge
	ActionMute      = "mute"        // muted on air
	ActionUnmute    = "unmute"      // unmuted on air
	ActionLock      = "lock"        // locked on air
	ActionUnlock    = "unlock"      // unlocked on air
	ActionDrop      = "drop"        // ended by a producer
	ActionMoveToTop = "move_to_top" // put ahead of everyone in line
	ActionPickNext  = "pick_next"   // picked to go on air next
	ActionUnpick    = "unpick_next" // no longer the pick (another caller was picked)
	ActionNotes     = "notes"       // screener notes changed
	ActionHangup    = "hangup"      // the caller hung up
	ActionFail      = "fail"        // Asterisk failed the call
	ActionReadmit   = "readmit"     // rebuilt from Asterisk after a restart
	ActionReconcile = "reconcile"   // state corrected from what Asterisk reports
	ActionVanish    = "vanish"      // ended because Asterisk no longer has it
	ActionNodeLost  = "node_lost"   // ended because its Asterisk node was lost
	ActionAirLost   = "air_lost"    // back on hold: its line to the on-air bridge (a trunk leg) was lost
	ActionBlock     = "block"       // the number was blocked while the caller was in the show
	ActionUnblock   = "unblock"     // the number's block was lifted while the caller was in the show

	ActionCallbackRequest = "callback_request" // the caller pressed for a call-back and hung up, keeping the place
	ActionCallbackNow     = "callback_now"     // a producer asked to call the caller back now
	ActionCallbackDial    = "callback_dial"    // callin is calling the caller back (one attempt)
	ActionCallbackMiss    = "callback_miss"    // an attempt failed: busy, no answer, or no key pressed
	ActionCallbackReturn  = "callback_return"  // the caller answered, pressed 1 and is back on hold at the place
	ActionConfirm         = "confirm"          // the caller confirmed being ready for air (readiness check)
	ActionCause           = "cause"            // the hang-up cause of an ended call, learned after its end
)

// Reject says why an arriving call was refused.
type Reject string

// Rejection reasons; broadcast plays the matching announcement.
const (
	RejectClosed  Reject = "closed"  // the show's lines are closed
	RejectFull    Reject = "full"    // the queue is at capacity
	RejectBlocked Reject = "blocked" // the number is blocked
)

// Arrival describes a call entering the show (StasisStart).
type Arrival struct {
	CallID    string    // our id for the call; unique for the show's lifetime
	Number    string    // caller ID number
	Name      string    // caller ID name: hostile input, stored as given
	Node      string    // Asterisk node; empty means the show's node
	ChannelID string    // the ARI channel in Stasis
	Blocked   bool      // the number is on the block list (Arrive rejects, Readmit flags)
	BlockNote string    // why it is blocked, for the record
	ArrivedAt time.Time // when the call arrived; zero means now
}

// Call is a snapshot of one call, safe to keep and pass around.
type Call struct {
	ID        string    `json:"id"`
	Number    string    `json:"number"`
	Name      string    `json:"name,omitempty"`
	Node      string    `json:"node"`
	ChannelID string    `json:"channel_id"`
	State     State     `json:"state"`
	ArrivedAt time.Time `json:"arrived_at"`
	Since     time.Time `json:"since"` // when it entered State

	// Position is the 1-based place in line (waiting and ready callers, in
	// the order TakeNext takes them); 0 for callers not in line.
	Position int `json:"position,omitempty"`

	Notes      Notes  `json:"notes"`
	Screener   string `json:"screener,omitempty"` // while screening: the screener's id
	Muted      bool   `json:"muted,omitempty"`    // on air only
	Locked     bool   `json:"locked,omitempty"`   // on air only
	Next       bool   `json:"next,omitempty"`     // picked to go on air next
	Top        bool   `json:"top,omitempty"`      // moved to the top of the line
	Announcing bool   `json:"announcing,omitempty"`
	WasOnAir   bool   `json:"was_on_air,omitempty"`
	// Blocked says the number was blocked after the caller came in (or
	// before a restart readmitted it): the caller stays, flagged, and
	// TakeNext passes it by. BlockNote says why.
	Blocked   bool   `json:"blocked,omitempty"`
	BlockNote string `json:"block_note,omitempty"`

	// Callback describes a call-back entry (State callback); nil otherwise.
	Callback *Callback `json:"callback,omitempty"`
	// Confirmed: the caller pressed 1 when told they are next on air.
	Confirmed bool `json:"confirmed,omitempty"`

	// Pending is the action reserved on this caller and awaiting Commit
	// or Abort; "" when none.
	Pending string `json:"pending,omitempty"`

	Outcome Outcome `json:"outcome,omitempty"` // when State is StateEnded
	Reason  string  `json:"reason,omitempty"`  // why it ended, when known
	Seq     int     `json:"seq"`               // Seq of its latest transition
}

// call is the show's record of a live (or recently ended) call.
type call struct {
	id, number, name, node, channel string

	state     State
	arrived   time.Time
	since     time.Time
	notes     Notes
	screener  string
	muted     bool
	locked    bool
	wasOnAir  bool
	blocked   bool
	confirmed bool // pressed 1 at the readiness check
	// announcing: an announcement plays (bools together: the record fits
	// a smaller allocation size class)
	announcing bool
	cause      uint8 // the Q.850 cause recorded with the end (or after it), 0 if none
	blockNote  string
	outcome    Outcome
	reason     string
	seq        int

	serial uint64 // unique per show: the last tie-break of every order
	top    int64  // < 0 once moved to top; more negative is further ahead

	pending       uint64 // ticket id of the reserved action; 0 when none
	pendingAction string
	pendingBy     Actor
	pendingNote   string // the reserved action's reason or screener

	annBase time.Time // next announcement is due at annBase + interval

	cb *callback // while StateCallback, and what was offered before

	// Tree and heap links.
	left, right *call
	size        int32
	heap        uint64
	annIdx      int
	waitIdx     int
}

// inLine reports whether a state puts the caller in the line that
// Position, TakeNext and announcements use.
func inLine(s State) bool { return s == StateWaiting || s == StateReady || s == StateCallback }

// announced reports whether callers in a state hear position announcements
// (those in line with a channel).
func announced(s State) bool { return s == StateWaiting || s == StateReady }

// holding reports whether a state counts as waiting for wait statistics.
func holding(s State) bool { return announced(s) || s == StateScreening }

// live reports whether a state is one a call can be in before it ends.
func live(s State) bool {
	switch s {
	case StateArriving, StateWaiting, StateScreening, StateReady, StateOnAir, StateCallback:
		return true
	}
	return false
}
