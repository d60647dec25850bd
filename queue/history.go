package queue

import "time"

// The read models below are what the history knows of callers and calls:
// the history store fills them, the console and the API show them. They
// live in the domain so that neither side depends on the other.

// Profile is what callin knows of one phone number: shown to the producer
// as the caller arrives, and used to turn away blocked numbers.
type Profile struct {
	Number    string // normalised, see NormalizeNumber
	Name      string // last caller ID name seen
	Notes     string // the producers' notes about this caller
	Calls     int    // calls recorded from this number
	OnAir     int    // of them, how many went on air
	FirstCall time.Time
	LastCall  time.Time
	Blocked   bool
	// BlockedReason says why while Blocked. BlockedBy and BlockedAt are
	// who last blocked or unblocked the number, and when (zero if never).
	BlockedReason string
	BlockedBy     string
	BlockedAt     time.Time
}

// Known reports whether a profile has anything in it: calls, a block (or
// a lifted one), notes or a name. A number never seen has a zero profile
// but for its Number.
func (p Profile) Known() bool {
	return p.Calls > 0 || !p.FirstCall.IsZero() || p.Blocked || !p.BlockedAt.IsZero() || p.Notes != "" || p.Name != ""
}

// CallRecord is one call as the history has it, derived from its
// transitions. Times are zero until the call gets there.
type CallRecord struct {
	ID        string
	Show      string
	Number    string // as presented
	Name      string // caller ID name as presented
	Node      string
	ChannelID string
	State     State // after LastSeq
	LastSeq   int
	ArrivedAt time.Time
	// AnsweredAt is when it first went from arriving to waiting.
	AnsweredAt time.Time
	ScreenedAt time.Time
	ReadyAt    time.Time
	OnAirAt    time.Time // first time on air
	OffAirAt   time.Time // last time it left the air
	EndedAt    time.Time
	Outcome    Outcome
	Cause      int // Q.850 hangup cause, 0 when unknown
	Reason     string
	Notes      Notes
}

// Day is a show's figures for one day.
type Day struct {
	Show     string
	Start    time.Time // midnight, in the location asked for
	Calls    int       // calls that arrived that day
	Outcomes map[Outcome]int
	// Wait is over the calls that were answered: from answered (or arrived)
	// to the first of on air and ended.
	Wait WaitStats
	// PerHour counts arrivals by hour from Start: 24 entries, or 23/25 on a
	// day when the clocks change.
	PerHour []int
}

// WaitStats sums up wait times.
type WaitStats struct {
	N       int // calls measured
	Avg     time.Duration
	P50     time.Duration
	P90     time.Duration
	Longest time.Duration
}

// ShowMessage is one message of a show's chat between screeners and the
// host.
type ShowMessage struct {
	ID     int64
	Show   string
	Author string // a user name
	Body   string
	At     time.Time
}

// Recording is one finished recording of a show's on-air bridge, as the
// history keeps it: Asterisk stores the file under Name.
type Recording struct {
	Name     string // Asterisk's stored recording name
	Show     string
	Format   string // the file's format ("wav")
	Started  time.Time
	Ended    time.Time
	Duration time.Duration
	Calls    []string // the calls on air at any time during it
	// Deleted is when callin deleted the file from Asterisk (retention);
	// zero while it is kept.
	Deleted time.Time
}
