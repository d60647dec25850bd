package ari_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// trunkPair is two nodes joined by a trunk, app callin on each (the
// [callin-trunk] context names it), and how to kill the far one.
type trunkPair struct {
	a, b    *ari.Client
	bName   string
	killFar func(t *testing.T)
}

// trunkBackends are the pairs TestContractTrunk runs on: two fakes on an
// aritest.Trunk, and two real Asterisks joined by pbxtest.NewCluster (not
// on an external Asterisk: it needs two nodes and a kill).
var trunkBackends = []struct {
	name  string
	start func(t *testing.T) trunkPair
}{
	{"fake", func(t *testing.T) trunkPair {
		tr := aritest.NewTrunk()
		var srv [2]*aritest.Server
		for i := range srv {
			srv[i] = aritest.NewServer(aritest.Options{Trunk: tr, Node: pbxtest.NodeName(i)})
			t.Cleanup(srv[i].Close)
		}
		return trunkPair{a: dialNode(t, srv[0].URL(), srv[0].User(), srv[0].Password(), "callin"),
			b: dialNode(t, srv[1].URL(), srv[1].User(), srv[1].Password(), "callin"), bName: "B",
			killFar: func(*testing.T) { srv[1].Kill() }}
	}},
	{"asterisk", func(t *testing.T) trunkPair {
		nodes := pbxtest.NewCluster(t, 2, pbxtest.Config{})
		a, b := nodes[0], nodes[1]
		return trunkPair{a: dialNode(t, a.HTTP, a.User, a.Password, "callin"), b: dialNode(t, b.HTTP, b.User, b.Password, "callin"),
			bName: b.Node, killFar: func(t *testing.T) {
				if err := b.Kill(); err != nil {
					t.Fatal(err)
				}
			}}
	}},
}

// TestContractTrunk: what callin will rely on across the SIP trunk between
// two nodes (issue 24; recorded in ari/aritest/testdata/pbx-Trunk*.jsonl).
// A leg originated on A to ari.TrunkDial(B, token) arrives on B ringing,
// recognised by ari.TrunkToken and ari.TrunkNode; answered there, it
// enters A's app Up. Hung up on B with reason busy, A's leg gets a
// non-soft ChannelHangupRequest with cause 17, StasisEnd and
// ChannelDestroyed(17). Node B killed: A's leg stays up (only B's socket
// ends) until A's app hangs it up.
func TestContractTrunk(t *testing.T) {
	t.Parallel()
	for _, be := range trunkBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			p := be.start(t)
			sa, sb := connectStream(t, p.a, ari.EventOptions{}), connectStream(t, p.b, ari.EventOptions{})
			ctx := context.Background()
			cross := func(leg, token string) string {
				t.Helper()
				if _, err := p.a.Originate(ctx, ari.OriginateParams{Endpoint: ari.TrunkDial(p.bName, token), App: "callin",
					AppArgs: "show1,onair", ChannelID: leg, Formats: "ulaw"}); err != nil {
					t.Fatal(err)
				}
				st := sb.want(func(e ari.Event) bool {
					s, ok := e.(*ari.StasisStart)
					if !ok {
						return false
					}
					tok, isLeg := ari.TrunkToken(s.Args)
					return isLeg && tok == token
				}, "the far leg's StasisStart").(*ari.StasisStart)
				if from, ok := ari.TrunkNode(st.Channel.Name); !ok || from != "A" || st.Channel.State != ari.StateRing {
					t.Errorf("far leg %s (%s): from node %q, want A, ringing", st.Channel.Name, st.Channel.State, from)
				}
				if err := p.b.AnswerChannel(ctx, st.Channel.ID); err != nil {
					t.Fatal(err)
				}
				near := sa.want(isType(ari.TypeStasisStart, leg), "the near leg's StasisStart").(*ari.StasisStart)
				if near.Channel.State != ari.StateUp {
					t.Errorf("near leg entered Stasis %s, want Up", near.Channel.State)
				}
				return st.Channel.ID
			}
			token := fmt.Sprint(time.Now().UnixNano() % 1e6)
			far := cross("ct-1", "1"+token)
			if err := p.b.HangupChannel(ctx, far, "busy"); err != nil {
				t.Fatal(err)
			}
			hr := sa.want(isType(ari.TypeChannelHangupRequest, "ct-1"), "the near leg's hang-up request").(*ari.ChannelHangupRequest)
			if hr.Cause != 17 || hr.Soft {
				t.Errorf("near leg's ChannelHangupRequest cause %d soft %v, want 17, not soft", hr.Cause, hr.Soft)
			}
			sa.want(isType(ari.TypeStasisEnd, "ct-1"), "the near leg's StasisEnd")
			if d := sa.want(isType(ari.TypeChannelDestroyed, "ct-1"), "the near leg's ChannelDestroyed").(*ari.ChannelDestroyed); d.Cause != 17 {
				t.Errorf("near leg destroyed with cause %d, want 17", d.Cause)
			}

			cross("ct-2", "2"+token)
			p.killFar(t)
			sb.want(isDisconnected, "B's Disconnected")
			if ch, err := p.a.GetChannel(ctx, "ct-2"); err != nil || ch.State != ari.StateUp {
				t.Errorf("near leg after B's kill: %+v, %v; want it still Up", ch, err)
			}
			if err := p.a.HangupChannel(ctx, "ct-2", ""); err != nil {
				t.Fatal(err)
			}
			sa.want(isType(ari.TypeStasisEnd, "ct-2"), "the near leg's StasisEnd after A hangs it up")
		})
	}
}
