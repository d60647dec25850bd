package aritest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
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

// routes is the fake's route table. It is matched by hand rather than by
// http.ServeMux patterns because Asterisk's 404 and 405 answers carry its
// own JSON bodies, which the conformance test compares, and a stored
// recording's name may hold an escaped slash, which stays one segment.
var routes = buildRoutes()

func buildRoutes() []route {
	table := []struct {
		pattern, method string
		h               handler
	}{
		{"asterisk/info", "GET", (*Server).getInfo},
		{"asterisk/ping", "GET", (*Server).getPing},
		{"asterisk/variable", "GET", (*Server).getGlobalVar},
		{"asterisk/variable", "POST", (*Server).setGlobalVar},
		{"applications", "GET", (*Server).listApps},
		{"applications/*", "GET", (*Server).getApp},
		{"applications/*/subscription", "POST", (*Server).subscribe},
		{"applications/*/subscription", "DELETE", (*Server).unsubscribe},
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
		{"channels/*/moh", "POST", chanOp(func(c *channel) { c.moh, c.heardMusic = true, true })},
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
		{"channels/*/rtp_statistics", "GET", (*Server).rtpStatistics},
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
		{"recordings/live/*/pause", "POST", (*Server).recordingOp},
		{"recordings/live/*/pause", "DELETE", (*Server).recordingOp},
		{"recordings/live/*/mute", "POST", (*Server).recordingOp},
		{"recordings/live/*/mute", "DELETE", (*Server).recordingOp},
		{"recordings/stored", "GET", (*Server).listStored},
		{"recordings/stored/*", "GET", (*Server).getStored},
		{"recordings/stored/*", "DELETE", (*Server).deleteStored},
		{"recordings/stored/*/file", "GET", (*Server).storedFile},
	}
	var out []route
	for _, t := range table {
		pat := strings.Split(t.pattern, "/")
		found := false
		for i := range out {
			if slices.Equal(out[i].pattern, pat) {
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
	if rest == "events" && s.refuseDial(w) {
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
	// Split the escaped path: a recording named "a/b" is one segment, a%2Fb.
	rest = strings.TrimPrefix(r.URL.EscapedPath(), "/ari/")
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
	// A visible phone or far half: its Stasis side hangs up after it.
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
	s.stateChanged(c)
	s.trunkAnswered(c)
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
	switch {
	case name == "CALLERID(num)":
		v, ok = c.caller.Number, true
	case name == "CALLERID(name)":
		v, ok = c.caller.Name, true
	case strings.HasPrefix(name, "CHANNEL("):
		if v, ok = c.channelFunction(name); !ok {
			writeMsg(q.w, http.StatusInternalServerError, "Unable to read provided function")
			return
		}
	default:
		v, ok = c.vars[name]
	}
	if !ok {
		writeMsg(q.w, http.StatusNotFound, "Provided variable was not found")
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]string{"value": v})
}

// channelFunction reads CHANNEL(...) as trace 16 shows: RTP, RTCP and
// PJSIP items only on a PJSIP channel, formats on any. The statistics are
// fixed plausible values (the fake carries no media).
func (c *channel) channelFunction(name string) (string, bool) {
	item := strings.TrimSuffix(strings.TrimPrefix(name, "CHANNEL("), ")")
	switch item {
	case "audionativeformat":
		return "(ulaw)", true
	case "audioreadformat", "audiowriteformat":
		return "ulaw", true
	}
	if !c.sip {
		return "", false
	}
	switch item {
	case "rtcp,all":
		return "ssrc=286696211;themssrc=3390111744;lp=0;rxjitter=0.000000;rxcount=151;txjitter=0.000500;txcount=152;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000", true
	case "rtcp,all_jitter":
		return "minrxjitter=000.000000;maxrxjitter=000.002500;avgrxjitter=000.000498;stdevrxjitter=000.000514;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;", true
	case "rtcp,all_loss":
		return "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;", true
	case "rtcp,all_rtt":
		return "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;", true
	case "rtp,src":
		return "127.0.0.1:14622", true
	case "rtp,dest":
		return "127.0.0.1:7000", true
	case "pjsip,remote_addr":
		return "127.0.0.1:5081", true
	}
	return "", false
}

// rtpStatistics is GET /channels/{id}/rtp_statistics (trace 16): 200 for
// a PJSIP channel, 403 for any other, 404 for none.
func (s *Server) rtpStatistics(q *req) {
	c := s.findChannel(q)
	if c == nil {
		return
	}
	if !c.sip {
		writeMsg(q.w, http.StatusForbidden, "Unsupported channel type")
		return
	}
	n := int(time.Since(c.created).Seconds() * 50)
	writeJSON(q.w, http.StatusOK, map[string]any{
		"channel_uniqueid": c.id, "local_ssrc": 286696211, "remote_ssrc": 3390111744,
		"txcount": n, "rxcount": n, "txoctetcount": n * 160, "rxoctetcount": n * 160,
		"txjitter": 0.0005, "rxjitter": 0, "txploss": 0, "rxploss": 0, "txmes": 0, "rxmes": 0,
		"rtt": 0, "maxrtt": 0, "minrtt": 0, "normdevrtt": 0, "stdevrtt": 0,
		"local_maxjitter": 0.0025, "local_minjitter": 0, "local_normdevjitter": 0.0005, "local_stdevjitter": 0.0005,
		"local_maxrxploss": 0, "local_minrxploss": 0, "local_normdevrxploss": 0, "local_stdevrxploss": 0,
		"local_maxmes": 0, "local_minmes": 0, "local_normdevmes": 0, "local_stdevmes": 0,
		"remote_maxjitter": 0, "remote_minjitter": 0, "remote_normdevjitter": 0, "remote_stdevjitter": 0,
		"remote_maxrxploss": 0, "remote_minrxploss": 0, "remote_normdevrxploss": 0, "remote_stdevrxploss": 0,
		"remote_maxmes": 0, "remote_minmes": 0, "remote_normdevmes": 0, "remote_stdevmes": 0,
	})
}

// refuseDial answers a WebSocket dial the way a restarting node did in
// trace 17 while RefuseDials has dials left: a TCP reset, then 503.
func (s *Server) refuseDial(w http.ResponseWriter) bool {
	s.mu.Lock()
	reset := s.refuse.resets > 0
	notBooted := !reset && s.refuse.notBooted > 0
	if reset {
		s.refuse.resets--
	} else if notBooted {
		s.refuse.notBooted--
	}
	s.mu.Unlock()
	switch {
	case reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			return false
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return true
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, not FIN
		}
		_ = conn.Close()
		return true
	case notBooted:
		writeMsg(w, http.StatusServiceUnavailable, "Asterisk not booted")
		return true
	}
	return false
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
	if c := s.stasisChannel(q); c != nil {
		s.play(q, func(p *playback) { p.ch, p.target = c, "channel:"+c.id })
	}
}

func (s *Server) playBridge(q *req) {
	if b := s.findBridge(q); b != nil {
		s.play(q, func(p *playback) { p.br, p.target = b, "bridge:"+b.id })
	}
}

// play starts a playback of the request's media on the target aim sets.
func (s *Server) play(q *req, aim func(*playback)) {
	p, ok := s.newPlayback(q, 1)
	if !ok {
		return
	}
	aim(p)
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
	// Nobody is subscribed to a new bridge, not even the app that made it:
	// only a subscribeAll socket sees BridgeCreated (traces 09-18).
	s.onBridge(b, &ari.BridgeCreated{EventBase: base(ari.TypeBridgeCreated), Bridge: b.snapshot()}, 1)
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
		s.leaveBridge(c, false)
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
		b.mohLeaving = s.opts.AnnouncerRace // trace 19r
		q.w.WriteHeader(http.StatusNoContent)
		return
	}
	b.mohLeaving = 0
	b.mohClass = q.get("mohClass")
	q.w.WriteHeader(http.StatusNoContent)
	// Idempotent: 204 and still one announcer while music plays (trace
	// 12e). Bridge music is the bridge's one announcer: with an announcer
	// channel present it is accepted but never plays (trace 01, a6); the
	// same while a bridge playback's announcer is in the bridge (the next
	// DELETE /moh answered 409 on the real Asterisk 22.10.1,
	// TestDifferential/BridgeMusicAndPlayback; asked for right at
	// PlaybackStarted, before that announcer had joined, the music played
	// in 2 runs of 5, a race the fake does not model). Music
	// started on an empty bridge stays until a member has come and gone
	// (trace 12a).
	if b.mohPlaying || b.announcer != "" || (len(b.queue) > 0 && b.queue[0].state == ari.PlaybackPlaying) {
		return
	}
	b.mohPlaying = true
	b.mohChannel = s.newChannelID()
	for _, id := range b.members {
		if c := s.channels[id]; c != nil && c.hearsMusic() {
			c.heardMusic = true
		}
	}
}
