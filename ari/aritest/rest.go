package aritest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/callin-radio/callin/ari"
)

// req is one ARI request: parameters from the query string, merged with the
// fields of a JSON object body or a form body (ARI accepts all three).
type req struct {
	w    http.ResponseWriter
	r    *http.Request
	p    url.Values
	path []string // path parameters, in order
	vars map[string]string
}

func (q *req) get(name string) string { return q.p.Get(name) }

type handler func(s *Server, q *req)

type route struct {
	pattern []string
	methods map[string]handler
}

var routes = buildRoutes()

func buildRoutes() []route {
	table := []struct {
		pattern, method string
		h               handler
	}{
		{"asterisk/info", "GET", (*Server).getInfo},
		{"asterisk/ping", "GET", (*Server).getPing},
		{"applications", "GET", (*Server).listApps},
		{"applications/*", "GET", (*Server).getApp},
		{"channels", "GET", (*Server).listChannels},
		{"channels", "POST", (*Server).originate},
		{"channels/*", "GET", (*Server).getChannel},
		{"channels/*", "POST", (*Server).originate},
		{"channels/*", "DELETE", (*Server).deleteChannel},
		{"channels/*/answer", "POST", (*Server).answer},
		{"channels/*/ring", "POST", chanOp(func(c *channel) { c.ringing = true })},
		{"channels/*/ring", "DELETE", chanOp(func(c *channel) { c.ringing = false })},
		{"channels/*/hold", "POST", chanOp(func(c *channel) { c.hold = true })},
		{"channels/*/hold", "DELETE", chanOp(func(c *channel) { c.hold = false })},
		{"channels/*/moh", "POST", chanOp(func(c *channel) { c.moh = true })},
		{"channels/*/moh", "DELETE", chanOp(func(c *channel) { c.moh = false })},
		{"channels/*/silence", "POST", chanOp(func(c *channel) {})},
		{"channels/*/silence", "DELETE", chanOp(func(c *channel) {})},
		{"channels/*/mute", "POST", (*Server).mute},
		{"channels/*/mute", "DELETE", (*Server).mute},
		{"channels/*/dtmf", "POST", (*Server).sendDTMF},
		{"channels/*/play", "POST", (*Server).playChannel},
		{"channels/*/play/*", "POST", (*Server).playChannel},
		{"channels/*/record", "POST", (*Server).recordChannel},
		{"channels/*/variable", "GET", (*Server).getVar},
		{"channels/*/variable", "POST", (*Server).setVar},
		{"channels/*/continue", "POST", (*Server).continueDialplan},
		{"bridges", "GET", (*Server).listBridges},
		{"bridges", "POST", (*Server).createBridge},
		{"bridges/*", "GET", (*Server).getBridge},
		{"bridges/*", "POST", (*Server).createBridge},
		{"bridges/*", "DELETE", (*Server).deleteBridge},
		{"bridges/*/addChannel", "POST", (*Server).addChannel},
		{"bridges/*/removeChannel", "POST", (*Server).removeChannel},
		{"bridges/*/moh", "POST", (*Server).bridgeMOH},
		{"bridges/*/moh", "DELETE", (*Server).bridgeMOH},
		{"bridges/*/play", "POST", (*Server).playBridge},
		{"bridges/*/play/*", "POST", (*Server).playBridge},
		{"bridges/*/record", "POST", (*Server).recordBridge},
		{"playbacks/*", "GET", (*Server).getPlayback},
		{"playbacks/*", "DELETE", (*Server).deletePlayback},
		{"playbacks/*/control", "POST", (*Server).controlPlayback},
		{"recordings/live/*", "GET", (*Server).getRecording},
		{"recordings/live/*", "DELETE", (*Server).stopRecording},
		{"recordings/live/*/stop", "POST", (*Server).stopRecording},
	}
	var out []route
	for _, t := range table {
		pat := strings.Split(t.pattern, "/")
		found := false
		for i := range out {
			if slicesEqual(out[i].pattern, pat) {
				out[i].methods[t.method] = t.h
				found = true
			}
		}
		if !found {
			out = append(out, route{pattern: pat, methods: map[string]handler{t.method: t.h}})
		}
	}
	return out
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s *Server) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return u == s.opts.User && p == s.opts.Password
	}
	if k := r.URL.Query().Get("api_key"); k != "" {
		return k == s.opts.User+":"+s.opts.Password
	}
	return false
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/ari/")
	if !ok {
		writeMsg(w, http.StatusNotFound, "Resource not found")
		return
	}
	if !s.authorized(r) {
		writeMsg(w, http.StatusUnauthorized, "Authentication required")
		return
	}
	if rest == "events" {
		s.serveEvents(w, r)
		return
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for _, rt := range routes {
		params, ok := match(rt.pattern, segs)
		if !ok {
			continue
		}
		h := rt.methods[r.Method]
		if h == nil {
			writeMsg(w, http.StatusMethodNotAllowed, "Invalid method")
			return
		}
		q, ok := parseReq(w, r)
		if !ok {
			return
		}
		q.path = params
		s.mu.Lock()
		h(s, q)
		s.mu.Unlock()
		return
	}
	writeMsg(w, http.StatusNotFound, "Resource not found")
}

