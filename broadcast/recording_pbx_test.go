package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari/pbxtest"
)

// TestRecordEmptyAirOnARealPBX (issue 21, point 8): on a real Asterisk,
// Record with nobody on air starts (RecordingStarted within the event
// timeout) and Stop finishes it ("done"). An empty bridge does not
// subscribe the application to itself, and a real Asterisk 22.10.1 then
// sends no RecordingStarted although GET /recordings/live says
// "recording": the start timed out after 5 s and, before the fix of
// StartRecording's timeout, left the controls stuck ("queued" for good).
// StartRecording now subscribes the application to the on-air bridge.
func TestRecordEmptyAirOnARealPBX(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	log := &logBuf{}
	e := startPBX(t, p, 0, log)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("callin's log:\n%s", log.b.String())
		}
	})
	e.w("morning").nodeUp()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	began := time.Now()
	rec, err := e.app.StartRecording(ctx, "morning")
	if err != nil || !rec.Active || rec.State != "recording" {
		t.Fatalf("record with nobody on air: %+v, %v; want recording", rec, err)
	}
	t.Logf("RecordingStarted %v after the request", time.Since(began))
	code, body, err := p.Get(ctx, "/recordings/live/"+rec.Name)
	if err != nil || code != 200 {
		t.Errorf("GET /recordings/live/%s: %d %s %v", rec.Name, code, body, err)
	}
	rec, err = e.app.StopRecording(ctx, "morning")
	if err != nil || rec.Active || rec.State != "done" {
		t.Fatalf("stop: %+v, %v; want done", rec, err)
	}
}
