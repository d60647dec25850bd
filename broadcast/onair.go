package broadcast

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callin-radio/callin/ari"
	"github.com/callin-radio/callin/queue"
)

// air is a show's on-air side: its mixing bridge, the host lines in it and
// the bridge's recording. Its own lock guards hosts and recording; it is
// taken after show.mu (publish adds a call going on air to the recording,
// mediaState lists the hosts), never before, and held across no request.
type air struct {
	id string // the on-air bridge, "callin-<show>-air"

	mu        sync.Mutex
	hosts     map[string]*HostLine // host lines, ringing or on air, by channel
	recording RecordingState
}

func newAir(id string) *air { return &air{id: id, hosts: map[string]*HostLine{}} }

// ringHost records a host line callin is ringing (JoinHost).
func (a *air) ringHost(chanID, endpoint string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hosts[chanID] = &HostLine{Channel: chanID, Endpoint: endpoint, State: HostRinging, Since: now}
}

// adoptRinging records a ringing host line found after a restart, unless
// the show has it already (answered meanwhile: addHost), and reports
// whether it did.
func (a *air) adoptRinging(chanID, endpoint string, since time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hosts[chanID] != nil {
		return false
	}
	a.hosts[chanID] = &HostLine{Channel: chanID, Endpoint: endpoint, State: HostRinging, Since: since}
	return true
}

// addHost records a host line that entered the bridge: on air from now.
func (a *air) addHost(chanID string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[chanID]
	if h == nil {
		h = &HostLine{Channel: chanID}
		a.hosts[chanID] = h
	}
	h.State, h.Since = HostOnAir, now
}

// removeHost forgets a host line that left or ended, and reports whether
// it was one; a failed line stays (failHost) unless dismiss.
func (a *air) removeHost(chanID string, dismiss bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[chanID]
	if h == nil || h.State == HostFailed && !dismiss {
		return false
	}
	delete(a.hosts, chanID)
	return true
}

// failHost marks a host line failed, with why, from now, and reports
// whether it is one of the show's.
func (a *air) failHost(chanID, why string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[chanID]
	if h == nil {
		return false
	}
	h.State, h.Since, h.Muted, h.Error = HostFailed, now, false, why
	return true
}

// clearFailed forgets the failed host lines (a new JoinHost replaces
// them), and reports whether there were any.
func (a *air) clearFailed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(a.hosts)
	maps.DeleteFunc(a.hosts, func(_ string, h *HostLine) bool { return h.State == HostFailed })
	return len(a.hosts) != n
}

// hostList lists the host lines on air, sorted.
func (a *air) hostList() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	hosts := make([]string, 0, len(a.hosts))
	for id, h := range a.hosts {
		if h.State == HostOnAir {
			hosts = append(hosts, id)
		}
	}
	slices.Sort(hosts)
	return hosts
}

// hostLines lists the host lines, ringing or on air, by channel.
func (a *air) hostLines() []HostLine {
	a.mu.Lock()
	defer a.mu.Unlock()
	lines := make([]HostLine, 0, len(a.hosts))
	for _, h := range a.hosts {
		lines = append(lines, *h)
	}
	slices.SortFunc(lines, func(x, y HostLine) int { return strings.Compare(x.Channel, y.Channel) })
	return lines
}

// hostMuted marks a host line muted or not, and reports whether it is
// one of the show's.
func (a *air) hostMuted(chanID string, muted bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[chanID]
	if h != nil {
		h.Muted = muted
	}
	return h != nil
}

// rec returns the recording's state.
func (a *air) rec() RecordingState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recording
}

// wentOnAir adds a call that went on air to an active recording's calls.
func (a *air) wentOnAir(callID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recording.Active && !slices.Contains(a.recording.Calls, callID) {
		a.recording.Calls = append(a.recording.Calls, callID)
	}
}

// begin starts a new recording named name, queued until Asterisk says it
// started. queue.ErrConflict when one is on or queued.
func (a *air) begin(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recording.Active || a.recording.State == "queued" {
		return fmt.Errorf("broadcast: already recording %s: %w", a.recording.Name, queue.ErrConflict)
	}
	a.recording = RecordingState{Name: name, State: "queued", Format: "wav"}
	return nil
}

// abandon forgets a recording Asterisk refused to start.
func (a *air) abandon() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recording = RecordingState{}
}

// active says whether the recording named name has started.
func (a *air) active(name string) (RecordingState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.recording, a.recording.Name == name && a.recording.Active
}

// failed marks the recording named name, if it is still the show's, as
// failed without having started, with a producer's message; ok says it
// was.
func (a *air) failed(name, msg string, now time.Time) (r RecordingState, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recording.Name == name {
		a.recording = RecordingState{Name: name, State: "failed", Format: a.recording.Format, Ended: now, Error: msg}
		ok = true
	}
	return a.recording, ok
}

// recorded applies a recording's start or end (onAir: the calls on air
// now, for a start) and returns the recording; ok is false for a
// recording that is not the show's current one.
func (a *air) recorded(r ari.LiveRecording, started bool, now time.Time, onAir []queue.Call) (rec RecordingState, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.recording.Name != r.Name {
		return RecordingState{}, false
	}
	a.recording.State = r.State
	a.recording.Active = started
	if started {
		a.recording.Started, a.recording.Error = now, ""
		for _, c := range onAir {
			if !slices.Contains(a.recording.Calls, c.ID) {
				a.recording.Calls = append(a.recording.Calls, c.ID)
			}
		}
	} else {
		a.recording.Ended = now
		a.recording.Duration = time.Duration(r.Duration) * time.Second
	}
	rec = a.recording
	rec.Calls = slices.Clone(rec.Calls)
	return rec, true
}
