package web

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// Fakes for what the API needs beside mock_test.go's: the settings the
// queue keeps, the history's transitions, and the recordings.

func (a *fakeApp) SetCapacity(_ string, n int) error {
	if err := a.control("capacity"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q.SetCapacity(n)
}

func (a *fakeApp) SetMaxOnAir(_ string, n int) error {
	if err := a.control("max_on_air"); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q.SetMaxOnAir(n)
}

// ShowTransitions of a fakeHistory has none; tests that want some wrap it
// in transitionsHistory.
func (h *fakeHistory) ShowTransitions(context.Context, string, time.Time, time.Time) ([]queue.Transition, error) {
	return nil, nil
}

// transitionsHistory is a fakeHistory with transitions.
type transitionsHistory struct {
	*fakeHistory
	fn func(show string, from, to time.Time) ([]queue.Transition, error)
}

func (h transitionsHistory) ShowTransitions(_ context.Context, show string, from, to time.Time) ([]queue.Transition, error) {
	return h.fn(show, from, to)
}

// fakeRecordings keeps recordings in a slice; each file's body is its
// name. FileFn, when set, decides first.
type fakeRecordings struct {
	mu     sync.Mutex
	recs   []queue.Recording
	FileFn func(name string) error
}

func (f *fakeRecordings) ShowRecordings(_ context.Context, show, callID string, limit int) ([]queue.Recording, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []queue.Recording
	for _, r := range f.recs {
		if r.Show == show && (callID == "" || slices.Contains(r.Calls, callID)) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeRecordings) RecordingFile(_ context.Context, show, name string) (io.ReadCloser, string, error) {
	if f.FileFn != nil {
		if err := f.FileFn(name); err != nil {
			return nil, "", err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.recs {
		if r.Show == show && r.Name == name && r.Deleted.IsZero() {
			return io.NopCloser(strings.NewReader("RIFF" + name)), "audio/wav", nil
		}
	}
	return nil, "", fmt.Errorf("fake: recording %q: %w", name, queue.ErrNotFound)
}

// update sends a show-level update to every subscriber, as broadcast
// does for settings, media, recording and node changes.
func (a *fakeApp) update(u broadcast.Update) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u.Show = a.show
	for s := range a.subs {
		s.ch <- u
	}
}