func match(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		switch {
		case p == "*":
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params = append(params, v)
		case p != segs[i]:
			return nil, false
		}
	}
	return params, true
}

func parseReq(w http.ResponseWriter, r *http.Request) (*req, bool) {
	q := &req{w: w, r: r, p: r.URL.Query()}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return q, true
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				if !q.p.Has(k) {
					q.p[k] = v
				}
			}
		}
		return q, true
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		writeMsg(w, http.StatusBadRequest, "Error parsing request body")
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return q, true // a JSON array body is ignored (trace 05)
	}
	for k, v := range obj {
		if k == "variables" {
			if m, ok := v.(map[string]any); ok {
				if inner, ok := m["variables"].(map[string]any); ok {
					m = inner
				}
				q.vars = map[string]string{}
				for vk, vv := range m {
					q.vars[vk] = scalar(vv)
				}
			}
			continue
		}
		if q.p.Has(k) {
			continue
		}
		q.p.Set(k, scalar(v))
	}
	return q, true
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// --- asterisk, applications ---

func (s *Server) getInfo(q *req) {
	var info ari.AsteriskInfo
	info.System.Version = "22.10.1"
	info.System.EntityID = s.opts.AsteriskID
	info.Status.StartupTime = ari.Time{Time: s.startup}
	info.Status.LastReloadTime = ari.Time{Time: s.startup}
	info.Build = json.RawMessage(`{"os":"Linux","kernel":"aritest","machine":"x86_64","options":"","date":"","user":"aritest"}`)
	info.Config = json.RawMessage(`{"name":"","default_language":"en","setid":{"user":"asterisk","group":"asterisk"}}`)
	writeJSON(q.w, http.StatusOK, info)
}

func (s *Server) getPing(q *req) {
	writeJSON(q.w, http.StatusOK, ari.AsteriskPing{AsteriskID: s.opts.AsteriskID, Ping: "pong", Timestamp: time.Now().UTC().Format(ari.TimeLayout)})
}

func (s *Server) listApps(q *req) {
	out := []ari.Application{}
	for name := range s.apps {
		out = append(out, s.appModel(name))
	}
	writeJSON(q.w, http.StatusOK, out)
}

func (s *Server) getApp(q *req) {
	name := q.path[0]
	if s.apps[name] == nil {
		writeMsg(q.w, http.StatusNotFound, "Application not found")
		return
	}
	writeJSON(q.w, http.StatusOK, s.appModel(name))
}

// --- channels ---

func (s *Server) listChannels(q *req) {
	out := make([]ari.Channel, 0, len(s.channels))
	for _, c := range s.channelsInOrder() {
		out = append(out, c.snapshot())
	}
	writeJSON(q.w, http.StatusOK, out)
}

func (s *Server) findChannel(q *req) *channel {
	c := s.channels[q.path[0]]
	if c == nil {
		writeMsg(q.w, http.StatusNotFound, "Channel not found")
	}
	return c
}

// stasisChannel finds the path channel and insists it is in Stasis (409).
func (s *Server) stasisChannel(q *req) *channel {
	c := s.findChannel(q)
	if c != nil && !c.stasis {
		writeMsg(q.w, http.StatusConflict, "Channel not in Stasis application")
		return nil
	}
	return c
}

func chanOp(f func(c *channel)) handler {
	return func(s *Server, q *req) {
		if c := s.stasisChannel(q); c != nil {
			f(c)
			q.w.WriteHeader(http.StatusNoContent)
		}
	}
}

func (s *Server) getChannel(q *req) {
	if c := s.findChannel(q); c != nil {
		writeJSON(q.w, http.StatusOK, c.snapshot())
	}
}

