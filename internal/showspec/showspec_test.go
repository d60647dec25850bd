package showspec_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/internal/showspec"
	"github.com/callin-radio/callin/postgres"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestLine: the telephony settings of --show survive the trip through
// the database into what the Stasis application runs.
func TestLine(t *testing.T) {
	t.Parallel()
	spec := "am,title=AM Talk,host=PJSIP/studio1,hold=25,ready-check,announce-wait,callback=PJSIP/{number}@trunk," +
		"callback-cid=+1 202 555 0100,callback-offer=3m,callback-near=2,callback-tries=4,callback-gap=90s,callback-ringing=3"
	s, err := showspec.Parse(spec, "n1")
	if err != nil {
		t.Fatal(err)
	}
	sc, _, err := showspec.FromRow(s.Row())
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
	one, err := showspec.Parse("am,hold=0", "n1")
	if err != nil {
		t.Fatal(err)
	}
	if sc, _, _ := showspec.FromRow(one.Row()); sc.HoldBridgeSize >= 0 {
		t.Errorf("hold=0 gave %d, want one bridge (negative)", sc.HoldBridgeSize)
	}
	if def, _ := showspec.Parse("am,callback=PJSIP/{number}@trunk", "n1"); def.Config.Callback.Offer != 5*time.Minute {
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
		// The error names the spec, for the flag's name to go before it.
		if _, err := showspec.Parse(bad, "n1"); err == nil || !strings.HasPrefix(err.Error(), `"`+bad+`": `) {
			t.Errorf("%q: %v, want an error naming the spec", bad, err)
		}
	}
}

// TestTalkback: talkback phones and media are set per show and checked
// (issue 10 point 6); a show names no music class: callin's (issue 9).
func TestTalkback(t *testing.T) {
	t.Parallel()
	s, err := showspec.Parse("morning,talkback-phones=PJSIP/prod1|PJSIP/prod2,talkback-media=sound:back-after-news|recording:promos/friday", "main")
	if err != nil {
		t.Fatal(err)
	}
	if s.MOHClass != "callin" {
		t.Errorf("music class %q, want callin", s.MOHClass)
	}
	if got := strings.Join(s.Talkback.Phones, " "); got != "PJSIP/prod1 PJSIP/prod2" {
		t.Errorf("phones %q", got)
	}
	sc, tb, err := showspec.FromRow(s.Row())
	if err != nil || sc.MOHClass != "callin" || len(tb.Phones) != 2 || len(tb.Media) != 2 {
		t.Errorf("round trip through the database: %+v %+v %v", sc.Config, tb, err)
	}
	if sc, _, _ := showspec.FromRow(postgres.Show{Key: "m", Node: "main"}); sc.MOHClass != "callin" {
		t.Errorf("a stored show without a class: %q", sc.MOHClass)
	}
	// Take next that clears the air first, kept through the database.
	if s, err := showspec.Parse("m,next=drop", "main"); err != nil || s.NextClears != "drop" {
		t.Errorf("next=drop: %+v %v", s.NextClears, err)
	} else if sc, _, err := showspec.FromRow(s.Row()); err != nil || sc.NextClears != "drop" {
		t.Errorf("next=drop through the database: %q %v", sc.NextClears, err)
	}
	for _, bad := range []string{
		"m,talkback-phones=PJSIP/a&PJSIP/b", "m,talkback-phones=PJSIP/a,b",
		"m,talkback-media=sound:/etc/passwd", "m,talkback-media=sound:../x", "m,talkback-phones=",
		"m,next=mute", "m,next=",
	} {
		if _, err := showspec.Parse(bad, "main"); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestParseErrors: each refusal says what was wrong.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, want string }{
		{",title=x", "the key comes first"},
		{"m,colour=red", `unknown setting "colour"`},
		{"m,capacity=-1", "capacity must not be negative"},
		{"m,callback-gap=-1s", "callback-gap must not be negative"},
		{"m,capacity=many", "capacity: strconv.Atoi"},
		{"m,callback-cid=+12025550100", "callback settings need callback=TEMPLATE"},
	} {
		if _, err := showspec.Parse(tc.spec, "main"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.spec, err, tc.want)
		}
	}
	s, err := showspec.Parse("m,closed,node=other,capacity=9,announce=2m", "main")
	if err != nil || s.LinesOpen || s.Node != "other" || s.Capacity != 9 || s.AnnounceEvery != 2*time.Minute || s.Title != "m" {
		t.Errorf("got %+v %v", s, err)
	}
}

// TestLoad: Load keeps the given specs in the shows table, over what was
// stored, and returns the stored shows of this service's nodes only.
func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := pgtest.NewStore(t)
	parse := func(spec string) showspec.Spec {
		t.Helper()
		s, err := showspec.Parse(spec, "main")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := showspec.Load(ctx, store, []showspec.Spec{parse("am,capacity=5"), parse("pm,node=other")}, []string{"main"}, log); err != nil {
		t.Fatal(err)
	}
	// A later start gives am again, changed, and nothing of pm.
	shows, err := showspec.Load(ctx, store, []showspec.Spec{parse("am,capacity=7,talkback-phones=PJSIP/p1")}, []string{"main"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(shows) != 1 || shows[0].Key != "am" || shows[0].Capacity != 7 || len(shows[0].Talkback.Phones) != 1 {
		t.Fatalf("got %+v, want am alone, with capacity 7 and a talkback phone", shows)
	}
	if !strings.Contains(logs.String(), "show=pm node=other") {
		t.Errorf("the show of another node was not logged:\n%s", logs.String())
	}
	// Both instances' nodes: pm too, as stored.
	shows, err = showspec.Load(ctx, store, nil, []string{"main", "other"}, log)
	if err != nil || len(shows) != 2 || shows[1].Key != "pm" || shows[1].Node != "other" {
		t.Fatalf("got %+v %v, want am and pm", shows, err)
	}
}

// TestNodes: studio= names the show's studio (as node= does) and nodes=
// the other nodes whose callers it takes; both survive the database, and
// Load leaves out a node this service does not have, saying so.
func TestNodes(t *testing.T) {
	t.Parallel()
	s, err := showspec.Parse("big,studio=a,nodes=b|c", "main")
	if err != nil || s.Node != "a" || strings.Join(s.Nodes, ",") != "b,c" {
		t.Fatalf("got %+v %v", s, err)
	}
	sc, _, err := showspec.FromRow(s.Row())
	if err != nil || sc.Node != "a" || strings.Join(sc.Nodes, ",") != "b,c" {
		t.Fatalf("from the row: node %q nodes %v %v", sc.Node, sc.Nodes, err)
	}
	if _, err := showspec.Parse("big,nodes=b|c;d", "main"); err == nil {
		t.Error("a bad node name accepted")
	}
	ctx := context.Background()
	var logs bytes.Buffer
	shows, err := showspec.Load(ctx, pgtest.NewStore(t), []showspec.Spec{s}, []string{"a", "b"}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || len(shows) != 1 || strings.Join(shows[0].Nodes, ",") != "b" {
		t.Fatalf("loaded %+v %v, want big on a and b", shows, err)
	}
	if !strings.Contains(logs.String(), "node=c") {
		t.Errorf("the missing node was not logged:\n%s", logs.String())
	}
}
