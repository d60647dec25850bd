package webtest

import "github.com/callin-radio/callin/broadcast"

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
