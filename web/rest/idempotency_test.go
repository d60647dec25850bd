package rest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// fakeIdem keeps idempotency keys in a map, as the store does.
type fakeIdem struct {
	mu    sync.Mutex
	keys  map[string]*idemRow
	first string // the first principal that reserved a key
}

type idemRow struct {
	hash   []byte
	status int
	ctype  string
	body   []byte
}

func (f *fakeIdem) BeginIdempotent(_ context.Context, principal, key string, hash []byte, _ time.Time) (core.IdemAnswer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.first == "" {
		f.first = principal
	}
	row := f.keys[principal+" "+key]
	switch {
	case row == nil:
		f.keys[principal+" "+key] = &idemRow{hash: hash}
		return core.IdemAnswer{Outcome: core.IdemNew}, nil
	case !bytes.Equal(row.hash, hash):
		return core.IdemAnswer{Outcome: core.IdemMismatch}, nil
	case row.status == 0:
		return core.IdemAnswer{Outcome: core.IdemInFlight}, nil
	}
	return core.IdemAnswer{Outcome: core.IdemReplay, Status: row.status, ContentType: row.ctype, Body: row.body}, nil
}

func (f *fakeIdem) FinishIdempotent(_ context.Context, principal, key string, status int, ctype string, body []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	row := f.keys[principal+" "+key]
	row.status, row.ctype, row.body = status, ctype, bytes.Clone(body)
	return nil
}

func (f *fakeIdem) ReleaseIdempotent(_ context.Context, principal, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if row := f.keys[principal+" "+key]; row != nil && row.status == 0 {
		delete(f.keys, principal+" "+key)
	}
	return nil
}

// post sends an API POST as role with an Idempotency-Key (none for "").
func post(e *webenv.Env, t *testing.T, path, role, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.TS.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+role)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestAPIIdempotencyKey posts a chat message and mutes a caller twice with
// one key each: the retry answers the first answer again (marked
// Idempotent-Replayed) without acting again, where a repeated mute without
// a key is a 409; another body with a used key is 422, a key in flight
// 409 and an over-long key 400.
// Every exchange is validated against the document.
func TestAPIIdempotencyKey(t *testing.T) {
	idem := &fakeIdem{keys: map[string]*idemRow{}}
	e := webenv.New(t, func(c *core.Config) { c.Idempotency = idem })
	const chat = "/api/v1/shows/morning/chat"
	res1, b1 := post(e, t, chat, "producer", "k1", `{"text":"hello"}`)
	res2, b2 := post(e, t, chat, "producer", "k1", `{"text":"hello"}`)
	if res1.StatusCode != 200 || res2.StatusCode != 200 || b1 != b2 || res1.Header.Get("Idempotent-Replayed") != "" ||
		res2.Header.Get("Idempotent-Replayed") != "true" || res2.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("retry: %d %s %v / %d %s %v", res1.StatusCode, b1, res1.Header, res2.StatusCode, b2, res2.Header)
	}
	if n := len(e.Chat.Msgs); n != 1 {
		t.Fatalf("%d messages stored after a retry, want 1", n)
	}
	if res, b := post(e, t, chat, "producer", "k1", `{"text":"other"}`); res.StatusCode != 422 || !strings.Contains(b, `"field":"Idempotency-Key"`) {
		t.Fatalf("another body: %d %s", res.StatusCode, b)
	}
	idem.keys[idem.first+" busy"] = &idemRow{hash: idem.keys[idem.first+" k1"].hash}
	if res, b := post(e, t, chat, "producer", "busy", `{"text":"hello"}`); res.StatusCode != 409 {
		t.Fatalf("in flight: %d %s", res.StatusCode, b)
	}
	if res, b := post(e, t, chat, "producer", strings.Repeat("k", 256), `{"text":"hello"}`); res.StatusCode != 400 {
		t.Fatalf("long key: %d %s", res.StatusCode, b)
	}

	const mute = "/api/v1/shows/morning/callers/c1/mute"
	e.App.Arrive("c1", "+15550001", "Ann")
	if _, err := e.App.Promote(t.Context(), "morning", "c1", queue.Actor{}); err != nil {
		t.Fatal(err)
	}
	first, _ := post(e, t, mute, "producer", "m1", "")
	again, _ := post(e, t, mute, "producer", "m1", "")
	bare, _ := post(e, t, mute, "producer", "", "")
	if first.StatusCode != 200 || again.StatusCode != 200 || again.Header.Get("Idempotent-Replayed") != "true" || bare.StatusCode != 409 {
		t.Fatalf("mute, retried, repeated: %d, %d %q, %d", first.StatusCode, again.StatusCode, again.Header.Get("Idempotent-Replayed"), bare.StatusCode)
	}
}
