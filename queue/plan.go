package queue

import (
	"slices"
	"time"
)

// Place is where Asterisk has a caller's channel when a resync lists it.
type Place string

// Places.
const (
	PlaceNone   Place = "none"   // in the app but in no bridge: arrived in a gap, or mid-move
	PlaceHold   Place = "hold"   // in one of the show's holding bridges
	PlaceAir    Place = "air"    // in the show's on-air bridge
	PlaceScreen Place = "screen" // in one of the show's screening bridges
)

// Listed is a caller's channel that Asterisk lists in the show at a
// resync. Arrival is what the channel says (number, name, node, channel
// id; ArrivedAt its creation time) and CallID the call on it: the one the
// show has, the one the history store has, or a new one.
type Listed struct {
	Arrival
	Place Place
}

// Stored is an open call the history store has.
type Stored struct {
	CallID    string
	Number    string
	Name      string
	Node      string
	ChannelID string
	State     State // the state last recorded
	Seq       int   // the last Seq recorded
	ArrivedAt time.Time
	Notes     Notes
	WasOnAir  bool
}

// Listing is what a resync found for one show.
type Listing struct {
	// Callers are the caller channels Asterisk lists in the show.
	Callers []Listed
	// Stored are the history store's open calls of the show on this node,
	// by channel id; nil when the store did not answer (nothing is stale
	// then: a later sweep decides).
	Stored map[string]Stored
	// StoredBefore, when set, limits Stale to stored calls that arrived
	// before it (a later sweep: calls after it the show has seen).
	StoredBefore time.Time
	// Keep are live calls that stay although no listed caller carries
	// them: first seen after the listing was taken, or being admitted or
	// moved right now (their channel is listed but in flux).
	Keep map[string]bool
	// Node, when set, is the node the resync listed (a show across nodes
	// resynchronises each node on its own): only the show's calls held on
	// that node (Call.Node) can vanish, and stored call-back entries are
	// readmitted only by the show's own node (Config.Node).
	Node string
}

// Plan is what a resync does to a show, decided by PlanResync.
type Plan struct {
	// Readmit are the listed callers in the state their place says, in the
	// order listed (see Readmit). A caller in no bridge is to be put in a
	// holding bridge first (ToHold) and is readmitted waiting.
	Readmit []Readmission
	// ToHold are the channel ids of Readmit to put in a holding bridge
	// before they are readmitted.
	ToHold map[string]bool
	// Hangup are the channels of listed callers whose calls the show has
	// ended: Asterisk still has them, so they are hung up.
	Hangup []string
	// Vanish are the live calls Asterisk no longer lists (see Vanish).
	Vanish []string
	// Stale are the last transitions of the stored open calls that neither
	// Asterisk nor the show has (see EndStale).
	Stale []Transition
}

// PlanResync decides how the show is to agree with what Asterisk lists
// after a reconnect or restart, and with the history store: who is
// readmitted in which state, who vanished, which stored calls are stale. It
// changes nothing. What the show knows of a call wins over the store, and
// the store over the channel (a caller's arrival time and Seq survive a
// restart of the service); a holding bridge carries both waiting and ready
// callers. O(n) in the listed, live and stored calls.
func (s *Show) PlanResync(now time.Time, l Listing) Plan {
	p := Plan{ToHold: map[string]bool{}}
	listed := make(map[string]bool, len(l.Callers))
	var unknown []int // indexes in p.Readmit of callers neither the show nor the store knows
	for _, c := range l.Callers {
		if s.ended[c.CallID] != nil {
			p.Hangup = append(p.Hangup, c.ChannelID)
			continue
		}
		listed[c.CallID] = true
		r, known := s.readmission(c, l.Stored)
		if c.Place == PlaceNone {
			p.ToHold[c.ChannelID] = true
		}
		if !known {
			unknown = append(unknown, len(p.Readmit))
		}
		p.Readmit = append(p.Readmit, r)
	}
	p.behindKnown(unknown, s.calls)
	for id, c := range s.calls {
		if l.Node != "" && c.node != l.Node {
			continue // held on another node: that node's resync decides
		}
		if !listed[id] && !l.Keep[id] && c.state != StateCallback { // call-back entries have no channel
			p.Vanish = append(p.Vanish, id)
		}
	}
	// Call-back entries the store has and the show does not (a restart of
	// the service) keep their place.
	for _, st := range l.Stored {
		if l.Node != "" && l.Node != s.cfg.Node {
			break
		}
		if st.State == StateCallback && s.calls[st.CallID] == nil && s.ended[st.CallID] == nil {
			r := st.readmission()
			r.Was = st.State
			p.Readmit = append(p.Readmit, r)
			listed[st.CallID] = true
		}
	}
	p.Stale = s.staleCalls(now, l.Stored, l.StoredBefore, listed)
	return p
}

