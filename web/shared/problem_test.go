package shared

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callin-radio/callin/queue"
	"github.com/callin-radio/callin/web/api"
)

// TestProblem: every error is an RFC 9457 problem (type, title, status,
// detail, code), whose detail keeps no package prefix nor database words,
// and whose 403 names the permission refused (issue 22, point 4).
func TestProblem(t *testing.T) {
	notFound := fmt.Errorf("postgres: recording: %w: %w", queue.ErrNotFound, errors.New("no rows in result set"))
	status, p := Classify(notFound)
	if status != 404 || p.Type != "urn:callin:problem:not_found" || p.Title != "Not found" || p.Status != 404 || p.Code != api.CodeNotFound {
		t.Errorf("not found: %d %+v", status, p)
	}
	for _, internal := range []string{"postgres", "no rows", "web:"} {
		if strings.Contains(p.Detail, internal) {
			t.Errorf("detail %q has %q", p.Detail, internal)
		}
	}
	_, p = Classify(Forbidden("screener", "lines"))
	if p.Permission != "lines" || !strings.Contains(p.Detail, "screener") || !strings.Contains(p.Detail, "lines") {
		t.Errorf("forbidden: %+v", p)
	}
	_, p = Classify(BadRequest("rating", "must be %s", "an integer"))
	if p.Field != "rating" || p.Code != api.CodeBadRequest || p.Status != 400 {
		t.Errorf("bad request: %+v", p)
	}
}

// TestRequestIDAndRetryAfter: every answer carries an X-Request-Id (the
// client's when sane), the problem names it, and a 429 or 503 says when to
// retry.
func TestRequestIDAndRetryAfter(t *testing.T) {
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, p := Classify(ErrTooManyStreams)
		if err := WriteProblem(w, p); err != nil {
			t.Error(err)
		}
	}))
	for _, tc := range []struct{ sent, want string }{{"abc-123", "abc-123"}, {"bad id\n", ""}, {"", ""}} {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.sent != "" {
			req.Header.Set(RequestIDHeader, tc.sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		id := rec.Header().Get(RequestIDHeader)
		if id == "" || tc.want != "" && id != tc.want || tc.want == "" && id == tc.sent {
			t.Errorf("sent %q: X-Request-Id %q", tc.sent, id)
		}
		var p api.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.RequestID != id || p.Status != 429 {
			t.Errorf("body %s: %v", rec.Body, err)
		}
		if rec.Header().Get("Retry-After") == "" || rec.Header().Get("Content-Type") != api.ProblemMedia {
			t.Errorf("headers %v", rec.Header())
		}
	}
}
