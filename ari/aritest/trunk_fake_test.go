package aritest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/aritest"
)

// fakeTrunkNode is one fake node on a trunk, with a client and app callin's
// socket.
type fakeTrunkNode struct {
	srv *aritest.Server
	c   *client
	ev  *events
}

func newFakeTrunkNodes(t *testing.T, names ...string) []fakeTrunkNode {
	t.Helper()
	tr := aritest.NewTrunk()
	var out []fakeTrunkNode
	for _, n := range names {
		srv, c, ev := setup(t, aritest.Options{TimeScale: 0.01, Trunk: tr, Node: n})
		out = append(out, fakeTrunkNode{srv, c, ev})
	}
	return out
}

// crossFake makes leg on a cross to b with token and answers it there; it
// returns the far leg's id.
func crossFake(t *testing.T, a, b fakeTrunkNode, node, leg, token string) string {
	t.Helper()
	a.c.must(http.StatusOK, "POST", "channels", q("endpoint", "PJSIP/"+token+"@node"+node, "app", "callin", "channelId", leg))
	a.ev.expect("Dial()")
	st := b.ev.expect("StasisStart")[0]
	if st.Channel.State != "Ring" || len(st.Args) != 2 || st.Args[0] != "trunk" || st.Args[1] != token {
		t.Fatalf("far leg's StasisStart %+v, want Ring [trunk %s]", st, token)
	}
	b.c.must(http.StatusNoContent, "POST", "channels/"+st.Channel.ID+"/answer", nil)
	b.ev.expect("ChannelStateChange")
	a.ev.expect("ChannelStateChange", "Dial(ANSWER)", "ChannelVarset(STASISSTATUS)", "StasisStart")
	return st.Channel.ID
}

// TestFakeTrunkEdges: what TestDifferentialTrunk cannot compare with the
// real pair: a third node, a leg to a node not on the trunk (a guess), and
// a node's Restart, which hangs its legs up as a stop does.
func TestFakeTrunkEdges(t *testing.T) {
	t.Parallel()
	n := newFakeTrunkNodes(t, "A", "B", "C")
	a, b, c := n[0], n[1], n[2]

	crossFake(t, a, c, "C", "l1", "601")
	crossFake(t, b, a, "A", "l2", "602")
	b.ev.expectNone()

	// A leg to a node nobody runs: nothing until the originate's timeout,
	// then ChannelDestroyed(19) (guess, as trace 13b's unreachable phone).
	a.c.must(http.StatusOK, "POST", "channels", q("endpoint", "PJSIP/603@nodeZ", "app", "callin", "channelId", "l3", "timeout", "1"))
	a.ev.expect("Dial()", "ChannelDestroyed(19)")

	// C restarts: its far leg of l1 ends there (shutdown), and A's near leg
	// gets the BYE with 16, as when a node stops (TrunkNodeStopped).
	c.srv.Restart()
	if err := c.ev.waitClosed(5 * time.Second); !isEOFClose(err) {
		t.Errorf("C's socket ended with %v, want EOF", err)
	}
	a.ev.expect("ChannelVarset(RTPAUDIOQOS)", "ChannelVarset(RTPAUDIOQOSJITTER)", "ChannelVarset(RTPAUDIOQOSLOSS)",
		"ChannelVarset(RTPAUDIOQOSRTT)", "ChannelVarset(RTPAUDIOQOSMES)", "ChannelHangupRequest(16)", "StasisEnd",
		"ChannelVarset(STASISSTATUS)", "ChannelDestroyed(16)")

	// A stops: B's near leg of l2 gets the BYE; A is gone from the trunk.
	a.srv.Stop()
	b.ev.expect("ChannelVarset(RTPAUDIOQOS)", "ChannelVarset(RTPAUDIOQOSJITTER)", "ChannelVarset(RTPAUDIOQOSLOSS)",
		"ChannelVarset(RTPAUDIOQOSRTT)", "ChannelVarset(RTPAUDIOQOSMES)", "ChannelHangupRequest(16)", "StasisEnd",
		"ChannelVarset(STASISSTATUS)", "ChannelDestroyed(16)")
	b.c.must(http.StatusOK, "POST", "channels", q("endpoint", "PJSIP/604@nodeA", "app", "callin", "channelId", "l4", "timeout", "1"))
	b.ev.expect("Dial()", "ChannelDestroyed(19)")
}
