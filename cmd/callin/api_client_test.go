package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callin-radio/callin/apiclient"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/web"
	"github.com/callin-radio/callin/web/auth"
)

// TestAPIClientEndToEnd runs a show through the Go client generated from
// the OpenAPI document, against the whole service (fake Asterisk, real
// PostgreSQL): callers arrive, are listed, screened, made ready, put on
// air, held, dropped, taken next, blocked; talkback starts and stops; the
// lines close; and the event stream reports each step, typed by the
// document's Event schema. If the document and the service disagree, this
// does not compile or fails.
func TestAPIClientEndToEnd(t *testing.T) {
	t.Parallel()
	s := startTarget(t, "", "morning,title=Morning,talkback-media=sound:callin/back-after-news", web.DefaultLimits())
	token := s.token(t, "automation", auth.RoleProducer)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bearer := apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	})
	c, err := apiclient.NewClientWithResponses(s.base+"/api/v1", bearer)
	if err != nil {
		t.Fatal(err)
	}
	const show = apiclient.ShowKey("morning")

	// List, then stream from the list's event id (apiclient.Stream, typed
	// events): the stream sees everything after the list, none of it twice.
	before, err := c.ListCallersWithResponse(ctx, show, nil)
	if err := apiclient.Check(before, before.Body, err); err != nil || before.JSON200.EventId == nil {
		t.Fatalf("list callers: %v %s", err, before.Body)
	}
	events := c.Stream(ctx, show, apiclient.StreamOptions{LastEventID: *before.JSON200.EventId})
	defer events.Close()
	// next waits for the stream's next event of a kind, skipping others.
	next := func(name string, match func(apiclient.Event) bool) apiclient.Event {
		t.Helper()
		for {
			ev, err := events.Next()
			if err != nil {
				t.Fatalf("waiting for %s: %v", name, err)
			}
			if ev.Name == name && (match == nil || match(ev.Frame)) {
				return ev.Frame
			}
		}
	}
	transition := func(callID, action string) apiclient.Transition {
		t.Helper()
		ev := next("transition", func(e apiclient.Event) bool {
			tf, err := e.AsTransitionFrame()
			return err == nil && tf.Data.CallId == callID && string(tf.Data.Action) == action
		})
		tf, _ := ev.AsTransitionFrame()
		return tf.Data
	}

	// Two callers arrive and join the line.
	var ids []string
	for _, caller := range []struct{ number, name string }{{"+12025550101", "Ann"}, {"+12025550102", "Bob"}} {
		if _, err := s.pbx.Call(ctx, aritest.CallOptions{Args: []string{"morning"}, Number: caller.number, Name: caller.name}); err != nil {
			t.Fatal(err)
		}
		tr := next("transition", func(e apiclient.Event) bool {
			tf, err := e.AsTransitionFrame()
			return err == nil && tf.Data.Action == apiclient.TransitionActionJoin && tf.Data.Number == caller.number
		})
		tf, _ := tr.AsTransitionFrame()
		ids = append(ids, tf.Data.CallId)
	}
	ann, bob := apiclient.CallId(ids[0]), apiclient.CallId(ids[1])

	waiting := apiclient.CallStateWaiting
	list, err := c.ListCallersWithResponse(ctx, show, &apiclient.ListCallersParams{State: &waiting})
	if err != nil || list.JSON200 == nil {
		t.Fatalf("list callers: %v %v", err, list.Status())
	}
	if got := list.JSON200.Callers; len(got) != 2 || got[0].Id != ids[0] || *got[0].Position != 1 || got[1].Id != ids[1] {
		t.Fatalf("waiting callers: %+v", got)
	}

	screener := "sam"
	if r, err := c.ScreenCallerWithResponse(ctx, show, ann, nil, apiclient.Screen{Screener: &screener}); err != nil || r.JSON200 == nil || r.JSON200.State != apiclient.CallStateScreening {
		t.Fatalf("screen: %v %s", err, body(r))
	}
	transition(ids[0], "screen")
	topic, priority := "buses", 2
	r, err := c.ReadyCallerWithResponse(ctx, show, ann, nil, apiclient.Notes{Topic: &topic, Priority: &priority})
	if err != nil || r.JSON200 == nil || r.JSON200.State != apiclient.CallStateReady || *r.JSON200.Notes.Topic != "buses" {
		t.Fatalf("ready: %v %s", err, body(r))
	}
	if tr := transition(ids[0], "ready"); tr.Notes == nil || *tr.Notes.Topic != "buses" {
		t.Fatalf("ready transition without the notes: %+v", tr)
	}
	if r, err := c.PromoteCallerWithResponse(ctx, show, ann, nil); err != nil || r.JSON200 == nil || r.JSON200.State != apiclient.CallStateOnAir {
		t.Fatalf("promote: %v %s", err, body(r))
	}
	transition(ids[0], "promote")
	if r, err := c.HoldCallerWithResponse(ctx, show, ann, nil); err != nil || r.JSON200 == nil || r.JSON200.State == apiclient.CallStateOnAir {
		t.Fatalf("hold: %v %s", err, body(r))
	}
	transition(ids[0], "hold")
	reason := "off topic"
	if r, err := c.DropCallerWithResponse(ctx, show, ann, nil, apiclient.Drop{Reason: &reason}); err != nil || r.JSON200 == nil {
		t.Fatalf("drop: %v %s", err, body(r))
	}
	// She was on air before: the call counts as aired.
	if tr := transition(ids[0], "drop"); tr.Outcome == nil || *tr.Outcome != apiclient.CallOutcomeAired {
		t.Fatalf("drop transition: %+v outcome %v", tr, deref(tr.Outcome))
	}

	taken, err := c.TakeNextWithResponse(ctx, show, nil)
	if err != nil || taken.JSON200 == nil || taken.JSON200.Id != ids[1] || taken.JSON200.State != apiclient.CallStateOnAir {
		t.Fatalf("take next: %v %s", err, body(taken))
	}
	transition(ids[1], "take_next")
	onAir, err := c.ListOnAirWithResponse(ctx, show)
	if err != nil || onAir.JSON200 == nil || len(onAir.JSON200.Callers) != 1 || onAir.JSON200.Callers[0].Id != ids[1] {
		t.Fatalf("on air: %v %s", err, body(onAir))
	}
	// The screener's notes of a caller on air change; hold all takes him
	// off and he comes back.
	ferries := "ferries"
	if r, err := c.UpdateScreenerNotesWithResponse(ctx, show, bob, nil, apiclient.Notes{Topic: &ferries}); err != nil || r.JSON200 == nil ||
		r.JSON200.State != apiclient.CallStateOnAir || *r.JSON200.Notes.Topic != ferries {
		t.Fatalf("screener notes: %v %s", err, body(r))
	}
	transition(ids[1], "notes")
	if r, err := c.HoldOnAirWithResponse(ctx, show, nil); err != nil || r.JSON200 == nil || len(r.JSON200.Cleared) != 1 || r.JSON200.Cleared[0].Id != ids[1] || len(r.JSON200.Locked) != 0 {
		t.Fatalf("hold all: %v %s", err, body(r))
	}
	transition(ids[1], "hold")
	// With an Idempotency-Key, a retry (the answer lost) gets the first
	// answer again, marked as replayed, where a repeat without one is a
	// 409; the same key with another body is 422.
	key := "promote-bob-1"
	keyed := &apiclient.PromoteCallerParams{IdempotencyKey: &key}
	if r, err := c.PromoteCallerWithResponse(ctx, show, bob, keyed); err != nil || r.JSON200 == nil || r.JSON200.State != apiclient.CallStateOnAir {
		t.Fatalf("promote again: %v %s", err, body(r))
	}
	transition(ids[1], "promote")
	if r, err := c.PromoteCallerWithResponse(ctx, show, bob, keyed); err != nil || r.JSON200 == nil || r.JSON200.State != apiclient.CallStateOnAir ||
		r.HTTPResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("promote retried with its key: %v %s", err, body(r))
	}
	// A refusal is a typed error carrying the problem details.
	var pe *apiclient.Error
	if r, err := c.PromoteCallerWithResponse(ctx, show, bob, nil); !errors.As(apiclient.Check(r, r.Body, err), &pe) ||
		pe.StatusCode != 409 || pe.Problem.Code != apiclient.ProblemCodeConflict || pe.Problem.Type != "urn:callin:problem:conflict" {
		t.Fatalf("promote repeated without a key: %v %s", err, body(r))
	}
	if r, err := c.DropCallerWithResponse(ctx, show, bob, &apiclient.DropCallerParams{IdempotencyKey: &key}, apiclient.Drop{}); err != nil || r.ApplicationproblemJSON422 == nil {
		t.Fatalf("another request with a used key: %v %s", err, body(r))
	}
	pageThroughTransitions(ctx, t, c, show)
	notesWithVersions(ctx, t, c)

	blocked, err := c.BlockNumberWithResponse(ctx, "+12025550102", apiclient.Block{Reason: "abusive"})
	if err != nil || blocked.JSON200 == nil || !blocked.JSON200.Profile.Blocked || *blocked.JSON200.Profile.BlockedReason != "abusive" {
		t.Fatalf("block: %v %s", err, body(blocked))
	}
	if tr := transition(ids[1], "block"); tr.Actor.Kind != apiclient.ActorKindToken || *tr.Actor.Name != "automation" {
		t.Fatalf("block transition by %+v, want the token", tr.Actor)
	}
	if r, err := c.GetCallerWithResponse(ctx, show, bob); err != nil || r.JSON200 == nil || !r.JSON200.Blocked {
		t.Fatalf("blocked caller: %v %s", err, body(r))
	}
	unblocked, err := c.UnblockNumberWithResponse(ctx, "+12025550102")
	if err != nil || unblocked.JSON200 == nil || unblocked.JSON200.Profile.Blocked || unblocked.JSON200.Profile.BlockedBy != nil {
		t.Fatalf("unblock: %v %s", err, body(unblocked))
	}

	media := []string{"sound:callin/back-after-news"}
	if r, err := c.StartTalkbackWithResponse(ctx, show, nil, apiclient.TalkbackStart{Media: &media}); err != nil || r.JSON200 == nil || !r.JSON200.Talkback {
		t.Fatalf("talkback start: %v %s", err, body(r))
	}
	tb := next("talkback", nil)
	if f, err := tb.AsTalkbackFrame(); err != nil || !f.Data.Active {
		t.Fatalf("talkback event: %+v %v", f, err)
	}
	// The fake's message may end before the stop: then there is no
	// talkback left to stop (409), and it ended by itself.
	if r, err := c.StopTalkbackWithResponse(ctx, show, nil); err != nil || (r.JSON200 == nil || r.JSON200.Talkback) && r.ApplicationproblemJSON409 == nil {
		t.Fatalf("talkback stop: %v %s", err, body(r))
	}
	tb = next("talkback", nil)
	if f, err := tb.AsTalkbackFrame(); err != nil || f.Data.Active {
		t.Fatalf("talkback event: %+v %v", f, err)
	}

	if r, err := c.SetLinesWithResponse(ctx, show, apiclient.Lines{Open: false}); err != nil || r.JSON200 == nil || r.JSON200.LinesOpen {
		t.Fatalf("close lines: %v %s", err, body(r))
	}
	if f, err := next("lines", nil).AsLinesFrame(); err != nil || f.Data.Open {
		t.Fatalf("lines event: %+v %v", f, err)
	}
	warn := 5
	if r, err := c.UpdateSettingsWithResponse(ctx, show, nil, apiclient.SettingsChange{OnAirWarningMinutes: &warn}); err != nil || r.JSON200 == nil || r.JSON200.OnAirWarningMinutes != 5 {
		t.Fatalf("settings: %v %s", err, body(r))
	}
	if f, err := next("settings", func(e apiclient.Event) bool {
		f, err := e.AsSettingsFrame()
		return err == nil && f.Data.OnAirWarningMinutes == 5
	}).AsSettingsFrame(); err != nil || f.Data.LinesOpen {
		t.Fatalf("settings event: %+v %v", f, err)
	}

	// One PATCH of two settings is one settings event, with both.
	capacity, warn := 40, 7
	if r, err := c.UpdateSettingsWithResponse(ctx, show, nil, apiclient.SettingsChange{Capacity: &capacity, OnAirWarningMinutes: &warn}); apiclient.Check(r, r.Body, err) != nil {
		t.Fatalf("settings: %v %s", err, r.Body)
	}
	text := "back after the news"
	if r, err := c.PostChatWithResponse(ctx, show, nil, apiclient.MessageText{Text: text}); err != nil || r.JSON200 == nil {
		t.Fatalf("chat: %v %s", err, body(r))
	}
	var settings []apiclient.SettingsFrame
	for done := false; !done; {
		ev, err := events.Next()
		if err != nil {
			t.Fatalf("waiting for the chat: %v", err)
		}
		switch v, _ := ev.Value(); f := v.(type) {
		case apiclient.SettingsFrame:
			settings = append(settings, f)
		case apiclient.ChatFrame:
			done = f.Data.Text == text
		}
	}
	if len(settings) != 1 || settings[0].Data.Capacity != 40 || settings[0].Data.OnAirWarningMinutes != 7 {
		t.Fatalf("one PATCH of two settings sent settings events %+v, want one with both", settings)
	}

	// Resuming after the last event seen gets nothing old; a later event
	// arrives with the next id.
	lastID := events.LastEventID()
	resumed := c.Stream(ctx, show, apiclient.StreamOptions{LastEventID: lastID})
	defer resumed.Close()
	text = "and the weather"
	if r, err := c.PostChatWithResponse(ctx, show, nil, apiclient.MessageText{Text: text}); err != nil || r.JSON200 == nil {
		t.Fatalf("chat: %v %s", err, body(r))
	}
	if ev, err := resumed.Next(); err != nil {
		t.Fatalf("no event after resuming: %v", err)
	} else if cf, err := ev.Frame.AsChatFrame(); ev.Name != "chat" || err != nil || cf.Data.Text != text || cf.Id <= lastID && len(cf.Id) == len(lastID) {
		t.Fatalf("first event after resuming at %s: %s %+v %v", lastID, ev.Name, cf, err)
	}

	hist, err := c.GetCallerHistoryWithResponse(ctx, "+12025550101")
	if err != nil || hist.JSON200 == nil || hist.JSON200.Profile.Number != "+12025550101" {
		t.Fatalf("history: %v %s", err, body(hist))
	}
}

