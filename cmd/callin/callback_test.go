package main

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/prompts"
	"github.com/callin-radio/callin/queue"
)

// TestServeCallback is issue 14 at the service level (fake Asterisk over
// HTTP/WebSocket, real PostgreSQL): a caller presses 2, hangs up and keeps
// their place; is called back at the front; presses 1 and is back at their
// place; a number that stays busy ends unreached, its place freed; a
// withheld number is never offered; the history has every attempt.
func TestServeCallback(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	sounds := maps.Clone(aritest.DefaultSounds)
	for _, name := range prompts.Names() {
		sounds[name] = 300 * time.Millisecond
	}
	pbx := aritest.NewServer(aritest.Options{Sounds: sounds})
	t.Cleanup(pbx.Close)
	pbx.SetPhone("PJSIP/+12025550103@carrier", aritest.Phone{Reject: 486})
	var mu sync.Mutex
	offered := map[string]bool{}
	takers := map[string]bool{}
	pbx.SetPlayListener(func(chanID, media string) {
		c, ok := pbx.Caller(chanID)
		if !ok {
			return
		}
		switch media {
		case "sound:callin-callback-offer":
			mu.Lock()
			offered[chanID] = true
			take := takers[chanID]
			mu.Unlock()
			if take {
				_ = c.DTMF("2")
			}
		case "sound:callin-callback-return":
			_ = c.DTMF("1")
		}
	})
	sv := startService(t, pbx, dbURL, "announce=300ms", "callback=PJSIP/{number}@carrier", "callback-offer=1ms",
		"callback-near=1", "callback-tries=2", "callback-gap=200ms")
	ctx := context.Background()
	call := func(number string, take bool) (*aritest.Call, queue.Call) {
		t.Helper()
		c, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"live"}, Number: number})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		takers[c.ID()] = take
		mu.Unlock()
		return c, sv.waitCaller(c.ID(), true)
	}
	// Three callers taken off the line: the show has a pace to estimate by.
	for _, n := range []string{"+12025550901", "+12025550902", "+12025550903"} {
		_, c := call(n, false)
		if code := sv.api(http.MethodPost, "/shows/live/callers/"+c.ID+"/promote", map[string]any{}, nil); code != http.StatusOK {
			t.Fatalf("promote: %d", code)
		}
		if code := sv.api(http.MethodPost, "/shows/live/callers/"+c.ID+"/drop", map[string]any{}, nil); code != http.StatusOK {
			t.Fatalf("drop: %d", code)
		}
	}
	_, front := call("+12025550101", false)
	b, bCall := call("+12025550102", true)
	c, cCall := call("+12025550103", true)
	anon, _ := call("anonymous", true)

	// B and C press 2 and hang up; they keep their places.
	entry := sv.waitState(bCall.ID, queue.StateCallback)
	if entry.Position != 2 || entry.Callback == nil {
		t.Fatalf("B: %+v, want a call-back entry at 2", entry)
	}
	sv.waitState(cCall.ID, queue.StateCallback)
	for _, x := range []*aritest.Call{b, c} {
		select {
		case <-x.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("a caller who took the call-back was not hung up")
		}
	}
	// The front caller goes on air: B is at the front and is called back,
	// presses 1 and is waiting again, at the front.
	if code := sv.api(http.MethodPost, "/shows/live/callers/"+front.ID+"/promote", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("promote: %d", code)
	}
	back := sv.waitState(bCall.ID, queue.StateWaiting)
	if back.Position != 1 || back.ChannelID == b.ID() {
		t.Errorf("B back as %+v, want waiting at 1 on a new channel", back)
	}
	// C is called (busy) twice and ends unreached once B goes on air.
	if code := sv.api(http.MethodPost, "/shows/live/callers/"+bCall.ID+"/promote", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("promote B: %d", code)
	}
	if outcome, _ := dbCall(t, dbURL, cCall.ID); outcome != string(queue.OutcomeUnreached) {
		t.Errorf("C ended %s, want unreached", outcome)
	}
	mu.Lock()
	if offered[anon.ID()] {
		t.Error("a withheld number was offered a call-back")
	}
	mu.Unlock()

	// The history has every step of both.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	actions := func(id string) []string {
		rows, err := conn.Query(ctx, `SELECT action FROM call_events WHERE call_id = $1 ORDER BY seq`, id)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for id, want := range map[string][]string{
		bCall.ID: {queue.ActionCallbackRequest, queue.ActionCallbackDial, queue.ActionCallbackReturn},
		cCall.ID: {queue.ActionCallbackRequest, queue.ActionCallbackDial, queue.ActionCallbackMiss, queue.ActionCallbackDial, queue.ActionCallbackMiss},
	} {
		got := []string{}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			got = slices.DeleteFunc(actions(id), func(a string) bool { return !strings.HasPrefix(a, "callback") })
			if slices.Equal(got, want) {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("history of %s: %v, want %v", id, got, want)
		}
	}
}

// waitState waits until the API shows a call in state st (a call-back entry
// has no channel, so it is found by id), for at most 15 s.
func (sv *service) waitState(callID string, st queue.State) queue.Call {
	sv.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		for _, c := range sv.callers() {
			if c.ID == callID && c.State == st {
				return c
			}
		}
		if time.Now().After(deadline) {
			sv.t.Fatalf("call %s never %s", callID, st)
		}
	}
}
