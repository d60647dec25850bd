package queue

import (
	"cmp"
	"slices"
	"time"
)

// tombstones is how many ended calls a show remembers, so that late events
// and actions about them get ErrGone rather than ErrNotFound.
const tombstones = 4096

// Config is a show's configuration.
type Config struct {
	Key           string        // the Stasis app argument: Stasis(callin,<Key>)
	Title         string        // for people
	Node          string        // the Asterisk node the show's bridges live on
	MOHClass      string        // music-on-hold class of the holding bridge
	LinesOpen     bool          // whether new callers are admitted
	Capacity      int           // most callers arriving, waiting, screening or ready; 0 means no limit
	AnnounceEvery time.Duration // interval of position announcements; 0 means none
	MaxOnAir      int           // most callers on air at once; 0 means no limit
	// Callback is the call-back (virtual hold) policy; zero: no call-back.
	Callback CallbackConfig
	// ReadyCheck: a caller picked to go on air next is asked to press 1
	// when ready (see Confirm).
	ReadyCheck bool
	// AnnounceWait: position announcements also say the estimated wait
	// (Announcement.Wait), when the show's pace is known.
	AnnounceWait bool
	// Blocklist, when set, is asked about a call readmitted without
	// Arrival.Blocked (after a restart or a reconnect), so a blocked
	// caller rebuilt from Asterisk is flagged too. Its dynamic type must
	// be comparable (Config is compared).
	Blocklist Blocklist
}

