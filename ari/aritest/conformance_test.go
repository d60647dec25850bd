package aritest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/callin-radio/callin/ari/aritest"
)

// The conformance test replays every recorded trace (testdata/, a copy of
// shared/ari-traces kept identical by TestTracesUpToDate) against the
// fake: the same REST calls must give the same status codes (and error
// messages), and every compared entity (a channel, a playback, a bridge, a
// recording) must see the same sequence of acted-on event types with the
// same causes, soft flags, states and bridges. Before each request the
// replay waits until the fake has sent every compared event that the real
// Asterisk had sent before that request, so timing follows causality, not
// sleeps.
//
// Files 01-08 were recorded on a subscribeAll socket and are replayed on
// one. Files 09-18 recorded two sockets; the replay opens both and compares
// the `app` socket (app callin, no subscribeAll, exactly how callin
// connects): the fake must send it what the real one got and nothing more,
// for every channel, including phone and far halves. Of the `all` socket
// (app observer, subscribeAll) only ChannelDestroyed is compared.
//
// What the fake does not reproduce is listed in notModelled and skipped
// with a t.Log naming the reason.

const tracesDir = "testdata"

// sharedTracesDir is where the recorded traces live beside the repository,
// or $ARI_TRACES.
func sharedTracesDir() string {
	if d := os.Getenv("ARI_TRACES"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "ari-traces")
}

// notModelled: entity keys and requests the fake does not reproduce, and why.
var notModelled = map[string]string{
	"ch:f-phone":  "both halves of Local/102 in Stasis: the fake models a caller as one Stasis channel (f-in); its phone's MOH and DTMF are mapped onto Call.Talk and Call.DTMF",
	"ch:f-snoop":  "snoop channels are not implemented",
	"pb:f-sil":    "playback on f-phone, the phone half the fake keeps internal",
	"08a-stall":   "08a's admission stall comes from slin192 transcoding of MOH, a media cost the fake does not have; only its first 64 callers' events are compared",
	"08-scale":    "file 08 logs its bulk REST calls only as summaries: they are rebuilt (originate app=callin formats=ulaw, addChannel, 10 promotions, DELETE) for the first 70 callers",
	"raw-400":     "file 05's raw double 400 response to an upgrade without app= is a socket-level quirk; only the status is checked",
	"race-pairs":  "adjacent events whose order is a race in Asterisk are compared in one canonical order: ChannelHangupRequest(0) and ChannelLeftBridge at shutdown (07 g1/g3, 17 w2), ChannelStateChange(Ringing) and Dial(RINGING) (13 scr4/scr6)",
	"hangupcause": "09's GET HANGUPCAUSE right after a hangup request is a race in Asterisk (200 three times in twelve, else 404): the fake has already forgotten the channel, so its status is not compared",
	"varsets":     "ChannelVarset other than RTPAUDIOQOS* and STASISSTATUS (BRIDGEPEER, BRIDGEPVTCALLID, RTPAUDIOQOS*BRIDGED, SIPDOMAIN) is not emitted; ChannelDialplan, ChannelCallerId, ChannelConnectedLine, DeviceStateChanged are not emitted",
	"endpoint":    "EndpointStateChange (10f, an endpoint subscription) is not emitted",
	"lists":       "the channel lists of bridge events are not compared: the last member's ChannelLeftBridge sometimes lists the music's announcer (a race, 12b; see TestAnnouncerLeak), and 12f's parallel DELETEs interleave",
	"cli":         "cli:* records are Asterisk CLI output and music:* packet counts media measurements: music:* is checked as 'the bridge's music plays' and 'the SIP caller hears music (tx > 20 packets)'",
	"sipp":        "SIP callers (sipp) have no REST call: the replay injects CallOptions{SIP: true} callers at their first event and hangs them up (a BYE) at their first RTPAUDIOQOS event; a screener phone (13) is set with SetPhone from the note naming its sipp scenario, and its BYE is Caller(id).Hangup",
	"all-socket":  "of the subscribeAll socket of files 09-18 only ChannelDestroyed is compared, for the channels compared on app: the rest is dialplan, caller-id and device-state noise",
	"14-crash":    "14: POST /record without format crashed Asterisk 22.10.1; the fake answers 400, and the rest of the file (requests to a dead node) is not replayed",
	"18-bulk":     "18 logs no addChannel and compact events: its 50 SIP callers are injected, bridged and hung up by the replay; the app socket's per-channel sequences and event counts by type are compared",
	"play-state":  "the state in a /play's 201 is \"playing\" when Asterisk started the playback before answering (a race, 03 and 09 d1); the fake answers \"queued\"",
	"13-timing":   "13's ring, answer and timeout delays are scaled by TimeScale; the fake's originate timeout starts at the request",
}

// comparedTypes are the events the callin service acts on.
var comparedTypes = map[string]bool{
	"StasisStart": true, "StasisEnd": true, "ChannelEnteredBridge": true, "ChannelLeftBridge": true,
	"ChannelHangupRequest": true, "ChannelDestroyed": true, "ChannelStateChange": true,
	"PlaybackStarted": true, "PlaybackContinuing": true, "PlaybackFinished": true,
	"RecordingStarted": true, "RecordingFinished": true, "ChannelTalkingStarted": true,
	"ChannelTalkingFinished": true, "ChannelDtmfReceived": true, "BridgeCreated": true,
	"BridgeDestroyed": true, "ApplicationReplaced": true,
}

// appTypes are compared in addition on the app socket of files 09-18.
var appTypes = map[string]bool{"Dial": true, "ChannelVarset": true, "ChannelCreated": true}

// comparedVars are the ChannelVarset variables compared.
var comparedVars = map[string]bool{
	"RTPAUDIOQOS": true, "RTPAUDIOQOSJITTER": true, "RTPAUDIOQOSLOSS": true, "RTPAUDIOQOSRTT": true,
	"RTPAUDIOQOSMES": true, "STASISSTATUS": true,
}

