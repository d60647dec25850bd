package webtest

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Event is one parsed server-sent event; Comment is set for a comment
// (a heartbeat).
type Event struct {
	ID, Name, Data string
	Comment        bool
}

// Stream reads events from an open SSE response.
type Stream struct {
	res  *http.Response
	ch   chan Event
	Read atomic.Int64 // bytes read from the stream
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// OpenSSE opens an SSE stream and reads it in the background.
func OpenSSE(t testing.TB, req *http.Request) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("SSE %s: status %d: %s", req.URL, res.StatusCode, b)
	}
	s := &Stream{res: res, ch: make(chan Event, 10000)}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(s.ch)
		sc := bufio.NewScanner(countingReader{res.Body, &s.Read})
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		var ev Event
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Name != "" || ev.Comment || len(data) > 0 {
					ev.Data = strings.Join(data, "\n")
					s.ch <- ev
				}
				ev, data = Event{}, nil
			case strings.HasPrefix(line, ":"):
				ev.Comment = true
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[6:])
			}
		}
	}()
	return s
}

// Next returns the next event that match accepts, skipping others.
func (s *Stream) Next(t testing.TB, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-s.ch:
			if !ok {
				t.Fatalf("SSE stream ended")
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no matching SSE event in 5s")
		}
	}
}

// Named matches events by name (and data containing want, if given).
func Named(name string, want ...string) func(Event) bool {
	return func(ev Event) bool {
		if ev.Name != name {
			return false
		}
		for _, w := range want {
			if !strings.Contains(ev.Data, w) {
				return false
			}
		}
		return true
	}
}

// WaitEnded waits until the stream has been closed by the server.
func (s *Stream) WaitEnded(t *testing.T) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream is still open")
		}
	}
}

// Events are the stream's events as they are read, for a caller that
// waits with a timeout of its own; closed when the stream ends.
func (s *Stream) Events() <-chan Event { return s.ch }
