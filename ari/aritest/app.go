package aritest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

// Event delivery follows Asterisk's topics and forwards (traces 09-18):
//
//   - StasisStart and StasisEnd go to the channel's own application only.
//   - Channel events (state changes, hangup requests, ChannelDestroyed,
//     variables, DTMF, talking, Dial, channel playbacks and recordings) go
//     to every application subscribed to the channel: implicitly while the
//     channel is in its Stasis, explicitly through
//     POST /applications/{app}/subscription, and from creation on for a
//     channel the application originated (both halves of a Local pair).
//     The implicit Stasis subscription is one reference among the explicit
//     ones (trace 10b), so unsubscribing once too often loses even the
//     hangup request.
//   - Bridge events (ChannelEnteredBridge and ChannelLeftBridge of any
//     member, BridgeDestroyed, bridge playbacks and recordings) go to every
//     application subscribed to the bridge: addChannel subscribes the
//     channel's application; a member that leaves while still in Stasis
//     (a move, removeChannel, the bridge's deletion) releases it, one that
//     hangs up does not (traces 10e and 14c against 09-12).
//   - A subscribeAll socket gets everything once, except other
//     applications' StasisStart and StasisEnd, and bridge playback and
//     recording events twice (traces 03, 14, 15).
//   - An endpoint subscription is a second forward: its channels' events
//     arrive twice (trace 10f).
//
// An application exists while a WebSocket has it or while it holds any
// subscription (trace 11: GET /applications/callin stays 200 after the
// socket closed); Stasis() needs the WebSocket (Server.AppRegistered).

// allChannelsTopic is what Asterisk lists for `channel:` with an empty id.
const (
	allChannelsTopic  = "__AST_CHANNEL_ALL_TOPIC"
	allBridgesTopic   = "__AST_BRIDGE_ALL_TOPIC"
	allEndpointsTopic = "__AST_ENDPOINT_ALL_TOPIC"
	allDevicesTopic   = "__AST_DEVICE_STATE_ALL_TOPIC"
)

// application is one Stasis application's registration and subscriptions.
type application struct {
	name      string
	sock      *socket        // the WebSocket that has the app, or nil
	chans     map[string]int // channel id -> references (Stasis, explicit, originate)
	bridges   map[string]int // bridge id -> references (members added, explicit)
	endpoints map[string]int // "PJSIP/sipp" or a whole technology "PJSIP"
	devices   map[string]int
	// allChannels is `channel:` with an empty id: every channel, until the
	// node restarts (trace 10g).
	allChannels bool
}

func newApplication(name string) *application {
	return &application{name: name, chans: map[string]int{}, bridges: map[string]int{}, endpoints: map[string]int{}, devices: map[string]int{}}
}

func (a *application) subscribeAll() bool { return a.sock != nil && a.sock.subscribeAll }

// hasForwards says whether the app holds any subscription, which keeps it
// registered without a WebSocket.
func (a *application) hasForwards() bool {
	return len(a.chans) > 0 || len(a.bridges) > 0 || len(a.endpoints) > 0 || len(a.devices) > 0 || a.allChannels
}

func release(m map[string]int, id string) {
	if m[id] <= 1 {
		delete(m, id)
		return
	}
	m[id]--
}

// channelForwards is how many copies of a channel event the app gets: one
// through its channel subscriptions, one more through an endpoint
// subscription (trace 10f), one more through `channel:` with an empty id
// (every channel): a Stasis channel's ChannelHangupRequest came twice on the
// real Asterisk 22.10.1, TestDifferential/ChannelAllSubscription (the fake
// had sent one). A subscribeAll socket gets one (traces 01-08).
func (a *application) channelForwards(c *channel) int {
	if a.subscribeAll() {
		return 1
	}
	n := 0
	if a.allChannels {
		n++
	}
	if a.chans[c.id] > 0 {
		n++
	}
	if c.endpoint != "" {
		tech, _, _ := strings.Cut(c.endpoint, "/")
		if a.endpoints[c.endpoint] > 0 || a.endpoints[tech] > 0 {
			n++
		}
	}
	return n
}