type traceRecord struct {
	Kind        string            `json:"kind"`
	Socket      string            `json:"socket"`
	Seq         int               `json:"seq"`
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Query       map[string]string `json:"query"`
	Body        json.RawMessage   `json:"body"`
	Status      int               `json:"status"`
	Auth        string            `json:"auth"`
	State       string            `json:"state"`
	URL         string            `json:"url"`
	HTTPStatus  int               `json:"http_status"`
	CloseStatus *int              `json:"close_status"`
	Error       string            `json:"error"`
	Text        string            `json:"text"`
	Name        string            `json:"name"`
	Value       json.RawMessage   `json:"value"`
	Event       json.RawMessage   `json:"event"`
	// compact events (files 08, 18)
	Type        string `json:"type"`
	Channel     string `json:"channel"`
	ChannelName string `json:"channel_name"`
	Bridge      string `json:"bridge"`
	Cause       *int   `json:"cause"`
}

func loadTrace(t *testing.T, name string) []traceRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(tracesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	for sc.Scan() {
		var r traceRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, r)
	}
	return out
}

// TestTracesUpToDate fails when testdata/ is not an exact copy of the
// recorded traces beside the repository (skipped when they are not there).
// Files named pbx-*.jsonl are this project's own recordings (TestDifferential
// with ARI_RECORD=1, see record_test.go), not copies: they are left out of
// the comparison, and every other .jsonl in testdata/ must come from the
// shared traces.
func TestTracesUpToDate(t *testing.T) {
	t.Parallel()
	dir := sharedTracesDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("recorded traces not available (%v); set ARI_TRACES to compare testdata/ with them", err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".jsonl") && name != "README.md" {
			continue
		}
		n++
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(tracesDir, name))
		switch {
		case err != nil:
			t.Errorf("%s is missing from testdata/: cp %s ari/aritest/testdata/", name, filepath.Join(dir, name))
		case !bytes.Equal(got, want):
			t.Errorf("testdata/%s differs from %s: copy it again", name, filepath.Join(dir, name))
		}
	}
	if n == 0 {
		t.Fatalf("no traces in %s", dir)
	}
	local, err := os.ReadDir(tracesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range local {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".jsonl") || strings.HasPrefix(name, recordedPrefix) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("testdata/%s is not in %s: a trace recorded by the project is named %s*.jsonl", name, dir, recordedPrefix)
		}
	}
}

// norm is one event reduced to what is compared.
type norm struct {
	key  string // "ch:ID", "pb:ID", "br:ID", "rec:NAME", "app"
	form string // e.g. "ChannelHangupRequest(32,soft)"
}

// normalize reduces an event; ids pass through mapID (fake -> trace ids).
// app says whether the app-socket types of files 09-18 are compared.
func normalize(ev wireEvent, compact, app bool, mapID func(string) string) (norm, bool) {
	if !comparedTypes[ev.Type] && !(app && appTypes[ev.Type]) {
		return norm{}, false
	}
	n := norm{form: ev.Type}
	switch {
	case ev.Type == "Dial":
		if ev.Peer == nil {
			return norm{}, false
		}
		n.key = "ch:" + mapID(ev.Peer.ID)
		n.form += "(" + ev.DialStatus + ")"
	case ev.Playback != nil:
		n.key = "pb:" + ev.Playback.ID
		n.form += "(" + ev.Playback.State + ")"
	case ev.Recording != nil:
		n.key = "rec:" + ev.Recording.Name
		n.form += "(" + ev.Recording.State + ")"
	case ev.Channel != nil:
		n.key = "ch:" + mapID(ev.Channel.ID)
		switch ev.Type {
		case "ChannelHangupRequest":
			if ev.NoCause {
				n.form += "()"
				break
			}
			n.form += "(" + strconv.Itoa(ev.Cause)
			if ev.Soft && !compact {
				n.form += ",soft"
			}
			n.form += ")"
		case "ChannelDestroyed":
			n.form += "(" + strconv.Itoa(ev.Cause) + ")"
		case "ChannelEnteredBridge", "ChannelLeftBridge":
			n.form += "[" + mapID(ev.bridgeID()) + "]"
		case "StasisStart", "ChannelStateChange":
			if !compact {
				n.form += "{" + ev.Channel.State + "}"
			}
		case "ChannelDtmfReceived":
			n.form += "(" + ev.Digit + ")"
		case "ChannelVarset":
			if compact {
				break // file 18 keeps no variable names
			}
			if !comparedVars[ev.Variable] {
				return norm{}, false
			}
			n.form += "(" + ev.Variable
			if ev.Variable == "STASISSTATUS" {
				n.form += "=" + ev.Value
			}
			n.form += ")"
		}
	case ev.Bridge != nil:
		n.key = "br:" + mapID(ev.Bridge.ID)
	case ev.Type == "ChannelVarset":
		return norm{}, false // a global variable
	default:
		n.key = "app"
	}
	return n, true
}

// traceEvent turns a trace event record into a wireEvent; compact is true
// for the compact records of files 08 and 18.
func traceEvent(r traceRecord) (wireEvent, bool) {
	if len(r.Event) > 0 {
		ev, _ := decodeWire(r.Event)
		return ev, false
	}
	var ev wireEvent
	ev.Type = r.Type
	if r.Channel != "" {
		ev.Channel = &wireChannel{ID: r.Channel, Name: r.ChannelName}
	}
	if r.Bridge != "" {
		ev.Bridge = &struct {
			ID       string   `json:"id"`
			Channels []string `json:"channels"`
		}{ID: r.Bridge}
	}
	if r.Cause != nil {
		ev.Cause = *r.Cause
	}
	ev.NoCause = r.Cause == nil
	return ev, true
}

// canon puts adjacent events whose order is a race in Asterisk into one
// order (notModelled "race-pairs").
func canon(seq []string) []string {
	out := append([]string{}, seq...)
	for i := 0; i+1 < len(out); i++ {
		a, b := out[i], out[i+1]
		if a == "ChannelHangupRequest(0)" && strings.HasPrefix(b, "ChannelLeftBridge") ||
			a == "ChannelStateChange{Ringing}" && b == "Dial(RINGING)" {
			out[i], out[i+1] = b, a
		}
	}
	return out
}

