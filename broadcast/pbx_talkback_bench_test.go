package broadcast_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// BenchmarkPBXTalkbackReach: a producer's live talkback on a real Asterisk
// with PBX_TB_CALLERS SIP callers (default 200) in holding bridges of
// PBX_TB_SIZE (default 50), the producer's phone PJSIP/phone1 ringing 1 s
// before it answers. Each iteration starts a talkback and stops it: the
// time from the request to the line in the first bridge (the ring
// included), from there to every bridge reached (callin's media state:
// the relays into the other bridges in), and from the stop to the music
// back in every bridge. That the audio is heard where callin says it is,
// TestTalkbackLivePBX checks by sound.
//
//	go test -run '^$' -bench PBXTalkbackReach -benchtime 10x ./broadcast/
func BenchmarkPBXTalkbackReach(b *testing.B) {
	n, size := envInt("PBX_TB_CALLERS", 200), envInt("PBX_TB_SIZE", 50)
	p := pbxtest.New(b, pbxtest.Config{})
	p.Phone(b, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers})
	var log logBuf
	e := startPBX(b, p, size, &log)
	w := e.w("morning")
	w.nodeUp()
	p.Callers(b, pbxtest.CallerConfig{Number: "5550100", Count: n, Rate: 50, PressOne: true})
	for joined := 0; joined < n; joined++ {
		w.next("callers joining", func(u broadcast.Update) bool {
			return u.Kind == broadcast.UpdateTransition && u.Transition.Action == queue.ActionJoin
		})
	}
	bridges := (n + size - 1) / size
	ctx := context.Background()
	var line, reach, back []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := e.app.StartTalkback(ctx, "morning", broadcast.TalkbackOptions{User: "pat"}); err != nil {
			b.Fatal(err)
		}
		if m, ok := waitMedia(w, 10*time.Second, func(m broadcast.MediaState) bool { return m.TalkbackLine != "" }); !ok {
			b.Fatalf("the line never joined: %+v", m)
		}
		joined := time.Now()
		if m, ok := waitMedia(w, 10*time.Second, func(m broadcast.MediaState) bool { return m.TalkbackBridges == bridges }); !ok {
			b.Fatalf("the talkback reached %d of %d bridges", m.TalkbackBridges, bridges)
		}
		all := time.Now()
		if err := e.app.StopTalkback(ctx, "morning"); err != nil {
			b.Fatal(err)
		}
		if m, ok := waitMedia(w, 10*time.Second, func(m broadcast.MediaState) bool { return !m.Talkback && m.Music }); !ok {
			b.Fatalf("no music after the stop: %+v", m)
		}
		line, reach, back = append(line, joined.Sub(start)), append(reach, all.Sub(joined)), append(back, time.Since(all))
	}
	b.StopTimer()
	fmt.Printf("%d callers in %d bridges: request → line in the first bridge p50 %.1f ms (the phone rings 1 s); → every bridge p50 %.1f ms, max %.1f ms; stop → music in every bridge p50 %.1f ms, max %.1f ms; %d announcers refused and tried again\n",
		n, bridges, ms(quantile(line, 0.5)), ms(quantile(reach, 0.5)), ms(quantile(reach, 1)), ms(quantile(back, 0.5)), ms(quantile(back, 1)), len(log.lines("trying again")))
	b.ReportMetric(ms(quantile(reach, 0.5)), "line-to-all-bridges-p50-ms")
	b.ReportMetric(ms(quantile(line, 0.5)), "request-to-line-p50-ms")
	b.ReportMetric(ms(quantile(back, 0.5)), "stop-to-music-p50-ms")
}
