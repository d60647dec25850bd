package web

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

// BenchmarkFanOut measures how long a transition takes to reach 50 open
// consoles (over HTTP, as SSE) while 600 callers wait: one op is a
// promotion or a hold, timed until every console has the new on-air
// fragment. It includes the RenderEvery coalescing window (25 ms default).
func BenchmarkFanOut(b *testing.B) {
	for _, every := range []time.Duration{25 * time.Millisecond, time.Millisecond} {
		b.Run(fmt.Sprintf("render_every=%v", every), func(b *testing.B) {
			e := newEnv(b, func(c *Config) { c.RenderEvery = every })
			for i := range 600 {
				e.app.arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
			}
			consoles := make([]*sseStream, 50)
			for i := range consoles {
				role := []string{"producer", "screener", "host"}[i%3]
				consoles[i] = openSSE(b, e.liveRequest(b, role))
				consoles[i].next(b, named("waiting", "c599"))
			}
			ctx := context.Background()
			var before int64
			for _, s := range consoles {
				before += s.read.Load()
			}
			b.ResetTimer()
			for i := range b.N {
				var err error
				if i%2 == 0 {
					_, err = e.app.Promote(ctx, "morning", "c000", queue.Actor{})
				} else {
					_, err = e.app.Hold(ctx, "morning", "c000", queue.Actor{})
				}
				if err != nil {
					b.Fatal(err)
				}
				onAir := i%2 == 0
				for _, s := range consoles {
					s.next(b, func(ev sseEvent) bool {
						return ev.Name == "onair" && strings.Contains(ev.Data, "c000") == onAir
					})
				}
			}
			b.StopTimer()
			var after int64
			for _, s := range consoles {
				after += s.read.Load()
			}
			// What a console reads per change (the rows event follows the
			// on-air fragment and may be still on its way: a lower bound).
			b.ReportMetric(float64(after-before)/float64(b.N*len(consoles)), "bytes/console/op")
		})
	}
}

// BenchmarkRenderFragments600 measures rendering every live fragment of a
// show with 600 callers waiting, once for one role.
func BenchmarkRenderFragments600(b *testing.B) {
	app := newFakeApp("morning")
	for i := range 600 {
		app.arrive(fmt.Sprintf("c%03d", i), fmt.Sprintf("+1555%07d", i), fmt.Sprintf("Caller %d", i))
	}
	snap, _ := app.Snapshot("morning")
	v := showView{Snap: snap, Talking: map[string]bool{}}
	p := permsOf("producer")
	var size int
	b.ReportAllocs()
	for b.Loop() {
		f := renderFragments(context.Background(), v, p)
		size = len(bytes.Join([][]byte{f.frags["waiting"], f.frags["next"], f.frags["onair"]}, nil))
	}
	b.ReportMetric(float64(size), "bytes/render")
}