// replay drives one trace file against a fake.
type replay struct {
	t       *testing.T
	srv     *aritest.Server
	c       *client
	app     bool              // a file 09-18: compare the `app` socket
	main    *events           // the app=callin socket whose events are compared
	stack   []*events         // open sockets, most recent last
	idMap   map[string]string // trace id -> fake id
	back    map[string]string // fake id -> trace id
	want    map[string][]string
	wantN   map[string]int // compared trace events seen so far, per key
	got     map[string][]string
	compact bool
	syncN   int
	skipped map[string]bool
	filter  func(norm) bool // events dropped on both sides
	// the `all` socket's ChannelDestroyed, per channel key
	allWant, allGot map[string][]string
	// SIP callers injected, and hung up, by the replay
	sipStart map[string]wireEvent
	injected map[string]bool
	byed     map[string]bool
	names    map[string]string // channel name -> trace id
	gotTypes map[string]int    // every event type the app socket got (file 18)
}

func newReplay(t *testing.T, opts aritest.Options) *replay {
	srv := newServer(t, opts)
	return &replay{t: t, srv: srv, c: newClient(t, srv), idMap: map[string]string{}, back: map[string]string{},
		want: map[string][]string{}, wantN: map[string]int{}, got: map[string][]string{}, skipped: map[string]bool{},
		allWant: map[string][]string{}, allGot: map[string][]string{}, sipStart: map[string]wireEvent{},
		injected: map[string]bool{}, byed: map[string]bool{}, names: map[string]string{}, gotTypes: map[string]int{}}
}

func (r *replay) fakeID(id string) string {
	if f, ok := r.idMap[id]; ok {
		return f
	}
	return id
}

func (r *replay) traceID(id string) string {
	if t, ok := r.back[id]; ok {
		return t
	}
	return id
}

func (r *replay) mapIDs(traceID, fakeID string) {
	if traceID != "" && fakeID != "" && traceID != fakeID {
		r.idMap[traceID], r.back[fakeID] = fakeID, traceID
	}
}

func (r *replay) skip(key string) {
	if !r.skipped[key] {
		r.skipped[key] = true
		r.t.Logf("not compared: %s: %s", key, notModelled[key])
	}
}

// compared says whether key is in the comparison (set up from the trace).
func (r *replay) compared(key string) bool {
	_, ok := r.want[key]
	return ok
}

// isSync says whether an event is about a sync marker bridge.
func isSync(ev wireEvent) bool {
	return ev.Channel == nil && strings.HasPrefix(ev.bridgeID(), "zz-sync")
}

// collect moves events from the main socket into got until cond holds.
func (r *replay) collect(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.After(15 * time.Second)
	for !cond() {
		select {
		case ev := <-r.main.ch:
			r.record(r.main, ev)
		case <-deadline:
			r.t.Fatalf("waiting for %s: timed out\n%s", what, r.diff())
		}
	}
}

// record takes in one event from the fake's socket sk.
func (r *replay) record(sk *events, ev wireEvent) {
	if isSync(ev) {
		return
	}
	if sk != r.main {
		if ev.Type == "ChannelDestroyed" && ev.Channel != nil {
			k := "ch:" + r.traceID(ev.Channel.ID)
			r.allGot[k] = append(r.allGot[k], "ChannelDestroyed("+strconv.Itoa(ev.Cause)+")")
		}
		return
	}
	r.gotTypes[ev.Type]++
	n, ok := normalize(ev, r.compact, r.app, r.traceID)
	if !ok {
		return
	}
	if _, skip := notModelled[n.key]; skip {
		return
	}
	if r.filter != nil && !r.filter(n) {
		return
	}
	if !r.app && strings.HasPrefix(n.key, "ch:") && !r.compared(n.key) {
		return // files 01-08: a phone or far half, internal to the fake there
	}
	r.got[n.key] = append(r.got[n.key], n.form)
}

// caughtUp: the fake has sent at least the compared events the trace had so far.
func (r *replay) caughtUp() bool {
	for k, n := range r.wantN {
		if len(r.got[k]) < n {
			return false
		}
	}
	return true
}

// settle takes in every event the fake has emitted so far on every open
// socket: it creates a marker bridge, subscribes callin to it, deletes it
// and reads each socket up to the marker's BridgeDestroyed.
func (r *replay) settle() {
	r.t.Helper()
	if r.main != nil {
		r.collect("events before this point", r.caughtUp)
	}
	if len(r.stack) == 0 {
		return
	}
	r.syncN++
	id := fmt.Sprintf("zz-sync-%d", r.syncN)
	r.c.must(200, "POST", "bridges/"+id, nil)
	for _, sk := range r.stack {
		if !sk.subscribeAll {
			r.c.must(200, "POST", "applications/"+sk.app+"/subscription", q("eventSource", "bridge:"+id))
		}
	}
	r.c.must(204, "DELETE", "bridges/"+id, nil)
	for _, sk := range r.stack {
		deadline := time.After(15 * time.Second)
		for done := false; !done; {
			select {
			case ev := <-sk.ch:
				if ev.Type == "BridgeDestroyed" && ev.bridgeID() == id {
					done = true
					continue
				}
				r.record(sk, ev)
			case <-deadline:
				r.t.Fatalf("sync marker not seen on %s\n%s", sk.app, r.diff())
			}
		}
	}
}

func (r *replay) diff() string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range r.want {
		keys[k] = true
	}
	for k := range r.got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		w, g := strings.Join(canon(r.want[k]), " "), strings.Join(canon(r.got[k]), " ")
		mark := "  "
		if w != g {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s %s\n     trace: %s\n      fake: %s\n", mark, k, w, g)
	}
	return b.String()
}

