package aritest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

// wireEvent is the part of an ARI event the tests look at, decoded
// independently of the ari client.
type wireEvent struct {
	Type        string       `json:"type"`
	Application string       `json:"application"`
	Timestamp   ari.Time     `json:"timestamp"`
	AsteriskID  string       `json:"asterisk_id"`
	Channel     *wireChannel `json:"channel"`
	Bridge      *struct {
		ID       string   `json:"id"`
		Channels []string `json:"channels"`
	} `json:"bridge"`
	Playback *struct {
		ID           string `json:"id"`
		State        string `json:"state"`
		MediaURI     string `json:"media_uri"`
		NextMediaURI string `json:"next_media_uri"`
	} `json:"playback"`
	Recording *struct {
		Name  string `json:"name"`
		State string `json:"state"`
	} `json:"recording"`
	Cause    int      `json:"cause"`
	CauseTxt string   `json:"cause_txt"`
	Soft     bool     `json:"soft"`
	Args     []string `json:"args"`
	Digit    string   `json:"digit"`
	Duration int      `json:"duration"`
	// ChannelVarset
	Variable string `json:"variable"`
	Value    string `json:"value"`
	// Dial
	DialStatus string       `json:"dialstatus"`
	Peer       *wireChannel `json:"peer"`
	// NoCause is set when the event has no "cause" field at all (a SIP
	// BYE's ChannelHangupRequest).
	NoCause bool `json:"-"`
}

// decodeWire decodes one event, noting a missing cause field.
func decodeWire(b []byte) (wireEvent, error) {
	var ev wireEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, err
	}
	var c struct {
		Cause *int `json:"cause"`
	}
	_ = json.Unmarshal(b, &c)
	ev.NoCause = c.Cause == nil
	return ev, nil
}

// wireChannel is the part of a channel the tests look at.
type wireChannel struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	State  string       `json:"state"`
	Caller ari.CallerID `json:"caller"`
}

func (e wireEvent) chanID() string {
	if e.Channel == nil {
		return ""
	}
	return e.Channel.ID
}

func (e wireEvent) bridgeID() string {
	if e.Bridge == nil {
		return ""
	}
	return e.Bridge.ID
}

// String is a compact form used in failure messages and sequence checks.
func (e wireEvent) String() string {
	s := e.Type
	switch {
	case e.Type == ari.TypeChannelHangupRequest && e.NoCause:
		s += "()"
	case e.Type == ari.TypeChannelHangupRequest:
		s += fmt.Sprintf("(%d", e.Cause)
		if e.Soft {
			s += ",soft"
		}
		s += ")"
	case e.Type == ari.TypeChannelDestroyed:
		s += fmt.Sprintf("(%d)", e.Cause)
	case e.Playback != nil:
		s += "(" + e.Playback.State + ")"
	case e.Bridge != nil && e.Channel != nil:
		s += "(" + e.Bridge.ID + ")"
	case e.Type == ari.TypeChannelVarset:
		s += "(" + e.Variable + ")"
	case e.Type == "Dial":
		s += "(" + e.DialStatus + ")"
	}
	return s
}

// client is a raw HTTP ARI client for the tests.
type client struct {
	t    testing.TB
	base string
	user string
	pass string
	http *http.Client
}

func newClient(t testing.TB, srv *aritest.Server) *client {
	// A transport of its own: closing another test's server closes the
	// default transport's idle connections, which can break a request of
	// this one that is just taking one ("CloseIdleConnections called").
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: srv.URL(), user: srv.User(), pass: srv.Password(), http: &http.Client{Timeout: 10 * time.Second, Transport: tr}}
}

