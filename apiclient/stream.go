package apiclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The event stream (GET /shows/{show}/events) is left out of the
// generated client (oapi-codegen.yaml): a generated ...WithResponse call
// reads its answer whole, and the stream never ends. Stream, written by
// hand, reads it as typed events and resumes by itself (issue 22, point 6).

// StreamOptions tune a Stream.
type StreamOptions struct {
	// LastEventID resumes after this event id: a list's event_id (GET
	// callers), or the last id a stream gave. "" starts from now.
	LastEventID string
	// Retry is how long to wait before connecting again after the stream
	// dropped or was refused for a while (429, 503, 5xx); 0: what the
	// server says (its retry: line, or Retry-After), 2 s until it has.
	Retry time.Duration
}

// StreamEvent is one event of the stream: its id (none for end), its
// type (transition, lines, settings, …, reset, end) and the frame as the
// document's Event union: Frame.AsTransitionFrame(), or Value.
type StreamEvent struct {
	ID    string
	Name  string
	Frame Event
}

// Value is the event's frame as its own type (TransitionFrame,
// SettingsFrame, ResetFrame, …), chosen by the event type.
func (e StreamEvent) Value() (any, error) { return e.Frame.ValueByDiscriminator() }

// ErrStreamEnded is what Next returns after the stream's end event (the
// token was revoked or the session ended): it is not resumed.
var ErrStreamEnded = errors.New("apiclient: the event stream ended")

// Stream reads a show's event stream as typed events. It connects at the
// first Next, and when the connection drops it connects again with
// Last-Event-ID (the last id it gave), so nothing is missed and nothing
// comes twice while the server still keeps the events. A reset event (the
// events after the last id are no longer kept) is given like the others:
// read the show again; the stream carries on after it by itself. Not safe
// for use by more than one goroutine.
type Stream struct {
	ctx    context.Context
	c      *Client
	show   ShowKey
	opts   StreamOptions
	lastID string
	retry  time.Duration // the wait before the next connection
	body   io.ReadCloser
	r      *bufio.Reader
	ended  error
}

// Stream opens show's event stream; ctx bounds it (cancel it, or Close,
// to stop).
func (c *Client) Stream(ctx context.Context, show ShowKey, opts StreamOptions) *Stream {
	retry := opts.Retry
	if retry <= 0 {
		retry = 2 * time.Second
	}
	return &Stream{ctx: ctx, c: c, show: show, opts: opts, lastID: opts.LastEventID, retry: retry}
}

// Stream opens show's event stream (Client.Stream); c must wrap a *Client,
// as NewClientWithResponses makes it.
func (c *ClientWithResponses) Stream(ctx context.Context, show ShowKey, opts StreamOptions) *Stream {
	cl, _ := c.ClientInterface.(*Client)
	return cl.Stream(ctx, show, opts)
}

// LastEventID is the id of the last event given (or the one the stream
// started from): resume a new Stream from it.
func (s *Stream) LastEventID() string { return s.lastID }

// Close ends the stream's connection; Next connects again if called.
func (s *Stream) Close() error {
	if s.body == nil {
		return nil
	}
	err := s.body.Close()
	s.body, s.r = nil, nil
	return err
}

// Next waits for the next event. Errors: the context's; an *Error when
// the server refuses the stream for good (401, 403, 404, 400); after an
// end event, ErrStreamEnded. A dropped connection, 429, 503 or another
// 5xx is retried, after Retry.
func (s *Stream) Next() (StreamEvent, error) {
	for {
		if s.ended != nil {
			return StreamEvent{}, s.ended
		}
		if err := s.ctx.Err(); err != nil {
			s.Close()
			return StreamEvent{}, err
		}
		if s.body == nil {
			if err := s.connect(); err != nil {
				var e *Error
				if errors.As(err, &e) && !retryable(e.StatusCode) {
					return StreamEvent{}, err
				}
				s.wait()
				continue
			}
		}
		ev, data, err := s.read()
		if err != nil { // dropped: connect again from the last id
			s.Close()
			if s.ctx.Err() == nil {
				s.wait()
			}
			continue
		}
		if ev.ID != "" {
			s.lastID = ev.ID
		}
		if err := ev.decode(data); err != nil {
			return ev, err // not a frame of the document: the next Next goes on after it
		}
		if ev.Name == "end" {
			s.Close()
			s.ended = ErrStreamEnded
			if f, err := ev.Frame.AsEndFrame(); err == nil {
				s.ended = fmt.Errorf("%w: %s", ErrStreamEnded, f.Data.Reason)
			}
		}
		return ev, nil
	}
}

// retryable says whether a refusal may pass: too many streams for now,
// the service unavailable or failing.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// wait waits Retry (or the server's hint), or for the context.
func (s *Stream) wait() {
	t := time.NewTimer(s.retry)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}

// connect opens the stream after the last id; an *Error for an answer
// that is not 200.
func (s *Stream) connect() error {
	u, err := url.JoinPath(s.c.Server, "shows", s.show, "events")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if s.lastID != "" {
		req.Header.Set("Last-Event-ID", s.lastID)
	}
	if err := s.c.applyEditors(s.ctx, req, nil); err != nil {
		return err
	}
	doer := s.c.Client
	if doer == nil {
		doer = http.DefaultClient
	}
	res, err := doer.Do(req)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && secs > 0 && s.opts.Retry <= 0 {
			s.retry = time.Duration(secs) * time.Second
		}
		e := &Error{StatusCode: res.StatusCode}
		_ = json.Unmarshal(body, &e.Problem)
		return e
	}
	s.body, s.r = res.Body, bufio.NewReader(res.Body)
	return nil
}

// read reads the next event (comments, heartbeats and retry: lines are
// taken in passing), as the SSE format has it: field: value lines up to
// a blank one, the data lines joined by newlines.
func (s *Stream) read() (StreamEvent, []string, error) {
	var ev StreamEvent
	var data []string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return StreamEvent{}, nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if ev.Name == "" && data == nil {
				continue // a comment's, or the retry line's, end
			}
			return ev, data, nil
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Name = value
		case "data":
			data = append(data, value)
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 && s.opts.Retry <= 0 {
				s.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// decode decodes an event's data lines into its frame, as the document's
// Event schema has it: {"event": name, "id": id, "data": data}.
func (ev *StreamEvent) decode(data []string) error {
	raw := map[string]json.RawMessage{"data": json.RawMessage(strings.Join(data, "\n"))}
	raw["event"], _ = json.Marshal(ev.Name)
	if ev.ID != "" {
		raw["id"], _ = json.Marshal(ev.ID)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("apiclient: event %s: %w", ev.Name, err)
	}
	return ev.Frame.UnmarshalJSON(b)
}