func (s *Server) deleteChannel(q *req) {
	c := s.findChannel(q)
	if c == nil {
		return
	}
	cause := 16
	if rc := q.get("reason_code"); rc != "" {
		n, err := strconv.Atoi(rc)
		if err != nil {
			writeMsg(q.w, http.StatusBadRequest, "Invalid reason for hangup reason provided")
			return
		}
		cause = n
	} else if rs := q.get("reason"); rs != "" {
		n, ok := hangupReasons[rs]
		if !ok {
			writeMsg(q.w, http.StatusBadRequest, "Invalid reason for hangup reason provided")
			return
		}
		cause = n
	}
	q.w.WriteHeader(http.StatusNoContent)
	if !c.stasis {
		s.hangup(c, hangPhone, cause) // a phone half: the caller hangs up
		return
	}
	s.hangup(c, hangApp, cause)
}

func (s *Server) answer(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
	s.answerChannel(c)
}

func (s *Server) answerChannel(c *channel) {
	if c.state == ari.StateUp {
		return
	}
	c.state = ari.StateUp
	c.ringing = false
	s.emit(c.app, &ari.ChannelStateChange{EventBase: base(ari.TypeChannelStateChange), Channel: c.snapshot()})
	if c.call != nil {
		c.call.answered(s, c)
	}
}

func validDir(d string) bool { return d == ari.DirIn || d == ari.DirOut || d == ari.DirBoth }

func (s *Server) mute(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	dir := q.get("direction")
	if dir == "" {
		if q.r.Method == http.MethodDelete {
			writeMsg(q.w, http.StatusBadRequest, "Direction is required")
			return
		}
		dir = ari.DirBoth
	}
	if !validDir(dir) {
		writeMsg(q.w, http.StatusBadRequest, "Invalid direction specified")
		return
	}
	on := q.r.Method == http.MethodPost
	if dir != ari.DirOut {
		c.muteIn = on
		if on {
			s.endTalking(c, true)
		}
	}
	if dir != ari.DirIn {
		c.muteOut = on
	}
	q.w.WriteHeader(http.StatusNoContent)
}

