package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/ari/pbxtest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// The whole service on a real PBX (issue 25, point 4): `callin serve` with
// a real PostgreSQL (pgtest) and a real Asterisk 22.10.1 running the
// project's dialplan/ (pbxtest), with sipp callers dialling the show's
// number through the IVR. What callers hear is checked by sound
// (pbxtest.Listener). Sizes are kept for CI: tens of callers, seconds per
// step.

// realShow is the show the tests run: the dialplan's 5550100 is "morning";
// holding bridges of 5, so that 15 callers fill a pool of three; the host
// is PJSIP/phone1, the producer's talkback phone PJSIP/phone4.
const realShow = "morning,title=Morning,hold=5,max-on-air=4,host=PJSIP/phone1,talkback-phones=PJSIP/phone4"

// screenerHz is the tone of the screener's phone.
const screenerHz = 1800

// goodbyeHz and goodbyeLen are the test's goodbye: a tone the Listener
// probes, long enough that a window heard during the drop falls inside it.
// callin plays sound:vm-goodbye (Asterisk's core sound, which the test
// instance does not have: pbxtest installs only callin's prompts).
const (
	goodbyeHz  = 1400
	goodbyeLen = 2 * time.Second
)

// realService is one `callin serve` under test on a real Asterisk.
type realService struct {
	t      testing.TB
	p      *pbxtest.PBX
	base   string
	db     string
	token  string
	stderr *syncBuffer
	errc   chan error
	cancel context.CancelFunc
	proc   *exec.Cmd // when callin runs as a process of its own (startRealProcess)
	last   string    // the last API request and its answer, for failure messages
}

// realEnv is serve's environment for the node p, database dbURL and show;
// the journal is in a folder of the test's, the same for every instance the
// test starts (a restarted callin finds what its predecessor left there).
func realEnv(t testing.TB, p *pbxtest.PBX, dbURL, show string) map[string]string {
	journals.mu.Lock()
	dir, ok := journals.dirs[t.Name()]
	if !ok {
		dir = t.TempDir()
		journals.dirs[t.Name()] = dir
	}
	journals.mu.Unlock()
	return map[string]string{
		"CALLIN_DATABASE_URL": dbURL,
		"CALLIN_NODES":        "main=" + p.HTTP,
		"CALLIN_ARI_USER":     p.User,
		"CALLIN_ARI_PASSWORD": p.Password,
		"CALLIN_SHOW":         show,
		"CALLIN_JOURNAL":      dir + "/journal",
		"CALLIN_LISTEN":       "127.0.0.1:0",
		"CALLIN_LOG_LEVEL":    "debug",
	}
}

// journals are the tests' journal folders, by test name.
var journals = struct {
	mu   sync.Mutex
	dirs map[string]string
}{dirs: map[string]string{}}

// startReal runs `callin serve` (run, in this process) on p and dbURL and
// waits until it is ready; a producer token is made for the API.
func startReal(t testing.TB, p *pbxtest.PBX, dbURL, show string) *realService {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rs := &realService{t: t, p: p, db: dbURL, stderr: newSyncBuffer(), errc: make(chan error, 1), cancel: cancel}
	t.Cleanup(func() {
		rs.stop()
		if t.Failed() {
			t.Logf("callin's log:\n%s", rs.stderr.String())
		}
	})
	env := realEnv(t, p, dbURL, show)
	go func() {
		rs.errc <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, rs.stderr, envMap(env))
	}()
	rs.started()
	return rs
}

// execServeEnv makes the test binary run callin's main instead of the
// tests (TestMain): a callin process of its own, for a kill -9.
const execServeEnv = "CALLIN_TEST_EXEC_MAIN"

// startRealProcess runs `callin serve` as a process of its own (this test
// binary, as callin's main), so that it can be killed with SIGKILL, and
// waits until it is ready.
func startRealProcess(t testing.TB, p *pbxtest.PBX, dbURL, show string) *realService {
	t.Helper()
	rs := startProcess(t, p, dbURL, show)
	rs.waitReady(30 * time.Second)
	return rs
}

// startProcess runs `callin serve` as a process of its own and waits until
// it listens (a standby never gets ready).
func startProcess(t testing.TB, p *pbxtest.PBX, dbURL, show string) *realService {
	t.Helper()
	rs := &realService{t: t, p: p, db: dbURL, stderr: newSyncBuffer(), errc: make(chan error, 1)}
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), execServeEnv+"=1")
	for k, v := range realEnv(t, p, dbURL, show) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout = io.Discard
	cmd.Stderr = rs.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rs.proc = cmd
	go func() { rs.errc <- cmd.Wait() }()
	t.Cleanup(func() {
		rs.kill()
		if t.Failed() {
			t.Logf("callin's (process) log:\n%s", rs.stderr.String())
		}
	})
	rs.listening()
	return rs
}

// started waits for the listener and readiness, and makes the token.
func (rs *realService) started() {
	rs.t.Helper()
	rs.listening()
	rs.waitReady(30 * time.Second)
}

