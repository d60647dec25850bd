package stream

import (
	"bytes"
	"strconv"

	"github.com/callin-radio/callin/web/auth"
)

// Client is one SSE connection: a console, a host view or an API stream.
// Messages are pre-encoded and shared; a client whose buffer is full is
// kicked: Gone closes and it is removed. Page and NeedFull are the
// console's (which page it shows, whether the next render sends every
// fragment); the lock of the set that holds the client guards them.
type Client struct {
	ch       chan []byte
	gone     chan struct{}
	Role     auth.Role
	Page     string
	NeedFull bool
}

// NewClient makes a client of role with a buffer of n messages (0: none
// yet, see EnsureBuffer).
func NewClient(role auth.Role, n int) *Client {
	return &Client{ch: make(chan []byte, n), gone: make(chan struct{}), Role: role}
}

// Gone is closed when the client is kicked.
func (c *Client) Gone() <-chan struct{} { return c.gone }

// EnsureBuffer gives a client made without a buffer one of n messages.
func (c *Client) EnsureBuffer(n int) {
	if cap(c.ch) == 0 {
		c.ch = make(chan []byte, n)
	}
}

// Set is a set of clients; the lock of its holder (a show's events, its
// consoles) guards it.
type Set map[*Client]struct{}

// KickAll kicks every client of the set and empties it.
func (s Set) KickAll() {
	for c := range s {
		close(c.gone)
	}
	clear(s)
}

// Send queues msg for c without blocking; false when c was kicked for
// being too slow. The lock of the set that holds c is held.
func (c *Client) Send(msg []byte) bool {
	select {
	case c.ch <- msg:
		return true
	default:
		close(c.gone)
		return false
	}
}

// Encode encodes one SSE message; id 0 means none. Every line of data
// gets its own "data:" field.
func Encode(id int64, name string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(name) + 32 + 7*bytes.Count(data, []byte("\n")))
	if id != 0 {
		b.WriteString("id: " + strconv.FormatInt(id, 10) + "\n")
	}
	b.WriteString("event: " + name + "\n")
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		b.WriteString("data: ")
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}
