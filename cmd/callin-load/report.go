package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// report is what a run measured.
type report struct {
	Placed, Admitted, Rejected int
	AdmitTime                  time.Duration // first call placed to last caller waiting
	AdmitLat                   *hist         // call placed to the waiting transition
	Promote, Drop              *hist         // HTTP round trips
	PromoteFailed              map[int]int   // HTTP status -> count
	Promotes, Drops, Hangups   int
	FanOut                     *hist // transition at -> receipt, every API stream
	FanOutOnAir                *hist // the same for on_air transitions only
	Console                    *hist // on_air transition at -> the console's onair fragment naming the caller
	ConsoleKicked              int   // streams that ended before the run did
	APIKicked                  int
	BacklogMax, BacklogEnd     int
	Recorded, Seen, Stored     int // transitions: counted by the service, seen on the first stream, in call_events
	LiveAtAdmit                int
	HeapBase, HeapAdmitted     uint64
	FakeHeap                   uint64 // the fake alone with Callers callers
	FakeMeasured               bool
	CPU                        time.Duration
	Wall                       time.Duration
	Goroutines                 int
	// What the service read from its node (events, REST responses) from
	// the first call placed until the last caller was admitted (ARIAdmit),
	// and over the whole loaded period (ARI); the CPU time and wall time of
	// the admission period; the holding bridges when admission ended.
	ARIAdmit, ARI       ariStats
	CPUAdmit, WallAdmit time.Duration
	HoldBridges         int
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cpuTime is this process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hist is a latency histogram with fixed buckets 2% wide from 1 µs to
// about 20 minutes, so recording never allocates.
type hist struct {
	mu     sync.Mutex
	counts [1100]uint32
	n      int
	max    time.Duration
}

const histGrowth = 1.02

func (h *hist) add(d time.Duration) {
	i := 0
	if d > time.Microsecond {
		i = min(int(math.Log(float64(d)/float64(time.Microsecond))/math.Log(histGrowth))+1, len(h.counts)-1)
	}
	h.mu.Lock()
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile is the upper bound of the bucket holding the q-th sample
// (within 2%), or 0 without samples.
func (h *hist) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(h.n)))
	seen := 0
	for i, c := range h.counts {
		if seen += int(c); seen >= max(rank, 1) {
			return min(time.Duration(float64(time.Microsecond)*math.Pow(histGrowth, float64(i))), h.max)
		}
	}
	return h.max
}

func (h *hist) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *hist) String() string {
	if h.count() == 0 {
		return "none measured"
	}
	return fmt.Sprintf("p50 %s p99 %s max %s (n=%d)", ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(1)), h.count())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// consoleLatency matches each console's first sight of a caller on air
// with that caller's on_air transition.
func (r *report) consoleLatency(onAirAt map[string]time.Time, shown []map[string]time.Time) {
	for _, m := range shown {
		for id, seen := range m {
			if at, ok := onAirAt[id]; ok {
				r.Console.add(seen.Sub(at))
			}
		}
	}
}

