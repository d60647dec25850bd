package console_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestNodesOnTheConsole: a show across nodes says each caller's node and
// each node's load; a show on one node shows neither (as before).
func TestNodesOnTheConsole(t *testing.T) {
	e := webenv.New(t)
	e.App.Arrive("c0", "+15550000", "Zed")
	_, body := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	for _, gone := range []string{`data-testid="call-node"`, `data-testid="node-loads"`, `data-testid="studio-lost"`} {
		if strings.Contains(body, gone) {
			t.Fatalf("one node: page has %s", gone)
		}
	}

	e = webenv.New(t)
	webenv.SpreadApp(e)
	_, body = e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if !strings.Contains(body, "nodes: A 212/600 studio · B 600/600 full") {
		t.Fatalf("no node loads in words: %s", body)
	}
	for _, row := range []string{`>node A</span>`, `>node B</span>`} {
		if !strings.Contains(body, row) {
			t.Fatalf("no %s on a row", row)
		}
	}
	if strings.Contains(body, `data-testid="studio-lost"`) {
		t.Fatal("banner while the studio is up")
	}
}

// TestNodeNamesEscaped: node names are configuration, still escaped.
func TestNodeNamesEscaped(t *testing.T) {
	e := webenv.New(t)
	e.App.Mu.Lock()
	e.App.Nodes = []broadcast.NodeLoad{{Node: webtest.Hostile, Studio: true, State: broadcast.NodeUp}, {Node: "B", State: broadcast.NodeUp}}
	e.App.Studio = broadcast.StudioState{Node: webtest.Hostile, State: broadcast.NodeDown, Lost: true}
	e.App.Mu.Unlock()
	e.App.ArriveOn("c1", "+15550001", "Ann", webtest.Hostile)
	_, body := e.Console(t, "GET", "/shows/morning", "producer", "", false)
	if strings.Contains(body, webtest.Hostile) || !strings.Contains(body, "node &lt;script&gt;") {
		t.Fatalf("node name not escaped")
	}
}

// TestStudioLostBanner: the studio lost, every console (each role's, the
// host view too) says so live; producers get a button per node up that
// can take over, others none; naming one goes through the audited
// controls and the banner goes.
func TestStudioLostBanner(t *testing.T) {
	var logs webtest.SyncBuffer
	e := webenv.New(t, func(c *core.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	webenv.SpreadApp(e)
	roles := []string{"producer", "screener", "host"}
	var consoles []*webtest.Stream
	for _, role := range roles {
		s := webtest.OpenSSE(t, e.LiveRequest(t, role))
		s.Next(t, webtest.Named("header", "nodes: A 212/600"))
		consoles = append(consoles, s)
	}
	e.App.SetLoad(broadcast.NodeLoad{Node: "B", State: broadcast.NodeUp, Held: 590, Capacity: 600})
	for _, s := range consoles {
		s.Next(t, webtest.Named("header", "B 590/600<"))
	}
	e.App.SetStudioState(broadcast.StudioState{Node: "A", State: broadcast.NodeDown, Lost: true})
	for i, s := range consoles {
		ev := s.Next(t, webtest.Named("header", "Studio node A lost — nobody can go on air; name another studio"))
		if got := strings.Contains(ev.Data, `data-testid="set-studio"`); got != (roles[i] == "producer") {
			t.Fatalf("%s: set-studio button shown %v", roles[i], got)
		}
	}
	if res, _ := e.Console(t, "POST", "/shows/morning/controls/set-studio", "screener", "node=B", true); res.StatusCode != 403 {
		t.Fatalf("screener naming a studio: %d", res.StatusCode)
	}
	if res, body := e.Console(t, "POST", "/shows/morning/controls/set-studio", "producer", "node=C", true); res.StatusCode != 422 {
		t.Fatalf("unknown node: %d %s", res.StatusCode, body)
	}
	res, body := e.Console(t, "POST", "/shows/morning/controls/set-studio", "producer", "node=B", true)
	if res.StatusCode != 200 || !strings.Contains(body, "Studio is now node B.") {
		t.Fatalf("set-studio: %d %s", res.StatusCode, body)
	}
	ev := consoles[0].Next(t, webtest.Named("header", "B 590/600 studio"))
	if strings.Contains(ev.Data, "studio-lost") {
		t.Fatalf("banner stays once B is the studio: %s", ev.Data)
	}
	recs := logs.Records(t, "web: show control")
	if len(recs) != 1 || recs[0]["action"] != "studio" || recs[0]["node"] != "B" || recs[0]["user"] != "producer" {
		t.Fatalf("audit: %v", recs)
	}
}
