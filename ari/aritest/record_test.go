package aritest_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The recorder writes what a TestDifferential scenario did on the real
// Asterisk as a trace in the format of shared/ari-traces (JSON lines: note,
// ws, request/response paired by seq, event with the socket that got it;
// every record with ts and rel_ms), so the fake keeps following facts
// recorded by the project itself. It runs only when asked:
//
//	ARI_RECORD=1 go test -run TestDifferential ./ari/aritest/
//
// writes testdata/pbx-<scenario>.jsonl. The socket is `app`: app=callin
// without subscribeAll, exactly as callin connects; there is no `all`
// socket. The sync markers and the cleanup after a scenario are not
// recorded. Files named pbx-* are the project's own recordings:
// TestTracesUpToDate leaves them out of its comparison with shared/ari-traces.

// recordedPrefix names the traces this project recorded (not copies of
// shared/ari-traces).
const recordedPrefix = "pbx-"

type recorder struct {
	t     testing.TB
	mu    sync.Mutex
	f     *os.File
	enc   *json.Encoder
	start time.Time
	seq   int
	// paused drops requests and responses (a sync marker's; its events are
	// left out by the drive); stopped drops everything (the cleanup).
	paused, stopped bool
}

func (r *recorder) pause(p bool) {
	r.mu.Lock()
	r.paused = p
	r.mu.Unlock()
}

func (r *recorder) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

func newRecorder(t testing.TB, scenario, base string) *recorder {
	r := createRecorder(t, scenario)
	u, _ := url.Parse(base)
	r.note("socket app = ws://" + u.Host + "/ari/events?app=callin (the application under test, no subscribeAll). " +
		"Recorded by ari/aritest's TestDifferential (ARI_RECORD=1) on pbxtest's Asterisk 22.10.1, scenario " + scenario)
	return r
}

func createRecorder(t testing.TB, scenario string) *recorder {
	path := filepath.Join(tracesDir, recordedPrefix+scenario+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{t: t, f: f, enc: json.NewEncoder(f), start: time.Now()}
	r.enc.SetEscapeHTML(true) // as the shared traces (\u0026, \u003c)
	t.Logf("recording %s", path)
	return r
}

// write adds the common fields and writes one record.
func (r *recorder) write(rec map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.paused && (rec["kind"] == "request" || rec["kind"] == "response") {
		return
	}
	now := time.Now()
	rec["ts"] = now.UTC().Format("2006-01-02T15:04:05.000000Z")
	rec["rel_ms"] = float64(now.Sub(r.start).Microseconds()) / 1000
	if err := r.enc.Encode(rec); err != nil {
		r.t.Errorf("recorder: %v", err)
	}
}

func (r *recorder) note(text string) { r.write(map[string]any{"kind": "note", "text": text}) }

// ws records a socket's connect or close; sock is "app", or the node's
// name in a trace of several nodes.
func (r *recorder) ws(sock string, fields map[string]any) {
	fields["kind"], fields["socket"] = "ws", sock
	r.write(fields)
}

func (r *recorder) event(sock string, raw []byte, typ string) {
	r.write(map[string]any{"kind": "event", "socket": sock, "type": typ, "event": json.RawMessage(raw)})
}

// data records a measured value or a CLI output (name "cli:…").
func (r *recorder) data(name string, value any) {
	r.write(map[string]any{"kind": "data", "name": name, "value": value})
}

// request records a REST call and returns its seq; node names the node it
// went to in a trace of several nodes ("" for one).
func (r *recorder) request(node, method, path string, query url.Values, body []byte) int {
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	rec := map[string]any{"kind": "request", "method": method, "path": path, "seq": seq}
	if node != "" {
		rec["node"] = node
	}
	if len(query) > 0 {
		qm := map[string]string{}
		for k := range query {
			qm[k] = query.Get(k)
		}
		rec["query"] = qm
	}
	if len(body) > 0 {
		rec["body"] = json.RawMessage(body)
	}
	r.write(rec)
	return seq
}

func (r *recorder) response(node string, seq int, method, path string, status int, body []byte, elapsed time.Duration) {
	var b any
	if len(body) > 0 && json.Valid(body) {
		b = json.RawMessage(body)
	} else if len(body) > 0 {
		b = string(body)
	}
	rec := map[string]any{"kind": "response", "method": method, "path": path, "seq": seq, "status": status, "body": b,
		"elapsed_ms": float64(elapsed.Microseconds()) / 1000}
	if node != "" {
		rec["node"] = node
	}
	r.write(rec)
}

func (r *recorder) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.f.Close(); err != nil {
		r.t.Errorf("recorder: %v", err)
	}
}
