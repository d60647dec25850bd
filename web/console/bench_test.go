package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// BenchmarkFanOut measures how long a transition takes to reach 50 open
// consoles (over HTTP, as SSE) while 600 callers wait: one op is a
// promotion or a hold, timed until every console has the new on-air
// fragment. It includes the RenderEvery coalescing window (25 ms default).
func BenchmarkFanOut(b *testing.B) {
	for _, every := range []time.Duration{25 * time.Millisecond, time.Millisecond} {
		b.Run(fmt.Sprintf("render_every=%v", every), func(b *testing.B) {
			e := webenv.New(b, func(c *core.Config) { c.RenderEvery = every })
			for i := range 600 {
				e.App.Arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
			}
			consoles := make([]*webtest.Stream, 50)
			for i := range consoles {
				role := []string{"producer", "screener", "host"}[i%3]
				consoles[i] = webtest.OpenSSE(b, e.LiveRequest(b, role))
				consoles[i].Next(b, webtest.Named("waiting", "c499", "… and 100 more waiting")) // the default 500 listed
			}
			ctx := context.Background()
			var before int64
			for _, s := range consoles {
				before += s.Read.Load()
			}
			b.ResetTimer()
			for i := range b.N {
				var err error
				if i%2 == 0 {
					_, err = e.App.Promote(ctx, "morning", "c000", queue.Actor{})
				} else {
					_, err = e.App.Hold(ctx, "morning", "c000", queue.Actor{})
				}
				if err != nil {
					b.Fatal(err)
				}
				onAir := i%2 == 0
				for _, s := range consoles {
					s.Next(b, func(ev webtest.Event) bool {
						return ev.Name == "onair" && strings.Contains(ev.Data, "c000") == onAir
					})
				}
			}
			b.StopTimer()
			var after int64
			for _, s := range consoles {
				after += s.Read.Load()
			}
			// What a console reads per change (the rows event follows the
			// on-air fragment and may be still on its way: a lower bound).
			b.ReportMetric(float64(after-before)/float64(b.N*len(consoles)), "bytes/console/op")
		})
	}
}

// BenchmarkFanOut10000 measures a promotion (or hold) of the first caller
// reaching 4 open consoles (2 producers, a screener and a host) over SSE
// with 10,000 callers waiting, with a 1 ms render window: snapshot,
// render from the row caches and fan-out of one change.
func BenchmarkFanOut10000(b *testing.B) {
	e := webenv.New(b, func(c *core.Config) { c.RenderEvery = time.Millisecond })
	for i := range 10_000 {
		e.App.Arrive(fmt.Sprintf("c%05d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
	}
	consoles := make([]*webtest.Stream, 4)
	for i := range consoles {
		role := []string{"producer", "screener", "host", "producer"}[i]
		consoles[i] = webtest.OpenSSE(b, e.LiveRequest(b, role))
		// Profiles of the listed callers are fetched in line order, one
		// at a time, each badge a row change: time the changes once the
		// last listed caller's is shown.
		consoles[i].Next(b, func(ev webtest.Event) bool {
			i := strings.Index(ev.Data, `data-call="c00499"`)
			if i < 0 {
				return false
			}
			row, _, _ := strings.Cut(ev.Data[i:], "</li>")
			return strings.Contains(row, `data-testid="badge"`)
		})
	}
	ctx := context.Background()
	change := func(i int) {
		var err error
		if i%2 == 0 {
			_, err = e.App.Promote(ctx, "morning", "c00000", queue.Actor{})
		} else {
			_, err = e.App.Hold(ctx, "morning", "c00000", queue.Actor{})
		}
		if err != nil {
			b.Fatal(err)
		}
		onAir := i%2 == 0
		for _, s := range consoles {
			s.Next(b, func(ev webtest.Event) bool {
				return ev.Name == "onair" && strings.Contains(ev.Data, "c00000") == onAir
			})
		}
	}
	change(0) // the badges' render is sent
	change(1)
	var before int64
	for _, s := range consoles {
		before += s.Read.Load()
	}
	b.ResetTimer()
	for i := range b.N {
		change(i)
	}
	b.StopTimer()
	var after int64
	for _, s := range consoles {
		after += s.Read.Load()
	}
	b.ReportMetric(float64(after-before)/float64(b.N*len(consoles)), "bytes/console/op")
}

// BenchmarkConnect10000 measures what a console that connects gets with
// 10,000 callers waiting: from the request until its full render's last
// fragment (chat) has arrived, and the bytes of that render, with the
// default WaitingRows (500 listed) and with every caller listed. No
// History, so no badges: rows as a show without caller history has them.
func BenchmarkConnect10000(b *testing.B) {
	for _, tt := range []struct {
		name string
		rows int
	}{{"waiting_rows=500", 0}, {"waiting_rows=all", 20_000}} {
		b.Run(tt.name, func(b *testing.B) {
			e := webenv.New(b, func(c *core.Config) { c.History, c.WaitingRows = nil, tt.rows })
			for i := range 10_000 {
				e.App.Arrive(fmt.Sprintf("c%05d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
			}
			var got int64
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				s := webtest.OpenSSE(b, e.LiveRequest(b, "producer").WithContext(ctx))
				s.Next(b, webtest.Named("chat"))
				got = s.Read.Load()
				cancel()
			}
			b.ReportMetric(float64(got), "bytes/connect")
		})
	}
}
