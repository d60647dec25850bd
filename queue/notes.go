package queue

import (
	"strings"
	"time"
	"unicode/utf8"
)

// CallerNotes is what producers keep about a caller, by phone number, from
// one call to the next: what they call about, free notes, a rating and two
// flags. Every save is a new version in the caller's history; the newest
// is the caller's notes now. (Notes, by contrast, are one call's screener
// notes.)
type CallerNotes struct {
	Number string `json:"number"`          // normalised, see NormalizeNumber
	Topic  string `json:"topic,omitempty"` // what they call about
	Notes  string `json:"notes,omitempty"` // anything producers should know
	// Rating is how good a caller they are on air: 0 (not rated) to
	// MaxRating.
	Rating int `json:"rating,omitempty"`
	// DoNotAir: producers must not put this caller on air (the console
	// asks before a promotion); it does not refuse the call.
	DoNotAir bool `json:"do_not_air,omitempty"`
	// ContestWinner: the caller won a contest (so is not eligible again).
	ContestWinner bool `json:"contest_winner,omitempty"`

	// CallID is the call the notes were written during, if any.
	CallID string `json:"call_id,omitempty"`
	// By and At say who saved this version and when; set by the store.
	By string    `json:"by,omitempty"`
	At time.Time `json:"at,omitzero"`
}

// Limits of CallerNotes.
const (
	MaxRating     = 5
	MaxNotesTopic = 200  // characters
	MaxNotesText  = 2000 // characters
)

// FieldError is an input that breaks a rule: the field at fault and why.
// It wraps ErrInvalid.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return "queue: " + e.Field + ": " + e.Message }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Validate checks the notes and returns a *FieldError naming the field at
// fault: a number that is no phone number, a topic or notes too long or
// with control characters (notes may have line breaks and tabs), a rating
// outside 0..MaxRating.
func (n CallerNotes) Validate() error {
	switch {
	case NormalizeNumber(n.Number) == "":
		return &FieldError{"number", "is not a phone number"}
	case !utf8.ValidString(n.Topic) || strings.IndexFunc(n.Topic, control) >= 0:
		return &FieldError{"topic", "must be UTF-8 text without control characters"}
	case utf8.RuneCountInString(n.Topic) > MaxNotesTopic:
		return &FieldError{"topic", "must be at most 200 characters"}
	case !utf8.ValidString(n.Notes) || strings.IndexFunc(n.Notes, func(r rune) bool { return r != '\n' && r != '\t' && control(r) }) >= 0:
		return &FieldError{"notes", "must be UTF-8 text without control characters but line breaks"}
	case utf8.RuneCountInString(n.Notes) > MaxNotesText:
		return &FieldError{"notes", "must be at most 2000 characters"}
	case n.Rating < 0 || n.Rating > MaxRating:
		return &FieldError{"rating", "must be between 0 and 5"}
	}
	return nil
}

// control reports whether r is a control character, a line or paragraph
// separator or a bidirectional control: nothing notes should carry.
func control(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Clean returns the notes as stored: the number normalised, the topic
// trimmed, line breaks in the notes as "\n" and the notes trimmed.
func (n CallerNotes) Clean() CallerNotes {
	n.Number = NormalizeNumber(n.Number)
	n.Topic = strings.TrimSpace(n.Topic)
	n.Notes = strings.TrimSpace(strings.ReplaceAll(n.Notes, "\r\n", "\n"))
	return n
}

// Empty reports whether the notes say nothing: no topic, notes, rating or
// flag.
func (n CallerNotes) Empty() bool {
	return n.Topic == "" && n.Notes == "" && n.Rating == 0 && !n.DoNotAir && !n.ContestWinner
}

// SameAs reports whether n and o say the same thing, whoever wrote them
// and whenever.
func (n CallerNotes) SameAs(o CallerNotes) bool {
	return n.Number == o.Number && n.Topic == o.Topic && n.Notes == o.Notes && n.Rating == o.Rating &&
		n.DoNotAir == o.DoNotAir && n.ContestWinner == o.ContestWinner
}
