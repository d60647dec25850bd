package broadcast_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// unstarted wraps a node's Telephony so that the next bridge recording is
// answered 201 "queued" (as Asterisk does, trace 14) without reaching the
// fake: its RecordingStarted never comes.
type unstarted struct {
	broadcast.Telephony
	swallow atomic.Int32 // recordings still to swallow
	stops   atomic.Int32 // stops asked of the swallowed
}

func (u *unstarted) RecordBridge(ctx context.Context, bridgeID string, p ari.RecordParams) (*ari.LiveRecording, error) {
	if u.swallow.Add(-1) >= 0 {
		return &ari.LiveRecording{Name: p.Name, Format: p.Format, State: "queued", TargetURI: "bridge:" + bridgeID}, nil
	}
	return u.Telephony.RecordBridge(ctx, bridgeID, p)
}

func (u *unstarted) StopLiveRecording(ctx context.Context, name string) error {
	u.stops.Add(1)
	return u.Telephony.StopLiveRecording(ctx, name)
}

// TestRecordingThatNeverStarts (issue 21, point 8): a start whose
// RecordingStarted does not come within EventTimeout fails with
// ErrTelephony, leaves the recording "failed" and not active with an Error
// saying why (also as an update), asks Asterisk to stop it, and the
// controls work again: Stop says "not recording", Record starts one. Before,
// the state stayed "queued" for good: every start was ErrConflict ("already
// recording") and every stop "not recording".
func TestRecordingThatNeverStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newFake(t, aritest.Options{})
	tel := &unstarted{Telephony: newClient(t, srv.URL(), srv.User(), srv.Password())}
	tel.swallow.Store(1)
	e := start(t, srv, broadcast.Config{
		Nodes:        []broadcast.NodeConfig{{Name: "n1", ARI: tel, Events: fastEvents}},
		EventTimeout: 200 * time.Millisecond,
	})
	w := e.w("show1")
	w.nodeUp()
	_, first := dial(t, srv, w, "show1", "1")
	if _, err := e.app.Promote(ctx, "show1", first, producer); err != nil {
		t.Fatal(err)
	}

	began := time.Now()
	st, err := e.app.StartRecording(ctx, "show1")
	if !errors.Is(err, broadcast.ErrTelephony) || !errors.Is(err, broadcast.ErrTimeout) {
		t.Fatalf("start without RecordingStarted: %v, want ErrTimeout (an ErrTelephony)", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the start took %v, want about the 200ms EventTimeout", took)
	}
	if st.Active || st.State != "failed" || !strings.Contains(st.Error, "did not start the recording within 200ms") {
		t.Errorf("state after the timeout %+v, want failed, not active, with why", st)
	}
	u := w.next("the failed recording", func(u broadcast.Update) bool {
		return u.Kind == broadcast.UpdateRecording && u.Recording.State == "failed"
	})
	if u.Recording.Error == "" || u.Recording.Active {
		t.Errorf("update %+v, want the why", u.Recording)
	}
	if snap, _ := e.app.Snapshot("show1"); snap.Recording.State != "failed" {
		t.Errorf("snapshot's recording %+v, want failed", snap.Recording)
	}
	if n := tel.stops.Load(); n != 1 {
		t.Errorf("%d stops asked of Asterisk, want 1 (in case it starts late)", n)
	}
	if _, err := e.app.StopRecording(ctx, "show1"); !errors.Is(err, queue.ErrConflict) || !strings.Contains(err.Error(), "not recording") {
		t.Errorf("stop after the failed start: %v, want not recording", err)
	}
	st, err = e.app.StartRecording(ctx, "show1")
	if err != nil || !st.Active || st.State != "recording" || st.Error != "" {
		t.Fatalf("record again: %+v, %v; want recording", st, err)
	}
	if st, err = e.app.StopRecording(ctx, "show1"); err != nil || st.State != "done" {
		t.Fatalf("stop: %+v, %v; want done", st, err)
	}
}
