package rest_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/callin-radio/callin/broadcast"
	"github.com/callin-radio/callin/web/core"
	"github.com/callin-radio/callin/web/webtest"
	"github.com/callin-radio/callin/web/webtest/webenv"
)

// TestAPIProblems: every error is an RFC 9457 problem with a stable code,
// no internal text and the X-Request-Id of the answer; a 403 names the
// permission refused (issue 22, point 4).
func TestAPIProblems(t *testing.T) {
	var log webtest.SyncBuffer
	e := webenv.New(t, func(c *core.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.App.Arrive("c1", "+15550001", "Ann")

	t.Run("Shape", func(t *testing.T) {
		for _, tc := range []struct{ method, path, role, body string }{
			{"GET", "/api/v1/shows", "", ""},
			{"GET", "/api/v1/shows/evening", "host", ""},
			{"POST", "/api/v1/shows/morning/callers/c1/ready", "producer", `{"priority":"high"}`},
			{"PATCH", "/api/v1/shows/morning", "producer", ""},
		} {
			res, body := e.API(t, tc.method, tc.path, tc.role, tc.body)
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
			}
			code, _ := body["code"].(string)
			if body["type"] != "urn:callin:problem:"+code || code == "" || body["title"] == "" || body["detail"] == "" ||
				body["status"] != float64(res.StatusCode) {
				t.Errorf("%s %s: not a problem: %v", tc.method, tc.path, body)
			}
			if id := res.Header.Get("X-Request-Id"); id == "" || body["request_id"] != id {
				t.Errorf("%s %s: X-Request-Id %q, problem names %v", tc.method, tc.path, id, body["request_id"])
			}
			for _, internal := range []string{"web:", "queue:", "broadcast:", "postgres:", "a int", "a string"} {
				if strings.Contains(fmt.Sprint(body["detail"]), internal) {
					t.Errorf("%s %s: detail %q has internal text %q", tc.method, tc.path, body["detail"], internal)
				}
			}
		}
	})

	t.Run("PermissionRefused", func(t *testing.T) {
		for _, tc := range []struct{ method, path, role, body, perm string }{
			{"POST", "/api/v1/shows/morning/host/call", "screener", "", "lines"},
			{"PATCH", "/api/v1/shows/morning/settings", "host", `{"capacity":5}`, "lines"},
			{"PATCH", "/api/v1/shows/morning/settings", "screener", `{"on_air_warning_minutes":5}`, "air_limit"},
			{"POST", "/api/v1/shows/morning/callers/c1/callback-now", "screener", "", "promote"},
			{"POST", "/api/v1/shows/morning/callers/c1/drop", "host", "", "drop_waiting"},
		} {
			res, body := e.API(t, tc.method, tc.path, tc.role, tc.body)
			if res.StatusCode != 403 || body["permission"] != tc.perm || !strings.Contains(fmt.Sprint(body["detail"]), tc.perm) {
				t.Errorf("%s %s as %s: %d %v, want 403 naming %s", tc.method, tc.path, tc.role, res.StatusCode, body, tc.perm)
			}
		}
	})

}

// TestAPIProblemHeaders: a 405 says Allow, a 503 Retry-After, and the
// X-Request-Id a client sends comes back and names the log line (issue
// 22, point 4).
func TestAPIProblemHeaders(t *testing.T) {
	var log webtest.SyncBuffer
	e := webenv.New(t, func(c *core.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.App.Arrive("c1", "+15550001", "Ann")

	t.Run("Allow", func(t *testing.T) {
		for path, want := range map[string]string{
			"/api/v1/shows/morning":             "GET, HEAD",
			"/api/v1/callers/+15550001/block":   "PUT, DELETE",
			"/api/v1/shows/morning/chat":        "GET, HEAD, POST",
			"/api/v1/shows/morning/on-air/hold": "POST",
		} {
			res, body := e.API(t, "PATCH", path, "producer", "")
			if path == "/api/v1/callers/+15550001/block" || path == "/api/v1/shows/morning/on-air/hold" {
				res, body = e.API(t, "GET", path, "producer", "")
			}
			if res.StatusCode != 405 || res.Header.Get("Allow") != want || body["code"] != "method_not_allowed" {
				t.Errorf("%s: %d Allow %q %v, want 405 Allow %q", path, res.StatusCode, res.Header.Get("Allow"), body, want)
			}
		}
	})

	t.Run("RetryAfter", func(t *testing.T) {
		e.App.ActFn = func(string, string) error { return fmt.Errorf("x: %w", broadcast.ErrNodeDown) }
		defer func() { e.App.ActFn = nil }()
		res, body := e.API(t, "POST", "/api/v1/shows/morning/callers/c1/promote", "producer", "")
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
			t.Errorf("node down: %d Retry-After %q %v", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	})

	t.Run("RequestIDLogged", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.TS.URL+"/api/v1/shows/evening", nil)
		req.Header.Set("Authorization", "Bearer host")
		req.Header.Set("X-Request-Id", "script-run-42")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("X-Request-Id") != "script-run-42" {
			t.Errorf("X-Request-Id %q, want the client's", res.Header.Get("X-Request-Id"))
		}
		if !strings.Contains(fmt.Sprint(log.Records(t, "web: request failed")), "request_id:script-run-42") {
			t.Errorf("the log line does not name the request: %v", log.Records(t, "web: request failed"))
		}
		res, _ = e.API(t, "GET", "/api/v1/shows", "host", "")
		if res.StatusCode != 200 || res.Header.Get("X-Request-Id") == "" {
			t.Errorf("a 200 without X-Request-Id: %d", res.StatusCode)
		}
	})
}