func (s *Server) sendDTMF(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	if q.get("dtmf") == "" {
		writeMsg(q.w, http.StatusBadRequest, "DTMF is required")
		return
	}
	// The digits go out to the caller's phone, which is not in Stasis: no
	// event on this channel (trace 06, f3).
	q.w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getVar(q *req) {
	c := s.channels[q.path[0]]
	if c == nil {
		writeMsg(q.w, http.StatusNotFound, "Provided channel was not found")
		return
	}
	name := q.get("variable")
	if name == "" {
		writeMsg(q.w, http.StatusBadRequest, "Variable name is required")
		return
	}
	var v string
	var ok bool
	switch name {
	case "CALLERID(num)":
		v, ok = c.caller.Number, true
	case "CALLERID(name)":
		v, ok = c.caller.Name, true
	default:
		v, ok = c.vars[name]
	}
	if !ok {
		writeMsg(q.w, http.StatusNotFound, "Provided variable was not found")
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{"value": v})
}

func (s *Server) setVar(q *req) {
	c := s.findChannel(q)
	if c == nil {
		return
	}
	name := q.get("variable")
	if name == "" {
		writeMsg(q.w, http.StatusBadRequest, "Variable name is required")
		return
	}
	switch name {
	case "TALK_DETECT(set)":
		c.talkDetect = true
	case "TALK_DETECT(remove)":
		c.talkDetect = false
		s.endTalking(c, false)
	default:
		if c.vars == nil {
			c.vars = map[string]string{}
		}
		c.vars[name] = q.get("value")
	}
	q.w.WriteHeader(http.StatusNoContent)
}

func (s *Server) continueDialplan(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
	// The dialplans the fake models hang up after Stasis() returns.
	s.hangup(c, hangContinue, 16)
}

// originate is POST /channels and POST /channels/{id}.
func (s *Server) originate(q *req) {
	id := q.get("channelId")
	if len(q.path) == 1 {
		id = q.path[0]
	}
	endpoint := q.get("endpoint")
	app, exten := q.get("app"), q.get("extension")
	if endpoint == "" {
		writeMsg(q.w, http.StatusBadRequest, "Endpoint must be specified")
		return
	}
	if app == "" && exten == "" {
		writeMsg(q.w, http.StatusBadRequest, "Application or extension must be specified")
		return
	}
	tech, resource, _ := strings.Cut(endpoint, "/")
	switch strings.ToUpper(tech) {
	case "LOCAL", "PJSIP", "SIP", "IAX2", "DAHDI":
	default:
		writeJSON(q.w, http.StatusInternalServerError, map[string]string{"error": "Allocation failed"})
		return
	}
	other := q.get("otherChannelId")
	for _, x := range []string{id, other} {
		if x != "" && s.channels[x] != nil {
			writeMsg(q.w, http.StatusConflict, "Channel with given unique ID already exists")
			return
		}
	}
	if id == "" {
		id = s.newChannelID()
	}
	caller := parseCallerID(q.get("callerId"))

	if strings.EqualFold(tech, "Local") {
		dest, context, _ := strings.Cut(resource, "@")
		if e, ok := s.opts.Dialplan[dest+"@"+context]; ok {
			// A dial-in caller simulated with a Local pair (traces 01-07):
			// the `;2` half enters Stasis, the `;1` half is its phone.
			in := other
			if in == "" {
				in = id + ";2"
			}
			co := CallOptions{App: e.App, Args: e.Args, Answered: e.Answer, Number: caller.Number, Name: caller.Name,
				ChannelID: in, PhoneID: id, Exten: dest, Context: context, phoneExten: exten}
			c, err := s.startCall(co)
			if err != nil {
				// Stasis() failed: both halves are gone at once (trace 07, g4).
				writeJSON(q.w, http.StatusOK, ari.Channel{ID: id, Name: "Local/" + resource + "-00000000;1", State: ari.StateDown, Caller: caller, Connected: caller, CreationTime: ari.Time{Time: time.Now()}, Language: "en"})
				return
			}
			writeJSON(q.w, http.StatusOK, c.peer.snapshot())
			return
		}
		if app != "" && context != "" && context != "sim-caller" && context != "default" {
			// Nowhere to go: 200, then both halves are destroyed, cause 0 (trace 05, e6).
			c := &channel{id: id, name: endpoint + "-00000000;1", state: ari.StateDown, caller: caller, created: time.Now(), app: app}
			writeJSON(q.w, http.StatusOK, c.snapshot())
			far := *c
			far.id, far.state = id+";2", ari.StateRing
			if other != "" {
				far.id = other
			}
			for _, x := range []*channel{&far, c} {
				s.emit(app, &ari.ChannelDestroyed{EventBase: base(ari.TypeChannelDestroyed), Cause: 0, CauseTxt: causeText(0), Channel: x.snapshot()})
			}
			return
		}
	}
	if app == "" {
		writeMsg(q.w, http.StatusBadRequest, "Application or extension must be specified")
		return
	}
	// Originate into the app: the far end answers at once and the channel
	// enters Stasis already Up (traces 04 d4 and 08).
	s.chanSeq++
	c := &channel{seq: s.chanSeq, id: id, state: ari.StateDown, caller: caller, created: time.Now(), kind: kindOriginated,
		stasis: true, app: app, args: splitArgs(q.get("appArgs")), done: make(chan struct{})}
	c.name = endpoint + "-" + strconv.FormatInt(int64(0x10000000+c.seq), 16)[1:]
	if strings.EqualFold(tech, "Local") {
		c.name += ";1"
	}
	c.dialplan = ari.DialplanCEP{Context: "default", Exten: "s", Priority: 1, AppName: "Stasis", AppData: app}
	c.vars = q.vars
	s.channels[id] = c
	if strings.EqualFold(tech, "Local") {
		farID := other
		if farID == "" {
			farID = id + ";2"
		}
		s.chanSeq++
		far := &channel{seq: s.chanSeq, id: farID, name: strings.TrimSuffix(c.name, ";1") + ";2", state: ari.StateUp, caller: caller,
			created: c.created, kind: kindOriginated, peer: c, done: make(chan struct{})}
		c.peer = far
		s.channels[farID] = far
	}
	writeJSON(q.w, http.StatusOK, c.snapshot())
	c.state = ari.StateUp
	s.emit(app, &ari.ChannelStateChange{EventBase: base(ari.TypeChannelStateChange), Channel: c.snapshot()})
	s.emit(app, &ari.StasisStart{EventBase: base(ari.TypeStasisStart), Args: c.args, Channel: c.snapshot()})
}

func parseCallerID(s string) ari.CallerID {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "<"); i >= 0 && strings.HasSuffix(s, ">") {
		return ari.CallerID{Name: strings.Trim(strings.TrimSpace(s[:i]), `"`), Number: s[i+1 : len(s)-1]}
	}
	return ari.CallerID{Number: s}
}

