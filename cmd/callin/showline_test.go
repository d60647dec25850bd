package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestShowSpecLine: the telephony settings of --show survive the trip
// through the database into what the Stasis application runs.
func TestShowSpecLine(t *testing.T) {
	t.Parallel()
	spec := "am,title=AM Talk,host=PJSIP/studio1,hold=25,ready-check,announce-wait,callback=PJSIP/{number}@trunk," +
		"callback-cid=+1 202 555 0100,callback-offer=3m,callback-near=2,callback-tries=4,callback-gap=90s,callback-ringing=3"
	s, err := parseShow(spec, "n1")
	if err != nil {
		t.Fatal(err)
	}
	sc, _, err := showFromRow(s.row())
	if err != nil {
		t.Fatal(err)
	}
	want := broadcast.ShowConfig{HostEndpoint: "PJSIP/studio1", HoldBridgeSize: 25,
		CallbackLine: broadcast.CallbackLine{Dial: "PJSIP/{number}@trunk", CallerID: `"AM Talk" <+12025550100>`}}
	if sc.HostEndpoint != want.HostEndpoint || sc.HoldBridgeSize != want.HoldBridgeSize || sc.CallbackLine != want.CallbackLine || !sc.ReadyCheck || !sc.AnnounceWait {
		t.Errorf("got %+v", sc)
	}
	if got, w := sc.Config.Callback, (queue.CallbackConfig{Offer: 3 * time.Minute, NearFront: 2, Attempts: 4, Gap: 90 * time.Second, MaxRinging: 3}); got != w {
		t.Errorf("call-back %+v, want %+v", got, w)
	}
	one, err := parseShow("am,hold=0", "n1")
	if err != nil {
		t.Fatal(err)
	}
	if sc, _, _ := showFromRow(one.row()); sc.HoldBridgeSize >= 0 {
		t.Errorf("hold=0 gave %d, want one bridge (negative)", sc.HoldBridgeSize)
	}
	if def, _ := parseShow("am,callback=PJSIP/{number}@trunk", "n1"); def.Config.Callback.Offer != 5*time.Minute {
		t.Errorf("default offer %v, want 5m", def.Config.Callback.Offer)
	}
	for _, bad := range []string{
		"am,host=PJSIP/x&Local/y",
		"am,callback=PJSIP/+1900555@trunk",                // no {number}: a fixed number
		"am,callback=PJSIP/{number}@trunk,b(evil)",        // not a setting
		"am,callback=PJSIP/{number}@trunk;x",              // separator
		"am,callback-offer=5m",                            // no template
		"am,callback=PJSIP/{number}@trunk,callback-cid=x", // not a number
		"am,hold=-3",
		"a/b,title=Folder",
	} {
		if _, err := parseShow(bad, "n1"); err == nil || !strings.Contains(err.Error(), "--show") {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}

// TestAdminDoesNotLeakPasswords: the administration commands name a bad
// database without its password, in URL or keyword form.
func TestAdminDoesNotLeakPasswords(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgres://callin:s3cr%2Fet@127.0.0.1:1/callin?connect_timeout=1",
		"host=127.0.0.1 port=1 user=callin password='sp ace s3cret' connect_timeout=1",
		"host=127.0.0.1 port=x user=callin password='sp ace s3cret'", // does not parse
		"postgres://callin:s3cr/et@127.0.0.1:1/callin",               // does not parse
	} {
		var out, errOut strings.Builder
		err := run(context.Background(), []string{"user", "list"}, strings.NewReader(""), &out, &errOut,
			envMap(map[string]string{"CALLIN_DATABASE_URL": dsn}))
		if err == nil {
			t.Fatalf("%s: no error", dsn)
		}
		for _, secret := range []string{"s3cr", "s3cret", "sp ace"} {
			if strings.Contains(err.Error(), secret) || strings.Contains(errOut.String(), secret) {
				t.Errorf("the password leaks: %v / %s", err, errOut.String())
			}
		}
	}
}
