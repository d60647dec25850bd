package broadcast

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// TestAirHosts: host lines are listed sorted; removing one says whether it
// was there (only then does the show tell its consoles).
func TestAirHosts(t *testing.T) {
	t.Parallel()
	a := newAir("callin-s-air")
	a.addHost("h2", time.Time{})
	a.addHost("h1", time.Time{})
	if got := a.hostList(); !slices.Equal(got, []string{"h1", "h2"}) {
		t.Errorf("hosts %v, want [h1 h2]", got)
	}
	if !a.removeHost("h1", false) || a.removeHost("h1", false) || a.removeHost("nobody", false) {
		t.Error("removeHost: want true once for a host, false after and for a stranger")
	}
	if got := a.hostList(); !slices.Equal(got, []string{"h2"}) {
		t.Errorf("hosts %v, want [h2]", got)
	}
}

// TestAirRecording: one recording at a time; the calls on air at its
// start and those going on air while it runs are its calls, each once;
// events of another recording change nothing; a start that never came
// leaves it failed, and a new one may begin.
func TestAirRecording(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	a := newAir("callin-s-air")
	if err := a.begin("r1"); err != nil {
		t.Fatal(err)
	}
	if err := a.begin("r2"); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("second begin while queued: %v, want ErrConflict", err)
	}
	a.wentOnAir("c0") // not active yet: not its call
	if _, ok := a.recorded(ari.LiveRecording{Name: "other", State: "recording"}, true, now, nil); ok {
		t.Error("another recording's start was applied")
	}
	rec, ok := a.recorded(ari.LiveRecording{Name: "r1", State: "recording"}, true, now, []queue.Call{{ID: "c1"}})
	if !ok || !rec.Active || !rec.Started.Equal(now) || !slices.Equal(rec.Calls, []string{"c1"}) {
		t.Fatalf("started: %+v %t, want active with [c1]", rec, ok)
	}
	a.wentOnAir("c2")
	a.wentOnAir("c1")
	if _, on := a.active("r1"); !on {
		t.Error("r1 not active")
	}
	if err := a.begin("r3"); !errors.Is(err, queue.ErrConflict) {
		t.Errorf("begin while recording: %v, want ErrConflict", err)
	}
	rec, ok = a.recorded(ari.LiveRecording{Name: "r1", State: "done", Duration: 3}, false, now.Add(3*time.Second), nil)
	if !ok || rec.Active || rec.Duration != 3*time.Second || !slices.Equal(rec.Calls, []string{"c1", "c2"}) {
		t.Fatalf("finished: %+v, want inactive, 3 s, [c1 c2]", rec)
	}
	if err := a.begin("r4"); err != nil {
		t.Fatal(err)
	}
	if rec, ok := a.failed("r4", "did not start", now); !ok || rec.State != "failed" || rec.Error == "" || rec.Active {
		t.Errorf("failed: %+v %t", rec, ok)
	}
	if _, ok := a.failed("r1", "late", now); ok {
		t.Error("an old recording was marked failed")
	}
	if err := a.begin("r5"); err != nil {
		t.Errorf("begin after a failed start: %v", err)
	}
	a.abandon()
	if rec := a.rec(); rec.Name != "" {
		t.Errorf("after abandon: %+v, want none", rec)
	}
}