// model is the Application resource; events_allowed and events_disallowed
// are always empty here (the fake has no event filters).
type appModel struct {
	Name             string   `json:"name"`
	ChannelIDs       []string `json:"channel_ids"`
	BridgeIDs        []string `json:"bridge_ids"`
	EndpointIDs      []string `json:"endpoint_ids"`
	DeviceNames      []string `json:"device_names"`
	EventsAllowed    []string `json:"events_allowed"`
	EventsDisallowed []string `json:"events_disallowed"`
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (a *application) model() appModel {
	m := appModel{Name: a.name, EventsAllowed: []string{}, EventsDisallowed: []string{}}
	if a.subscribeAll() {
		m.ChannelIDs = []string{allChannelsTopic}
		m.BridgeIDs = []string{allBridgesTopic}
		m.EndpointIDs = []string{allEndpointsTopic}
		m.DeviceNames = []string{allDevicesTopic}
		return m
	}
	m.ChannelIDs = sortedKeys(a.chans)
	if a.allChannels {
		// The all-topic is listed beside the channels: seen on the real
		// Asterisk 22.10.1, TestDifferential/ChannelAllSubscription (the
		// fake had listed the all-topic alone).
		m.ChannelIDs = append([]string{allChannelsTopic}, m.ChannelIDs...)
	}
	m.BridgeIDs = sortedKeys(a.bridges)
	m.EndpointIDs = sortedKeys(a.endpoints)
	m.DeviceNames = sortedKeys(a.devices)
	return m
}

// app returns the registration for name, creating it. Callers hold s.mu.
func (s *Server) app(name string) *application {
	a := s.apps[name]
	if a == nil {
		a = newApplication(name)
		s.apps[name] = a
	}
	return a
}

// gcApp forgets an application that has neither a WebSocket nor any
// subscription: when its socket closes (trace 07's 404), or as soon as its
// last subscription goes while the socket is down. Seen on the real
// Asterisk 22.10.1: GET /applications/callin answered 200 with the socket
// closed and a caller in Stasis, 404 once that caller had hung up,
// TestDifferential/AppGoneWithLastChannel. Callers hold s.mu.
func (s *Server) gcApp(a *application) {
	if a.sock == nil && !a.hasForwards() && s.apps[a.name] == a {
		delete(s.apps, a.name)
	}
}

// subscribeChannel adds one reference of app to channel c (StasisStart,
// originate, or an explicit subscription). Callers hold s.mu.
func (s *Server) subscribeChannel(app string, c *channel) {
	s.addRef(app, c.id, func(a *application) map[string]int { return a.chans })
}

// unsubscribeChannel releases one reference (StasisEnd releases Stasis's
// own; a reference count already at zero stays at zero, trace 10b).
func (s *Server) unsubscribeChannel(app string, c *channel) {
	s.dropRef(app, c.id, func(a *application) map[string]int { return a.chans })
}

func (s *Server) subscribeBridge(app string, b *bridge) {
	s.addRef(app, b.id, func(a *application) map[string]int { return a.bridges })
}

func (s *Server) unsubscribeBridge(app string, b *bridge) {
	s.dropRef(app, b.id, func(a *application) map[string]int { return a.bridges })
}

// addRef adds one reference of app to id in the map of refs picks.
func (s *Server) addRef(app, id string, refs func(*application) map[string]int) {
	if app == "" {
		return
	}
	refs(s.app(app))[id]++
}

// dropRef releases one reference of app to id and forgets an app left
// with nothing.
func (s *Server) dropRef(app, id string, refs func(*application) map[string]int) {
	a := s.apps[app]
	if a == nil {
		return
	}
	release(refs(a), id)
	s.gcApp(a)
}

// forgetChannel drops every subscription to a destroyed channel.
func (s *Server) forgetChannel(c *channel) {
	for _, a := range s.apps {
		if _, ok := a.chans[c.id]; ok {
			delete(a.chans, c.id)
			s.gcApp(a)
		}
	}
}

// forgetBridge drops every subscription to a destroyed bridge (trace 10e:
// bridge_ids drops it).
func (s *Server) forgetBridge(b *bridge) {
	for _, a := range s.apps {
		if _, ok := a.bridges[b.id]; ok {
			delete(a.bridges, b.id)
			s.gcApp(a)
		}
	}
}

// marshal fills the event's base for app and encodes it.
func (s *Server) marshal(app string, ev ari.Event) ([]byte, bool) {
	base := ev.Base()
	base.Application = app
	base.Timestamp = ari.Time{Time: time.Now()}
	base.AsteriskID = s.opts.AsteriskID
	b, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("aritest: marshal event", "type", base.Type, "err", err)
		return nil, false
	}
	return b, true
}