// --- playbacks ---

func (s *Server) newPlayback(q *req, idIndex int) (*playback, bool) {
	media := q.get("media")
	var uris []string
	for _, m := range strings.Split(media, ",") {
		if m = strings.TrimSpace(m); m != "" {
			uris = append(uris, m)
		}
	}
	if len(uris) == 0 {
		writeMsg(q.w, http.StatusInternalServerError, "Failed to queue media for playback")
		return nil, false
	}
	id := q.get("playbackId")
	if len(q.path) > idIndex {
		id = q.path[idIndex]
	}
	if id == "" {
		id = newUUID()
	}
	lang := q.get("lang")
	if lang == "" {
		lang = "en"
	}
	return &playback{id: id, media: uris, lang: lang, state: ari.PlaybackQueued}, true
}

func (s *Server) playChannel(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	p, ok := s.newPlayback(q, 1)
	if !ok {
		return
	}
	p.ch, p.target = c, "channel:"+c.id
	writeJSON(q.w, http.StatusCreated, p.model())
	s.queuePlayback(p)
}

func (s *Server) playBridge(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	p, ok := s.newPlayback(q, 1)
	if !ok {
		return
	}
	p.br, p.target = b, "bridge:"+b.id
	writeJSON(q.w, http.StatusCreated, p.model())
	s.queuePlayback(p)
}

func (s *Server) findPlayback(q *req) *playback {
	p := s.playbacks[q.path[0]]
	if p == nil {
		writeMsg(q.w, http.StatusNotFound, "Playback not found")
	}
	return p
}

func (s *Server) getPlayback(q *req) {
	if p := s.findPlayback(q); p != nil {
		writeJSON(q.w, http.StatusOK, p.model())
	}
}

func (s *Server) deletePlayback(q *req) {
	if p := s.findPlayback(q); p != nil {
		q.w.WriteHeader(http.StatusNoContent)
		s.stopPlayback(p)
	}
}

