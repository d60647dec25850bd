package ari_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
)

// TestConnStats: Stats counts every message read whole and its payload,
// the events decoded among them, and keeps counting across a reconnect.
func TestConnStats(t *testing.T) {
	t.Parallel()
	srv := newWSServer(t, nil)
	cn := connect(t, srv.URL, fastOptions())
	if got := cn.Stats(); got != (ari.ConnStats{}) {
		t.Errorf("Stats before any event = %+v, want zero", got)
	}
	ws := srv.accept(t)
	nextType[*ari.Connected](t, cn)
	if got := cn.Stats(); got != (ari.ConnStats{}) {
		t.Errorf("Stats after Connected = %+v, want zero (synthetic events are not counted)", got)
	}
	sent := []string{`not an event`, stasisEnd("a"), stasisEnd("bb")}
	send(t, ws, sent...)
	channelOf(t, next(t, cn))
	channelOf(t, next(t, cn)) // the undecodable message came before both
	want := ari.ConnStats{Messages: 3, Bytes: uint64(len(sent[0]) + len(sent[1]) + len(sent[2])), Events: 2}
	if got := cn.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}

	ws.Close(websocket.StatusGoingAway, "restart")
	ws = srv.accept(t)
	send(t, ws, stasisEnd("ccc"))
	nextType[*ari.Disconnected](t, cn)
	nextType[*ari.Connected](t, cn)
	channelOf(t, next(t, cn))
	want.Messages++
	want.Events++
	want.Bytes += uint64(len(stasisEnd("ccc")))
	if got := cn.Stats(); got != want {
		t.Errorf("Stats after a reconnect = %+v, want %+v", got, want)
	}
}

// TestConnStatsFake: over the fake Asterisk, for two callers who arrive,
// are bridged and hang up, Stats counts exactly the data frames the fake
// wrote on the wire and their payload bytes, read back from the TCP
// connection itself.
func TestConnStatsFake(t *testing.T) {
	t.Parallel()
	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	var wire wireTap
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return wire.tap(c), nil
	}
	c, err := ari.NewClient(ari.Config{URL: pbx.URL(), Username: pbx.User(), Password: pbx.Password(), App: "callin",
		HTTPClient: &http.Client{Transport: tr, Timeout: 10 * time.Second}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cn := c.Connect(ctx, ari.EventOptions{PingInterval: time.Hour})
	t.Cleanup(cn.Close)
	nextType[*ari.Connected](t, cn)
	if err := pbx.WaitApp(ctx, "callin", true); err != nil {
		t.Fatal(err)
	}

	calls := map[string]*aritest.Call{}
	for _, id := range []string{"caller-a", "caller-b"} {
		call, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"show1"}, ChannelID: id, Number: "+12025550100"})
		if err != nil {
			t.Fatal(err)
		}
		calls[id] = call
	}
	if _, err := c.CreateBridge(ctx, "hold", "holding", "hold"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"caller-a", "caller-b"} {
		if err := c.AddChannel(ctx, "hold", ari.AddChannelParams{Channels: []string{id}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"caller-a", "caller-b"} {
		if err := calls[id].Hangup(16); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing follows the last caller's StasisEnd (traces 09-11).
	received := 0
	for {
		ev := next(t, cn)
		received++
		if _, ok := ev.(*ari.StasisEnd); ok && ari.ChannelID(ev) == "caller-b" {
			break
		}
	}

	frames, payload := wire.events(t)
	got := cn.Stats()
	if want := (ari.ConnStats{Messages: uint64(frames), Bytes: uint64(payload), Events: uint64(received)}); got != want {
		t.Errorf("Stats = %+v, want %+v (%d data frames of %d bytes on the wire, %d events received)",
			got, want, frames, payload, received)
	}
	t.Logf("%d events received; %+v", received, got)
	if received < 8 { // 2 StasisStart, 2 Entered, 2 Left, 2 StasisEnd at least
		t.Errorf("received %d events, want at least 8", received)
	}
}

// wireTap keeps what each TCP connection of a client read.
type wireTap struct {
	mu    sync.Mutex
	reads []*bytes.Buffer
}

func (w *wireTap) tap(c net.Conn) net.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := &bytes.Buffer{}
	w.reads = append(w.reads, b)
	return &tapConn{Conn: c, mu: &w.mu, into: b}
}

// events finds the WebSocket connection (the one answered 101) and counts
// the complete data frames the server sent on it after the handshake, and
// their payload bytes. A server's frames are not masked.
func (w *wireTap) events(t *testing.T) (frames, payload int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var b []byte
	for _, r := range w.reads {
		if bytes.HasPrefix(r.Bytes(), []byte("HTTP/1.1 101 ")) {
			b = r.Bytes()
		}
	}
	_, b, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no WebSocket handshake on the wire")
	}
	for len(b) >= 2 {
		fin, opcode := b[0]&0x80 != 0, b[0]&0x0f
		n, head := int(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return
			}
			n, head = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return
			}
			n, head = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if b[1]&0x80 != 0 {
			t.Fatal("a masked frame from the server")
		}
		if len(b) < head+n {
			return // not read whole yet
		}
		if opcode < 8 { // text, binary or continuation: a data message
			payload += n
			if fin {
				frames++
			}
		}
		b = b[head+n:]
	}
	return frames, payload
}

// tapConn copies what is read from a connection into a buffer.
type tapConn struct {
	net.Conn
	mu   *sync.Mutex
	into *bytes.Buffer
}

func (c *tapConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.into.Write(p[:n])
	c.mu.Unlock()
	return n, err
}