// finish compares the full per-key sequences.
func (r *replay) finish() {
	r.t.Helper()
	for k, g := range r.got {
		if !r.compared(k) {
			r.t.Errorf("fake sent events for %s, which the trace does not have: %v", k, g)
		}
	}
	for k, w := range r.want {
		if !slices.Equal(canon(w), canon(r.got[k])) {
			r.t.Errorf("%s:\n trace: %v\n  fake: %v", k, w, r.got[k])
		}
	}
	for k, w := range r.allWant {
		if r.compared(k) && !slices.Equal(w, r.allGot[k]) {
			r.t.Errorf("all socket, %s:\n trace: %v\n  fake: %v", k, w, r.allGot[k])
		}
	}
	if r.t.Failed() || os.Getenv("ARITEST_DIFF") != "" {
		r.t.Logf("all sequences:\n%s", r.diff())
	}
}

// appEvent says whether a trace event record is one the compared socket got.
func (r *replay) appEvent(rec traceRecord) bool {
	return !r.app || rec.Socket == "app"
}

// planWant fills want from the trace: every compared event of every entity
// that the fake models. In files 01-08 a channel is compared when it
// reached Stasis, or when its only event is ChannelDestroyed (a failed
// originate); in files 09-18 every channel the app socket heard of.
func (r *replay) planWant(recs []traceRecord, filter func(norm) bool) {
	byKey := map[string][]string{}
	stasis := map[string]bool{}
	for _, rec := range recs {
		if rec.Kind != "event" {
			continue
		}
		ev, compact := traceEvent(rec)
		if ev.Channel != nil && ev.Channel.Name != "" {
			r.names[ev.Channel.Name] = ev.Channel.ID
		}
		if ev.Type == "StasisStart" && ev.Channel != nil && strings.HasPrefix(ev.Channel.Name, "PJSIP/sipp") {
			r.sipStart[ev.Channel.ID] = ev
		}
		if r.app && rec.Socket == "all" {
			if ev.Type == "ChannelDestroyed" && ev.Channel != nil {
				k := "ch:" + ev.Channel.ID
				r.allWant[k] = append(r.allWant[k], "ChannelDestroyed("+strconv.Itoa(ev.Cause)+")")
			}
			continue
		}
		n, ok := normalize(ev, compact, r.app, func(s string) string { return s })
		if !ok {
			continue
		}
		if ev.Type == "StasisStart" {
			stasis[n.key] = true
		}
		byKey[n.key] = append(byKey[n.key], n.form)
	}
	for k, seq := range byKey {
		if _, skip := notModelled[k]; skip {
			r.skip(k)
			continue
		}
		if !r.app && strings.HasPrefix(k, "ch:") && !stasis[k] && !(len(seq) == 1 && strings.HasPrefix(seq[0], "ChannelDestroyed")) {
			continue // a phone or far half, internal to the fake in files 01-08
		}
		if filter != nil && !filter(norm{key: k}) {
			continue
		}
		var kept []string
		for _, f := range seq {
			if filter == nil || filter(norm{key: k, form: f}) {
				kept = append(kept, f)
			}
		}
		r.want[k] = kept
	}
	if r.app {
		for _, k := range []string{"race-pairs", "varsets", "endpoint", "lists", "all-socket"} {
			r.skip(k)
		}
	}
}

// send replays a trace request against the fake, with ids mapped.
func (r *replay) send(rec traceRecord) (int, []byte) {
	r.t.Helper()
	v := url.Values{}
	for k, val := range rec.Query {
		switch k {
		case "channel":
			parts := strings.Split(val, ",")
			for i, p := range parts {
				parts[i] = r.fakeID(p)
			}
			val = strings.Join(parts, ",")
		case "channelId", "otherChannelId", "bridgeId":
			val = r.fakeID(val)
		}
		v.Set(k, val)
	}
	path := strings.TrimPrefix(rec.Path, "/ari/")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		segs[i] = url.PathEscape(r.fakeID(s))
	}
	path = strings.Join(segs, "/")
	var body, ct string
	if len(rec.Body) > 0 && string(rec.Body) != "null" {
		if err := json.Unmarshal(rec.Body, &body); err != nil {
			body = string(rec.Body) // a JSON object recorded as such (file 11)
		}
		if !strings.HasPrefix(body, "{") && !strings.HasPrefix(body, "[") {
			ct = "application/x-www-form-urlencoded"
		}
	}
	c := r.c
	switch {
	case rec.Auth == "none":
		cc := *c
		cc.user = ""
		c = &cc
	case rec.Seq == 60 && strings.HasSuffix(rec.Path, "asterisk/info"):
		cc := *c
		cc.pass = "wrong-password" // trace 05, e7: wrong password
		c = &cc
	}
	return c.do(rec.Method, path, v, body, ct)
}

// mapped handles requests on entities the fake does not model as such; it
// reports whether rec was handled.
func (r *replay) mapped(rec traceRecord) bool {
	p := strings.TrimPrefix(rec.Path, "/ari/")
	call := func(id string) *aritest.Call {
		cl, ok := r.srv.Caller(id)
		if !ok {
			r.t.Fatalf("no caller %s for mapped step %s %s", id, rec.Method, p)
		}
		return cl
	}
	switch {
	case rec.Method == "POST" && p == "channels/f-phone/moh":
		// The phone plays music towards f-in: the caller talks.
		if err := call("f-in").Talk(3 * time.Second); err != nil {
			r.t.Fatal(err)
		}
	case rec.Method == "DELETE" && p == "channels/f-phone/moh":
		// The talk spurt has its own length.
	case rec.Method == "POST" && p == "channels/f-phone/dtmf":
		if err := call("f-in").DTMF(rec.Query["dtmf"]); err != nil {
			r.t.Fatal(err)
		}
	case strings.HasPrefix(p, "channels/f-phone/") || p == "playbacks/f-sil":
		r.skip("pb:f-sil")
	case strings.Contains(p, "/snoop") || strings.Contains(p, "f-snoop"):
		r.skip("ch:f-snoop")
	default:
		return false
	}
	return true
}

