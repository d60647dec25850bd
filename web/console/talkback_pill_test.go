package console

import (
	"context"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestTalkbackPillInWords: the header says in words that callers on hold
// hear the producer, and in how many bridges (the label was passed to the
// icon as a child, which the icon dropped: only an unlabelled speaker
// showed, issue 23).
func TestTalkbackPillInWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    broadcast.MediaState
		want string
	}{
		{broadcast.MediaState{Talkback: true}, "talkback: ringing the phone"},
		{broadcast.MediaState{Talkback: true, TalkbackLine: "tb-1", TalkbackBridges: 3, HoldBridges: 4}, "talkback live · 3 of 4 bridges"},
		{broadcast.MediaState{Talkback: true, TalkbackBridges: 2, HoldBridges: 2}, "talkback message · 2 of 2 bridges"},
	} {
		var b strings.Builder
		if err := talkbackPill(tc.m).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) || !strings.Contains(b.String(), `data-testid="talkback"`) {
			t.Errorf("talkback pill %q, want the words %q", b.String(), tc.want)
		}
	}
}

// TestQualityPillInWords: a caller's poor line is named in words ("poor
// line"), not only by a warning sign (the grade was the icon's child, which
// the icon dropped: the pill read "line").
func TestQualityPillInWords(t *testing.T) {
	t.Parallel()
	v := showView{Snap: broadcast.Snapshot{Quality: map[string]broadcast.LineQuality{"c1": {Grade: broadcast.GradePoor}}}}
	var b strings.Builder
	if err := callerTags(v, queue.Call{ID: "c1", State: queue.StateWaiting}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "poor line") {
		t.Errorf("caller tags %q, want the words \"poor line\"", b.String())
	}
}
