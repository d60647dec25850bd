package broadcast_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// BenchmarkAdmit measures admitting a burst of callers into one holding
// bridge (StasisStart, answer, addChannel, ChannelEnteredBridge, Joined)
// against the fake Asterisk over real HTTP and WebSocket.
func BenchmarkAdmit(b *testing.B) {
	for _, n := range []int{600, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				srv := newFake(b, aritest.Options{})
				// The history writer hands transitions on and keeps none: so does
				// this sink (the tests' default one keeps every transition).
				e := start(b, srv, broadcast.Config{SubscriberBuffer: 4 * n, Sink: discard{}})
				w := e.w("show1")
				w.nodeUp()
				b.StartTimer()
				placeCalls(b, srv, w, "show1", n)
				b.StopTimer()
				e.stop()
				srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e3, "µs/caller")
		})
	}
}

// BenchmarkPromote measures a Promote (reserve, addChannel to the on-air
// bridge, its ChannelEnteredBridge, commit) with 600 callers waiting; each
// promoted caller is put back on hold, untimed.
func BenchmarkPromote(b *testing.B) {
	const n = 600
	srv := newFake(b, aritest.Options{})
	e := start(b, srv, broadcast.Config{SubscriberBuffer: 8 * n})
	w := e.w("show1")
	w.nodeUp()
	placeCalls(b, srv, w, "show1", n)
	snap, _ := e.app.Snapshot("show1")
	ctx := context.Background()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		id := snap.Lineup.Waiting[i%n].ID
		i++
		t0 := time.Now()
		if _, err := e.app.Promote(ctx, "show1", id, producer); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		if _, err := e.app.Hold(ctx, "show1", id, producer); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99-ms")
}