// validKey reports whether a show key is safe in ARI ids and file names.
func validKey(k string) bool {
	if len(k) > 40 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Blocklist says whether a number is blocked, and why. IsBlocked must not
// block or call back into the show.
type Blocklist interface {
	IsBlocked(number string) (blocked bool, note string)
}

func (c Config) validate(op string) error {
	switch {
	case c.Key == "":
		return opError(op, "", ErrInvalid, "show key is empty")
	case !validKey(c.Key):
		// The key names the show's bridges and recordings on Asterisk
		// ("callin-<key>-hold"): a '/' or '..' there makes folders or a
		// 500 (trace 14).
		return opError(op, "", ErrInvalid, "show key %q: want letters, digits, '_' and '-', at most 40", c.Key)
	case c.Capacity < 0:
		return opError(op, "", ErrInvalid, "capacity %d is negative", c.Capacity)
	case c.AnnounceEvery < 0:
		return opError(op, "", ErrInvalid, "announcement interval %v is negative", c.AnnounceEvery)
	case c.MaxOnAir < 0:
		return opError(op, "", ErrInvalid, "on-air limit %d is negative", c.MaxOnAir)
	}
	return nil
}

// Show is one show's queue: its callers, their states and order, and the
// rules of every action. A Show is not safe for concurrent use: its user
// serialises calls (broadcast holds one lock per show).
type Show struct {
	cfg Config

	calls   map[string]*call // live calls
	ended   map[string]*call // recently ended calls, for ErrGone
	endedQ  []string         // ring of ended call ids, oldest at endedAt
	endedAt int

	line   line     // waiting and ready callers, in take-next order
	picked *call    // the caller picked to go on air next, if any
	ann    callHeap // in-line callers not announcing, by next due time
	waits  callHeap // holding callers, by arrival time

	counts       map[State]int
	pendingOnAir int   // promotions reserved, not yet committed
	waitSec      int64 // sum of holding callers' arrival times (Unix seconds)
	waitNsec     int64 // ... and their nanoseconds
	serial       uint64
	ticket       uint64
	topSeq       int64
	taken        []time.Time    // when the last callers were taken off the line (EstimatedWait)
	cbRinging    int            // call-back entries being called now
	cbNow        map[*call]bool // call-back entries a producer asked to call now
}

// NewShow returns an empty show with the given configuration. It returns an
// error wrapping ErrInvalid for a configuration without key or with a
// negative limit.
func NewShow(cfg Config) (*Show, error) {
	if err := cfg.validate("new show"); err != nil {
		return nil, err
	}
	s := &Show{
		cfg:    cfg,
		calls:  make(map[string]*call),
		ended:  make(map[string]*call),
		counts: make(map[State]int),
		cbNow:  make(map[*call]bool),
	}
	s.line.less = s.lineLess
	s.ann = callHeap{
		less: func(a, b *call) bool {
			if c := a.annBase.Compare(b.annBase); c != 0 {
				return c < 0
			}
			return a.serial < b.serial
		},
		index: func(c *call) *int { return &c.annIdx },
	}
	s.waits = callHeap{
		less: func(a, b *call) bool {
			if c := a.arrived.Compare(b.arrived); c != 0 {
				return c < 0
			}
			return a.serial < b.serial
		},
		index: func(c *call) *int { return &c.waitIdx },
	}
	return s, nil
}

// lineLess is the order of the line: the picked caller; then callers moved
// to top, the latest first; then ready callers by priority (highest first)
// and arrival; then waiting callers by arrival.
func (s *Show) lineLess(a, b *call) bool {
	if ap, bp := a == s.picked, b == s.picked; ap != bp {
		return ap
	}
	if a.top != b.top {
		return a.top < b.top
	}
	if ar, br := a.state == StateReady, b.state == StateReady; ar != br {
		return ar
	}
	if a.state == StateReady && a.notes.Priority != b.notes.Priority {
		return a.notes.Priority > b.notes.Priority
	}
	if c := a.arrived.Compare(b.arrived); c != 0 {
		return c < 0
	}
	return a.serial < b.serial
}

// Config returns the show's current configuration.
func (s *Show) Config() Config { return s.cfg }

// Key returns the show's key.
func (s *Show) Key() string { return s.cfg.Key }

// SetLinesOpen opens or closes the lines to new callers; callers already
// in the show stay.
func (s *Show) SetLinesOpen(open bool) { s.cfg.LinesOpen = open }

// SetCapacity changes the most callers arriving, waiting, screening or
// ready (0: no limit). Lowering it below the current count turns nobody
// away; it only refuses new callers. A negative n is ErrInvalid.
func (s *Show) SetCapacity(n int) error {
	if n < 0 {
		return opError("set capacity", "", ErrInvalid, "capacity %d is negative", n)
	}
	s.cfg.Capacity = n
	return nil
}

// SetMaxOnAir changes the on-air limit (0: no limit). Lowering it takes
// nobody off air; it only refuses promotions. A negative n is ErrInvalid.
func (s *Show) SetMaxOnAir(n int) error {
	if n < 0 {
		return opError("set on-air limit", "", ErrInvalid, "on-air limit %d is negative", n)
	}
	s.cfg.MaxOnAir = n
	return nil
}

// SetAnnounceEvery changes the position announcement interval (0: none).
// Each caller's next announcement becomes due one new interval after its
// previous one (or after it joined the line). A negative d is ErrInvalid.
func (s *Show) SetAnnounceEvery(d time.Duration) error {
	if d < 0 {
		return opError("set announcement interval", "", ErrInvalid, "interval %v is negative", d)
	}
	s.cfg.AnnounceEvery = d
	return nil
}

// Arrive admits or rejects a call entering the show. An admitted call is
// StateArriving until Joined; a rejected one has already ended with
// OutcomeRejected (Admission.Reject says why: play the matching
// announcement, then hang up; its later Hangup returns ErrGone). The error
// is ErrInvalid for an empty CallID and ErrConflict for a CallID the show
// already knows.
func (s *Show) Arrive(now time.Time, a Arrival) (Admission, error) {
	const op = "arrive"
	if err := s.checkNew(op, a); err != nil {
		return Admission{}, err
	}
	c := s.newCall(now, a)
	c.state = StateArriving
	ts := []Transition{s.record(c, now, "", ActionArrive, Actor{Kind: ActorCaller})}

	var reject Reject
	switch {
	case !s.cfg.LinesOpen:
		reject = RejectClosed
	case a.Blocked:
		reject = RejectBlocked
	case s.cfg.Capacity > 0 && s.queued() >= s.cfg.Capacity:
		reject = RejectFull
	}
	if reject != "" {
		c.outcome, c.reason = OutcomeRejected, string(reject)
		if reject == RejectBlocked && a.BlockNote != "" {
			c.reason += ": " + a.BlockNote
		}
		c.state = StateEnded
		s.bury(c)
		ts = append(ts, s.record(c, now, StateArriving, ActionReject, System))
		return Admission{Call: s.snapshot(c), Reject: reject, Transitions: ts}, nil
	}
	s.calls[c.id] = c
	s.enter(c, now, "")
	return Admission{Call: s.snapshot(c), Transitions: ts}, nil
}

// Admission is the result of Arrive.
type Admission struct {
	Call        Call
	Reject      Reject // "" when admitted
	Transitions []Transition
}

// Admitted reports whether the call was let in.
func (a Admission) Admitted() bool { return a.Reject == "" }

func (s *Show) checkNew(op string, a Arrival) error {
	if a.CallID == "" {
		return opError(op, "", ErrInvalid, "call id is empty")
	}
	if s.calls[a.CallID] != nil || s.ended[a.CallID] != nil {
		return opError(op, a.CallID, ErrConflict, "call id already used")
	}
	return nil
}

func (s *Show) newCall(now time.Time, a Arrival) *call {
	s.serial++
	c := &call{
		id: a.CallID, number: a.Number, name: a.Name, node: a.Node, channel: a.ChannelID,
		arrived: a.ArrivedAt, since: now,
		serial: s.serial, heap: treapPriority(s.serial),
		annIdx: -1, waitIdx: -1,
	}
	if c.node == "" {
		c.node = s.cfg.Node
	}
	if c.arrived.IsZero() {
		c.arrived = now
	}
	return c
}

// queued counts the callers that take a place against the capacity.
func (s *Show) queued() int {
	return s.counts[StateArriving] + s.counts[StateWaiting] + s.counts[StateScreening] + s.counts[StateReady] +
		s.counts[StateCallback]
}

// Joined records that an arriving caller was answered and is in the holding
// bridge: StateArriving to StateWaiting. Errors: ErrNotFound, ErrGone, and
// ErrInvalid when the caller is not arriving.
func (s *Show) Joined(now time.Time, callID string) (Call, []Transition, error) {
	const op = "join"
	c, err := s.lookup(op, callID)
	if err != nil {
		return Call{}, nil, err
	}
	if c.state != StateArriving {
		return Call{}, nil, opError(op, callID, ErrInvalid, "caller is %s, not arriving", c.state)
	}
	if c.pending != 0 {
		return Call{}, nil, opError(op, callID, ErrBusy, "%s in progress", c.pendingAction)
	}
	t := s.move(c, now, StateWaiting, ActionJoin, Actor{Kind: ActorCaller}, nil)
	return s.snapshot(c), []Transition{t}, nil
}

// Hangup records that the caller hung up (or the channel went away), with
// the Q.850 cause when known (0 otherwise): the call ends as aired if it was
// ever on air, else as dropped if a Drop was in progress (recorded as that
// drop, by its actor), else as abandoned. It works in every live state and
// cancels any reserved action (whose Commit then returns ErrGone). Errors:
// ErrGone for an ended call, ErrNotFound for an unknown one.
func (s *Show) Hangup(now time.Time, callID string, cause int) (Call, []Transition, error) {
	c, err := s.lookup("hangup", callID)
	if err != nil {
		return Call{}, nil, err
	}
	action, actor, reason := ActionHangup, Actor{Kind: ActorCaller}, ""
	if c.pendingAction == ActionDrop {
		action, actor, reason = ActionDrop, c.pendingBy, c.pendingNote
	}
	t := s.end(c, now, s.naturalEnd(c, action), action, actor, reason)
	t.Cause = cause
	c.cause = causeByte(cause)
	return s.snapshot(c), []Transition{t}, nil
}

// Cause records the Q.850 hang-up cause of a call that has ended without it
// (or with another): Asterisk gives the real cause in ChannelDestroyed,
// which under load came 0.8-1.5 s after the caller had left (issue 25), so
// the call ends at once and its cause follows. The transition goes from
// ended to ended with ActionCause, the call's outcome and the cause; its At
// is the end's time, since the cause belongs to the end. Nothing is
// recorded when the call ended with this cause already. Errors: ErrInvalid
// for a call not ended or a cause out of range (1-255), ErrNotFound for an
// unknown (or long forgotten) call.
func (s *Show) Cause(callID string, cause int) (Call, []Transition, error) {
	const op = ActionCause
	if s.calls[callID] != nil {
		return Call{}, nil, opError(op, callID, ErrInvalid, "call has not ended")
	}
	c := s.ended[callID]
	if c == nil {
		return Call{}, nil, opError(op, callID, ErrNotFound, "no such call")
	}
	if cause < 1 || cause > 255 {
		return Call{}, nil, opError(op, callID, ErrInvalid, "cause %d out of range", cause)
	}
	if int(c.cause) == cause {
		return s.snapshot(c), nil, nil
	}
	c.cause = uint8(cause)
	t := s.record(c, c.since, StateEnded, ActionCause, Actor{Kind: ActorSystem})
	t.Cause = cause
	return s.snapshot(c), []Transition{t}, nil
}

// causeByte keeps a Q.850 cause (1-255) in a byte; anything else is 0.
func causeByte(cause int) uint8 {
	if cause < 1 || cause > 255 {
		return 0
	}
	return uint8(cause)
}

// naturalEnd is the outcome of a call ended by action without a failure.
func (s *Show) naturalEnd(c *call, action string) Outcome {
	switch {
	case c.wasOnAir || c.state == StateOnAir:
		return OutcomeAired
	case action == ActionDrop:
		return OutcomeDropped
	}
	return OutcomeAbandoned
}

// Fail ends a call that Asterisk failed (an ARI error the call cannot
// survive) with OutcomeFailed and the reason. It works in every live state
// and cancels any reserved action. Errors: ErrGone, ErrNotFound.
func (s *Show) Fail(now time.Time, callID, reason string) (Call, []Transition, error) {
	c, err := s.lookup("fail", callID)
	if err != nil {
		return Call{}, nil, err
	}
	t := s.end(c, now, OutcomeFailed, ActionFail, System, reason)
	return s.snapshot(c), []Transition{t}, nil
}

// end finishes a live call and records it.
func (s *Show) end(c *call, now time.Time, o Outcome, action string, actor Actor, reason string) Transition {
	from := c.state
	if c.cb != nil && c.cb.active && c.cb.calling {
		s.cbRinging--
	}
	delete(s.cbNow, c)
	s.release(c)
	s.leave(c)
	c.state, c.since, c.outcome, c.reason = StateEnded, now, o, reason
	c.announcing = false
	if s.picked == c {
		s.picked = nil
	}
	delete(s.calls, c.id)
	s.bury(c)
	return s.record(c, now, from, action, actor)
}

// bury remembers an ended call, forgetting the oldest beyond tombstones.
func (s *Show) bury(c *call) {
	c.left, c.right = nil, nil
	s.ended[c.id] = c
	if len(s.endedQ) < tombstones {
		s.endedQ = append(s.endedQ, c.id)
		return
	}
	delete(s.ended, s.endedQ[s.endedAt])
	s.endedQ[s.endedAt] = c.id
	s.endedAt = (s.endedAt + 1) % tombstones
}

// lookup finds a live call for an operation.
func (s *Show) lookup(op, callID string) (*call, error) {
	if c := s.calls[callID]; c != nil {
		return c, nil
	}
	if c := s.ended[callID]; c != nil {
		return nil, opError(op, callID, ErrGone, "call ended (%s)", c.outcome)
	}
	return nil, opError(op, callID, ErrNotFound, "no such call")
}

// move changes a live call's state (or, with to == c.state, its details
// through change) and records it.
func (s *Show) move(c *call, now time.Time, to State, action string, actor Actor, change func(*call)) Transition {
	from := c.state
	s.leave(c)
	if to != from {
		c.state, c.since = to, now
	}
	if change != nil {
		change(c)
	}
	s.enter(c, now, from)
	return s.record(c, now, from, action, actor)
}

// leave takes a live call out of the indexes of its state (but keeps the
// pick: enter and end decide whether it lasts).
func (s *Show) leave(c *call) {
	s.counts[c.state]--
	if inLine(c.state) {
		s.line.remove(c)
	}
	if announced(c.state) {
		s.ann.drop(c)
	}
	if holding(c.state) {
		s.waits.drop(c)
		s.waitSec -= c.arrived.Unix()
		s.waitNsec -= int64(c.arrived.Nanosecond())
	}
}

// enter puts a live call into the indexes of its state; from is the state
// it left (its announcement clock restarts when it joins the line).
func (s *Show) enter(c *call, now time.Time, from State) {
	s.counts[c.state]++
	if s.picked == c && !inLine(c.state) {
		s.picked = nil // the pick lasts while the caller is in line
	}
	if c.state != StateOnAir {
		c.muted, c.locked = false, false
	} else {
		c.wasOnAir = true
	}
	if c.state != StateScreening {
		c.screener = ""
	}
	if inLine(c.state) {
		s.line.insert(c)
	}
	if announced(c.state) && !c.announcing {
		if !announced(from) {
			c.annBase = now
		}
		s.ann.add(c)
	}
	if c.state != StateCallback && c.cb != nil && c.cb.active {
		c.cb.active = false
	}
	if !inLine(c.state) {
		c.confirmed = false
	}
	if holding(c.state) {
		s.waits.add(c)
		s.waitSec += c.arrived.Unix()
		s.waitNsec += int64(c.arrived.Nanosecond())
	}
}

// record makes the transition for a change just applied to c.
func (s *Show) record(c *call, now time.Time, from State, action string, actor Actor) Transition {
	c.seq++
	t := Transition{
		CallID: c.id, Seq: c.seq, At: now, Show: s.cfg.Key,
		From: from, To: c.state, Action: action, Actor: actor,
		Number: c.number, Name: c.name, Node: c.node, ChannelID: c.channel,
	}
	if c.notes != (Notes{}) {
		n := c.notes
		t.Notes = &n
	}
	if c.state == StateEnded {
		t.Outcome, t.Reason = c.outcome, c.reason
	}
	return t
}

// snapshot copies a call for the outside, with its position.
func (s *Show) snapshot(c *call) Call {
	out := s.view(c)
	if inLine(c.state) {
		out.Position = s.line.rank(c) + 1
	}
	return out
}

// view copies a call for the outside, without its position.
func (s *Show) view(c *call) Call {
	return Call{
		ID: c.id, Number: c.number, Name: c.name, Node: c.node, ChannelID: c.channel,
		State: c.state, ArrivedAt: c.arrived, Since: c.since,
		Notes: c.notes, Screener: c.screener, Muted: c.muted, Locked: c.locked,
		Next: c == s.picked, Top: c.top < 0, Announcing: c.announcing, WasOnAir: c.wasOnAir,
		Pending: c.pendingAction, Outcome: c.outcome, Reason: c.reason, Seq: c.seq,
		Blocked: c.blocked, BlockNote: c.blockNote, Callback: c.cb.view(c.state), Confirmed: c.confirmed,
	}
}

// Get returns a snapshot of a live or recently ended call. Error:
// ErrNotFound.
func (s *Show) Get(callID string) (Call, error) {
	if c := s.calls[callID]; c != nil {
		return s.snapshot(c), nil
	}
	if c := s.ended[callID]; c != nil {
		return s.snapshot(c), nil
	}
	return Call{}, opError("get", callID, ErrNotFound, "no such call")
}

// Position returns the caller's 1-based place in line: waiting and ready
// callers in the order TakeNext takes them (the pick, callers moved to top,
// ready callers by priority and arrival, waiting callers by arrival).
// Errors: ErrNotFound, ErrGone, and ErrInvalid for a caller not in line
// (arriving, screening or on air).
func (s *Show) Position(callID string) (int, error) {
	const op = "position"
	c, err := s.lookup(op, callID)
	if err != nil {
		return 0, err
	}
	if !inLine(c.state) {
		return 0, opError(op, callID, ErrInvalid, "caller is %s, not in line", c.state)
	}
	return s.line.rank(c) + 1, nil
}

// Lineup is the show's callers grouped for the console. Waiting and Ready
// are each in line order (their Position fields give the place in the
// whole line); the other groups are in the order they entered their state.
type Lineup struct {
	Waiting   []Call `json:"waiting"`
	Ready     []Call `json:"ready"`
	OnAir     []Call `json:"on_air"`
	Screening []Call `json:"screening"`
	Arriving  []Call `json:"arriving"`
}

// List returns every live caller, grouped and ordered for the console.
// It is O(n log n) in the callers not in line and O(n) in those in line.
func (s *Show) List() Lineup {
	l := Lineup{
		Waiting:   make([]Call, 0, s.counts[StateWaiting]),
		Ready:     make([]Call, 0, s.counts[StateReady]),
		OnAir:     make([]Call, 0, s.counts[StateOnAir]),
		Screening: make([]Call, 0, s.counts[StateScreening]),
		Arriving:  make([]Call, 0, s.counts[StateArriving]),
	}
	pos := 0
	s.line.ascend(func(c *call) bool {
		pos++
		sc := s.view(c)
		sc.Position = pos
		if c.state == StateReady {
			l.Ready = append(l.Ready, sc)
		} else {
			l.Waiting = append(l.Waiting, sc)
		}
		return true
	})
	for _, c := range s.calls {
		switch c.state {
		case StateOnAir:
			l.OnAir = append(l.OnAir, s.view(c))
		case StateScreening:
			l.Screening = append(l.Screening, s.view(c))
		case StateArriving:
			l.Arriving = append(l.Arriving, s.view(c))
		}
	}
	bySince := func(a, b Call) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		if c := a.ArrivedAt.Compare(b.ArrivedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	}
	slices.SortFunc(l.OnAir, bySince)
	slices.SortFunc(l.Screening, bySince)
	slices.SortFunc(l.Arriving, bySince)
	return l
}

// Stats are a show's counts and waits at a moment.
type Stats struct {
	Arriving  int `json:"arriving"`
	Waiting   int `json:"waiting"`
	Screening int `json:"screening"`
	Ready     int `json:"ready"`
	OnAir     int `json:"on_air"`
	Callback  int `json:"callback"` // call-back entries holding a place
	// PendingOnAir counts promotions reserved and not yet committed.
	PendingOnAir int `json:"pending_on_air"`
	// Pace is how often the show has lately taken a caller off the line
	// (to air or a screener), from its last 20; 0 until it has taken 3. A
	// caller at place p waits about p × Pace (EstimatedWait).
	Pace time.Duration `json:"pace"`
	// AverageWait and LongestWait are measured from arrival, over the
	// callers waiting, screening or ready.
	AverageWait time.Duration `json:"average_wait"`
	LongestWait time.Duration `json:"longest_wait"`
}

// Stats returns the show's counts and the average and longest wait at now,
// in O(1).
func (s *Show) Stats(now time.Time) Stats {
	st := Stats{
		Arriving: s.counts[StateArriving], Waiting: s.counts[StateWaiting],
		Screening: s.counts[StateScreening], Ready: s.counts[StateReady],
		OnAir: s.counts[StateOnAir], PendingOnAir: s.pendingOnAir, Callback: s.counts[StateCallback],
	}
	st.Pace, _ = s.EstimatedWait(now, 1)
	if n := int64(s.waits.Len()); n > 0 {
		// The mean arrival time, without overflowing int64 nanoseconds.
		sec, rem := s.waitSec/n, s.waitSec%n
		mean := time.Unix(sec, (rem*int64(time.Second)+s.waitNsec)/n)
		st.AverageWait = now.Sub(mean)
		st.LongestWait = now.Sub(s.waits.min().arrived)
	}
	return st
}