// listening waits for the listener and makes the token.
func (rs *realService) listening() {
	t := rs.t
	t.Helper()
	log := rs.stderr.waitFor(t, "callin is listening", rs.errc)
	rs.base = strings.Fields(log[strings.Index(log, "addr=http://")+len("addr="):])[0]
	store, err := openStore(context.Background(), rs.db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rs.token, err = auth.CreateToken(context.Background(), store, fmt.Sprintf("realpbx-%d", time.Now().UnixNano()), auth.RoleProducer, "test")
	if err != nil {
		t.Fatal(err)
	}
}

// waitReady polls /readyz (no stream to wait on) until it answers 200.
func (rs *realService) waitReady(within time.Duration) {
	rs.t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(rs.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			rs.t.Fatalf("callin not ready within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends an in-process service as SIGTERM does.
func (rs *realService) stop() {
	if rs.cancel == nil {
		return
	}
	rs.cancel()
	rs.cancel = nil
	select {
	case err := <-rs.errc:
		if err != nil {
			rs.t.Errorf("serve ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		rs.t.Error("serve did not stop within 30 s")
	}
}

// kill ends a callin process with SIGKILL, by its pid, and waits for it.
func (rs *realService) kill() {
	if rs.proc == nil {
		return
	}
	rs.proc.Process.Kill()
	<-rs.errc
	rs.proc = nil
}

// api sends a request with the producer token and decodes the answer into
// out (when not nil).
func (rs *realService) api(method, path string, body, out any) int {
	rs.t.Helper()
	code, b := apiCall(rs.t, rs.base, rs.token, method, path, body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil && code < 300 {
			rs.t.Fatalf("%s %s: %d %v: %.300s", method, path, code, err, b)
		}
	}
	rs.last = fmt.Sprintf("%s %s: %d %.300s", method, path, code, b)
	return code
}

// act runs a caller action and wants 200.
func (rs *realService) act(callID, action string, body any) queue.Call {
	rs.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	var c queue.Call
	if code := rs.api(http.MethodPost, "/shows/morning/callers/"+callID+"/"+action, body, &c); code != http.StatusOK {
		rs.t.Fatalf("%s %s: %d (%s)", action, callID, code, rs.last)
	}
	return c
}

// callers lists the show's live callers, in line order first (position),
// then the others.
func (rs *realService) callers() []queue.Call {
	rs.t.Helper()
	var out struct{ Callers []queue.Call }
	if code := rs.api(http.MethodGet, "/shows/morning/callers", nil, &out); code != http.StatusOK {
		rs.t.Fatalf("list callers: %d", code)
	}
	return out.Callers
}

// waitCallers polls the API (it has no long poll; the event stream is
// checked elsewhere) until ok holds for the live callers, for at most
// within.
func (rs *realService) waitCallers(what string, within time.Duration, ok func([]queue.Call) bool) []queue.Call {
	rs.t.Helper()
	deadline := time.Now().Add(within)
	for {
		cs := rs.callers()
		if ok(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			rs.t.Fatalf("after %v, want %s; callers: %s", within, what, describe(cs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitState waits until the call is listed in state (or, for
// queue.StateEnded, no longer listed) and returns it.
func (rs *realService) waitState(callID string, state queue.State) queue.Call {
	rs.t.Helper()
	var got queue.Call
	rs.waitCallers(fmt.Sprintf("call %s %s", callID, state), 10*time.Second, func(cs []queue.Call) bool {
		got = queue.Call{}
		for _, c := range cs {
			if c.ID == callID {
				got = c
			}
		}
		if state == queue.StateEnded {
			return got.ID == "" || got.State == queue.StateEnded
		}
		return got.State == state && got.Pending == ""
	})
	return got
}

func describe(cs []queue.Call) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %s %s %s pos %d chan %s pending %q", c.ID, c.Number, c.State, c.Position, c.ChannelID, c.Pending)
	}
	return b.String()
}

// inState counts the callers in state (and not pending an action).
func inState(cs []queue.Call, state queue.State) []queue.Call {
	var out []queue.Call
	for _, c := range cs {
		if c.State == state && c.Pending == "" {
			out = append(out, c)
		}
	}
	return out
}

// record is a call in the show's history, through the API.
type record struct {
	ID      string        `json:"id"`
	Number  string        `json:"number"`
	State   queue.State   `json:"state"`
	Outcome queue.Outcome `json:"outcome"`
	Cause   int           `json:"cause"`
	Ended   time.Time     `json:"ended_at"`
}

// history waits until the API's history of today's calls has call id
// ended (the history writer flushes on its own clock), and returns it.
// With cause, it waits for the cause too, and a call ended without one is
// returned after 10 s.
func (rs *realService) history(id string, cause bool) record {
	rs.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var out struct{ Calls []record }
		if code := rs.api(http.MethodGet, "/shows/morning/calls", nil, &out); code != http.StatusOK {
			rs.t.Fatalf("history: %d", code)
		}
		for _, r := range out.Calls {
			if r.ID == id && r.Outcome != "" && (r.Cause != 0 || !cause || time.Now().After(deadline)) {
				return r
			}
		}
		if time.Now().After(deadline) {
			rs.t.Fatalf("call %s not ended in the history within 10 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ariChannel is the part of an ARI channel the tests read.
type ariChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ariBridge is the part of an ARI bridge the tests read.
type ariBridge struct {
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
}

// chanName is a channel's name (PJSIP/anonymous-…), which p.Hangup takes.
func chanName(t *testing.T, p *pbxtest.PBX, id string) string {
	t.Helper()
	code, body, err := p.Get(context.Background(), "/channels/"+id)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /channels/%s: %d %v %s", id, code, err, body)
	}
	var ch ariChannel
	if err := json.Unmarshal(body, &ch); err != nil {
		t.Fatal(err)
	}
	return ch.Name
}

// bridges lists Asterisk's bridges whose id starts with prefix.
func bridges(t testing.TB, p *pbxtest.PBX, prefix string) []ariBridge {
	t.Helper()
	code, body, err := p.Get(context.Background(), "/bridges")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /bridges: %d %v %s", code, err, body)
	}
	var all []ariBridge
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	var out []ariBridge
	for _, b := range all {
		if strings.HasPrefix(b.ID, prefix) {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// bridgeOf is the id of the bridge (with prefix) holding channel, or "".
func bridgeOf(t testing.TB, p *pbxtest.PBX, prefix, channel string) string {
	t.Helper()
	for _, b := range bridges(t, p, prefix) {
		if slices.Contains(b.Channels, channel) {
			return b.ID
		}
	}
	return ""
}

// waitBridge waits until channel is in a bridge whose id starts with
// prefix (Asterisk's own view, polled: callin's app holds the events).
func waitBridge(t testing.TB, p *pbxtest.PBX, prefix, channel string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b := bridgeOf(t, p, prefix, channel); b != "" {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel %s in no bridge %s* after 10 s: %+v\n%s", channel, prefix, bridges(t, p, "callin-"), pbxState(p, channel))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pbxState is what the Asterisk says of channel and its SIP side when a
// wait for it failed: the channel through ARI, every channel, and the
// contacts and their state (TestRealPBXShow's host once never reached the
// on-air bridge: this is to see why if it happens again).
func pbxState(p *pbxtest.PBX, channel string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	code, body, err := p.Get(ctx, "/channels/"+channel)
	fmt.Fprintf(&b, "ARI channel: %d %v %s\n", code, err, body)
	for _, cmd := range []string{"core show channels verbose", "pjsip show contacts", "pjsip show channels"} {
		out, err := p.CLI(ctx, cmd)
		fmt.Fprintf(&b, "%s: %v\n%s\n", cmd, err, out)
	}
	for _, l := range append(p.LogLines(channel), p.LogLines("PJSIP/phone")...) {
		fmt.Fprintln(&b, l)
	}
	return b.String()
}

// answerAtOnce makes this test's phones answer without ringing first.
// Twice in .ci/run a sipp phone started a moment before its first INVITE
// sent 180 Ringing and never the 200 OK its scenario sends after a 1 s
// pause: its message trace ends at the 180, Asterisk gave up on it after
// 15 s (the host never reached the on-air bridge; the screener "did not
// answer"). A guess, not confirmed: sipp 3.6.1's pause timer. Ringing
// phones are tested by TestHostLinePBX and pbxtest's TestPhones.
const answerAtOnce = -1

// hangUp makes caller c hang up as a listener does (a BYE, asked of its
// sipp by a NOTIFY: pbxtest.Hangup) and waits until callin has ended the
// call. The callers' sipp now and then ignores the NOTIFY (three times in
// .ci/run on 2026-12-08, cause unknown: its log on failure now says how
// and when it ended, and its last messages); after 4 s the test hangs the
// channel up through ARI with cause 16 instead, and says so in the test's
// log, so that what is tested here, callin's handling of a caller gone,
// still is.
func hangUp(t *testing.T, p *pbxtest.PBX, rs *realService, c queue.Call) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Hangup(ctx, chanName(t, p, c.ChannelID)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !slices.ContainsFunc(rs.callers(), func(x queue.Call) bool { return x.ID == c.ID && x.State != queue.StateEnded }) {
			return
		}
	}
	code, body, err := p.Delete(ctx, "/channels/"+c.ChannelID+"?reason_code=16")
	t.Logf("the caller's sipp did not answer the NOTIFY in 4 s: channel %s hung up through ARI instead (%d %s %v)", c.ChannelID, code, body, err)
	rs.waitState(c.ID, queue.StateEnded)
}

const (
	holdPrefix = "callin-morning-hold"
	airBridge  = "callin-morning-air"
)

// recordAir records the air for d through the API (start, stop), then
// downloads the recording through the API and checks it: about d long,
// the caller's 440 Hz and the host's 1000 Hz both in it.
func recordAir(t *testing.T, rs *realService, d time.Duration) {
	t.Helper()
	var st struct {
		Active bool   `json:"active"`
		Name   string `json:"name"`
	}
	if code := rs.api(http.MethodPost, "/shows/morning/recording/start", map[string]any{}, &st); code != http.StatusOK || !st.Active || st.Name == "" {
		t.Fatalf("recording start: %d %+v (%s)", code, st, rs.last)
	}
	time.Sleep(d) // the audio to record: real time passing is the point
	if code := rs.api(http.MethodPost, "/shows/morning/recording/stop", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("recording stop: %d (%s)", code, rs.last)
	}
	// Listed once Asterisk has finished it (RecordingFinished; polled).
	var rec struct {
		Name            string  `json:"name"`
		Format          string  `json:"format"`
		DurationSeconds float64 `json:"duration_seconds"`
	}
	for deadline := time.Now().Add(10 * time.Second); rec.Name == ""; time.Sleep(50 * time.Millisecond) {
		var out struct {
			Recordings []json.RawMessage `json:"recordings"`
		}
		if code := rs.api(http.MethodGet, "/shows/morning/recordings", nil, &out); code != http.StatusOK {
			t.Fatalf("recordings: %d (%s)", code, rs.last)
		}
		for _, raw := range out.Recordings {
			var r struct {
				Name            string  `json:"name"`
				Format          string  `json:"format"`
				DurationSeconds float64 `json:"duration_seconds"`
				Ended           string  `json:"ended"`
			}
			if json.Unmarshal(raw, &r) == nil && r.Name == st.Name && r.Ended != "" {
				rec.Name, rec.Format, rec.DurationSeconds = r.Name, r.Format, r.DurationSeconds
			}
		}
		if rec.Name == "" && time.Now().After(deadline) {
			t.Fatalf("recording %s not listed as ended 10 s after the stop (%s)", st.Name, rs.last)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, rs.base+"/api/v1/shows/morning/recordings/"+rec.Name+"/file", nil)
	req.Header.Set("Authorization", "Bearer "+rs.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wav, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s: %d %v", rec.Name, resp.StatusCode, err)
	}
	h, err := pbxtest.Analyse(wav)
	if err != nil {
		t.Fatalf("recording %s (%s, %d bytes): %v", rec.Name, rec.Format, len(wav), err)
	}
	t.Logf("recording %s: %v long (listed %.2f s): %v", rec.Name, h.Duration(), rec.DurationSeconds, h)
	if got := h.Duration(); got < d-500*time.Millisecond || got > d+time.Second {
		t.Errorf("recording %v long, want about %v", got, d)
	}
	if h.Silent() > 0.25 || h.Share(pbxtest.CallerHz) < 0.5 || h.Share(pbxtest.PhoneHz) < 0.5 {
		t.Errorf("recording: silent in %.0f%% of the windows, the caller in %.0f%%, the host in %.0f%%; want both in most: %v",
			100*h.Silent(), 100*h.Share(pbxtest.CallerHz), 100*h.Share(pbxtest.PhoneHz), h)
	}
}

// hearAll hears, at the same time, the channel given for each bridge.
func hearAll(t testing.TB, l *pbxtest.Listener, chans map[string]string, d time.Duration) map[string]*pbxtest.Heard {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[string]*pbxtest.Heard{}
	for bridge, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := hearOnce(l, ch, d)
			if err != nil {
				t.Errorf("hearing %s in %s: %v", ch, bridge, err)
				return
			}
			mu.Lock()
			out[bridge] = h
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// hearMusic hears channel, which has just entered a holding bridge, until
// it hears the music in most of a second, for at most 5 s: the music is
// started again after each join (broadcast.holdBridge), a moment after the
// caller is in. ok says it did; h is what was heard last.
func hearMusic(t testing.TB, l *pbxtest.Listener, channel string) (h *pbxtest.Heard, ok bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		h = hear(t, l, channel, time.Second)
		if h.Music() >= 0.6 {
			return h, true
		}
		if time.Now().After(deadline) {
			return h, false
		}
	}
}

// hear records what channel hears for d.
func hear(t testing.TB, l *pbxtest.Listener, channel string, d time.Duration) *pbxtest.Heard {
	t.Helper()
	h, err := hearOnce(l, channel, d)
	if err != nil {
		t.Fatalf("hearing %s: %v", channel, err)
	}
	return h
}

// hearOnce is l.Hear with a timeout.
func hearOnce(l *pbxtest.Listener, channel string, d time.Duration) (*pbxtest.Heard, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+15*time.Second)
	defer cancel()
	return l.Hear(ctx, channel, d)
}

// openCalls counts the show's calls PostgreSQL has not ended.
func openCalls(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM calls WHERE show = 'morning' AND ended_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// screening is a screening event of the API's event stream.
type screening struct {
	CallID  string `json:"call_id"`
	State   string `json:"state"`
	Message string `json:"message"`
	Cause   int    `json:"cause"`
}

// nextScreening waits for the next screening event of call id that is not
// "ringing".
func nextScreening(t *testing.T, st *sseStream, id string, within time.Duration) screening {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev, ok := <-st.ch:
			if !ok {
				t.Fatal("the event stream ended")
			}
			var sc screening
			if ev.name == "screening" && json.Unmarshal([]byte(ev.data), &sc) == nil && sc.CallID == id && sc.State != "ringing" {
				return sc
			}
		case <-timeout:
			t.Fatalf("no outcome of the screening of %s within %v", id, within)
		}
	}
}

// waitOpenCalls waits until PostgreSQL has exactly want calls open (the
// history writer flushes on its own clock).
func waitOpenCalls(t *testing.T, dbURL string, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := openCalls(t, dbURL)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls open in PostgreSQL after 15 s, want %d", n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// storedCalls is what PostgreSQL has of the show's calls: by id, the state
// and arrival time.
func storedCalls(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT id, state, arrived_at FROM calls WHERE show = 'morning'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, state string
		var at time.Time
		if err := rows.Scan(&id, &state, &at); err != nil {
			t.Fatal(err)
		}
		out[id] = state + " arrived " + at.UTC().Format("15:04:05.000")
	}
	return out
}

// checkTransitions fails t when a call of the show has a transition
// stored twice or missing (its seqs not contiguous), or more than one end.
func checkTransitions(t *testing.T, dbURL string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// An end is a move into ended; a cause learned after the end is an
	// ended → ended transition of its own (queue.ActionCause).
	rows, err := conn.Query(context.Background(), `SELECT call_id, count(*), max(seq) - min(seq) + 1,
		count(*) FILTER (WHERE to_state = 'ended' AND from_state <> 'ended')
		FROM call_events WHERE show = 'morning' GROUP BY call_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	calls := 0
	for rows.Next() {
		var id string
		var n, span, ends int
		if err := rows.Scan(&id, &n, &span, &ends); err != nil {
			t.Fatal(err)
		}
		calls++
		if n != span || ends > 1 {
			t.Errorf("call %s: %d transitions over %d seqs, %d ends; want each once", id, n, span, ends)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("no transitions stored")
	}
}

// TestRealPBXShow runs a show on a real Asterisk with 15 SIP callers
// through the project's dialplan: the pool of holding bridges with music in
// each, a producer's talkback heard in every bridge and the music back
// after it, the producer's actions (promote, mute, lock, hold, take next,
// drop with goodbye, screening on phones that answer or are busy), the host
// phone
// heard on air and recorded, hang-ups by callers in each state with
// Asterisk's cause, and an Asterisk restart mid-show. The subtests run in
// order on one line of callers; each leaves it as the next expects.
func TestRealPBXShow(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	if err := p.Sound("vm-goodbye", goodbyeHz, goodbyeLen); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.URL(t)
	// Two screeners: one whose phone (phone2) answers with a 1800 Hz tone,
	// one whose phone (phone3) is busy.
	store, err := openStore(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for user, phone := range map[string]string{"screener": "PJSIP/phone2", "busy": "PJSIP/phone3"} {
		if err := auth.AddUser(context.Background(), store, user, auth.RoleProducer, "a long enough password"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.SetUserPhone(context.Background(), user, phone); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()
	rs := startReal(t, p, dbURL, realShow)
	l := p.Listener(t)
	ctx := context.Background()
	const n = 15

	var line []queue.Call // the waiting callers in line order
	top := t
	t.Run("Pool", func(t *testing.T) {
		rs.t = t
		p.Callers(top, pbxtest.CallerConfig{Number: "5550100", Count: n, Rate: 20, PressOne: true, Prefix: "1555"})
		line = rs.waitCallers(fmt.Sprintf("%d waiting", n), 30*time.Second, func(cs []queue.Call) bool {
			return len(inState(cs, queue.StateWaiting)) == n
		})
		line = inState(line, queue.StateWaiting)
		sort.Slice(line, func(i, j int) bool { return line[i].Position < line[j].Position })
		// Listed in arrival order, at places 1 … n.
		for i, c := range line {
			if c.Position != i+1 || !strings.HasPrefix(c.Number, "+1555") {
				t.Errorf("caller %s (%s) at %d, want place %d and a +1555 number", c.ID, c.Number, c.Position, i+1)
			}
			if i > 0 && c.ArrivedAt.Before(line[i-1].ArrivedAt) {
				t.Errorf("caller at %d arrived %v, before the caller at %d (%v): the line is not in arrival order",
					c.Position, c.ArrivedAt, line[i-1].Position, line[i-1].ArrivedAt)
			}
		}
		// Asterisk holds them in a pool of at least three bridges of at
		// most five, every caller in one.
		pool := bridges(t, p, holdPrefix)
		where := map[string]string{}
		for _, b := range pool {
			members := 0
			for _, c := range line {
				if slices.Contains(b.Channels, c.ChannelID) {
					where[c.ChannelID] = b.ID
					members++
				}
			}
			if members > 5 {
				t.Errorf("bridge %s holds %d callers, want at most 5 (hold=5)", b.ID, members)
			}
		}
		if len(pool) < 3 {
			t.Errorf("%d holding bridges, want at least 3: %+v", len(pool), pool)
		}
		for _, c := range line {
			if where[c.ChannelID] == "" {
				t.Errorf("caller %s (channel %s) is in no holding bridge", c.ID, c.ChannelID)
			}
		}
		// One caller in each bridge hears its music.
		var wg sync.WaitGroup
		var mu sync.Mutex
		heard := map[string]*pbxtest.Heard{}
		for _, b := range pool {
			var ch string
			for _, c := range line {
				if where[c.ChannelID] == b.ID {
					ch = c.ChannelID
					break
				}
			}
			if ch == "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := hearOnce(l, ch, 1500*time.Millisecond)
				if err != nil {
					t.Errorf("hearing %s in %s: %v", ch, b.ID, err)
					return
				}
				mu.Lock()
				heard[b.ID] = h
				mu.Unlock()
			}()
		}
		wg.Wait()
		for id, h := range heard {
			if s := h.Music(); s < 0.6 {
				t.Errorf("bridge %s: music in %.0f%% of the windows, want most: %v", id, 100*s, h)
			}
		}
	})
	if t.Failed() {
		return
	}
	if len(line) != n {
		t.Fatalf("%d callers in line, want %d", len(line), n)
	}
	rs.t = t

	t.Run("Talkback", func(t *testing.T) {
		rs.t = t
		// The producer's phone answers with its 1000 Hz tone (the host,
		// with the same tone, is not on air yet and is never heard on hold).
		p.Phone(t, 4, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz, Ring: answerAtOnce})
		pool := bridges(t, p, holdPrefix)
		one := map[string]string{} // a caller in each holding bridge
		for _, b := range pool {
			for _, c := range line {
				if slices.Contains(b.Channels, c.ChannelID) {
					one[b.ID] = c.ChannelID
					break
				}
			}
		}
		events := openSSEStream(t, rs.base+"/api/v1/shows/morning/events", nil, withToken(rs.token))
		if code := rs.api(http.MethodPost, "/shows/morning/talkback/start", map[string]any{"endpoint": "PJSIP/phone4"}, nil); code != http.StatusOK {
			t.Fatalf("talkback start: %d (%s)", code, rs.last)
		}
		// The phone rings a second before it answers: the event stream
		// says when the talkback is live, and in how many bridges.
		var tb struct {
			Active      bool `json:"active"`
			Bridges     int  `json:"bridges"`
			HoldBridges int  `json:"hold_bridges"`
		}
		timeout := time.After(10 * time.Second)
		for !tb.Active || tb.Bridges < len(pool) {
			select {
			case ev, ok := <-events.ch:
				if !ok {
					t.Fatal("the event stream ended")
				}
				if ev.name == "talkback" {
					if err := json.Unmarshal([]byte(ev.data), &tb); err != nil {
						t.Fatal(err)
					}
					t.Logf("talkback event: %s", ev.data)
				}
			case <-timeout:
				t.Fatalf("10 s after the talkback start it reaches %d of the %d holding bridges (event stream), want all", tb.Bridges, len(pool))
			}
		}
		heard := hearAll(t, l, one, 1500*time.Millisecond)
		for id, h := range heard {
			if h.Share(pbxtest.PhoneHz) < 0.6 || h.Music() > 0.25 {
				t.Errorf("bridge %s during the talkback: the producer in %.0f%% of the windows, music in %.0f%%; want most and none: %v",
					id, 100*h.Share(pbxtest.PhoneHz), 100*h.Music(), h)
			}
		}
		if code := rs.api(http.MethodPost, "/shows/morning/talkback/stop", map[string]any{}, nil); code != http.StatusOK {
			t.Fatalf("talkback stop: %d (%s)", code, rs.last)
		}
		// The music comes back in every bridge. Wait for the phone's line
		// to be gone from the bridges first (it leaves after the stop's
		// answer; polled: callin's app has the events).
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			extra := 0
			for _, b := range bridges(t, p, holdPrefix) {
				for _, ch := range b.Channels {
					if !slices.ContainsFunc(line, func(c queue.Call) bool { return c.ChannelID == ch }) {
						extra++
					}
				}
			}
			if extra == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d channels besides the callers still in the holding bridges 10 s after the talkback stopped", extra)
			}
		}
		for id, h := range hearAll(t, l, one, 1500*time.Millisecond) {
			if h.Music() < 0.6 || h.Share(pbxtest.PhoneHz) > 0 {
				t.Errorf("bridge %s after the talkback: music in %.0f%% of the windows, the producer in %.0f%%; want most and none: %v",
					id, 100*h.Music(), 100*h.Share(pbxtest.PhoneHz), h)
			}
		}
	})
	rs.t = t

	// The host phone answers with its 1000 Hz tone.
	p.Phone(t, 1, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: pbxtest.PhoneHz, Ring: answerAtOnce})

	t.Run("PromoteHostMuteLockHold", func(t *testing.T) {
		rs.t = t
		a := line[0]
		if c := rs.act(a.ID, "promote", nil); c.State != queue.StateOnAir {
			t.Fatalf("promote answered %s, want on_air", c.State)
		}
		waitBridge(t, p, airBridge, a.ChannelID)
		// The host is called on air and heard by the caller.
		var host struct {
			ChannelID string `json:"channel_id"`
		}
		if code := rs.api(http.MethodPost, "/shows/morning/host/call", map[string]any{}, &host); code != http.StatusOK || host.ChannelID == "" {
			t.Fatalf("call host: %d %+v", code, host)
		}
		waitBridge(t, p, airBridge, host.ChannelID)
		if h := hear(t, l, a.ChannelID, 1500*time.Millisecond); h.Share(pbxtest.PhoneHz) < 0.6 || h.Music() > 0 {
			t.Errorf("the caller on air hears the host's tone in %.0f%% of the windows (music in %.0f%%), want most and none: %v",
				100*h.Share(pbxtest.PhoneHz), 100*h.Music(), h)
		}
		if h := hear(t, l, host.ChannelID, time.Second); h.Share(pbxtest.CallerHz) < 0.6 {
			t.Errorf("the host hears the caller in %.0f%% of the windows, want most: %v", 100*h.Share(pbxtest.CallerHz), h)
		}
		// The on-air recording holds both, for as long as it ran.
		recordAir(t, rs, 2*time.Second)
		// Muted: the host no longer hears the caller.
		if c := rs.act(a.ID, "mute", nil); !c.Muted {
			t.Errorf("mute answered muted=%t", c.Muted)
		}
		if h := hear(t, l, host.ChannelID, time.Second); h.Share(pbxtest.CallerHz) > 0.25 {
			t.Errorf("the host hears the muted caller in %.0f%% of the windows, want none: %v", 100*h.Share(pbxtest.CallerHz), h)
		}
		if c := rs.act(a.ID, "unmute", nil); c.Muted {
			t.Errorf("unmute answered muted=%t", c.Muted)
		}
		if h := hear(t, l, host.ChannelID, time.Second); h.Share(pbxtest.CallerHz) < 0.6 {
			t.Errorf("the host hears the unmuted caller in %.0f%% of the windows, want most: %v", 100*h.Share(pbxtest.CallerHz), h)
		}
		// Locked: neither hold nor drop moves the caller.
		if c := rs.act(a.ID, "lock", nil); !c.Locked {
			t.Errorf("lock answered locked=%t", c.Locked)
		}
		if code := rs.api(http.MethodPost, "/shows/morning/callers/"+a.ID+"/hold", map[string]any{}, nil); code != http.StatusConflict {
			t.Errorf("hold of a locked caller: %d, want 409 (%s)", code, rs.last)
		}
		if code := rs.api(http.MethodPost, "/shows/morning/callers/"+a.ID+"/drop", map[string]any{}, nil); code != http.StatusConflict {
			t.Errorf("drop of a locked caller: %d, want 409 (%s)", code, rs.last)
		}
		if b := bridgeOf(t, p, airBridge, a.ChannelID); b == "" {
			t.Error("the locked caller left the on-air bridge")
		}
		rs.act(a.ID, "unlock", nil)
		// Back on hold: in a holding bridge, with music, at the front of
		// the line (was on air, keeps its place by arrival).
		if c := rs.act(a.ID, "hold", nil); c.State != queue.StateWaiting {
			t.Fatalf("hold answered %s, want waiting", c.State)
		}
		waitBridge(t, p, holdPrefix, a.ChannelID)
		if c := rs.waitState(a.ID, queue.StateWaiting); c.Position != 1 || !c.WasOnAir {
			t.Errorf("held caller at %d (was on air %t), want 1 and true", c.Position, c.WasOnAir)
		}
		if h, ok := hearMusic(t, l, a.ChannelID); !ok {
			t.Errorf("the caller back on hold hears music in %.0f%% of the windows, want most: %v", 100*h.Music(), h)
		}
		// The host stays on air for the next steps.
	})
	rs.t = t

	var onAir queue.Call // the caller Take next puts on air
	t.Run("TakeNext", func(t *testing.T) {
		rs.t = t
		waiting := inState(rs.callers(), queue.StateWaiting)
		sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
		var c queue.Call
		if code := rs.api(http.MethodPost, "/shows/morning/take-next", map[string]any{}, &c); code != http.StatusOK {
			t.Fatalf("take next: %d", code)
		}
		if c.ID != waiting[0].ID || c.State != queue.StateOnAir {
			t.Fatalf("take next put %s (%s) on air, want the first in line %s", c.ID, c.State, waiting[0].ID)
		}
		waitBridge(t, p, airBridge, c.ChannelID)
		onAir = c
		for _, w := range rs.waitCallers("the line moved up", 5*time.Second, func(cs []queue.Call) bool {
			return len(inState(cs, queue.StateWaiting)) == len(waiting)-1
		}) {
			for i, was := range waiting[1:] {
				if w.ID == was.ID && w.Position != i+1 {
					t.Errorf("caller %s at %d after take next, want %d", w.ID, w.Position, i+1)
				}
			}
		}
	})
	rs.t = t

	t.Run("DropWithGoodbye", func(t *testing.T) {
		rs.t = t
		waiting := inState(rs.callers(), queue.StateWaiting)
		sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
		c := waiting[len(waiting)-1]
		// Listen while the drop runs: the goodbye is heard, and the drop
		// (which returns after the hang-up) takes at least its length.
		heard := make(chan *pbxtest.Heard, 1)
		go func() {
			h, err := hearOnce(l, c.ChannelID, time.Second)
			if err != nil {
				t.Errorf("hearing the goodbye: %v", err)
			}
			heard <- h
		}()
		start := time.Now()
		var dropped queue.Call
		if code := rs.api(http.MethodPost, "/shows/morning/callers/"+c.ID+"/drop", map[string]any{"goodbye": true, "reason": "test"}, &dropped); code != http.StatusOK {
			t.Fatalf("drop: %d", code)
		}
		took := time.Since(start)
		t.Logf("drop with a %v goodbye took %v", goodbyeLen, took.Round(time.Millisecond))
		if h := <-heard; h != nil && h.Share(goodbyeHz) < 0.5 {
			t.Errorf("the goodbye heard in %.0f%% of the windows during the drop, want most: %v", 100*h.Share(goodbyeHz), h)
		}
		if took < goodbyeLen || took > goodbyeLen+time.Second {
			t.Errorf("drop with goodbye took %v, want the goodbye's %v (played before the hang-up) plus under 1 s", took, goodbyeLen)
		}
		if dropped.Outcome != queue.OutcomeDropped {
			t.Errorf("drop answered outcome %q, want dropped", dropped.Outcome)
		}
		if r := rs.history(c.ID, true); r.Outcome != queue.OutcomeDropped || r.Cause != 16 {
			t.Errorf("history: %s cause %d, want dropped cause 16", r.Outcome, r.Cause)
		}
	})
	rs.t = t

	t.Run("Screening", func(t *testing.T) {
		rs.t = t
		p.Phone(t, 2, pbxtest.PhoneConfig{Kind: pbxtest.PhoneAnswers, ToneHz: screenerHz, Ring: answerAtOnce})
		p.Phone(t, 3, pbxtest.PhoneConfig{Kind: pbxtest.PhoneBusy})
		waiting := inState(rs.callers(), queue.StateWaiting)
		sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
		c := waiting[1]
		events := openSSEStream(t, rs.base+"/api/v1/shows/morning/events", nil, withToken(rs.token))
		// Screen answers at once (202) while the phone rings; the outcome
		// comes on the event stream.
		screen := func(screener, want string) screening {
			t.Helper()
			var got queue.Call
			if code := rs.api(http.MethodPost, "/shows/morning/callers/"+c.ID+"/screen", map[string]any{"screener": screener}, &got); code != http.StatusAccepted || got.Pending != "screen" {
				t.Fatalf("screen with %s: %d, pending %q; want 202 with the screening pending (%s)", screener, code, got.Pending, rs.last)
			}
			sc := nextScreening(t, events, c.ID, 15*time.Second)
			if sc.State != want {
				t.Fatalf("screening with %s: %+v, want %s", screener, sc, want)
			}
			t.Logf("screening with %s: %s: %q", screener, sc.State, sc.Message)
			return sc
		}
		// A busy phone: the caller stays on hold, in place.
		if sc := screen("busy", "busy"); sc.Cause != 17 {
			t.Errorf("busy phone: cause %d, want 17 (trace 13c)", sc.Cause)
		}
		if got := rs.waitState(c.ID, queue.StateWaiting); got.Position != c.Position {
			t.Errorf("after the busy phone the caller is at %d, want %d", got.Position, c.Position)
		}
		waitBridge(t, p, holdPrefix, c.ChannelID)
		// A phone that answers: caller and screener hear each other.
		screen("screener", "answered")
		rs.waitState(c.ID, queue.StateScreening)
		scr := waitBridge(t, p, "callin-morning-scr", c.ChannelID)
		var line string // the screener's line
		for deadline := time.Now().Add(10 * time.Second); line == ""; time.Sleep(20 * time.Millisecond) {
			for _, b := range bridges(t, p, scr) {
				for _, ch := range b.Channels {
					if ch != c.ChannelID {
						line = ch
					}
				}
			}
			if line == "" && time.Now().After(deadline) {
				t.Fatalf("no screener's line in %s after 10 s", scr)
			}
		}
		if h := hear(t, l, c.ChannelID, time.Second); h.Share(screenerHz) < 0.6 || h.Music() > 0 {
			t.Errorf("the caller being screened hears the screener in %.0f%% of the windows (music in %.0f%%), want most and none: %v",
				100*h.Share(screenerHz), 100*h.Music(), h)
		}
		// The caller hangs up while screened.
		hangUp(t, p, rs, c)
		if rec := rs.history(c.ID, true); rec.Outcome != queue.OutcomeAbandoned || rec.Cause != 16 {
			t.Errorf("caller hanging up while screened: history %s cause %d, want abandoned cause 16 (normal clearing)", rec.Outcome, rec.Cause)
		}
		// The screener's line is hung up with it, and its bridge destroyed.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			code, _, err := p.Get(ctx, "/channels/"+line)
			left := bridges(t, p, "callin-morning-scr")
			if err == nil && code == http.StatusNotFound && len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("10 s after the caller hung up while screened: the screener's line answers %d, screening bridges %+v; want it gone, and none", code, left)
				break
			}
		}
	})
	rs.t = t

	t.Run("CallerHangsUp", func(t *testing.T) {
		rs.t = t
		waiting := inState(rs.callers(), queue.StateWaiting)
		sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
		w, r := waiting[len(waiting)-1], waiting[len(waiting)-2]
		if c := rs.act(r.ID, "ready", map[string]any{"name": "Ready Caller", "topic": "traffic"}); c.State != queue.StateReady {
			t.Fatalf("ready answered %s", c.State)
		}
		for _, tc := range []struct {
			what    string
			c       queue.Call
			outcome queue.Outcome
		}{
			{"waiting", w, queue.OutcomeAbandoned},
			{"ready", r, queue.OutcomeAbandoned},
			{"on air", onAir, queue.OutcomeAired},
		} {
			start := time.Now()
			hangUp(t, p, rs, tc.c)
			t.Logf("caller %s hung up: off the line in %v", tc.what, time.Since(start).Round(time.Millisecond))
			if rec := rs.history(tc.c.ID, true); rec.Outcome != tc.outcome || rec.Cause != 16 {
				t.Errorf("caller hanging up %s: history %s cause %d, want %s cause 16 (normal clearing)", tc.what, rec.Outcome, rec.Cause, tc.outcome)
			}
		}
		if b := bridgeOf(t, p, airBridge, onAir.ChannelID); b != "" {
			t.Errorf("the on-air caller who hung up is still in %s", b)
		}
	})
	rs.t = t

	t.Run("AsteriskRestart", func(t *testing.T) {
		rs.t = t
		before := rs.callers()
		logFrom := len(rs.stderr.String())
		if err := p.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		up := time.Now() // ARI answers again
		// Every call ends, with a cause, and callin is ready again.
		rs.waitCallers("no caller left after the restart", 20*time.Second, func(cs []queue.Call) bool {
			return len(cs) == 0
		})
		rs.waitReady(20 * time.Second)
		back := time.Since(up)
		var dials []string
		for _, line := range strings.Split(rs.stderr.String()[logFrom:], "\n") {
			if strings.Contains(line, "ari events") {
				dials = append(dials, line)
			}
		}
		t.Logf("callin ready %v after Asterisk's ARI answered again; its connection:\n%s", back.Round(time.Millisecond), strings.Join(dials, "\n"))
		// The dialplan's promise (dialplan/extensions.conf): the service
		// re-registers its app within a second or two of a restart.
		if back > 5*time.Second {
			t.Errorf("callin ready %v after Asterisk's ARI answered again, want within a second or two (5 s allowed): "+
				"a booting Asterisk answers GET /ari/events 404 for about 0.1 s before res_ari is up, and ari.Conn waits "+
				"its longest backoff after a 404; its dials:\n%s", back.Round(time.Millisecond), strings.Join(dials, "\n"))
		}
		for _, c := range before {
			if c.State == queue.StateEnded {
				continue
			}
			want := queue.OutcomeAbandoned
			if c.WasOnAir || c.State == queue.StateOnAir {
				want = queue.OutcomeAired
			}
			rec := rs.history(c.ID, true)
			t.Logf("call %s, %s before the restart: ended %s, cause %d", c.ID, c.State, rec.Outcome, rec.Cause)
			if rec.Outcome != want || rec.Cause == 0 {
				t.Errorf("call %s (%s) after the restart: %s cause %d, want %s with Asterisk's cause", c.ID, c.State, rec.Outcome, rec.Cause, want)
			}
		}
		waitOpenCalls(t, dbURL, 0)
		// New callers are admitted, into a holding bridge with music.
		p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 3, Rate: 20, PressOne: true, Prefix: "1666"})
		cs := rs.waitCallers("3 new callers waiting", 20*time.Second, func(cs []queue.Call) bool {
			return len(inState(cs, queue.StateWaiting)) == 3
		})
		for _, c := range cs {
			if !strings.HasPrefix(c.Number, "+1666") {
				t.Errorf("caller %s (%s) after the restart, want only the new callers", c.ID, c.Number)
			}
		}
		ch := cs[0].ChannelID
		waitBridge(t, p, holdPrefix, ch)
		// A fresh Listener: the first one's connection may be waiting out
		// ari.Conn's longest backoff after the booting Asterisk's 404 (seen
		// in 2 of 8 restarts; see the readiness check above).
		if h, ok := hearMusic(t, p.Listener(t), ch); !ok {
			t.Errorf("a caller after the restart hears music in %.0f%% of the windows, want most: %v", 100*h.Music(), h)
		}
		waitOpenCalls(t, dbURL, 3)
		checkTransitions(t, dbURL)
	})
}

// TestRealPBXKillCallin: callin is killed (SIGKILL, its own process) in the
// middle of a show on a real Asterisk; while it is gone a waiting caller
// hangs up and two new callers dial in (the dialplan keeps them on music
// and retries Stasis); a fresh callin on the same database has the same
// line: the same callers in the same order, the same caller on air, the
// one who hung up ended, the new ones admitted behind, nothing else open.
func TestRealPBXKillCallin(t *testing.T) {
	t.Parallel()
	p := pbxtest.New(t, pbxtest.Config{})
	dbURL := pgtest.URL(t)
	a := startRealProcess(t, p, dbURL, realShow)
	l := p.Listener(t)
	ctx := context.Background()

	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 6, Rate: 20, PressOne: true, Prefix: "1777"})
	line := inState(a.waitCallers("6 waiting", 30*time.Second, func(cs []queue.Call) bool {
		return len(inState(cs, queue.StateWaiting)) == 6
	}), queue.StateWaiting)
	sort.Slice(line, func(i, j int) bool { return line[i].Position < line[j].Position })
	onAir := a.act(line[0].ID, "promote", nil)
	waitBridge(t, p, airBridge, onAir.ChannelID)
	gone := line[3]
	goneName := chanName(t, p, gone.ChannelID)
	var stay []string // the waiting callers who stay, in line order
	for _, c := range line[1:] {
		if c.ID != gone.ID {
			stay = append(stay, c.ID)
		}
	}

	// What PostgreSQL has of the line at the kill, for the failure message.
	stored := storedCalls(t, dbURL)
	killed := time.Now()
	a.kill()
	// In the gap: one hangs up, two dial in.
	if err := p.Hangup(ctx, goneName); err != nil {
		t.Fatal(err)
	}
	p.Callers(t, pbxtest.CallerConfig{Number: "5550100", Count: 2, Rate: 20, PressOne: true, Prefix: "1888"})
	// Let the new callers reach the dialplan's retry (Stasis fails while
	// no callin is connected): their channels exist in Asterisk.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body, err := p.Get(ctx, "/channels")
		if err == nil && strings.Count(string(body), "+1888") >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new callers did not reach Asterisk within 10 s: %s", body)
		}
	}

	b := startReal(t, p, dbURL, realShow)
	t.Logf("callin ready again %v after the kill", time.Since(killed).Round(time.Millisecond))
	cs := b.waitCallers("the line back, with the 2 new callers", 20*time.Second, func(cs []queue.Call) bool {
		return len(inState(cs, queue.StateWaiting)) == len(stay)+2 && len(inState(cs, queue.StateOnAir)) == 1
	})
	waiting := inState(cs, queue.StateWaiting)
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Position < waiting[j].Position })
	defer func() {
		if t.Failed() {
			var b strings.Builder
			for _, c := range line {
				fmt.Fprintf(&b, "\n  before: %s %s at %d arrived %s; stored at the kill: %q", c.ID, c.Number, c.Position, c.ArrivedAt.Format("15:04:05.000"), stored[c.ID])
			}
			for _, c := range waiting {
				fmt.Fprintf(&b, "\n  after:  %s %s at %d arrived %s", c.ID, c.Number, c.Position, c.ArrivedAt.Format("15:04:05.000"))
			}
			t.Logf("the line before the kill and after the restart:%s", b.String())
		}
	}()
	for i, c := range waiting {
		switch {
		case i < len(stay) && c.ID != stay[i]:
			t.Errorf("place %d: %s (%s), want %s as before the kill", i+1, c.ID, c.Number, stay[i])
		case i >= len(stay) && !strings.HasPrefix(c.Number, "+1888"):
			t.Errorf("place %d: %s (%s), want a caller who dialled in during the gap", i+1, c.ID, c.Number)
		}
	}
	if got := inState(cs, queue.StateOnAir)[0]; got.ID != onAir.ID {
		t.Errorf("on air after the restart: %s, want %s", got.ID, onAir.ID)
	}
	if br := bridgeOf(t, p, airBridge, onAir.ChannelID); br == "" {
		t.Error("the caller on air left the on-air bridge")
	}
	rec := b.history(gone.ID, false)
	t.Logf("the caller who hung up in the gap: %s, cause %d", rec.Outcome, rec.Cause)
	if rec.Outcome != queue.OutcomeAbandoned {
		t.Errorf("the caller who hung up in the gap ended %s, want abandoned", rec.Outcome)
	}
	waitOpenCalls(t, dbURL, len(stay)+3)
	checkTransitions(t, dbURL)
	// Every caller waiting holds, with music.
	for _, c := range waiting {
		waitBridge(t, p, holdPrefix, c.ChannelID)
	}
	newest := waiting[len(waiting)-1].ChannelID
	if h, ok := hearMusic(t, l, newest); !ok {
		t.Errorf("a caller admitted after the restart hears music in %.0f%% of the windows, want most: %v", 100*h.Music(), h)
	}
	// The new instance acts on the line it took over.
	if c := b.act(waiting[0].ID, "promote", nil); c.State != queue.StateOnAir {
		t.Errorf("promote after the restart answered %s", c.State)
	}
	waitBridge(t, p, airBridge, waiting[0].ChannelID)
}
