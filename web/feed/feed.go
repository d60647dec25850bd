// Package feed is a show's one live subscription to the broadcast
// application, handed to the subscribers that need it: the console's
// renderer (web's consoles) and the API's event stream (web's events).
// Neither renders nor numbers anything here: a feed only subscribes,
// delivers every update in order, and resubscribes when the subscription
// is lost, telling each subscriber so.
package feed

import (
	"context"
	"log/slog"
	"time"

	"github.com/callin-radio/callin/broadcast"
)

// Source starts live feeds of shows' updates; web.BroadcastFeed adapts a
// *broadcast.App.
type Source interface {
	// Subscribe starts a show's feed; queue.ErrNotFound for an unknown
	// show.
	Subscribe(show string) (Subscription, error)
}

// Subscription is one live feed of a show's updates.
type Subscription interface {
	// Updates delivers the updates in order; it is closed when the feed
	// ends (a subscriber that falls behind is disconnected).
	Updates() <-chan broadcast.Update
	// Err says why Updates was closed.
	Err() error
	// Close ends the feed.
	Close()
}

// Subscriber takes a show's updates. Its methods are called on the feed's
// goroutine, one at a time and in order, and must not block.
type Subscriber interface {
	// Subscribed says a subscription began (the first, or again after one
	// was lost): a snapshot taken now misses no update that follows.
	Subscribed()
	// Update is the next update.
	Update(u broadcast.Update)
	// Lost says the subscription ended with updates possibly missed, and
	// why; the feed subscribes again.
	Lost(why string)
}

// Show is one show's feed.
type Show struct {
	key   string
	src   Source
	retry time.Duration
	log   *slog.Logger
	subs  []Subscriber
}

// New makes a show's feed from src for subs, retrying a failed subscribe
// after retry.
func New(key string, src Source, retry time.Duration, log *slog.Logger, subs ...Subscriber) *Show {
	return &Show{key: key, src: src, retry: retry, log: log, subs: subs}
}

// Run subscribes to the show and delivers its updates until ctx ends,
// resubscribing (after telling the subscribers the updates were lost) when
// the subscription is lost.
func (f *Show) Run(ctx context.Context) {
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
		}
		sub, err := f.src.Subscribe(f.key)
		if err != nil {
			f.log.Error("web: subscribe", "show", f.key, "err", err)
			retry.Reset(f.retry)
			continue
		}
		for _, s := range f.subs {
			s.Subscribed()
		}
		f.consume(ctx, sub)
		sub.Close()
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("web: show subscription lost; resubscribing", "show", f.key, "err", sub.Err())
		for _, s := range f.subs {
			s.Lost("updates were lost")
		}
		retry.Reset(0)
	}
}

// consume delivers one subscription's updates until it closes or ctx
// ends.
func (f *Show) consume(ctx context.Context, sub Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-sub.Updates():
			if !ok {
				return
			}
			for _, s := range f.subs {
				s.Update(u)
			}
		}
	}
}