// spontaneous does what happened on the real node without a REST call,
// at the app socket's first event of it: a sipp caller calls in, or hangs
// up (a BYE, seen first as RTPAUDIOQOS).
func (r *replay) spontaneous(ev wireEvent) {
	ch := ev.Channel
	if ch == nil || !strings.HasPrefix(ch.Name, "PJSIP/") {
		return
	}
	id := r.fakeID(ch.ID)
	_, alive := r.srv.Channel(id)
	switch {
	case !alive && !r.injected[id] && strings.HasPrefix(ch.Name, "PJSIP/sipp"):
		r.injected[id] = true
		r.skip("sipp")
		start, ok := r.sipStart[ch.ID]
		if !ok {
			r.t.Fatalf("sipp caller %s has no StasisStart in the trace", ch.ID)
		}
		o := aritest.CallOptions{SIP: true, ChannelID: id, Args: start.Args, Answered: start.Channel.State == "Up",
			Number: start.Channel.Caller.Number, Name: start.Channel.Caller.Name}
		if _, err := r.srv.Call(context.Background(), o); err != nil {
			r.t.Fatalf("inject sipp caller %s: %v", id, err)
		}
	case alive && !r.byed[id] && ev.Type == "ChannelVarset" && ev.Variable == "RTPAUDIOQOS":
		r.byed[id] = true
		cl, ok := r.srv.Caller(id)
		if !ok {
			r.t.Fatalf("no handle for %s's BYE", id)
		}
		if err := cl.Hangup(16); err != nil {
			r.t.Fatal(err)
		}
	}
}

// note acts on a note record that announces an action without REST.
func (r *replay) note(text string) {
	switch {
	case strings.Contains(text, "restart Asterisk entirely"): // 07
		r.settle()
		r.srv.Restart(aritest.HoldSockets(20 * time.Millisecond))
	case strings.HasPrefix(text, "17: ast-restart.sh"):
		r.settle()
		r.srv.Restart(aritest.RefuseDials(1, 1))
	case strings.Contains(text, "uas_bye.xml"):
		// The BYE is the replay's (spontaneous), at its RTPAUDIOQOS.
		r.srv.SetPhone("PJSIP/screener1", aritest.Phone{Ring: 1500 * time.Millisecond})
		r.skip("13-timing")
	case strings.Contains(text, "nobody listening"):
		r.srv.SetPhone("PJSIP/screener1", aritest.Phone{Unreachable: true})
	case strings.Contains(text, "uas_486.xml"):
		r.srv.SetPhone("PJSIP/screener1", aritest.Phone{Ring: 1500 * time.Millisecond, Reject: 486})
	case strings.Contains(text, "uas_480.xml"):
		r.srv.SetPhone("PJSIP/screener1", aritest.Phone{Ring: 1500 * time.Millisecond, Reject: 480})
	case strings.Contains(text, "uas_noanswer.xml"):
		r.srv.SetPhone("PJSIP/screener1", aritest.Phone{NoAnswer: true})
	}
}

// music checks a music:* record: the bridge's music plays exactly when the
// CLI listed its announcer, and the SIP caller hears it exactly when
// Asterisk sent it packets.
func (r *replay) music(rec traceRecord) {
	var m struct {
		Announcer bool   `json:"announcer_in_bridge_show"`
		Bridge    string `json:"bridge"`
		SIP       string `json:"sip_channel"`
		Tx        int    `json:"tx_packets_to_phone_in_1500ms"`
	}
	if err := json.Unmarshal(rec.Value, &m); err != nil {
		r.t.Fatalf("%s: %v", rec.Name, err)
	}
	r.skip("cli")
	if got := r.srv.BridgeMusicPlaying(r.fakeID(m.Bridge)); got != m.Announcer {
		r.t.Errorf("%s: BridgeMusicPlaying(%s) = %v, trace %v", rec.Name, m.Bridge, got, m.Announcer)
	}
	id, ok := r.names["PJSIP/"+m.SIP]
	if !ok {
		r.t.Fatalf("%s: no channel named PJSIP/%s in the trace", rec.Name, m.SIP)
	}
	cl, ok := r.srv.Caller(r.fakeID(id))
	if !ok {
		r.t.Fatalf("%s: no caller %s", rec.Name, id)
	}
	if got, want := cl.HearsMusic(), m.Tx > 20; got != want {
		r.t.Errorf("%s: %s HearsMusic = %v, trace sent %d packets in 1.5 s", rec.Name, id, got, m.Tx)
	}
}

// run replays the records of a (non-compact) trace file.
func (r *replay) run(recs []traceRecord) {
	t := r.t
	resp := map[int]traceRecord{}
	for _, rec := range recs {
		if rec.Kind == "response" {
			resp[rec.Seq] = rec
		}
	}
	for _, rec := range recs {
		switch rec.Kind {
		case "event":
			if !r.appEvent(rec) {
				continue
			}
			ev, compact := traceEvent(rec)
			if r.app {
				r.spontaneous(ev)
			}
			if n, ok := normalize(ev, compact, r.app, func(s string) string { return s }); ok && r.compared(n.key) {
				if r.filter == nil || r.filter(n) {
					r.wantN[n.key]++
				}
			}
		case "note":
			r.note(rec.Text)
		case "data":
			if strings.HasPrefix(rec.Name, "music:") {
				r.music(rec)
			}
		case "ws":
			r.ws(rec)
		case "request":
			if r.main != nil {
				r.collect(fmt.Sprintf("events before request #%d", rec.Seq), r.caughtUp)
			}
			if r.mapped(rec) {
				continue
			}
			want, ok := resp[rec.Seq]
			if !ok || want.Status == 0 {
				// Asterisk crashed on this request (file 14): the fake
				// refuses it, and the rest of the file is not replayed.
				r.skip("14-crash")
				if st, body := r.send(rec); st != http.StatusBadRequest {
					t.Errorf("#%d %s %s %v: status %d (%s), want 400 where Asterisk crashed", rec.Seq, rec.Method, rec.Path, rec.Query, st, body)
				}
				r.settle()
				r.finish()
				return
			}
			st, body := r.send(rec)
			if rec.Query["variable"] == "HANGUPCAUSE" {
				r.skip("hangupcause")
				continue
			}
			if st != want.Status {
				t.Errorf("#%d %s %s %v: status %d, trace %d (body %s)", rec.Seq, rec.Method, rec.Path, rec.Query, st, want.Status, body)
				continue
			}
			r.checkBody(rec, want, body)
		}
	}
	// The events after the last request (a recorded trace ends with them).
	r.settle()
	r.finish()
}

