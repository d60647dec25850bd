package webtest

import (
	"context"
	"fmt"
	"slices"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
)

// SetMedia sets the show's media state (music, talkback, hosts) and tells
// the subscribers (UpdateMedia), as broadcast does when it changes.
func (a *App) SetMedia(m broadcast.MediaState) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Media = m
	a.Send(broadcast.Update{Kind: broadcast.UpdateMedia, Media: m})
}

// Talkback returns the options of the last StartTalkback.
func (a *App) Talkback() broadcast.TalkbackOptions {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	return a.LastTalkback
}

// JoinHost rings the host's line, "host-line", as broadcast does: the
// line is the show's, ringing, until AnswerHost or HangupHost.
func (a *App) JoinHost(context.Context, string, string) (string, error) {
	if err := a.Control("host"); err != nil {
		return "", err
	}
	a.hostLines(func(hs []broadcast.HostLine) []broadcast.HostLine {
		hs = slices.DeleteFunc(hs, func(h broadcast.HostLine) bool { return h.State == broadcast.HostFailed })
		return append(hs, broadcast.HostLine{Channel: "host-line", Endpoint: "PJSIP/host", State: broadcast.HostRinging, Since: a.Now})
	})
	return "host-line", nil
}

// FailHost marks the host line id failed with why, as broadcast does when
// Asterisk answered it but did not put it on air (it hangs it up).
func (a *App) FailHost(id, why string) {
	a.hostLines(func(hs []broadcast.HostLine) []broadcast.HostLine {
		for i := range hs {
			if hs[i].Channel == id {
				hs[i].State, hs[i].Since, hs[i].Muted, hs[i].Error = broadcast.HostFailed, a.Now, false, why
			}
		}
		return hs
	})
}

// AnswerHost puts the ringing host line id on air, as when the host
// answers.
func (a *App) AnswerHost(id string) {
	a.hostLines(func(hs []broadcast.HostLine) []broadcast.HostLine {
		for i := range hs {
			if hs[i].Channel == id {
				hs[i].State, hs[i].Since = broadcast.HostOnAir, a.Now
			}
		}
		return hs
	})
}

// HangupHost ends a host line at once (broadcast waits for Asterisk).
func (a *App) HangupHost(_ context.Context, _, channel string) error {
	return a.hostLine(channel, func(hs []broadcast.HostLine, i int) []broadcast.HostLine {
		return slices.Delete(hs, i, i+1)
	})
}

// MuteHost mutes or unmutes a host line.
func (a *App) MuteHost(_ context.Context, _, channel string, muted bool) error {
	return a.hostLine(channel, func(hs []broadcast.HostLine, i int) []broadcast.HostLine {
		hs[i].Muted = muted
		return hs
	})
}

// hostLine changes the host line channel with f, or says
// queue.ErrNotFound.
func (a *App) hostLine(channel string, f func([]broadcast.HostLine, int) []broadcast.HostLine) error {
	if err := a.Control("host"); err != nil {
		return err
	}
	found := false
	a.hostLines(func(hs []broadcast.HostLine) []broadcast.HostLine {
		i := slices.IndexFunc(hs, func(h broadcast.HostLine) bool { return h.Channel == channel })
		if found = i >= 0; found {
			return f(hs, i)
		}
		return hs
	})
	if !found {
		return fmt.Errorf("fake: host line %q: %w", channel, queue.ErrNotFound)
	}
	return nil
}

// hostLines changes the show's host lines with f (Media.Hosts follows)
// and tells the subscribers.
func (a *App) hostLines(f func([]broadcast.HostLine) []broadcast.HostLine) {
	a.Mu.Lock()
	defer a.Mu.Unlock()
	a.Media.HostLines = f(slices.Clone(a.Media.HostLines))
	a.Media.Hosts = nil
	for _, h := range a.Media.HostLines {
		if h.State == broadcast.HostOnAir {
			a.Media.Hosts = append(a.Media.Hosts, h.Channel)
		}
	}
	a.Send(broadcast.Update{Kind: broadcast.UpdateMedia, Media: a.Media})
}
