package aritest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
)

func TestSimulate(t *testing.T) {
	t.Parallel()
	srv := aritest.NewServer(aritest.Options{})
	t.Cleanup(srv.Close)

	t.Run("ErrNoApp", func(t *testing.T) {
		st, err := srv.Simulate(context.Background(), aritest.SimOptions{App: "nobody", Shows: []string{"s"}, Max: 3}, nil)
		if err != nil || st.Failed != 3 || st.Placed != 0 {
			t.Errorf("got %+v, %v; want 3 failed", st, err)
		}
	})

	t.Run("OK", func(t *testing.T) {
		ws := dialEvents(t, srv, "sim", false)
		calls := map[string]*aritest.Call{}
		numbers := map[string]int{}
		st, err := srv.Simulate(context.Background(), aritest.SimOptions{App: "sim", Shows: []string{"a", "b"}, Max: 40, RepeatShare: 0.5, Seed: 7, Patience: time.Hour}, func(c *aritest.Call) {
			calls[c.ID()] = c
		})
		if err != nil || st.Placed != 40 || st.Failed != 0 {
			t.Fatalf("got %+v, %v; want 40 placed", st, err)
		}
		// Every caller entered Stasis with one of the shows as its argument.
		for range 40 {
			ev, _ := ws.waitFor(5*time.Second, ofType("StasisStart"))
			args := ev.Args
			if len(args) != 1 || (args[0] != "a" && args[0] != "b") {
				t.Errorf("args %q, want [a] or [b]", args)
			}
			num := ev.Channel.Caller.Number
			if !strings.HasPrefix(num, "+1") || len(num) != 12 {
				t.Errorf("number %q is not E.164 NANP", num)
			}
			numbers[num]++
			if _, ok := calls[ev.Channel.ID]; !ok {
				t.Errorf("StasisStart for %s, not handed to onCall", ev.Channel.ID)
			}
		}
		for num, n := range numbers {
			if n > 1 {
				t.Errorf("%s calls %d times at once, want once: all 40 stay on the line", num, n)
			}
		}
	})

	// Repeat callers call again once their call is over, under the same
	// name; a number is never in two calls at once (issue 23, point 10:
	// the demo showed one number four times under different names).
	t.Run("RepeatsOneAtATime", func(t *testing.T) {
		ws := dialEvents(t, srv, "repeats", false)
		const max = 150
		done := make(chan error, 1)
		go func() {
			_, err := srv.Simulate(context.Background(), aritest.SimOptions{App: "repeats", Shows: []string{"a"}, Max: max,
				RepeatShare: 0.9, Seed: 3, Patience: 3 * time.Millisecond, Concurrency: 16}, nil)
			done <- err
		}()
		live, names, byChan := map[string]int{}, map[string]string{}, map[string]string{}
		repeats := 0
		for ended := 0; ended < max; {
			ev, _ := ws.waitFor(5*time.Second, func(e wireEvent) bool { return e.Type == "StasisStart" || e.Type == "StasisEnd" })
			if ev.Type == "StasisEnd" {
				live[byChan[ev.Channel.ID]]--
				ended++
				continue
			}
			num, name := ev.Channel.Caller.Number, ev.Channel.Caller.Name
			byChan[ev.Channel.ID] = num
			if live[num]++; live[num] > 1 {
				t.Errorf("%s is in %d calls at once", num, live[num])
			}
			if was, seen := names[num]; seen {
				repeats++
				if was != name {
					t.Errorf("%s called as %q, then as %q: a number keeps its name", num, was, name)
				}
			}
			names[num] = name
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if repeats == 0 {
			t.Errorf("RepeatShare 0.9 gave no repeat caller in %d", max)
		}
	})

	t.Run("Patience", func(t *testing.T) {
		ws := dialEvents(t, srv, "impatient", false)
		_, err := srv.Simulate(context.Background(), aritest.SimOptions{App: "impatient", Shows: []string{"a"}, Max: 5, Patience: time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			ws.waitFor(5*time.Second, ofType("StasisEnd"))
		}
	})

	t.Run("StopsOnCancel", func(t *testing.T) {
		dialEvents(t, srv, "forever", false)
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		_, err := srv.Simulate(ctx, aritest.SimOptions{App: "forever", Shows: []string{"a"}, Rate: 1000}, func(*aritest.Call) {
			if n++; n == 10 {
				cancel()
			}
		})
		if err != context.Canceled || n < 10 {
			t.Errorf("got n=%d err=%v, want >=10 and context.Canceled", n, err)
		}
	})
}
