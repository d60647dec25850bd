package web

import (
	"bytes"
	"strconv"

	"github.com/callin-radio/callin/web/auth"
)

// client is one SSE connection: a console, a host view or an API stream.
// Messages are pre-encoded and shared; a client whose buffer is full is
// kicked: gone closes and it is removed.
type client struct {
	ch       chan []byte
	gone     chan struct{}
	role     auth.Role
	page     string // a console's page: pageConsole or pageHost
	needFull bool   // send every fragment at the next render
}

func newClient(role auth.Role, n int) *client {
	return &client{ch: make(chan []byte, n), gone: make(chan struct{}), role: role, page: pageConsole, needFull: true}
}

// clientSet is a set of clients; the lock of its holder (a show's
// events, its consoles) guards it.
type clientSet map[*client]struct{}

// kickAll kicks every client of the set and empties it.
func (s clientSet) kickAll() {
	for c := range s {
		close(c.gone)
	}
	clear(s)
}

// send queues msg for c without blocking; false when c was kicked for
// being too slow. The lock of the set that holds c is held.
func (c *client) send(msg []byte) bool {
	select {
	case c.ch <- msg:
		return true
	default:
		close(c.gone)
		return false
	}
}

// encodeEvent encodes one SSE message; id 0 means none. Every line of data
// gets its own "data:" field.
func encodeEvent(id int64, name string, data []byte) []byte {
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