// BenchmarkMemoryPerCaller measures the heap each waiting caller costs.
// The fake Asterisk lives in the same process, so the same callers are
// also admitted by a bare consumer (answer + addChannel, keeping nothing):
// service = with App - bare.
func BenchmarkMemoryPerCaller(b *testing.B) {
	const n = 5000
	for b.Loop() {
		withApp := heapPerCaller(b, n, true)
		bare := heapPerCaller(b, n, false)
		b.ReportMetric(withApp, "B/caller-total")
		b.ReportMetric(withApp-bare, "B/caller-service")
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func heapPerCaller(b *testing.B, n int, withApp bool) float64 {
	srv := newFake(b, aritest.Options{})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var before uint64
	if withApp {
		// The history writer hands transitions on and keeps none: so does
		// this sink (the tests' default one keeps every transition).
		e := start(b, srv, broadcast.Config{SubscriberBuffer: 4 * n, Sink: discard{}})
		defer e.stop()
		w := e.w("show1")
		w.nodeUp()
		before = heapInUse()
		placeCalls(b, srv, w, "show1", n)
		// The watcher's buffered updates are the test's, not the service's.
		e.w("show1").sub.Close()
	} else {
		client := newClient(b, srv.URL(), srv.User(), srv.Password())
		conn := client.Connect(ctx, ari.EventOptions{})
		<-conn.Events() // Connected
		// What the fake keeps for the App's way of holding callers, kept
		// here too: the same pool of holding bridges of 50, an explicit
		// subscription per caller, music after each join.
		for i := range n/broadcast.DefaultHoldBridgeSize + 1 {
			if _, err := client.CreateBridge(ctx, fmt.Sprint("hold-", i), ari.BridgeHolding, "hold"); err != nil {
				b.Fatal(err)
			}
		}
		entered := make(chan struct{}, n)
		var wg sync.WaitGroup
		work := make(chan string, n)
		var joined atomic.Int64
		for range 64 {
			wg.Go(func() {
				for id := range work {
					_, _ = client.SubscribeApplication(ctx, "", "channel:"+id)
					_ = client.AnswerChannel(ctx, id)
					bridge := fmt.Sprint("hold-", joined.Add(1)/broadcast.DefaultHoldBridgeSize)
					_ = client.AddChannel(ctx, bridge, ari.AddChannelParams{Channels: []string{id}})
					_ = client.StartBridgeMOH(ctx, bridge, "default")
				}
			})
		}
		go func() {
			for ev := range conn.Events() {
				switch e := ev.(type) {
				case *ari.StasisStart:
					work <- e.Channel.ID
				case *ari.ChannelEnteredBridge:
					entered <- struct{}{}
				}
			}
		}()
		before = heapInUse()
		for i := range n {
			if _, err := srv.Call(ctx, aritest.CallOptions{Args: []string{"show1"}, Number: fmt.Sprintf("555%05d", i)}); err != nil {
				b.Fatal(err)
			}
		}
		for range n {
			<-entered
		}
		close(work)
		wg.Wait()
	}
	after := heapInUse()
	return float64(int64(after)-int64(before)) / float64(n)
}

// discard is a Sink that keeps nothing.
type discard struct{}

func (discard) Record(queue.Transition) {}

// BenchmarkHangupToEnd measures how soon a caller who hangs up while
// waiting is out of the line: from the caller's hang-up (the fake sends
// HangupRequest, LeftBridge, StasisEnd and, the channel being subscribed,
// ChannelDestroyed with the cause) to the hangup transition reaching a
// subscriber, with 600 waiting.
func BenchmarkHangupToEnd(b *testing.B) {
	srv := newFake(b, aritest.Options{})
	subs := watchSubs(newClient(b, srv.URL(), srv.User(), srv.Password()))
	e := start(b, srv, broadcast.Config{SubscriberBuffer: 4096, Sink: discard{},
		Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: subs, Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()
	placeCalls(b, srv, w, "show1", 600)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		c, err := srv.Call(context.Background(), aritest.CallOptions{Args: []string{"show1"}, Number: fmt.Sprint("+1202555", 1000+i)})
		if err != nil {
			b.Fatal(err)
		}
		i++
		w.transition(c.ID(), queue.ActionJoin)
		subs.wait(b, c.ID())
		start := time.Now()
		if err := c.Hangup(17); err != nil {
			b.Fatal(err)
		}
		tr := w.transition(c.ID(), queue.ActionHangup)
		lat = append(lat, time.Since(start))
		if tr.Cause != 17 {
			b.Fatalf("cause %d", tr.Cause)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTalkbackReach measures how long a producer's live line takes,
// from the request (a phone that answers at once), to be heard in every
// holding bridge of the pool (bridges of 50: the line in the first, a relay
// made for each of the others), and, after a stop, until every bridge plays
// its music again: 600 callers (12 bridges) and 5,000 (100).
func BenchmarkTalkbackReach(b *testing.B) {
	for _, n := range []int{600, 5000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchTalkbackReach(b, n) })
	}
}

func benchTalkbackReach(b *testing.B, n int) {
	bridges := (n + broadcast.DefaultHoldBridgeSize - 1) / broadcast.DefaultHoldBridgeSize
	srv := newFake(b, aritest.Options{})
	e := start(b, srv, broadcast.Config{SubscriberBuffer: 8 * n, Sink: discard{}})
	w := e.w("show1")
	w.nodeUp()
	calls := placeCalls(b, srv, w, "show1", n)
	ctx := context.Background()
	var reach, back []time.Duration
	for b.Loop() {
		m := watch(b, e.app, "show1")
		t0 := time.Now()
		must(b, e.app.StartTalkback(ctx, "show1", broadcast.TalkbackOptions{Endpoint: "PJSIP/prod1"}))
		m.next("the line everywhere", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateMedia && u.Media.TalkbackBridges == bridges
		})
		reach = append(reach, time.Since(t0))
		t0 = time.Now()
		must(b, e.app.StopTalkback(ctx, "show1"))
		m.music(true)
		back = append(back, time.Since(t0))
		b.StopTimer()
		for _, c := range calls {
			waitMusic(b, c)
		}
		b.StartTimer()
	}
	slices.Sort(reach)
	slices.Sort(back)
	b.ReportMetric(float64(reach[len(reach)/2].Microseconds())/1e3, "reach-p50-ms")
	b.ReportMetric(float64(reach[len(reach)-1].Microseconds())/1e3, "reach-max-ms")
	b.ReportMetric(float64(back[len(back)/2].Microseconds())/1e3, "music-back-p50-ms")
}