func (s *Server) controlPlayback(q *req) {
	p := s.findPlayback(q)
	if p == nil {
		return
	}
	switch q.get("operation") {
	case "restart", "pause", "unpause", "reverse", "forward":
	default:
		writeMsg(q.w, http.StatusBadRequest, "Invalid operation")
		return
	}
	if p.state != ari.PlaybackPlaying {
		writeMsg(q.w, http.StatusConflict, "Playback not playing")
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// --- bridges ---

func (s *Server) findBridge(q *req) *bridge {
	b := s.bridges[q.path[0]]
	if b == nil {
		writeMsg(q.w, http.StatusNotFound, "Bridge not found")
	}
	return b
}

func (s *Server) listBridges(q *req) {
	out := make([]ari.Bridge, 0, len(s.bridges))
	for _, b := range s.bridges {
		out = append(out, b.snapshot())
	}
	writeJSON(q.w, http.StatusOK, out)
}

func (s *Server) getBridge(q *req) {
	if b := s.findBridge(q); b != nil {
		writeJSON(q.w, http.StatusOK, b.snapshot())
	}
}

func (s *Server) createBridge(q *req) {
	id := q.get("bridgeId")
	if len(q.path) == 1 {
		id = q.path[0]
	}
	typ := ari.BridgeMixing
	for _, t := range strings.Split(q.get("type"), ",") {
		switch t {
		case "", "mixing", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label":
		case "holding":
			typ = ari.BridgeHolding
		default:
			writeMsg(q.w, http.StatusInternalServerError, "Unable to create bridge. Possible duplicate bridge id '(null)'")
			return
		}
	}
	if id != "" && s.bridges[id] != nil {
		writeMsg(q.w, http.StatusConflict, "Bridge with id '"+id+"' already exists")
		return
	}
	if id == "" {
		id = newUUID()
	}
	b := &bridge{id: id, name: q.get("name"), typ: typ, created: time.Now(), index: map[string]int{}}
	s.bridges[id] = b
	writeJSON(q.w, http.StatusOK, b.snapshot())
	s.emit(b.app, &ari.BridgeCreated{EventBase: base(ari.TypeBridgeCreated), Bridge: b.snapshot()})
}

func (s *Server) deleteBridge(q *req) {
	if b := s.findBridge(q); b != nil {
		q.w.WriteHeader(http.StatusNoContent)
		s.destroyBridge(b)
	}
}

// bridgeChannels resolves the comma-separated channel parameter of
// addChannel/removeChannel with their status codes (400, then 422).
func (s *Server) bridgeChannels(q *req) ([]*channel, bool) {
	raw := q.get("channel")
	if raw == "" {
		writeMsg(q.w, http.StatusBadRequest, "Missing parameter channel")
		return nil, false
	}
	var out []*channel
	for _, id := range strings.Split(raw, ",") {
		c := s.channels[strings.TrimSpace(id)]
		if c == nil {
			writeMsg(q.w, http.StatusBadRequest, "Channel not found")
			return nil, false
		}
		out = append(out, c)
	}
	for _, c := range out {
		if !c.stasis {
			writeMsg(q.w, http.StatusUnprocessableEntity, "Channel not in Stasis application")
			return nil, false
		}
	}
	return out, true
}

func (s *Server) addChannel(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	chans, ok := s.bridgeChannels(q)
	if !ok {
		return
	}
	role := q.get("role")
	q.w.WriteHeader(http.StatusNoContent)
	for _, c := range chans {
		s.enterBridge(b, c, role)
		if q.get("mute") == "true" {
			c.muteIn = true
		}
	}
}

func (s *Server) removeChannel(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	chans, ok := s.bridgeChannels(q)
	if !ok {
		return
	}
	for _, c := range chans {
		if c.bridge != b {
			writeMsg(q.w, http.StatusUnprocessableEntity, "Channel not in this bridge")
			return
		}
	}
	q.w.WriteHeader(http.StatusNoContent)
	for _, c := range chans {
		s.leaveBridge(c)
	}
}

func (s *Server) bridgeMOH(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	if q.r.Method == http.MethodDelete {
		if !b.mohPlaying {
			writeMsg(q.w, http.StatusConflict, "Bridge isn't playing music")
			return
		}
		b.mohPlaying = false
		q.w.WriteHeader(http.StatusNoContent)
		return
	}
	b.mohClass = q.get("mohClass")
	// Bridge music is the bridge's one announcer: with an announcer channel
	// present it is accepted but never plays (trace 01, a6).
	if b.announcer == "" {
		b.mohPlaying = true
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// --- recordings ---

var recordFormats = map[string]bool{"wav": true, "gsm": true, "ulaw": true, "alaw": true, "sln": true, "slin": true, "g722": true, "wav16": true}

func (s *Server) newRecording(q *req) *recording {
	name, format := q.get("name"), q.get("format")
	if name == "" || format == "" {
		writeMsg(q.w, http.StatusBadRequest, "Invalid parameters")
		return nil
	}
	if !recordFormats[format] {
		writeMsg(q.w, http.StatusUnprocessableEntity, "The format specified is unknown on this system")
		return nil
	}
	if s.recs[name] != nil {
		writeMsg(q.w, http.StatusConflict, "A recording with the same name already exists on the system and can not be overwritten because it is in progress or ifExists=fail")
		return nil
	}
	return &recording{name: name, format: format, state: "queued", started: time.Now()}
}

func (s *Server) startRecording(q *req, r *recording) {
	s.recs[r.name] = r
	writeJSON(q.w, http.StatusCreated, r.model())
	r.state = "recording"
	s.emit(r.app(), &ari.RecordingStarted{EventBase: base(ari.TypeRecordingStarted), Recording: r.model()})
}

func (s *Server) recordBridge(q *req) {
	b := s.findBridge(q)
	if b == nil {
		return
	}
	r := s.newRecording(q)
	if r == nil {
		return
	}
	r.br, r.target = b, "bridge:"+b.id
	b.rec = r
	s.startRecording(q, r)
}

func (s *Server) recordChannel(q *req) {
	c := s.stasisChannel(q)
	if c == nil {
		return
	}
	r := s.newRecording(q)
	if r == nil {
		return
	}
	r.ch, r.target = c, "channel:"+c.id
	s.startRecording(q, r)
}

func (s *Server) findRecording(q *req) *recording {
	r := s.recs[q.path[0]]
	if r == nil {
		writeMsg(q.w, http.StatusNotFound, "Recording not found")
	}
	return r
}

func (s *Server) getRecording(q *req) {
	if r := s.findRecording(q); r != nil {
		writeJSON(q.w, http.StatusOK, r.model())
	}
}

// stopRecording is POST .../stop (state done) and DELETE (state canceled).
func (s *Server) stopRecording(q *req) {
	r := s.findRecording(q)
	if r == nil {
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
	state := "done"
	if q.r.Method == http.MethodDelete {
		state = "canceled"
	}
	s.finishRecording(r, state)
}
