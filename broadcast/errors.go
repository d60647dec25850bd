package broadcast

import (
	"errors"
	"fmt"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// Errors of the telephony side. Domain errors are the queue sentinels.
var (
	// ErrNodeDown means the show's Asterisk node is not connected (or was
	// taken over by another application): the action was not tried.
	ErrNodeDown = errors.New("broadcast: asterisk node not connected")
	// ErrTelephony means Asterisk refused a request or did not do what was
	// asked; the wrapped *ari.Error, when there is one, has the details.
	ErrTelephony = errors.New("broadcast: telephony failed")
	// ErrTimeout means an expected event did not come in time; it wraps
	// ErrTelephony.
	ErrTimeout = fmt.Errorf("broadcast: event timed out: %w", ErrTelephony)
	// ErrPhone means a person's phone that callin rang did not answer:
	// busy, no answer, unreachable; it wraps ErrTelephony and the message
	// says which.
	ErrPhone = fmt.Errorf("broadcast: phone not answered: %w", ErrTelephony)
	// ErrSlowSubscriber is why a Subscription whose buffer filled up was
	// closed.
	ErrSlowSubscriber = errors.New("broadcast: subscriber too slow, disconnected")
	// ErrClosed is why a Subscription was closed by Close or by the App
	// stopping.
	ErrClosed = errors.New("broadcast: subscription closed")
)

// errGone is what a waiter gets when its channel leaves Stasis.
var errGone = fmt.Errorf("broadcast: channel left Stasis: %w", queue.ErrGone)

// telErr wraps an ARI failure as ErrTelephony, keeping the ARI error for
// errors.As.
func telErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrTelephony) || errors.Is(err, queue.ErrGone) || errors.Is(err, ErrNodeDown) {
		return fmt.Errorf("broadcast: %s: %w", op, err)
	}
	return fmt.Errorf("broadcast: %s: %w: %w", op, ErrTelephony, err)
}

// channelMissing reports whether an ARI error says the channel is not there
// (or no longer in Stasis): 404 on most operations, 400/422 on addChannel,
// 409 on answer and play.
func channelMissing(err error) bool {
	return errors.Is(err, ari.ErrNotFound) || errors.Is(err, ari.ErrInvalid) || errors.Is(err, ari.ErrConflict)
}
