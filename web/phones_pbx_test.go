package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestDisallowedPhoneOnARealPBX (issue 21, point 4): on a real Asterisk,
// phones the installation does not allow are never originated: a Local
// channel into the dialplan (Local/5550100@callin-inbound, the show's own
// number: a stand-in for a toll number) and a PJSIP endpoint outside the
// rule (PJSIP/phone4, set to answer, as a trunk would). Screen answers 422
// naming the phone and Asterisk has no new channel; an allowed phone
// (PJSIP/phone1) rings and answers, so the setup itself works.
func TestDisallowedPhoneOnARealPBX(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	logs := &logBuf{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("callin's log:\n%s\nAsterisk's log:\n%s", logs.b.String(), p.LogTail(40))
		}
	})
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "callin", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rule, err := queue.ParsePhoneRule("PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	app, err := broadcast.New(broadcast.Config{
		Nodes:     []broadcast.NodeConfig{{Name: "n1", ARI: client}},
		Shows:     []broadcast.ShowConfig{{Config: queue.Config{Key: "morning", Title: "Morning", Node: "n1", MOHClass: "callin", LinesOpen: true}}},
		Phones:    phoneBook{"sam": "Local/5550100@callin-inbound", "kim": "PJSIP/phone4", "pat": "PJSIP/phone1"},
		PhoneRule: rule, RingTimeout: 5 * time.Second, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	up, err := app.Subscribe("morning")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = app.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.After(20 * time.Second)
	for ok := false; !ok; {
		select {
		case u := <-up.C:
			ok = u.Kind == broadcast.UpdateNode && u.Node.OK()
		case <-deadline:
			t.Fatal("the node did not come up in 20 s")
		}
	}
	up.Close()

	e := newEnv(t, func(c *Config) {
		c.Shows, c.Callers = app, app
		c.Feed = signalledFeed{Feed: BroadcastFeed(app), fake: c.Feed.(*fakeApp)}
	})
	s := openSSE(t, e.eventsRequest(t, ""))
	next := func(what string, within time.Duration, match func(sseEvent) bool) sseEvent {
		t.Helper()
		timeout := time.After(within)
		for {
			select {
			case ev, ok := <-s.ch:
				if !ok {
					t.Fatalf("waiting for %s: the event stream ended", what)
				}
				if match(ev) {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s within %v", what, within)
			}
		}
	}
	channels := func() []string {
		t.Helper()
		code, body, err := p.Get(context.Background(), "/channels")
		if err != nil || code != 200 {
			t.Fatalf("GET /channels: %d %v", code, err)
		}
		var chans []struct{ Name string }
		if err := json.Unmarshal(body, &chans); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range chans {
			names = append(names, c.Name)
		}
		return names
	}

	p.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers})
	p.Phone(t, 4, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers})
	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 1, Rate: 1, PressOne: true, Prefix: "1777"})
	next("the caller joining", 20*time.Second, named("transition", `"action":"join"`))
	snap, err := app.Snapshot("morning")
	if err != nil || len(snap.Lineup.Waiting) != 1 {
		t.Fatalf("line %+v %v, want one waiting", snap.Lineup.Waiting, err)
	}
	caller := snap.Lineup.Waiting[0]
	before := channels()

	for who, phone := range map[string]string{"sam": "Local/5550100@callin-inbound", "kim": "PJSIP/phone4"} {
		res, body := e.api(t, "POST", "/api/v1/shows/morning/callers/"+caller.ID+"/screen", "producer", fmt.Sprintf(`{"screener":%q}`, who))
		msg, _ := body["error"].(map[string]any)
		if text, _ := msg["message"].(string); res.StatusCode != 422 || !strings.Contains(text, phone) || !strings.Contains(text, "not one this installation allows") {
			t.Errorf("screen with %s's %s: %d %v, want 422 naming the phone", who, phone, res.StatusCode, body)
		}
		if after := channels(); len(after) != len(before) {
			t.Fatalf("channels %v after the refused screen with %s, want %v: something was originated", after, phone, before)
		}
	}

	res, body := e.api(t, "POST", "/api/v1/shows/morning/callers/"+caller.ID+"/screen", "producer", `{"screener":"pat"}`)
	if res.StatusCode != 202 {
		t.Fatalf("screen with pat's PJSIP/phone1: %d %v, want 202", res.StatusCode, body)
	}
	next("pat's phone answering", 15*time.Second, named("screening", `"state":"answered"`))
	if snap, _ := app.Snapshot("morning"); len(snap.Lineup.Waiting)+len(snap.Lineup.Screening) != 1 {
		t.Errorf("line %+v, want the one caller (no Local call came in through the dialplan)", snap.Lineup)
	}
}