// checkBody compares error messages and applications, and learns ids the
// fake generated.
func (r *replay) checkBody(rec, want traceRecord, body []byte) {
	if want.Status >= 400 {
		var w, g map[string]string
		_ = json.Unmarshal(want.Body, &w)
		_ = json.Unmarshal(body, &g)
		if w["message"] != g["message"] || w["error"] != g["error"] {
			r.t.Errorf("#%d %s %s: body %s, trace %s", rec.Seq, rec.Method, rec.Path, body, want.Body)
		}
		return
	}
	if strings.HasPrefix(rec.Path, "/ari/applications") {
		r.checkApps(rec, want.Body, body)
		return
	}
	var w, g struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		State string `json:"state"`
	}
	if json.Unmarshal(want.Body, &w) != nil || json.Unmarshal(body, &g) != nil {
		return
	}
	if rec.Method == "POST" && (rec.Path == "/ari/bridges" || rec.Path == "/ari/channels") {
		r.mapIDs(w.ID, g.ID)
		if rec.Path == "/ari/channels" && rec.Query["otherChannelId"] == "" && rec.Query["app"] != "" {
			// The far half of an app originate without otherChannelId: the
			// real one got the next channel number, the fake id;2.
			if i := strings.LastIndex(w.ID, "."); i > 0 {
				n, _ := strconv.Atoi(w.ID[i+1:])
				r.mapIDs(w.ID[:i+1]+strconv.Itoa(n+1), g.ID+";2")
			}
		}
	}
	if w.State != "" && rec.Method == "POST" && strings.Contains(rec.Path, "/play") && w.State != g.State {
		// Asterisk may start the playback before it answers (03, 09 d1):
		// "playing" in the 201 is a race the fake does not run.
		if w.State != "playing" || g.State != "queued" {
			r.t.Errorf("#%d play: state %q, trace %q", rec.Seq, g.State, w.State)
		}
		r.skip("play-state")
	}
}

