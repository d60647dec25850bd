package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callin-radio/callin/ari/aritest"
	"github.com/callin-radio/callin/postgres/pgtest"
	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/auth"
)

// service is one `callin serve` under test, against a fake Asterisk and a
// test database.
type service struct {
	t      *testing.T
	base   string
	db     string
	pbx    *aritest.Server
	token  string
	stderr *syncBuffer
	errc   chan error
	cancel context.CancelFunc
}

// startService runs serve with show "live" on pbx and database dbURL. A
// producer token is made for the API.
func startService(t *testing.T, pbx *aritest.Server, dbURL string, show ...string) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sv := &service{t: t, db: dbURL, pbx: pbx, stderr: newSyncBuffer(), errc: make(chan error, 1), cancel: cancel}
	t.Cleanup(func() {
		sv.stop()
		if t.Failed() {
			t.Logf("service log:\n%s", sv.stderr.String())
		}
	})
	store, err := openStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	sv.token, err = auth.CreateToken(ctx, store, "hangups-"+time.Now().Format("150405.000000"), auth.RoleProducer, "test")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CALLIN_DATABASE_URL": dbURL,
		"CALLIN_NODES":        "main=" + pbx.URL(),
		"CALLIN_ARI_PASSWORD": pbx.Password(),
		"CALLIN_SHOW":         strings.Join(append([]string{"live"}, show...), ","),
		"CALLIN_JOURNAL":      t.TempDir() + "/journal",
		"CALLIN_LISTEN":       "127.0.0.1:0",
	}
	go func() {
		sv.errc <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, sv.stderr, envMap(env))
	}()
	log := sv.stderr.waitFor(t, "callin is listening", sv.errc)
	sv.base = strings.Fields(log[strings.Index(log, "addr=http://")+len("addr="):])[0]
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := pbx.WaitApp(wctx, "callin", true); err != nil {
		t.Fatal(err)
	}
	// Ready once the node is in sync (actions before answer 503): /readyz
	// has no stream to wait on, so it is polled, for at most 30 s.
	for {
		resp, err := http.Get(sv.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-wctx.Done():
			t.Fatal("the service never became ready")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return sv
}

// stop ends the service as SIGTERM does: callers stay in Asterisk.
func (sv *service) stop() {
	if sv.cancel == nil {
		return
	}
	sv.cancel()
	sv.cancel = nil
	if err := <-sv.errc; err != nil {
		sv.t.Errorf("serve ended with %v", err)
	}
}

// api sends a request with the producer token and decodes the answer.
func (sv *service) api(method, path string, body, out any) int {
	sv.t.Helper()
	code, b := apiCall(sv.t, sv.base, sv.token, method, path, body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return code
}

// apiCall sends a JSON API request (body as JSON, when not nil) with a
// bearer token to the service at base and returns the status and the body.
func apiCall(t testing.TB, base, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// callers lists the show's callers through the API.
func (sv *service) callers() []queue.Call {
	sv.t.Helper()
	var out struct{ Callers []queue.Call }
	if code := sv.api(http.MethodGet, "/shows/live/callers", nil, &out); code != http.StatusOK {
		sv.t.Fatalf("list callers: %d", code)
	}
	return out.Callers
}

// waitCaller waits until the API lists (or, gone, stops listing) the call
// on channel chanID, and returns it; the API has no long poll, so this
// polls, for at most 10 s.
func (sv *service) waitCaller(chanID string, listed bool) queue.Call {
	sv.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var found queue.Call
		for _, c := range sv.callers() {
			if c.ChannelID == chanID && c.State != queue.StateArriving {
				found = c
			}
		}
		if (found.ID != "") == listed {
			return found
		}
		if time.Now().After(deadline) {
			sv.t.Fatalf("caller %s listed %t after 10 s, want %t", chanID, found.ID != "", listed)
		}
	}
}

// dbCall reads a call's row once the history writer has written it with
// an outcome (polled: the writer flushes on its own clock).
func dbCall(t *testing.T, dbURL, callID string) (outcome string, cause int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := conn.QueryRow(context.Background(),
			`SELECT coalesce(outcome, ''), coalesce(hangup_cause, 0) FROM calls WHERE id = $1`, callID).Scan(&outcome, &cause)
		if err == nil && outcome != "" {
			return outcome, cause
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s not ended in the database: %v", callID, err)
		}
	}
}

// TestServeHangups is issue 9 at the service level, with the fake
// delivering events as a real Asterisk does to callin's socket (no
// subscribeAll): a caller who hangs up is gone from the API and the
// console, recorded abandoned with its cause, and cannot be promoted or
// dropped; a drop with goodbye returns within the prompt's length and a
// second.
func TestServeHangups(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	sv := startService(t, pbx, dbURL)
	ctx := context.Background()

	// A console, as a producer sees it.
	store, err := openStore(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	err = auth.AddUser(ctx, store, "pat", auth.RoleProducer, "a long enough password")
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, sv.base+"/login", strings.NewReader(url.Values{"username": {"pat"}, "password": {"a long enough password"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", sv.base)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	console := func() string {
		t.Helper()
		resp, err := browser.Get(sv.base + "/shows/live")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("console: %d", resp.StatusCode)
		}
		return string(b)
	}

	c1, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"live"}, Number: "+12025550101", Name: "Hangs Up"})
	if err != nil {
		t.Fatal(err)
	}
	call := sv.waitCaller(c1.ID(), true)
	if !strings.Contains(console(), "call-"+call.ID) {
		t.Fatal("the waiting caller is not on the console")
	}
	if err := c1.Hangup(17); err != nil {
		t.Fatal(err)
	}
	sv.waitCaller(c1.ID(), false)
	if strings.Contains(console(), "call-"+call.ID) {
		t.Error("the caller who hung up is still on the console")
	}
	var apiErr struct{ Error string }
	if code := sv.api(http.MethodPost, "/shows/live/callers/"+call.ID+"/promote", map[string]any{}, &apiErr); code < 400 || code >= 500 {
		t.Errorf("promote a caller who hung up: %d %q, want a 4xx", code, apiErr.Error)
	}
	if code := sv.api(http.MethodPost, "/shows/live/callers/"+call.ID+"/drop", map[string]any{}, &apiErr); code < 400 || code >= 500 {
		t.Errorf("drop a caller who hung up: %d %q, want a 4xx", code, apiErr.Error)
	}
	if outcome, cause := dbCall(t, dbURL, call.ID); outcome != string(queue.OutcomeAbandoned) || cause != 17 {
		t.Errorf("history: %s cause %d, want abandoned cause 17", outcome, cause)
	}

	// Drop with goodbye: back as soon as the prompt and the hang-up are done.
	c2, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"live"}, Number: "+12025550102"})
	if err != nil {
		t.Fatal(err)
	}
	call2 := sv.waitCaller(c2.ID(), true)
	start := time.Now()
	var dropped queue.Call
	if code := sv.api(http.MethodPost, "/shows/live/callers/"+call2.ID+"/drop", map[string]any{"goodbye": true, "reason": "done"}, &dropped); code != http.StatusOK {
		t.Fatalf("drop: %d", code)
	}
	took := time.Since(start)
	if prompt := aritest.DefaultSounds["vm-goodbye"]; took > prompt+time.Second {
		t.Errorf("drop with goodbye took %v, want under the prompt's %v plus 1 s", took, prompt)
	}
	if dropped.Outcome != queue.OutcomeDropped {
		t.Errorf("drop answered %s, want dropped", dropped.Outcome)
	}
	if outcome, cause := dbCall(t, dbURL, call2.ID); outcome != string(queue.OutcomeDropped) || cause != 16 {
		t.Errorf("history: %s cause %d, want dropped cause 16", outcome, cause)
	}
}