// deliver sends ev n times to a's WebSocket, if it has one; otherwise the
// event is lost, as on Asterisk. Callers hold s.mu.
func (s *Server) deliver(a *application, ev ari.Event, n int) {
	if n <= 0 || a.sock == nil {
		return
	}
	b, ok := s.marshal(a.name, ev)
	if !ok {
		return
	}
	for range n {
		a.sock.send(b)
	}
}

// toApp sends ev to the application named app only (StasisStart,
// StasisEnd, ApplicationReplaced).
func (s *Server) toApp(app string, ev ari.Event) {
	if a := s.apps[app]; a != nil {
		s.deliver(a, ev, 1)
	}
}

// onChannel publishes ev on c's topic.
func (s *Server) onChannel(c *channel, ev ari.Event) {
	for _, a := range s.apps {
		s.deliver(a, ev, a.channelForwards(c))
	}
}

// onBridge publishes ev on b's topic; a subscribeAll socket gets it dupAll
// times (2 for bridge playbacks and recordings).
func (s *Server) onBridge(b *bridge, ev ari.Event, dupAll int) {
	for _, a := range s.apps {
		switch {
		case a.subscribeAll():
			s.deliver(a, ev, dupAll)
		case a.bridges[b.id] > 0:
			s.deliver(a, ev, 1)
		}
	}
}

// onAll publishes an event only a subscribeAll socket sees (ChannelCreated
// of a channel nobody is subscribed to yet, BridgeCreated).
func (s *Server) onAll(ev ari.Event) {
	for _, a := range s.apps {
		if a.subscribeAll() {
			s.deliver(a, ev, 1)
		}
	}
}

// --- REST: /applications ---

func (s *Server) listApps(q *req) {
	names := make([]string, 0, len(s.apps))
	for name := range s.apps {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]appModel, 0, len(names))
	for _, n := range names {
		out = append(out, s.apps[n].model())
	}
	writeJSON(q.w, http.StatusOK, out)
}

func (s *Server) findApp(q *req) *application {
	a := s.apps[q.path[0]]
	if a == nil {
		writeMsg(q.w, http.StatusNotFound, "Application not found")
	}
	return a
}

func (s *Server) getApp(q *req) {
	if a := s.findApp(q); a != nil {
		writeJSON(q.w, http.StatusOK, a.model())
	}
}

// eventSource is one parsed eventSource value.
type eventSource struct{ scheme, id string }

// parseSources checks every source first, as Asterisk does, with trace
// 10g's status codes. subscribe says whether the source must exist.
func (s *Server) parseSources(q *req, a *application, subscribe bool) ([]eventSource, bool) {
	raw := q.get("eventSource")
	if raw == "" {
		writeMsg(q.w, http.StatusBadRequest, "Missing parameter eventSource")
		return nil, false
	}
	var out []eventSource
	for _, src := range strings.Split(raw, ",") {
		scheme, id, ok := strings.Cut(src, ":")
		switch {
		case !ok:
			writeMsg(q.w, http.StatusBadRequest, "Invalid event source URI scheme")
			return nil, false
		case scheme == "channel", scheme == "bridge", scheme == "endpoint", scheme == "deviceState":
		default:
			writeMsg(q.w, http.StatusBadRequest, "Invalid event source URI scheme")
			return nil, false
		}
		es := eventSource{scheme, id}
		if subscribe && !s.sourceExists(es) {
			writeMsg(q.w, http.StatusUnprocessableEntity, "Event source does not exist")
			return nil, false
		}
		if !subscribe && !a.subscribed(es) {
			writeMsg(q.w, http.StatusUnprocessableEntity, "Event source was not subscribed to")
			return nil, false
		}
		out = append(out, es)
	}
	return out, true
}

