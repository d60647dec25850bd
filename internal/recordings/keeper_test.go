package recordings

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// fakeFiles is a node's stored recordings: names to bodies; DeleteFn and
// FileFn, when set, decide first.
type fakeFiles struct {
	files    map[string]string
	DeleteFn func(name string) error
	FileFn   func(name string) error
}

func (f *fakeFiles) StoredRecordingFile(_ context.Context, name string) (io.ReadCloser, string, error) {
	if f.FileFn != nil {
		if err := f.FileFn(name); err != nil {
			return nil, "", err
		}
	}
	b, ok := f.files[name]
	if !ok {
		return nil, "", &ari.Error{Status: 404, Message: "Recording not found"}
	}
	return io.NopCloser(strings.NewReader(b)), "audio/wav", nil
}

func (f *fakeFiles) DeleteStoredRecording(_ context.Context, name string) error {
	if f.DeleteFn != nil {
		if err := f.DeleteFn(name); err != nil {
			return err
		}
	}
	if _, ok := f.files[name]; !ok {
		return &ari.Error{Status: 404, Message: "Recording not found"}
	}
	delete(f.files, name)
	return nil
}

func TestRecordingKeeper(t *testing.T) {
	t.Parallel()
	store := pgtest.NewStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	files := &fakeFiles{files: map[string]string{"old": "RIFF-old", "new": "RIFF-new", "gone": "x"}}
	k := New(store, map[string]Files{"morning": files}, 24*time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	k.now = func() time.Time { return now }
	k.saved.Init()
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()

	// Recorded never blocks; run saves what it reports.
	for _, r := range []broadcast.RecordingState{
		{Name: "old", Format: "wav", Started: now.Add(-50 * time.Hour), Ended: now.Add(-49 * time.Hour), Duration: time.Hour, Calls: []string{"c1"}},
		{Name: "gone", Format: "wav", Ended: now.Add(-48 * time.Hour)},
		{Name: "new", Format: "wav", Ended: now.Add(-time.Hour), Calls: []string{"c2"}},
	} {
		k.Recorded("morning", r)
		if got, ok := k.saved.Wait(10 * time.Second); !ok {
			t.Fatalf("%s never saved", r.Name)
		} else if got != r.Name {
			t.Fatalf("saved %s, want %s", got, r.Name)
		}
	}
	cancel()
	<-done

	t.Run("List", func(t *testing.T) {
		got, err := k.ShowRecordings(context.Background(), "morning", "c2", 10)
		if err != nil || len(got) != 1 || got[0].Name != "new" {
			t.Fatalf("got %+v %v", got, err)
		}
	})
	t.Run("File", func(t *testing.T) {
		body, ctype, err := k.RecordingFile(context.Background(), "morning", "new")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		if string(b) != "RIFF-new" || ctype != "audio/wav" {
			t.Fatalf("got %q %q", b, ctype)
		}
		if _, _, err := k.RecordingFile(context.Background(), "evening", "new"); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("another show's: got %v, want ErrNotFound", err)
		}
		files.FileFn = func(string) error { return &ari.Error{Status: 500, Message: "boom"} }
		defer func() { files.FileFn = nil }()
		if _, _, err := k.RecordingFile(context.Background(), "morning", "new"); !errors.Is(err, broadcast.ErrTelephony) {
			t.Fatalf("Asterisk failing: got %v, want ErrTelephony", err)
		}
	})
	t.Run("Retention", func(t *testing.T) {
		delete(files.files, "gone") // deleted on Asterisk by hand: 404 counts as deleted
		k.expire(context.Background())
		if _, ok := files.files["old"]; ok {
			t.Fatal("the old recording was not deleted from Asterisk")
		}
		if _, ok := files.files["new"]; !ok {
			t.Fatal("the new recording was deleted")
		}
		for _, name := range []string{"old", "gone"} {
			r, err := store.Recording(context.Background(), "morning", name)
			if err != nil || !r.Deleted.Equal(now) {
				t.Fatalf("%s: %+v %v, want deleted now", name, r, err)
			}
			if _, _, err := k.RecordingFile(context.Background(), "morning", name); !errors.Is(err, queue.ErrNotFound) {
				t.Fatalf("%s's file after retention: got %v, want ErrNotFound", name, err)
			}
		}
	})
	t.Run("RetentionAsteriskFails", func(t *testing.T) {
		now = now.Add(48 * time.Hour)
		files.DeleteFn = func(string) error { return &ari.Error{Status: 500, Message: "boom"} }
		k.expire(context.Background())
		if r, _ := store.Recording(context.Background(), "morning", "new"); !r.Deleted.IsZero() {
			t.Fatal("noted deleted though Asterisk refused")
		}
	})
}
