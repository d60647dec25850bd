package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/webtest"
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
	rule, err := queue.ParsePhoneRule("PJSIP/phone1")
	if err != nil {
		t.Fatal(err)
	}
	e, app, next := pbxConsole(t, p, func(c *broadcast.Config) {
		c.Phones, c.PhoneRule, c.RingTimeout = phoneBook{"sam": "Local/5550100@callin-inbound", "kim": "PJSIP/phone4", "pat": "PJSIP/phone1"}, rule, 5*time.Second
	})
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
	next("the caller joining", 20*time.Second, webtest.Named("transition", `"action":"join"`))
	snap, err := app.Snapshot("morning")
	if err != nil || len(snap.Lineup.Waiting) != 1 {
		t.Fatalf("line %+v %v, want one waiting", snap.Lineup.Waiting, err)
	}
	caller := snap.Lineup.Waiting[0]
	before := channels()

	for who, phone := range map[string]string{"sam": "Local/5550100@callin-inbound", "kim": "PJSIP/phone4"} {
		res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/"+caller.ID+"/screen", "producer", fmt.Sprintf(`{"screener":%q}`, who))
		if text, _ := body["detail"].(string); res.StatusCode != 422 || !strings.Contains(text, phone) || !strings.Contains(text, "not one this installation allows") {
			t.Errorf("screen with %s's %s: %d %v, want 422 naming the phone", who, phone, res.StatusCode, body)
		}
		if after := channels(); len(after) != len(before) {
			t.Fatalf("channels %v after the refused screen with %s, want %v: something was originated", after, phone, before)
		}
	}

	res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/"+caller.ID+"/screen", "producer", `{"screener":"pat"}`)
	if res.StatusCode != 202 {
		t.Fatalf("screen with pat's PJSIP/phone1: %d %v, want 202", res.StatusCode, body)
	}
	next("pat's phone answering", 15*time.Second, webtest.Named("screening", `"state":"answered"`))
	if snap, _ := app.Snapshot("morning"); len(snap.Lineup.Waiting)+len(snap.Lineup.Screening) != 1 {
		t.Errorf("line %+v, want the one caller (no Local call came in through the dialplan)", snap.Lineup)
	}
}
