package feed

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// source hands out subscriptions, failing the first fails subscribes.
type source struct {
	mu    sync.Mutex
	fails int
	subs  chan *sub
}

func (s *source) Subscribe(string) (Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return nil, errors.New("not now")
	}
	sb := &sub{c: make(chan broadcast.Update, 4)}
	s.subs <- sb
	return sb, nil
}

type sub struct{ c chan broadcast.Update }

func (s *sub) Updates() <-chan broadcast.Update { return s.c }
func (s *sub) Err() error                       { return errors.New("too slow") }
func (s *sub) Close()                           {}

// recorder writes down what a subscriber is told.
type recorder struct{ got chan string }

func (r recorder) Subscribed()               { r.got <- "subscribed" }
func (r recorder) Update(u broadcast.Update) { r.got <- "update " + string(u.Kind) }
func (r recorder) Lost(why string)           { r.got <- "lost: " + why }

func (r recorder) want(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	for range want {
		select {
		case s := <-r.got:
			got = append(got, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestFeedDeliversAndResubscribes: both subscribers see every update in
// order, are told when the subscription is lost, and see the next one
// begin; a failed subscribe is retried.
func TestFeedDeliversAndResubscribes(t *testing.T) {
	src := &source{fails: 1, subs: make(chan *sub, 2)}
	a, b := recorder{make(chan string, 8)}, recorder{make(chan string, 8)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		New("morning", src, time.Millisecond, slog.New(slog.DiscardHandler), a, b).Run(ctx)
	}()
	first := <-src.subs
	first.c <- broadcast.Update{Kind: broadcast.UpdateTransition}
	first.c <- broadcast.Update{Kind: broadcast.UpdateSettings}
	close(first.c)
	for _, r := range []recorder{a, b} {
		r.want(t, "subscribed", "update "+string(broadcast.UpdateTransition), "update "+string(broadcast.UpdateSettings),
			"lost: updates were lost", "subscribed")
	}
	second := <-src.subs
	second.c <- broadcast.Update{Kind: broadcast.UpdateNode}
	a.want(t, "update "+string(broadcast.UpdateNode))
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}
