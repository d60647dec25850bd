package shared

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

func TestPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"+15551234", "+15551234"},
		{"Bob\x1b[31m", "Bob\uFFFD[31m"},
		{"a\u202eb", "a\uFFFDb"},
		{"\xff", "\uFFFD"},
		{"Zoë", "Zoë"},
	} {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("x: %w", queue.ErrGone), http.StatusConflict, "gone"},
		{fmt.Errorf("x: %w", broadcast.ErrTelephony), http.StatusBadGateway, "telephony"},
		{Forbidden("host", "drop_waiting"), http.StatusForbidden, "forbidden"},
		{fmt.Errorf("x: %w", queue.ErrStale), http.StatusPreconditionFailed, "precondition_failed"},
		{fmt.Errorf("x: %w", broadcast.ErrNoQuality), http.StatusConflict, "no_measure"},
		{Invalid("topic", "too long"), http.StatusUnprocessableEntity, "invalid"},
		{fmt.Errorf("secret: %w", ErrTooManyStreams), http.StatusTooManyRequests, "rate_limited"},
		{fmt.Errorf("database password wrong"), http.StatusInternalServerError, "internal"},
	} {
		status, body := Classify(tt.err)
		if status != tt.status || body.Code != tt.code {
			t.Errorf("Classify(%v) = %d %s, want %d %s", tt.err, status, body.Code, tt.status, tt.code)
		}
		if status == http.StatusInternalServerError && strings.Contains(body.Detail, "password") {
			t.Errorf("a 500 tells its cause: %q", body.Detail)
		}
	}
}

// TestDetailWithoutKind: a problem's detail does not end in its error
// kind's word when words come before it (the code says the kind); a
// detail that is only an identifier keeps the word.
func TestDetailWithoutKind(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("postgres: notes of %q: %w", "+15551234", queue.ErrStale), `notes of "+15551234": stale version`},
		{fmt.Errorf("queue: promote %q: already on air: %w", "c1", queue.ErrConflict), `promote "c1": already on air`},
		{fmt.Errorf("queue: hold %q: the caller hung up: %w", "c1", queue.ErrGone), `hold "c1": the caller hung up`},
		{queue.ErrOnAirFull, "on-air limit reached"},
		{NotFound("show", "x"), `show "x": not found`},
		{fmt.Errorf("x: %w", queue.ErrGone), "x: gone"},
		{fmt.Errorf("queue: hold %q: %w", "c1", queue.ErrGone), `hold "c1": gone`},
	} {
		if got := Detail(tt.err); got != tt.want {
			t.Errorf("Detail(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
