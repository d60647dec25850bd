package postgres

import "github.com/callin-radio/callin/queue"

// NormalizeNumber returns a phone number as callers are keyed: its digits,
// with a leading + kept, or "" for anything that is not a phone number
// (see queue.NormalizeNumber, the one rule the call path and the history
// share).
func NormalizeNumber(number string) string { return queue.NormalizeNumber(number) }
