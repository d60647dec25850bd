package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// Fakes for what the API needs beside fakes.go's: the settings the
// queue keeps, the history's transitions, and the recordings.

func (a *App) SetCapacity(_ string, n int) error {
	if err := a.Control("capacity"); err != nil {
		return err
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.settingsChanged(a.Q.SetCapacity(n))
}

func (a *App) SetMaxOnAir(_ string, n int) error {
	if err := a.Control("max_on_air"); err != nil {
		return err
	}
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.settingsChanged(a.Q.SetMaxOnAir(n))
}

// ShowTransitions of a History has none; tests that want some wrap it
// in TransitionsHistory.
func (h *History) ShowTransitions(context.Context, string, time.Time, time.Time) ([]queue.Transition, error) {
	return nil, nil
}

// TransitionsHistory is a History with transitions.
type TransitionsHistory struct {
	*History
	Fn func(show string, from, to time.Time) ([]queue.Transition, error)
}

func (h TransitionsHistory) ShowTransitions(_ context.Context, show string, from, to time.Time) ([]queue.Transition, error) {
	return h.Fn(show, from, to)
}

// Recordings keeps recordings in a slice; each file's body is its
// name. FileFn, when set, decides first.
type Recordings struct {
	Mu     sync.Mutex
	Recs   []queue.Recording
	FileFn func(name string) error
}

func (f *Recordings) ShowRecordings(_ context.Context, show, callID string, limit int) ([]queue.Recording, error) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []queue.Recording
	for _, r := range f.Recs {
		if r.Show == show && (callID == "" || slices.Contains(r.Calls, callID)) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *Recordings) RecordingFile(_ context.Context, show, name string) (io.ReadCloser, string, error) {
	if f.FileFn != nil {
		if err := f.FileFn(name); err != nil {
			return nil, "", err
		}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for _, r := range f.Recs {
		if r.Show == show && r.Name == name && r.Deleted.IsZero() {
			return io.NopCloser(strings.NewReader("RIFF" + name)), "audio/wav", nil
		}
	}
	return nil, "", fmt.Errorf("fake: recording %q: %w", name, queue.ErrNotFound)
}

// update sends a show-level update to every subscriber, as broadcast
// does for settings, media, recording and node changes.
func (a *App) Update(u broadcast.Update) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	u.Show = a.Key
	a.Emitted++
	u.Seq = a.Emitted
	for s := range a.Subs {
		s.ch <- u
	}
}

// MemPhones is a Phones in memory.
type MemPhones struct {
	mu sync.Mutex
	M  map[string]string
}

func (p *MemPhones) Phone(user string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ep, ok := p.M[user]
	return ep, ok
}

func (p *MemPhones) SetPhone(_ context.Context, user, ep string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ep == "" {
		delete(p.M, user)
		return "", nil
	}
	v, err := queue.ParseEndpoint(ep)
	if err != nil {
		return "", err
	}
	p.M[user] = v
	return v, nil
}

// SyncBuffer is a bytes.Buffer safe for a logger and a test to share.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Records returns the JSON log records with message msg.
func (s *SyncBuffer) Records(t *testing.T, msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// Hostile is a caller name or text that would run as script if it were
// not escaped.
const Hostile = `<script>alert(1)</script>`

// IDs joins the calls' ids.
func IDs(calls []queue.Call) string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return strings.Join(ids, ",")
}