// StaleCalls are the last transitions of the stored open calls that the
// show does not have (see EndStale), of those that arrived before before
// (zero: all): for a sweep after a resync at which the store was down.
func (s *Show) StaleCalls(now time.Time, stored map[string]Stored, before time.Time) []Transition {
	return s.staleCalls(now, stored, before, nil)
}

func (s *Show) staleCalls(now time.Time, stored map[string]Stored, before time.Time, skip map[string]bool) []Transition {
	var out []Transition
	for _, st := range stored {
		if skip[st.CallID] || (!before.IsZero() && !st.ArrivedAt.Before(before)) {
			continue
		}
		if t, err := s.EndStale(now, st.readmission()); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// behindKnown puts the readmitted callers nobody has a record of (at
// unknown) behind every caller the show or the store knows, in the order
// of their channels' creation. Their only time is the channel's creation,
// before the IVR, while a known caller's arrival is its entry into the app:
// compared as they are, a caller whose arrival the store had not yet
// written when the service died would jump ahead of callers who entered
// the app before it (seen on the real Asterisk: TestRealPBXKillCallin).
// The store writes arrivals in order, so the unwritten ones are the last.
func (p *Plan) behindKnown(unknown []int, live map[string]*call) {
	if len(unknown) == 0 {
		return
	}
	var latest time.Time
	next := 0 // unknown is in increasing order: walk it beside Readmit
	for i, r := range p.Readmit {
		if next < len(unknown) && unknown[next] == i {
			next++
			continue
		}
		if r.ArrivedAt.After(latest) {
			latest = r.ArrivedAt
		}
	}
	for _, c := range live {
		if c.arrived.After(latest) {
			latest = c.arrived
		}
	}
	if latest.IsZero() {
		return
	}
	slices.SortStableFunc(unknown, func(a, b int) int { return p.Readmit[a].ArrivedAt.Compare(p.Readmit[b].ArrivedAt) })
	for n, i := range unknown {
		if at := latest.Add(time.Duration(n+1) * time.Microsecond); !p.Readmit[i].ArrivedAt.After(at) {
			p.Readmit[i].ArrivedAt = at
		}
	}
}

// readmission is the Readmission of a listed caller; known says whether the
// show or the store had a record of it.
func (s *Show) readmission(c Listed, stored map[string]Stored) (r Readmission, known bool) {
	r = Readmission{Arrival: c.Arrival}
	switch c.Place {
	case PlaceAir:
		r.State = StateOnAir
	case PlaceScreen:
		r.State, r.Screener = StateScreening, "unknown"
	default:
		r.State = StateWaiting
	}
	if cur := s.calls[c.CallID]; cur != nil {
		r.Screener, r.Muted, r.Locked = cur.screener, cur.muted, cur.locked
		if r.State == StateScreening && r.Screener == "" {
			r.Screener = "unknown"
		}
		if r.State == StateWaiting && cur.state == StateReady {
			r.State = StateReady
		}
		return r, true
	}
	if st, ok := stored[c.ChannelID]; ok && st.CallID == c.CallID {
		r.ArrivedAt, r.Seq, r.Notes, r.WasOnAir, r.Was = st.ArrivedAt, st.Seq, st.Notes, st.WasOnAir, st.State
		if r.State == StateWaiting && st.State == StateReady {
			r.State = StateReady
		}
		return r, true
	}
	// Else no history: arrival at the channel's creation (see behindKnown),
	// Seq from 0 (the readmission is Seq 1).
	return r, false
}

// readmission is a stored call as a Readmission, for EndStale.
func (st Stored) readmission() Readmission {
	return Readmission{
		Arrival: Arrival{CallID: st.CallID, Number: st.Number, Name: st.Name, Node: st.Node, ChannelID: st.ChannelID, ArrivedAt: st.ArrivedAt},
		State:   st.State, Seq: st.Seq, Notes: st.Notes, WasOnAir: st.WasOnAir,
	}
}
