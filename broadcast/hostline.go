package broadcast

import (
	"context"
	"errors"
	"fmt"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// HangupHost hangs up one of the show's host lines, ringing or on air; it
// leaves the show's lines (MediaState.HostLines) when Asterisk says it
// ended. A failed line (HostFailed), hung up already, leaves them at once.
// Errors: queue.ErrNotFound (no such show or host line); ErrTelephony.
func (a *App) HangupHost(ctx context.Context, showKey, channel string) error {
	s, h, err := a.hostLine(showKey, channel)
	if err != nil {
		return err
	}
	if h.State == HostFailed {
		if s.air.removeHost(channel, true) {
			s.studioHold().tell()
		}
		return nil
	}
	if err := s.studio().ari.HangupChannel(ctx, channel, ari.HangupNormal); err != nil {
		if errors.Is(err, ari.ErrNotFound) {
			// Gone already: its ChannelDestroyed is on its way, or was lost
			// (a line adopted after a restart just as it ended: adoptRinging).
			s.studio().unindex(channel)
			s.hostGone(channel)
			return nil
		}
		return telErr("hang up host "+channel, err)
	}
	return nil
}

// MuteHost mutes (or unmutes) a host line's voice into the on-air bridge
// (direction in, as Mute does for a caller). Errors: queue.ErrNotFound
// (no such show or host line); queue.ErrConflict (a failed line);
// ErrTelephony.
func (a *App) MuteHost(ctx context.Context, showKey, channel string, muted bool) error {
	s, h, err := a.hostLine(showKey, channel)
	if err != nil {
		return err
	}
	if h.State == HostFailed {
		return fmt.Errorf("broadcast: host line %q failed: %w", channel, queue.ErrConflict)
	}
	n := s.studio()
	if muted {
		err = n.ari.MuteChannel(ctx, channel, ari.DirIn)
	} else {
		err = n.ari.UnmuteChannel(ctx, channel, ari.DirIn)
	}
	if err != nil {
		return telErr("mute host "+channel, err)
	}
	if s.air.hostMuted(channel, muted) {
		s.studioHold().tell()
	}
	return nil
}

// hostLine returns the show with the host line channel, and the line.
func (a *App) hostLine(showKey, channel string) (*show, HostLine, error) {
	s, err := a.show(showKey)
	if err != nil {
		return nil, HostLine{}, err
	}
	for _, h := range s.air.hostLines() {
		if h.Channel == channel {
			return s, h, nil
		}
	}
	return nil, HostLine{}, fmt.Errorf("broadcast: show %q has no host line %q: %w", showKey, channel, queue.ErrNotFound)
}
