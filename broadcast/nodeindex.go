package broadcast

// What a node indexes for its shows: the bridges, playbacks and
// recordings whose events it routes to a show, and the state of the
// channels it knows. Shows change them only through these methods, each
// under node.mu alone: a show never takes node.mu itself.

// locked runs f under node.mu.
func (n *node) locked(f func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f()
}

// indexBridge routes a bridge's events to show s.
func (n *node) indexBridge(id string, s *show) { n.locked(func() { n.bridges[id] = s }) }

// unindexBridge stops routing a bridge's events, and reports whether it
// was routed.
func (n *node) unindexBridge(id string) (had bool) {
	n.locked(func() {
		_, had = n.bridges[id]
		delete(n.bridges, id)
	})
	return had
}

// trackPlayback routes a playback's PlaybackFinished (playbackFinished).
func (n *node) trackPlayback(id string, ref pbRef) { n.locked(func() { n.playbacks[id] = ref }) }

// untrackPlayback forgets a playback that did not start.
func (n *node) untrackPlayback(id string) { n.locked(func() { delete(n.playbacks, id) }) }

// trackRecording routes a recording's events to show s (recording).
func (n *node) trackRecording(name string, s *show) { n.locked(func() { n.recordings[name] = s }) }

// untrackRecording forgets a recording.
func (n *node) untrackRecording(name string) { n.locked(func() { delete(n.recordings, name) }) }

// withChan runs f on a known channel's ref under node.mu; nothing for an
// unknown channel.
func (n *node) withChan(chanID string, f func(ref *chanRef)) {
	n.locked(func() {
		if ref := n.chans[chanID]; ref != nil {
			f(ref)
		}
	})
}

// subscribeLater marks a known channel as queued for its subscription
// (subscribe), before the request is queued.
func (n *node) subscribeLater(chanID string) {
	n.withChan(chanID, func(ref *chanRef) { ref.sub = subPending })
}

// defaultCause sets the cause a known channel's call ends with should no
// ChannelDestroyed tell it, unless a hang-up request gave one.
func (n *node) defaultCause(chanID string, cause int32) {
	n.withChan(chanID, func(ref *chanRef) {
		if ref.hangCause == 0 {
			ref.hangCause = cause
		}
	})
}

// becomeCaller makes an answered call-back line its call's channel. An
// originated channel always gets its ChannelDestroyed (trace 13a): it
// counts as subscribed.
func (n *node) becomeCaller(chanID string) {
	n.withChan(chanID, func(ref *chanRef) { ref.role, ref.sub = roleCaller, subscribed })
}
