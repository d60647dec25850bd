package pbxtest_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/pbxtest"
)

// TestClusterTrunk: three real Asterisks joined by trunks, every node to
// every other; a leg originated on one node to ari.TrunkDial(other, token)
// enters the other's [callin-trunk] as Stasis(callin,trunk,<token>),
// ringing, from endpoint node<origin>; answered there, it enters the
// origin's app Up.
func TestClusterTrunk(t *testing.T) {
	t.Parallel()
	nodes := pbxtest.NewCluster(t, 3, pbxtest.Config{})
	clients := make([]*ari.Client, len(nodes))
	evs := make([]<-chan ari.Event, len(nodes))
	for i, p := range nodes {
		if want := pbxtest.NodeName(i); p.Node != want {
			t.Fatalf("node %d is named %q, want %q", i, p.Node, want)
		}
		clients[i], evs[i] = events(t, p, "callin")
	}
	ctx := context.Background()
	for _, hop := range [][2]int{{0, 2}, {1, 0}, {2, 1}} {
		from, to := hop[0], hop[1]
		token := "7" + nodes[from].Node + nodes[to].Node
		leg := "leg-" + token
		if _, err := clients[from].Originate(ctx, ari.OriginateParams{Endpoint: nodes[from].TrunkDial(nodes[to], token),
			App: "callin", AppArgs: "leg", ChannelID: leg, Formats: "ulaw"}); err != nil {
			t.Fatal(err)
		}
		far := wait(t, evs[to], func(e *ari.StasisStart) bool { tok, ok := ari.TrunkToken(e.Args); return ok && tok == token },
			"the far leg's StasisStart on node "+nodes[to].Node)
		if far.Channel.State != ari.StateRing {
			t.Errorf("far leg %s arrived %s, want Ring", far.Channel.Name, far.Channel.State)
		}
		if n, ok := ari.TrunkNode(far.Channel.Name); !ok || n != nodes[from].Node {
			t.Errorf("far leg %s: from node %q, want %s", far.Channel.Name, n, nodes[from].Node)
		}
		if err := clients[to].AnswerChannel(ctx, far.Channel.ID); err != nil {
			t.Fatal(err)
		}
		near := wait(t, evs[from], func(e *ari.StasisStart) bool { return e.Channel.ID == leg }, "the near leg's StasisStart")
		if near.Channel.State != ari.StateUp {
			t.Errorf("near leg %s entered Stasis %s, want Up", leg, near.Channel.State)
		}
		if err := clients[from].HangupChannel(ctx, leg, ""); err != nil {
			t.Fatal(err)
		}
		wait(t, evs[to], func(e *ari.StasisEnd) bool { return e.Channel.ID == far.Channel.ID }, "the far leg's StasisEnd")
	}
}

