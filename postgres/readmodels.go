package postgres

import "github.com/callin-radio/callin/queue"

// The read models are the domain's (queue/history.go): the names below
// keep the store's signatures readable.
type (
	// Profile is queue.Profile.
	Profile = queue.Profile
	// Call is queue.CallRecord.
	Call = queue.CallRecord
	// Day is queue.Day.
	Day = queue.Day
	// WaitStats is queue.WaitStats.
	WaitStats = queue.WaitStats
	// ShowMessage is queue.ShowMessage.
	ShowMessage = queue.ShowMessage
)