// checkApps compares Application bodies: the subscription lists as sets.
func (r *replay) checkApps(rec traceRecord, want, got []byte) {
	type app struct {
		Name        string   `json:"name"`
		ChannelIDs  []string `json:"channel_ids"`
		BridgeIDs   []string `json:"bridge_ids"`
		EndpointIDs []string `json:"endpoint_ids"`
		DeviceNames []string `json:"device_names"`
	}
	norm := func(b []byte) string {
		var list []app
		if err := json.Unmarshal(b, &list); err != nil {
			var one app
			if err := json.Unmarshal(b, &one); err != nil {
				return "undecodable: " + string(b)
			}
			list = []app{one}
		}
		var out []string
		for _, a := range list {
			ids := func(s []string) string {
				s = slices.Clone(s)
				for i := range s {
					s[i] = r.traceID(s[i])
				}
				slices.Sort(s)
				return strings.Join(s, ",")
			}
			out = append(out, fmt.Sprintf("%s{channels %s; bridges %s; endpoints %s; devices %s}", a.Name, ids(a.ChannelIDs), ids(a.BridgeIDs), ids(a.EndpointIDs), ids(a.DeviceNames)))
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	if w, g := norm(want), norm(got); w != g {
		r.t.Errorf("#%d %s %s:\n trace: %s\n  fake: %s", rec.Seq, rec.Method, rec.Path, w, g)
	}
}

// socket finds the open socket a ws record is about.
func (r *replay) socket(rec traceRecord) *events {
	for i := len(r.stack) - 1; i >= 0; i-- {
		if !r.app || r.stack[i].label == rec.Socket {
			return r.stack[i]
		}
	}
	return nil
}

func (r *replay) ws(rec traceRecord) {
	t := r.t
	switch rec.State {
	case "connected":
		u, _ := url.Parse(rec.URL)
		app := u.Query().Get("app")
		ev := dialEvents(t, r.srv, app, u.Query().Get("subscribeAll") == "true")
		ev.label = rec.Socket
		r.stack = append(r.stack, ev)
		if app == "callin" {
			r.main = ev
		}
	case "connect_failed":
		r.connectFailed(rec)
	case "client_closing":
		sk := r.socket(rec)
		if sk == nil {
			return
		}
		r.settle()
		r.stack = slices.DeleteFunc(r.stack, func(e *events) bool { return e == sk })
		if sk == r.main {
			r.main = nil
		}
		sk.conn.Close(websocket.StatusNormalClosure, "")
		<-sk.closed
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := r.srv.WaitApp(ctx, sk.app, false); err != nil {
			t.Fatalf("app %s still registered after close: %v", sk.app, err)
		}
	case "closed":
		sk := r.socket(rec)
		if rec.CloseStatus == nil || *rec.CloseStatus != -1 || sk == nil {
			return
		}
		// Dropped by the restart: take in its events, then expect EOF.
		if sk == r.main {
			r.collect("events before the drop", r.caughtUp)
		}
		if err := sk.waitClosed(wait); !isEOFClose(err) {
			t.Errorf("restart drop of %s: %v, want EOF without close frame", sk.app, err)
		}
		for len(sk.ch) > 0 {
			r.record(sk, <-sk.ch)
		}
		r.stack = slices.DeleteFunc(r.stack, func(e *events) bool { return e == sk })
		if sk == r.main {
			r.main = nil
		}
	}
}

// connectFailed replays a refused WebSocket dial: the same status (and
// message), or trace 17's TCP reset.
func (r *replay) connectFailed(rec traceRecord) {
	t := r.t
	u, _ := url.Parse(rec.URL)
	h := basicAuth(r.srv.User(), r.srv.Password())
	if strings.Contains(rec.Text+string(rec.Body), "Authentication") || rec.HTTPStatus == 401 {
		h = basicAuth(r.srv.User(), "wrong")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	fake := "ws" + strings.TrimPrefix(r.srv.URL(), "http") + "/ari/events"
	if u.RawQuery != "" {
		fake += "?" + u.RawQuery
	}
	conn, resp, err := websocket.Dial(ctx, fake, &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		conn.CloseNow()
	}
	if rec.HTTPStatus == 0 {
		if err == nil || resp != nil || !strings.Contains(err.Error(), "reset") {
			t.Errorf("websocket %s: %v, %v; trace: %s", rec.URL, resp, err, rec.Error)
		}
		return
	}
	st := 0
	if resp != nil {
		st = resp.StatusCode
	}
	if err == nil || st != rec.HTTPStatus {
		t.Errorf("websocket %s: status %d, trace %d", rec.URL, st, rec.HTTPStatus)
		return
	}
	var body string
	if err := json.Unmarshal(rec.Body, &body); err == nil && strings.HasPrefix(body, "{") {
		b, _ := io.ReadAll(resp.Body)
		if message(b) != message([]byte(body)) {
			t.Errorf("websocket %s: body %s, trace %s", rec.URL, b, body)
		}
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	never := map[string]time.Duration{"sound:hello-world": aritest.Never}
	files := []struct {
		name string
		opts aritest.Options
	}{
		{"01-arrival-holding-moh.jsonl", aritest.Options{}},
		{"02-holding-to-mixing-move.jsonl", aritest.Options{}},
		{"03-play-then-hangup.jsonl", aritest.Options{}}, // real durations: play-then-hangup must beat hello-world
		{"04-caller-hangup-in-holding.jsonl", aritest.Options{TimeScale: 0.05}},
		{"05-error-responses.jsonl", aritest.Options{}},
		{"06-mute-dtmf-talkdetect.jsonl", aritest.Options{TimeScale: 0.1}},
		// The playback started while disconnected must end before the
		// reconnect, as in the trace: make it end at once.
		{"07-ws-reconnect-and-restart.jsonl", aritest.Options{Media: map[string]time.Duration{"sound:hello-world": 0}}},
		// 09 d: the hang-up comes while hello-world plays; f2's far half
		// hangs up 4 s (scaled: 1 s) after answering.
		{"09-caller-hangup-app-vs-all.jsonl", aritest.Options{TimeScale: 0.25, Media: never}},
		{"10-explicit-subscription.jsonl", aritest.Options{}},
		{"11-ws-reconnect-no-subscribeall.jsonl", aritest.Options{TimeScale: 0.1}}, // x2's Stasis() retry
		{"12-holding-bridge-moh.jsonl", aritest.Options{}},
		{"13-originate-sip-screener.jsonl", aritest.Options{TimeScale: 0.1}},
		{"14-record-mixing-bridge.jsonl", aritest.Options{}},
		{"15-talkback-over-moh.jsonl", aritest.Options{TimeScale: 0.1}},
		{"16-line-quality.jsonl", aritest.Options{}},
		{"17-asterisk-restart.jsonl", aritest.Options{}},
	}
	for _, f := range files {
		t.Run(f.name[:2], func(t *testing.T) {
			t.Parallel()
			recs := loadTrace(t, f.name)
			r := newReplay(t, f.opts)
			r.app = f.name >= "09"
			if strings.HasPrefix(f.name, "05") {
				r.skip("raw-400")
			}
			if strings.HasPrefix(f.name, "07") {
				r.skip("race-pairs")
			}
			r.planWant(recs, nil)
			r.run(recs)
		})
	}
	t.Run("08", func(t *testing.T) { t.Parallel(); scaleReplay(t, "08-scale-600-callers-ulaw.jsonl", 70, true) })
	t.Run("08a", func(t *testing.T) {
		t.Parallel()
		scaleReplay(t, "08a-scale-600-default-formats-ABORTED.jsonl", 64, false)
	})
	t.Run("18", func(t *testing.T) { t.Parallel(); volumeReplay(t, "18-event-volume-50-sip.jsonl") })
}

// scaleReplay rebuilds file 08's (or 08a's) bulk run for the first n
// callers and compares their compact per-channel sequences and the
// REST statuses the file logs.
func scaleReplay(t *testing.T, name string, n int, complete bool) {
	recs := loadTrace(t, name)
	r := newReplay(t, aritest.Options{})
	r.compact = true
	if complete {
		r.skip("08-scale")
	} else {
		r.skip("08a-stall")
	}
	in := func(i int) string { return fmt.Sprintf("h%04d-in", i) }
	keep := map[string]bool{"br:h-hold": true, "br:h-air": true}
	for i := range n {
		keep["ch:"+in(i)] = true
	}
	r.filter = func(x norm) bool { return keep[x.key] }
	r.planWant(recs, r.filter)
	// 08a: only callers whose StasisStart the trace has are admitted, and
	// only those with ChannelEnteredBridge are added to the bridge.
	entered := map[string]bool{}
	for k, seq := range r.want {
		if slices.ContainsFunc(seq, func(s string) bool { return strings.HasPrefix(s, "ChannelEnteredBridge") }) {
			entered[k] = true
		}
	}
	resp := map[int]traceRecord{}
	var promos []string
	for _, rec := range recs {
		if rec.Kind == "response" {
			resp[rec.Seq] = rec
		}
		if rec.Kind == "request" && strings.HasSuffix(rec.Path, "h-air/addChannel") {
			promos = append(promos, rec.Query["channel"])
		}
	}
	r.ws(traceRecord{State: "connected", URL: "ws://x/ari/events?app=callin&subscribeAll=true"})
	check := func(rec traceRecord) {
		st, body := r.send(rec)
		if st != resp[rec.Seq].Status {
			t.Errorf("#%d %s %s: status %d, trace %d (%s)", rec.Seq, rec.Method, rec.Path, st, resp[rec.Seq].Status, body)
		}
	}
	for _, rec := range recs {
		if rec.Kind == "request" && rec.Seq <= 3 {
			check(rec)
		}
	}
	for i := range n {
		if !r.compared("ch:" + in(i)) {
			continue
		}
		r.c.must(200, "POST", "channels", q("endpoint", "Local/s@sim-caller", "app", "callin", "formats", "ulaw",
			"channelId", in(i), "otherChannelId", fmt.Sprintf("h%04d-far", i)))
		if entered["ch:"+in(i)] {
			r.c.must(204, "POST", "bridges/h-hold/addChannel", q("channel", in(i)))
		}
	}
	if complete {
		for _, id := range promos {
			if r.compared("ch:" + id) {
				r.c.must(204, "POST", "bridges/h-air/addChannel", q("channel", id))
			}
		}
		for i := range n {
			r.c.must(204, "DELETE", "channels/"+in(i), nil)
		}
		for _, rec := range recs {
			if rec.Kind == "request" && rec.Seq >= 1816 {
				check(rec)
			}
		}
		if m, _ := r.srv.BridgeChannels("h-hold"); len(m) != 0 {
			t.Errorf("h-hold still has %d channels", len(m))
		}
	} else {
		// The aborted run never destroyed its bridges: BridgeDestroyed is not expected.
		if m, _ := r.srv.BridgeChannels("h-hold"); len(m) != len(entered) {
			t.Errorf("h-hold has %d channels, want %d", len(m), len(entered))
		}
	}
	for k, seq := range r.want {
		r.wantN[k] = len(seq)
	}
	r.collect("all compared events", r.caughtUp)
	r.settle()
	r.finish()
}

// volumeReplay rebuilds file 18: 50 SIP callers through the IVR (Up, args
// [morning]) held in h18 with music, each hanging up with a BYE. The app
// socket's per-channel compact sequences and its event counts by type
// (the data record 18-event-counts) must match.
func volumeReplay(t *testing.T, name string) {
	recs := loadTrace(t, name)
	r := newReplay(t, aritest.Options{})
	r.compact, r.app = true, true
	r.skip("18-bulk")
	r.planWant(recs, nil)
	var counts struct {
		ByType []struct {
			Count int    `json:"count"`
			Type  string `json:"type"`
		} `json:"by_type"`
		Total int `json:"total_events"`
	}
	var ids []string
	resp := map[int]traceRecord{}
	for _, rec := range recs {
		switch {
		case rec.Kind == "data" && rec.Name == "18-event-counts" && rec.Socket == "app":
			if err := json.Unmarshal(rec.Value, &counts); err != nil {
				t.Fatal(err)
			}
		case rec.Kind == "event" && rec.Socket == "app" && rec.Type == "StasisStart":
			ids = append(ids, rec.Channel)
		case rec.Kind == "response":
			resp[rec.Seq] = rec
		}
	}
	if len(ids) != 50 || counts.Total != 500 {
		t.Fatalf("trace has %d callers and %d events, want 50 and 500", len(ids), counts.Total)
	}
	r.ws(traceRecord{State: "connected", Socket: "all", URL: "ws://x/ari/events?app=observer&subscribeAll=true"})
	r.ws(traceRecord{State: "connected", Socket: "app", URL: "ws://x/ari/events?app=callin"})
	for _, rec := range recs {
		if rec.Kind == "request" && rec.Seq <= 2 {
			if st, _ := r.send(rec); st != resp[rec.Seq].Status {
				t.Errorf("#%d: status %d, trace %d", rec.Seq, st, resp[rec.Seq].Status)
			}
		}
	}
	calls := make([]*aritest.Call, len(ids))
	for i, id := range ids {
		cl, err := r.srv.Call(context.Background(), aritest.CallOptions{SIP: true, ChannelID: id, Args: []string{"morning"}, Answered: true})
		if err != nil {
			t.Fatal(err)
		}
		calls[i] = cl
		r.c.must(204, "POST", "bridges/h18/addChannel", q("channel", id))
	}
	for _, cl := range calls {
		if err := cl.Hangup(16); err != nil {
			t.Fatal(err)
		}
	}
	for k, seq := range r.want {
		if k != "br:h18" { // destroyed at the end, after the counts
			r.wantN[k] = len(seq)
		}
	}
	r.collect("all compared events", r.caughtUp)
	r.settle()
	for _, c := range counts.ByType {
		if got := r.gotTypes[c.Type]; got != c.Count {
			t.Errorf("app socket: %d %s, trace %d", got, c.Type, c.Count)
		}
		delete(r.gotTypes, c.Type)
	}
	for typ, n := range r.gotTypes {
		t.Errorf("app socket: %d %s, trace none", n, typ)
	}
	for _, rec := range recs {
		if rec.Kind == "request" && rec.Seq > 2 {
			if st, _ := r.send(rec); st != resp[rec.Seq].Status {
				t.Errorf("#%d: status %d, trace %d", rec.Seq, st, resp[rec.Seq].Status)
			}
		}
	}
	r.settle()
	r.finish()
}

// TestConformanceRecorded replays the traces this project recorded on the
// real Asterisk (testdata/pbx-*.jsonl, TestDifferential with ARI_RECORD=1)
// against the fake, as TestConformance does the shared ones. Scenarios
// driven by sipp (SIP callers, phones) or by a restart are left out: their
// traces hold no REST call for what sipp or the harness did, and
// TestDifferential runs them side by side instead.
func TestConformanceRecorded(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(tracesDir, recordedPrefix+"*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no recorded traces in testdata/")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(strings.TrimPrefix(name, recordedPrefix), ".jsonl"), func(t *testing.T) {
			t.Parallel()
			recs := loadTrace(t, name)
			for _, r := range recs {
				ev, _ := traceEvent(r)
				switch {
				case r.Kind == "event" && ev.Channel != nil && strings.HasPrefix(ev.Channel.Name, "PJSIP/"):
					t.Skipf("driven by sipp (%s): compared side by side by TestDifferential", ev.Channel.Name)
				case r.Kind == "ws" && r.CloseStatus != nil && *r.CloseStatus == -1:
					t.Skip("driven by a restart: compared side by side by TestDifferential")
				}
			}
			sounds := map[string]time.Duration{}
			for k, v := range aritest.DefaultSounds {
				sounds[k] = v
			}
			sounds["diff-tone"] = diffToneLen
			sounds["diff-long"] = diffLongLen
			r := newReplay(t, aritest.Options{Sounds: sounds, AnnouncerLeak: aritest.AnnouncerLeakNever})
			r.app = true
			r.planWant(recs, nil)
			r.run(recs)
		})
	}
}