// body is a response's status and body, for failure messages.
func body(r interface {
	Status() string
}) string {
	if r == nil {
		return "no response"
	}
	b, _ := json.Marshal(r)
	return r.Status() + " " + string(b)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// pageThroughTransitions reads today's transitions from the store in one
// page, then one at a time with the generated client, following
// next_cursor to the last page: every transition of the one page comes
// (rows flushed meanwhile may add more), none twice, every page but the
// last is full, and a cursor the list never gave is a 400 naming the
// cursor.
// notesWithVersions writes a caller's notes whole, patches them at the
// version read (the ETag) and is refused, as a typed 412, a patch at a
// version another change has passed: the real store's versions.
func notesWithVersions(ctx context.Context, t *testing.T, c *apiclient.ClientWithResponses) {
	t.Helper()
	const n = "+12025550199"
	put, err := c.PutCallerNotesWithResponse(ctx, n, nil, apiclient.CallerNotesInput{Topic: "buses", Notes: "good talker", Rating: 4})
	if err := apiclient.Check(put, put.Body, err); err != nil {
		t.Fatalf("put notes: %v", err)
	}
	read := put.HTTPResponse.Header.Get("ETag")
	rating := 3
	patched, err := c.PatchCallerNotesWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, n, &apiclient.PatchCallerNotesParams{IfMatch: &read},
		apiclient.CallerNotesPatch{Rating: &rating})
	if err := apiclient.Check(patched, patched.Body, err); err != nil || patched.JSON200.Topic != "buses" || patched.JSON200.Rating != 3 {
		t.Fatalf("patch notes at their version: %v %s", err, patched.Body)
	}
	stale, err := c.PatchCallerNotesWithApplicationMergePatchPlusJSONBodyWithResponse(ctx, n, &apiclient.PatchCallerNotesParams{IfMatch: &read},
		apiclient.CallerNotesPatch{Rating: &rating})
	var pe *apiclient.Error
	if !errors.As(apiclient.Check(stale, stale.Body, err), &pe) || pe.StatusCode != 412 || pe.Problem.Code != apiclient.ProblemCodePreconditionFailed {
		t.Fatalf("patch at a stale version: %v %s", err, stale.Body)
	}
}

