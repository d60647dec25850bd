package broadcast_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// BenchmarkPBXTrunkPromote compares, in the same run on two real
// Asterisks joined by a trunk, a promote of a caller held on the studio
// (A) with a promote of a caller held on B, across the trunk (issue 24:
// p50 ≤ 2× plus the trunk's SIP set-up, ari/BENCHMARKS.md). The host's
// phone is on air on A. Rounds alternate; each promote is timed from
// App.Promote to its return (the caller in the on-air bridge, or heard
// there across the trunk), and the caller is held back, untimed.
//
//	go test -run '^$' -bench PBXTrunkPromote -benchtime 1x ./broadcast/
func BenchmarkPBXTrunkPromote(b *testing.B) {
	const rounds = 40
	ctx := context.Background()
	ps := pbxtest.NewCluster(b, 2, pbxtest.Config{})
	ps[0].Phone(b, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz})
	var log logBuf
	e := startCluster(b, ps, &log, nil, slog.LevelDebug)
	w := e.w("morning")
	if _, err := e.app.JoinHost(ctx, "morning", "PJSIP/phone1"); err != nil {
		b.Fatal(err)
	}
	ids := map[string]string{}
	for _, p := range ps {
		p.Callers(b, pbxtest.CallerConfig{Number: "5550100", Count: 1, PressOne: true})
		tr := w.next("caller joining", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		}).Transition
		ids[tr.Node] = tr.CallID
	}
	times := map[string][]time.Duration{}
	for b.Loop() {
		for range rounds {
			for _, node := range []string{"A", "B"} {
				start := time.Now()
				if _, err := e.app.Promote(ctx, "morning", ids[node], producer); err != nil {
					b.Fatalf("promote on %s: %v", node, err)
				}
				times[node] = append(times[node], time.Since(start))
				if _, err := e.app.Hold(ctx, "morning", ids[node], producer); err != nil {
					b.Fatalf("hold on %s: %v", node, err)
				}
			}
		}
	}
	p := func(node string, q float64) float64 {
		ts := slices.Clone(times[node])
		slices.Sort(ts)
		return float64(ts[int(q*float64(len(ts)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(p("A", 0.5), "studio-p50-ms")
	b.ReportMetric(p("A", 0.9), "studio-p90-ms")
	b.ReportMetric(p("B", 0.5), "trunk-p50-ms")
	b.ReportMetric(p("B", 0.9), "trunk-p90-ms")
	b.ReportMetric(p("B", 0.5)/p("A", 0.5), "trunk/studio-p50")
	// The trunk's set-up in the same run: from the originate to the near
	// leg up and the far leg in the on-air bridge (callin's debug log).
	for _, line := range log.lines("trunk leg up") {
		_, v, _ := strings.Cut(line, "setup=")
		v, _, _ = strings.Cut(v, " ")
		if d, err := time.ParseDuration(v); err == nil {
			times["setup"] = append(times["setup"], d)
		}
	}
	if len(times["setup"]) > 0 {
		b.ReportMetric(p("setup", 0.5), "setup-p50-ms")
		b.ReportMetric(p("B", 0.5)/(2*p("A", 0.5)+p("setup", 0.5)), "trunk/goal-p50")
	}
}
