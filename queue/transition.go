package queue

import "time"

// State is where a call is in its way through a show.
type State string

// Call states, in the order a call usually moves through them.
const (
	StateArriving  State = "arriving"  // in Stasis, not yet answered
	StateWaiting   State = "waiting"   // in the holding bridge, hearing music
	StateScreening State = "screening" // in a private bridge with a screener
	StateReady     State = "ready"     // screened, back on hold, marked for air
	StateCallback  State = "callback"  // hung up to be called back: keeps a place in line, no channel
	StateOnAir     State = "on_air"    // in the on-air bridge with the host
	StateEnded     State = "ended"     // gone; see Outcome
)

// States lists every call state, in the order above (the API document's
// enum is built from it).
var States = []State{StateArriving, StateWaiting, StateScreening, StateReady, StateCallback, StateOnAir, StateEnded}

// Outcome is how an ended call ended.
type Outcome string

// Call outcomes.
const (
	OutcomeAbandoned Outcome = "abandoned" // caller hung up, never on air
	OutcomeDropped   Outcome = "dropped"   // a producer ended it
	OutcomeAired     Outcome = "aired"     // ended after being on air
	OutcomeRejected  Outcome = "rejected"  // lines closed, queue full, or blocked
	OutcomeFailed    Outcome = "failed"    // Asterisk error
	OutcomeUnreached Outcome = "unreached" // a call-back that never got the caller back
	OutcomeNodeLost  Outcome = "node_lost" // its Asterisk node was lost mid-call (NodeLost)
)

// Outcomes lists every outcome (the API document's enum is built from it).
var Outcomes = []Outcome{OutcomeAbandoned, OutcomeDropped, OutcomeAired, OutcomeRejected, OutcomeFailed, OutcomeUnreached, OutcomeNodeLost}

// ActorKind says who caused a transition.
type ActorKind string

// Actor kinds.
const (
	ActorUser   ActorKind = "user"   // a person in the console
	ActorToken  ActorKind = "token"  // an automation API token
	ActorCaller ActorKind = "caller" // the caller (arrived, hung up)
	ActorSystem ActorKind = "system" // callin itself (reconcile, timeouts)
)

// Actor is who caused a transition: a kind and a name within it
// (a user name, a token name; empty for caller and system).
type Actor struct {
	Kind ActorKind `json:"kind"`
	Name string    `json:"name,omitempty"`
}

// System is the actor for transitions callin makes by itself.
var System = Actor{Kind: ActorSystem}

// Notes are what a screener wrote about a caller.
type Notes struct {
	Name     string `json:"name,omitempty"`
	Location string `json:"location,omitempty"`
	Topic    string `json:"topic,omitempty"`
	Priority int    `json:"priority,omitempty"`
}

// Transition is one change of a call's state, or of its details within a
// state (Action says which). It is what the history store records and the
// console shows. (CallID, Seq) identifies it: writing the same transition
// twice is harmless.
type Transition struct {
	CallID string    `json:"call_id"`
	Seq    int       `json:"seq"` // 1 for the arrival, then +1 per transition of this call
	At     time.Time `json:"at"`
	Show   string    `json:"show"`
	From   State     `json:"from"`
	To     State     `json:"to"`
	Action string    `json:"action"`
	Actor  Actor     `json:"actor"`

	// The call's identity, set on every transition so a consumer that
	// missed the arrival can still place the call.
	Number    string `json:"number"`
	Name      string `json:"name,omitempty"` // caller ID name: hostile input
	Node      string `json:"node"`
	ChannelID string `json:"channel_id"`

	// Set when they apply.
	Notes   *Notes  `json:"notes,omitempty"`   // screener notes after this transition
	Outcome Outcome `json:"outcome,omitempty"` // when To == StateEnded
	Cause   int     `json:"cause,omitempty"`   // Q.850 hangup cause, when known
	Reason  string  `json:"reason,omitempty"`  // free text: why rejected, failed, dropped
}
