package ari_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/callin-radio/callin/ari"
	"github.com/coder/websocket"
)

// BenchmarkEvents pushes the real events of traces 01–07, in a loop,
// through a loopback WebSocket into a Conn and reads them from Events: read,
// decode and hand-over, per event. The server's writes run in the same
// process, so allocs/op include them.
func BenchmarkEvents(b *testing.B) {
	events := allTraceEvents(b)
	conns := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		conns <- ws
	}))
	defer srv.Close()
	c, err := ari.NewClient(ari.Config{URL: srv.URL, Username: "callin", Password: "secret", App: "callin", Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	cn := c.Connect(context.Background(), ari.EventOptions{})
	defer cn.Close()
	ws := <-conns
	defer ws.CloseNow()
	// Read the socket for control frames only, so that the Conn's pings
	// are answered: a run longer than PingInterval+PingTimeout (5 s) would
	// otherwise end in ErrPingTimeout.
	ws.CloseRead(context.Background())
	if _, ok := (<-cn.Events()).(*ari.Connected); !ok {
		b.Fatal("first event is not Connected")
	}
	var bytes int64
	for _, e := range events {
		bytes += int64(len(e))
	}
	b.SetBytes(bytes / int64(len(events)))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		ctx := context.Background()
		for i := range b.N {
			if ws.Write(ctx, websocket.MessageText, events[i%len(events)]) != nil {
				return
			}
		}
	}()
	for range b.N {
		ev := <-cn.Events()
		if _, ok := ev.(*ari.Disconnected); ok {
			b.Fatalf("disconnected: %v", ev.(*ari.Disconnected).Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDecodeEvent decodes the real events of traces 01–07.
func BenchmarkDecodeEvent(b *testing.B) {
	events := allTraceEvents(b)
	var bytes int64
	for _, e := range events {
		bytes += int64(len(e))
	}
	b.SetBytes(bytes / int64(len(events)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ari.DecodeEvent(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
