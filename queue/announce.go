package queue

import (
	"container/heap"
	"time"
)

// Announcement is a position announcement due to one caller.
type Announcement struct {
	CallID    string
	ChannelID string
	Position  int
	// OfferCallback: offer the caller a call-back with this announcement
	// (see RequestCallback); Wait is the estimated wait, when known.
	OfferCallback bool
	Wait          time.Duration
}

// DueAnnouncements returns up to limit callers in line (limit <= 0: all)
// whose position announcement is due at now, earliest due first, and marks
// each as announcing: none is returned again until AnnouncementDone. A
// caller's first announcement is due one interval after it joins the line
// (broadcast may greet it with its Position on Joined), the next one
// interval after AnnouncementDone. A caller busy with a reserved action is
// put off by one interval. It returns nothing when announcements are off
// and costs O(log n) per caller returned or put off.
func (s *Show) DueAnnouncements(now time.Time, limit int) []Announcement {
	every := s.cfg.AnnounceEvery
	if every <= 0 {
		return nil
	}
	var out []Announcement
	for limit <= 0 || len(out) < limit {
		c := s.ann.min()
		if c == nil || c.annBase.Add(every).After(now) {
			break
		}
		if c.pending != 0 {
			c.annBase = now
			heap.Fix(&s.ann, c.annIdx)
			continue
		}
		heap.Pop(&s.ann)
		c.announcing = true
		a := Announcement{CallID: c.id, ChannelID: c.channel, Position: s.line.rank(c) + 1}
		a.Wait, _ = s.EstimatedWait(now, a.Position)
		if s.offers(now, c, a.Position) {
			a.OfferCallback = true
			if c.cb == nil {
				c.cb = &callback{}
			}
			c.cb.offered = true
		}
		out = append(out, a)
	}
	return out
}

// AnnouncementDone records that a caller's announcement finished (or could
// not play), so its next one is due one interval from now. A caller keeps
// its announcing mark while out of line (promoted during the playback), so a
// second announcement never overlaps the first. Errors: ErrNotFound, ErrGone,
// and ErrInvalid when no announcement is playing (a duplicate
// PlaybackFinished: safe to ignore).
func (s *Show) AnnouncementDone(now time.Time, callID string) error {
	const op = "announcement done"
	c, err := s.lookup(op, callID)
	if err != nil {
		return err
	}
	if !c.announcing {
		return opError(op, callID, ErrInvalid, "no announcement playing")
	}
	c.announcing = false
	c.annBase = now
	if announced(c.state) {
		s.ann.add(c)
	}
	return nil
}