func pageThroughTransitions(ctx context.Context, t *testing.T, c *apiclient.ClientWithResponses, show apiclient.ShowKey) {
	t.Helper()
	// The history writer stores transitions in the background and says
	// nothing through the API when it has: poll until three are stored.
	all := 1000
	var whole *apiclient.ListShowTransitionsResponse
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var err error
		whole, err = c.ListShowTransitionsWithResponse(ctx, show, &apiclient.ListShowTransitionsParams{Limit: &all})
		if err != nil || whole.JSON200 == nil || whole.JSON200.HasMore {
			t.Fatalf("transitions in one page: %v %s", err, whole.Body)
		}
		if len(whole.JSON200.Transitions) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transitions not stored within 10 s: %s", whole.Body)
		}
	}
	limit, seen, pages := 1, map[string]bool{}, 0
	params := &apiclient.ListShowTransitionsParams{Limit: &limit}
	for {
		r, err := c.ListShowTransitionsWithResponse(ctx, show, params)
		if err != nil || r.JSON200 == nil || len(r.JSON200.Transitions) > limit {
			t.Fatalf("transitions page %d: %v %s", pages, err, r.Body)
		}
		pages++
		for _, tr := range r.JSON200.Transitions {
			k := fmt.Sprintf("%s/%d", tr.CallId, tr.Seq)
			if seen[k] {
				t.Fatalf("transition %s on two pages", k)
			}
			seen[k] = true
		}
		if !r.JSON200.HasMore {
			if r.JSON200.NextCursor != nil {
				t.Fatalf("last page with a next_cursor %q", *r.JSON200.NextCursor)
			}
			break
		}
		if len(r.JSON200.Transitions) != limit || r.JSON200.NextCursor == nil {
			t.Fatalf("page %d: %d transitions, has_more with cursor %v", pages, len(r.JSON200.Transitions), r.JSON200.NextCursor)
		}
		params.Cursor = r.JSON200.NextCursor
	}
	for _, tr := range whole.JSON200.Transitions {
		if !seen[fmt.Sprintf("%s/%d", tr.CallId, tr.Seq)] {
			t.Fatalf("transition %s/%d of the one page missing from the pages", tr.CallId, tr.Seq)
		}
	}
	if pages != len(seen) {
		t.Fatalf("%d transitions in %d pages of one", len(seen), pages)
	}
	bad := "bm9wZQ"
	r, err := c.ListShowTransitionsWithResponse(ctx, show, &apiclient.ListShowTransitionsParams{Cursor: &bad})
	var pe *apiclient.Error
	if !errors.As(apiclient.Check(r, r.Body, err), &pe) || pe.StatusCode != 400 || pe.Problem.Field == nil || *pe.Problem.Field != "cursor" {
		t.Fatalf("bad cursor: %v %s", err, r.Body)
	}
}