// sourceExists: a channel or bridge by id (an empty channel id is every
// channel), an endpoint the fake knows or a whole technology, and any
// device name (trace 10g accepted deviceState:Local/foo).
func (s *Server) sourceExists(es eventSource) bool {
	switch es.scheme {
	case "channel":
		return es.id == "" || s.channels[es.id] != nil
	case "bridge":
		return s.bridges[es.id] != nil
	case "endpoint":
		return s.endpointKnown(es.id)
	}
	return true
}

// endpointKnown: a technology the fake has ("PJSIP", "Local"), the SIP
// callers' endpoint "PJSIP/sipp", a configured Phone, or the endpoint of a
// live channel. Guess, cannot be checked in general: which endpoints a
// real Asterisk knows is its configuration (pjsip.conf); these are the lab's.
func (s *Server) endpointKnown(id string) bool {
	tech, res, hasRes := strings.Cut(id, "/")
	if !hasRes {
		return strings.EqualFold(tech, "PJSIP") || strings.EqualFold(tech, "Local")
	}
	if res == "" {
		return false
	}
	if strings.EqualFold(id, sipEndpoint) {
		return true
	}
	if _, ok := s.phones[id]; ok {
		return true
	}
	for _, c := range s.channels {
		if c.endpoint == id {
			return true
		}
	}
	return false
}

func (a *application) subscribed(es eventSource) bool {
	switch es.scheme {
	case "channel":
		if es.id == "" {
			return a.allChannels
		}
		return a.chans[es.id] > 0
	case "bridge":
		return a.bridges[es.id] > 0
	case "endpoint":
		return a.endpoints[es.id] > 0
	}
	return a.devices[es.id] > 0
}

// subscribe is POST /applications/{app}/subscription.
func (s *Server) subscribe(q *req) {
	a := s.findApp(q)
	if a == nil {
		return
	}
	srcs, ok := s.parseSources(q, a, true)
	if !ok {
		return
	}
	for _, es := range srcs {
		switch es.scheme {
		case "channel":
			if es.id == "" {
				a.allChannels = true
				continue
			}
			a.chans[es.id]++
		case "bridge":
			a.bridges[es.id]++
		case "endpoint":
			a.endpoints[es.id]++
		default:
			a.devices[es.id]++
		}
	}
	writeJSON(q.w, http.StatusOK, a.model())
}

// unsubscribe is DELETE /applications/{app}/subscription: one reference
// per call (trace 10b).
func (s *Server) unsubscribe(q *req) {
	a := s.findApp(q)
	if a == nil {
		return
	}
	srcs, ok := s.parseSources(q, a, false)
	if !ok {
		return
	}
	for _, es := range srcs {
		if es.scheme == "channel" && es.id == "" {
			// The subscription to every channel cannot be undone: 501
			// {"message":"Method not implemented"}, and it stays. Seen on
			// the real Asterisk 22.10.1: TestDifferential/ChannelAllSubscription.
			writeMsg(q.w, http.StatusNotImplemented, "Method not implemented")
			return
		}
	}
	for _, es := range srcs {
		switch es.scheme {
		case "channel":
			release(a.chans, es.id)
		case "bridge":
			release(a.bridges, es.id)
		case "endpoint":
			release(a.endpoints, es.id)
		default:
			release(a.devices, es.id)
		}
	}
	writeJSON(q.w, http.StatusOK, a.model())
	s.gcApp(a)
}

// Subscriptions reports what GET /applications/{app} would: the channels
// and bridges app is subscribed to (implicitly or explicitly), and ok false
// when the application does not exist.
func (s *Server) Subscriptions(app string) (ari.Application, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[app]
	if a == nil {
		return ari.Application{}, false
	}
	m := a.model()
	return ari.Application{Name: m.Name, ChannelIDs: m.ChannelIDs, BridgeIDs: m.BridgeIDs, EndpointIDs: m.EndpointIDs, DeviceNames: m.DeviceNames}, true
}