// BenchmarkTrunkSetup measures the SIP set-up of a leg over the trunk on a
// real pair (pbxtest.NewCluster), against an originate to a local phone on
// the same node in the same run: 50 calls of each, one at a time,
// alternating. For the trunk: originate on A → StasisStart of the far leg
// on B (args trunk,<token>) → B's app answers → StasisStart of the near leg
// on A (answered). For the phone: originate to PJSIP/phone1 (a sipp UAS
// answering at once, Ring < 0) → StasisStart on A. Reported: p50 of each,
// and their ratio (trunk answered / phone answered).
//
//	go test -run '^$' -bench TrunkSetup -benchtime 1x ./ari/pbxtest/
func BenchmarkTrunkSetup(b *testing.B) {
	nodes := pbxtest.NewCluster(b, 2, pbxtest.Config{})
	a, far := nodes[0], nodes[1]
	a.Phone(b, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, Ring: -1, Calls: 1000})
	ca, eva := benchEvents(b, a)
	cb, evb := benchEvents(b, far)
	ctx := context.Background()
	const calls = 50
	var toB, trunk, phone []time.Duration
	n := 0
	for b.Loop() {
		for range calls {
			n++
			token := fmt.Sprintf("9%d", n)
			leg := "leg" + token
			start := time.Now()
			if _, err := ca.Originate(ctx, ari.OriginateParams{Endpoint: ari.TrunkDial(far.Node, token), App: "callin",
				AppArgs: "leg", ChannelID: leg, Formats: "ulaw"}); err != nil {
				b.Fatal(err)
			}
			st := benchWait(b, evb, func(e ari.Event) bool {
				s, ok := e.(*ari.StasisStart)
				tok, isLeg := ari.TrunkToken(stasisArgs(s, ok))
				return isLeg && tok == token
			})
			toB = append(toB, time.Since(start))
			farID := st.(*ari.StasisStart).Channel.ID
			if err := cb.AnswerChannel(ctx, farID); err != nil {
				b.Fatal(err)
			}
			benchWait(b, eva, func(e ari.Event) bool { s, ok := e.(*ari.StasisStart); return ok && s.Channel.ID == leg })
			trunk = append(trunk, time.Since(start))
			if err := ca.HangupChannel(ctx, leg, ""); err != nil {
				b.Fatal(err)
			}
			benchWait(b, evb, func(e ari.Event) bool { s, ok := e.(*ari.StasisEnd); return ok && s.Channel.ID == farID })
			benchWait(b, eva, func(e ari.Event) bool { d, ok := e.(*ari.ChannelDestroyed); return ok && d.Channel.ID == leg })

			ph := "ph" + token
			start = time.Now()
			if _, err := ca.Originate(ctx, ari.OriginateParams{Endpoint: "PJSIP/phone1", App: "callin", AppArgs: "phone",
				ChannelID: ph, Formats: "ulaw"}); err != nil {
				b.Fatal(err)
			}
			benchWait(b, eva, func(e ari.Event) bool { s, ok := e.(*ari.StasisStart); return ok && s.Channel.ID == ph })
			phone = append(phone, time.Since(start))
			if err := ca.HangupChannel(ctx, ph, ""); err != nil {
				b.Fatal(err)
			}
			benchWait(b, eva, func(e ari.Event) bool { d, ok := e.(*ari.ChannelDestroyed); return ok && d.Channel.ID == ph })
		}
	}
	p50 := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2].Microseconds()) / 1000
	}
	b.ReportMetric(p50(toB), "ms-to-far-p50")
	b.ReportMetric(p50(trunk), "ms-trunk-answered-p50")
	b.ReportMetric(p50(phone), "ms-phone-answered-p50")
	b.ReportMetric(p50(trunk)/p50(phone), "trunk/phone")
	b.Logf("%d calls each: originate → far StasisStart p50 %.2f ms; → near answered p50 %.2f ms; phone answered p50 %.2f ms; ratio %.2f",
		len(trunk), p50(toB), p50(trunk), p50(phone), p50(trunk)/p50(phone))
}

func stasisArgs(s *ari.StasisStart, ok bool) []string {
	if !ok {
		return nil
	}
	return s.Args
}

// benchEvents connects app callin to p for a benchmark.
func benchEvents(b *testing.B, p *pbxtest.PBX) (*ari.Client, <-chan ari.Event) {
	c, err := ari.NewClient(ari.Config{URL: p.HTTP, Username: p.User, Password: p.Password, App: "callin"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	conn := c.Connect(ctx, ari.EventOptions{})
	b.Cleanup(func() { cancel(); conn.Close() })
	benchWait(b, conn.Events(), func(e ari.Event) bool { _, ok := e.(*ari.Connected); return ok })
	return c, conn.Events()
}

// benchWait returns the first event matching f, failing after 20 s.
func benchWait(b *testing.B, ev <-chan ari.Event, f func(ari.Event) bool) ari.Event {
	b.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if f(e) {
				return e
			}
		case <-timeout:
			b.Fatal("timed out waiting for an event")
			return nil
		}
	}
}
