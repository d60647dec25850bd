package console

import (
	"context"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// TestNextUpNoStrayDot: with nobody on air, the on-air card names who is
// next without a full stop after the name, which wrapped onto a line of
// its own under "Next up: NAME" (issue 23, point 9).
func TestNextUpNoStrayDot(t *testing.T) {
	t.Parallel()
	v := showView{Snap: broadcast.Snapshot{Show: "morning",
		Lineup: queue.Lineup{Waiting: []queue.Call{{ID: "c1", Number: "+15550001", Name: "James", State: queue.StateWaiting}}}}}
	var b strings.Builder
	if err := onAirFrag(v, perms{}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Next up: <strong>James</strong>") || strings.Contains(b.String(), "</strong>.") {
		t.Errorf("the empty on-air card reads %q, want Next up: James and no full stop after it", b.String())
	}
}