// do sends one request; query is "k=v&k2=v2" style (already escaped where needed).
func (c *client) do(method, path string, query url.Values, body string, contentType string) (int, []byte) {
	c.t.Helper()
	u := c.base + "/ari/" + strings.TrimPrefix(path, "/")
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(want int, method, path string, query url.Values) []byte {
	c.t.Helper()
	st, b := c.do(method, path, query, "", "")
	if st != want {
		c.t.Fatalf("%s %s %v: status %d, want %d (body %s)", method, path, query, st, want, b)
	}
	return b
}

func message(b []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(b, &m)
	if m.Error != "" {
		return "error:" + m.Error
	}
	return m.Message
}

// events is one events WebSocket with a reader goroutine.
type events struct {
	t      testing.TB
	conn   *websocket.Conn
	ch     chan wireEvent
	closed chan struct{}
	err    atomic.Value // the error that ended the reader
	c      *client
	syncN  int
	app    string
	label  string // the trace's socket name ("app", "all"), for replays
	// subscribeAll says how the socket was dialled.
	subscribeAll bool
}

func dialEvents(t testing.TB, srv *aritest.Server, app string, subscribeAll bool) *events {
	t.Helper()
	u := srv.WebSocketURL(app)
	if subscribeAll {
		u += "&subscribeAll=true"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: basicAuth(srv.User(), srv.Password())})
	if err != nil {
		t.Fatalf("dial events: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	e := &events{t: t, conn: conn, ch: make(chan wireEvent, 1<<16), closed: make(chan struct{}), c: newClient(t, srv), app: app, subscribeAll: subscribeAll}
	go func() {
		defer close(e.closed)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				e.err.Store(err)
				return
			}
			ev, err := decodeWire(b)
			if err != nil {
				e.err.Store(err)
				return
			}
			e.ch <- ev
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return e
}

func basicAuth(user, pass string) http.Header {
	h := http.Header{}
	r := &http.Request{Header: h}
	r.SetBasicAuth(user, pass)
	return h
}

// close closes the socket and waits until the fake has unregistered app.
func (e *events) close(srv *aritest.Server, app string) {
	e.t.Helper()
	e.conn.Close(websocket.StatusNormalClosure, "")
	<-e.closed
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.WaitApp(ctx, app, false); err != nil {
		e.t.Fatalf("app %s still registered: %v", app, err)
	}
}

// next returns the next event or fails after d.
func (e *events) next(d time.Duration) wireEvent {
	e.t.Helper()
	select {
	case ev := <-e.ch:
		return ev
	case <-time.After(d):
		e.t.Fatalf("no event within %v", d)
	case <-e.closed:
		select {
		case ev := <-e.ch:
			return ev
		default:
		}
		e.t.Fatalf("events socket closed: %v", e.err.Load())
	}
	return wireEvent{}
}

// waitFor returns the first event matching f, with the events skipped before it.
func (e *events) waitFor(d time.Duration, f func(wireEvent) bool) (wireEvent, []wireEvent) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	var skipped []wireEvent
	for {
		left := time.Until(deadline)
		if left <= 0 {
			e.t.Fatalf("event not seen within %v; saw %v", d, skipped)
		}
		ev := e.next(left)
		if f(ev) {
			return ev, skipped
		}
		skipped = append(skipped, ev)
	}
}

func ofType(typ string) func(wireEvent) bool {
	return func(e wireEvent) bool { return e.Type == typ }
}

// sync returns every event emitted before now: it creates a marker bridge,
// subscribes the socket's app to it, deletes it and collects events until
// its BridgeDestroyed (an app without subscribeAll never sees
// BridgeCreated, traces 09-18). It lets tests assert that no other event
// came, without sleeping. A subscribeAll socket's BridgeCreated of the
// marker, and other sockets' markers, are left out.
func (e *events) sync() []wireEvent {
	e.t.Helper()
	e.syncN++
	id := fmt.Sprintf("sync-%s-%d", e.app, e.syncN)
	e.c.must(http.StatusOK, "POST", "bridges", q("bridgeId", id))
	e.c.must(http.StatusOK, "POST", "applications/"+e.app+"/subscription", q("eventSource", "bridge:"+id))
	e.c.must(http.StatusNoContent, "DELETE", "bridges/"+id, nil)
	_, got := e.waitFor(5*time.Second, func(ev wireEvent) bool { return ev.Type == ari.TypeBridgeDestroyed && ev.bridgeID() == id })
	return slices.DeleteFunc(got, func(ev wireEvent) bool { return ev.Channel == nil && strings.HasPrefix(ev.bridgeID(), "sync-") })
}

// expect reads len(want) events and compares their compact forms.
func (e *events) expect(want ...string) []wireEvent {
	e.t.Helper()
	var got []wireEvent
	var gotS []string
	for range want {
		ev := e.next(5 * time.Second)
		got = append(got, ev)
		gotS = append(gotS, ev.String())
	}
	if strings.Join(gotS, " ") != strings.Join(want, " ") {
		e.t.Fatalf("events\n got: %v\nwant: %v", gotS, want)
	}
	return got
}

// expectNone asserts that nothing but the sync marker arrives now.
func (e *events) expectNone() {
	e.t.Helper()
	if got := e.sync(); len(got) > 0 {
		e.t.Fatalf("unexpected events: %v", got)
	}
}

// waitClosed waits for the socket to end and returns the reader's error.
func (e *events) waitClosed(d time.Duration) error {
	e.t.Helper()
	select {
	case <-e.closed:
		err, _ := e.err.Load().(error)
		return err
	case <-time.After(d):
		e.t.Fatalf("socket still open after %v", d)
	}
	return nil
}

func isEOFClose(err error) bool {
	return err != nil && websocket.CloseStatus(err) == -1 && (errors.Is(err, io.EOF) || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "closed"))
}

func newServer(t testing.TB, opts aritest.Options) *aritest.Server {
	srv := aritest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}
