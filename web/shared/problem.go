package shared

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/callin-radio/callin/web/api"
)

// Problems and request ids (issue 22, point 4): every error of the API is
// an RFC 9457 problem (WriteProblem), every answer carries an
// X-Request-Id (RequestID) that the log lines of the request name too.

// RequestIDHeader is the header that names a request.
const RequestIDHeader = "X-Request-Id"

// RetryAfter is the Retry-After, in seconds, of a 429 or 503 that did
// not set its own: event streams and Asterisk nodes free up in seconds.
const RetryAfter = "5"

type requestIDKey struct{}

// RequestID is middleware that names each request: the client's
// X-Request-Id when it is a sane one (1 to 64 of letters, digits, '-',
// '_', '.', ':'), else a random one. The id is on the answer's headers
// from the start, so every answer carries it, and in the request's
// context (RequestIDOf) for the log.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// RequestIDOf is r's request id ("" outside RequestID).
func RequestIDOf(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.IndexFunc(id, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c))
	}) < 0
}

// WriteProblem writes p as application/problem+json with its status,
// the request id in it, and a Retry-After on a 429 or 503 that has none.
func WriteProblem(w http.ResponseWriter, p api.Problem) error {
	h := w.Header()
	if p.RequestID == "" {
		p.RequestID = h.Get(RequestIDHeader)
	}
	if (p.Status == http.StatusTooManyRequests || p.Status == http.StatusServiceUnavailable) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", RetryAfter)
	}
	h.Set("Content-Type", api.ProblemMedia)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	return json.NewEncoder(w).Encode(p)
}
