package broadcast_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// countingStats counts rtp_statistics requests per channel.
type countingStats struct {
	broadcast.Telephony
	mu sync.Mutex
	n  map[string]int
}

func (c *countingStats) RTPStatistics(ctx context.Context, id string) (*ari.RTPStats, error) {
	c.mu.Lock()
	c.n[id]++
	c.mu.Unlock()
	return c.Telephony.RTPStatistics(ctx, id)
}

func (c *countingStats) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

// TestLineQuality: the lines of callers being screened (or ready, picked,
// on air) are measured on a timer; waiting callers only on demand; a Local
// channel has no statistics (trace 16: 403).
func TestLineQuality(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	tel := &countingStats{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password()), n: map[string]int{}}
	e := start(t, srv, broadcast.Config{AnnounceTick: 5 * time.Millisecond, QualityEvery: 5 * time.Millisecond,
		Nodes: []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}}})
	w := e.w("show1")
	w.nodeUp()
	dialSIP := func(number string) (*aritest.Call, string) {
		c, err := srv.Call(ctx, aritest.CallOptions{Args: []string{"show1"}, Number: number, SIP: true})
		if err != nil {
			t.Fatal(err)
		}
		return c, w.transition(c.ID(), queue.ActionJoin).CallID
	}
	screened, sid := dialSIP("+12025550101")
	waiting, wid := dialSIP("+12025550102")
	local, lid := dial(t, srv, w, "show1", "+12025550103")
	if _, err := e.app.Screen(ctx, "show1", sid, producer, "kim"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // two samples of the screened caller's line
		u := w.next("line quality", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateQuality && u.CallID == sid })
		if u.Quality.Grade == "" || u.Quality.At.IsZero() {
			t.Errorf("quality %+v", u.Quality)
		}
	}
	if n := tel.count(waiting.ID()); n != 0 {
		t.Errorf("a waiting caller's line was measured %d times without being asked", n)
	}
	q, err := e.app.LineQuality(ctx, "show1", wid)
	if err != nil || q.Grade == "" {
		t.Errorf("on demand: %+v %v", q, err)
	}
	if _, err := e.app.LineQuality(ctx, "show1", lid); !errors.Is(err, broadcast.ErrNoQuality) {
		t.Errorf("Local channel: %v, want ErrNoQuality", err)
	}
	snap, _ := e.app.Snapshot("show1")
	if snap.Quality[sid].Grade == "" || snap.Quality[wid].Grade == "" {
		t.Errorf("snapshot quality %+v", snap.Quality)
	}
	_, _ = screened, local
}
