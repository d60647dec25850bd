package queue_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
)

const benchCallers = 10000

// benchShow returns a show with n callers waiting, ids w0..w<n-1>, arrived
// one millisecond apart.
func benchShow(b *testing.B, n int) *queue.Show {
	b.Helper()
	s, err := queue.NewShow(queue.Config{Key: "bench", LinesOpen: true, AnnounceEvery: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprint("w", i)
		now := t0.Add(time.Duration(i) * time.Millisecond)
		if _, err := s.Arrive(now, queue.Arrival{CallID: id, Number: "+15550000000", ChannelID: "1700000000." + id}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Joined(now, id); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func randomIDs(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint("w", rng.IntN(n))
	}
	return ids
}

// BenchmarkArrive measures Arrive plus Joined with 10,000 to 20,000 callers
// waiting (the show is rebuilt, off the clock, every 10,000 arrivals).
func BenchmarkArrive(b *testing.B) {
	s := benchShow(b, benchCallers)
	now := t0.Add(time.Hour)
	n := 0
	for b.Loop() {
		if n == benchCallers {
			b.StopTimer()
			s, n = benchShow(b, benchCallers), 0
			b.StartTimer()
		}
		id := fmt.Sprint("a", n)
		n++
		if _, err := s.Arrive(now, queue.Arrival{CallID: id, ChannelID: id}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Joined(now, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPosition measures Position of a random caller among 10,000.
func BenchmarkPosition(b *testing.B) {
	s := benchShow(b, benchCallers)
	ids := randomIDs(1 << 12)
	i := 0
	for b.Loop() {
		if _, err := s.Position(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTakeNext measures TakeNext then Abort among 10,000 waiting.
func BenchmarkTakeNext(b *testing.B) {
	s := benchShow(b, benchCallers)
	for b.Loop() {
		tk, err := s.TakeNext(producer)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Abort(tk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTakeNextCommit measures TakeNext and Commit, then Hold and Commit
// of the same caller (back to its place), among 10,000 waiting.
func BenchmarkTakeNextCommitHold(b *testing.B) {
	s := benchShow(b, benchCallers)
	now := t0.Add(time.Hour)
	for b.Loop() {
		tk, err := s.TakeNext(producer)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Commit(now, tk); err != nil {
			b.Fatal(err)
		}
		tk, err = s.Hold(producer, tk.Call.ID)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Commit(now, tk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHold measures Promote+Commit then Hold+Commit of a random caller
// among 10,000 (Hold puts it back at its arrival place).
func BenchmarkHold(b *testing.B) {
	s := benchShow(b, benchCallers)
	ids := randomIDs(1 << 12)
	now := t0.Add(time.Hour)
	i := 0
	for b.Loop() {
		id := ids[i%len(ids)]
		i++
		tk, err := s.Promote(producer, id)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Commit(now, tk); err != nil {
			b.Fatal(err)
		}
		tk, err = s.Hold(producer, id)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.Commit(now, tk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHangup measures Hangup of a random caller with 5,000 to 10,000
// waiting (the show is rebuilt, off the clock, after 5,000 hangups).
func BenchmarkHangup(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	build := func() (*queue.Show, []string) {
		perm := rng.Perm(benchCallers)[:benchCallers/2]
		ids := make([]string, len(perm))
		for i, p := range perm {
			ids[i] = fmt.Sprint("w", p)
		}
		return benchShow(b, benchCallers), ids
	}
	s, ids := build()
	now := t0.Add(time.Hour)
	for b.Loop() {
		if len(ids) == 0 {
			b.StopTimer()
			s, ids = build()
			b.StartTimer()
		}
		if _, _, err := s.Hangup(now, ids[0], 16); err != nil {
			b.Fatal(err)
		}
		ids = ids[1:]
	}
}

// BenchmarkMoveToTop measures MoveToTop of a random caller among 10,000.
func BenchmarkMoveToTop(b *testing.B) {
	s := benchShow(b, benchCallers)
	ids := randomIDs(1 << 12)
	now := t0.Add(time.Hour)
	i := 0
	for b.Loop() {
		if _, _, err := s.MoveToTop(now, producer, ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDueAnnouncements measures handing out and finishing one due
// announcement among 10,000 waiting.
func BenchmarkDueAnnouncements(b *testing.B) {
	s := benchShow(b, benchCallers)
	now := t0.Add(time.Hour)
	for b.Loop() {
		now = now.Add(10 * time.Millisecond) // faster than 10,000 a minute
		due := s.DueAnnouncements(now, 1)
		if len(due) != 1 {
			b.Fatalf("got %d due", len(due))
		}
		if err := s.AnnouncementDone(now, due[0].CallID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList measures the console listing of 10,000 waiting callers.
func BenchmarkList(b *testing.B) {
	s := benchShow(b, benchCallers)
	for b.Loop() {
		if l := s.List(); len(l.Waiting) != benchCallers {
			b.Fatalf("got %d", len(l.Waiting))
		}
	}
}

// BenchmarkMemory reports the heap bytes a show holds per waiting caller
// (10,000 callers, ids and numbers of realistic length).
func BenchmarkMemory(b *testing.B) {
	var perCaller float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := benchShow(b, benchCallers)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perCaller = float64(after.HeapAlloc-before.HeapAlloc) / benchCallers
		runtime.KeepAlive(s)
	}
	b.ReportMetric(perCaller, "bytes/caller")
}

// BenchmarkDueCallbacks measures the show loop's call-back check at 10,000
// waiting callers of whom 1,000 are call-back entries spread through the
// line, none near the front: it walks only the front of the line, so
// waiting callers and entries cost nothing per tick.
func BenchmarkDueCallbacks(b *testing.B) {
	s, err := queue.NewShow(queue.Config{Key: "bench", LinesOpen: true, AnnounceEvery: time.Minute,
		Callback: queue.CallbackConfig{Offer: time.Nanosecond}})
	if err != nil {
		b.Fatal(err)
	}
	now := t0
	for i := range 4 { // a rate for the estimated wait
		id := fmt.Sprint("t", i)
		_, _ = s.Arrive(now, queue.Arrival{CallID: id, Number: "+15550000000", ChannelID: "ch-" + id})
		_, _, _ = s.Joined(now, id)
		tk, _ := s.Promote(queue.System, id)
		_, _, _ = s.Commit(now, tk)
	}
	for i := range benchCallers {
		id := fmt.Sprint("w", i)
		_, _ = s.Arrive(now, queue.Arrival{CallID: id, Number: "+15550000000", ChannelID: "ch-" + id})
		_, _, _ = s.Joined(now, id)
	}
	now = now.Add(time.Hour)
	for _, a := range s.DueAnnouncements(now, 0) {
		_ = s.AnnouncementDone(now, a.CallID)
	}
	for i := 100; i < benchCallers; i += 10 {
		if _, _, err := s.RequestCallback(now, fmt.Sprint("w", i)); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if due, _ := s.DueCallbacks(now); len(due) != 0 {
			b.Fatalf("%d due", len(due))
		}
	}
}
