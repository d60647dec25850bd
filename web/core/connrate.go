package core

import (
	"math"
	"net"
	"strconv"
	"time"
)

// connRateError refuses a connection from an address opening them faster
// than Limits.ConnRatePerAddress; retry is how long until its bucket has
// room again; quiet when the address has had its answers already.
type connRateError struct {
	retry time.Duration
	quiet bool
}

// answeredRefusals is how many connections in a row an address opening
// them too fast is answered 429; the next ones are reset unanswered,
// which costs callin about half as much (no write, no orderly close): a
// client that reads the answer waits Retry-After, one that goes on is a
// flood. The soak of issue 21 measured it (BENCHMARKS.md).
const answeredRefusals = 32

// reset closes c unanswered: the client's request, unread, makes the
// kernel send a reset; nothing else is spent on it.
func reset(c net.Conn) { _ = c.Close() }

func (e *connRateError) Error() string {
	return "web: connections opened too fast from one address"
}

// answer is what the refused connection reads before it is closed: a
// whole HTTP answer, 429 with Retry-After in whole seconds (1 to 3600).
func (e *connRateError) answer() string {
	secs := int(min(3600, max(1, math.Ceil(e.retry.Seconds()))))
	body := `{"error":{"code":"rate_limited","message":"too many new connections from your address; try again later"}}` + "\n"
	return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: " + strconv.Itoa(secs) + "\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}
