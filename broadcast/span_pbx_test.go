package broadcast_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestSpanNodePBX: on two real Asterisks joined by a trunk, callin runs
// the show on A alone; a SIP caller on A waits. B is added while the show
// runs (AddNode, SpanNode): a SIP caller dialling the show on B is then
// held on B, hearing B's music (by sound), in the one line behind A's
// caller; promoted, they go on air across the trunk: the host's phone on
// A hears their tone and they hear the host's.
func TestSpanNodePBX(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ps := pbxtest.NewCluster(t, 2, pbxtest.Config{})
	a, b := ps[0], ps[1]
	var log logBuf
	e := startCluster(t, ps[:1], &log, nil, slog.LevelInfo)
	w := e.w("morning")
	hostOnAir(t, e, w, a)
	first := joinOne(t, w, a)

	err := e.app.AddNode(broadcast.NodeConfig{Name: b.Node, ARI: newClient(t, b.HTTP, b.User, b.Password), Events: fastEvents})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.SpanNode(ctx, "morning", b.Node); err != nil {
		t.Fatal(err)
	}
	w.next("B up", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateNode && u.Node.Node == b.Node && u.Node.OK()
	})
	tr := joinOne(t, w, b)
	if tr.Node != b.Node {
		t.Fatalf("caller joined on %q, want %s", tr.Node, b.Node)
	}
	snap, _ := e.app.Snapshot("morning")
	if l := snap.Lineup.Waiting; len(l) != 2 || l[0].ID != first.CallID || l[1].ID != tr.CallID || l[1].Position != 2 {
		t.Fatalf("line %+v, want A's caller then B's", l)
	}
	if bs := holdBridges(t, b, "morning"); len(bs) != 1 || len(bs[0].Channels) != 1 {
		t.Errorf("B's holding bridges %+v, want its caller in one", bs)
	}
	hearMusic(t, b, snap.Lineup.Waiting[1:])

	if c, err := e.app.Promote(ctx, "morning", tr.CallID, producer); err != nil || c.State != queue.StateOnAir {
		t.Fatalf("promote across the trunk: %+v %v", c, err)
	}
	snap, _ = e.app.Snapshot("morning")
	var host string
	if len(snap.Media.Hosts) == 1 {
		host = snap.Media.Hosts[0]
	}
	if h := hear(t, a.Listener(t), host); h.Share(440) < 0.5 {
		t.Errorf("the host hears the caller's tone in %.0f%% of the windows: %s", 100*h.Share(440), h)
	}
	if h := hear(t, b.Listener(t), tr.ChannelID); h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("the caller hears the host's tone in %.0f%% of the windows: %s", 100*h.Share(pbxtest.PhoneHz), h)
	}
}
