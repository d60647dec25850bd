package broadcast_test

import (
	"context"
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

// screened waits for the end of call id's screening on a phone: the
// UpdateScreening that is not ringing.
func (w *watcher) screened(id string) broadcast.Screening {
	w.t.Helper()
	return w.next("screening outcome", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateScreening && u.Screening.CallID == id && u.Screening.State != broadcast.ScreenRinging
	}).Screening
}

// screen screens call id with a screener whose phone answers, and waits
// until the two are bridged.
func screen(t testing.TB, e *env, w *watcher, id, screener string) {
	t.Helper()
	if _, err := e.app.Screen(context.Background(), "show1", id, producer, screener); err != nil {
		t.Fatal(err)
	}
	if sc := w.screened(id); sc.State != broadcast.ScreenAnswered {
		t.Fatalf("screening %s, want answered", sc.State)
	}
}

// TestScreenPhone: Screen rings the screener's phone and returns at once,
// the caller reserved (pending "screen") and keeping the music and their
// place; once it answers both are bridged privately. A phone that is busy,
// unavailable, unanswered or unreachable (trace 13) leaves the caller on
// hold, unchanged, and the screening update says which; the snapshot keeps
// it until the call moves on.
func TestScreenPhone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		phone aritest.Phone
		want  broadcast.ScreenState
		cause int
	}{
		{"Answered", aritest.Phone{Ring: 50 * time.Millisecond}, broadcast.ScreenAnswered, 0},
		{"Busy", aritest.Phone{Ring: 20 * time.Millisecond, Reject: 486}, broadcast.ScreenBusy, 17},
		{"Unavailable", aritest.Phone{Ring: 20 * time.Millisecond, Reject: 480}, broadcast.ScreenUnavailable, 19},
		{"NoAnswer", aritest.Phone{NoAnswer: true}, broadcast.ScreenNoAnswer, 19},
		{"Unreachable", aritest.Phone{Unreachable: true}, broadcast.ScreenUnreachable, 19},
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
			if err != nil || got.State != queue.StateWaiting || got.Pending != queue.ActionScreen {
				t.Fatalf("screen: %s pending %q, %v; want waiting with screen pending", got.State, got.Pending, err)
			}
			ringing := w.next("ringing", func(u broadcast.Update) bool { return u.Kind == broadcast.UpdateScreening }).Screening
			if ringing.State != broadcast.ScreenRinging || ringing.CallID != id || ringing.Screener != "sam" || ringing.Phone != "PJSIP/sam" || ringing.Number != "2" {
				t.Errorf("first screening update %+v, want sam's phone ringing for call %s", ringing, id)
			}
			sc := w.screened(id)
			if sc.State != tc.want || sc.Cause != tc.cause {
				t.Fatalf("screening %s cause %d, want %s cause %d", sc.State, sc.Cause, tc.want, tc.cause)
			}
			call, _ := e.app.Call("show1", id)
			snap, _ := e.app.Snapshot("show1")
			if tc.want == broadcast.ScreenAnswered {
				if call.State != queue.StateScreening || call.Screener != "sam" || call.Pending != "" {
					t.Fatalf("answered: call %s with %q pending %q, want screening with sam", call.State, call.Screener, call.Pending)
				}
				members, _ := srv.BridgeChannels("callin-show1-scr-" + id)
				if len(members) != 2 || !contains(members, c.ID()) {
					t.Errorf("screening bridge has %v, want the caller and the screener's phone", members)
				}
				if _, ok := snap.Screenings[id]; ok {
					t.Errorf("snapshot keeps %+v after the answer", snap.Screenings[id])
				}
				return
			}
			if call.State != queue.StateWaiting || call.Pending != "" || call.Position != 2 {
				t.Errorf("caller %s pending %q at %d, want waiting at 2 with nothing pending", call.State, call.Pending, call.Position)
			}
			if kept := snap.Screenings[id]; kept.State != tc.want {
				t.Errorf("snapshot screening %+v, want %s kept", kept, tc.want)
			}
			waitMusic(t, c)
			if st, _ := first.State(); !st.HearsMusic {
				t.Error("the first caller lost the music")
			}
			if _, ok := srv.BridgeChannels("callin-show1-scr-" + id); ok {
				t.Error("a screening bridge was left behind")
			}
			// The caller's next transition clears the news.
			if _, err := e.app.Ready(ctx, "show1", id, producer, queue.Notes{}); err != nil {
				t.Fatal(err)
			}
			if snap, _ := e.app.Snapshot("show1"); len(snap.Screenings) != 0 {
				t.Errorf("snapshot screenings %+v after the caller moved on, want none", snap.Screenings)
			}
		})
	}
}

// TestScreenCallerHangsUpWhileRinging: a caller who hangs up while the
// screener's phone rings ends their call; the phone stops ringing and the
// screening says the caller is gone.
func TestScreenCallerHangsUpWhileRinging(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/sam", aritest.Phone{NoAnswer: true})
	e := start(t, srv, broadcast.Config{Phones: phones{"sam": "PJSIP/sam"}, RingTimeout: time.Hour})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	if _, err := e.app.Screen(context.Background(), "show1", id, producer, "sam"); err != nil {
		t.Fatal(err)
	}
	must(t, c.Hangup(16))
	if sc := w.screened(id); sc.State != broadcast.ScreenCallerGone {
		t.Fatalf("screening %s, want caller_gone", sc.State)
	}
	chans, err := newClient(t, srv.URL(), srv.User(), srv.Password()).ListChannels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		if strings.HasPrefix(ch.ID, "callin-scr-") {
			t.Errorf("the screener's phone %s still rings", ch.ID)
		}
	}
	if snap, _ := e.app.Snapshot("show1"); len(snap.Screenings) != 0 {
		t.Errorf("snapshot screenings %+v, want none", snap.Screenings)
	}
}

// TestScreenerHangsUp: when the screener hangs up, the caller goes back on
// hold, waiting, at their place: never left in a silent bridge.
func TestScreenerHangsUp(t *testing.T) {
	t.Parallel()
	srv := newFake(t, aritest.Options{})
	srv.SetPhone("PJSIP/sam", aritest.Phone{HangupAfter: 20 * time.Second}) // 200 ms at the fake's time scale
	e := start(t, srv, broadcast.Config{Phones: phones{"sam": "PJSIP/sam"}})
	w := e.w("show1")
	w.nodeUp()
	c, id := dial(t, srv, w, "show1", "1")
	screen(t, e, w, id, "sam")
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
