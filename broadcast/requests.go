package broadcast

import (
	"context"
	"errors"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// Requests every action uses: play to a channel and wait for the end,
// move a channel into a bridge and wait for it to enter, and turn a failed
// request into ErrGone or ErrTelephony.

// play plays media to a channel and waits for its PlaybackFinished, the
// channel leaving, or the playback timeout (a `bogus:` media never
// finishes).
func (n *node) play(ctx context.Context, chanID string, media []string) error {
	pb := newID()
	w := n.waits.expect(ari.TypePlaybackFinished, pb, chanID, nil)
	if _, err := n.ari.PlayChannel(ctx, chanID, pb, media...); err != nil {
		n.waits.cancel(w)
		return n.restError(ctx, "play", chanID, err)
	}
	_, err := n.waits.wait(ctx, w, n.app.cfg.PlaybackTimeout)
	return err
}

// moveTo adds a channel to a bridge (moving it out of its current one, as
// Asterisk does) and waits until it has entered. role "" is participant.
func (n *node) moveTo(ctx context.Context, chanID, bridgeID, role string) error {
	w := n.waits.expect(ari.TypeChannelEnteredBridge, chanID, chanID, func(ev ari.Event) bool {
		return ev.(*ari.ChannelEnteredBridge).Bridge.ID == bridgeID
	})
	if err := n.ari.AddChannel(ctx, bridgeID, ari.AddChannelParams{Channels: []string{chanID}, Role: role}); err != nil {
		n.waits.cancel(w)
		return n.restError(ctx, "add channel to "+bridgeID, chanID, err)
	}
	_, err := n.waits.wait(ctx, w, n.app.cfg.EventTimeout)
	if errors.Is(err, ErrTimeout) {
		n.kickResync() // Asterisk may have done it after all: ask it
	}
	return telErr("add channel to "+bridgeID, err)
}

// moveAll adds channels to a bridge in one request and waits until every
// one has entered.
func (n *node) moveAll(ctx context.Context, bridgeID string, chanIDs ...string) error {
	ws := make([]*waiter, len(chanIDs))
	for i, id := range chanIDs {
		ws[i] = n.waits.expect(ari.TypeChannelEnteredBridge, id, id, func(ev ari.Event) bool {
			return ev.(*ari.ChannelEnteredBridge).Bridge.ID == bridgeID
		})
	}
	defer func() {
		for _, w := range ws {
			n.waits.cancel(w)
		}
	}()
	if err := n.ari.AddChannel(ctx, bridgeID, ari.AddChannelParams{Channels: chanIDs}); err != nil {
		return n.restError(ctx, "add channels to "+bridgeID, chanIDs[0], err)
	}
	for _, w := range ws {
		if _, err := n.waits.wait(ctx, w, n.app.cfg.EventTimeout); err != nil {
			return telErr("add channels to "+bridgeID, err)
		}
	}
	return nil
}

// goneGrace bounds how long a request that failed because its channel is
// missing waits for the channel's StasisEnd, to report ErrGone rather than a
// telephony error (the REST answer can beat the event).
const goneGrace = time.Second

// restError turns a failed request into ErrGone when its channel has left
// (or is leaving) Stasis, else into ErrTelephony.
func (n *node) restError(ctx context.Context, op, chanID string, err error) error {
	if channelMissing(err) {
		w := n.waits.expect(ari.TypeStasisEnd, chanID, chanID, nil)
		_, werr := n.waits.wait(ctx, w, min(goneGrace, n.app.cfg.EventTimeout))
		if werr == nil || errors.Is(werr, queue.ErrGone) {
			return telErr(op, errGone)
		}
	}
	return telErr(op, err)
}