// TestServeRestartEndsStaleCalls: callers who hang up while the service is
// stopped are ended, once, when it starts again; the others keep their
// places.
func TestServeRestartEndsStaleCalls(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	pbx := aritest.NewServer(aritest.Options{})
	t.Cleanup(pbx.Close)
	ctx := context.Background()
	sv := startService(t, pbx, dbURL)
	var calls []*aritest.Call
	var ids []string
	for _, n := range []string{"+12025550111", "+12025550112", "+12025550113"} {
		c, err := pbx.Call(ctx, aritest.CallOptions{Args: []string{"live"}, Number: n})
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
		ids = append(ids, sv.waitCaller(c.ID(), true).ID)
	}
	sv.stop()
	// While no service is connected, two callers hang up: nobody hears of it.
	for _, c := range calls[:2] {
		if err := c.Hangup(16); err != nil {
			t.Fatal(err)
		}
	}
	sv2 := startService(t, pbx, dbURL)
	left := sv2.waitCaller(calls[2].ID(), true)
	if left.ID != ids[2] || left.Position != 1 {
		t.Errorf("remaining caller %s at %d, want %s at 1", left.ID, left.Position, ids[2])
	}
	for _, id := range ids[:2] {
		if outcome, _ := dbCall(t, dbURL, id); outcome != string(queue.OutcomeAbandoned) {
			t.Errorf("stale call %s ended %s, want abandoned", id, outcome)
		}
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var open, ends int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE ended_at IS NULL) FROM calls WHERE show = 'live'`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM call_events WHERE to_state = 'ended' AND call_id = ANY($1)`, ids[:2]).Scan(&ends); err != nil {
		t.Fatal(err)
	}
	if open != 1 || ends != 2 {
		t.Errorf("%d calls open, %d end transitions for the stale two; want 1 open (the caller still there) and 2", open, ends)
	}
}