func (r *report) print(w io.Writer, c config) {
	perCaller := func(b uint64, n int) string {
		if n == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f B", float64(b)/float64(n))
	}
	admitRate := 0.0
	if r.AdmitTime > 0 {
		admitRate = float64(r.Admitted) / r.AdmitTime.Seconds()
	}
	heap := uint64(0)
	if r.HeapAdmitted > r.HeapBase {
		heap = r.HeapAdmitted - r.HeapBase
	}
	written := "yes"
	// Everything seen on the stream is in PostgreSQL, and the stream saw
	// at least what the service had counted when the load ended.
	if r.Stored != r.Seen || r.Seen < r.Recorded {
		written = "NO"
	}
	fmt.Fprintf(w, "callin-load: %d callers at %g/s, %d API streams, %d console streams, a promote every %s, a hang-up every %s, %s\n",
		c.Callers, c.Rate, c.Consoles, c.Browsers, c.PromoteEvery, c.HangupEvery, holdSize(c.HoldSize))
	fmt.Fprintf(w, "admitted: %d/%d\n", r.Admitted, c.Callers)
	fmt.Fprintf(w, "turned away: %d\n", r.Rejected)
	fmt.Fprintf(w, "time to admit all: %.2fs\n", r.AdmitTime.Seconds())
	fmt.Fprintf(w, "admission rate: %.1f callers/s\n", admitRate)
	fmt.Fprintf(w, "admission latency: %s\n", r.AdmitLat)
	fmt.Fprintf(w, "promotes: %d ok, failed %v\n", r.Promotes, r.PromoteFailed)
	fmt.Fprintf(w, "promote latency: %s\n", r.Promote)
	fmt.Fprintf(w, "drop latency: %s (%d drops, %d hang-ups)\n", r.Drop, r.Drops, r.Hangups)
	fmt.Fprintf(w, "fan-out latency: %s\n", r.FanOut)
	fmt.Fprintf(w, "fan-out latency on_air: %s\n", r.FanOutOnAir)
	fmt.Fprintf(w, "console latency: %s\n", r.Console)
	fmt.Fprintf(w, "streams disconnected: %d API, %d console\n", r.APIKicked, r.ConsoleKicked)
	fmt.Fprintf(w, "history backlog: max %d, at end %d\n", r.BacklogMax, r.BacklogEnd)
	fmt.Fprintf(w, "transitions: %d recorded, %d seen, %d in call_events\n", r.Recorded, r.Seen, r.Stored)
	fmt.Fprintf(w, "all written: %s\n", written)
	fmt.Fprintf(w, "heap per live caller: %s (%d live callers when admission ended; fake Asterisk and load generator included)\n",
		perCaller(heap, r.LiveAtAdmit), r.LiveAtAdmit)
	if r.FakeMeasured {
		// The fake held Callers callers; scale to those live at admission.
		fake := uint64(float64(r.FakeHeap) * float64(r.LiveAtAdmit) / float64(c.Callers))
		svc := uint64(0)
		if heap > fake {
			svc = heap - fake
		}
		fmt.Fprintf(w, "fake Asterisk alone: %s per caller\n", perCaller(r.FakeHeap, c.Callers))
		fmt.Fprintf(w, "service heap per live caller: %s (estimate: the above minus the fake's)\n", perCaller(svc, r.LiveAtAdmit))
	}
	fmt.Fprintf(w, "cpu: %.2fs over %.1fs (%.0f%% of one core), %.2fms per caller\n", r.CPU.Seconds(), r.Wall.Seconds(),
		100*r.CPU.Seconds()/r.Wall.Seconds(), float64(r.CPU)/float64(time.Millisecond)/float64(max(c.Callers, 1)))
	fmt.Fprintf(w, "holding bridges: %d when admission ended\n", r.HoldBridges)
	ev, rest := r.ARIAdmit.Events, r.ARIAdmit.REST
	fmt.Fprintf(w, "ari events during admission: %d events in %d messages, %s\n", ev.Events, ev.Messages, mb(ev.Bytes))
	fmt.Fprintf(w, "ari bytes per admitted caller: %s\n", perCaller(ev.Bytes, r.Admitted))
	fmt.Fprintf(w, "ari events per admitted caller: %s\n", ratio(ev.Events, r.Admitted))
	fmt.Fprintf(w, "ari rest during admission: %d responses, %s of bodies\n", rest.Responses, mb(rest.Bytes))
	fmt.Fprintf(w, "ari rest bytes per admitted caller: %s (%s responses)\n", perCaller(rest.Bytes, r.Admitted), ratio(rest.Responses, r.Admitted))
	fmt.Fprintf(w, "ari, whole run: %d events in %d messages, %s; %d rest responses, %s\n",
		r.ARI.Events.Events, r.ARI.Events.Messages, mb(r.ARI.Events.Bytes), r.ARI.REST.Responses, mb(r.ARI.REST.Bytes))
	if r.WallAdmit > 0 {
		fmt.Fprintf(w, "cpu during admission: %.2fs over %.1fs (%.0f%% of one core), %.2fms per admitted caller\n",
			r.CPUAdmit.Seconds(), r.WallAdmit.Seconds(), 100*r.CPUAdmit.Seconds()/r.WallAdmit.Seconds(),
			float64(r.CPUAdmit)/float64(time.Millisecond)/float64(max(r.Admitted, 1)))
	}
}

// holdSize says how the show's line is split into holding bridges.
func holdSize(n int) string {
	switch {
	case n < 0:
		return "one holding bridge"
	case n == 0:
		return fmt.Sprintf("holding bridges of %d (callin's default)", broadcast.DefaultHoldBridgeSize)
	}
	return fmt.Sprintf("holding bridges of %d", n)
}

func ratio(a uint64, n int) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(n))
}

func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
