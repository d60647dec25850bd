package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// phones is a Phones from a map.
type phones map[string]string

func (p phones) Phone(user string) (string, bool) { ep, ok := p[user]; return ep, ok }

// TestScreenPhone: Screen rings the screener's phone while the caller keeps
// the music and their place; once it answers both are bridged privately.
// A phone that is busy, unanswered or unreachable (trace 13) leaves the
// caller on hold, unchanged, with a message that says which.
func TestScreenPhone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		phone aritest.Phone
		want  string // "" for answered, else in the error
	}{
		{"Answered", aritest.Phone{Ring: 50 * time.Millisecond}, ""},
		{"Busy", aritest.Phone{Ring: 20 * time.Millisecond, Reject: 486}, "is busy"},
		{"Unavailable", aritest.Phone{Ring: 20 * time.Millisecond, Reject: 480}, "did not answer"},
		{"NoAnswer", aritest.Phone{NoAnswer: true}, "did not answer"},
		{"Unreachable", aritest.Phone{Unreachable: true}, "did not answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := newFake(t, aritest.Options{})
			srv.SetPhone("PJSIP/sam", tc.phone)
			e := start(t, srv, broadcast.Config{Phones: phones{"sam": "PJSIP/sam"}, RingTimeout: time.Second})
			w := e.w("show1")
			w.nodeUp()
			first, _ := dial(t, srv, w, "show1", "1")
			c, id := dial(t, srv, w, "show1", "2")
			got, err := e.app.Screen(ctx, "show1", id, producer, "sam")
			if tc.want == "" {
				if err != nil || got.State != queue.StateScreening {
					t.Fatalf("screen: %s %v, want screening", got.State, err)
				}
				members, _ := srv.BridgeChannels("callin-show1-scr-" + id)
				if len(members) != 2 || !contains(members, c.ID()) {
					t.Errorf("screening bridge has %v, want the caller and the screener's phone", members)
				}
				return
			}
			if !errors.Is(err, broadcast.ErrPhone) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("screen: %v, want ErrPhone saying %q", err, tc.want)
			}
			call, _ := e.app.Call("show1", id)
			if call.State != queue.StateWaiting || call.Pending != "" || call.Position != 2 {
				t.Errorf("caller %s pending %q at %d, want waiting at 2 with nothing pending", call.State, call.Pending, call.Position)
			}
			waitMusic(t, c)
			if st, _ := first.State(); !st.HearsMusic {
				t.Error("the first caller lost the music")
			}
			if _, ok := srv.BridgeChannels("callin-show1-scr-" + id); ok {
				t.Error("a screening bridge was left behind")
			}
		})
	}
}

// TestScreenerHangsUp: when the screener hangs up, the caller goes back on
// hold, waiting, at their place: never left in a silent bridge.
func TestScreenerHangsUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/sam", aritest.Phone{HangupAfter: 20 * time.Second}) // 200 ms at the fake's time scale
	e := start(t, srv, broadcast.Config{Phones: phones{"sam": "PJSIP/sam"}})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	if _, err := e.app.Screen(ctx, "show1", id, producer, "sam"); err != nil {
		t.Fatal(err)
	}
	tr := w.next("back to hold", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateTransition && u.Transition.CallID == id && u.Transition.To == queue.StateWaiting
	}).Transition
	if tr.Actor != queue.System || tr.From != queue.StateScreening {
		t.Errorf("got %s from %s by %v, want hold from screening by the system", tr.Action, tr.From, tr.Actor)
	}
	waitMusic(t, c)
}

// TestScreenWithoutPhone: a screener without a phone screens from the
// console: the caller is marked screening and keeps the music; Ready
// leaves them where they are.
func TestScreenWithoutPhone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	e := start(t, srv, broadcast.Config{})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	waitMusic(t, c) // the music starts just after the join
	before, _ := c.State()
	if got, err := e.app.Screen(ctx, "show1", id, producer, "kim"); err != nil || got.State != queue.StateScreening {
		t.Fatalf("screen: %s %v", got.State, err)
	}
	if st, _ := c.State(); st.Bridge != before.Bridge || !st.HearsMusic {
		t.Errorf("caller in %q (music %t), want still in %q with music", st.Bridge, st.HearsMusic, before.Bridge)
	}
	if got, err := e.app.Ready(ctx, "show1", id, producer, queue.Notes{Topic: "roads"}); err != nil || got.State != queue.StateReady {
		t.Fatalf("ready: %s %v", got.State, err)
	}
	if st, _ := c.State(); st.Bridge != before.Bridge || !st.HearsMusic {
		t.Errorf("ready caller in %q (music %t), want still in %q with music", st.Bridge, st.HearsMusic, before.Bridge)
	}
}
