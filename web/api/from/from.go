// Package from makes the API's JSON (package api's types, one schema of
// the document each) from the domain's (queue's and broadcast's), so that
// a change of a domain type never changes the API by accident. Durations
// are seconds, named so. Its functions are named as the type they make:
// from.Show(snapshot) is an api.Show.
package from

import (
	"math"
	"time"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
	"github.com/callin-radio/callin/web/shared"
)

// Seconds is a duration in seconds, to the millisecond.
func Seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// Show is a show as the API shows it, from its snapshot.
func Show(s broadcast.Snapshot) api.Show {
	st := s.Stats
	out := api.Show{Key: s.Show, Title: s.Settings.Title, LinesOpen: s.Settings.LinesOpen, Recording: s.Recording.Active,
		Talkback: s.Media.Talkback, NodeUp: s.Node.OK(), AnnounceEverySeconds: int(s.Settings.AnnounceEvery / time.Second),
		Stats: api.Stats{Arriving: st.Arriving, Waiting: st.Waiting, Screening: st.Screening, Ready: st.Ready, OnAir: st.OnAir,
			Callback: st.Callback, PendingOnAir: st.PendingOnAir,
			AverageWaitSeconds: Seconds(st.AverageWait), LongestWaitSeconds: Seconds(st.LongestWait),
			PaceSeconds: Seconds(st.Pace)},
		HostLines: HostLines(s.Media.HostLines)}
	if len(s.Nodes) > 1 { // a show across nodes; one node: as before
		for _, l := range s.Nodes {
			out.Nodes = append(out.Nodes, NodeLoad(l))
		}
		st := Studio(s.Studio)
		out.Studio = &st
	}
	return out
}

// HostLines are a show's host lines (never nil: an empty list).
func HostLines(hs []broadcast.HostLine) []api.HostLine {
	out := make([]api.HostLine, 0, len(hs))
	for _, h := range hs {
		out = append(out, api.HostLine{ChannelID: h.Channel, Endpoint: h.Endpoint, State: h.State, Since: h.Since, Muted: h.Muted, Error: h.Error})
	}
	return out
}

// NodeLoad is one node of a show across nodes, with the show's load.
func NodeLoad(l broadcast.NodeLoad) api.NodeLoad {
	return api.NodeLoad{Node: l.Node, State: l.State, Studio: l.Studio, Held: l.Held, Capacity: l.Capacity, Full: l.Full}
}

// Studio is a show across nodes' studio.
func Studio(s broadcast.StudioState) api.Studio {
	return api.Studio{Node: s.Node, State: s.State, Lost: s.Lost}
}

// Settings are a show's settings, with the consoles' on-air warning.
func Settings(s broadcast.Settings, airLimit time.Duration) api.Settings {
	return api.Settings{Title: s.Title, LinesOpen: s.LinesOpen, Capacity: s.Capacity, MaxOnAir: s.MaxOnAir,
		AnnounceEverySeconds: int(s.AnnounceEvery / time.Second), OnAirWarningMinutes: int(airLimit / time.Minute),
		MusicClass: s.MOHClass}
}

// Notes are a call's screening notes.
func Notes(n queue.Notes) api.Notes {
	return api.Notes{Name: n.Name, Location: n.Location, Topic: n.Topic, Priority: n.Priority}
}

// Call is one caller.
func Call(c queue.Call) api.Call {
	out := api.Call{ID: c.ID, Number: c.Number, Name: c.Name, Node: c.Node, ChannelID: c.ChannelID, State: c.State,
		ArrivedAt: c.ArrivedAt, Since: c.Since, Position: c.Position, Notes: Notes(c.Notes), Screener: c.Screener,
		Muted: c.Muted, Locked: c.Locked, Next: c.Next, Top: c.Top, Announcing: c.Announcing, WasOnAir: c.WasOnAir,
		Blocked: c.Blocked, BlockNote: c.BlockNote, Confirmed: c.Confirmed, Pending: c.Pending, Outcome: c.Outcome,
		Reason: c.Reason, Seq: c.Seq}
	if cb := c.Callback; cb != nil {
		out.Callback = &api.Callback{Number: cb.Number, Calling: cb.Calling, Attempt: cb.Attempt, Attempts: cb.Attempts,
			NextAt: cb.NextAt, RequestedAt: cb.RequestedAt, Now: cb.Now}
	}
	return out
}

// Quality is a line's last measure.
func Quality(q broadcast.LineQuality) *api.LineQuality {
	return &api.LineQuality{At: q.At, JitterMS: q.JitterMS, LossPercent: q.LossPct, RTTMS: q.RTTMS, MES: q.MES, Grade: q.Grade}
}

// withQuality adds each caller's last line measure from a snapshot.
func WithQuality(l api.CallList, q map[string]broadcast.LineQuality) api.CallList {
	for i, c := range l.Callers {
		if lq, ok := q[c.ID]; ok {
			l.Callers[i].Quality = Quality(lq)
		}
	}
	return l
}

// Calls is a list of callers.
func Calls(cs []queue.Call) api.CallList {
	out := api.CallList{Callers: make([]api.Call, 0, len(cs))}
	for _, c := range cs {
		out.Callers = append(out.Callers, Call(c))
	}
	return out
}

// Transition is one change of a call's state.
func Transition(t queue.Transition) api.Transition {
	out := api.Transition{CallID: t.CallID, Seq: t.Seq, At: t.At, Show: t.Show, From: t.From, To: t.To, Action: t.Action,
		Actor: api.Actor{Kind: t.Actor.Kind, Name: t.Actor.Name}, Number: t.Number, Name: t.Name, Node: t.Node,
		ChannelID: t.ChannelID, Outcome: t.Outcome, Cause: t.Cause, Reason: t.Reason}
	if t.Notes != nil {
		n := Notes(*t.Notes)
		out.Notes = &n
	}
	return out
}

// Profile is what is known of a number.
func Profile(p queue.Profile) api.Profile {
	out := api.Profile{Number: p.Number, Name: p.Name, Notes: p.Notes, Calls: p.Calls, OnAir: p.OnAir,
		FirstCall: p.FirstCall, LastCall: p.LastCall, Blocked: p.Blocked}
	if p.Blocked {
		out.BlockedReason, out.BlockedBy, out.BlockedAt = p.BlockedReason, p.BlockedBy, p.BlockedAt
	}
	return out
}

// CallRecord is one past call.
func CallRecord(c queue.CallRecord) api.CallRecord {
	return api.CallRecord{ID: c.ID, Show: c.Show, Number: c.Number, Name: c.Name, State: c.State, ArrivedAt: c.ArrivedAt,
		AnsweredAt: c.AnsweredAt, OnAirAt: c.OnAirAt, EndedAt: c.EndedAt, Outcome: c.Outcome, Cause: c.Cause,
		Reason: c.Reason, Notes: Notes(c.Notes)}
}

// Recording is one kept recording.
func Recording(r queue.Recording) api.Recording {
	calls := r.Calls
	if calls == nil {
		calls = []string{}
	}
	return api.Recording{Name: r.Name, Show: r.Show, Format: r.Format, Started: r.Started, Ended: r.Ended,
		DurationSeconds: Seconds(r.Duration), Calls: calls, Kept: r.Deleted.IsZero()}
}

// RecordingState is the on-air recording now.
func RecordingState(r broadcast.RecordingState) api.RecordingState {
	return api.RecordingState{Active: r.Active, Name: r.Name, State: r.State, Format: r.Format, Started: r.Started,
		Ended: r.Ended, DurationSeconds: Seconds(r.Duration), Calls: r.Calls, Error: shared.Printable(r.Error)}
}
