package ari_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// tracesDir is where the recorded Asterisk traces are: $ARI_TRACES, or the
// copy in aritest/testdata that the repository carries (aritest's
// TestTracesUpToDate keeps it equal to shared/ari-traces).
func tracesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("ARI_TRACES"); d != "" {
		return d
	}
	return filepath.Join("aritest", "testdata")
}

// traceFiles are the traces whose events are stored verbatim.
var traceFiles = []string{
	"01-arrival-holding-moh.jsonl",
	"02-holding-to-mixing-move.jsonl",
	"03-play-then-hangup.jsonl",
	"04-caller-hangup-in-holding.jsonl",
	"05-error-responses.jsonl",
	"06-mute-dtmf-talkdetect.jsonl",
	"07-ws-reconnect-and-restart.jsonl",
}

// traceEvents returns the verbatim event JSON of every "event" record in
// the named trace file.
func traceEvents(t testing.TB, file string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(tracesDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var rec struct {
			Kind  string          `json:"kind"`
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if rec.Kind == "event" {
			out = append(out, rec.Event)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no events", file)
	}
	return out
}

// allTraceEvents returns the events of files 01–07 in order.
func allTraceEvents(t testing.TB) [][]byte {
	var all [][]byte
	for _, f := range traceFiles {
		all = append(all, traceEvents(t, f)...)
	}
	return all
}
